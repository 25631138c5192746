import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualClock } from "../core/clock.ts";
import {
  bucketRateLimiter,
  defaultControllerRateLimiter,
  itemExponentialFailureRateLimiter,
  itemFastSlowRateLimiter,
  maxOfRateLimiter,
  type RateLimiter,
  withMaxWaitRateLimiter,
} from "./rate-limiters.ts";

const whens = (l: RateLimiter<string>, key: string, n: number) =>
  Array.from({ length: n }, () => l.when(key));

test("exponential: base · 2^failures per key, counted by numRequeues, reset by forget", () => {
  const l = itemExponentialFailureRateLimiter<string>(1, 1000);
  assert.deepEqual(whens(l, "one", 5), [1, 2, 4, 8, 16]);
  assert.equal(l.numRequeues("one"), 5);
  assert.deepEqual(whens(l, "two", 2), [1, 2], "each key counts on its own");
  l.forget("one");
  assert.equal(l.numRequeues("one"), 0);
  assert.deepEqual(whens(l, "one", 2), [1, 2]);
  assert.equal(l.numRequeues("two"), 2);
});

test("exponential: capped at the maximum, and never overflows however many failures", () => {
  const l = itemExponentialFailureRateLimiter<string>(5, 1_000_000);
  assert.deepEqual(whens(l, "k", 4), [5, 10, 20, 40]);
  // 5 ms · 2^17 = 655.36 s, 2^18 would be 1310.72 s > 1000 s.
  for (let i = 4; i < 17; i++) l.when("k");
  assert.equal(l.when("k"), 655_360);
  assert.equal(l.when("k"), 1_000_000);
  for (let i = 0; i < 3000; i++) assert.equal(l.when("k"), 1_000_000);
  assert.equal(l.numRequeues("k"), 3019);
  const zero = itemExponentialFailureRateLimiter<string>(0, 1000);
  for (let i = 0; i < 1100; i++) assert.equal(zero.when("k"), 0);
});

test("exponential: the defaults are 5 ms and 1000 s", () => {
  const l = itemExponentialFailureRateLimiter<string>();
  assert.equal(l.when("k"), 5);
  for (let i = 0; i < 40; i++) l.when("k");
  assert.equal(l.when("k"), 1_000_000);
});

test("bucket: the burst passes at once, then reservations are spread out at qps", async () => {
  const clock = new ManualClock();
  const l = bucketRateLimiter<string>({ qps: 10, burst: 100, clock });
  for (let i = 0; i < 100; i++) assert.equal(l.when(`k${i}`), 0);
  assert.deepEqual(
    [l.when("a"), l.when("b"), l.when("c")],
    [100, 200, 300],
    "each reservation queues behind the previous one",
  );
  await clock.advance(1000); // 10 tokens accrue; 3 were owed
  for (let i = 0; i < 7; i++) assert.equal(l.when("x"), 0);
  assert.equal(l.when("x"), 100);
  assert.equal(l.numRequeues("x"), 0);
  l.forget("x");
});

test("bucket: refills at most to the burst", async () => {
  const clock = new ManualClock();
  const l = bucketRateLimiter<string>({ qps: 2, burst: 3, clock });
  assert.deepEqual(whens(l, "k", 4), [0, 0, 0, 500]);
  await clock.advance(3_600_000);
  assert.deepEqual(whens(l, "k", 5), [0, 0, 0, 500, 1000]);
  await clock.advance(250); // half a token
  assert.equal(l.when("k"), 1250);
});

test("bucket: Infinity qps never waits; burst 0 never grants; qps 0 grants only the burst", () => {
  const clock = new ManualClock();
  const unlimited = bucketRateLimiter<string>({ qps: Infinity, burst: 0, clock });
  assert.deepEqual(whens(unlimited, "k", 3), [0, 0, 0]);
  const empty = bucketRateLimiter<string>({ qps: 10, burst: 0, clock });
  assert.equal(empty.when("k"), Infinity);
  const frozen = bucketRateLimiter<string>({ qps: 0, burst: 2, clock });
  assert.deepEqual(whens(frozen, "k", 3), [0, 0, Infinity]);
});

test("fast/slow: the fast delay for the first attempts, then the slow one; forget resets", () => {
  const l = itemFastSlowRateLimiter<string>(5, 10_000, 3);
  assert.deepEqual(whens(l, "k", 5), [5, 5, 5, 10_000, 10_000]);
  assert.equal(l.numRequeues("k"), 5);
  assert.deepEqual(whens(l, "other", 1), [5]);
  l.forget("k");
  assert.equal(l.numRequeues("k"), 0);
  assert.deepEqual(whens(l, "k", 4), [5, 5, 5, 10_000]);
});

test("maxOf: asks every limiter, answers the longest wait, forgets in all", () => {
  const fastSlow = itemFastSlowRateLimiter<string>(50, 1000, 1);
  const exp = itemExponentialFailureRateLimiter<string>(10, 100_000);
  const l = maxOfRateLimiter(fastSlow, exp);
  assert.deepEqual(whens(l, "k", 4), [50, 1000, 1000, 1000]);
  assert.deepEqual(whens(l, "k", 4), [1000, 1000, 1000, 1280]);
  assert.equal(fastSlow.numRequeues("k"), 8, "both limiters counted every failure");
  assert.equal(exp.numRequeues("k"), 8);
  assert.equal(l.numRequeues("k"), 8);
  l.forget("k");
  assert.equal(fastSlow.numRequeues("k"), 0);
  assert.equal(exp.numRequeues("k"), 0);
  assert.equal(maxOfRateLimiter<string>().when("k"), 0);
});

test("withMaxWait caps the wrapped limiter and passes forget and numRequeues through", () => {
  const l = withMaxWaitRateLimiter(itemExponentialFailureRateLimiter<string>(100, 1_000_000), 350);
  assert.deepEqual(whens(l, "k", 4), [100, 200, 350, 350]);
  assert.equal(l.numRequeues("k"), 4);
  l.forget("k");
  assert.equal(l.when("k"), 100);
});

test("default controller limiter: 5 ms doubling per key, 10 qps / 100 burst overall", () => {
  const clock = new ManualClock();
  const l = defaultControllerRateLimiter<string>({ clock });
  assert.deepEqual(whens(l, "a", 3), [5, 10, 20]);
  for (let i = 3; i < 100; i++) l.when(`k${i}`); // 100 tokens spent in all
  assert.equal(l.when("fresh"), 100, "the bucket wins over the 5 ms of a fresh key");
  assert.equal(l.numRequeues("fresh"), 1);
  for (let i = 0; i < 30; i++) l.when("a");
  assert.equal(l.when("a"), 1_000_000);
});

test("invalid arguments are rejected", () => {
  assert.throws(() => itemExponentialFailureRateLimiter(-1, 10), RangeError);
  assert.throws(() => itemFastSlowRateLimiter(1, Number.NaN, 1), RangeError);
  assert.throws(() => bucketRateLimiter({ qps: -1, burst: 1 }), RangeError);
});
