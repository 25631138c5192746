/**
 * A scripted ListWatch for unit tests of the watcher and informer: lists answer from a queue,
 * watches are channels the test pushes events into (or fails, or ends).
 */
import { ApiError } from "../core/errors.ts";
import type { KubernetesList, KubernetesObject } from "../core/meta.ts";
import type { ListOptions, WatchOptions } from "../core/options.ts";
import type { CallOptions, WatchCallOptions } from "../rest/client.ts";
import type { WatchEvent } from "../rest/watch.ts";
import type { ListWatch } from "./watcher.ts";

export class Channel<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #error: unknown;
  #ended = false;
  #wake: (() => void) | undefined;
  closed = false;

  push(item: T): void {
    this.#items.push(item);
    this.#wake?.();
  }
  fail(err: unknown): void {
    this.#error = err;
    this.#wake?.();
  }
  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    try {
      for (;;) {
        if (this.#items.length > 0) {
          yield this.#items.shift()!;
          continue;
        }
        if (this.#error !== undefined) throw this.#error;
        if (this.#ended) return;
        await new Promise<void>((r) => {
          this.#wake = r;
        });
        this.#wake = undefined;
      }
    } finally {
      this.closed = true;
    }
  }
}

export interface Obj extends KubernetesObject {
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion: string;
    labels?: Record<string, string>;
  };
  v?: number;
}

export const obj = (name: string, rv: string | number, extra: Partial<Obj> = {}): Obj => ({
  metadata: { name, namespace: "ns", resourceVersion: String(rv) },
  ...extra,
});

export const gone = () =>
  new ApiError({
    kind: "Status",
    code: 410,
    reason: "Expired",
    message: "too old resource version",
  });

export class FakeSource implements ListWatch<Obj> {
  lists: (KubernetesList<Obj> | Error)[] = [];
  listCalls: (ListOptions & CallOptions)[] = [];
  watchCalls: (WatchOptions & WatchCallOptions)[] = [];
  /** Streams for future watch calls, in order; a watch with none waits for one to be queued. */
  streams: (Channel<WatchEvent<Obj>> | Error)[] = [];
  #waiting: (() => void)[] = [];

  async list(options: ListOptions & CallOptions = {}): Promise<KubernetesList<Obj>> {
    this.listCalls.push(options);
    const next = this.lists.shift();
    if (next === undefined) throw new Error("no list queued");
    if (next instanceof Error) throw next;
    return next;
  }

  watch(options: WatchOptions & WatchCallOptions = {}): AsyncIterable<WatchEvent<Obj>> {
    this.watchCalls.push(options);
    const self = this;
    return {
      async *[Symbol.asyncIterator]() {
        while (self.streams.length === 0) {
          if (options.signal?.aborted) throw options.signal.reason;
          await new Promise<void>((r) => {
            self.#waiting.push(r);
            options.signal?.addEventListener("abort", () => r(), { once: true });
          });
        }
        const s = self.streams.shift()!;
        if (s instanceof Error) throw s;
        const abort = () => s.fail(options.signal!.reason);
        options.signal?.addEventListener("abort", abort, { once: true });
        try {
          yield* s;
        } finally {
          options.signal?.removeEventListener("abort", abort);
        }
      },
    };
  }

  addStream(s: Channel<WatchEvent<Obj>> | Error): void {
    this.streams.push(s);
    for (const w of this.#waiting.splice(0)) w();
  }
}

export const list = (rv: string, items: Obj[], cont?: string): KubernetesList<Obj> => ({
  metadata: { resourceVersion: rv, ...(cont ? { continue: cont } : {}) },
  items,
});

/** Lets queued microtasks and immediates run. */
export const tick = (n = 3) =>
  new Promise<void>((r) => {
    let i = 0;
    const step = () => (++i >= n ? r() : setImmediate(step));
    setImmediate(step);
  });
