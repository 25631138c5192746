import { type Clock, realClock } from "../core/clock.ts";
import {
  type MetricsProvider,
  metricsEnabled,
  newQueueMetrics,
  type QueueMetrics,
} from "./metrics.ts";

/**
 * What a queue can hold: anything but `null` and `undefined` (`get()` answers `undefined` at
 * shutdown). Keys are compared as `Map` keys are: strings and numbers by value, objects by
 * identity. Controllers use `namespace/name` strings.
 */
export type QueueKey = NonNullable<unknown>;

export interface QueueOptions {
  /**
   * The queue's name, passed to the metrics provider. A queue reports metrics only when it has both
   * a name and a `metricsProvider`.
   */
  name?: string;
  metricsProvider?: MetricsProvider;
  /** The clock for delays and metrics; the real one by default. */
  clock?: Clock;
  /**
   * How often the unfinished-work and longest-running-processor gauges are recomputed, in ms; 500
   * by default, as client-go. The tick runs only while metrics are on and stops at shutdown.
   */
  unfinishedWorkUpdatePeriodMs?: number;
}

export interface GetOptions {
  /**
   * Stops waiting for a key: the promise rejects with `signal.reason` and no key is taken. A key
   * already handed out is not affected.
   */
  signal?: AbortSignal;
}

export interface ShutdownOptions {
  /**
   * Also wait until every key being processed is marked done (client-go's `ShutDownWithDrain`).
   * Keys still queued are not waited for (workers keep receiving them until the queue is empty).
   * A later `shutdown()` without `drain` ends the wait at once.
   */
  drain?: boolean;
  /** Stops waiting for the drain: the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** A key handed to a worker, and the lease that says which hand-out it was. */
interface Taken<K> {
  key: K;
  lease: number;
}

interface Waiter<K> {
  settle(taken: Taken<K> | undefined): void;
}

/**
 * A work queue with client-go's guarantees (`util/workqueue`'s `Type`):
 *
 * - **Fair**: keys are handed out in the order they were added.
 * - **Stingy**: a key added many times before it is handed out is processed once. Each add after a
 *   key has been handed out marks it for one more round.
 * - **One at a time**: a key is never handed to two workers at once. A key added while it is being
 *   processed waits, and is queued again only when the worker calls `done(key)`.
 * - **Shutdown**: after `shutdown()`, adds are ignored; workers still receive every key that was
 *   queued, then `get()` answers `undefined` and iteration ends.
 *
 * Take keys with `for await (const key of queue)` (see `iterate` for the contract: the iterator
 * marks each key done when the loop moves on or exits) or with `get()` and `done(key)`.
 */
export class Queue<K extends QueueKey = string> implements AsyncIterable<K> {
  /** The order keys are handed out in; every key here is dirty and not being processed. */
  #queue = new Fifo<K>();
  /** Every key that needs processing (queued, or re-added while being processed). */
  #dirty = new Set<K>();
  /** Keys being processed, each with the lease of the hand-out that took it. */
  #processing = new Map<K, number>();
  #leases = 0;
  /** Workers waiting in `get()`; only non-empty while the queue is. */
  #waiters = new Set<Waiter<K>>();
  #drainWaiters = new Set<() => void>();
  #shuttingDown = false;
  #metrics: QueueMetrics<K>;
  #metricsTick: AbortController | undefined;

  constructor(options: QueueOptions = {}) {
    const clock = options.clock ?? realClock;
    const periodMs = options.unfinishedWorkUpdatePeriodMs ?? 500;
    if (!(periodMs > 0)) {
      throw new RangeError(`unfinishedWorkUpdatePeriodMs must be > 0, got ${periodMs}`);
    }
    this.#metrics = newQueueMetrics<K>(options.name, options.metricsProvider, clock);
    if (metricsEnabled(options.name, options.metricsProvider)) {
      // Like client-go, the tick exists only for queues that report metrics, so an unnamed queue
      // keeps no timer alive.
      this.#metricsTick = new AbortController();
      void this.#updateUnfinishedWorkLoop(clock, periodMs, this.#metricsTick.signal);
    }
  }

  /**
   * Marks `key` as needing processing. Ignored after shutdown and when the key is already waiting
   * to be processed; a key being processed is queued again when it is done.
   */
  add(key: K): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#metrics.add(key);
    this.#dirty.add(key);
    if (this.#processing.has(key)) return;
    this.#queue.push(key);
    this.#dispatch();
  }

  /**
   * How many keys are queued, not counting keys being processed or waiting for a delay. For
   * information only: do not gate `add` or `get` on it.
   */
  get len(): number {
    return this.#queue.length;
  }

