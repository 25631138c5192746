import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { test } from "node:test";
import { promisify } from "node:util";
import { loadUndiciParts, UNDICI_FILES } from "./transport.ts";

test("undici's parts load from their own files, the same classes as its index exports", async () => {
  const parts = await loadUndiciParts();
  const index = await import("undici");
  assert.equal(parts.Pool, index.Pool);
  assert.equal(typeof parts.request, "function");
  const proxies = await parts.proxies();
  assert.equal(proxies.ProxyAgent, index.ProxyAgent);
  assert.equal(proxies.Socks5ProxyAgent, index.Socks5ProxyAgent);
});

test("an undici without those files is loaded through its index", async () => {
  const parts = await loadUndiciParts({ ...UNDICI_FILES, pool: "undici/lib/no-such-file.js" });
  const index = await import("undici");
  assert.equal(parts.Pool, index.Pool);
  assert.equal(parts.request, index.Dispatcher.prototype.request);
});

test("a request loads neither undici's index nor fetch", async () => {
  // In a fresh process: the test runner itself may have loaded undici's index.
  const script = `
    import { createServer } from "node:http";
    import { createRequire } from "node:module";
    import { createTransport } from "./src/rest/transport.ts";
    const server = createServer((_req, res) => res.end("ok"));
    await new Promise((r) => server.listen(0, "127.0.0.1", r));
    const t = createTransport({ server: "http://127.0.0.1:" + server.address().port });
    const res = await t.dispatch({ method: "GET", path: "/", headers: {} });
    let body = "";
    for await (const chunk of res.body) body += chunk;
    await t.close();
    server.close();
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((f) => f.includes("undici"));
    console.log(JSON.stringify({ body, loaded }));
  `;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--input-type=module", "-e", script],
    { cwd: new URL("../..", import.meta.url).pathname },
  );
  const { body, loaded } = JSON.parse(stdout) as { body: string; loaded: string[] };
  assert.equal(body, "ok");
  const resolve = createRequire(import.meta.url).resolve;
  assert.ok(loaded.includes(resolve(UNDICI_FILES.pool)), "the pool came from its own file");
  assert.ok(!loaded.includes(resolve("undici")), "undici's index was not loaded");
  assert.ok(
    !loaded.some((f) => /[/\\]lib[/\\]web[/\\]/.test(f)),
    "fetch/WebSocket were not loaded",
  );
});
