/**
 * Discovery documents as the API server sends them, and their conversion into kubekit's shapes:
 * groups with their versions, and one `ResourceType` descriptor per resource, with its
 * subresources folded in. Pure functions, no I/O.
 */
import type { APIResourceList } from "../api/meta/v1/index.ts";
import type { KubernetesObject } from "../core/meta.ts";
import {
  defineResource,
  type GroupVersionKind,
  type ResourceType,
  type SubresourceInfo,
} from "../core/resource.ts";
import { StaleGroupVersionError } from "./errors.ts";

/** A resource as discovery describes it: a descriptor the typed and dynamic clients accept. */
export type DiscoveredResource = ResourceType<KubernetesObject, boolean>;

/** An API group and the versions the server serves of it. */
export interface ApiGroup {
  /** `""` for the core group. */
  readonly name: string;
  /** In the server's order, which puts the preferred version first. */
  readonly versions: readonly string[];
  readonly preferredVersion: string;
}

/**
 * What the server answered discovery with: aggregated (`/api` and `/apis` held everything), legacy
 * (one more request per group version), or a mix of the two (one endpoint each).
 */
export type DiscoveryFormat = "aggregated" | "legacy" | "mixed";

/** `/version`. */
export interface VersionInfo {
  major: string;
  minor: string;
  gitVersion: string;
  gitCommit?: string;
  gitTreeState?: string;
  buildDate?: string;
  goVersion?: string;
  compiler?: string;
  platform?: string;
  emulationMajor?: string;
  emulationMinor?: string;
  minCompatibilityMajor?: string;
  minCompatibilityMinor?: string;
}

// ---- legacy (unaggregated) discovery: /api, /apis, /api/v1, /apis/<group>/<version> ----

/** `/api` in the legacy format. */
export interface APIVersions {
  kind?: "APIVersions";
  versions: string[];
}

export interface GroupVersionForDiscovery {
  groupVersion: string;
  version: string;
}

export interface APIGroup {
  name: string;
  versions: GroupVersionForDiscovery[];
  preferredVersion?: GroupVersionForDiscovery;
}

/** `/apis` in the legacy format. */
export interface APIGroupList {
  kind?: "APIGroupList";
  groups: APIGroup[];
}

// ---- aggregated discovery (apidiscovery.k8s.io/v2): everything from /api and /apis ----

export interface DiscoveryKind {
  group?: string;
  version?: string;
  kind?: string;
}

export interface APISubresourceDiscovery {
  subresource: string;
  responseKind?: DiscoveryKind;
  acceptedTypes?: DiscoveryKind[];
  verbs?: string[];
}

export interface APIResourceDiscovery {
  resource: string;
  responseKind?: DiscoveryKind;
  scope: "Cluster" | "Namespaced";
  singularResource?: string;
  verbs?: string[];
  shortNames?: string[];
  categories?: string[];
  subresources?: APISubresourceDiscovery[];
}

export interface APIVersionDiscovery {
  version: string;
  resources?: APIResourceDiscovery[];
  /** `Stale` when the server could not refresh this version from the aggregated API behind it. */
  freshness?: "Current" | "Stale";
}

export interface APIGroupDiscovery {
  metadata?: { name?: string };
  versions?: APIVersionDiscovery[];
}

export interface APIGroupDiscoveryList {
  kind?: "APIGroupDiscoveryList";
  apiVersion?: string;
  items?: APIGroupDiscovery[];
}

/** The Accept header of aggregated discovery, falling back to the legacy format. */
export const ACCEPT_AGGREGATED =
  "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
/** The Accept header of legacy discovery only (client-go's `UseLegacyDiscovery`). */
export const ACCEPT_LEGACY = "application/json";

/**
 * Which format a discovery response is in, from its Content-Type: `aggregated` for
 * `application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList` (v2beta1 has the same
 * shape), `legacy` for plain `application/json`, undefined for anything else. Parameters are
 * found by name, not position (parameter names are case-insensitive, RFC 9110).
 */
export function discoveryFormat(
  contentType: string | undefined,
): "aggregated" | "legacy" | undefined {
  if (!contentType) return undefined;
  const [type, ...rest] = contentType.split(";").map((s) => s.trim());
  if (type?.toLowerCase() !== "application/json") return undefined;
  const params = new Map<string, string>();
  for (const p of rest) {
    const eq = p.indexOf("=");
    if (eq > 0) params.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim());
  }
  if (!params.has("as")) return "legacy";
  if (
    params.get("as") === "APIGroupDiscoveryList" &&
    params.get("g") === "apidiscovery.k8s.io" &&
    (params.get("v") === "v2" || params.get("v") === "v2beta1")
  ) {
    return "aggregated";
  }
  return undefined;
}

