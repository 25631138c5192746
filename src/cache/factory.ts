import type { Client } from "../client/client.ts";
import type { KubernetesObject } from "../core/meta.ts";
import type { ResourceRef, ResourceType } from "../core/resource.ts";
import { SharedIndexInformer, type SharedIndexInformerOptions } from "./informer.ts";
import { Lister } from "./lister.ts";
import type { WatcherOptions } from "./watcher.ts";

type Selectors = Pick<WatcherOptions, "labelSelector" | "fieldSelector">;

export interface SharedInformerFactoryOptions {
  /** Watch only this namespace (namespaced resources); all namespaces when unset. */
  namespace?: string;
  /** Default resync period for every informer's handlers; 0 (the default) disables it. */
  resyncMs?: number;
  /** Narrows every informer's list and watch, e.g. to a label selector. */
  tweakListOptions?: (options: Selectors) => Selectors;
  /** Applied to every object before it enters a cache (e.g. dropping managedFields). */
  transform?: (obj: KubernetesObject) => KubernetesObject;
  /** Further options for every informer (stall timeout, page size, error callback, clock...). */
  informerOptions?: Omit<
    SharedIndexInformerOptions<KubernetesObject>,
    "resyncMs" | "transform" | "labelSelector" | "fieldSelector"
  >;
}

function keyOf(r: ResourceRef): string {
  return `${r.group}/${r.version}/${r.plural}`;
}

/**
 * One informer per resource however many parts of a program ask for it, as client-go's
 * SharedInformerFactory: ask with `informerFor(Pod)` or `lister(Pod)` (before or after `start`),
 * `start()` to run every informer not yet running, `waitForSync()`, and `shutdown()` to stop them
 * all and wait until they have stopped.
 */
export class SharedInformerFactory {
  readonly #client: Client;
  readonly #options: SharedInformerFactoryOptions;
  readonly #informers = new Map<
    string,
    { resource: ResourceRef; informer: SharedIndexInformer<KubernetesObject>; run?: Promise<void> }
  >();
  readonly #stop = new AbortController();

  constructor(client: Client, options: SharedInformerFactoryOptions = {}) {
    this.#client = client;
    this.#options = options;
  }

  informerFor<T extends KubernetesObject>(
    resource: ResourceType<T, boolean> | ResourceRef,
  ): SharedIndexInformer<T> {
    const key = keyOf(resource);
    let entry = this.#informers.get(key);
    if (!entry) {
      const api = this.#client.api<T, boolean>(resource as ResourceRef);
      const scoped =
        resource.namespaced && this.#options.namespace
          ? (api as ReturnType<typeof api.namespace>).namespace(this.#options.namespace)
          : api;
      const selectors = this.#options.tweakListOptions?.({}) ?? {};
      const informer = new SharedIndexInformer<T>(scoped, {
        ...(this.#options.informerOptions as SharedIndexInformerOptions<T>),
        ...selectors,
        ...(this.#options.resyncMs === undefined ? {} : { resyncMs: this.#options.resyncMs }),
        ...(this.#options.transform
          ? { transform: this.#options.transform as unknown as (o: T) => T }
          : {}),
      });
      entry = { resource, informer: informer as unknown as SharedIndexInformer<KubernetesObject> };
      this.#informers.set(key, entry);
    }
    return entry.informer as unknown as SharedIndexInformer<T>;
  }

  lister<T extends KubernetesObject>(resource: ResourceType<T, boolean> | ResourceRef): Lister<T> {
    return new Lister<T>(this.informerFor<T>(resource).indexer);
  }

  /** Runs every informer not yet running; returns at once. Safe to call again after adding more. */
  start(): void {
    for (const entry of this.#informers.values()) {
      if (entry.run || this.#stop.signal.aborted) continue;
      entry.run = entry.informer.run({ signal: this.#stop.signal }).catch((err: unknown) => {
        process.emitWarning(
          `informer for ${keyOf(entry.resource)} stopped: ${(err as Error)?.message ?? String(err)}`,
        );
      });
    }
  }

  /** Waits until every started informer has synced; the map says which did (false on abort). */
  async waitForSync(
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<Map<string, boolean>> {
    const out = new Map<string, boolean>();
    await Promise.all(
      [...this.#informers].map(async ([key, e]) => {
        if (!e.run) return;
        out.set(key, await e.informer.waitForSync(options));
      }),
    );
    return out;
  }

  /** Stops every informer and resolves when all have stopped. */
  async shutdown(): Promise<void> {
    this.#stop.abort();
    await Promise.all([...this.#informers.values()].map((e) => e.run));
  }
}
