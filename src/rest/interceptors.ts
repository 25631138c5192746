/**
 * The interceptors kubekit composes around the transport. Each is `(next) => dispatch`; the client
 * puts them in this order, outermost first: metrics → retry → rate limit → auth → warnings → debug
 * log → transport. So a retry waits for the rate limiter again and is logged as its own attempt,
 * and metrics see one request however many attempts it took.
 */
import { type Clock, realClock } from "../core/clock.ts";
import { TransportError } from "../core/errors.ts";
import {
  type HttpRequest,
  type HttpResponse,
  headerValue,
  headerValues,
  type Interceptor,
} from "./http.ts";
import type { TokenBucket } from "./ratelimit.ts";

/** What the retry interceptor leaves on a response so the caller can say how it got there. */
export interface AttemptInfo {
  attempts: number;
  /** One line per earlier failed attempt, oldest first. */
  previous: string[];
}

const kAttempts = Symbol.for("kubekit.attempts");

export function attemptsOf(res: HttpResponse | TransportError): AttemptInfo | undefined {
  return (res as { [kAttempts]?: AttemptInfo })[kAttempts];
}

function setAttempts(target: object, info: AttemptInfo): void {
  Object.defineProperty(target, kAttempts, { value: info, enumerable: false, configurable: true });
}

/** `Retry-After` as whole seconds; HTTP-date values are ignored, as client-go ignores them. */
export function retryAfterSeconds(res: HttpResponse): number | undefined {
  const v = headerValue(res.headers, "retry-after");
  if (v === undefined || !/^\s*\d+\s*$/.test(v)) return undefined;
  return Number.parseInt(v, 10);
}

function isRetryableNetworkError(err: unknown): boolean {
  if (!(err instanceof TransportError)) return false;
  const cause = err.cause as { code?: string; cause?: { code?: string } } | undefined;
  const code = cause?.code ?? cause?.cause?.code;
  return (
    code === "ECONNRESET" ||
    code === "UND_ERR_SOCKET" ||
    code === "ECONNREFUSED" ||
    code === "EPIPE" ||
    code === "UND_ERR_CLOSED" ||
    code === "ERR_HTTP2_GOAWAY_SESSION" ||
    code === "ERR_HTTP2_STREAM_ERROR"
  );
}

export interface RetryOptions {
  /** Retries after the first attempt; client-go's default is 10. 0 disables retrying. */
  maxRetries?: number;
  clock?: Clock;
}

/**
 * client-go's retry rules. A 429 or a 5xx that carries an integer `Retry-After` is retried after
 * that many seconds, for every verb (kubekit's request bodies are always replayable). A lost or
 * refused connection is retried after a second, for GET only: another verb may have reached the
 * server. Each retry goes through the inner interceptors again (so it waits for the rate limiter)
 * and the wait ends early with `signal.reason` on abort. When retries run out, the last response
 * (or error) is returned with an `AttemptInfo` describing the earlier attempts.
 */
export function retry(options: RetryOptions = {}): Interceptor {
  const max = options.maxRetries ?? 10;
  const clock = options.clock ?? realClock;
  return (next) => async (req) => {
    const previous: string[] = [];
    for (let attempt = 1; ; attempt++) {
      let res: HttpResponse;
      try {
        res = await next(req);
      } catch (err) {
        if (req.signal?.aborted) throw req.signal.reason;
        if (attempt > max || req.method !== "GET" || !isRetryableNetworkError(err)) {
          if (previous.length > 0 && err instanceof TransportError) {
            setAttempts(err, { attempts: attempt, previous });
          }
          throw err;
        }
        previous.push((err as Error).message);
        await clock.sleep(1000, req.signal);
        continue;
      }
      const wait = res.status === 429 || res.status >= 500 ? retryAfterSeconds(res) : undefined;
      if (wait === undefined || attempt > max) {
        if (previous.length > 0) setAttempts(res, { attempts: attempt, previous });
        return res;
      }
      previous.push(`${res.status} with Retry-After ${wait}s`);
      await res.body.dump().catch(() => {});
      await clock.sleep(wait * 1000, req.signal);
    }
  };
}

export type RateLimitLog = (message: string) => void;

/**
 * Waits for the client's token bucket before each attempt. The first attempt of a streaming
 * request (a watch) is not throttled, as in client-go. A wait of over a second is logged with its
 * reason, since it is the client, not the server, that slowed the request.
 */