/** `v1` for the core group, `apps/v1` otherwise. */
export function gvKey(group: string, version: string): string {
  return group === "" ? version : `${group}/${version}`;
}

function kindIn(parentGroup: string, parentVersion: string, k: DiscoveryKind | undefined) {
  if (!k?.kind) return undefined;
  // An empty version means "the version of the list this entry is in" (and so its group too).
  return k.version
    ? { group: k.group ?? "", version: k.version, kind: k.kind }
    : { group: parentGroup, version: parentVersion, kind: k.kind };
}

const define = defineResource<KubernetesObject>();

function strings(xs: unknown): string[] {
  return Array.isArray(xs) ? xs.filter((x): x is string => typeof x === "string") : [];
}

interface ResourceSpec {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  singular: string | undefined;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  subresources: SubresourceInfo[];
}

/** Freezes a spec into a descriptor; an entry no URL could address is left out (undefined). */
function build(spec: ResourceSpec): DiscoveredResource | undefined {
  try {
    return define({
      group: spec.group,
      version: spec.version,
      kind: spec.kind,
      plural: spec.plural,
      namespaced: spec.namespaced,
      ...(spec.singular ? { singular: spec.singular } : {}),
      shortNames: spec.shortNames,
      categories: spec.categories,
      verbs: spec.verbs,
      subresources: spec.subresources,
    });
  } catch {
    return undefined;
  }
}

function subresource(
  name: string,
  responseKind: GroupVersionKind | undefined,
  verbs: string[],
): SubresourceInfo {
  return responseKind ? { name, responseKind, verbs } : { name, verbs };
}

/** The descriptors of one legacy `APIResourceList`, with `x/y` entries folded into `x`. */
export function resourcesFromList(
  group: string,
  version: string,
  list: Pick<APIResourceList, "resources">,
): DiscoveredResource[] {
  const specs = new Map<string, ResourceSpec>();
  const entries = Array.isArray(list?.resources) ? list.resources : [];
  for (const r of entries) {
    if (typeof r?.name !== "string" || r.name.includes("/") || !r.kind) continue;
    specs.set(r.name, {
      group,
      version,
      kind: r.kind,
      plural: r.name,
      namespaced: r.namespaced === true,
      singular: r.singularName || undefined,
      shortNames: strings(r.shortNames),
      categories: strings(r.categories),
      verbs: strings(r.verbs),
      subresources: [],
    });
  }
  for (const r of entries) {
    if (typeof r?.name !== "string") continue;
    const slash = r.name.indexOf("/");
    if (slash < 0) continue;
    const parent = specs.get(r.name.slice(0, slash));
    if (!parent) continue;
    const rk = kindIn(group, version, { group: r.group, version: r.version, kind: r.kind });
    parent.subresources.push(subresource(r.name.slice(slash + 1), rk, strings(r.verbs)));
  }
  return [...specs.values()].map(build).filter((r) => r !== undefined);
}

/** The core group as legacy `/api` describes it. */
export function groupFromVersions(v: APIVersions): ApiGroup | undefined {
  const versions = strings(v?.versions);
  if (versions.length === 0) return undefined;
  return { name: "", versions, preferredVersion: versions[0]! };
}

/** The groups of a legacy `/apis`. */
export function groupsFromList(list: APIGroupList): ApiGroup[] {
  const out: ApiGroup[] = [];
  for (const g of Array.isArray(list?.groups) ? list.groups : []) {
    if (typeof g?.name !== "string") continue;
    const versions = (Array.isArray(g.versions) ? g.versions : [])
      .map((v) => v?.version)
      .filter((v): v is string => typeof v === "string" && v !== "");
    if (versions.length === 0) continue;
    const preferred = g.preferredVersion?.version;
    out.push({
      name: g.name,
      versions,
      preferredVersion: preferred && versions.includes(preferred) ? preferred : versions[0]!,
    });
  }
  return out;
}

export interface ParsedDiscovery {
  groups: ApiGroup[];
  /** Keyed by `gvKey`. */
  resources: Map<string, DiscoveredResource[]>;
  /** Group versions whose resources are unknown, keyed by `gvKey`. */
  failed: Map<string, Error>;
}

