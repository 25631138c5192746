/**
 * SharedIndexInformer: one list+watch per resource, a local cache (an `Indexer`) kept in step with
 * the server, and any number of event handlers.
 *
 * The contract, as client-go states it for its SharedInformer:
 * - The cache converges to the server's state: after any disconnect, relist or compaction, the
 *   informer catches up, and objects deleted while it was not watching are removed from the cache
 *   and reported as `DeletedFinalStateUnknown` tombstones carrying the last state seen.
 * - Each handler receives the notifications for one object in the order they happened, and never
 *   sees an object go back to an older resourceVersion. Handlers run independently: each has its
 *   own unbounded buffer, so a slow handler delays only itself, never the watch or other handlers.
 *   A handler that returns a promise is awaited before its next notification.
 * - A handler added after the informer started first receives an `onAdd(obj, true)` for every
 *   object already in the cache.
 * - Notifications are not guaranteed to show every intermediate state: after a relist an object
 *   may jump several versions. A relist reports `onUpdate` only for objects whose resourceVersion
 *   changed (client-go reports every object). Periodic resyncs deliberately deliver
 *   `onUpdate(o, o)` to the handlers that asked for them.
 * - Objects in the cache and in notifications are shared: do not modify them.
 */
import { type Clock, realClock } from "../core/clock.ts";
import type { KubernetesObject } from "../core/meta.ts";
import { DeletedFinalStateUnknown, Indexer, type IndexFunc, type KeyFunc } from "./store.ts";
import { type ListWatch, type WatcherOptions, type WatcherPhase, watcher } from "./watcher.ts";

export interface EventHandler<T> {
  /** `isInInitialList`: the object was part of the first list (or the cache a late handler joined). */
  onAdd?(obj: T, isInInitialList: boolean): void | Promise<void>;
  onUpdate?(oldObj: T, newObj: T): void | Promise<void>;
  onDelete?(obj: T | DeletedFinalStateUnknown<T>): void | Promise<void>;
}

export interface HandlerRegistration {
  /** The informer has synced and this handler has been given (and has handled) the initial list. */
  hasSynced(): boolean;
  /** Stops deliveries to this handler; what is buffered for it is dropped. */
  remove(): void;
}

export interface InformerHealth {
  /** False while the list or watch keeps failing. */
  healthy: boolean;
  /** When the current run of failures began (clock ms). */
  failingSince?: number;
  lastError?: unknown;
  lastErrorPhase?: WatcherPhase;
}

export interface SharedIndexInformerOptions<T> extends Omit<WatcherOptions, "signal" | "clock"> {
  /** Default resync period for handlers that do not give one; 0 disables resync. */
  resyncMs?: number;
  indexers?: Record<string, IndexFunc<T>>;
  keyFunc?: KeyFunc<T>;
  /**
   * Applied to every object before it enters the cache (and so before handlers see it), e.g. to
   * drop `managedFields`. It may modify the object it is given; it should be idempotent.
   */
  transform?: (obj: T) => T;
  clock?: Clock;
}

type Notification<T> =
  | { kind: "add"; obj: T; initial: boolean }
  | { kind: "update"; oldObj: T; newObj: T }
  | { kind: "delete"; obj: T | DeletedFinalStateUnknown<T> };

/** One handler with its own buffer and delivery loop. */
class Listener<T> {
  readonly handler: EventHandler<T>;
  readonly resyncMs: number;
  nextResync: number;
  #buffer: Notification<T>[] = [];
  #head = 0;
  #running = false;
  #removed = false;
  /** Initial notifications queued but not yet handled. */
  initialPending = 0;
  initialQueued = false;
  readonly #onHandlerError: (err: unknown) => void;

  constructor(
    handler: EventHandler<T>,
    resyncMs: number,
    now: number,
    onHandlerError: (err: unknown) => void,
  ) {
    this.handler = handler;
    this.resyncMs = resyncMs;
    this.nextResync = now + resyncMs;
    this.#onHandlerError = onHandlerError;
  }

  get removed(): boolean {
    return this.#removed;
  }

  remove(): void {
    this.#removed = true;
    this.#buffer = [];
    this.#head = 0;
    this.initialPending = 0;
  }

