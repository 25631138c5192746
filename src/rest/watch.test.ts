import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError, DecodeError, isGone, TransportError } from "../core/errors.ts";
import { decodeWatchEvents, type WatchEvent } from "./watch.ts";

async function* chunks(...parts: (string | Buffer)[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield typeof p === "string" ? Buffer.from(p) : p;
}

async function collect<T>(it: AsyncIterable<WatchEvent<T>>): Promise<WatchEvent<T>[]> {
  const out: WatchEvent<T>[] = [];
  for await (const e of it) out.push(e);
  return out;
}

const ev = (type: string, name: string) => JSON.stringify({ type, object: { metadata: { name } } });

test("events split across chunks, several per chunk, and multi-byte characters are decoded", async () => {
  const line1 = ev("ADDED", "a");
  const line2 = ev("MODIFIED", "ü-ñ");
  const bytes2 = Buffer.from(`${line2}\n`);
  const cut = bytes2.indexOf(0xc3) + 1; // split inside a two-byte UTF-8 sequence
  const events = await collect(
    decodeWatchEvents<{ metadata: { name: string } }>(
      chunks(
        `${line1}\n${line1.slice(0, 10)}`,
        `${line1.slice(10)}\n`,
        bytes2.subarray(0, cut),
        bytes2.subarray(cut),
        `${ev("BOOKMARK", "b")}\n\n`,
      ),
    ),
  );
  assert.deepEqual(
    events.map((e) => [e.type, e.object.metadata.name]),
    [
      ["ADDED", "a"],
      ["ADDED", "a"],
      ["MODIFIED", "ü-ñ"],
      ["BOOKMARK", "b"],
    ],
  );
});

test("an ERROR event throws an ApiError with the event's Status", async () => {
  const status = {
    kind: "Status",
    apiVersion: "v1",
    status: "Failure",
    code: 410,
    reason: "Expired",
    message: "too old resource version: 1 (5)",
  };
  const it = decodeWatchEvents(
    chunks(`${ev("ADDED", "a")}\n${JSON.stringify({ type: "ERROR", object: status })}\n`),
  );
  const seen: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const e of it) seen.push(e.type);
    })(),
    (e: unknown) =>
      e instanceof ApiError && e.statusCode === 410 && e.reason === "Expired" && !isGone(e),
  );
  assert.deepEqual(seen, ["ADDED"]);
});

test("malformed JSON is a DecodeError with an excerpt; an unknown type too", async () => {
  await assert.rejects(
    collect(decodeWatchEvents(chunks("{not json}\n"))),
    (e: unknown) => e instanceof DecodeError && e.excerpt === "{not json}",
  );
  await assert.rejects(
    collect(decodeWatchEvents(chunks('{"type":"WHAT","object":{}}\n'))),
    DecodeError,
  );
  await assert.rejects(collect(decodeWatchEvents(chunks('{"type":"ADDED"}\n'))), DecodeError);
});

test("a stream cut in the middle of an event is a TransportError; a complete last line without newline is an event", async () => {
  await assert.rejects(
    collect(decodeWatchEvents(chunks(`${ev("ADDED", "a")}\n{"type":"ADD`))),
    (e: unknown) => e instanceof TransportError && e.code === "ERR_KUBEKIT_TRUNCATED",
  );
  const events = await collect(decodeWatchEvents(chunks(ev("DELETED", "z"))));
  assert.equal(events[0]?.type, "DELETED");
});

test("memory is bounded: an event larger than the limit fails instead of buffering forever", async () => {
  const big = Buffer.alloc(4096, 0x61);
  await assert.rejects(
    collect(decodeWatchEvents(chunks(big, big, big), { maxEventBytes: 10_000 })),
    /larger than 10000 bytes/,
  );
});

test("breaking out of the loop ends the source iteration (the connection is closed)", async () => {
  let finished = false;
  async function* source() {
    try {
      for (let i = 0; ; i++) yield Buffer.from(`${ev("ADDED", String(i))}\n`);
    } finally {
      finished = true;
    }
  }
  for await (const e of decodeWatchEvents(source())) {
    if (e.type === "ADDED") break;
  }
  assert.equal(finished, true);
});
