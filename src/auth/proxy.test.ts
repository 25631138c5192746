import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../core/errors.ts";
import { ProxyResolver, parseProxyUrl, proxyForUrl } from "./proxy.ts";

const P = "http://proxy.corp:3128/";
const S = "http://secure-proxy.corp:3129/";

function pick(target: string, env: Record<string, string>): string | undefined {
  return proxyForUrl(new URL(target), env)?.href;
}

test("the target's scheme picks the variable; no fallback from one to the other", () => {
  const env = { HTTP_PROXY: P, HTTPS_PROXY: S };
  assert.equal(pick("https://api.example.com:6443", env), S);
  assert.equal(pick("http://api.example.com", env), P);
  assert.equal(pick("https://api.example.com", { HTTP_PROXY: P }), undefined);
  assert.equal(pick("http://api.example.com", { HTTPS_PROXY: S }), undefined);
  assert.equal(pick("wss://api.example.com", env), S);
  assert.equal(pick("ws://api.example.com", env), P);
  assert.equal(pick("ftp://api.example.com", env), undefined);
  assert.equal(pick("https://api.example.com", {}), undefined);
});

test("the upper-case name wins unless it is empty", () => {
  assert.equal(pick("https://a.example", { HTTPS_PROXY: S, https_proxy: P }), S);
  assert.equal(pick("https://a.example", { HTTPS_PROXY: "", https_proxy: P }), P);
  assert.equal(pick("https://a.example", { https_proxy: P }), P);
  assert.equal(
    pick("https://a.example", { HTTPS_PROXY: S, NO_PROXY: "", no_proxy: "a.example" }),
    undefined,
  );
  assert.equal(
    pick("https://a.example", { HTTPS_PROXY: S, NO_PROXY: "b.example", no_proxy: "a.example" }),
    S,
  );
});

test("proxy values without a scheme get http://; unknown schemes are ignored and named", () => {
  assert.equal(pick("https://a.example", { HTTPS_PROXY: "proxy.corp:3128" }), P);
  assert.equal(
    pick("https://a.example", { HTTPS_PROXY: "HTTPS://Proxy.Corp:3128" }),
    "https://proxy.corp:3128/",
  );
  assert.equal(
    pick("https://a.example", { HTTPS_PROXY: "socks5://user:pw@proxy.corp:1080" }),
    "socks5://user:pw@proxy.corp:1080",
  );
  const r = new ProxyResolver({ HTTPS_PROXY: "socks5h://proxy.corp:1080", HTTP_PROXY: "ftp://x" });
  assert.equal(r.proxyFor(new URL("https://a.example")), undefined);
  assert.deepEqual(r.invalid, ["HTTP_PROXY", "HTTPS_PROXY"]);
});

test("localhost and loopback addresses never use the proxy", () => {
  const env = { HTTPS_PROXY: S, HTTP_PROXY: P };
  for (const target of [
    "https://localhost:6443",
    "http://localhost",
    "https://127.0.0.1:6443",
    "https://127.8.9.10",
    "https://[::1]:6443",
    "https://[::ffff:127.0.0.1]:6443",
  ]) {
    assert.equal(pick(target, env), undefined, target);
  }
  assert.equal(pick("https://localhost.example.com", env), S);
  assert.equal(pick("https://128.0.0.1", env), S);
  assert.equal(pick("https://[::2]", env), S);
});

test("NO_PROXY domains: with and without a leading dot, *., ports, case", () => {
  const cases: [noProxy: string, target: string, proxied: boolean][] = [
    ["example.com", "https://example.com", false],
    ["example.com", "https://api.example.com", false],
    ["example.com", "https://notexample.com", true],
    [".example.com", "https://example.com", true],
    [".example.com", "https://api.example.com", false],
    ["*.example.com", "https://example.com", true],
    ["*.example.com", "https://a.b.example.com", false],
    ["EXAMPLE.com", "https://Api.Example.COM", false],
    ["example.com:6443", "https://api.example.com:6443", false],
    ["example.com:6443", "https://api.example.com", true],
    ["example.com:443", "https://api.example.com", false],
    ["example.com:80", "http://api.example.com", false],
    [" foo.org , example.com ", "https://example.com", false],
    ["*", "https://anything.example", false],
    ["foo.org,*", "https://anything.example", false],
    ["*.", "https://anything.example", true],
    [":6443", "https://example.com:6443", true],
    ["", "https://example.com", true],
    ["bücher.example", "https://www.bücher.example", false],
  ];
  for (const [noProxy, target, proxied] of cases) {
    assert.equal(
      pick(target, { HTTPS_PROXY: S, HTTP_PROXY: P, NO_PROXY: noProxy }) !== undefined,
      proxied,
      `NO_PROXY=${JSON.stringify(noProxy)} ${target}`,
    );
  }
});

