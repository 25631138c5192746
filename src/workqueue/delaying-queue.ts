import { type Clock, realClock } from "../core/clock.ts";
import { newRetryMetrics, type RetryMetrics } from "./metrics.ts";
import { Queue, type QueueKey, type QueueOptions, type ShutdownOptions } from "./queue.ts";

/**
 * The longest the delay timer sleeps before looking at the clock again, in ms. client-go keeps a
 * 10 s heartbeat "as insurance against weird things happening"; here it also keeps every sleep
 * short enough for `setTimeout`, which cannot wait longer than about 24.8 days.
 */
const MAX_WAIT_MS = 10_000;

/** A key waiting for its delay: an entry of the min-heap ordered by `readyAt`, then `seq`. */
interface WaitFor<K> {
  key: K;
  readyAt: number;
  seq: number;
  index: number;
}

/**
 * A work queue that can also add a key after a delay (client-go's `DelayingInterface`), so a failed
 * key can be retried later instead of in a hot loop.
 *
 * Keys waiting for their delay sit in a min-heap of deadlines served by a single timer on the
 * injected clock, armed for the earliest deadline; there is no timer per key and no timer at all
 * while nothing waits. A waiting key is not in the queue yet: it does not count in `len`, and a
 * plain `add` of the same key meanwhile queues it at once (the delayed add then finds it already
 * queued, or queues it once more if it was processed in between, as in client-go).
 */
export class DelayingQueue<K extends QueueKey = string> extends Queue<K> {
  #clock: Clock;
  #retries: RetryMetrics;
  #heap: WaitFor<K>[] = [];
  #waiting = new Map<K, WaitFor<K>>();
  #seq = 0;
  #timer: { at: number; stop: AbortController } | undefined;

  constructor(options: QueueOptions = {}) {
    super(options);
    this.#clock = options.clock ?? realClock;
    this.#retries = newRetryMetrics(options.name, options.metricsProvider);
  }

  /**
   * Adds `key` once `delayMs` milliseconds have passed; a delay ≤ 0 (or NaN) adds it now. If the
   * key is already waiting, the earlier of the two ready times wins: a later `addAfter` never
   * postpones a key. `Infinity` parks the key until shutdown. Ignored after shutdown. Counts as a
   * retry in the metrics.
   */
  addAfter(key: K, delayMs: number): void {
    if (this.shuttingDown) return;
    this.#retries.retry();
    if (!(delayMs > 0)) {
      this.add(key);
      return;
    }
    const readyAt = this.#clock.now() + delayMs;
    const existing = this.#waiting.get(key);
    if (existing !== undefined) {
      if (readyAt < existing.readyAt) {
        existing.readyAt = readyAt;
        this.#up(existing.index);
      }
    } else {
      const entry: WaitFor<K> = { key, readyAt, seq: this.#seq++, index: this.#heap.length };
      this.#heap.push(entry);
      this.#waiting.set(key, entry);
      this.#up(entry.index);
    }
    this.#arm();
  }

  /** How many keys wait for their delay. For information only, like `len`. */
  get waiting(): number {
    return this.#heap.length;
  }

  /** Also stops the delay timer and drops every key still waiting for its delay. */
  override shutdown(options: ShutdownOptions = {}): Promise<void> {
    const result = super.shutdown(options);
    this.#disarm();
    this.#heap = [];
    this.#waiting.clear();
    return result;
  }

  /**
   * Makes sure the timer wakes no later than the earliest deadline (or the heartbeat). A timer that
   * already wakes in time is kept; one that would wake too late is replaced.
   */
  #arm(): void {
    const head = this.#heap[0];
    if (this.shuttingDown || head === undefined || head.readyAt === Infinity) {
      this.#disarm();
      return;
    }
    const now = this.#clock.now();
    const at = Math.min(head.readyAt, now + MAX_WAIT_MS);
    if (this.#timer !== undefined && this.#timer.at <= at) return;
    this.#disarm();
    const timer = { at, stop: new AbortController() };
    this.#timer = timer;
    this.#clock.sleep(at - now, timer.stop.signal).then(
      () => {
        if (this.#timer !== timer) return;
        this.#timer = undefined;
        this.#fire();
      },
      () => {}, // disarmed
    );
  }

  #disarm(): void {
    this.#timer?.stop.abort();
    this.#timer = undefined;
  }

  /** Adds every key whose time has come, in deadline order, then re-arms for the rest. */
  #fire(): void {
    const now = this.#clock.now();
    for (
      let head = this.#heap[0];
      head !== undefined && head.readyAt <= now;
      head = this.#heap[0]
    ) {
      this.#pop();
      this.#waiting.delete(head.key);
      this.add(head.key);
    }
    this.#arm();
  }

  #less(a: WaitFor<K>, b: WaitFor<K>): boolean {
    return a.readyAt < b.readyAt || (a.readyAt === b.readyAt && a.seq < b.seq);
  }

  #swap(i: number, j: number): void {
    const h = this.#heap;
    const a = h[i]!;
    const b = h[j]!;
    h[i] = b;
    h[j] = a;
    b.index = i;
    a.index = j;
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(this.#heap[i]!, this.#heap[parent]!)) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#heap.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) return;
      const right = left + 1;
      let child = left;
      if (right < n && this.#less(this.#heap[right]!, this.#heap[left]!)) child = right;
      if (!this.#less(this.#heap[child]!, this.#heap[i]!)) return;
      this.#swap(i, child);
      i = child;
    }
  }

  #pop(): void {
    const last = this.#heap.length - 1;
    this.#swap(0, last);
    this.#heap.pop();
    this.#down(0);
  }
}