  push(n: Notification<T>): void {
    if (this.#removed) return;
    if (n.kind === "add" && n.initial) this.initialPending++;
    this.#buffer.push(n);
    if (!this.#running) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#head < this.#buffer.length && !this.#removed) {
        const n = this.#buffer[this.#head++]!;
        if (this.#head > 1024 && this.#head * 2 > this.#buffer.length) {
          this.#buffer = this.#buffer.slice(this.#head);
          this.#head = 0;
        }
        try {
          let r: void | Promise<void> | undefined;
          if (n.kind === "add") r = this.handler.onAdd?.(n.obj, n.initial);
          else if (n.kind === "update") r = this.handler.onUpdate?.(n.oldObj, n.newObj);
          else r = this.handler.onDelete?.(n.obj);
          if (r && typeof (r as Promise<void>).then === "function") await r;
        } catch (err) {
          this.#onHandlerError(err);
        } finally {
          if (n.kind === "add" && n.initial && this.initialPending > 0) this.initialPending--;
        }
      }
    } finally {
      this.#running = false;
      if (this.#head >= this.#buffer.length) {
        this.#buffer = [];
        this.#head = 0;
      } else if (!this.#removed) void this.#drain();
    }
  }

  /** Resolves when everything pushed so far has been handled. */
  get idle(): boolean {
    return !this.#running && this.#head >= this.#buffer.length;
  }
}

export class SharedIndexInformer<T extends KubernetesObject = KubernetesObject> {
  readonly indexer: Indexer<T>;
  readonly #api: ListWatch<T>;
  readonly #options: SharedIndexInformerOptions<T>;
  readonly #clock: Clock;
  readonly #listeners = new Set<Listener<T>>();
  #started = false;
  #stopped = false;
  #synced = false;
  #lastSyncRv = "";
  #health: InformerHealth = { healthy: true };
  #syncWaiters: (() => void)[] = [];

  constructor(api: ListWatch<T>, options: SharedIndexInformerOptions<T> = {}) {
    this.#api = api;
    this.#options = options;
    this.#clock = options.clock ?? realClock;
    this.indexer = new Indexer<T>({
      ...(options.keyFunc ? { keyFunc: options.keyFunc } : {}),
      ...(options.indexers ? { indexers: options.indexers } : {}),
    });
  }

  /** Adds index functions; only before `run()`, as in client-go. */
  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    if (this.#started) throw new Error("indexers must be added before the informer starts");
    this.indexer.addIndexers(indexers);
  }

  /**
   * Registers a handler. `resyncMs` asks for periodic `onUpdate(o, o)` for every cached object
   * (at least 1 s; defaults to the informer's `resyncMs`; 0 disables).
   */
  addEventHandler(
    handler: EventHandler<T>,
    options: { resyncMs?: number } = {},
  ): HandlerRegistration {
    let resync = options.resyncMs ?? this.#options.resyncMs ?? 0;
    if (resync > 0 && resync < 1000) resync = 1000;
    const listener = new Listener<T>(handler, resync, this.#clock.now(), (err) =>
      this.#handlerError(err),
    );
    this.#listeners.add(listener);
    if (this.#synced) {
      // A late joiner first learns what everyone else already knows.
      listener.initialQueued = true;
      for (const obj of this.indexer.list()) listener.push({ kind: "add", obj, initial: true });
    }
    return {
      hasSynced: () =>
        this.#synced &&
        listener.initialQueued &&
        listener.initialPending === 0 &&
        !listener.removed,
      remove: () => {
        listener.remove();
        this.#listeners.delete(listener);
      },
    };
  }

  #handlerError(err: unknown): void {
    // Handlers own their errors; an escaped one is reported and the next notification proceeds.
    queueMicrotask(() => {
      process.emitWarning(
        `an informer event handler threw: ${(err as Error)?.message ?? String(err)}`,
        {
          code: "KUBEKIT_HANDLER_ERROR",
        },
      );
    });
  }

