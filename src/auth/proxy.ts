import { isIPv4, isIPv6 } from "node:net";
import { ConfigError } from "../core/errors.ts";

/**
 * Proxy selection, as Go's `http.ProxyFromEnvironment` (golang.org/x/net/http/httpproxy) does it,
 * so a kubeconfig behaves the same here as with kubectl:
 *
 * - `https:` targets use `HTTPS_PROXY`, `http:` targets `HTTP_PROXY` (no fallback from one to the
 *   other); the upper-case name wins when both are set and non-empty. `wss:`/`ws:` (the streaming
 *   endpoints) count as `https:`/`http:`.
 * - A value without a scheme gets `http://`; a value whose scheme is not http, https or socks5 is
 *   ignored (Go would mangle it), and so is one that does not parse. `invalid` names them.
 * - Requests to `localhost` and loopback addresses never use a proxy, whatever `NO_PROXY` says.
 * - `NO_PROXY` (or `no_proxy`) is a comma list: `*` (no proxy at all), IP addresses and CIDRs
 *   (`10.0.0.1`, `10.0.0.0/8`, `[::1]:6443`), and domains (`example.com` matches the domain and its
 *   subdomains, `.example.com` and `*.example.com` only subdomains), each optionally with `:port`.
 *   Matching ignores case; an entry with a port matches only that port, the target's default port
 *   (80, 443) counting when it names none.
 * - As in Go, `HTTP_PROXY` is refused for `http:` targets when `REQUEST_METHOD` is set (a CGI
 *   process, where a client could set the `Proxy:` header and with it `HTTP_PROXY`).
 *
 * A kubeconfig cluster's `proxy-url` is not subject to any of this: client-go uses it for every
 * request to that cluster. Validate it with `parseProxyUrl`.
 */
export class ProxyResolver {
  readonly #httpProxy: URL | undefined;
  readonly #httpsProxy: URL | undefined;
  readonly #cgi: boolean;
  readonly #all: boolean;
  readonly #ipMatchers: IpMatcher[] = [];
  readonly #domainMatchers: DomainMatcher[] = [];
  /** The variables whose values were ignored because they are not proxy URLs (names only). */
  readonly invalid: readonly string[];