export function rateLimit(bucket: TokenBucket, log?: RateLimitLog): Interceptor {
  const waits = new WeakMap<HttpRequest, number>();
  return (next) => async (req) => {
    if (req.stream && !waits.has(req)) {
      waits.set(req, 0);
      return next(req);
    }
    const waited = await bucket.acquire(req.signal);
    waits.set(req, (waits.get(req) ?? 0) + waited);
    setRateLimitWait(req, waits.get(req) ?? 0);
    if (waited > 1000 && log) {
      log(
        `Waited for ${(waited / 1000).toFixed(2)}s due to client-side throttling, not priority and fairness, request: ${req.method}:${req.path}`,
      );
    }
    return next(req);
  };
}

const kWait = Symbol.for("kubekit.rateLimitWait");

function setRateLimitWait(req: HttpRequest, ms: number): void {
  Object.defineProperty(req, kWait, {
    value: ms,
    enumerable: false,
    configurable: true,
    writable: true,
  });
}

export function rateLimitWaitOf(req: HttpRequest): number {
  return (req as { [kWait]?: number })[kWait] ?? 0;
}

export interface Warning {
  /** The warn-code; the API server uses 299. */
  code: number;
  agent: string;
  text: string;
}

export type WarningHandler = (warning: Warning, request: { method: string; path: string }) => void;

/**
 * Parses RFC 7234 `Warning` header values such as `299 - "text"`. A header may hold several,
 * separated by commas outside quotes; malformed ones are skipped.
 */
export function parseWarnings(values: string[]): Warning[] {
  const out: Warning[] = [];
  const re = /\s*(\d{3})\s+(\S+)\s+"((?:[^"\\]|\\.)*)"(?:\s+"[^"]*")?\s*(?:,|$)/gy;
  for (const value of values) {
    re.lastIndex = 0;
    for (let m = re.exec(value); m; m = re.exec(value)) {
      out.push({ code: Number(m[1]), agent: m[2]!, text: m[3]!.replace(/\\(.)/g, "$1") });
      if (re.lastIndex >= value.length) break;
    }
  }
  return out;
}

/** client-go's default: print each distinct warning once, to stderr. */
export function dedupingWarningWriter(
  write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): WarningHandler {
  const seen = new Set<string>();
  return (w) => {
    if (seen.has(w.text)) return;
    if (seen.size > 1000) seen.clear();
    seen.add(w.text);
    write(`Warning: ${w.text}`);
  };
}

export function warnings(handler: WarningHandler): Interceptor {
  return (next) => async (req) => {
    const res = await next(req);
    const values = headerValues(res.headers, "warning");
    if (values.length > 0) {
      for (const w of parseWarnings(values)) {
        try {
          handler(w, { method: req.method, path: req.path });
        } catch {
          // A broken handler must not fail the request it is only observing.
        }
      }
    }
    return res;
  };
}

/** What a metrics hook is told about one request (after all its attempts). */
export interface RequestMetrics {
  method: string;
  /** The path without the query string. */
  path: string;
  /** The HTTP status, or 0 when no response came. */
  status: number;
  /** From the start of the first attempt to the response headers of the last. */
  latencyMs: number;
  attempts: number;
  rateLimitWaitMs: number;
  /** The error's code (`ERR_KUBEKIT_TRANSPORT`, `ABORT_ERR`, ...) when the request failed without a response. */
  error?: string;
}

export type MetricsHook = (m: RequestMetrics) => void;

export function metrics(hook: MetricsHook, clock: Clock = realClock): Interceptor {
  return (next) => async (req) => {
    const start = clock.now();
    const path = req.path.split("?")[0]!;
    try {
      const res = await next(req);
      safe(() =>
        hook({
          method: req.method,
          path,
          status: res.status,
          latencyMs: clock.now() - start,
          attempts: attemptsOf(res)?.attempts ?? 1,
          rateLimitWaitMs: rateLimitWaitOf(req),
        }),
      );
      return res;
    } catch (err) {
      safe(() =>
        hook({
          method: req.method,
          path,
          status: 0,
          latencyMs: clock.now() - start,
          attempts: err instanceof TransportError ? (attemptsOf(err)?.attempts ?? 1) : 1,
          rateLimitWaitMs: rateLimitWaitOf(req),
          error: (err as { code?: string; name?: string })?.code ?? (err as Error)?.name ?? "Error",
        }),
      );
      throw err;
    }
  };
}

function safe(fn: () => void): void {
  try {
    fn();
  } catch {
    // Observers never break requests.
  }
}
