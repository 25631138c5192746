import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../core/errors.ts";
import { normalizeServer, proxyUrlProblem, RestConfig } from "./rest-config.ts";

test("defaults: namespace, rate limits, timeout, user agent", () => {
  const rc = new RestConfig({ server: "https://k8s.example:6443" });
  assert.equal(rc.namespace, "default");
  assert.equal(rc.source, "direct");
  assert.equal(rc.qps, 5);
  assert.equal(rc.burst, 10);
  assert.equal(rc.timeoutMs, 0);
  assert.equal(rc.isTls, true);
  assert.match(rc.userAgent, /^kubekit\/\d+\.\d+\.\d+ \(\w+\/\w+\) node\/v\d+/);
  assert.ok(Object.isFrozen(rc));
});

test("servers: a URL keeps what was written; host:port is http, as in client-go", () => {
  const cases: [string, string][] = [
    ["https://k8s.example:443", "https://k8s.example:443"],
    ["https://k8s.example/", "https://k8s.example"],
    ["https://gw.example/clusters/c1/?x=1#f", "https://gw.example/clusters/c1"],
    ["10.0.0.1:6443", "http://10.0.0.1:6443"],
    ["localhost", "http://localhost"],
    ["https://[fd00::1]:6443", "https://[fd00::1]:6443"],
  ];
  for (const [input, want] of cases) assert.equal(normalizeServer(input), want, input);
  for (const bad of ["", "ftp://x", "http://[::1"]) {
    assert.equal(typeof normalizeServer(bad), "object", bad);
    assert.throws(() => new RestConfig({ server: bad }), ConfigError);
  }
});

test("proxy URLs must be http, https or socks5; messages mask a password", () => {
  assert.equal(proxyUrlProblem("http://proxy:3128"), undefined);
  assert.equal(proxyUrlProblem("socks5://127.0.0.1:1080"), undefined);
  const msg = proxyUrlProblem("ftp://user:hunter2@proxy:21");
  assert.match(msg ?? "", /unsupported scheme "ftp"/);
  assert.doesNotMatch(msg ?? "", /hunter2/);
  assert.match(proxyUrlProblem("not a url") ?? "", /not a URL/);
  assert.throws(() => new RestConfig({ server: "https://x", proxyUrl: "ftp://p" }), ConfigError);
});

test("the constructor rejects what client-go's transport rejects", () => {
  const bad: ConstructorParameters<typeof RestConfig>[0][] = [
    { server: "https://x", insecureSkipTlsVerify: true, caData: "CA" },
    { server: "https://x", bearerToken: "t", username: "u" },
    { server: "https://x", tokenFile: "/t", password: "p" },
    { server: "https://x", qps: 5, burst: 0 },
    { server: "https://x", timeoutMs: -1 },
    { server: "https://x", impersonate: { user: "", groups: ["g"] } },
    { server: "https://x", exec: { command: "", apiVersion: "client.authentication.k8s.io/v1" } },
    { server: "https://x", exec: { command: "x", apiVersion: "client.authentication.k8s.io/v1" } },
    { server: "https://x", exec: { command: "x", apiVersion: "v9", interactiveMode: "Never" } },
  ];
  for (const init of bad)
    assert.throws(() => new RestConfig(init), ConfigError, JSON.stringify(init));
});

test("exec: v1beta1 defaults interactiveMode; cluster info mirrors the TLS settings", () => {
  const rc = new RestConfig({
    server: "https://x",
    tlsServerName: "x.internal",
    caData: "CA",
    proxyUrl: "http://p:1",
    disableCompression: true,
    exec: { command: "helper", apiVersion: "client.authentication.k8s.io/v1beta1" },
    execClusterConfig: { audience: "a" },
  });
  assert.equal(rc.exec?.interactiveMode, "IfAvailable");
  assert.deepEqual(rc.exec?.args, []);
  assert.deepEqual(rc.execCluster, {
    server: "https://x",
    tlsServerName: "x.internal",
    insecureSkipTlsVerify: false,
    certificateAuthorityData: Buffer.from("CA"),
    proxyUrl: "http://p:1",
    disableCompression: true,
    config: { audience: "a" },
  });
});

test("impersonation accepts extra as a record or a map", () => {
  const a = new RestConfig({
    server: "https://x",
    impersonate: { user: "jane", extra: { scopes: ["a", "b"] } },
  });
  assert.deepEqual(a.impersonate?.extra, { scopes: ["a", "b"] });
  assert.deepEqual(a.impersonate?.groups, []);
  const b = new RestConfig({
    server: "https://x",
    impersonate: { user: "jane", extra: new Map([["k", ["v"]]]) },
  });
  assert.deepEqual(b.impersonate?.extra, { k: ["v"] });
});
