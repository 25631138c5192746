import type { Clock } from "../core/clock.ts";

/** A value that goes up and down by one (a queue's depth). */
export interface GaugeMetric {
  inc(): void;
  dec(): void;
}

/** A value that is set outright (unfinished work, longest running processor). */
export interface SettableGaugeMetric {
  set(value: number): void;
}

/** A value that only goes up (adds, retries). */
export interface CounterMetric {
  inc(): void;
}

/** Individual observations, in seconds (queue latency, work duration). */
export interface HistogramMetric {
  observe(value: number): void;
}

/**
 * Makes the metrics of one named queue; each method is called once per queue, with the queue's
 * name. This is client-go's `MetricsProvider`: kubekit depends on no metrics library, so adapt
 * these to Prometheus, OpenTelemetry or anything else. Durations are reported in seconds, as
 * client-go does.
 *
 * A queue reports metrics only when it has both a `name` and a `metricsProvider`; an unnamed queue
 * costs nothing and starts no timer.
 */
export interface MetricsProvider {
  /**
   * Keys waiting to be handed out, counting a key re-added while it is processed (it waits for
   * `done`): +1 on every add that was not a duplicate, -1 on every hand-out.
   */
  newDepthMetric(name: string): GaugeMetric;
  /** Adds that were not duplicates (the key was not already waiting to be processed). */
  newAddsMetric(name: string): CounterMetric;
  /** Seconds from the first add of a key to the get that handed it out. */
  newLatencyMetric(name: string): HistogramMetric;
  /** Seconds from a get to the matching done. */
  newWorkDurationMetric(name: string): HistogramMetric;
  /**
   * Seconds of work in progress that has not been marked done: the sum of the ages of every key
   * being processed, recomputed on a periodic tick. A large value with little work-duration
   * activity points at stuck workers.
   */
  newUnfinishedWorkSecondsMetric(name: string): SettableGaugeMetric;
  /** Seconds the longest-running key has been processed, recomputed on the same tick. */
  newLongestRunningProcessorSecondsMetric(name: string): SettableGaugeMetric;
  /** Calls to `addAfter` (and so `addRateLimited`) on a queue that is not shutting down. */
  newRetriesMetric(name: string): CounterMetric;
}

/** @internal The hooks the basic queue calls; a no-op object when metrics are off. */
export interface QueueMetrics<K> {
  add(key: K): void;
  get(key: K): void;
  done(key: K): void;
  updateUnfinishedWork(): void;
}

/** @internal The hooks the delaying queue calls. */
export interface RetryMetrics {
  retry(): void;
}

const noQueueMetrics: QueueMetrics<unknown> = {
  add() {},
  get() {},
  done() {},
  updateUnfinishedWork() {},
};

const noRetryMetrics: RetryMetrics = { retry() {} };

/** @internal Whether a queue with these options reports metrics. */
export function metricsEnabled(name: string | undefined, provider: MetricsProvider | undefined) {
  return provider !== undefined && name !== undefined && name !== "";
}

/**
 * @internal The queue's metrics as client-go keeps them: the time of a key's first add (kept until
 * the get that hands it out) and the time each key being processed was handed out.
 */
export function newQueueMetrics<K>(
  name: string | undefined,
  provider: MetricsProvider | undefined,
  clock: Clock,
): QueueMetrics<K> {
  if (!metricsEnabled(name, provider)) return noQueueMetrics;
  const mp = provider!;
  const n = name!;
  const depth = mp.newDepthMetric(n);
  const adds = mp.newAddsMetric(n);
  const latency = mp.newLatencyMetric(n);
  const workDuration = mp.newWorkDurationMetric(n);
  const unfinished = mp.newUnfinishedWorkSecondsMetric(n);
  const longest = mp.newLongestRunningProcessorSecondsMetric(n);
  const addTimes = new Map<K, number>();
  const processingStartTimes = new Map<K, number>();
  const secondsSince = (start: number) => (clock.now() - start) / 1000;
  return {
    add(key) {
      adds.inc();
      depth.inc();
      if (!addTimes.has(key)) addTimes.set(key, clock.now());
    },
    get(key) {
      depth.dec();
      processingStartTimes.set(key, clock.now());
      const added = addTimes.get(key);
      if (added !== undefined) {
        latency.observe(secondsSince(added));
        addTimes.delete(key);
      }
    },
    done(key) {
      const started = processingStartTimes.get(key);
      if (started !== undefined) {
        workDuration.observe(secondsSince(started));
        processingStartTimes.delete(key);
      }
    },
    updateUnfinishedWork() {
      let total = 0;
      let oldest = 0;
      for (const started of processingStartTimes.values()) {
        const age = secondsSince(started);
        total += age;
        if (age > oldest) oldest = age;
      }
      unfinished.set(total);
      longest.set(oldest);
    },
  };
}

/** @internal */
export function newRetryMetrics(
  name: string | undefined,
  provider: MetricsProvider | undefined,
): RetryMetrics {
  if (!metricsEnabled(name, provider)) return noRetryMetrics;
  const retries = provider!.newRetriesMetric(name!);
  return { retry: () => retries.inc() };
}
