import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualClock } from "../core/clock.ts";
import { TransportError } from "../core/errors.ts";
import { compose, type Dispatch, type HttpRequest, type HttpResponse } from "./http.ts";
import {
  attemptsOf,
  dedupingWarningWriter,
  metrics,
  parseWarnings,
  type RequestMetrics,
  rateLimit,
  retry,
  type Warning,
  warnings,
} from "./interceptors.ts";
import { curlCommand, debugLog, redactBody, redactHeaders } from "./log.ts";
import { TokenBucket } from "./ratelimit.ts";

function response(
  status: number,
  headers: Record<string, string | string[]> = {},
  body = "",
): HttpResponse {
  const buf = Buffer.from(body);
  return {
    status,
    headers,
    body: {
      async *[Symbol.asyncIterator]() {
        yield buf;
      },
      bytes: async () => buf,
      text: async () => body,
      dump: async () => {},
    },
  };
}

const get = (extra: Partial<HttpRequest> = {}): HttpRequest => ({
  method: "GET",
  path: "/api/v1/pods",
  headers: {},
  ...extra,
});

function scripted(steps: (HttpResponse | Error)[]): Dispatch & { calls: number } {
  const d = (async () => {
    const step = steps[Math.min(d.calls++, steps.length - 1)]!;
    if (step instanceof Error) throw step;
    return step;
  }) as unknown as Dispatch & { calls: number };
  d.calls = 0;
  return d;
}

const reset = () =>
  new TransportError("GET /x: connection lost", {
    cause: Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }),
  });

test("429 with Retry-After is retried after the given seconds, then succeeds", async () => {
  const clock = new ManualClock();
  const inner = scripted([response(429, { "retry-after": "2" }), response(200)]);
  const d = compose(inner, [retry({ clock })]);
  const p = d(get());
  await clock.advance(1999);
  assert.equal(inner.calls, 1);
  await clock.advance(1);
  const res = await p;
  assert.equal(res.status, 200);
  assert.equal(inner.calls, 2);
  assert.deepEqual(attemptsOf(res), { attempts: 2, previous: ["429 with Retry-After 2s"] });
});

test("5xx without Retry-After, or with an HTTP-date, is not retried", async () => {
  for (const headers of [{}, { "retry-after": "Wed, 21 Oct 2015 07:28:00 GMT" }] as Record<
    string,
    string
  >[]) {
    const inner = scripted([response(503, headers), response(200)]);
    const res = await compose(inner, [retry({ clock: new ManualClock() })])(get());
    assert.equal(res.status, 503);
    assert.equal(inner.calls, 1);
  }
});

test("retries stop at maxRetries and the last response tells about every attempt", async () => {
  const clock = new ManualClock();
  const inner = scripted([response(503, { "retry-after": "1" })]);
  const p = compose(inner, [retry({ clock, maxRetries: 3 })])(get({ method: "POST", body: "{}" }));
  for (let i = 0; i < 5; i++) await clock.advance(1000);
  const res = await p;
  assert.equal(res.status, 503);
  assert.equal(inner.calls, 4);
  assert.equal(attemptsOf(res)?.attempts, 4);
  assert.equal(attemptsOf(res)?.previous.length, 3);
});

test("a lost connection is retried for GET only", async () => {
  const clock = new ManualClock();
  const inner = scripted([reset(), response(200)]);
  const p = compose(inner, [retry({ clock })])(get());
  await clock.advance(1000);
  assert.equal((await p).status, 200);
  const post = scripted([reset(), response(200)]);
  await assert.rejects(compose(post, [retry({ clock })])(get({ method: "POST" })), TransportError);
  assert.equal(post.calls, 1);
});

test("an abort during the retry wait rejects with the signal's reason and leaves no timer", async () => {
  const clock = new ManualClock();
  const ac = new AbortController();
  const inner = scripted([response(429, { "retry-after": "30" })]);
  const p = compose(inner, [retry({ clock })])(get({ signal: ac.signal }));
  await clock.advance(10);
  const reason = new Error("cancelled");
  ac.abort(reason);
  await assert.rejects(p, (e) => e === reason);
  assert.equal(clock.pending, 0);
});

