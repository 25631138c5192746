import assert from "node:assert/strict";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { readAll, responseBody } from "./http.ts";

const text = JSON.stringify({
  items: Array.from({ length: 3000 }, (_, i) => ({ name: `cm-${i}`, v: "x".repeat(200) })),
});
const gz = gzipSync(text);

/** A body as undici gives it: chunks, and (optionally) its own bytes() fast path. */
function source(data: Buffer, withBytes: boolean) {
  const chunks = () => {
    const out: Buffer[] = [];
    for (let i = 0; i < data.length; i += 1000) out.push(data.subarray(i, i + 1000));
    return out;
  };
  return {
    async *[Symbol.asyncIterator]() {
      yield* chunks();
    },
    ...(withBytes ? { bytes: async () => new Uint8Array(Buffer.concat(chunks())) } : {}),
    destroy() {},
  };
}

test("a gzip body reads whole (bytes, text) or as a stream, with or without the source's bytes()", async () => {
  for (const withBytes of [true, false]) {
    assert.equal(await responseBody(source(gz, withBytes), "gzip").text(), text);
    assert.equal(
      (await responseBody(source(gz, withBytes), "gzip").bytes()).toString("utf8"),
      text,
    );
    assert.equal((await readAll(responseBody(source(gz, withBytes), "gzip"))).toString(), text);
  }
  assert.equal(await responseBody(source(Buffer.from(text), true), undefined).text(), text);
});

test("a corrupt or truncated gzip body rejects instead of hanging", async () => {
  const corrupt = Buffer.from(gz);
  corrupt.fill(7, 20, 60);
  await assert.rejects(responseBody(source(corrupt, true), "gzip").text());
  await assert.rejects(responseBody(source(gz.subarray(0, gz.length / 2), false), "gzip").bytes());
  await assert.rejects(readAll(responseBody(source(corrupt, false), "gzip")));
});
