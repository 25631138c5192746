import assert from "node:assert/strict";
import { test } from "node:test";
import { Api } from "../client/api.ts";
import { RequestBuildError } from "../core/errors.ts";
import { RestClient } from "../rest/client.ts";
import type { HttpRequest, HttpResponse, ResponseBody } from "../rest/http.ts";
import { logQuery, logs, splitLines } from "./logs.ts";

async function* chunks(...parts: (string | number[])[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield typeof p === "string" ? Buffer.from(p) : Uint8Array.from(p);
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test("lines are split wherever chunks break them, characters included", async () => {
  // "é" is 0xc3 0xa9, split across chunks.
  const lines = await all(splitLines(chunks("a\nb", "c\n", [0xc3], [0xa9, 0x0a], "\n", "last")));
  assert.deepEqual(lines, ["a", "bc", "é", "", "last"]);
  assert.deepEqual(await all(splitLines(chunks())), []);
  assert.deepEqual(await all(splitLines(chunks("x\r\n"))), ["x\r"], "only \\n separates lines");
  assert.deepEqual(await all(splitLines(chunks("only\n"))), ["only"]);
});

test("log options become the pods/log query, and what the server refuses is refused first", () => {
  const q = logQuery({
    container: "c",
    follow: true,
    previous: true,
    timestamps: true,
    tailLines: 0,
    limitBytes: 10,
    sinceTime: new Date("2026-01-02T03:04:05Z"),
  });
  assert.deepEqual(Object.fromEntries(q), {
    container: "c",
    follow: "true",
    previous: "true",
    timestamps: "true",
    tailLines: "0",
    limitBytes: "10",
    sinceTime: "2026-01-02T03:04:05.000Z",
  });
  assert.equal(logQuery({ sinceSeconds: 5 }).get("sinceSeconds"), "5");
  assert.equal(logQuery({ follow: false }).toString(), "");
  for (const bad of [
    { tailLines: -1 },
    { limitBytes: 0 },
    { sinceSeconds: 0 },
    { tailLines: 1.5 },
    { sinceSeconds: 1, sinceTime: "2026-01-01T00:00:00Z" },
    { sinceTime: "yesterday" },
  ]) {
    assert.throws(() => logQuery(bad), RequestBuildError, JSON.stringify(bad));
  }
});

/** A RestClient whose transport answers every request with `chunks` and records it. */
function fakeRest(parts: string[]): {
  rest: RestClient;
  requests: HttpRequest[];
  closed: () => boolean;
} {
  const requests: HttpRequest[] = [];
  let closed = false;
  const rest = new RestClient({
    server: "https://example.invalid",
    qps: -1,
    transport: {
      async dispatch(req): Promise<HttpResponse> {
        requests.push(req);
        const source = (async function* () {
          try {
            for (const p of parts) yield Buffer.from(p);
          } finally {
            closed = true;
          }
        })();
        const body: ResponseBody = {
          [Symbol.asyncIterator]: () => source,
          bytes: async () => Buffer.concat(await all(source)),
          text: async () => Buffer.concat(await all(source)).toString(),
          dump: async () => {
            await source.return(undefined);
          },
        };
        return { status: 200, headers: {}, body };
      },
      async close() {},
    },
  });
  return { rest, requests, closed: () => closed };
}

const podsRef = { group: "", version: "v1", plural: "pods", namespaced: true } as const;

test("logs() sends nothing until read, then GETs pods/log and yields lines", async () => {
  const { rest, requests } = fakeRest(["one\ntw", "o\n"]);
  const pods = new Api({ rest, defaultNamespace: "default" }, podsRef, "ns1");
  const stream = logs(pods as never, "p", { container: "c", tailLines: 2 });
  assert.equal(requests.length, 0);
  assert.deepEqual(await all(stream), ["one", "two"]);
  assert.equal(requests.length, 1);
  assert.equal(requests[0]!.method, "GET");
  assert.equal(requests[0]!.path, "/api/v1/namespaces/ns1/pods/p/log?container=c&tailLines=2");
  assert.equal(requests[0]!.headers.accept, "*/*");
  await assert.rejects(all(stream), TypeError, "a stream is read once");
});

test("break closes the response body", async () => {
  const { rest, closed } = fakeRest(["a\n", "b\n", "c\n"]);
  const pods = new Api({ rest, defaultNamespace: "default" }, podsRef, "ns1");
  for await (const line of logs(pods as never, "p")) {
    assert.equal(line, "a");
    break;
  }
  assert.ok(closed());
});

test("a pods Api needs a namespace; an Api of another resource is refused", () => {
  const { rest } = fakeRest([]);
  const noNs = new Api({ rest, defaultNamespace: "default" }, podsRef);
  assert.throws(() => logs(noNs as never, "p"), RequestBuildError);
  assert.doesNotThrow(() => logs(noNs as never, "p", { namespace: "x" }));
  const cms = new Api({ rest, defaultNamespace: "d" }, { ...podsRef, plural: "configmaps" }, "n");
  assert.throws(() => logs(cms as never, "p"), RequestBuildError);
  const inA = new Api({ rest, defaultNamespace: "d" }, podsRef, "a");
  assert.throws(() => logs(inA as never, "p", { namespace: "b" }), RequestBuildError);
});
