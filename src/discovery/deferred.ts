/**
 * `DeferredRestMapper`: a REST mapper that builds itself from discovery on first use and asks
 * discovery again when a lookup misses, so a CustomResourceDefinition created a moment ago
 * resolves without restarting anything (client-go's `DeferredDiscoveryRESTMapper`).
 */
import { type Clock, realClock } from "../core/clock.ts";
import type { GroupVersionKind } from "../core/resource.ts";
import type { CallOptions } from "../rest/client.ts";
import type { Discovery } from "./discovery.ts";
import { NoMatchError } from "./errors.ts";
import { type GroupKind, type ResourceQuery, RestMapper } from "./mapper.ts";
import type { DiscoveredResource } from "./parse.ts";
import { abortable } from "./util.ts";

export interface DeferredRestMapperOptions {
  /**
   * The least time between two refreshes of discovery caused by misses: a miss that comes sooner
   * waits for the rest of it. 1 s by default; 0 refreshes on every miss.
   */
  minRefreshIntervalMs?: number;
  clock?: Clock;
}

interface State {
  mapper: RestMapper;
  /** When the discovery data behind it was fetched from the server. */
  fetchedAt: number;
  /** Data read from the disk cache may be older than any lookup: a miss in it always refreshes. */
  fromDisk: boolean;
}

/**
 * A mapper over a `Discovery` that refreshes it on a miss.
 *
 * The contract of a miss (a lookup that would throw `NoMatchError`):
 * - If the data it was answered from was fetched after the lookup began, the miss stands: newer
 *   data cannot exist.
 * - Otherwise discovery is invalidated and fetched again, once, and the lookup is answered from
 *   the new data (a second miss is final). Concurrent misses share one refresh when it starts after
 *   they began, so a burst of misses costs one round of discovery.
 * - Refreshes caused by misses are at least `minRefreshIntervalMs` apart; a miss that comes sooner
 *   waits until the interval is over rather than fail on data that may predate what it looks for.
 *   So a typo costs at most one discovery per interval, however often it is looked up.
 *
 * Data loaded from the disk cache counts as fetched when the server was asked, so the first miss
 * after starting from a disk cache refreshes at once, as kubectl does. `AmbiguousResourceError`
 * and discovery's own failures are not misses and are thrown as they are.
 */
export class DeferredRestMapper {
  readonly discovery: Discovery;
  readonly minRefreshIntervalMs: number;
  readonly #clock: Clock;
  #state: Promise<State> | undefined;
  /** When the latest fetch from the server began (the first one, or a refresh scheduled or done). */
  #lastRefresh = Number.NEGATIVE_INFINITY;
  #pending: { startsAt: number; state: Promise<State> } | undefined;
  #refreshes = 0;

  constructor(discovery: Discovery, options: DeferredRestMapperOptions = {}) {
    this.discovery = discovery;
    this.minRefreshIntervalMs = Math.max(0, options.minRefreshIntervalMs ?? 1000);
    this.#clock = options.clock ?? realClock;
  }

  /** How many refreshes misses have caused (scheduled or done); for tests and metrics. */
  get refreshes(): number {
    return this.#refreshes;
  }

