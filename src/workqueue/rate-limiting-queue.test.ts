import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualClock } from "../core/clock.ts";
import { itemExponentialFailureRateLimiter } from "./rate-limiters.ts";
import { RateLimitingQueue } from "./rate-limiting-queue.ts";

test("addRateLimited waits as long as the limiter says; forget starts over", async () => {
  const clock = new ManualClock();
  const q = new RateLimitingQueue({
    clock,
    rateLimiter: itemExponentialFailureRateLimiter(10, 1000),
  });
  q.addRateLimited("k");
  assert.equal(q.numRequeues("k"), 1);
  await clock.advance(9);
  assert.equal(q.len, 0);
  await clock.advance(1);
  assert.equal(q.len, 1);
  const key = (await q.get())!;
  q.addRateLimited(key); // 20 ms, while processing
  q.done(key);
  await clock.advance(19);
  assert.equal(q.len, 0);
  await clock.advance(1);
  assert.equal(q.len, 1);
  assert.equal(q.numRequeues("k"), 2);
  q.forget("k");
  assert.equal(q.numRequeues("k"), 0);
  await q.get();
  q.done("k");
  q.addRateLimited("k");
  await clock.advance(10);
  assert.equal(q.len, 1, "back to the base delay");
});

test("the default limiter is the controller one, on the queue's clock", async () => {
  const clock = new ManualClock();
  const q = new RateLimitingQueue({ clock });
  q.addRateLimited("k");
  await clock.advance(4);
  assert.equal(q.len, 0);
  await clock.advance(1);
  assert.equal(q.len, 1);
});

test("a worker loop retries a failing key with backoff, then forgets it", async () => {
  const clock = new ManualClock();
  const q = new RateLimitingQueue({
    clock,
    rateLimiter: itemExponentialFailureRateLimiter(10, 1000),
  });
  const attempts: number[] = [];
  const worker = (async () => {
    for await (const key of q) {
      attempts.push(clock.now());
      if (attempts.length < 3) {
        q.addRateLimited(key);
      } else {
        q.forget(key);
      }
    }
  })();
  q.add("flaky");
  await clock.advance(1000);
  assert.deepEqual(attempts, [0, 10, 30]);
  assert.equal(q.numRequeues("flaky"), 0);
  await q.shutdown({ drain: true });
  await worker;
  assert.equal(clock.pending, 0);
});

test("after shutdown addRateLimited adds nothing, though the limiter counts the failure", async () => {
  const clock = new ManualClock();
  const q = new RateLimitingQueue({ clock });
  await q.shutdown();
  q.addRateLimited("k");
  assert.equal(q.waiting, 0);
  assert.equal(clock.pending, 0);
  assert.equal(q.numRequeues("k"), 1);
});
