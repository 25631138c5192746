import { type Clock, realClock } from "../core/clock.ts";

export interface BackoffOptions {
  /** The first delay; client-go's reflector uses 800 ms. */
  initialMs?: number;
  /** The longest delay; 30 s in client-go's reflector. */
  maxMs?: number;
  factor?: number;
  /** Each delay is stretched by up to this fraction at random (1.0: up to twice as long). */
  jitter?: number;
  /** After this long without a failure the next delay starts from `initialMs` again (2 min). */
  resetAfterMs?: number;
  clock?: Clock;
  random?: () => number;
}

/**
 * The reflector's backoff (client-go `wait.NewExponentialBackoffManager(800ms, 30s, 2m, 2.0,
 * 1.0)`): each failure doubles the delay up to the cap, with jitter so that many clients that
 * failed together do not retry together, and a quiet period resets it.
 */
export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #resetAfter: number;
  readonly #clock: Clock;
  readonly #random: () => number;
  #next: number;
  #lastFailure = Number.NEGATIVE_INFINITY;

  constructor(options: BackoffOptions = {}) {
    this.#initial = options.initialMs ?? 800;
    this.#max = options.maxMs ?? 30_000;
    this.#factor = options.factor ?? 2;
    this.#jitter = options.jitter ?? 1;
    this.#resetAfter = options.resetAfterMs ?? 120_000;
    this.#clock = options.clock ?? realClock;
    this.#random = options.random ?? Math.random;
    this.#next = this.#initial;
  }

  /** The delay before the next attempt, advancing the sequence. */
  nextDelay(): number {
    const now = this.#clock.now();
    if (now - this.#lastFailure > this.#resetAfter) this.#next = this.#initial;
    this.#lastFailure = now;
    const base = this.#next;
    this.#next = Math.min(this.#max, this.#next * this.#factor);
    return Math.round(base + base * this.#jitter * this.#random());
  }

  /** Waits the next delay; rejects with `signal.reason` on abort. */
  wait(signal?: AbortSignal): Promise<void> {
    return this.#clock.sleep(this.nextDelay(), signal);
  }

  reset(): void {
    this.#next = this.#initial;
    this.#lastFailure = Number.NEGATIVE_INFINITY;
  }
}