/**
 * Splits an aggregated `APIGroupDiscoveryList` into groups and resources, as client-go's
 * `SplitGroupsAndResources`: the first version of a group is its preferred one, and a version
 * marked `Stale` is listed in its group but counted as failed, with no resources.
 */
export function fromAggregated(list: APIGroupDiscoveryList): ParsedDiscovery {
  const out: ParsedDiscovery = { groups: [], resources: new Map(), failed: new Map() };
  for (const g of Array.isArray(list?.items) ? list.items : []) {
    const name = g?.metadata?.name ?? "";
    const versions: string[] = [];
    for (const v of Array.isArray(g?.versions) ? g.versions : []) {
      if (typeof v?.version !== "string" || v.version === "") continue;
      versions.push(v.version);
      const key = gvKey(name, v.version);
      if (v.freshness === "Stale") {
        out.failed.set(key, new StaleGroupVersionError(key));
        continue;
      }
      const rs: DiscoveredResource[] = [];
      for (const r of Array.isArray(v.resources) ? v.resources : []) {
        const kind = kindIn(name, v.version, r?.responseKind);
        if (typeof r?.resource !== "string" || !kind) continue;
        const built = build({
          group: name,
          version: v.version,
          kind: kind.kind,
          plural: r.resource,
          namespaced: r.scope === "Namespaced",
          singular: r.singularResource || undefined,
          shortNames: strings(r.shortNames),
          categories: strings(r.categories),
          verbs: strings(r.verbs),
          subresources: (Array.isArray(r.subresources) ? r.subresources : [])
            .filter((s) => typeof s?.subresource === "string")
            .map((s) =>
              subresource(s.subresource, kindIn(name, v.version, s.responseKind), strings(s.verbs)),
            ),
        });
        if (built) rs.push(built);
      }
      out.resources.set(key, rs);
    }
    if (versions.length > 0) {
      out.groups.push({ name, versions, preferredVersion: versions[0]! });
    }
  }
  return out;
}

/**
 * Each resource once, at the version its group prefers, or, for a resource the preferred version
 * does not serve, at the first version (in the server's order) that serves it; as client-go's
 * `ServerPreferredResources` and `kubectl api-resources`. Subresources are part of their parent.
 * In group order, then the order resources first appear.
 */
export function preferredResources(
  groups: readonly ApiGroup[],
  resources: ReadonlyMap<string, readonly DiscoveredResource[]>,
): DiscoveredResource[] {
  const chosen = new Map<string, DiscoveredResource>();
  for (const g of groups) {
    for (const v of g.versions) {
      for (const r of resources.get(gvKey(g.name, v)) ?? []) {
        const key = `${r.plural}.${g.name}`;
        if (chosen.has(key) && v !== g.preferredVersion) continue;
        chosen.set(key, r);
      }
    }
  }
  return [...chosen.values()];
}

/**
 * A descriptor from its JSON form (as `JSON.stringify` writes one, e.g. in the disk cache), or
 * undefined when the value is not one.
 */
export function resourceFromJson(value: unknown): DiscoveredResource | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const r = value as Record<string, unknown>;
  if (
    typeof r.group !== "string" ||
    typeof r.version !== "string" ||
    typeof r.kind !== "string" ||
    typeof r.plural !== "string" ||
    typeof r.namespaced !== "boolean"
  ) {
    return undefined;
  }
  const subs: SubresourceInfo[] = [];
  for (const s of Array.isArray(r.subresources) ? r.subresources : []) {
    if (typeof s?.name !== "string") return undefined;
    const rk = s.responseKind as Record<string, unknown> | undefined;
    const kind =
      rk &&
      typeof rk.group === "string" &&
      typeof rk.version === "string" &&
      typeof rk.kind === "string"
        ? { group: rk.group, version: rk.version, kind: rk.kind }
        : undefined;
    subs.push(subresource(s.name, kind, strings(s.verbs)));
  }
  return build({
    group: r.group,
    version: r.version,
    kind: r.kind,
    plural: r.plural,
    namespaced: r.namespaced,
    singular: typeof r.singular === "string" ? r.singular : undefined,
    shortNames: strings(r.shortNames),
    categories: strings(r.categories),
    verbs: strings(r.verbs),
    subresources: subs,
  });
}
