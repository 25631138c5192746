/**
 * A controller runner in the shape client-go's examples and controller-runtime share: informers
 * feed keys into a rate-limited work queue, and workers reconcile one key at a time.
 *
 * Guarantees:
 * - A key is never reconciled by two workers at once (the work queue's rule), and a key changed
 *   while it is being reconciled is reconciled again afterwards.
 * - A failed reconcile is retried with the queue's rate limiter (per-key exponential backoff and
 *   an overall token bucket); a success `forget`s the key's failures; a reconcile may ask to be
 *   run again after a delay.
 * - Owned objects lead to their owner's key through their controller ownerReference, so a change
 *   to a ReplicaSet a Deployment controller created reconciles that Deployment.
 * - On abort, no new reconcile starts; those in flight finish (they get a signal that aborts only
 *   if they overrun `shutdownGraceMs`), then `run` resolves.
 */
import type { EventHandler } from "../cache/informer.ts";
import { DeletedFinalStateUnknown } from "../cache/store.ts";
import { type Clock, realClock } from "../core/clock.ts";
import type { KubernetesObject, OwnerReference } from "../core/meta.ts";
import type { RateLimiter } from "../workqueue/rate-limiters.ts";
import { RateLimitingQueue } from "../workqueue/rate-limiting-queue.ts";

/** What a controller reconciles: one object, by namespace and name (namespace "" if cluster-scoped). */
export interface ObjectKey {
  namespace: string;
  name: string;
}

export interface ReconcileResult {
  /** Reconcile this key again after this many milliseconds (even if nothing changes). */
  requeueAfterMs?: number;
}

/** A reconcile that returns nothing (the common case) is done until something changes. */
export type ReconcileOutcome = ReconcileResult | undefined;

export type Reconcile = (
  key: ObjectKey,
  context: { signal: AbortSignal; attempt: number },
  // biome-ignore lint/suspicious/noConfusingVoidType: lets `async () => {}` be a reconcile
) => Promise<ReconcileOutcome | void>;

/** What the controller needs of an informer (a `SharedIndexInformer` of any object type). */
export interface InformerSource<T> {
  addEventHandler(handler: EventHandler<T>): unknown;
  waitForSync(options?: { signal?: AbortSignal }): Promise<boolean>;
}

/** A resource whose objects are mapped to keys of the primary resource. */
export interface Watched<T extends KubernetesObject = KubernetesObject> {
  informer: InformerSource<T>;
  /** The primary keys a change to `obj` concerns. */
  map(obj: T): ObjectKey[];
}

export interface ControllerOptions<T extends KubernetesObject> {
  /** The primary resource: each of its objects is one key. */
  for: InformerSource<T>;
  /**
   * Resources the primary objects own: a change to one reconciles the owner named by its
   * controller ownerReference, if the owner is of `ownerKind`.
   */
  owns?: {
    informer: InformerSource<KubernetesObject>;
    ownerKind: string;
    ownerApiVersion?: string;
  }[];
  /** Other resources, mapped to primary keys by a function. */
  watches?: Watched[];
  reconcile: Reconcile;
  /** Concurrent reconciles (of different keys); 1 by default. */
  workers?: number;
  rateLimiter?: RateLimiter<string>;
  /** How long in-flight reconciles may run after shutdown begins before their signal aborts. */
  shutdownGraceMs?: number;
  /** Told of each failed reconcile (it will be retried). */
  onError?: (error: unknown, key: ObjectKey) => void;
  name?: string;
  clock?: Clock;
}

const keyString = (k: ObjectKey) => (k.namespace ? `${k.namespace}/${k.name}` : k.name);

function parseKey(s: string): ObjectKey {
  const i = s.indexOf("/");
  return i < 0 ? { namespace: "", name: s } : { namespace: s.slice(0, i), name: s.slice(i + 1) };
}

function objectOf<T>(o: T | DeletedFinalStateUnknown<T>): T {
  return o instanceof DeletedFinalStateUnknown ? o.obj : o;
}

export function keyOf(obj: KubernetesObject): ObjectKey {
  return { namespace: obj.metadata?.namespace ?? "", name: obj.metadata?.name ?? "" };
}

