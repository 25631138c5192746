/**
 * Retrying a read-modify-write until it stops conflicting: client-go's `util/retry`, with its
 * backoffs and apimachinery's `wait.Backoff` stepping.
 */
import { type Clock, realClock } from "../core/clock.ts";
import { isConflict } from "../core/errors.ts";

/** apimachinery's `wait.Backoff`, in milliseconds. */
export interface Backoff {
  /** How many times the function runs at most (at least 1). */
  readonly steps: number;
  /** The first wait. */
  readonly durationMs: number;
  /** Each wait is the previous one times this (0 or 1: constant). */
  readonly factor: number;
  /** Each wait is lengthened by up to this fraction of itself, at random (0: none). */
  readonly jitter: number;
  /** No wait grows beyond this; reaching it ends the growth (absent or 0: no cap). */
  readonly capMs?: number;
}

/** client-go's `retry.DefaultRetry`: 5 tries, 10 ms apart (+ up to 10 %). For conflicts. */
export const DefaultRetry: Backoff = Object.freeze({
  steps: 5,
  durationMs: 10,
  factor: 1,
  jitter: 0.1,
});

/** client-go's `retry.DefaultBackoff`: 4 tries, waits of 10, 50, 250 ms (+ up to 10 %). */
export const DefaultBackoff: Backoff = Object.freeze({
  steps: 4,
  durationMs: 10,
  factor: 5,
  jitter: 0.1,
});

export interface RetryOptions {
  /** Where waits happen; tests pass a `ManualClock`. */
  clock?: Clock;
  /** The source of jitter, in [0, 1); `Math.random` by default. */
  random?: () => number;
  /** Stops waiting (the promise rejects with the signal's reason); a running call is not aborted. */
  signal?: AbortSignal;
}

function checkBackoff(b: Backoff): void {
  if (!(Number.isInteger(b.steps) && b.steps >= 1)) {
    throw new RangeError(`backoff.steps must be an integer >= 1, got ${b.steps}`);
  }
  for (const k of ["durationMs", "factor", "jitter"] as const) {
    if (!(b[k] >= 0)) throw new RangeError(`backoff.${k} must be a number >= 0, got ${b[k]}`);
  }
}

/** One `wait.Backoff.Step`: the wait, and the backoff for the step after it. */
function step(
  b: { steps: number; duration: number },
  backoff: Backoff,
  random: () => number,
): number {
  b.steps--;
  let next = b.duration;
  if (backoff.factor !== 0) {
    next = b.duration * backoff.factor;
    if (backoff.capMs && next > backoff.capMs) {
      next = backoff.capMs;
      b.steps = 0; // reaching the cap ends the retries after this wait, as in apimachinery
    }
  }
  const wait =
    backoff.jitter > 0 ? b.duration + random() * backoff.jitter * b.duration : b.duration;
  b.duration = next;
  return wait;
}

/**
 * The waits between tries, in order, as apimachinery's `wait.ExponentialBackoff` takes them: at
 * most `steps - 1`, each the current duration plus jitter, the duration then multiplied by
 * `factor`; a wait that would exceed `capMs` is the last.
 */
export function backoffDelays(backoff: Backoff, random: () => number = Math.random): number[] {
  checkBackoff(backoff);
  const out: number[] = [];
  const b = { steps: backoff.steps, duration: backoff.durationMs };
  while (b.steps > 1) out.push(step(b, backoff, random));
  return out;
}

/**
 * Runs `fn` until it succeeds, fails with an error `retriable` rejects, or the backoff's tries are
 * used up (`backoffDelays`); then the last error is thrown (client-go's `retry.OnError`).
 */
export async function onError<T>(
  backoff: Backoff,
  retriable: (err: unknown) => boolean,
  fn: () => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  checkBackoff(backoff);
  const clock = options.clock ?? realClock;
  const random = options.random ?? Math.random;
  const b = { steps: backoff.steps, duration: backoff.durationMs };
  let last: unknown;
  while (b.steps > 0) {
    options.signal?.throwIfAborted();
    try {
      return await fn();
    } catch (err) {
      if (!retriable(err)) throw err;
      last = err;
    }
    if (b.steps === 1) break;
    await clock.sleep(step(b, backoff, random), options.signal);
  }
  throw last;
}

/**
 * Runs `fn` (typically get → change → update) again while it fails with a 409 Conflict, with
 * `backoff` between tries (`DefaultRetry` by default); other errors, and the last conflict, are
 * thrown (client-go's `retry.RetryOnConflict`). `fn` must read the object afresh each time.
 */
export function retryOnConflict<T>(
  fn: () => Promise<T>,
  backoff: Backoff = DefaultRetry,
  options: RetryOptions = {},
): Promise<T> {
  return onError(backoff, isConflict, fn, options);
}
