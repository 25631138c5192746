import assert from "node:assert/strict";
import { test } from "node:test";
import { StreamError } from "./errors.ts";
import {
  decodeCommandOutcome,
  decodeFrame,
  encodeCloseSignal,
  encodeFrame,
  encodeResize,
  PortPrefix,
  portChannels,
  STDIN,
  STDOUT,
} from "./frames.ts";

const isProtocolError = (err: unknown) =>
  err instanceof StreamError && err.code === "ERR_KUBEKIT_STREAM_PROTOCOL";

test("a frame is the channel byte followed by the data, and decodes back", () => {
  const f = encodeFrame(STDOUT, Buffer.from([0, 255, 10]));
  assert.deepEqual([...f], [1, 0, 255, 10]);
  const d = decodeFrame(f);
  assert.equal(d.channel, 1);
  assert.deepEqual([...d.data], [0, 255, 10]);
  assert.deepEqual([...encodeFrame(STDIN, "é")], [0, 0xc3, 0xa9]);
  assert.deepEqual([...encodeFrame(3)], [3], "a frame without data is its channel byte");
  const fromView = decodeFrame(new Uint8Array([9, 1, 2, 3]).subarray(1));
  assert.deepEqual([fromView.channel, ...fromView.data], [1, 2, 3]);
});

test("an empty message and a channel that is not a byte are refused", () => {
  assert.throws(() => decodeFrame(new Uint8Array(0)), isProtocolError);
  assert.throws(() => encodeFrame(256, "x"), RangeError);
  assert.throws(() => encodeFrame(-1, "x"), RangeError);
  assert.throws(() => encodeCloseSignal(1.5), RangeError);
});

test("the v5 close signal is [255, channel]", () => {
  assert.deepEqual([...encodeCloseSignal(STDIN)], [255, 0]);
  assert.deepEqual([...encodeCloseSignal(4)], [255, 4]);
});

test("a resize is client-go's TerminalSize JSON, newline-terminated", () => {
  assert.equal(encodeResize(120, 40).toString(), '{"Width":120,"Height":40}\n');
  assert.throws(() => encodeResize(70000, 1), RangeError);
  assert.throws(() => encodeResize(1, -1), RangeError);
  assert.throws(() => encodeResize(1.5, 1), RangeError);
});

test("the error channel: nothing or Success is exit code 0", () => {
  assert.deepEqual(decodeCommandOutcome(Buffer.alloc(0)), {
    ok: true,
    exitCode: 0,
    status: { status: "Success" },
  });
  const s = decodeCommandOutcome(Buffer.from('{"metadata":{},"status":"Success"}'));
  assert.equal(s.ok && s.exitCode, 0);
});

test("the error channel: NonZeroExitCode carries the exit code in its ExitCode cause", () => {
  // As kube-apiserver's stream translator writes it.
  const text = JSON.stringify({
    metadata: {},
    status: "Failure",
    message: "command terminated with non-zero exit code: command terminated with exit code 42",
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: "42" }] },
  });
  const o = decodeCommandOutcome(Buffer.from(text));
  assert.ok(o.ok);
  assert.equal(o.exitCode, 42);
  assert.equal(o.status.reason, "NonZeroExitCode");
  const other = decodeCommandOutcome(
    Buffer.from(
      '{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"Other","message":"1"},{"reason":"ExitCode","message":"255"}]}}',
    ),
  );
  assert.equal(other.ok && other.exitCode, 255);
});

test("the error channel: any other Failure is the server's error", () => {
  const o = decodeCommandOutcome(
    Buffer.from('{"status":"Failure","reason":"InternalError","code":500,"message":"boom"}'),
  );
  assert.equal(o.ok, false);
  assert.equal(o.status.message, "boom");
});

test("the error channel: what client-go's decoder rejects is a protocol error", () => {
  for (const text of [
    "not json",
    "[1]",
    "null",
    '{"status":"Maybe"}',
    '{"status":"Failure","reason":"NonZeroExitCode"}',
    '{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[]}}',
    '{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"256"}]}}',
    '{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"-1"}]}}',
    '{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"x"}]}}',
  ]) {
    assert.throws(() => decodeCommandOutcome(Buffer.from(text)), isProtocolError, text);
  }
});

test("port n has data channel 2n and error channel 2n+1", () => {
  assert.deepEqual(portChannels(0), { data: 0, error: 1 });
  assert.deepEqual(portChannels(3), { data: 6, error: 7 });
  assert.throws(() => portChannels(128), RangeError);
  assert.throws(() => portChannels(-1), RangeError);
});

test("the port prefix is stripped whether it comes alone, split or joined with data", () => {
  const alone = new PortPrefix(8080);
  assert.equal(alone.push(Buffer.from([0x90, 0x1f])).length, 0);
  assert.ok(alone.done);
  assert.equal(alone.push(Buffer.from("abc")).toString(), "abc");

  const split = new PortPrefix(8080);
  assert.equal(split.push(Buffer.from([0x90])).length, 0);
  assert.equal(split.done, false);
  assert.equal(split.push(Buffer.from([0x1f, 0x41])).toString(), "A");

  const wrong = new PortPrefix(80);
  assert.throws(() => wrong.push(Buffer.from([0x51, 0x00])), isProtocolError);
});
