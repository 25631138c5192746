import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualClock, realClock } from "../core/clock.ts";
import { DelayingQueue } from "./delaying-queue.ts";
import type { MetricsProvider } from "./metrics.ts";
import { Queue } from "./queue.ts";

function recordingProvider() {
  const m = {
    created: [] as string[],
    depth: 0,
    adds: 0,
    latency: [] as number[],
    workDuration: [] as number[],
    unfinished: [] as number[],
    longest: [] as number[],
    retries: 0,
  };
  const provider: MetricsProvider = {
    newDepthMetric: (name) => {
      m.created.push(`depth:${name}`);
      return { inc: () => m.depth++, dec: () => m.depth-- };
    },
    newAddsMetric: (name) => {
      m.created.push(`adds:${name}`);
      return { inc: () => m.adds++ };
    },
    newLatencyMetric: (name) => {
      m.created.push(`latency:${name}`);
      return { observe: (v) => m.latency.push(v) };
    },
    newWorkDurationMetric: (name) => {
      m.created.push(`work:${name}`);
      return { observe: (v) => m.workDuration.push(v) };
    },
    newUnfinishedWorkSecondsMetric: (name) => {
      m.created.push(`unfinished:${name}`);
      return { set: (v) => m.unfinished.push(v) };
    },
    newLongestRunningProcessorSecondsMetric: (name) => {
      m.created.push(`longest:${name}`);
      return { set: (v) => m.longest.push(v) };
    },
    newRetriesMetric: (name) => {
      m.created.push(`retries:${name}`);
      return { inc: () => m.retries++ };
    },
  };
  return { m, provider };
}

test("a named queue reports depth, adds, latency, work duration and unfinished work", async () => {
  const clock = new ManualClock();
  const { m, provider } = recordingProvider();
  const q = new DelayingQueue({ name: "pods", metricsProvider: provider, clock });
  assert.deepEqual(m.created.sort(), [
    "adds:pods",
    "depth:pods",
    "latency:pods",
    "longest:pods",
    "retries:pods",
    "unfinished:pods",
    "work:pods",
  ]);
  assert.equal(clock.pending, 1, "the unfinished-work tick");

  q.add("a");
  q.add("a"); // duplicate: not an add
  q.add("b");
  assert.equal(m.adds, 2);
  assert.equal(m.depth, 2);

  await clock.advance(250);
  assert.equal(await q.get(), "a");
  assert.equal(m.depth, 1);
  assert.deepEqual(m.latency, [0.25]);

  await clock.advance(250); // t=500: first tick, "a" has run 0.25 s
  assert.deepEqual(m.unfinished, [0.25]);
  assert.deepEqual(m.longest, [0.25]);
  assert.equal(await q.get(), "b");
  assert.deepEqual(m.latency, [0.25, 0.5]);
  assert.equal(m.depth, 0);

  await clock.advance(500); // t=1000: "a" 0.75 s, "b" 0.5 s
  assert.deepEqual(m.unfinished, [0.25, 1.25]);
  assert.deepEqual(m.longest, [0.25, 0.75]);
  q.done("a");
  assert.deepEqual(m.workDuration, [0.75]);
  q.done("b");
  assert.deepEqual(m.workDuration, [0.75, 0.5]);

  await clock.advance(500);
  assert.deepEqual(m.unfinished, [0.25, 1.25, 0]);
  assert.deepEqual(m.longest, [0.25, 0.75, 0]);

  q.addAfter("c", 200);
  q.addAfter("c", 0);
  assert.equal(m.retries, 2);
  assert.equal(m.adds, 3);
  await clock.advance(200);
  assert.equal(m.adds, 3, "the delayed add found c already queued");

  await q.shutdown();
  assert.equal(clock.pending, 0, "the tick stops at shutdown");
  await clock.advance(5000);
  assert.equal(m.unfinished.length, 3);
  q.addAfter("d", 0);
  assert.equal(m.retries, 2, "no retries counted after shutdown");
});

test("the latency of a key counts from its first add; a re-add while processing starts anew", async () => {
  const clock = new ManualClock();
  const { m, provider } = recordingProvider();
  const q = new Queue({ name: "q", metricsProvider: provider, clock });
  q.add("k");
  await clock.advance(1000);
  q.add("k");
  assert.equal(await q.get(), "k");
  assert.deepEqual(m.latency, [1]);
  q.add("k"); // while processing
  await clock.advance(500);
  q.done("k");
  assert.deepEqual(m.workDuration, [0.5]);
  assert.equal(await q.get(), "k");
  assert.deepEqual(m.latency, [1, 0.5]);
  assert.equal(m.adds, 2);
  await q.shutdown();
});

test("the tick period is configurable", async () => {
  const clock = new ManualClock();
  const { m, provider } = recordingProvider();
  const q = new Queue({
    name: "q",
    metricsProvider: provider,
    clock,
    unfinishedWorkUpdatePeriodMs: 100,
  });
  await clock.advance(1000);
  assert.equal(m.unfinished.length, 10);
  await q.shutdown();
  assert.throws(() => new Queue({ clock, unfinishedWorkUpdatePeriodMs: 0 }), RangeError);
});

test("an unnamed queue, or one without a provider, reports nothing and starts no tick", async () => {
  const clock = new ManualClock();
  const { m, provider } = recordingProvider();
  const unnamed = new DelayingQueue({ metricsProvider: provider, clock });
  const empty = new DelayingQueue({ name: "", metricsProvider: provider, clock });
  const noProvider = new DelayingQueue({ name: "x", clock });
  for (const q of [unnamed, empty, noProvider]) {
    q.add("a");
    q.addAfter("b", 0);
    await q.get();
  }
  assert.deepEqual(m.created, []);
  assert.equal(clock.pending, 0);
});

test("on the real clock, the tick is one timer that shutdown clears", async () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
  const before = timers();
  const { provider } = recordingProvider();
  const q = new DelayingQueue({ name: "real", metricsProvider: provider, clock: realClock });
  q.addAfter("later", 60_000);
  assert.equal(timers(), before + 2, "the tick and the delay timer");
  await q.shutdown();
  assert.equal(timers(), before);
});
