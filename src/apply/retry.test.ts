/**
 * `retryOnConflict` and the backoffs of client-go's util/retry, on a manual clock: how many tries,
 * which waits, which errors end it, and what is thrown at the end.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualClock } from "../core/clock.ts";
import { ApiError, isConflict } from "../core/errors.ts";
import {
  type Backoff,
  backoffDelays,
  DefaultBackoff,
  DefaultRetry,
  onError,
  retryOnConflict,
} from "./retry.ts";

const conflict = () =>
  new ApiError({
    kind: "Status",
    apiVersion: "v1",
    status: "Failure",
    reason: "Conflict",
    code: 409,
    message: "stale",
  });
const notFound = () =>
  new ApiError({
    kind: "Status",
    apiVersion: "v1",
    status: "Failure",
    reason: "NotFound",
    code: 404,
    message: "gone",
  });

test("client-go's backoffs: DefaultRetry 5 × 10 ms, DefaultBackoff 4 tries growing × 5", () => {
  assert.deepEqual(DefaultRetry, { steps: 5, durationMs: 10, factor: 1, jitter: 0.1 });
  assert.deepEqual(DefaultBackoff, { steps: 4, durationMs: 10, factor: 5, jitter: 0.1 });
  assert.deepEqual(
    backoffDelays(DefaultRetry, () => 0),
    [10, 10, 10, 10],
  );
  assert.deepEqual(
    backoffDelays(DefaultBackoff, () => 0),
    [10, 50, 250],
  );
  // Jitter lengthens each wait by up to 10 % of itself.
  assert.deepEqual(
    backoffDelays(DefaultBackoff, () => 0.5).map((x) => Math.round(x * 100) / 100),
    [10.5, 52.5, 262.5],
  );
  // A cap ends the growth and the retries after the wait that reaches it.
  assert.deepEqual(
    backoffDelays({ steps: 10, durationMs: 10, factor: 10, jitter: 0, capMs: 500 }),
    [10, 100],
  );
  assert.throws(() => backoffDelays({ ...DefaultRetry, steps: 0 }), RangeError);
});

async function run<T>(
  clock: ManualClock,
  p: Promise<T>,
): Promise<{ value?: T; error?: unknown; waited: number }> {
  const start = clock.now();
  let settled = false;
  const out: { value?: T; error?: unknown; waited: number } = { waited: 0 };
  p.then(
    (v) => {
      out.value = v;
      settled = true;
    },
    (e: unknown) => {
      out.error = e;
      settled = true;
    },
  );
  await clock.advance(0);
  while (!settled) await clock.advance(1);
  out.waited = clock.now() - start;
  return out;
}

test("retryOnConflict: conflicts are retried until the call succeeds", async () => {
  const clock = new ManualClock();
  let calls = 0;
  const r = await run(
    clock,
    retryOnConflict(
      async () => {
        calls++;
        if (calls < 3) throw conflict();
        return "done";
      },
      DefaultRetry,
      { clock, random: () => 0 },
    ),
  );
  assert.equal(r.value, "done");
  assert.equal(calls, 3);
  assert.equal(r.waited, 20);
});

test("retryOnConflict: after the last step the last conflict is thrown", async () => {
  const clock = new ManualClock();
  let calls = 0;
  const r = await run(
    clock,
    retryOnConflict(
      async () => {
        calls++;
        throw conflict();
      },
      undefined,
      { clock, random: () => 0 },
    ),
  );
  assert.equal(calls, 5);
  assert.ok(isConflict(r.error));
  assert.equal(r.waited, 40);
});

test("other errors end it at once, without a wait", async () => {
  const clock = new ManualClock();
  let calls = 0;
  const r = await run(
    clock,
    retryOnConflict(
      async () => {
        calls++;
        throw notFound();
      },
      DefaultRetry,
      { clock },
    ),
  );
  assert.equal(calls, 1);
  assert.equal((r.error as ApiError).reason, "NotFound");
  assert.equal(r.waited, 0);
});

test("onError with its own predicate and backoff; an abort stops the waiting", async () => {
  const clock = new ManualClock();
  const backoff: Backoff = { steps: 3, durationMs: 100, factor: 2, jitter: 0 };
  let calls = 0;
  const r = await run(
    clock,
    onError(
      backoff,
      (e) => e instanceof TypeError,
      async () => {
        calls++;
        if (calls < 3) throw new TypeError("flaky");
        return calls;
      },
      { clock },
    ),
  );
  assert.equal(r.value, 3);
  assert.equal(r.waited, 300);

  const ac = new AbortController();
  const p = retryOnConflict(
    async () => {
      throw conflict();
    },
    { steps: 5, durationMs: 1000, factor: 1, jitter: 0 },
    { clock, signal: ac.signal },
  );
  await clock.advance(0);
  ac.abort(new Error("stop"));
  await assert.rejects(p, /stop/);
});
