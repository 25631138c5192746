/**
 * Store and Indexer: client-go's thread-safe store, for a single-threaded runtime. Objects are
 * kept by key (`namespace/name`, or `name` for cluster-scoped objects); an Indexer also keeps
 * secondary indexes computed by index functions, always consistent with the objects.
 *
 * Objects in a store are shared with whoever reads them: treat them as read-only (copy before
 * changing one), exactly as with client-go's caches.
 */
import type { KubernetesObject } from "../core/meta.ts";

export type KeyFunc<T> = (obj: T) => string;
/** Returns the index values of an object: e.g. its namespace, or its owner's UID. */
export type IndexFunc<T> = (obj: T) => readonly string[];

/**
 * An object whose final state is unknown: it was deleted while the watch was down, so the delete
 * event was missed and this is the last state that was seen (client-go's
 * `DeletedFinalStateUnknown`).
 */
export class DeletedFinalStateUnknown<T> {
  readonly key: string;
  readonly obj: T;
  constructor(key: string, obj: T) {
    this.key = key;
    this.obj = obj;
  }
}

/** `namespace/name`, or `name` for cluster-scoped objects; tombstones keep their key. */
export function metaNamespaceKey(
  obj: KubernetesObject | DeletedFinalStateUnknown<unknown>,
): string {
  if (obj instanceof DeletedFinalStateUnknown) return obj.key;
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? "";
  return ns ? `${ns}/${name}` : name;
}

export function splitMetaNamespaceKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf("/");
  return i < 0
    ? { namespace: "", name: key }
    : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export const NAMESPACE_INDEX = "namespace";

export const namespaceIndexFunc: IndexFunc<KubernetesObject> = (obj) => [
  obj.metadata?.namespace ?? "",
];

export class Indexer<T extends KubernetesObject = KubernetesObject> {
  readonly keyFunc: KeyFunc<T>;
  readonly #items = new Map<string, T>();
  readonly #indexers = new Map<string, IndexFunc<T>>();
  /** index name → index value → keys */
  readonly #indices = new Map<string, Map<string, Set<string>>>();

  constructor(options: { keyFunc?: KeyFunc<T>; indexers?: Record<string, IndexFunc<T>> } = {}) {
    this.keyFunc = options.keyFunc ?? (metaNamespaceKey as KeyFunc<T>);
    this.addIndexers({
      [NAMESPACE_INDEX]: namespaceIndexFunc as IndexFunc<T>,
      ...options.indexers,
    });
  }

  /** Adds index functions; existing objects are indexed at once. A name in use is an error. */
  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      if (this.#indexers.has(name))
        throw new Error(`indexer ${JSON.stringify(name)} already exists`);
      this.#indexers.set(name, fn);
      const index = new Map<string, Set<string>>();
      this.#indices.set(name, index);
      for (const [key, obj] of this.#items) this.#indexOne(index, fn, key, obj);
    }
  }

  #indexOne(index: Map<string, Set<string>>, fn: IndexFunc<T>, key: string, obj: T): void {
    for (const value of new Set(fn(obj))) {
      const keys = index.get(value);
      if (keys) keys.add(key);
      else index.set(value, new Set([key]));
    }
  }

  #unindexOne(index: Map<string, Set<string>>, fn: IndexFunc<T>, key: string, obj: T): void {
    for (const value of new Set(fn(obj))) {
      const keys = index.get(value);
      if (!keys) continue;
      keys.delete(key);
      if (keys.size === 0) index.delete(value);
    }
  }

  #reindex(key: string, old: T | undefined, obj: T | undefined): void {
    for (const [name, fn] of this.#indexers) {
      const index = this.#indices.get(name)!;
      if (old !== undefined) this.#unindexOne(index, fn, key, old);
      if (obj !== undefined) this.#indexOne(index, fn, key, obj);
    }
  }

  /** Adds or replaces an object; returns the object it replaced, if any. */
  set(obj: T): T | undefined {
    const key = this.keyFunc(obj);
    const old = this.#items.get(key);
    this.#items.set(key, obj);
    this.#reindex(key, old, obj);
    return old;
  }

  add(obj: T): void {
    this.set(obj);
  }

  update(obj: T): void {
    this.set(obj);
  }

  /** Removes by object (or tombstone); returns the removed object, if there was one. */
  delete(obj: T | DeletedFinalStateUnknown<T>): T | undefined {
    const key = obj instanceof DeletedFinalStateUnknown ? obj.key : this.keyFunc(obj);
    return this.deleteKey(key);
  }

  deleteKey(key: string): T | undefined {
    const old = this.#items.get(key);
    if (old === undefined) return undefined;
    this.#items.delete(key);
    this.#reindex(key, old, undefined);
    return old;
  }

  get(obj: T): T | undefined {
    return this.#items.get(this.keyFunc(obj));
  }

  getByKey(key: string): T | undefined {
    return this.#items.get(key);
  }

  has(key: string): boolean {
    return this.#items.has(key);
  }

  get size(): number {
    return this.#items.size;
  }

  list(): T[] {
    return [...this.#items.values()];
  }

  listKeys(): string[] {
    return [...this.#items.keys()];
  }

  entries(): IterableIterator<[string, T]> {
    return this.#items.entries();
  }

  /** Replaces the whole content; indexes are rebuilt. */
  replace(objects: Iterable<T>): void {
    this.#items.clear();
    for (const index of this.#indices.values()) index.clear();
    for (const obj of objects) {
      const key = this.keyFunc(obj);
      const old = this.#items.get(key);
      this.#items.set(key, obj);
      this.#reindex(key, old, obj);
    }
  }

  /** The objects whose index `indexName` contains `value`. */
  byIndex(indexName: string, value: string): T[] {
    return this.indexKeys(indexName, value).map((k) => this.#items.get(k)!);
  }

  /** The keys of the objects whose index `indexName` contains `value`. */
  indexKeys(indexName: string, value: string): string[] {
    const index = this.#indices.get(indexName);
    if (!index) throw new Error(`index ${JSON.stringify(indexName)} does not exist`);
    return [...(index.get(value) ?? [])];
  }

  /** The objects that share any index value with `obj` under `indexName`. */
  index(indexName: string, obj: T): T[] {
    const fn = this.#indexers.get(indexName);
    if (!fn) throw new Error(`index ${JSON.stringify(indexName)} does not exist`);
    const keys = new Set<string>();
    for (const v of fn(obj)) for (const k of this.indexKeys(indexName, v)) keys.add(k);
    return [...keys].map((k) => this.#items.get(k)!);
  }

  /** Every value index `indexName` holds. */
  listIndexFuncValues(indexName: string): string[] {
    const index = this.#indices.get(indexName);
    if (!index) throw new Error(`index ${JSON.stringify(indexName)} does not exist`);
    return [...index.keys()];
  }

  getIndexers(): ReadonlyMap<string, IndexFunc<T>> {
    return this.#indexers;
  }
}
