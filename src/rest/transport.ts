/**
 * The bottom of the stack: one undici connection pool per server with the TLS settings of the
 * config, through a proxy when one applies. Everything above it (auth, rate limits, retries,
 * logging) is an interceptor around the `dispatch` made here.
 */
import type { Dispatcher, Pool, ProxyAgent, Socks5ProxyAgent } from "undici";

/** The parts of undici kubekit uses. */
export interface UndiciParts {
  Pool: typeof Pool;
  /** undici's `Dispatcher#request`, called with the dispatcher as `this`. */
  request: (
    this: Dispatcher,
    options: Dispatcher.RequestOptions,
  ) => Promise<Dispatcher.ResponseData>;
  /** The proxy dispatchers, loaded only when a proxy is configured. */
  proxies(): Promise<{ ProxyAgent: typeof ProxyAgent; Socks5ProxyAgent: typeof Socks5ProxyAgent }>;
}

/**
 * undici's own files for what kubekit uses, relative to the package. The index would also load
 * fetch, WebSocket, the HTTP cache and the mocks: ~13 MB of RSS and ~15 ms that no kubekit request
 * needs (it is loaded only when a proxy is configured). These paths hold for the undici minor
 * kubekit pins (package.json); a test fails when an upgrade moves them.
 */
export const UNDICI_FILES = {
  pool: "undici/lib/dispatcher/pool.js",
  request: "undici/lib/api/api-request.js",
} as const;

const cjs = async <T>(specifier: string): Promise<T> =>
  ((await import(specifier)) as { default: T }).default;

/**
 * Loads undici's parts from `files`; when any is missing (a different undici is installed), from
 * its index instead, so a deduplicated install keeps working, only heavier.
 */
export async function loadUndiciParts(
  files: Record<keyof typeof UNDICI_FILES, string> = UNDICI_FILES,
): Promise<UndiciParts> {
  try {
    const [pool, request] = await Promise.all([
      cjs<typeof Pool>(files.pool),
      cjs<UndiciParts["request"]>(files.request),
    ]);
    if (typeof pool !== "function" || typeof request !== "function")
      throw new Error("not undici's layout");
    return {
      Pool: pool,
      request,
      // The proxy agents drive their tunnels through the Dispatcher methods undici's index
      // installs (`connect`), so a proxy loads the index; its Pool is the same class as ours.
      proxies: async () => {
        const lib = await import("undici");
        return { ProxyAgent: lib.ProxyAgent, Socks5ProxyAgent: lib.Socks5ProxyAgent };
      },
    };
  } catch {
    const lib = await import("undici");
    return {
      Pool: lib.Pool,
      request: lib.Dispatcher.prototype.request as UndiciParts["request"],
      proxies: async () => ({ ProxyAgent: lib.ProxyAgent, Socks5ProxyAgent: lib.Socks5ProxyAgent }),
    };
  }
}

let undici: UndiciParts | undefined;
let loading: Promise<UndiciParts> | undefined;

/**
 * undici is loaded on the first request, not when kubekit is imported: it is most of kubekit's
 * import cost, and a program that only builds requests, reads config or runs tests with a fake
 * transport never needs it.
 */
function loadUndici(): Promise<UndiciParts> | UndiciParts {
  if (undici) return undici;
  loading ??= loadUndiciParts().then((m) => {
    undici = m;
    return m;
  });
  return loading;
}

import { TransportError } from "../core/errors.ts";
import { type HttpRequest, type HttpResponse, responseBody } from "./http.ts";

/** A client certificate that may change over time (exec plugins, reloaded files). */
export interface ClientCertificate {
  cert: string | Buffer;
  key: string | Buffer;
}

export interface TransportOptions {
  /** `https://host:port[/prefix]` or `http://...`. */
  server: string;
  /** PEM bundle to trust instead of the system roots. */
  ca?: string | Buffer;
  /** A fixed client certificate; a request's own `clientCertificate` takes precedence. */
  clientCertificate?: ClientCertificate;
  insecureSkipTlsVerify?: boolean;
  /** The name to verify the server's certificate against (SNI too), when it differs from the host. */
  tlsServerName?: string;
  /** The proxy to use for this server, already resolved (explicit proxy-url or the environment). */
  proxyUrl?: string;
  http2?: boolean;
  /** Connections per server; undici's default (unlimited) when unset. */
  connections?: number;
}

export interface Transport {
  dispatch(request: HttpRequest): Promise<HttpResponse>;
  /** Closes the pool; requests in flight finish first unless `force`. */
  close(options?: { force?: boolean }): Promise<void>;
}

interface TlsOptions {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  servername?: string;
  rejectUnauthorized: boolean;
}

function tlsFor(
  o: TransportOptions,
  cert: ClientCertificate | undefined,
  host: string,
): TlsOptions {
  const tls: TlsOptions = { rejectUnauthorized: !o.insecureSkipTlsVerify };
  if (o.ca !== undefined) tls.ca = o.ca;
  if (cert) {
    tls.cert = cert.cert;
    tls.key = cert.key;
  }
  // SNI must not be an IP address; Node warns and ignores it otherwise.
  const name = o.tlsServerName ?? host.replace(/^\[|\]$/g, "");
  if (!/^[\d.]+$/.test(name) && !name.includes(":")) tls.servername = name;
  return tls;
}

type Proxies = Awaited<ReturnType<UndiciParts["proxies"]>>;

