import type { KubernetesObject } from "../core/meta.ts";
import { type LabelSelectorInput, matchesLabels } from "../core/selectors.ts";
import { type Indexer, NAMESPACE_INDEX } from "./store.ts";

/**
 * Reads from an informer's cache, as client-go's generated listers do. `list` filters by label
 * selector; `namespace(ns)` narrows to one namespace using the namespace index. What it returns
 * is the cache's own objects: do not modify them.
 */
export class Lister<T extends KubernetesObject> {
  readonly #indexer: Indexer<T>;
  readonly #namespace: string | undefined;

  constructor(indexer: Indexer<T>, namespace?: string) {
    this.#indexer = indexer;
    this.#namespace = namespace;
  }

  list(selector?: LabelSelectorInput): T[] {
    const all =
      this.#namespace === undefined
        ? this.#indexer.list()
        : this.#indexer.getIndexers().has(NAMESPACE_INDEX)
          ? this.#indexer.byIndex(NAMESPACE_INDEX, this.#namespace)
          : this.#indexer.list().filter((o) => (o.metadata?.namespace ?? "") === this.#namespace);
    if (selector === undefined) return all;
    return all.filter((o) => matchesLabels(selector, o.metadata?.labels ?? {}));
  }

  /** The object named `name` (in this lister's namespace, if it has one), or undefined. */
  get(name: string): T | undefined {
    return this.#indexer.getByKey(this.#namespace ? `${this.#namespace}/${name}` : name);
  }

  namespace(namespace: string): Lister<T> {
    return new Lister<T>(this.#indexer, namespace);
  }
}
