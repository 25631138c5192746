import { DelayingQueue } from "./delaying-queue.ts";
import type { QueueKey, QueueOptions } from "./queue.ts";
import { defaultControllerRateLimiter, type RateLimiter } from "./rate-limiters.ts";

export interface RateLimitingQueueOptions<K> extends QueueOptions {
  /** `defaultControllerRateLimiter()` on the queue's clock by default. */
  rateLimiter?: RateLimiter<K>;
}

/**
 * A delaying queue whose retries are paced by a rate limiter (client-go's `RateLimitingInterface`).
 * The usual worker:
 *
 * ```ts
 * for await (const key of queue) {
 *   try {
 *     await reconcile(key);
 *     queue.forget(key);          // success: stop counting its failures
 *   } catch (err) {
 *     queue.addRateLimited(key);  // failure: retry after the limiter's delay
 *   }
 * }
 * ```
 *
 * `forget` only resets the limiter; the key must still be marked done (the iterator does that).
 */
export class RateLimitingQueue<K extends QueueKey = string> extends DelayingQueue<K> {
  readonly rateLimiter: RateLimiter<K>;

  constructor(options: RateLimitingQueueOptions<K> = {}) {
    super(options);
    this.rateLimiter =
      options.rateLimiter ?? defaultControllerRateLimiter<K>({ clock: options.clock });
  }

  /**
   * Adds `key` after the delay the rate limiter asks for: `addAfter(key, rateLimiter.when(key))`.
   * The limiter counts the failure even when the queue is shutting down and the add is ignored.
   */
  addRateLimited(key: K): void {
    this.addAfter(key, this.rateLimiter.when(key));
  }

  /**
   * Tells the rate limiter that `key` is finished being retried, whether it succeeded or failed for
   * good, so its next failure starts from the shortest delay. It does not mark the key done.
   */
  forget(key: K): void {
    this.rateLimiter.forget(key);
  }

  /** How many times `key` has been re-added with `addRateLimited` since it was last forgotten. */
  numRequeues(key: K): number {
    return this.rateLimiter.numRequeues(key);
  }
}
