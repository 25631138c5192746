/**
 * RestClient against a fault server on loopback: each misbehaviour gives the documented error or
 * recovery, and nothing is left open afterwards.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { after, before, test } from "node:test";
import {
  ApiError,
  DecodeError,
  isConflict,
  isInternalError,
  isNotFound,
  isServiceUnavailable,
  isTooManyRequests,
  TimeoutError,
  TransportError,
} from "../core/errors.ts";
import { defaultUserAgent, KUBEKIT_VERSION, RestClient } from "./client.ts";
import { createTransport } from "./transport.ts";

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
const routes = new Map<string, Handler>();
const hits = new Map<string, number>();
const sockets = new Set<Socket>();
let server: Server;
let base: string;

before(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      const path = (req.url ?? "").split("?")[0]!;
      hits.set(path, (hits.get(path) ?? 0) + 1);
      const h = routes.get(path);
      if (!h) {
        res.writeHead(599).end();
        return;
      }
      h(req, res, body);
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});

function client(extra: Partial<ConstructorParameters<typeof RestClient>[0]> = {}): RestClient {
  return new RestClient({ server: base, qps: -1, warningHandler: () => {}, ...extra });
}

const status = (code: number, reason: string, message: string, extra: object = {}) =>
  JSON.stringify({
    kind: "Status",
    apiVersion: "v1",
    status: "Failure",
    code,
    reason,
    message,
    ...extra,
  });

test("JSON answers are parsed; requests carry the user agent, accept and content type", async () => {
  let seen: IncomingMessage | undefined;
  let sent = "";
  routes.set("/ok", (req, res, body) => {
    seen = req;
    sent = body;
    res
      .writeHead(200, { "content-type": "application/json" })
      .end('{"kind":"ConfigMap","data":{"a":"1"}}');
  });
  const c = client();
  const out = await c.json<{ data: { a: string } }>({
    method: "POST",
    path: "/ok",
    query: { dryRun: "All", x: undefined },
    body: '{"x":1}',
  });
  assert.equal(out.data.a, "1");
  assert.equal(seen?.url, "/ok?dryRun=All");
  assert.equal(seen?.headers["user-agent"], defaultUserAgent());
  assert.match(
    defaultUserAgent(),
    new RegExp(
      `^kubekit/${KUBEKIT_VERSION.replace(/\./g, "\\.")} \\(${process.platform}/${process.arch}\\) node/v`,
    ),
  );
  assert.equal(seen?.headers.accept, "application/json");
  assert.equal(seen?.headers["content-type"], "application/json");
  assert.equal(sent, '{"x":1}');
  await c.close();
});

test("KUBEKIT_VERSION is the package's version", () => {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
  assert.equal(KUBEKIT_VERSION, pkg.version);
});

test("a Status body becomes an ApiError with reason, details and causes", async () => {
  routes.set("/missing", (_q, res) =>
    res.writeHead(404).end(
      status(404, "NotFound", 'configmaps "x" not found', {
        details: { name: "x", kind: "configmaps" },
      }),
    ),
  );
  routes.set("/invalid", (_q, res) =>
    res.writeHead(422).end(
      status(422, "Invalid", "bad", {
        details: {
          causes: [{ reason: "FieldValueRequired", field: "spec.x", message: "Required value" }],
        },
      }),
    ),
  );
  routes.set("/conflict", (_q, res) =>
    res.writeHead(409).end(status(409, "Conflict", "the object has been modified")),
  );
  const c = client();
  await assert.rejects(
    c.json({ method: "GET", path: "/missing" }),
    (e) => isNotFound(e) && (e as ApiError).details?.name === "x",
  );
  await assert.rejects(
    c.json({ method: "PUT", path: "/conflict", body: "{}" }),
    (e) =>
      isConflict(e) &&
      /PUT \/conflict: the object has been modified \(409 Conflict\)/.test((e as Error).message),
  );
  await assert.rejects(
    c.json({ method: "POST", path: "/invalid", body: "{}" }),
    (e) => e instanceof ApiError && e.causes[0]?.field === "spec.x",
  );
  await c.close();
});

test("an HTML error page or an empty body still gives an ApiError with the code and an excerpt", async () => {
  routes.set("/html", (_q, res) =>
    res
      .writeHead(502, { "content-type": "text/html" })
      .end("<html><body><h1>502 Bad Gateway</h1>\n<p>nginx</p></body></html>"),
  );
  routes.set("/empty", (_q, res) => res.writeHead(500).end());
  const c = client({ maxRetries: 0 });
  await assert.rejects(
    c.json({ method: "GET", path: "/html" }),
    (e) =>
      e instanceof ApiError && e.statusCode === 502 && e.body?.includes("502 Bad Gateway") === true,
  );
  await assert.rejects(
    c.json({ method: "GET", path: "/empty" }),
    (e) => isInternalError(e) && (e as ApiError).body === undefined,
  );
  await c.close();
});

test("429 with Retry-After is retried, then succeeds", async () => {
  let n = 0;
  routes.set("/busy", (_q, res) => {
    if (n++ === 0)
      res
        .writeHead(429, { "retry-after": "1" })
        .end(status(429, "TooManyRequests", "slow down", { details: { retryAfterSeconds: 1 } }));
    else res.writeHead(200).end("{}");
  });
  const c = client();
  const t0 = Date.now();
  assert.deepEqual(await c.json({ method: "GET", path: "/busy" }), {});
  assert.ok(Date.now() - t0 >= 900, "waited for Retry-After");
  assert.equal(n, 2);
  await c.close();
});

test("503s until the retry budget runs out: the error says how many attempts were made", async () => {
  routes.set("/down", (_q, res) =>
    res.writeHead(503, { "retry-after": "0" }).end(status(503, "ServiceUnavailable", "try later")),
  );
  hits.delete("/down");
  const c = client({ maxRetries: 3 });
  await assert.rejects(
    c.json({ method: "GET", path: "/down" }),
    (e) => isServiceUnavailable(e) && /after 4 attempts/.test((e as Error).message),
  );
  assert.equal(hits.get("/down"), 4);
  const noRetry = client({ maxRetries: 3 });
  routes.set("/slowdown", (_q, res) =>
    res.writeHead(429).end(status(429, "TooManyRequests", "no header")),
  );
  hits.delete("/slowdown");
  await assert.rejects(noRetry.json({ method: "GET", path: "/slowdown" }), isTooManyRequests);
  assert.equal(hits.get("/slowdown"), 1, "no Retry-After, no retry");
  await c.close();
  await noRetry.close();
});

test("a connection reset mid-body is a TransportError; a GET reset before the answer is retried", async () => {
  routes.set("/reset-body", (req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": "1000" });
    res.write('{"items":[');
    setTimeout(() => req.socket.destroy(), 20);
  });
  let n = 0;
  routes.set("/reset-first", (req, res) => {
    if (n++ === 0) req.socket.destroy();
    else res.writeHead(200).end('{"ok":true}');
  });
  const c = client();
  await assert.rejects(c.json({ method: "GET", path: "/reset-body" }), TransportError);
  assert.deepEqual(await c.json({ method: "GET", path: "/reset-first" }), { ok: true });
  assert.equal(n, 2);
  await c.close();
});

test("malformed JSON is a DecodeError with an excerpt", async () => {
  routes.set("/garbage", (_q, res) => res.writeHead(200).end("{this is not json"));
  const c = client();
  await assert.rejects(
    c.json({ method: "GET", path: "/garbage" }),
    (e) => e instanceof DecodeError && e.excerpt === "{this is not json",
  );
  await c.close();
});

test("timeoutMs bounds a slow server, and an abort rejects at once with the signal's reason", async () => {
  routes.set("/slow", (_q, res) => {
    const t = setTimeout(() => res.writeHead(200).end("{}"), 5000);
    res.on("close", () => clearTimeout(t));
  });
  const c = client();
  await assert.rejects(
    c.json({ method: "GET", path: "/slow" }, { timeoutMs: 100 }),
    (e) => e instanceof TimeoutError && e.timeoutMs === 100,
  );
  const ac = new AbortController();
  const reason = new Error("user cancelled");
  const p = c.json({ method: "GET", path: "/slow" }, { signal: ac.signal });
  setTimeout(() => ac.abort(reason), 50);
  await assert.rejects(p, (e) => e === reason);
  await assert.rejects(
    c.json({ method: "GET", path: "/slow" }, { signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
  await c.close();
});

test("Warning headers reach the handler", async () => {
  routes.set("/warn", (_q, res) =>
    res.writeHead(200, { warning: '299 - "v1beta1 is deprecated"' }).end("{}"),
  );
  const got: string[] = [];
  const c = client({ warningHandler: (w) => got.push(w.text) });
  await c.json({ method: "GET", path: "/warn" });
  assert.deepEqual(got, ["v1beta1 is deprecated"]);
  await c.close();
});

const line = (type: string, name: string, rv: string) =>
  `${JSON.stringify({ type, object: { metadata: { name, resourceVersion: rv } } })}\n`;

test("a watch yields events as they arrive and break closes the connection", async () => {
  let closed = false;
  routes.set("/watch", (_q, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.write(line("ADDED", "a", "1"));
    const t = setInterval(() => res.write(line("MODIFIED", "a", "2")), 20);
    res.on("close", () => {
      clearInterval(t);
      closed = true;
    });
  });
  const c = client();
  const seen: string[] = [];
  for await (const ev of c.watch<{ metadata: { name: string } }>({
    method: "GET",
    path: "/watch",
    query: { watch: "1" },
  })) {
    seen.push(ev.type);
    if (seen.length === 3) break;
  }
  assert.deepEqual(seen, ["ADDED", "MODIFIED", "MODIFIED"]);
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(closed, "the server saw the connection close");
  await c.close();
});

test("a watch that stalls is ended with ERR_KUBEKIT_WATCH_STALLED; no fixed limit cuts a live one", async () => {
  routes.set("/stall", (_q, res) => {
    res.writeHead(200);
    res.write(line("ADDED", "a", "1"));
  });
  const c = client({ timeoutMs: 100 });
  const seen: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const ev of c.watch({ method: "GET", path: "/stall" }, { stallTimeoutMs: 200 }))
        seen.push(ev.type);
    })(),
    (e) => e instanceof TimeoutError && e.code === "ERR_KUBEKIT_WATCH_STALLED",
  );
  assert.deepEqual(seen, ["ADDED"]);
  // A watch that keeps talking outlives both the client timeout (100 ms) and the stall timeout.
  routes.set("/live", (_q, res) => {
    res.writeHead(200);
    let i = 0;
    const t = setInterval(() => {
      res.write(line("MODIFIED", "a", String(++i)));
      if (i === 8) {
        clearInterval(t);
        res.end();
      }
    }, 60);
    res.on("close", () => clearInterval(t));
  });
  let n = 0;
  for await (const _ of c.watch({ method: "GET", path: "/live" }, { stallTimeoutMs: 200 })) n++;
  assert.equal(n, 8, "ran for ~480 ms and ended when the server closed it");
  await c.close();
});

test("an ERROR event in a watch is thrown as an ApiError; a cut stream as a TransportError", async () => {
  routes.set("/gone", (_q, res) => {
    res.writeHead(200);
    res.end(
      `${line("ADDED", "a", "1")}${JSON.stringify({ type: "ERROR", object: JSON.parse(status(410, "Expired", "too old resource version")) })}\n`,
    );
  });
  routes.set("/cut", (req, res) => {
    res.writeHead(200);
    res.write(`${line("ADDED", "a", "1")}{"type":"MODIFIED","obj`);
    setTimeout(() => req.socket.destroy(), 20);
  });
  const c = client();
  await assert.rejects(
    (async () => {
      for await (const _ of c.watch({ method: "GET", path: "/gone" }));
    })(),
    (e) => e instanceof ApiError && e.statusCode === 410 && e.reason === "Expired",
  );
  await assert.rejects(
    (async () => {
      for await (const _ of c.watch({ method: "GET", path: "/cut" }));
    })(),
    TransportError,
  );
  await c.close();
});

test("pagination follows continue tokens; an expired token falls back to one full list", async () => {
  const items = Array.from({ length: 7 }, (_, i) => ({ metadata: { name: `o${i}` } }));
  const queries: string[] = [];
  let expire = false;
  routes.set("/list", (req, res) => {
    const q = new URL(req.url!, "http://x").searchParams;
    queries.push(q.toString());
    const limit = Number(q.get("limit") ?? 0);
    const start = Number(q.get("continue") ?? 0);
    if (expire && start > 0) {
      res.writeHead(410).end(status(410, "Expired", "The provided continue parameter is too old"));
      return;
    }
    const end = limit ? Math.min(items.length, start + limit) : items.length;
    res.writeHead(200).end(
      JSON.stringify({
        kind: "List",
        metadata: {
          resourceVersion: "9",
          continue: end < items.length ? String(end) : undefined,
        },
        items: items.slice(start, end),
      }),
    );
  });
  const c = client();
  const names: string[] = [];
  for await (const it of c.listAll<{ metadata: { name: string } }>(
    { method: "GET", path: "/list", query: { resourceVersion: "5", labelSelector: "a=b" } },
    { limit: 3 },
  ))
    names.push(it.metadata.name);
  assert.deepEqual(
    names,
    items.map((i) => i.metadata.name),
  );
  assert.deepEqual(queries, [
    "resourceVersion=5&labelSelector=a%3Db&limit=3",
    "labelSelector=a%3Db&limit=3&continue=3",
    "labelSelector=a%3Db&limit=3&continue=6",
  ]);
  expire = true;
  queries.length = 0;
  const pages = [];
  for await (const p of c.listPages(
    { method: "GET", path: "/list", query: { resourceVersion: "5" } },
    { limit: 3 },
  ))
    pages.push(p);
  assert.deepEqual(
    pages.map((p) => [p.items.length, p.restarted]),
    [
      [3, false],
      [7, true],
    ],
  );
  assert.deepEqual(queries, [
    "resourceVersion=5&limit=3",
    "limit=3&continue=3",
    "resourceVersion=5",
  ]);
  const again: string[] = [];
  for await (const it of c.listAll<{ metadata: { name: string } }>(
    { method: "GET", path: "/list" },
    { limit: 3 },
  ))
    again.push(it.metadata.name);
  assert.deepEqual(
    again,
    items.map((i) => i.metadata.name),
    "no item twice after the fallback",
  );
  await c.close();
});

test("nothing leaks: no sockets, timers or handles are left once the clients are closed", async () => {
  await new Promise((r) => setTimeout(r, 100));
  const leftovers = process
    .getActiveResourcesInfo()
    .filter((r) => r !== "TCPServerWrap" && r !== "TTYWrap" && r !== "PipeWrap");
  // Server-side sockets of this file's server are closed by the after() hook; client sockets must be gone.
  const clientSockets = [...sockets].filter((s) => !s.destroyed);
  assert.deepEqual(clientSockets.length, 0, `open connections: ${clientSockets.length}`);
  assert.ok(!leftovers.includes("Timeout"), `timers left: ${leftovers.join(", ")}`);
});

test("withRateLimit: its own limiter, the same headers and transport; closing it keeps the parent's open", async () => {
  const agents: (string | undefined)[] = [];
  routes.set("/limited", (req, res) => {
    agents.push(req.headers["user-agent"]);
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
  const real = createTransport({ server: base });
  let dispatched = 0;
  let closed = 0;
  const parent = client({
    qps: 5,
    burst: 1,
    userAgent: "parent/1",
    transport: {
      dispatch: (req) => {
        dispatched++;
        return real.dispatch(req);
      },
      close: async (o) => {
        closed++;
        await real.close(o);
      },
    },
  });
  const child = parent.withRateLimit({ qps: 5, burst: 300 });
  assert.deepEqual([child.rateLimiter?.qps, child.rateLimiter?.burst], [5, 300]);
  assert.equal(parent.rateLimiter?.burst, 1);
  assert.equal(parent.withRateLimit({ qps: -1 }).rateLimiter, undefined);
  for (let i = 0; i < 5; i++) await child.json({ method: "GET", path: "/limited" });
  await child.close();
  assert.equal(closed, 0);
  await parent.json({ method: "GET", path: "/limited" });
  assert.deepEqual(agents, Array(6).fill("parent/1"));
  assert.equal(dispatched, 6);
  await parent.close();
  assert.equal(closed, 1);
});
