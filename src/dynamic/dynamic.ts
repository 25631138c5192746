/**
 * The dynamic client: the typed client's `Api`, every verb and subresource of it, over a resource
 * known only at run time, with `Unstructured` objects in and out. There is no second
 * implementation of requests here: `dynamic()` hands a runtime descriptor to `Client.api`.
 */
import type { Api } from "../client/api.ts";
import type { Client } from "../client/client.ts";
import { RequestBuildError } from "../core/errors.ts";
import type { GroupVersionResource, ResourceRef } from "../core/resource.ts";
import type { GroupKind } from "../discovery/mapper.ts";
import type { DiscoveredResource } from "../discovery/parse.ts";
import type { Unstructured } from "./unstructured.ts";

/**
 * A group, version and plural resource with its scope. The scope is required because it decides
 * the URL of every single-object call (`/namespaces/<ns>/...` or not) and nothing in a GVR says
 * it; when it is unknown, take the descriptor from discovery (`RestMapper`, `dynamicForKind`).
 */
export interface ScopedGroupVersionResource<N extends boolean = boolean>
  extends GroupVersionResource {
  readonly namespaced: N;
  /** The kind, when known; informational. */
  readonly kind?: string;
}

/** What `dynamic()` needs of a client: a way to make an `Api` (any `Client`). */
export type ApiFactory = Pick<Client, "api">;

/**
 * The `Api` of a resource known at run time, over `Unstructured` objects:
 *
 * ```ts
 * const widgets = dynamic(client, { group: "example.com", version: "v1", resource: "widgets", namespaced: true });
 * await widgets.namespace("a").create({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } });
 * const deploy = dynamic(client, await mapper.resolve("deploy"));   // a descriptor from discovery
 * ```
 */
export function dynamic<N extends boolean>(
  client: ApiFactory,
  resource: ResourceRef<N> | ScopedGroupVersionResource<N>,
): Api<Unstructured, N> {
  return client.api<Unstructured, N>(toRef(resource));
}

function toRef<N extends boolean>(
  resource: ResourceRef<N> | ScopedGroupVersionResource<N>,
): ResourceRef<N> {
  if (typeof resource !== "object" || resource === null) {
    throw new RequestBuildError(
      "resource",
      "must be a descriptor or {group, version, resource, namespaced}",
    );
  }
  if (typeof (resource as { namespaced?: unknown }).namespaced !== "boolean") {
    throw new RequestBuildError(
      "resource.namespaced",
      "must be true or false: the scope decides the URL; resolve the resource through discovery when it is unknown",
    );
  }
  if ("plural" in resource) return resource;
  const { group, version, resource: plural, namespaced, kind } = resource;
  return Object.freeze({
    group,
    version,
    plural,
    namespaced,
    ...(kind === undefined ? {} : { kind }),
  });
}

/** A mapper from kinds to resources: `RestMapper` or `DeferredRestMapper`. */
export interface KindMapper {
  restMapping(
    gk: GroupKind,
    versions?: readonly string[],
  ): DiscoveredResource | Promise<DiscoveredResource>;
}

/** A mapper of kubectl resource arguments: `RestMapper` or `DeferredRestMapper`. */
export interface ArgMapper {
  resolve(arg: string): DiscoveredResource | Promise<DiscoveredResource>;
}

/**
 * The dynamic `Api` of a kind, resolved through a mapper: `{ group: "apps", version: "v1", kind:
 * "Deployment" }` → `deployments`, namespaced. Without a version, the group's preferred one. A
 * kind the server does not serve is a `NoMatchError` (after a refresh, with a deferred mapper).
 */
export async function dynamicForKind(
  client: ApiFactory,
  mapper: KindMapper,
  gvk: { group: string; version?: string | undefined; kind: string },
): Promise<Api<Unstructured, boolean>> {
  const r = await mapper.restMapping(
    { group: gvk.group, kind: gvk.kind },
    gvk.version ? [gvk.version] : [],
  );
  return dynamic(client, r);
}

/**
 * The dynamic `Api` of a kubectl resource argument (`deploy`, `deployments.apps`,
 * `widgets.v1.example.com`, `Widget`), resolved through a mapper.
 */
export async function dynamicFor(
  client: ApiFactory,
  mapper: ArgMapper,
  arg: string,
): Promise<Api<Unstructured, boolean>> {
  return dynamic(client, await mapper.resolve(arg));
}
