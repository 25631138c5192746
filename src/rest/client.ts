/**
 * RestClient: requests, typed errors, watches and pagination over the interceptor stack. It knows
 * HTTP and the API server's conventions (Status bodies, watch framing, continue tokens), not
 * resource types: the typed and dynamic clients build request descriptions and hand them here.
 */
import type { CredentialSource, Credentials } from "../auth/credentials.ts";
import { type Clock, realClock } from "../core/clock.ts";
import {
  ApiError,
  DecodeError,
  isResourceExpired,
  TimeoutError,
  TransportError,
} from "../core/errors.ts";
import { isStatus, type KubernetesList, type Status } from "../core/meta.ts";
import { defaultUserAgent } from "../core/version.ts";
import {
  compose,
  type HeaderMap,
  type HttpRequest,
  type HttpResponse,
  type Interceptor,
} from "./http.ts";
import {
  attemptsOf,
  dedupingWarningWriter,
  type MetricsHook,
  metrics,
  rateLimit,
  retry,
  retryAfterSeconds,
  type WarningHandler,
  warnings,
} from "./interceptors.ts";
import { debugLog, type LogSink, logLevelFromEnv } from "./log.ts";
import { TokenBucket } from "./ratelimit.ts";
import { createTransport, type Transport, type TransportOptions } from "./transport.ts";
import type { UpgradeSettings } from "./upgrade.ts";
import { decodeWatchEvents, type WatchEvent } from "./watch.ts";

/** An HTTP request to the API server, before interceptors. */
export interface RestRequest {
  method: string;
  /** The API path without the query, e.g. `/api/v1/namespaces/a/pods`. */
  path: string;
  query?:
    | URLSearchParams
    | Record<string, string | number | boolean | undefined>
    | Iterable<[string, string]>;
  headers?: HeaderMap;
  body?: string | Uint8Array;
  contentType?: string;
  accept?: string;
}

export interface CallOptions {
  signal?: AbortSignal;
  /**
   * Milliseconds for the whole call, body included; 0 means none. Defaults to the client's
   * `timeoutMs`. For streams it bounds only the wait for the response headers.
   */
  timeoutMs?: number;
}

export interface WatchCallOptions extends CallOptions {
  /**
   * End the watch with a `TimeoutError` (code `ERR_KUBEKIT_WATCH_STALLED`) when no bytes arrive
   * for this long, so a dead connection that never closes is noticed. 0 disables it. Only useful
   * with `allowWatchBookmarks`, which makes the server send something at least every minute or so.
   */
  stallTimeoutMs?: number;
}

