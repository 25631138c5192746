import { type Clock, realClock } from "../core/clock.ts";

/**
 * Decides how long a key waits before it is retried (client-go's `RateLimiter`). Limiters that
 * count per key remember every key they were asked about until `forget`: call it when a key
 * succeeds or is given up on, or the limiter tracks failures forever.
 */
export interface RateLimiter<K = unknown> {
  /** How long `key` should wait, in ms, counting this as one more failure of it. */
  when(key: K): number;
  /** Stops tracking `key`: its next `when` starts from scratch. */
  forget(key: K): void;
  /** How many failures of `key` this limiter has counted (0 for limiters that do not count). */
  numRequeues(key: K): number;
}

/** The largest `time.Duration` in Go, in nanoseconds: client-go caps the backoff below it. */
const MAX_INT64_NS = 2 ** 63 - 1;

function nonNegative(name: string, value: number): void {
  if (!(value >= 0)) throw new RangeError(`${name} must be a number >= 0, got ${value}`);
}

/**
 * Per-key exponential backoff: `baseDelayMs · 2^failures`, capped at `maxDelayMs` (5 ms and
 * 1000 s by default, the default controller limiter's values). The first `when` of a key answers
 * the base delay. The power is computed in floating point and capped before it could overflow, so
 * a key that fails thousands of times waits `maxDelayMs`, never less. Giving up after too many
 * failures (see `numRequeues`) is up to the caller.
 */
export function itemExponentialFailureRateLimiter<K = unknown>(
  baseDelayMs = 5,
  maxDelayMs = 1_000_000,
): RateLimiter<K> {
  nonNegative("baseDelayMs", baseDelayMs);
  nonNegative("maxDelayMs", maxDelayMs);
  const failures = new Map<K, number>();
  return {
    when(key) {
      const exp = failures.get(key) ?? 0;
      failures.set(key, exp + 1);
      // 0 · 2^1024 would be NaN: a zero base never backs off.
      const backoff = baseDelayMs === 0 ? 0 : baseDelayMs * 2 ** exp;
      if (backoff * 1e6 > MAX_INT64_NS) return maxDelayMs;
      return backoff > maxDelayMs ? maxDelayMs : backoff;
    },
    forget(key) {
      failures.delete(key);
    },
    numRequeues(key) {
      return failures.get(key) ?? 0;
    },
  };
}

/**
 * Per-key: `fastDelayMs` for the first `maxFastAttempts` failures of a key, `slowDelayMs` after
 * that. For quick retries of a short hiccup, then patience.
 */
export function itemFastSlowRateLimiter<K = unknown>(
  fastDelayMs: number,
  slowDelayMs: number,
  maxFastAttempts: number,
): RateLimiter<K> {
  nonNegative("fastDelayMs", fastDelayMs);
  nonNegative("slowDelayMs", slowDelayMs);
  nonNegative("maxFastAttempts", maxFastAttempts);
  const failures = new Map<K, number>();
  return {
    when(key) {
      const n = (failures.get(key) ?? 0) + 1;
      failures.set(key, n);
      return n <= maxFastAttempts ? fastDelayMs : slowDelayMs;
    },
    forget(key) {
      failures.delete(key);
    },
    numRequeues(key) {
      return failures.get(key) ?? 0;
    },
  };
}

export interface BucketRateLimiterOptions {
  /** Tokens added per second. `Infinity` never limits; 0 allows `burst` retries, then no more. */
  qps: number;
  /** The most tokens saved up; the bucket starts full. */
  burst: number;
  clock?: Clock;
}

/**
 * One token bucket for all keys (client-go's `BucketRateLimiter` over `golang.org/x/time/rate`):
 * each `when` reserves a token and answers how long until that reservation is due. While tokens
 * are saved up the answer is 0; after that, reservations queue up behind each other, so a burst of
 * failures is spread out at `qps` (with 10 qps: 100 ms, 200 ms, 300 ms, ...) rather than retried
 * all at once. It limits the overall retry rate, not any one key, so `forget` does nothing and
 * `numRequeues` is 0.
 *
 * The answer is `Infinity` (Go's `InfDuration`) when the bucket can never grant a token: `burst`
 * 0, or `qps` 0 once the burst is spent. A delaying queue then parks the key until shutdown.
 */