  constructor(env: Readonly<Record<string, string | undefined>> = process.env) {
    const invalid: string[] = [];
    const http = firstSet(env, "HTTP_PROXY", "http_proxy");
    const https = firstSet(env, "HTTPS_PROXY", "https_proxy");
    this.#httpProxy = http && parseEnvProxy(http.value);
    this.#httpsProxy = https && parseEnvProxy(https.value);
    if (http && !this.#httpProxy) invalid.push(http.name);
    if (https && !this.#httpsProxy) invalid.push(https.name);
    this.invalid = invalid;
    this.#cgi = (env.REQUEST_METHOD ?? "") !== "";
    this.#all = false;
    for (const raw of (firstSet(env, "NO_PROXY", "no_proxy")?.value ?? "").split(",")) {
      const p = raw.trim().toLowerCase();
      if (p === "") continue;
      if (p === "*") {
        this.#all = true;
        break;
      }
      const cidr = parseCidr(p);
      if (cidr) {
        this.#ipMatchers.push({ cidr });
        continue;
      }
      let host = p;
      let port = "";
      const split = splitHostPort(p);
      if (split) {
        if (split.host === "") continue;
        host = split.host;
        port = split.port;
      }
      const ip = parseIp(host);
      if (ip) {
        this.#ipMatchers.push({ ip, port });
        continue;
      }
      if (host.startsWith("*.")) host = host.slice(1);
      const matchHost = !host.startsWith(".");
      if (matchHost) host = `.${host}`;
      this.#domainMatchers.push({ suffix: toAscii(host), port, matchHost });
    }
  }

  /**
   * The proxy for a request to `target`, or undefined for a direct connection. Throws a
   * `ConfigError` only in the CGI case above.
   */
  proxyFor(target: URL): URL | undefined {
    const scheme =
      target.protocol === "wss:" ? "https:" : target.protocol === "ws:" ? "http:" : target.protocol;
    let proxy: URL | undefined;
    if (scheme === "https:") {
      proxy = this.#httpsProxy;
    } else if (scheme === "http:") {
      proxy = this.#httpProxy;
      if (proxy && this.#cgi) {
        throw new ConfigError(
          "refusing to use HTTP_PROXY in a CGI environment (REQUEST_METHOD is set); see golang.org/s/cgihttpproxy",
        );
      }
    }
    if (proxy === undefined) return undefined;
    return this.#useProxy(target, scheme) ? new URL(proxy.href) : undefined;
  }

  #useProxy(target: URL, scheme: string): boolean {
    let host = target.hostname;
    if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
    host = host.toLowerCase();
    if (host === "") return true;
    const port = target.port || (scheme === "https:" ? "443" : "80");
    if (host === "localhost") return false;
    const ip = parseIp(host);
    if (ip && isLoopback(ip)) return false;
    if (this.#all) return false;
    if (ip) {
      for (const m of this.#ipMatchers) {
        if ("cidr" in m) {
          if (cidrContains(m.cidr, ip)) return false;
        } else if (sameIp(m.ip, ip) && (m.port === "" || m.port === port)) {
          return false;
        }
      }
    }
    for (const m of this.#domainMatchers) {
      if (host.endsWith(m.suffix) || (m.matchHost && host === m.suffix.slice(1))) {
        if (m.port === "" || m.port === port) return false;
      }
    }
    return true;
  }
}

/**
 * `new ProxyResolver(env).proxyFor(target)`: the proxy Go would pick for `target` from `env`
 * (default `process.env`). Parses the environment on every call; keep a `ProxyResolver` to parse
 * it once.
 */
export function proxyForUrl(
  target: URL,
  env: Readonly<Record<string, string | undefined>> = process.env,
): URL | undefined {
  return new ProxyResolver(env).proxyFor(target);
}

/** The proxy URL schemes client-go accepts in a kubeconfig's `proxy-url`. */
export const PROXY_URL_SCHEMES: readonly string[] = ["http", "https", "socks5"];

/**
 * Parses a kubeconfig cluster's `proxy-url`: http, https or socks5, as clientcmd requires (it
 * refuses `socks5h`; Go's socks5 dialer resolves host names at the proxy anyway, so `socks5` there
 * means what `socks5h` means to curl). The error never quotes the URL, which may hold a password.
 */
export function parseProxyUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError("proxy-url is not a URL", { field: "proxy-url" });
  }
  const scheme = url.protocol.slice(0, -1);
  if (!PROXY_URL_SCHEMES.includes(scheme)) {
    throw new ConfigError(
      `proxy-url has the unsupported scheme ${JSON.stringify(scheme)}; it must be http, https or socks5`,
      { field: "proxy-url" },
    );
  }
  if (url.hostname === "") throw new ConfigError("proxy-url has no host", { field: "proxy-url" });
  return url;
}

type IpBytes = Uint8Array; // 4 bytes (IPv4, also IPv4-mapped IPv6) or 16 bytes
type IpMatcher = { cidr: { net: IpBytes; bits: number } } | { ip: IpBytes; port: string };
interface DomainMatcher {
  /** Always starts with "." */
  suffix: string;
  port: string;
  /** Whether the domain itself matches too (the entry had no leading dot). */
  matchHost: boolean;
}

function firstSet(
  env: Readonly<Record<string, string | undefined>>,
  ...names: string[]
): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== "") return { name, value };
  }
  return undefined;
}

/** Go's `parseProxy`: a URL with a known scheme, else `http://` + the value. */
function parseEnvProxy(value: string): URL | undefined {
  const schemeMatch = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(value);
  if (schemeMatch) {
    if (!PROXY_URL_SCHEMES.includes(schemeMatch[1]!.toLowerCase())) return undefined;
    try {
      const url = new URL(value);
      return url.hostname === "" ? undefined : url;
    } catch {
      return undefined;
    }
  }
  try {
    const url = new URL(`http://${value}`);
    return url.hostname === "" ? undefined : url;
  } catch {
    return undefined;
  }
}

