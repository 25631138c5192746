/**
 * The in-memory server's storage, shaped like etcd under kube-apiserver: one global revision
 * counter that every write advances (an object's `resourceVersion` is the revision of its last
 * write), objects keyed by resource and `namespace/name`, and a bounded history of changes from
 * which watches resume and old snapshots (continue tokens, `resourceVersionMatch=Exact`) are
 * rebuilt. Writes older than the history are "compacted": asking for them is a 410.
 *
 * Stored objects are never modified in place: every write stores a new object, so one may be
 * handed to watchers and kept in history without copying.
 */
import type { KubernetesObject } from "../core/meta.ts";

export type ChangeType = "ADDED" | "MODIFIED" | "DELETED";

/** One write, as the history and the watchers see it. */
export interface Change {
  readonly rv: number;
  readonly storage: string;
  /** `namespace/name`, or `name` for cluster-scoped objects. */
  readonly key: string;
  readonly namespace: string | undefined;
  readonly type: ChangeType;
  /** The object after the write; for DELETED, its last state with the deletion's revision. */
  readonly object: KubernetesObject;
  /** The object before the write (undefined for ADDED). */
  readonly prev: KubernetesObject | undefined;
}

export function keyOf(namespace: string | undefined, name: string): string {
  return namespace === undefined ? name : `${namespace}/${name}`;
}

export class Store {
  #rv: number;
  readonly #objects = new Map<string, Map<string, KubernetesObject>>();
  #history: Change[] = [];
  /** The index of the oldest retained change in `#history` (dropped ones are cut off lazily). */
  #head = 0;
  readonly #historySize: number;
  /** Every revision at or below this is gone from the history. */
  #compacted: number;
  readonly #listeners = new Set<(c: Change) => void>();

  constructor(options: { historySize: number; startRevision?: number }) {
    this.#historySize = Math.max(1, options.historySize);
    this.#rv = options.startRevision ?? 1;
    this.#compacted = this.#rv;
  }

  /** The revision of the last write. */
  get revision(): number {
    return this.#rv;
  }

  /** The newest revision the history no longer covers. */
  get compacted(): number {
    return this.#compacted;
  }

  get(storage: string, key: string): KubernetesObject | undefined {
    return this.#objects.get(storage)?.get(key);
  }

  /** The objects of one resource, optionally in one namespace, in etcd's key order. */
  list(storage: string, namespace?: string): [string, KubernetesObject][] {
    const all = this.#objects.get(storage);
    if (!all) return [];
    const prefix = namespace === undefined ? undefined : `${namespace}/`;
    const out = [...all].filter(([k]) => prefix === undefined || k.startsWith(prefix));
    return out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The storages that hold at least one object. */
  storages(): string[] {
    return [...this.#objects.keys()].filter((s) => (this.#objects.get(s)?.size ?? 0) > 0);
  }

  /**
   * The objects of one resource as they were at revision `rv`, rebuilt from the history; undefined
   * when the history no longer reaches back that far.
   */
  snapshot(
    storage: string,
    rv: number,
    namespace?: string,
  ): [string, KubernetesObject][] | undefined {
    if (rv >= this.#rv) return this.list(storage, namespace);
    if (rv < this.#compacted) return undefined;
    const state = new Map(this.list(storage, namespace));
    const prefix = namespace === undefined ? undefined : `${namespace}/`;
    for (let i = this.#history.length - 1; i >= this.#head; i--) {
      const c = this.#history[i]!;
      if (c.rv <= rv) break;
      if (c.storage !== storage || (prefix !== undefined && !c.key.startsWith(prefix))) continue;
      if (c.prev === undefined) state.delete(c.key);
      else state.set(c.key, c.prev);
    }
    return [...state].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The changes after revision `rv`, oldest first; undefined when they are no longer all known. */
  changesSince(rv: number): Change[] | undefined {
    if (rv < this.#compacted) return undefined;
    let lo = this.#head;
    let hi = this.#history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#history[mid]!.rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    return this.#history.slice(lo);
  }

  /** The revision the next `commit` will have, to stamp on the object it stores. */
  nextRevision(): number {
    return this.#rv + 1;
  }

  /**
   * Commits one write at the next revision: stores `object` (or removes the key for DELETED),
   * records the change and tells the listeners, in that order, before returning.
   */
  commit(
    type: ChangeType,
    storage: string,
    key: string,
    namespace: string | undefined,
    object: KubernetesObject,
    prev: KubernetesObject | undefined,
  ): Change {
    const rv = ++this.#rv;
    let objects = this.#objects.get(storage);
    if (!objects) {
      objects = new Map();
      this.#objects.set(storage, objects);
    }
    if (type === "DELETED") objects.delete(key);
    else objects.set(key, object);
    const change: Change = { rv, storage, key, namespace, type, object, prev };
    this.#history.push(change);
    if (this.#history.length - this.#head > this.#historySize) {
      this.#compacted = this.#history[this.#head]!.rv;
      this.#head++;
      if (this.#head > 1024 && this.#head * 2 > this.#history.length) {
        this.#history = this.#history.slice(this.#head);
        this.#head = 0;
      }
    }
    for (const l of this.#listeners) l(change);
    return change;
  }

  /** Forgets every change so far, as an etcd compaction at the current revision. */
  compact(): void {
    this.#history = [];
    this.#head = 0;
    this.#compacted = this.#rv;
  }

  /** Removes every object of a resource without recording changes (its definition is gone). */
  drop(storage: string): void {
    this.#objects.delete(storage);
  }

  subscribe(listener: (c: Change) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