export interface RestClientOptions extends TransportOptions {
  /** Where each request's Authorization header and client certificate come from (kubekit/auth). */
  credentials?: CredentialSource;
  /** Extra headers on every request (impersonation, for example). */
  headers?: HeaderMap;
  userAgent?: string;
  /** Client-side rate limit; 5/10 as client-go when unset; a negative qps disables it. */
  qps?: number;
  burst?: number;
  /** Retries for 429/5xx with Retry-After, and for lost connections on GET; 10 when unset. */
  maxRetries?: number;
  /** Default per-call timeout in milliseconds; 0 disables. 30 s when unset. */
  timeoutMs?: number;
  /** Ask for gzip responses (the default); off for `disable-compression`. */
  compression?: boolean;
  warningHandler?: WarningHandler;
  metrics?: MetricsHook;
  /** Interceptors of the user, placed just outside the transport (they see every attempt). */
  interceptors?: Interceptor[];
  /** Debug log level (see log.ts); `KUBEKIT_LOG` when unset. */
  logLevel?: number;
  logSink?: LogSink;
  clock?: Clock;
  /** A transport of one's own (tests, custom stacks); the TLS and proxy options are then ignored. */
  transport?: Transport;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

/** The reasons apimachinery gives a failure that came without a Status body. */
const GENERIC: Record<number, [string, string]> = {
  400: ["BadRequest", "the server rejected our request for an unknown reason"],
  401: ["Unauthorized", "the server has asked for the client to provide credentials"],
  403: ["Forbidden", "the server does not allow access to the requested resource"],
  404: ["NotFound", "the server could not find the requested resource"],
  405: ["MethodNotAllowed", "the server does not allow this method on the requested resource"],
  406: [
    "NotAcceptable",
    "the server was unable to respond with a content type that the client supports",
  ],
  409: ["Conflict", "the server reported a conflict"],
  410: ["Gone", "the server no longer has the requested resource"],
  413: [
    "RequestEntityTooLarge",
    "the server has rejected the request because the request entity is too large",
  ],
  415: ["UnsupportedMediaType", "the server was unable to handle the media type requested"],
  422: ["Invalid", "the server rejected our request due to an error in our request"],
  429: [
    "TooManyRequests",
    "the server has received too many requests and has asked us to try again later",
  ],
  500: ["InternalError", "an error on the server has prevented the request from succeeding"],
  503: ["ServiceUnavailable", "the server is currently unable to handle the request"],
  504: [
    "Timeout",
    "the server was unable to return a response in the time allotted, but may still be processing the request",
  ],
};

function excerpt(text: string, max = 300): string {
  const t = text.replace(/\s+/g, " ").trim();
  return t.length > max ? `${t.slice(0, max)}...` : t;
}

export function encodeQuery(query: RestRequest["query"]): string {
  if (!query) return "";
  let params: URLSearchParams;
  if (query instanceof URLSearchParams) params = query;
  else if (Symbol.iterator in query)
    params = new URLSearchParams([...(query as Iterable<[string, string]>)]);
  else {
    params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.append(k, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : "";
}

/** Links a caller's signal and a deadline into one signal; `done()` removes the timer and listener. */
function deadline(
  signal: AbortSignal | undefined,
  timeoutMs: number,
  what: string,
): {
  signal: AbortSignal | undefined;
  done(): void;
  stopTimer(): void;
  controller: AbortController;
} {
  const controller = new AbortController();
  if (signal?.aborted) controller.abort(signal.reason);
  const onAbort = () => controller.abort(signal!.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  const timer =
    timeoutMs > 0
      ? setTimeout(
          () =>
            controller.abort(
              new TimeoutError(`${what}: no answer within ${timeoutMs} ms`, { timeoutMs }),
            ),
          timeoutMs,
        )
      : undefined;
  return {
    signal: controller.signal,
    controller,
    stopTimer() {
      if (timer) clearTimeout(timer);
    },
    done() {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    },
  };
}

export class RestClient {
  readonly server: string;
  readonly timeoutMs: number;
  readonly rateLimiter: TokenBucket | undefined;
  #transport: Transport;
  #dispatch: (req: HttpRequest) => Promise<HttpResponse>;
  #headers: HeaderMap;
  #options: RestClientOptions;
  /** The options the connections were made from; none for a transport of the caller's own. */
  #connection: RestClientOptions | undefined;

  constructor(options: RestClientOptions) {
    this.#options = options;
    this.#connection = options.transport ? undefined : options;
    this.server = options.server;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const clock = options.clock ?? realClock;
    this.#transport = options.transport ?? createTransport(options);
    const qps = options.qps ?? 5;
    const burst = options.burst ?? (options.qps === undefined ? 10 : Math.max(1, Math.ceil(qps)));
    this.rateLimiter = qps > 0 ? new TokenBucket({ qps, burst, clock }) : undefined;
    const level = options.logLevel ?? logLevelFromEnv();
    const sink = options.logSink ?? ((l: string) => process.stderr.write(`${l}\n`));
    const chain: Interceptor[] = [];
    if (options.metrics) chain.push(metrics(options.metrics, clock));
    chain.push(retry({ maxRetries: options.maxRetries ?? 10, clock }));
    if (this.rateLimiter) chain.push(rateLimit(this.rateLimiter, sink));
    if (options.credentials) chain.push(authenticate(options.credentials));
    chain.push(warnings(options.warningHandler ?? dedupingWarningWriter()));
    chain.push(...(options.interceptors ?? []));
    if (level >= 6) chain.push(debugLog({ level, server: options.server, sink, clock }));
    this.#dispatch = compose((req) => this.#transport.dispatch(req), chain);
    this.#headers = {
      "user-agent": options.userAgent ?? defaultUserAgent(),
      ...(options.compression === false ? {} : { "accept-encoding": "gzip" }),
      ...lowerCaseKeys(options.headers ?? {}),
    };
  }

  /**
   * Sends a request and returns the response if its status is 2xx; otherwise throws an `ApiError`
   * with the server's Status. The body is not read: the caller must consume or dump it.
   */
  async send(
    req: RestRequest,
    options: CallOptions & { stream?: boolean } = {},
  ): Promise<HttpResponse> {
    const path = req.path + encodeQuery(req.query);
    const headers: HeaderMap = {
      ...this.#headers,
      accept: req.accept ?? "application/json",
      ...lowerCaseKeys(req.headers ?? {}),
    };
    if (req.body !== undefined) headers["content-type"] = req.contentType ?? "application/json";
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const dl = deadline(options.signal, timeoutMs, `${req.method} ${req.path}`);
    let res: HttpResponse;
    try {
      res = await this.#dispatch({
        method: req.method,
        path,
        headers,
        body: req.body,
        signal: dl.signal,
        stream: options.stream,
      });
    } catch (err) {
      dl.done();
      throw dl.signal?.aborted ? dl.signal.reason : withAttempts(err);
    }
    if (res.status >= 200 && res.status < 300) {
      if (options.stream) {
        // The deadline covered the wait for headers; the caller's signal still governs the body.
        dl.stopTimer();
        return { ...res, body: streamBody(res.body, dl) };
      }
      return { ...res, body: guardBody(res.body, dl) };
    }
    try {
      throw await toApiError(res, req.method, path);
    } finally {
      dl.done();
    }
  }

  /** Sends a request and parses the JSON answer. */
  async json<T>(req: RestRequest, options: CallOptions = {}): Promise<T> {
    const res = await this.send(req, options);
    const text = await res.body.text();
    try {
      return JSON.parse(text) as T;
    } catch (cause) {
      throw new DecodeError(`${req.method} ${req.path}: the response is not valid JSON`, {
        excerpt: excerpt(text),
        cause,
      });
    }
  }

  /** Sends a request and returns the body as text (pod logs, for example). */
  async text(req: RestRequest, options: CallOptions = {}): Promise<string> {
    return (await this.send(req, options)).body.text();
  }

  /**
   * Starts a watch and yields its events. The request should carry `watch=true` (or be a watch
   * path); `break`, `return` or the signal close the connection. An ERROR event is thrown as an
   * `ApiError`; a stream cut mid-event as a `TransportError`; silence longer than
   * `stallTimeoutMs` as a `TimeoutError`. The iteration simply ends when the server closes the
   * watch cleanly (its timeoutSeconds ran out): resuming is the caller's (or `watcher()`'s) job.
   */
  async *watch<T>(
    req: RestRequest,
    options: WatchCallOptions = {},
  ): AsyncGenerator<WatchEvent<T>, void, undefined> {
    const inner = new AbortController();
    const outer = options.signal;
    if (outer?.aborted) throw outer.reason;
    const onAbort = () => inner.abort(outer!.reason);
    outer?.addEventListener("abort", onAbort, { once: true });
    const stallMs = options.stallTimeoutMs ?? 0;
    let stall: NodeJS.Timeout | undefined;
    try {
      const res = await this.send(req, {
        signal: inner.signal,
        timeoutMs: options.timeoutMs,
        stream: true,
      });
      const body = res.body;
      if (stallMs > 0) {
        stall = setTimeout(() => {
          inner.abort(
            new TimeoutError(
              `${req.method} ${req.path}: the watch received nothing for ${stallMs} ms`,
              {
                timeoutMs: stallMs,
                code: "ERR_KUBEKIT_WATCH_STALLED",
              },
            ),
          );
        }, stallMs);
      }
      const chunks = (async function* () {
        for await (const chunk of body) {
          stall?.refresh();
          yield chunk;
        }
      })();
      try {
        yield* decodeWatchEvents<T>(chunks);
      } catch (err) {
        if (inner.signal.aborted) throw inner.signal.reason;
        throw isKubekit(err)
          ? err
          : new TransportError(`${req.method} ${req.path}: the watch connection failed`, {
              cause: err,
              method: req.method,
              url: req.path,
            });
      } finally {
        await chunks.return(undefined).catch(() => {});
      }
    } finally {
      if (stall) clearTimeout(stall);
      outer?.removeEventListener("abort", onAbort);
      // Closes the connection if the body was not read to its end.
      if (!inner.signal.aborted) inner.abort(new Error("watch closed"));
    }
  }

  /**
   * Lists in pages of `limit` (500 by default), following `continue` tokens, as client-go's pager.
   * If a continue token expires (410), the rest cannot be had consistently: the pager then lists
   * everything in one request at the original resourceVersion and yields that as one page marked
   * `restarted`, which replaces everything yielded before.
   */
  async *listPages<T>(
    req: RestRequest,
    options: CallOptions & { limit?: number } = {},
  ): AsyncGenerator<ListPage<T>, void, undefined> {
    const base = new URLSearchParams(encodeQuery(req.query).slice(1));
    const limit = options.limit ?? (base.has("limit") ? Number(base.get("limit")) : 500);
    let token: string | undefined;
    for (;;) {
      const q = new URLSearchParams(base);
      q.set("limit", String(limit));
      if (token) {
        // The continue token carries the snapshot; a resourceVersion beside it is an error.
        q.set("continue", token);
        q.delete("resourceVersion");
        q.delete("resourceVersionMatch");
      }
      let page: KubernetesList<T>;
      try {
        page = await this.json<KubernetesList<T>>({ ...req, query: q }, options);
      } catch (err) {
        if (token && isResourceExpired(err)) {
          const full = new URLSearchParams(base);
          full.delete("limit");
          full.delete("continue");
          const all = await this.json<KubernetesList<T>>({ ...req, query: full }, options);
          yield { ...all, restarted: true };
          return;
        }
        throw err;
      }
      yield { ...page, restarted: false };
      token = page.metadata?.continue || undefined;
      if (!token) return;
    }
  }

  /**
   * Every item of a paginated list. After an expired continue token the full list is read again
   * and only items not yielded before (by namespace/name) are yielded.
   */
  async *listAll<T extends { metadata?: { name?: string; namespace?: string } }>(
    req: RestRequest,
    options: CallOptions & { limit?: number } = {},
  ): AsyncGenerator<T, void, undefined> {
    const seen = new Set<string>();
    for await (const page of this.listPages<T>(req, options)) {
      for (const item of page.items ?? []) {
        const key = `${item.metadata?.namespace ?? ""}/${item.metadata?.name ?? ""}`;
        if (page.restarted && seen.has(key)) continue;
        seen.add(key);
        yield item;
      }
    }
  }

  /** Closes the connection pools; requests in flight finish first unless `force`. */
  /**
   * How to open a connection of one's own to this client's server with its TLS settings, proxy,
   * credentials and headers (User-Agent, impersonation): what a WebSocket upgrade needs, since it
   * takes its connection out of the pool. Undefined for a client built on a transport of its own
   * (a test's fake), which has no connections to copy.
   */
  upgradeSettings(): UpgradeSettings | undefined {
    const o = this.#connection;
    if (!o) return undefined;
    const { "accept-encoding": _, ...headers } = this.#headers;
    return {
      server: o.server,
      ...(o.ca !== undefined ? { ca: o.ca } : {}),
      ...(o.insecureSkipTlsVerify ? { insecureSkipTlsVerify: true } : {}),
      ...(o.tlsServerName ? { tlsServerName: o.tlsServerName } : {}),
      ...(o.proxyUrl ? { proxyUrl: o.proxyUrl } : {}),
      ...(o.credentials ? { credentials: o.credentials } : {}),
      headers,
    };
  }

  /**
   * A client of the same server over the same connections, credentials and interceptors, with a
   * rate limiter of its own (a negative qps: none), as client-go gives discovery a burst of 300.
   * Closing it leaves the shared connections open; closing this client closes them.
   */
  withRateLimit(limit: { qps: number; burst?: number }): RestClient {
    const shared = this.#transport;
    const child = new RestClient({
      ...this.#options,
      qps: limit.qps,
      ...(limit.burst === undefined ? {} : { burst: limit.burst }),
      transport: { dispatch: (req) => shared.dispatch(req), close: async () => {} },
    });
    child.#connection = this.#connection;
    return child;
  }

  close(options?: { force?: boolean }): Promise<void> {
    return this.#transport.close(options);
  }
}

export interface ListPage<T> extends KubernetesList<T> {
  /** True when this page is a full relist that replaces every page before it. */
  restarted: boolean;
}

function isKubekit(err: unknown): boolean {
  return (
    err instanceof ApiError ||
    err instanceof DecodeError ||
    err instanceof TransportError ||
    err instanceof TimeoutError
  );
}

function lowerCaseKeys(h: HeaderMap): HeaderMap {
  const out: HeaderMap = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = v;
  return out;
}

function withAttempts(err: unknown): unknown {
  if (err instanceof TransportError) {
    const info = attemptsOf(err);
    if (info && info.previous.length > 0) {
      return new TransportError(
        `${err.message}; after ${info.attempts} attempts (earlier: ${info.previous.join("; ")})`,
        {
          cause: err.cause,
          method: err.method,
          url: err.url,
        },
      );
    }
  }
  return err;
}

/** A streamed body stays linked to the caller's signal until it is read to the end or closed. */
function streamBody(
  body: HttpResponse["body"],
  dl: ReturnType<typeof deadline>,
): HttpResponse["body"] {
  return {
    async *[Symbol.asyncIterator]() {
      try {
        yield* body;
      } finally {
        dl.done();
      }
    },
    bytes: () => body.bytes().finally(() => dl.done()),
    text: () => body.text().finally(() => dl.done()),
    dump: () => body.dump().finally(() => dl.done()),
  };
}

/** Reads a body whole under the call's deadline; network failures become TransportErrors. */
function guardBody(
  body: HttpResponse["body"],
  dl: ReturnType<typeof deadline>,
): HttpResponse["body"] {
  const wrap =
    <R>(fn: () => Promise<R>) =>
    async (): Promise<R> => {
      try {
        return await fn();
      } catch (err) {
        if (dl.signal?.aborted) throw dl.signal.reason;
        throw isKubekit(err)
          ? err
          : new TransportError(`reading the response failed: ${(err as Error).message}`, {
              cause: err,
            });
      } finally {
        dl.done();
      }
    };
  return {
    [Symbol.asyncIterator]: () => body[Symbol.asyncIterator](),
    bytes: wrap(() => body.bytes()),
    text: wrap(() => body.text()),
    dump: wrap(() => body.dump()),
  };
}

async function toApiError(res: HttpResponse, method: string, url: string): Promise<ApiError> {
  let text = "";
  try {
    text = await res.body.text();
  } catch {
    // The status code alone still makes a useful error.
  }
  let status: Status | undefined;
  if (text) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (isStatus(parsed)) status = parsed;
    } catch {
      status = undefined;
    }
  }
  const info = attemptsOf(res);
  const note =
    info && info.previous.length > 0
      ? `after ${info.attempts} attempts (earlier: ${info.previous.join("; ")})`
      : undefined;
  if (status) {
    return new ApiError(
      { ...status, code: status.code || res.status },
      { method, url, retryAfterSeconds: retryAfterSeconds(res), note },
    );
  }
  const [reason, message] = GENERIC[res.status] ?? [
    "",
    `the server responded with HTTP ${res.status}`,
  ];
  return new ApiError(
    {
      kind: "Status",
      apiVersion: "v1",
      status: "Failure",
      code: res.status,
      reason,
      message: text ? `${message}: ${excerpt(text)}` : message,
    },
    {
      method,
      url,
      body: text ? excerpt(text) : undefined,
      retryAfterSeconds: retryAfterSeconds(res),
      note,
    },
  );
}

