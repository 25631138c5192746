/**
 * Discovery documents of the in-memory server, in the shapes kube-apiserver serves: legacy
 * (`/api`, `/apis`, `/api/v1`, `/apis/<group>`, `/apis/<group>/<version>`) and aggregated
 * (apidiscovery.k8s.io/v2 `APIGroupDiscoveryList` from `/api` and `/apis`).
 */
import { compareGroups, compareVersions, type ServedResource } from "./registry.ts";

/** Groups in discovery order, each with its versions (preferred first) and their resources. */
export interface ServedGroup {
  readonly name: string;
  readonly versions: readonly { readonly version: string; readonly resources: ServedResource[] }[];
}

export function groupsOf(resources: Iterable<ServedResource>): ServedGroup[] {
  const groups = new Map<string, Map<string, ServedResource[]>>();
  for (const r of resources) {
    let versions = groups.get(r.group);
    if (!versions) {
      versions = new Map();
      groups.set(r.group, versions);
    }
    let list = versions.get(r.version);
    if (!list) {
      list = [];
      versions.set(r.version, list);
    }
    list.push(r);
  }
  return [...groups]
    .sort(([a], [b]) => compareGroups(a, b))
    .map(([name, versions]) => ({
      name,
      versions: [...versions]
        .sort(([a], [b]) => compareVersions(a, b))
        .map(([version, rs]) => ({
          version,
          resources: rs.sort((a, b) => (a.plural < b.plural ? -1 : a.plural > b.plural ? 1 : 0)),
        })),
    }));
}

const gv = (group: string, version: string) => (group ? `${group}/${version}` : version);

/** `/api` in the legacy format. */
export function apiVersions(groups: ServedGroup[], serverAddress: string): unknown {
  const core = groups.find((g) => g.name === "");
  return {
    kind: "APIVersions",
    versions: core?.versions.map((v) => v.version) ?? [],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

function apiGroup(g: ServedGroup): unknown {
  const versions = g.versions.map((v) => ({
    groupVersion: gv(g.name, v.version),
    version: v.version,
  }));
  return { name: g.name, versions, preferredVersion: versions[0] };
}

/** `/apis` in the legacy format. */
export function apiGroupList(groups: ServedGroup[]): unknown {
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: groups.filter((g) => g.name !== "").map(apiGroup),
  };
}

/** `/apis/<group>`. */
export function apiGroupDocument(g: ServedGroup): unknown {
  return { kind: "APIGroup", apiVersion: "v1", ...(apiGroup(g) as object) };
}

/** `/api/v1` or `/apis/<group>/<version>`: resources and `resource/subresource` entries. */
export function apiResourceList(group: string, version: string, rs: ServedResource[]): unknown {
  const resources: unknown[] = [];
  for (const r of rs) {
    resources.push({
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames.length > 0 ? { shortNames: r.shortNames } : {}),
      ...(r.categories.length > 0 ? { categories: r.categories } : {}),
    });
    for (const s of r.subresources) {
      const rk = s.responseKind;
      resources.push({
        name: `${r.plural}/${s.name}`,
        singularName: "",
        namespaced: r.namespaced,
        ...(rk && (rk.group !== group || rk.version !== version)
          ? { group: rk.group, version: rk.version }
          : {}),
        kind: rk?.kind ?? r.kind,
        verbs: s.verbs,
      });
    }
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: gv(group, version), resources };
}

/** The aggregated document of `/api` (core only) or `/apis` (every other group). */
export function aggregated(groups: ServedGroup[]): unknown {
  return {
    kind: "APIGroupDiscoveryList",
    apiVersion: "apidiscovery.k8s.io/v2",
    metadata: {},
    items: groups.map((g) => ({
      metadata: g.name ? { name: g.name } : {},
      versions: g.versions.map((v) => ({
        version: v.version,
        resources: v.resources.map((r) => ({
          resource: r.plural,
          responseKind: { group: "", version: "", kind: r.kind },
          scope: r.namespaced ? "Namespaced" : "Cluster",
          singularResource: r.singular,
          verbs: r.verbs,
          ...(r.shortNames.length > 0 ? { shortNames: r.shortNames } : {}),
          ...(r.categories.length > 0 ? { categories: r.categories } : {}),
          ...(r.subresources.length > 0
            ? {
                subresources: r.subresources.map((s) => ({
                  subresource: s.name,
                  responseKind: s.responseKind
                    ? {
                        group: s.responseKind.group,
                        version: s.responseKind.version,
                        kind: s.responseKind.kind,
                      }
                    : { group: "", version: "", kind: r.kind },
                  verbs: s.verbs,
                })),
              }
            : {}),
        })),
        freshness: "Current",
      })),
    })),
  };
}

/** The media type of aggregated discovery, as the server names it in Content-Type. */
export const AGGREGATED_TYPE =
  "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/**
 * Whether an Accept header asks for aggregated discovery first: the server answers with the first
 * media range it can produce, so `...;as=APIGroupDiscoveryList,application/json` gets aggregated
 * and plain `application/json` gets legacy.
 */
export function wantsAggregated(accept: string | undefined): boolean {
  if (!accept) return false;
  for (const range of accept.split(",")) {
    const parts = range.split(";").map((s) => s.trim());
    const type = parts[0]?.toLowerCase();
    const params = new Map<string, string>();
    for (const p of parts.slice(1)) {
      const eq = p.indexOf("=");
      if (eq > 0) params.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim());
    }
    if (type !== "application/json" && type !== "*/*" && type !== "application/*") continue;
    if (!params.has("as")) return false;
    if (
      params.get("as") === "APIGroupDiscoveryList" &&
      params.get("g") === "apidiscovery.k8s.io" &&
      (params.get("v") === "v2" || params.get("v") === "v2beta1")
    ) {
      return true;
    }
  }
  return false;
}
