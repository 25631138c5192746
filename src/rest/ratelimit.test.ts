import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualClock } from "../core/clock.ts";
import { TokenBucket } from "./ratelimit.ts";

test("the bucket starts full: burst requests pass at once, then qps paces the rest in order", async () => {
  const clock = new ManualClock();
  const tb = new TokenBucket({ qps: 5, burst: 2, clock });
  assert.equal(await tb.acquire(), 0);
  assert.equal(await tb.acquire(), 0);
  const done: number[] = [];
  const waits = [0, 1, 2].map((i) => tb.acquire().then((w) => done.push(i) && w));
  await clock.advance(199);
  assert.deepEqual(done, []);
  await clock.advance(1);
  assert.deepEqual(done, [0]);
  await clock.advance(200);
  assert.deepEqual(done, [0, 1]);
  await clock.advance(200);
  assert.deepEqual(done, [0, 1, 2]);
  assert.deepEqual(await Promise.all(waits), [200, 400, 600]);
});

test("tokens refill up to burst only", async () => {
  const clock = new ManualClock();
  const tb = new TokenBucket({ qps: 10, burst: 3, clock });
  for (let i = 0; i < 3; i++) assert.ok(tb.tryAcquire());
  assert.ok(!tb.tryAcquire());
  await clock.advance(10_000);
  for (let i = 0; i < 3; i++) assert.ok(tb.tryAcquire());
  assert.ok(!tb.tryAcquire());
});

test("an aborted wait rejects with the signal's reason and gives its reservation back", async () => {
  const clock = new ManualClock();
  const tb = new TokenBucket({ qps: 1, burst: 1, clock });
  await tb.acquire();
  const ac = new AbortController();
  const waiting = tb.acquire(ac.signal);
  const reason = new Error("stop");
  ac.abort(reason);
  await assert.rejects(waiting, (e) => e === reason);
  assert.equal(clock.pending, 0, "no timer left behind");
  await clock.advance(1000);
  assert.ok(tb.tryAcquire(), "the abandoned reservation did not consume the next token");
  await assert.rejects(tb.acquire(AbortSignal.abort(reason)), (e) => e === reason);
});

test("invalid settings are refused", () => {
  assert.throws(() => new TokenBucket({ qps: 0, burst: 1 }), RangeError);
  assert.throws(() => new TokenBucket({ qps: 5, burst: 0 }), RangeError);
});
