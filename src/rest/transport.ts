/**
 * The bottom of the stack: one undici connection pool per server with the TLS settings of the
 * config, through a proxy when one applies. Everything above it (auth, rate limits, retries,
 * logging) is an interceptor around the `dispatch` made here.
 */
import type { Dispatcher } from "undici";

type Undici = typeof import("undici");
let undici: Undici | undefined;
let loading: Promise<Undici> | undefined;

/**
 * undici is loaded on the first request, not when kubekit is imported: it is most of kubekit's
 * import cost, and a program that only builds requests, reads config or runs tests with a fake
 * transport never needs it.
 */
function loadUndici(): Promise<Undici> | Undici {
  if (undici) return undici;
  loading ??= import("undici").then((m) => {
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

function makeDispatcher(
  { Pool, ProxyAgent, Socks5ProxyAgent }: Undici,
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
  if (o.proxyUrl) {
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
  return new Pool(
    origin.origin,
    origin.protocol === "https:" ? { ...common, connect: tls } : common,
  );
}

/** Explains a network or TLS failure in one line, keeping the original as the cause. */
function describe(err: unknown, method: string, url: string): TransportError {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code;
  const detail =
    e.cause?.message && e.cause.message !== e.message
      ? `${e.message}: ${e.cause.message}`
      : (e.message ?? String(err));
  let what = "request failed";
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

  const current = (lib: Undici, next: ClientCertificate | undefined): Dispatcher => {
    if (closed) throw new TransportError("the client is closed", { code: "ERR_KUBEKIT_CLOSED" });
    if (!dispatcher) {
      cert = next ?? cert;
      dispatcher = makeDispatcher(lib, options, base, cert);
    } else if (next && next !== cert) {
      // A new certificate means new TLS sessions: retire the old pool (its requests finish).
      retired.push(dispatcher);
      const old = dispatcher;
      void old.close().then(
        () => retired.splice(retired.indexOf(old), 1),
        () => {},
      );
      cert = next;
      dispatcher = makeDispatcher(lib, options, base, cert);
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
        res = await current(lib, req.clientCertificate).request({
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
        throw describe(err, req.method, path);
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
