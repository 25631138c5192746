/**
 * `kubekit/workqueue`: client-go's `util/workqueue`. A queue of keys for controllers that is fair
 * (first in, first out), stingy (a key added many times before it is processed is processed once)
 * and never hands one key to two workers at once; a delaying queue on top (`addAfter`), a
 * rate-limited queue on top of that (`addRateLimited`, `forget`, `numRequeues`), client-go's rate
 * limiters, metrics hooks for named queues, and `parallelize`. Time comes from an injectable
 * `Clock`.
 *
 * ```ts
 * const queue = new RateLimitingQueue({ name: "pods" });
 * for await (const key of queue) {          // one worker; start several for several workers
 *   try { await sync(key); queue.forget(key); } catch { queue.addRateLimited(key); }
 * }                                         // the iterator marks each key done
 * ```
 */
export { DelayingQueue } from "./delaying-queue.ts";
export type {
  CounterMetric,
  GaugeMetric,
  HistogramMetric,
  MetricsProvider,
  SettableGaugeMetric,
} from "./metrics.ts";
export { type ParallelizeOptions, parallelize } from "./parallelize.ts";
export {
  type GetOptions,
  Queue,
  type QueueKey,
  type QueueOptions,
  type ShutdownOptions,
} from "./queue.ts";
export {
  type BucketRateLimiterOptions,
  bucketRateLimiter,
  defaultControllerRateLimiter,
  itemExponentialFailureRateLimiter,
  itemFastSlowRateLimiter,
  maxOfRateLimiter,
  type RateLimiter,
  withMaxWaitRateLimiter,
} from "./rate-limiters.ts";
export { RateLimitingQueue, type RateLimitingQueueOptions } from "./rate-limiting-queue.ts";