  /** The mapper over the current discovery data, building it on first use. */
  async mapper(options: CallOptions = {}): Promise<RestMapper> {
    return (await abortable(this.#current(), options.signal)).mapper;
  }

  /** Forgets the mapper and invalidates discovery; the next lookup builds both again. */
  reset(): void {
    this.discovery.invalidate();
    this.#state = undefined;
  }

  resourcesFor(q: ResourceQuery, options?: CallOptions): Promise<DiscoveredResource[]> {
    return this.#lookup((m) => nonEmpty(m.resourcesFor(q), q), options);
  }

  resourceFor(q: ResourceQuery, options?: CallOptions): Promise<DiscoveredResource> {
    return this.#lookup((m) => m.resourceFor(q), options);
  }

  kindsFor(q: ResourceQuery, options?: CallOptions): Promise<GroupVersionKind[]> {
    return this.#lookup((m) => nonEmpty(m.kindsFor(q), q), options);
  }

  kindFor(q: ResourceQuery, options?: CallOptions): Promise<GroupVersionKind> {
    return this.#lookup((m) => m.kindFor(q), options);
  }

  restMapping(
    gk: GroupKind,
    versions: readonly string[] = [],
    options?: CallOptions,
  ): Promise<DiscoveredResource> {
    return this.#lookup((m) => m.restMapping(gk, versions), options);
  }

  restMappings(
    gk: GroupKind,
    versions: readonly string[] = [],
    options?: CallOptions,
  ): Promise<DiscoveredResource[]> {
    return this.#lookup((m) => {
      const found = m.restMappings(gk, versions);
      if (found.length === 0) throw new NoMatchError({ group: gk.group, kind: gk.kind });
      return found;
    }, options);
  }

  /** A kubectl resource argument; see `RestMapper.resolve`. */
  resolve(arg: string, options?: CallOptions): Promise<DiscoveredResource> {
    return this.#lookup((m) => m.resolve(arg), options);
  }

  /** The resources of a category; an unknown category is a miss like any other. */
  expandCategory(category: string, options?: CallOptions): Promise<DiscoveredResource[]> {
    return this.#lookup((m) => {
      const found = m.expandCategory(category);
      if (found.length === 0) {
        throw new NoMatchError({ arg: category }, `no resource is in category ${category}`);
      }
      return found;
    }, options);
  }

  async #lookup<R>(f: (m: RestMapper) => R, options: CallOptions = {}): Promise<R> {
    const began = this.#clock.now();
    const first = await abortable(this.#current(), options.signal);
    try {
      return f(first.mapper);
    } catch (err) {
      if (!(err instanceof NoMatchError) || (!first.fromDisk && first.fetchedAt >= began))
        throw err;
    }
    const second = await abortable(this.#refreshAfter(began), options.signal);
    return f(second.mapper);
  }

  #current(): Promise<State> {
    if (!this.#state) {
      const p = this.discovery.snapshot().then((snap) => {
        if (snap.source === "server")
          this.#lastRefresh = Math.max(this.#lastRefresh, snap.fetchedAt);
        return {
          mapper: new RestMapper(snap),
          fetchedAt: snap.fetchedAt,
          fromDisk: snap.source !== "server",
        };
      });
      this.#state = p;
      p.catch(() => {
        if (this.#state === p) this.#state = undefined;
      });
    }
    return this.#state;
  }

  /** A state fetched at or after `began`: one already there, one scheduled, or a new one. */
  #refreshAfter(began: number): Promise<State> {
    if (this.#pending && this.#pending.startsAt >= began) return this.#pending.state;
    const now = this.#clock.now();
    const startsAt = Math.max(now, this.#lastRefresh + this.minRefreshIntervalMs, began);
    this.#lastRefresh = startsAt;
    this.#refreshes++;
    const state = (async (): Promise<State> => {
      if (startsAt > now) await this.#clock.sleep(startsAt - now);
      this.discovery.invalidate();
      const snap = await this.discovery.snapshot();
      return {
        mapper: new RestMapper(snap),
        fetchedAt: snap.fetchedAt,
        fromDisk: snap.source !== "server",
      };
    })();
    const pending = { startsAt, state };
    this.#pending = pending;
    // Lookups go on using the old data until the new is in; then it replaces it.
    state.then(
      (s) => {
        this.#state = Promise.resolve(s);
      },
      () => {},
    );
    state
      .finally(() => {
        if (this.#pending === pending) this.#pending = undefined;
      })
      .catch(() => {});
    return state;
  }
}

function nonEmpty<T>(xs: T[], q: ResourceQuery): T[] {
  if (xs.length === 0)
    throw new NoMatchError({ group: q.group, version: q.version, resource: q.resource });
  return xs;
}
