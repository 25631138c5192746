import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualClock, realClock } from "../core/clock.ts";
import { DelayingQueue } from "./delaying-queue.ts";

/** Drains what is queued right now, marking each key done. */
async function takeAll<K extends NonNullable<unknown>>(q: DelayingQueue<K>): Promise<K[]> {
  const out: K[] = [];
  while (q.len > 0) {
    const key = (await q.get())!;
    out.push(key);
    q.done(key);
  }
  return out;
}

test("addAfter with a delay <= 0 (or NaN) adds at once", () => {
  const clock = new ManualClock();
  const q = new DelayingQueue({ clock });
  q.addAfter("zero", 0);
  q.addAfter("negative", -5);
  q.addAfter("nan", Number.NaN);
  assert.equal(q.len, 3);
  assert.equal(q.waiting, 0);
  assert.equal(clock.pending, 0);
});

test("addAfter waits for the delay, then adds", async () => {
  const clock = new ManualClock();
  const q = new DelayingQueue({ clock });
  q.addAfter("a", 50);
  assert.equal(q.len, 0);
  assert.equal(q.waiting, 1);
  await clock.advance(49);
  assert.equal(q.len, 0);
  await clock.advance(1);
  assert.equal(q.len, 1);
  assert.equal(q.waiting, 0);
  assert.equal(await q.get(), "a");
  assert.equal(clock.pending, 0, "no timer once nothing waits");
});

test("keys become ready in order of their deadlines, whatever the order of the calls", async () => {
  const clock = new ManualClock();
  const q = new DelayingQueue({ clock });
  q.addAfter("c", 300);
  q.addAfter("a", 100);
  q.addAfter("d", 400);
  q.addAfter("b", 200);
  q.addAfter("b2", 200);
  await clock.advance(250);
  assert.deepEqual(await takeAll(q), ["a", "b", "b2"]);
  await clock.advance(1000);
  assert.deepEqual(await takeAll(q), ["c", "d"]);
});

test("a key already waiting keeps the earlier ready time", async () => {
  const clock = new ManualClock();
  const q = new DelayingQueue({ clock });
  q.addAfter("k", 100);
  q.addAfter("k", 300); // later: ignored
  assert.equal(q.waiting, 1);
  await clock.advance(100);
  assert.deepEqual(await takeAll(q), ["k"]);
  await clock.advance(500);
  assert.deepEqual(await takeAll(q), [], "the later call did not add it a second time");

  q.addAfter("k", 300);
  q.addAfter("k", 50); // earlier: wins
  assert.equal(q.waiting, 1);
  await clock.advance(50);
  assert.deepEqual(await takeAll(q), ["k"]);
  await clock.advance(500);
  assert.deepEqual(await takeAll(q), []);
});

test("an earlier deadline re-arms the single timer", async () => {
  const clock = new ManualClock();
  const q = new DelayingQueue({ clock });
  q.addAfter("late", 5000);
  assert.equal(clock.pending, 1);
  q.addAfter("early", 10);
  assert.equal(clock.pending, 1, "one timer, not one per key");
  for (let i = 0; i < 100; i++) q.addAfter(`k${i}`, 20 + i);
  assert.equal(clock.pending, 1);
  await clock.advance(10);
  assert.deepEqual(await takeAll(q), ["early"]);
  assert.equal(clock.pending, 1);
});

test("a long delay is served through the 10 s heartbeat, on time", async () => {
  const clock = new ManualClock();
  const q = new DelayingQueue({ clock });
  q.addAfter("slow", 60_000);
  await clock.advance(59_999);
  assert.equal(q.len, 0);
  assert.equal(clock.pending, 1);
  await clock.advance(1);
  assert.equal(q.len, 1);
  assert.equal(clock.pending, 0);
});

test("a key added directly while it waits is queued now and not duplicated later", async () => {
  const clock = new ManualClock();
  const q = new DelayingQueue({ clock });
  q.addAfter("k", 100);
  q.add("k");
  assert.equal(q.len, 1);
  await clock.advance(100);
  assert.equal(q.len, 1, "still queued once");
});

test("Infinity parks a key without a timer until shutdown", async () => {
  const clock = new ManualClock();
  const q = new DelayingQueue({ clock });
  q.addAfter("never", Infinity);
  assert.equal(q.waiting, 1);
  assert.equal(clock.pending, 0);
  await q.shutdown();
  assert.equal(q.waiting, 0);
});

test("shutdown stops the timer and drops waiting keys; addAfter afterwards is ignored", async () => {
  const clock = new ManualClock();
  const q = new DelayingQueue({ clock });
  q.addAfter("a", 100);
  q.addAfter("b", 0);
  assert.equal(clock.pending, 1);
  await q.shutdown();
  assert.equal(clock.pending, 0);
  assert.equal(q.waiting, 0);
  q.addAfter("c", 10);
  q.addAfter("d", 0);
  assert.equal(clock.pending, 0);
  await clock.advance(1000);
  assert.equal(await q.get(), "b");
  assert.equal(await q.get(), undefined);
});

test("on the real clock: a short delay fires, and shutdown leaves no timer behind", async () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
  const before = timers();
  const q = new DelayingQueue({ clock: realClock });
  q.addAfter("soon", 5);
  assert.equal(await q.get(), "soon");
  q.done("soon");
  q.addAfter("later", 60_000);
  q.addAfter("much later", 3_600_000);
  assert.equal(timers(), before + 1, "one timer for all waiting keys");
  await q.shutdown();
  assert.equal(timers(), before);
});