/** The owner named by an object's controller ownerReference, as a key in the object's namespace. */
export function controllerOwnerKey(
  obj: KubernetesObject,
  kind: string,
  apiVersion?: string,
): ObjectKey | undefined {
  const ref = obj.metadata?.ownerReferences?.find(
    (r: OwnerReference) =>
      r.controller === true &&
      r.kind === kind &&
      (apiVersion === undefined || r.apiVersion === apiVersion),
  );
  return ref ? { namespace: obj.metadata?.namespace ?? "", name: ref.name } : undefined;
}

export class Controller<T extends KubernetesObject = KubernetesObject> {
  readonly queue: RateLimitingQueue<string>;
  readonly #options: ControllerOptions<T>;
  readonly #clock: Clock;
  #running = false;

  constructor(options: ControllerOptions<T>) {
    this.#options = options;
    this.#clock = options.clock ?? realClock;
    this.queue = new RateLimitingQueue<string>({
      clock: this.#clock,
      ...(options.name ? { name: options.name } : {}),
      ...(options.rateLimiter ? { rateLimiter: options.rateLimiter } : {}),
    });
    const enqueue = (k: ObjectKey | undefined) => {
      if (k?.name) this.queue.add(keyString(k));
    };
    options.for.addEventHandler({
      onAdd: (o) => enqueue(keyOf(o)),
      onUpdate: (_old, o) => enqueue(keyOf(o)),
      onDelete: (o) => enqueue(keyOf(objectOf(o))),
    });
    for (const owned of options.owns ?? []) {
      const toOwner = (o: KubernetesObject) =>
        enqueue(controllerOwnerKey(o, owned.ownerKind, owned.ownerApiVersion));
      owned.informer.addEventHandler({
        onAdd: toOwner,
        onUpdate: (old, o) => {
          // An ownership change concerns the old owner as well as the new one.
          toOwner(old);
          toOwner(o);
        },
        onDelete: (o) => toOwner(objectOf(o)),
      });
    }
    for (const w of options.watches ?? []) {
      const mapped = (o: KubernetesObject) => {
        for (const k of w.map(o)) enqueue(k);
      };
      w.informer.addEventHandler({
        onAdd: mapped,
        onUpdate: (_old, o) => mapped(o),
        onDelete: (o) => mapped(objectOf(o)),
      });
    }
  }

  /**
   * Runs the workers until `signal` aborts, then shuts down gracefully. The informers are run by
   * their owner (a factory, usually): this waits for them to sync before the first reconcile.
   */
  async run(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#running) throw new Error("a controller runs once at a time");
    this.#running = true;
    const signal = options.signal;
    const force = new AbortController();
    const informers = [
      this.#options.for,
      ...(this.#options.owns ?? []).map((o) => o.informer),
      ...(this.#options.watches ?? []).map((w) => w.informer),
    ];
    const synced = await Promise.all(informers.map((i) => i.waitForSync(signal ? { signal } : {})));
    let graceTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      void this.queue.shutdown({ drain: true });
      const grace = this.#options.shutdownGraceMs ?? 30_000;
      graceTimer = setTimeout(
        () => force.abort(new Error("controller shutdown grace period ran out")),
        grace,
      );
    };
    if (signal?.aborted || synced.some((s) => !s)) {
      this.#running = false;
      await this.queue.shutdown();
      return;
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    const worker = async () => {
      for await (const key of this.queue) {
        // After abort the queue still hands out what was queued: those are dropped, not started.
        if (signal?.aborted) continue;
        const k = parseKey(key);
        try {
          const result = await this.#options.reconcile(k, {
            signal: force.signal,
            attempt: this.queue.numRequeues(key) + 1,
          });
          this.queue.forget(key);
          if (result?.requeueAfterMs !== undefined && !this.queue.shuttingDown)
            this.queue.addAfter(key, result.requeueAfterMs);
        } catch (err) {
          try {
            this.#options.onError?.(err, k);
          } catch {
            // The error callback is an observer.
          }
          if (!this.queue.shuttingDown) this.queue.addRateLimited(key);
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.max(1, this.#options.workers ?? 1) }, worker));
    } finally {
      if (graceTimer) clearTimeout(graceTimer);
      signal?.removeEventListener("abort", onAbort);
      this.#running = false;
    }
  }
}
