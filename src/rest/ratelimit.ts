import { type Clock, realClock } from "../core/clock.ts";

/**
 * A client-side token bucket, as client-go's `flowcontrol.NewTokenBucketRateLimiter`: `qps` tokens
 * a second, at most `burst` saved up, starting full. Waiters are served in the order they asked:
 * each takes a reservation (the bucket may go negative), so a burst of callers is spread out
 * evenly rather than stampeding when a token appears.
 */
export class TokenBucket {
  readonly qps: number;
  readonly burst: number;
  #tokens: number;
  #last: number;
  #clock: Clock;

  constructor(options: { qps: number; burst: number; clock?: Clock }) {
    if (!(options.qps > 0)) throw new RangeError(`qps must be > 0, got ${options.qps}`);
    if (!(options.burst >= 1))
      throw new RangeError(`burst must be >= 1 when qps > 0, got ${options.burst}`);
    this.qps = options.qps;
    this.burst = options.burst;
    this.#clock = options.clock ?? realClock;
    this.#tokens = options.burst;
    this.#last = this.#clock.now();
  }

  #refill(): void {
    const now = this.#clock.now();
    if (now > this.#last) {
      this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) * this.qps) / 1000);
      this.#last = now;
    }
  }

  /** Takes a token if one is there now, without waiting. */
  tryAcquire(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /**
   * Waits for a token and resolves with the milliseconds waited. If `signal` aborts first, the
   * reservation is given back and the promise rejects with `signal.reason`.
   */
  async acquire(signal?: AbortSignal): Promise<number> {
    if (signal?.aborted) throw signal.reason;
    this.#refill();
    this.#tokens -= 1;
    if (this.#tokens >= 0) return 0;
    const wait = Math.ceil((-this.#tokens * 1000) / this.qps);
    try {
      await this.#clock.sleep(wait, signal);
    } catch (e) {
      this.#tokens += 1;
      throw e;
    }
    return wait;
  }
}