test("each retry waits for the rate limiter again; a stream's first attempt does not", async () => {
  const clock = new ManualClock();
  const bucket = new TokenBucket({ qps: 1, burst: 1, clock });
  const inner = scripted([response(429, { "retry-after": "0" }), response(200)]);
  const d = compose(inner, [retry({ clock }), rateLimit(bucket)]);
  const p = d(get());
  await clock.advance(0);
  assert.equal(inner.calls, 1, "first attempt took the only token");
  await clock.advance(999);
  assert.equal(inner.calls, 1, "the retry is waiting for a token");
  await clock.advance(1);
  assert.equal((await p).status, 200);
  assert.equal(inner.calls, 2);
  const streamed = scripted([response(200)]);
  const logs: string[] = [];
  await compose(streamed, [rateLimit(bucket, (l) => logs.push(l))])(get({ stream: true }));
  assert.equal(streamed.calls, 1, "not throttled although the bucket is empty");
});

test("a long client-side wait is logged with client-go's reason", async () => {
  const clock = new ManualClock();
  const bucket = new TokenBucket({ qps: 0.5, burst: 1, clock });
  const logs: string[] = [];
  const d = compose(scripted([response(200)]), [rateLimit(bucket, (l) => logs.push(l))]);
  await d(get());
  const p = d(get());
  await clock.advance(2000);
  await p;
  assert.equal(logs.length, 1);
  assert.match(
    logs[0]!,
    /^Waited for 2\.00s due to client-side throttling, not priority and fairness, request: GET:\/api\/v1\/pods$/,
  );
});

test("Warning headers are parsed and handed to the handler; the default prints each text once", async () => {
  assert.deepEqual(parseWarnings(['299 - "deprecated: use v2", 299 - "second \\"one\\""']), [
    { code: 299, agent: "-", text: "deprecated: use v2" },
    { code: 299, agent: "-", text: 'second "one"' },
  ]);
  assert.deepEqual(parseWarnings(["garbage"]), []);
  const got: Warning[] = [];
  await compose(scripted([response(200, { warning: ['299 - "a"', '299 - "b"'] })]), [
    warnings((w) => got.push(w)),
  ])(get());
  assert.deepEqual(
    got.map((w) => w.text),
    ["a", "b"],
  );
  const lines: string[] = [];
  const h = dedupingWarningWriter((l) => lines.push(l));
  for (const t of ["x", "y", "x"])
    h({ code: 299, agent: "-", text: t }, { method: "GET", path: "/" });
  assert.deepEqual(lines, ["Warning: x", "Warning: y"]);
});

test("metrics see one request with its attempts, latency and status; a failing hook changes nothing", async () => {
  const clock = new ManualClock();
  const seen: RequestMetrics[] = [];
  const inner = scripted([response(429, { "retry-after": "1" }), response(201)]);
  const d = compose(inner, [metrics((m) => seen.push(m), clock), retry({ clock })]);
  const p = d(get({ path: "/api/v1/pods?limit=1" }));
  await clock.advance(1000);
  assert.equal((await p).status, 201);
  assert.deepEqual(seen, [
    {
      method: "GET",
      path: "/api/v1/pods",
      status: 201,
      latencyMs: 1000,
      attempts: 2,
      rateLimitWaitMs: 0,
    },
  ]);
  const throwing = compose(scripted([response(200)]), [
    metrics(() => {
      throw new Error("hook bug");
    }),
  ]);
  assert.equal((await throwing(get())).status, 200);
});

test("debug logging redacts credentials in headers, bodies and the curl command", async () => {
  const token = "s3cr3t-token-value";
  assert.deepEqual(redactHeaders({ authorization: `Bearer ${token}`, accept: "x" }), {
    authorization: "Bearer <masked>",
    accept: "x",
  });
  const body = redactBody(
    JSON.stringify({ kind: "Secret", data: { password: "cGFzcw==" }, status: { token } }),
  );
  assert.ok(!body.includes(token) && !body.includes("cGFzcw=="), body);
  const curl = curlCommand(
    "POST",
    "https://h/x",
    { authorization: `Bearer ${token}` },
    JSON.stringify({ spec: { password: token } }),
  );
  assert.ok(!curl.includes(token), curl);
  const lines: string[] = [];
  const d = compose(
    scripted([response(200, { "set-cookie": "a=b" }, JSON.stringify({ status: { token } }))]),
    [
      debugLog({
        level: 9,
        server: "https://h",
        sink: (l) => lines.push(l),
        clock: new ManualClock(),
      }),
    ],
  );
  const res = await d(get({ headers: { authorization: `Bearer ${token}` } }));
  assert.equal(
    JSON.parse(await res.body.text()).status.token,
    token,
    "the caller still gets the real body",
  );
  const all = lines.join("\n");
  assert.ok(!all.includes(token), all);
  assert.match(all, /GET https:\/\/h\/api\/v1\/pods 200 in 0 milliseconds/);
  assert.match(all, /^curl -v -X GET/m);
});