export function bucketRateLimiter<K = unknown>(options: BucketRateLimiterOptions): RateLimiter<K> {
  const bucket = new ReservationBucket(options);
  return {
    when: () => bucket.reserve(),
    forget() {},
    numRequeues: () => 0,
  };
}

/**
 * `rate.Limiter.Reserve().Delay()` for one token, with the same arithmetic: tokens accrue in
 * floating point from the elapsed time, are capped at the burst, may go negative (that is the
 * queue of reservations), and a deficit becomes a wait truncated to whole nanoseconds.
 */
class ReservationBucket {
  readonly #limit: number;
  #burst: number;
  #tokens: number;
  #last: number;
  readonly #clock: Clock;

  constructor(options: BucketRateLimiterOptions) {
    nonNegative("qps", options.qps);
    nonNegative("burst", options.burst);
    this.#limit = options.qps;
    this.#burst = Math.floor(options.burst);
    this.#clock = options.clock ?? realClock;
    this.#tokens = this.#burst;
    this.#last = this.#clock.now();
  }

  reserve(): number {
    if (this.#limit === Infinity) return 0;
    if (this.#limit === 0) {
      // x/time/rate: with no refill, the burst itself is what is left to hand out.
      if (this.#burst < 1) return Infinity;
      this.#burst -= 1;
      return 0;
    }
    const now = this.#clock.now();
    const last = now < this.#last ? now : this.#last;
    let tokens = this.#tokens + ((now - last) / 1000) * this.#limit;
    if (tokens > this.#burst) tokens = this.#burst;
    tokens -= 1;
    if (this.#burst < 1) return Infinity; // one token is more than the bucket holds
    let waitMs = 0;
    if (tokens < 0) {
      const ns = (-tokens / this.#limit) * 1e9;
      waitMs = ns > MAX_INT64_NS ? Infinity : Math.trunc(ns) / 1e6;
    }
    this.#last = now;
    this.#tokens = tokens;
    return waitMs;
  }
}

/**
 * Asks every limiter (each one counts the failure) and answers the longest wait, never less than
 * 0. `numRequeues` is the largest count; `forget` forgets in all of them. With a token bucket among
 * them the burst may appear exceeded, when some keys were separately delayed longer.
 */
export function maxOfRateLimiter<K = unknown>(...limiters: RateLimiter<K>[]): RateLimiter<K> {
  return {
    when(key) {
      let max = 0;
      for (const limiter of limiters) {
        const d = limiter.when(key);
        if (d > max) max = d;
      }
      return max;
    },
    forget(key) {
      for (const limiter of limiters) limiter.forget(key);
    },
    numRequeues(key) {
      let max = 0;
      for (const limiter of limiters) {
        const n = limiter.numRequeues(key);
        if (n > max) max = n;
      }
      return max;
    },
  };
}

/** Caps another limiter's answer at `maxDelayMs`, so no key waits longer than that. */
export function withMaxWaitRateLimiter<K = unknown>(
  limiter: RateLimiter<K>,
  maxDelayMs: number,
): RateLimiter<K> {
  nonNegative("maxDelayMs", maxDelayMs);
  return {
    when(key) {
      const d = limiter.when(key);
      return d > maxDelayMs ? maxDelayMs : d;
    },
    forget: (key) => limiter.forget(key),
    numRequeues: (key) => limiter.numRequeues(key),
  };
}

/**
 * The rate limiter controllers use unless they have a reason not to (client-go's
 * `DefaultTypedControllerRateLimiter`): per key, 5 ms doubling up to 1000 s; overall, a token
 * bucket of 10 qps with a burst of 100, which only matters when many keys fail at once. The
 * longer of the two wins.
 */
export function defaultControllerRateLimiter<K = unknown>(
  options: { clock?: Clock } = {},
): RateLimiter<K> {
  return maxOfRateLimiter<K>(
    itemExponentialFailureRateLimiter<K>(5, 1_000_000),
    bucketRateLimiter<K>({ qps: 10, burst: 100, clock: options.clock }),
  );
}
