/**
 * What the metadata and Table clients share: a resource, an optional namespace, and the namespace
 * rules of `Api` (one chosen namespace, else all namespaces for list and watch and the config's
 * default namespace for single-object calls).
 */
import { RequestBuildError } from "../core/errors.ts";
import type { ResourceRef } from "../core/resource.ts";
import type { RestClient } from "../rest/client.ts";
import type { ScopedGroupVersionResource } from "./dynamic.ts";

/** A `Client`, or anything with its RestClient and the namespace of its config. */
export interface RestContext {
  readonly rest: RestClient;
  readonly config: { readonly namespace: string };
}

export class Scope<N extends boolean> {
  readonly rest: RestClient;
  readonly resource: ResourceRef<N>;
  readonly ns: string | undefined;
  readonly defaultNamespace: string;

  constructor(
    ctx: { rest: RestClient; defaultNamespace: string },
    resource: ResourceRef<N>,
    ns?: string,
  ) {
    this.rest = ctx.rest;
    this.defaultNamespace = ctx.defaultNamespace;
    this.resource = resource;
    this.ns = ns;
  }

  in(ns: string): Scope<true> {
    if (!this.resource.namespaced) {
      throw new RequestBuildError(
        "namespace",
        `${this.resource.plural} is cluster-scoped and takes no namespace`,
      );
    }
    return new Scope<true>(this, this.resource as ResourceRef<true>, ns);
  }

  single(): string | undefined {
    return this.resource.namespaced ? (this.ns ?? this.defaultNamespace) : undefined;
  }

  collection(): string | undefined {
    return this.resource.namespaced ? (this.ns ?? "") : undefined;
  }
}

export function refOf<N extends boolean>(
  resource: ResourceRef<N> | ScopedGroupVersionResource<N>,
): ResourceRef<N> {
  if (typeof resource === "object" && resource !== null && "plural" in resource) return resource;
  const r = resource as ScopedGroupVersionResource<N>;
  return { group: r?.group, version: r?.version, plural: r?.resource, namespaced: r?.namespaced };
}

export function contextOf(client: RestContext): { rest: RestClient; defaultNamespace: string } {
  return { rest: client.rest, defaultNamespace: client.config.namespace };
}

export { split } from "../client/api.ts";
