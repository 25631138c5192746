import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { test } from "node:test";
import { promisify } from "node:util";
import { loadWebSocket, UNDICI_WEBSOCKET_FILE } from "./websocket.ts";

test("undici's WebSocket and ping load from its own file, what its index exports", async () => {
  createRequire(import.meta.url).resolve(UNDICI_WEBSOCKET_FILE);
  const { WebSocket, ping } = await loadWebSocket();
  const index = await import("undici");
  assert.equal(WebSocket, index.WebSocket);
  assert.equal(ping, index.ping);
});

test("an undici without that file is loaded through its index", async () => {
  const { WebSocket, ping } = await loadWebSocket("undici/lib/no-such-file.js");
  const index = await import("undici");
  assert.equal(WebSocket, index.WebSocket);
  assert.equal(ping, index.ping);
});

test("loading the WebSocket does not load undici's index", async () => {
  // In a fresh process: the test runner itself may have loaded undici's index.
  const script = `
    import { createRequire } from "node:module";
    import { loadWebSocket } from "./src/streams/websocket.ts";
    const { WebSocket } = await loadWebSocket();
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((f) => f.includes("undici"));
    console.log(JSON.stringify({ ok: typeof WebSocket === "function", loaded }));
  `;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--input-type=module", "-e", script],
    { cwd: new URL("../..", import.meta.url).pathname },
  );
  const { ok, loaded } = JSON.parse(stdout) as { ok: boolean; loaded: string[] };
  assert.ok(ok);
  assert.ok(loaded.some((f) => f.endsWith("websocket/websocket.js")));
  assert.ok(!loaded.some((f) => /undici\/index\.js$/.test(f)), loaded.join("\n"));
});
