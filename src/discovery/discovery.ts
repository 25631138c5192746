/**
 * Discovery: which groups, versions and resources the API server serves, as client-go's
 * `DiscoveryClient` with its memory cache (and, optionally, its disk cache) built in.
 *
 * One `GET /api` and one `GET /apis` ask for aggregated discovery (apidiscovery.k8s.io/v2), which
 * holds every group, version and resource. A server that answers in the legacy format instead
 * (older servers, proxies that drop the Accept parameters, or `legacy: true`) costs one more request
 * per group version, all sent at once. Either way the answer becomes a `DiscoverySnapshot`.
 */
import type { APIResourceList } from "../api/meta/v1/index.ts";
import { type Clock, realClock } from "../core/clock.ts";
import { DecodeError, isForbidden, isNotFound, KubekitError } from "../core/errors.ts";
import type { GroupVersion } from "../core/resource.ts";
import type { CallOptions, RestClient } from "../rest/client.ts";
import { headerValue } from "../rest/http.ts";
import type { DiskCache, StoredDiscovery } from "./disk.ts";
import { GroupDiscoveryFailedError, NoMatchError } from "./errors.ts";
import { OpenApiV3 } from "./openapi.ts";
import {
  ACCEPT_AGGREGATED,
  ACCEPT_LEGACY,
  type APIGroupDiscoveryList,
  type APIGroupList,
  type APIVersions,
  type ApiGroup,
  type DiscoveredResource,
  discoveryFormat,
  fromAggregated,
  groupFromVersions,
  groupsFromList,
  gvKey,
  preferredResources,
  resourcesFromList,
  type VersionInfo,
} from "./parse.ts";
import { abortable } from "./util.ts";

/**
 * Everything discovery found, at one moment. `failed` lists the group versions whose resources
 * are unknown (their groups are still listed); everything else is complete.
 */
export interface DiscoverySnapshot extends StoredDiscovery {
  /** `server` when fetched by this `Discovery`, `disk` when read from its disk cache. */
  readonly source: "server" | "disk";
}

/** Resources with the groups that could not be discovered, if any. */
export interface DiscoveredResources {
  readonly resources: readonly DiscoveredResource[];
  readonly failed: GroupDiscoveryFailedError | undefined;
}

export interface DiscoveryOptions {
  /** Ask only for the legacy format, as client-go's `UseLegacyDiscovery`. */
  legacy?: boolean;
  /** Keep snapshots on disk between processes; see `DiskCache`. */
  diskCache?: DiskCache;
  clock?: Clock;
}

/** A `RestClient`, or anything that has one (a `Client`). */
export type RestSource = RestClient | { readonly rest: RestClient };

/** client-go's discovery burst: legacy discovery asks once per group version, all at once. */
export const DISCOVERY_BURST = 300;

/**
 * The client's rate limiter with its burst raised to {@link DISCOVERY_BURST}, as client-go's
 * discovery client has it (kubernetes#86149): without it, legacy discovery of a server with 30
 * group versions waits seconds on the default 5 qps / 10 burst.
 */
function withDiscoveryBurst(rest: RestClient): RestClient {
  const limiter = rest.rateLimiter;
  if (!limiter || limiter.burst >= DISCOVERY_BURST) return rest;
  return rest.withRateLimit({ qps: limiter.qps, burst: DISCOVERY_BURST });
}

function restOf(source: RestSource): RestClient {
  return "rest" in source ? source.rest : source;
}

/**
 * Discovery of one API server, cached in memory.
 *
 * The first call fetches a snapshot (or reads one from the disk cache, if one is configured and
 * not past its TTL); every later call answers from it until `invalidate()`. Concurrent calls share
 * one fetch. A call's `signal` abandons only that caller's wait, never the shared fetch.
 *
 * Partial failure: a group version that cannot be discovered (an aggregated API whose backend is
 * down shows up as `Stale`, or answers 503) does not fail the rest. Its group stays listed, its
 * resources are missing, and `snapshot.failed` (a `GroupDiscoveryFailedError`) names it; the calls
 * that return resources return that error beside them instead of throwing it.
 */
export class Discovery {
  readonly rest: RestClient;
  readonly legacy: boolean;
  readonly diskCache: DiskCache | undefined;
  /** OpenAPI v3 documents, fetched on demand and cached by their hash. */
  readonly openapi: OpenApiV3;
  readonly #clock: Clock;
  #current: DiscoverySnapshot | undefined;
  #inflight: Promise<DiscoverySnapshot> | undefined;
  #generation = 0;
  /** Disk snapshots fetched before this are not used (set by `invalidate()`). */
  #notBefore = 0;