  #notify(n: Notification<T>): void {
    for (const l of this.#listeners) l.push(n);
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  /** The resourceVersion of the last list or event the cache reflects. */
  lastSyncResourceVersion(): string {
    return this.#lastSyncRv;
  }

  health(): InformerHealth {
    return { ...this.#health };
  }

  get isStopped(): boolean {
    return this.#stopped;
  }

  /**
   * Resolves true once the cache has synced, or false if `signal` aborts (or `timeoutMs` passes)
   * first, like client-go's `WaitForCacheSync`.
   */
  waitForSync(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<boolean> {
    if (this.#synced) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = options.timeoutMs
        ? setTimeout(() => done(false), options.timeoutMs)
        : undefined;
      const onAbort = () => done(false);
      const done = (v: boolean) => {
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        this.#syncWaiters = this.#syncWaiters.filter((w) => w !== ok);
        resolve(v);
      };
      const ok = () => done(true);
      if (options.signal?.aborted) return done(false);
      options.signal?.addEventListener("abort", onAbort, { once: true });
      this.#syncWaiters.push(ok);
    });
  }

  #transform(obj: T): T {
    return this.#options.transform ? this.#options.transform(obj) : obj;
  }

  /**
   * Lists, watches and keeps the cache until `signal` aborts; resolves then. One informer runs
   * once.
   */
  async run(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#started) throw new Error("an informer can be run only once");
    this.#started = true;
    const signal = options.signal;
    const {
      resyncMs: _r,
      indexers: _i,
      keyFunc: _k,
      transform: _t,
      clock: _c,
      onError,
      ...watchOptions
    } = this.#options;
    const resyncStop = new AbortController();
    const resyncLoop = this.#resyncLoop(resyncStop.signal);
    let pending: Map<string, T> | undefined;
    try {
      for await (const ev of watcher(this.#api, {
        ...watchOptions,
        clock: this.#clock,
        ...(signal ? { signal } : {}),
        onError: (err, phase) => {
          if (this.#health.healthy)
            this.#health = { healthy: false, failingSince: this.#clock.now() };
          this.#health.lastError = err;
          this.#health.lastErrorPhase = phase;
          onError?.(err, phase);
        },
      })) {
        switch (ev.type) {
          case "init":
            pending = new Map();
            break;
          case "initApply": {
            const obj = this.#transform(ev.object);
            pending?.set(this.indexer.keyFunc(obj), obj);
            break;
          }
          case "initDone":
            this.#replace(pending ?? new Map(), ev.resourceVersion);
            pending = undefined;
            this.#healthy();
            break;
          case "apply": {
            const obj = this.#transform(ev.object);
            const old = this.indexer.set(obj);
            this.#lastSyncRv = obj.metadata?.resourceVersion ?? this.#lastSyncRv;
            this.#notify(
              old === undefined
                ? { kind: "add", obj, initial: false }
                : { kind: "update", oldObj: old, newObj: obj },
            );
            this.#healthy();
            break;
          }
          case "delete": {
            const obj = this.#transform(ev.object);
            const old = this.indexer.delete(obj);
            this.#lastSyncRv = obj.metadata?.resourceVersion ?? this.#lastSyncRv;
            if (old !== undefined) this.#notify({ kind: "delete", obj });
            this.#healthy();
            break;
          }
        }
      }
    } finally {
      this.#stopped = true;
      resyncStop.abort();
      await resyncLoop;
      for (const l of this.#listeners) l.remove();
      this.#listeners.clear();
    }
  }

  #healthy(): void {
    if (!this.#health.healthy) this.#health = { healthy: true };
  }

  /** Makes the cache equal to a fresh list, telling handlers what changed. */
  #replace(items: Map<string, T>, rv: string): void {
    const first = !this.#synced;
    for (const [key, old] of [...this.indexer.entries()]) {
      if (!items.has(key)) {
        this.indexer.deleteKey(key);
        this.#notify({ kind: "delete", obj: new DeletedFinalStateUnknown(key, old) });
      }
    }
    for (const [key, obj] of items) {
      const old = this.indexer.getByKey(key);
      this.indexer.set(obj);
      if (old === undefined) this.#notify({ kind: "add", obj, initial: first });
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) {
        this.#notify({ kind: "update", oldObj: old, newObj: obj });
      }
    }
    this.#lastSyncRv = rv;
    if (first) {
      for (const l of this.#listeners) l.initialQueued = true;
      this.#synced = true;
      for (const w of [...this.#syncWaiters]) w();
    }
  }

  async #resyncLoop(signal: AbortSignal): Promise<void> {
    for (;;) {
      const periods = [...this.#listeners].map((l) => l.resyncMs).filter((p) => p > 0);
      const check = periods.length > 0 ? Math.min(...periods) : 1000;
      try {
        await this.#clock.sleep(check, signal);
      } catch {
        return;
      }
      if (!this.#synced) continue;
      const now = this.#clock.now();
      const objects = this.indexer.list();
      for (const l of this.#listeners) {
        if (l.resyncMs > 0 && now >= l.nextResync) {
          l.nextResync = now + l.resyncMs;
          for (const obj of objects) l.push({ kind: "update", oldObj: obj, newObj: obj });
        }
      }
    }
  }
}
