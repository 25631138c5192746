import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualClock } from "../core/clock.ts";
import { parallelize } from "./parallelize.ts";

test("every piece runs once, with at most `workers` in flight", async () => {
  const clock = new ManualClock();
  let inFlight = 0;
  let most = 0;
  const seen: number[] = [];
  const run = parallelize(3, 10, async (piece) => {
    inFlight++;
    most = Math.max(most, inFlight);
    await clock.sleep(10 + (piece % 3));
    seen.push(piece);
    inFlight--;
  });
  await clock.advance(1000);
  await run;
  assert.equal(most, 3);
  assert.deepEqual(
    seen.sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
});

test("chunks hand consecutive pieces to one worker", async () => {
  const clock = new ManualClock();
  const byStart = new Map<number, number>();
  const run = parallelize(
    2,
    7,
    async (piece) => {
      byStart.set(piece, clock.now());
      await clock.sleep(10);
    },
    { chunkSize: 3 },
  );
  await clock.advance(1000);
  await run;
  // Worker 1 takes 0,1,2 then 6; worker 2 takes 3,4,5.
  assert.deepEqual(
    [...byStart].sort((a, b) => a[0] - b[0]).map(([, t]) => t),
    [0, 10, 20, 0, 10, 20, 30],
  );
});

test("a failing piece stops the rest and rejects once the pieces in flight are done", async () => {
  const clock = new ManualClock();
  const started: number[] = [];
  let finished = 0;
  const run = parallelize(2, 10, async (piece) => {
    started.push(piece);
    if (piece === 1) throw new Error("piece 1 failed");
    await clock.sleep(10);
    finished++;
  });
  const outcome = run.then(
    () => "resolved",
    (e: Error) => e.message,
  );
  await clock.advance(100);
  assert.equal(await outcome, "piece 1 failed");
  assert.deepEqual(started, [0, 1]);
  assert.equal(finished, 1, "piece 0 ran to its end before the rejection");
});

test("abort stops handing out pieces and rejects with the reason", async () => {
  const clock = new ManualClock();
  const ac = new AbortController();
  const started: number[] = [];
  const run = parallelize(
    1,
    5,
    async (piece) => {
      started.push(piece);
      await clock.sleep(10);
    },
    { signal: ac.signal },
  );
  const outcome = run.catch((e: unknown) => e);
  const reason = new Error("cancelled");
  await clock.advance(15);
  ac.abort(reason);
  await clock.advance(100);
  assert.equal(await outcome, reason);
  assert.deepEqual(started, [0, 1]);
  await parallelize(2, 0, () => assert.fail("no pieces"));
  await assert.rejects(
    parallelize(0, 1, () => {}),
    RangeError,
  );
});
