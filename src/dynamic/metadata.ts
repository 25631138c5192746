/**
 * The metadata client (client-go's `metadata` package): get, list, watch, patch and delete any
 * resource but receive only `PartialObjectMetadata` (apiVersion, kind and metadata), which the
 * server produces when asked for it in the Accept header. For controllers that look at labels,
 * owners and finalizers only, this cuts what crosses the wire (and what a cache holds) to a fraction
 * for kinds with large bodies (ConfigMaps, Secrets, CRDs with big specs).
 */
import type { ApiContext, PatchCallOptions } from "../client/api.ts";
import { RequestBuildError } from "../core/errors.ts";
import { isStatus, type ListMeta, type ObjectMeta, type Status } from "../core/meta.ts";
import {
  type DeleteOptions,
  type GetOptions,
  type ListOptions,
  PatchType,
  type WatchOptions,
} from "../core/options.ts";
import { buildRequest } from "../core/request.ts";
import type { ResourceRef } from "../core/resource.ts";
import type { CallOptions, WatchCallOptions } from "../rest/client.ts";
import type { WatchEvent } from "../rest/watch.ts";
import type { ScopedGroupVersionResource } from "./dynamic.ts";
import { contextOf, type RestContext, refOf, Scope, split } from "./scope.ts";

/**
 * The Accept header of a get, a watch and a patch: client-go's, without its protobuf entry. A watch
 * asks for `PartialObjectMetadata` (not the list form), because each event carries one object.
 * The trailing `application/json` lets a server that cannot convert (very old ones, some
 * aggregated APIs) answer with the full object, which is then cut down here.
 */
export const ACCEPT_PARTIAL_METADATA =
  "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";
/** The Accept header of a list. */
export const ACCEPT_PARTIAL_METADATA_LIST =
  "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";

export interface PartialObjectMetadata {
  apiVersion: "meta.k8s.io/v1";
  kind: "PartialObjectMetadata";
  metadata: ObjectMeta;
}

export interface PartialObjectMetadataList {
  apiVersion: "meta.k8s.io/v1";
  kind: "PartialObjectMetadataList";
  metadata: ListMeta;
  items: PartialObjectMetadata[];
}

/** The metadata of any object, in the `PartialObjectMetadata` form. */
export function toPartial(obj: unknown): PartialObjectMetadata {
  const o = obj as { kind?: unknown; metadata?: ObjectMeta } | null;
  if (o?.kind === "PartialObjectMetadata" && o.metadata) return o as PartialObjectMetadata;
  return {
    apiVersion: "meta.k8s.io/v1",
    kind: "PartialObjectMetadata",
    metadata: o?.metadata ?? {},
  };
}

function toPartialList(list: unknown): PartialObjectMetadataList {
  const l = list as { kind?: unknown; metadata?: ListMeta; items?: unknown[] } | null;
  if (l?.kind === "PartialObjectMetadataList" && Array.isArray(l.items)) {
    return l as PartialObjectMetadataList;
  }
  return {
    apiVersion: "meta.k8s.io/v1",
    kind: "PartialObjectMetadataList",
    metadata: l?.metadata ?? {},
    items: (l?.items ?? []).map(toPartial),
  };
}

/**
 * The metadata client of one resource:
 *
 * ```ts
 * const cms = metadata(client, ConfigMap).namespace("web");
 * for (const cm of (await cms.list()).items) console.log(cm.metadata.name, cm.metadata.labels);
 * ```
 */
export function metadata<N extends boolean>(
  client: RestContext,
  resource: ResourceRef<N> | ScopedGroupVersionResource<N>,
): MetadataApi<N> {
  return new MetadataApi<N>(contextOf(client), refOf(resource));
}

/**
 * Namespaces work as in `Api` (see there), except that `namespace()` also type-checks when the
 * scope is known only at run time (`N` is `boolean`); it throws for a cluster-scoped resource.
 */
export class MetadataApi<N extends boolean = boolean> {
  readonly #scope: Scope<N>;

  constructor(ctx: ApiContext, resource: ResourceRef<N>, namespace?: string) {
    this.#scope = new Scope<N>(ctx, resource, namespace);
  }

  get resource(): ResourceRef<N> {
    return this.#scope.resource;
  }

  get ns(): string | undefined {
    return this.#scope.ns;
  }

