import assert from "node:assert/strict";
import { test } from "node:test";
import { RestConfig } from "../config/rest-config.ts";
import { RestClient } from "./client.ts";
import { restClientFromConfig } from "./config.ts";
import { loadUndiciParts } from "./transport.ts";
import { upgradeDispatcher } from "./upgrade.ts";

test("a client's upgrade settings carry its TLS, credentials, User-Agent and impersonation", async () => {
  const config = new RestConfig({
    server: "https://k8s.example:6443/prefix",
    caData: "CA",
    tlsServerName: "api.internal",
    bearerToken: "secret-token",
    userAgent: "me/1",
    impersonate: { user: "jane", groups: ["a", "b"], extra: { scopes: ["x"] } },
  });
  const rest = restClientFromConfig(config, { env: {} });
  const s = rest.upgradeSettings()!;
  assert.equal(s.server, "https://k8s.example:6443/prefix");
  assert.equal(String(s.ca), "CA");
  assert.equal(s.tlsServerName, "api.internal");
  assert.equal(s.proxyUrl, undefined);
  assert.deepEqual(s.headers, {
    "user-agent": "me/1",
    "impersonate-user": "jane",
    "impersonate-group": ["a", "b"],
    "impersonate-extra-scopes": "x",
  });
  assert.equal((await s.credentials!.credentials()).authorization, "Bearer secret-token");
  assert.ok(!JSON.stringify(s.headers).includes("secret-token"));
  // A sibling with its own rate limit connects the same way.
  assert.deepEqual(rest.withRateLimit({ qps: 1, burst: 300 }).upgradeSettings(), s);
});

test("the proxy comes from the config, else from the environment, as for requests", () => {
  const direct = new RestConfig({ server: "https://k8s.example" });
  const proxyOf = (config: RestConfig, env: NodeJS.ProcessEnv) =>
    restClientFromConfig(config, { env }).upgradeSettings()?.proxyUrl;
  assert.equal(proxyOf(direct, {}), undefined);
  assert.equal(proxyOf(direct, { HTTPS_PROXY: "http://proxy:3128" }), "http://proxy:3128/");
  assert.equal(
    proxyOf(direct, { HTTPS_PROXY: "http://proxy:3128", NO_PROXY: "k8s.example" }),
    undefined,
  );
  const explicit = new RestConfig({ server: "https://k8s.example", proxyUrl: "socks5://s:1080" });
  assert.equal(proxyOf(explicit, {}), "socks5://s:1080");
  assert.equal(restClientFromConfig(direct, { env: {} }).upgradeSettings()?.credentials, undefined);
});

test("a client on a transport of its own has no upgrade settings", () => {
  const fake = new RestClient({
    server: "https://a.example",
    transport: { dispatch: async () => assert.fail("no request"), close: async () => {} },
  });
  assert.equal(fake.upgradeSettings(), undefined);
});

test("the dispatcher is a pool for the server, or a proxy agent when a proxy applies", async () => {
  const { Pool, proxies } = await loadUndiciParts();
  const { ProxyAgent, Socks5ProxyAgent } = await proxies();
  const pool = await upgradeDispatcher({ server: "https://k8s.example", headers: {} });
  assert.ok(pool instanceof Pool);
  const http = await upgradeDispatcher({
    server: "https://k8s.example",
    proxyUrl: "http://proxy:3128",
    headers: {},
  });
  assert.ok(http instanceof ProxyAgent);
  const socks = await upgradeDispatcher({
    server: "https://k8s.example",
    proxyUrl: "socks5h://proxy:1080",
    headers: {},
  });
  assert.ok(socks instanceof Socks5ProxyAgent);
  await Promise.all([pool.destroy(), http.destroy(), socks.destroy()]);
});
