/**
 * Debug logging of HTTP traffic, levelled like kubectl's `-v` and switched on with `KUBEKIT_LOG`:
 *   6  request line, status and latency
 *   7  + request headers
 *   8  + response headers, and request and response bodies (truncated)
 *   9  + the equivalent curl command
 * Credentials are always redacted: Authorization and Proxy-Authorization values, cookies, and
 * token/password/key fields and Secret data in bodies.
 */
import { type Clock, realClock } from "../core/clock.ts";
import { type HeaderMap, type HttpResponse, type Interceptor, readAll } from "./http.ts";

export type LogSink = (line: string) => void;

export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number.parseInt(env.KUBEKIT_LOG ?? "", 10);
  return Number.isFinite(v) && v > 0 ? v : 0;
}

const SECRET_HEADERS = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie"]);

export function redactHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    if (SECRET_HEADERS.has(k.toLowerCase())) {
      const scheme = String(Array.isArray(v) ? v[0] : v).split(" ")[0];
      out[k] =
        scheme && scheme !== v && /^[A-Za-z]+$/.test(scheme) ? `${scheme} <masked>` : "<masked>";
    } else out[k] = v;
  }
  return out;
}

const SECRET_KEYS =
  /^(token|password|refresh-token|id-token|client-secret|clientKeyData|client-key-data|access-token|bearerToken)$/i;

/**
 * Masks secrets in a JSON body for logging: values under secret-looking keys, and the `data` and
 * `stringData` of Secret objects. Non-JSON bodies are returned as they are.
 */
export function redactBody(text: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      const isSecret = o.kind === "Secret";
      const out: Record<string, unknown> = {};
      for (const [k, val] of Object.entries(o)) {
        if (
          (isSecret && (k === "data" || k === "stringData")) ||
          (SECRET_KEYS.test(k) && typeof val === "string")
        ) {
          out[k] =
            val && typeof val === "object"
              ? Object.fromEntries(Object.keys(val).map((x) => [x, "<masked>"]))
              : "<masked>";
        } else out[k] = walk(val);
      }
      return out;
    }
    return v;
  };
  return JSON.stringify(walk(parsed));
}

function truncate(text: string, max = 10_240): string {
  return text.length > max ? `${text.slice(0, max)} [truncated ${text.length - max} chars]` : text;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function curlCommand(
  method: string,
  url: string,
  headers: HeaderMap,
  body?: string | Uint8Array,
): string {
  const parts = ["curl", "-v", "-X", method];
  for (const [k, v] of Object.entries(redactHeaders(headers))) {
    for (const one of Array.isArray(v) ? v : [v]) parts.push("-H", shellQuote(`${k}: ${one}`));
  }
  if (body !== undefined) {
    const text = typeof body === "string" ? body : Buffer.from(body).toString("utf8");
    parts.push("--data-binary", shellQuote(redactBody(text)));
  }
  parts.push(shellQuote(url));
  return parts.join(" ");
}

function replayBody(buf: Buffer): HttpResponse["body"] {
  return {
    async *[Symbol.asyncIterator]() {
      if (buf.length > 0) yield buf;
    },
    bytes: async () => buf,
    text: async () => buf.toString("utf8"),
    dump: async () => {},
  };
}

export function debugLog(options: {
  level: number;
  server: string;
  sink?: LogSink;
  clock?: Clock;
}): Interceptor {
  const { level, server } = options;
  const sink = options.sink ?? ((l: string) => process.stderr.write(`${l}\n`));
  const clock = options.clock ?? realClock;
  return (next) => async (req) => {
    if (level < 6) return next(req);
    const url = `${server.replace(/\/+$/, "")}${req.path}`;
    if (level >= 9) sink(curlCommand(req.method, url, req.headers, req.body));
    if (level >= 7) {
      sink(`Request Headers:`);
      for (const [k, v] of Object.entries(redactHeaders(req.headers)))
        sink(`    ${k}: ${Array.isArray(v) ? v.join(", ") : v}`);
    }
    if (level >= 8 && req.body !== undefined) {
      const text = typeof req.body === "string" ? req.body : Buffer.from(req.body).toString("utf8");
      sink(`Request Body: ${truncate(redactBody(text))}`);
    }
    const start = clock.now();
    let res: HttpResponse;
    try {
      res = await next(req);
    } catch (err) {
      sink(
        `${req.method} ${url} failed in ${clock.now() - start} milliseconds: ${(err as Error).message}`,
      );
      throw err;
    }
    sink(`${req.method} ${url} ${res.status} in ${clock.now() - start} milliseconds`);
    if (level >= 8) {
      sink(`Response Headers:`);
      for (const [k, v] of Object.entries(redactHeaders(res.headers)))
        sink(`    ${k}: ${Array.isArray(v) ? v.join(", ") : v}`);
      if (!req.stream) {
        const buf = await readAll(res.body);
        sink(`Response Body: ${truncate(redactBody(buf.toString("utf8")))}`);
        return { ...res, body: replayBody(buf) };
      }
    }
    return res;
  };
}