/** Go's `net.SplitHostPort` for NO_PROXY entries: `host:port` or `[v6]:port`, else undefined. */
function splitHostPort(s: string): { host: string; port: string } | undefined {
  if (s.startsWith("[")) {
    const end = s.indexOf("]");
    if (end < 0 || s[end + 1] !== ":") return undefined;
    const rest = s.slice(end + 2);
    if (rest.includes(":")) return undefined;
    return { host: s.slice(1, end), port: rest };
  }
  const i = s.lastIndexOf(":");
  if (i < 0) return undefined;
  const host = s.slice(0, i);
  if (host.includes(":")) return undefined; // a bare IPv6 address: too many colons
  return { host, port: s.slice(i + 1) };
}

function parseIp(s: string): IpBytes | undefined {
  if (isIPv4(s)) return Uint8Array.from(s.split(".").map(Number));
  if (!isIPv6(s) || s.includes("%")) return undefined;
  const bytes = new Uint8Array(16);
  let text = s;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  const last = text.slice(lastColon + 1);
  if (last.includes(".")) {
    tail = last.split(".").map(Number);
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head = "", rest] = text.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const restGroups = rest === undefined || rest === "" ? [] : rest.split(":");
  const groups =
    rest === undefined
      ? headGroups
      : [
          ...headGroups,
          ...Array(8 - headGroups.length - restGroups.length).fill("0"),
          ...restGroups,
        ];
  groups.forEach((g, i) => {
    const n = Number.parseInt(g, 16);
    bytes[i * 2] = n >> 8;
    bytes[i * 2 + 1] = n & 0xff;
  });
  if (tail.length === 4) bytes.set(tail, 12);
  return toV4(bytes) ?? bytes;
}

/** The 4-byte form of an IPv4-mapped IPv6 address (Go's `To4`), else undefined. */
function toV4(b: IpBytes): IpBytes | undefined {
  if (b.length === 4) return b;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return undefined;
  if (b[10] !== 0xff || b[11] !== 0xff) return undefined;
  return b.subarray(12);
}

function sameIp(a: IpBytes, b: IpBytes): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function isLoopback(ip: IpBytes): boolean {
  if (ip.length === 4) return ip[0] === 127;
  return ip.every((x, i) => x === (i === 15 ? 1 : 0));
}

function parseCidr(s: string): { net: IpBytes; bits: number } | undefined {
  const slash = s.indexOf("/");
  if (slash < 0) return undefined;
  const addr = s.slice(0, slash);
  const bitsText = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bitsText)) return undefined;
  let bits = Number(bitsText);
  const v4Text = isIPv4(addr);
  const ip = parseIp(addr);
  if (!ip) return undefined;
  if (v4Text && bits > 32) return undefined;
  if (!v4Text && bits > 128) return undefined;
  if (!v4Text && ip.length === 4) {
    // An IPv4-mapped IPv6 prefix: its last 32 bits are the IPv4 prefix (Go does the same).
    if (bits < 96) return undefined;
    bits -= 96;
  }
  return { net: ip, bits };
}

function cidrContains(cidr: { net: IpBytes; bits: number }, ip: IpBytes): boolean {
  if (cidr.net.length !== ip.length) return false;
  let bits = cidr.bits;
  for (let i = 0; i < ip.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((cidr.net[i]! & mask) !== (ip[i]! & mask)) return false;
  }
  return true;
}

/** The ASCII (punycode) form of a domain, as WHATWG URL parsing (and Go's IDNA lookup) gives it. */
function toAscii(domain: string): string {
  if (/^\p{ASCII}*$/u.test(domain)) return domain;
  try {
    const leadingDot = domain.startsWith(".");
    const host = new URL(`http://${leadingDot ? domain.slice(1) : domain}`).hostname;
    return leadingDot ? `.${host}` : host;
  } catch {
    return domain;
  }
}