/**
 * Puts the credential source's Authorization header (unless the request has one) and client
 * certificate on each request. After a 401 the source is told, so it can refresh (an exec plugin
 * re-runs, a token file is re-read) at most once for concurrent callers; if that yields different
 * credentials, the request is tried once more with them.
 */
function authenticate(source: CredentialSource): Interceptor {
  const apply = (req: HttpRequest, creds: Credentials): HttpRequest => {
    const out: HttpRequest = { ...req };
    const authorization = creds.authorization;
    if (authorization !== undefined && req.headers.authorization === undefined) {
      out.headers = { ...req.headers, authorization };
    }
    if (creds.clientCert) out.clientCertificate = creds.clientCert;
    return out;
  };
  return (next) => async (req) => {
    const used = await source.credentials({ signal: req.signal });
    const first = await next(apply(req, used));
    if (first.status !== 401 || !source.onUnauthorized || req.headers.authorization !== undefined)
      return first;
    source.onUnauthorized(used);
    const fresh = await source.credentials({ signal: req.signal });
    if (
      fresh.authorization === used.authorization &&
      fresh.clientCert?.version === used.clientCert?.version
    )
      return first;
    await first.body.dump().catch(() => {});
    return next(apply(req, fresh));
  };
}

export { defaultUserAgent, KUBEKIT_VERSION } from "../core/version.ts";