  constructor(client: RestSource, options: DiscoveryOptions = {}) {
    this.rest = withDiscoveryBurst(restOf(client));
    this.legacy = options.legacy === true;
    this.diskCache = options.diskCache;
    this.#clock = options.clock ?? realClock;
    this.openapi = new OpenApiV3(this.rest, { diskCache: this.diskCache });
  }

  /** A `Discovery` of the same server that asks only for the legacy format, with its own cache. */
  withLegacy(): Discovery {
    return new Discovery(this.rest, {
      legacy: true,
      ...(this.diskCache ? { diskCache: this.diskCache } : {}),
      clock: this.#clock,
    });
  }

  /**
   * True when the snapshot in memory was fetched from the server by this object since it was made
   * or last invalidated; false before the first fetch and when it came from the disk cache. As
   * client-go's `Fresh()`: a lookup that misses in fresh data has no reason to ask again.
   */
  get fresh(): boolean {
    return this.#current?.source === "server";
  }

  /**
   * Forgets the snapshot (and the OpenAPI index), so the next call asks the server. Disk snapshots
   * fetched before now are not used either. Documents cached by hash are kept: a hash names
   * content.
   */
  invalidate(): void {
    this.#generation++;
    this.#current = undefined;
    this.#inflight = undefined;
    this.#notBefore = this.#clock.now();
    this.openapi.invalidate();
  }