function makeDispatcher(
  lib: UndiciParts,
  proxies: Proxies | undefined,
  o: TransportOptions,
  origin: URL,
  cert: ClientCertificate | undefined,
): Dispatcher {
  const tls = tlsFor(o, cert, origin.hostname);
  const common = {
    // Deadlines are the caller's (timeoutMs and AbortSignal): a watch may be quiet for minutes.
    headersTimeout: 0,
    bodyTimeout: 0,
    keepAliveTimeout: 30_000,
    allowH2: o.http2 === true,
    ...(o.connections ? { connections: o.connections } : {}),
  };
  if (o.proxyUrl && proxies) {
    const { ProxyAgent, Socks5ProxyAgent } = proxies;
    const proxy = new URL(o.proxyUrl);
    if (
      proxy.protocol === "socks5:" ||
      proxy.protocol === "socks5h:" ||
      proxy.protocol === "socks:"
    ) {
      if (proxy.protocol === "socks5h:") proxy.protocol = "socks5:";
      return new Socks5ProxyAgent(proxy, { ...common, requestTls: tls } as ConstructorParameters<
        typeof Socks5ProxyAgent
      >[1]);
    }
    return new ProxyAgent({ uri: proxy.href, requestTls: tls, ...common });
  }
  return new lib.Pool(
    origin.origin,
    origin.protocol === "https:" ? { ...common, connect: tls } : common,
  );
}

/**
 * A dispatcher of its own to the server of `options` (the transport's TLS settings and proxy),
 * presenting `cert`: what a WebSocket upgrade (exec, attach, port-forward) needs, since an
 * upgraded connection leaves the pool it was made in. HTTP/1.1 only, as an upgrade requires.
 */
export async function createDispatcher(
  options: TransportOptions,
  cert?: ClientCertificate,
): Promise<Dispatcher> {
  const lib = undici ?? (await loadUndici());
  const proxies = options.proxyUrl ? await lib.proxies() : undefined;
  return makeDispatcher(lib, proxies, { ...options, http2: false }, new URL(options.server), cert);
}

/**
 * Explains a network or TLS failure in one line (`what` when the code says nothing more specific),
 * keeping the original as the cause.
 */
export function describeNetworkError(
  err: unknown,
  method: string,
  url: string,
  what = "request failed",
): TransportError {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code;
  const detail =
    e.cause?.message && e.cause.message !== e.message
      ? `${e.message}: ${e.cause.message}`
      : (e.message ?? String(err));
  if (
    code &&
    /^(ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_SSL_|HOSTNAME_MISMATCH)/.test(code)
  ) {
    what =
      "TLS handshake failed (the server's certificate is not trusted by the configured CA, or does not match its name)";
  } else if (code === "ECONNREFUSED") what = "connection refused";
  else if (code === "ECONNRESET" || code === "UND_ERR_SOCKET") what = "connection lost";
  else if (code === "ENOTFOUND" || code === "EAI_AGAIN") what = "host not found";
  else if (code === "UND_ERR_CONNECT_TIMEOUT") what = "connect timed out";
  return new TransportError(`${method} ${url}: ${what} (${code ?? "no code"}: ${detail})`, {
    cause: err,
    method,
    url,
  });
}

export function createTransport(options: TransportOptions): Transport {
  const base = new URL(options.server);
  if (base.protocol !== "https:" && base.protocol !== "http:") {
    throw new TypeError(`server must be an http or https URL, got ${base.protocol}`);
  }
  const prefix = base.pathname.replace(/\/+$/, "");
  let cert = options.clientCertificate;
  let dispatcher: Dispatcher | undefined;
  let closed = false;
  const retired: Dispatcher[] = [];
  let proxies: Proxies | undefined;

  const current = (lib: UndiciParts, next: ClientCertificate | undefined): Dispatcher => {
    if (closed) throw new TransportError("the client is closed", { code: "ERR_KUBEKIT_CLOSED" });
    if (!dispatcher) {
      cert = next ?? cert;
      dispatcher = makeDispatcher(lib, proxies, options, base, cert);
    } else if (next && next !== cert) {
      // A new certificate means new TLS sessions: retire the old pool (its requests finish).
      retired.push(dispatcher);
      const old = dispatcher;
      void old.close().then(
        () => retired.splice(retired.indexOf(old), 1),
        () => {},
      );
      cert = next;
      dispatcher = makeDispatcher(lib, proxies, options, base, cert);
    }
    return dispatcher;
  };

  return {
    async dispatch(req) {
      if (req.signal?.aborted) throw req.signal.reason;
      const path = prefix + req.path;
      let res: Dispatcher.ResponseData;
      try {
        const lib = undici ?? (await loadUndici());
        if (options.proxyUrl) proxies ??= await lib.proxies();
        res = await lib.request.call(current(lib, req.clientCertificate), {
          origin: base.origin,
          path,
          method: req.method as Dispatcher.HttpMethod,
          headers: req.headers,
          body: req.body,
          signal: req.signal,
        });
      } catch (err) {
        if (req.signal?.aborted) throw req.signal.reason;
        if (err instanceof TransportError) throw err;
        throw describeNetworkError(err, req.method, path);
      }
      const encoding = res.headers["content-encoding"];
      return {
        status: res.statusCode,
        headers: res.headers,
        body: responseBody(res.body, Array.isArray(encoding) ? encoding[0] : encoding),
      };
    },
    async close(opts) {
      closed = true;
      const all = [...(dispatcher ? [dispatcher] : []), ...retired];
      await Promise.all(all.map((d) => (opts?.force ? d.destroy() : d.close()).catch(() => {})));
    },
  };
}