test("NO_PROXY IP addresses and CIDRs, IPv4 and IPv6, with ports", () => {
  const cases: [noProxy: string, target: string, proxied: boolean][] = [
    ["10.1.2.3", "https://10.1.2.3:6443", false],
    ["10.1.2.3", "https://10.1.2.4:6443", true],
    ["10.1.2.3:6443", "https://10.1.2.3:6443", false],
    ["10.1.2.3:6443", "https://10.1.2.3", true],
    ["10.0.0.0/8", "https://10.200.3.4", false],
    ["10.0.0.0/8", "https://11.0.0.1", true],
    ["10.1.2.3/32", "https://10.1.2.3", false],
    ["192.168.0.0/23", "https://192.168.1.200", false],
    ["192.168.0.0/23", "https://192.168.2.1", true],
    ["2001:db8::1", "https://[2001:db8::1]:6443", false],
    ["[2001:db8::1]:6443", "https://[2001:db8::1]:6443", false],
    ["[2001:db8::1]:6443", "https://[2001:db8::1]:443", true],
    ["2001:db8::/32", "https://[2001:db8:ffff::5]", false],
    ["2001:db8::/32", "https://[2001:db9::5]", true],
    ["10.0.0.0/8", "https://[::ffff:10.1.1.1]", false],
    ["::ffff:10.0.0.0/104", "https://10.9.9.9", false],
    // An IP entry does not match a host name that resolves to it: there is no DNS here.
    ["10.1.2.3", "https://cluster.example", true],
    // Domain entries are also tried against IP targets, as suffixes (Go does the same).
    [".2.3", "https://10.1.2.3", false],
  ];
  for (const [noProxy, target, proxied] of cases) {
    assert.equal(
      pick(target, { HTTPS_PROXY: S, NO_PROXY: noProxy }) !== undefined,
      proxied,
      `NO_PROXY=${JSON.stringify(noProxy)} ${target}`,
    );
  }
});

test("HTTP_PROXY is refused for http targets in a CGI environment", () => {
  assert.throws(
    () => pick("http://a.example", { HTTP_PROXY: P, REQUEST_METHOD: "GET" }),
    ConfigError,
  );
  assert.equal(pick("https://a.example", { HTTPS_PROXY: S, REQUEST_METHOD: "GET" }), S);
});

test("the returned URL is a copy", () => {
  const r = new ProxyResolver({ HTTPS_PROXY: S });
  const a = r.proxyFor(new URL("https://a.example"))!;
  a.hostname = "evil.example";
  assert.equal(r.proxyFor(new URL("https://a.example"))?.href, S);
});

test("parseProxyUrl accepts http, https and socks5 and never quotes the URL", () => {
  assert.equal(parseProxyUrl("socks5://proxy:1080").protocol, "socks5:");
  assert.equal(parseProxyUrl("https://proxy:8443").port, "8443");
  assert.equal(parseProxyUrl("http://proxy").hostname, "proxy");
  for (const bad of [
    "socks5h://u:hunter2@proxy:1080",
    "ftp://u:hunter2@proxy",
    "hunter2",
    "http://",
  ]) {
    let err: unknown;
    try {
      parseProxyUrl(bad);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof ConfigError, bad);
    assert.ok(!err.message.includes("hunter2"), err.message);
  }
  assert.throws(() => parseProxyUrl("socks5h://proxy:1080"), /unsupported scheme "socks5h"/);
});