  /** The current snapshot: from memory, else the disk cache, else the server. */
  snapshot(options: CallOptions = {}): Promise<DiscoverySnapshot> {
    if (this.#current) return Promise.resolve(this.#current);
    return abortable(this.#load(), options.signal);
  }

  /** `/version`; never cached. */
  serverVersion(options: CallOptions = {}): Promise<VersionInfo> {
    return this.rest.json<VersionInfo>({ method: "GET", path: "/version" }, options);
  }

  /** The groups, core (`""`) first, then in the server's order. */
  async groups(options?: CallOptions): Promise<readonly ApiGroup[]> {
    return (await this.snapshot(options)).groups;
  }

  /** The version the server prefers for `group`, or undefined when it serves no such group. */
  async preferredVersion(group: string, options?: CallOptions): Promise<string | undefined> {
    return (await this.groups(options)).find((g) => g.name === group)?.preferredVersion;
  }

  /**
   * The resources of one group version (`"v1"`, `"apps/v1"` or `{ group, version }`). Throws the
   * cause when that version could not be discovered, and a `NoMatchError` when it is not served.
   */
  async resources(
    groupVersion: string | GroupVersion,
    options?: CallOptions,
  ): Promise<readonly DiscoveredResource[]> {
    const key =
      typeof groupVersion === "string"
        ? groupVersion
        : gvKey(groupVersion.group, groupVersion.version);
    const snap = await this.snapshot(options);
    const found = snap.resources.get(key);
    if (found) return found;
    const failure = snap.failed?.groups.get(key);
    if (failure) throw failure;
    const slash = key.lastIndexOf("/");
    throw new NoMatchError(
      { group: slash < 0 ? "" : key.slice(0, slash), version: key.slice(slash + 1) },
      `the server does not serve ${JSON.stringify(key)}`,
    );
  }

  /** Every resource of every version, in group then version order. */
  async allResources(options?: CallOptions): Promise<DiscoveredResources> {
    const snap = await this.snapshot(options);
    const resources: DiscoveredResource[] = [];
    for (const g of snap.groups) {
      for (const v of g.versions) resources.push(...(snap.resources.get(gvKey(g.name, v)) ?? []));
    }
    return { resources, failed: snap.failed };
  }

  /** Each resource once, at its group's preferred version (`kubectl api-resources`). */
  async preferredResources(options?: CallOptions): Promise<DiscoveredResources> {
    const snap = await this.snapshot(options);
    return { resources: preferredResources(snap.groups, snap.resources), failed: snap.failed };
  }

  #load(): Promise<DiscoverySnapshot> {
    if (this.#inflight) return this.#inflight;
    const generation = this.#generation;
    const notBefore = this.#notBefore;
    const p = (async (): Promise<DiscoverySnapshot> => {
      const server = this.rest.server;
      const stored = await this.diskCache?.read(server, notBefore).catch(() => undefined);
      if (stored) return { ...stored, source: "disk" };
      const snap = await this.fetch();
      await this.diskCache?.write(server, snap).catch(() => {});
      return snap;
    })();
    this.#inflight = p;
    p.then(
      (snap) => {
        if (this.#generation === generation) this.#current = snap;
      },
      () => {},
    ).finally(() => {
      if (this.#inflight === p) this.#inflight = undefined;
    });
    return p;
  }

  /**
   * Asks the server, bypassing every cache and storing nothing. A group version that answers 404
   * in legacy discovery has usually just been removed (a CRD deleted between the list of groups and
   * the read of its resources), so the whole discovery is tried once more in that case, as
   * client-go does.
   */
  async fetch(): Promise<DiscoverySnapshot> {
    let snap = await this.#fetchOnce();
    if ([...(snap.failed?.groups.values() ?? [])].some((e) => isNotFound(e))) {
      snap = await this.#fetchOnce();
    }
    return snap;
  }

  async #fetchOnce(): Promise<DiscoverySnapshot> {
    const fetchedAt = this.#clock.now();
    const accept = this.legacy ? ACCEPT_LEGACY : ACCEPT_AGGREGATED;
    const [core, apis] = await Promise.all([
      this.#root("/api", accept),
      this.#root("/apis", accept),
    ]);
    const groups: ApiGroup[] = [];
    const resources = new Map<string, DiscoveredResource[]>();
    const failed = new Map<string, Error>();
    const formats = new Set<"aggregated" | "legacy">();
    for (const [root, answer] of [
      ["/api", core],
      ["/apis", apis],
    ] as const) {
      if (!answer) continue;
      formats.add(answer.format);
      if (answer.format === "aggregated") {
        const parsed = fromAggregated(answer.body as APIGroupDiscoveryList);
        groups.push(...parsed.groups);
        for (const [k, v] of parsed.resources) resources.set(k, v);
        for (const [k, v] of parsed.failed) failed.set(k, v);
      } else if (root === "/api") {
        const g = groupFromVersions(answer.body as APIVersions);
        if (g) groups.push(g);
      } else {
        groups.push(...groupsFromList(answer.body as APIGroupList));
      }
    }
    // Legacy answers list versions without resources: read each version, all at once.
    const missing = groups.flatMap((g) =>
      g.versions
        .filter((v) => !resources.has(gvKey(g.name, v)) && !failed.has(gvKey(g.name, v)))
        .map((v) => [g.name, v] as const),
    );
    const lists = await Promise.allSettled(
      missing.map(([g, v]) =>
        this.rest.json<APIResourceList>({
          method: "GET",
          path:
            g === ""
              ? `/api/${encodeURIComponent(v)}`
              : `/apis/${encodeURIComponent(g)}/${encodeURIComponent(v)}`,
          accept: ACCEPT_LEGACY,
        }),
      ),
    );
    lists.forEach((r, i) => {
      const [g, v] = missing[i]!;
      if (r.status === "fulfilled") resources.set(gvKey(g, v), resourcesFromList(g, v, r.value));
      else failed.set(gvKey(g, v), asError(r.reason));
    });
    // Keep the maps in group order, whatever order the answers came in.
    const ordered = new Map<string, DiscoveredResource[]>();
    for (const g of groups) {
      for (const v of g.versions) {
        const rs = resources.get(gvKey(g.name, v));
        if (rs) ordered.set(gvKey(g.name, v), rs);
      }
    }
    return {
      groups,
      resources: ordered,
      failed: failed.size > 0 ? new GroupDiscoveryFailedError(failed) : undefined,
      format: formats.size === 2 ? "mixed" : formats.has("legacy") ? "legacy" : "aggregated",
      fetchedAt,
      source: "server",
    };
  }

  /**
   * One of `/api` and `/apis`, with the format it came in. A 404 or 403 means the server has no such
   * endpoint (or does not show it to us): no groups from there, as client-go treats it.
   */
  async #root(
    path: string,
    accept: string,
  ): Promise<{ format: "aggregated" | "legacy"; body: unknown } | undefined> {
    let res: Awaited<ReturnType<RestClient["send"]>>;
    try {
      res = await this.rest.send({ method: "GET", path, accept });
    } catch (err) {
      if (isNotFound(err) || isForbidden(err)) return undefined;
      throw err;
    }
    const text = await res.body.text();
    const contentType = headerValue(res.headers, "content-type");
    const format = discoveryFormat(contentType);
    if (!format) {
      throw new DecodeError(`GET ${path}: unexpected discovery content type ${contentType}`, {
        excerpt: text.slice(0, 300),
      });
    }
    try {
      return { format, body: JSON.parse(text) };
    } catch (cause) {
      throw new DecodeError(`GET ${path}: the response is not valid JSON`, {
        excerpt: text.slice(0, 300),
        cause,
      });
    }
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new KubekitError(String(e));
}