  namespace(
    this: boolean extends N ? MetadataApi<N> : MetadataApi<true>,
    namespace: string,
  ): MetadataApi<true> {
    const s = this.#scope.in(namespace);
    return new MetadataApi<true>(
      { rest: s.rest, defaultNamespace: s.defaultNamespace },
      s.resource,
      namespace,
    );
  }

  async get(name: string, options?: GetOptions & CallOptions): Promise<PartialObjectMetadata> {
    const [opts, call] = split(options);
    const req = buildRequest({
      verb: "get",
      resource: this.#scope.resource,
      name,
      options: opts,
      accept: ACCEPT_PARTIAL_METADATA,
      ...ns(this.#scope.single()),
    });
    return toPartial(await this.#scope.rest.json(req, call));
  }

  async list(options?: ListOptions & CallOptions): Promise<PartialObjectMetadataList> {
    const [opts, call] = split(options);
    return toPartialList(await this.#scope.rest.json(this.#listRequest(opts), call));
  }

  /** Every item, page by page (500 per page unless `limit` says otherwise). */
  async *listAll(
    options?: ListOptions & CallOptions,
  ): AsyncGenerator<PartialObjectMetadata, void, undefined> {
    const [opts, call] = split(options);
    const { limit, continue: _c, ...rest } = opts ?? {};
    for await (const item of this.#scope.rest.listAll<PartialObjectMetadata>(
      this.#listRequest(rest),
      { ...call, ...(limit === undefined ? {} : { limit }) },
    )) {
      yield toPartial(item);
    }
  }

  /** A raw watch whose events carry `PartialObjectMetadata`. */
  async *watch(
    options?: WatchOptions & WatchCallOptions,
  ): AsyncGenerator<WatchEvent<PartialObjectMetadata>, void, undefined> {
    const { signal, timeoutMs, stallTimeoutMs, ...opts } = options ?? {};
    const req = buildRequest({
      verb: "watch",
      resource: this.#scope.resource,
      options: opts,
      accept: ACCEPT_PARTIAL_METADATA,
      ...ns(this.#scope.collection()),
    });
    for await (const ev of this.#scope.rest.watch<unknown>(req, {
      signal,
      timeoutMs,
      stallTimeoutMs,
    })) {
      yield { ...ev, object: toPartial(ev.object) } as WatchEvent<PartialObjectMetadata>;
    }
  }

  /** Patches the object (a merge or JSON patch of its metadata, typically) and returns its metadata. */
  async patch(
    name: string,
    patch: unknown,
    options: PatchCallOptions,
  ): Promise<PartialObjectMetadata> {
    const { type, ...rest } = options;
    const [opts, call] = split(rest);
    const contentType =
      type === "json"
        ? PatchType.json
        : type === "merge"
          ? PatchType.merge
          : type === "strategic"
            ? PatchType.strategicMerge
            : undefined;
    if (!contentType) {
      throw new RequestBuildError(
        "options.type",
        `must be one of json, merge, strategic, not ${JSON.stringify(type)}`,
      );
    }
    const req = buildRequest({
      verb: "patch",
      resource: this.#scope.resource,
      name,
      options: opts,
      body: JSON.stringify(patch),
      contentType,
      accept: ACCEPT_PARTIAL_METADATA,
      ...ns(this.#scope.single()),
    });
    return toPartial(await this.#scope.rest.json(req, call));
  }

  /** Deletes the object; returns its metadata while it waits for finalizers, else the `Status`. */
  async delete(
    name: string,
    options?: DeleteOptions & CallOptions,
  ): Promise<PartialObjectMetadata | Status> {
    const [opts, call] = split(options);
    const req = buildRequest({
      verb: "delete",
      resource: this.#scope.resource,
      name,
      options: opts,
      accept: ACCEPT_PARTIAL_METADATA,
      ...ns(this.#scope.single()),
    });
    const out = await this.#scope.rest.json(req, call);
    return isStatus(out) ? out : toPartial(out);
  }

  #listRequest(opts: ListOptions | undefined) {
    return buildRequest({
      verb: "list",
      resource: this.#scope.resource,
      options: opts,
      accept: ACCEPT_PARTIAL_METADATA_LIST,
      ...ns(this.#scope.collection()),
    });
  }
}

function ns(namespace: string | undefined): { namespace?: string } {
  return namespace === undefined ? {} : { namespace };
}