  /** Whether `shutdown()` has been called. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * Waits for a key and hands it out, marking it as being processed: it is not handed to anyone
   * else until `done(key)`. Resolves `undefined` once the queue is shut down and empty; the worker
   * should then stop. Waiting workers are served first come, first served.
   *
   * The caller must call `done(key)` when it has finished with the key, whether processing
   * succeeded or not; otherwise the key is never processed again and a draining shutdown never
   * ends.
   */
  async get(options: GetOptions = {}): Promise<K | undefined> {
    return (await this.#take(options.signal))?.key;
  }

  /**
   * Marks `key` as processed. If it was added again meanwhile, it goes to the back of the queue.
   * Ignored for a key that is not being processed, so a second `done` is harmless.
   */
  done(key: K): void {
    if (!this.#processing.has(key)) return;
    this.#metrics.done(key);
    this.#processing.delete(key);
    if (this.#dirty.has(key)) {
      this.#queue.push(key);
      this.#dispatch();
    }
    if (this.#processing.size === 0) this.#drained();
  }

  /**
   * Stops the queue: later adds are ignored, workers receive what is still queued and then
   * `undefined`. Nothing the queue started keeps running (the metrics tick, and in a delaying
   * queue the timer and every key still waiting for its delay are dropped). May be called more than
   * once.
   *
   * Resolves at once, or with `{ drain: true }` when no key is being processed any more. A drain
   * relies on workers calling `done` (the iterator does it for them); a key that is never done
   * keeps it waiting, which a `signal` or a later plain `shutdown()` can end.
   */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    const { drain = false, signal } = options;
    this.#shuttingDown = true;
    this.#metricsTick?.abort();
    this.#metricsTick = undefined;
    this.#dispatch();
    if (!drain) {
      this.#drained();
      return Promise.resolve();
    }
    if (this.#processing.size === 0) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#drainWaiters.delete(finish);
        reject(signal!.reason);
      };
      const finish = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#drainWaiters.add(finish);
    });
  }

  /**
   * Iterates over the queue as one worker: each step waits for a key (as `get()` does) and the
   * iteration ends when the queue is shut down and empty. Several loops over one queue are several
   * workers; each key goes to exactly one of them.
   *
   * **Done is automatic.** The iterator marks the key it handed out as done when the loop asks for
   * the next key, and when the loop exits by `break`, `return` or a thrown error. A key therefore
   * can never stay "being processed" because a loop body threw, and a draining shutdown cannot hang
   * on it. Calling `queue.done(key)` inside the body is allowed and releases the key early (for
   * instance before slow unrelated work); the iterator then does not mark it done a second time,
   * even if another worker has taken the same key meanwhile. Because the key is held until the loop
   * moves on, the body must finish its work before the next iteration: to hand a key to other
   * concurrent work, use `get()` and `done()` instead.
   *
   * `for await` always finishes its iterator; an iterator driven by hand must be run to its end or
   * closed with `return()`, or the key it last handed out stays held. A body that never awaits
   * anything asynchronous runs queued keys back to back without yielding to the event loop, as any
   * synchronous loop would; a key that re-adds itself with `add` in such a body never lets go (use
   * `addAfter` or `addRateLimited` for retries).
   *
   * If `signal` aborts while waiting for a key, the loop throws `signal.reason`.
   */
  async *iterate(options: GetOptions = {}): AsyncGenerator<K, void, undefined> {
    for (;;) {
      const taken = await this.#take(options.signal);
      if (taken === undefined) return;
      try {
        yield taken.key;
      } finally {
        this.#release(taken);
      }
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<K, void, undefined> {
    return this.iterate();
  }

  /** Hands out the next key with a fresh lease, or waits for one. */
  #take(signal: AbortSignal | undefined): Promise<Taken<K> | undefined> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const key = this.#queue.shift();
    if (key !== undefined) return Promise.resolve(this.#lease(key));
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#waiters.delete(waiter);
        reject(signal!.reason);
      };
      const waiter: Waiter<K> = {
        settle(taken) {
          signal?.removeEventListener("abort", onAbort);
          resolve(taken);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.add(waiter);
    });
  }

  /** Moves a key from queued to being processed. Runs synchronously at hand-out, never later. */
  #lease(key: K): Taken<K> {
    this.#metrics.get(key);
    const lease = ++this.#leases;
    this.#processing.set(key, lease);
    this.#dirty.delete(key);
    return { key, lease };
  }

  /** Marks a hand-out done unless its key was already done (and perhaps handed out again). */
  #release(taken: Taken<K>): void {
    if (this.#processing.get(taken.key) === taken.lease) this.done(taken.key);
  }

  /** Gives queued keys to waiting workers; at shutdown, tells idle workers to stop. */
  #dispatch(): void {
    for (const waiter of this.#waiters) {
      const key = this.#queue.shift();
      if (key === undefined && !this.#shuttingDown) return;
      this.#waiters.delete(waiter);
      waiter.settle(key === undefined ? undefined : this.#lease(key));
    }
  }

  #drained(): void {
    const waiters = [...this.#drainWaiters];
    this.#drainWaiters.clear();
    for (const resolve of waiters) resolve();
  }

  async #updateUnfinishedWorkLoop(clock: Clock, periodMs: number, signal: AbortSignal) {
    for (;;) {
      try {
        await clock.sleep(periodMs, signal);
      } catch {
        return; // shut down
      }
      if (this.#shuttingDown) return;
      this.#metrics.updateUnfinishedWork();
    }
  }
}

/** A FIFO with O(1) shift: an array read from a moving head, compacted now and then. */
class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    // Drop the reference so a handed-out key can be collected.
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}
