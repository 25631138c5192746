/**
 * REST mapping: from what people and manifests say (`deploy`, `deployments.apps`, `Deployment`,
 * `apps/v1` + `Deployment`) to the resource that serves it, with its scope. The rules are
 * apimachinery's `DefaultRESTMapper` and `PriorityRESTMapper` as client-go's discovery REST mapper
 * sets them up, with kubectl's short-name expansion and argument parsing on top.
 *
 * Priority, when a name matches in more than one place: the core group's `v1` first, then the
 * groups in discovery order, each with its preferred version before its others. So `events` is
 * core `v1` Events, not `events.k8s.io`; `hpa` is `autoscaling/v2` when the server prefers v2.
 */
import type { GroupVersionKind } from "../core/resource.ts";
import { AmbiguousResourceError, type MappingQuery, NoMatchError } from "./errors.ts";
import { type ApiGroup, type DiscoveredResource, gvKey } from "./parse.ts";

/**
 * A partly specified resource: `resource` is a plural, a singular or a short name (any case).
 * An empty or missing `group` or `version` matches any, as in apimachinery (so the core group is
 * chosen by priority, not by `group: ""`).
 */
export interface ResourceQuery {
  group?: string | undefined;
  version?: string | undefined;
  resource: string;
}

/** A group and kind; the kind as declared (`Deployment`) or in lower case (`deployment`). */
export interface GroupKind {
  group: string;
  kind: string;
}

/** kubectl's reading of `deployments.v1.apps` / `deployments.apps` / `deployments`. */
export interface ResourceArg {
  /** Set when the argument has two or more dots: resource, version, then the group. */
  gvr?: { group: string; version: string; resource: string };
  /** Everything after the first dot is the group. */
  gr: { group: string; resource: string };
}

/** apimachinery's `ParseResourceArg`. */
export function parseResourceArg(arg: string): ResourceArg {
  const dot = arg.indexOf(".");
  const gr =
    dot < 0
      ? { group: "", resource: arg }
      : { group: arg.slice(dot + 1), resource: arg.slice(0, dot) };
  const parts = arg.split(".");
  if (parts.length < 3) return { gr };
  return {
    gvr: { resource: parts[0]!, version: parts[1]!, group: parts.slice(2).join(".") },
    gr,
  };
}

/** apimachinery's `ParseKindArg`: `Deployment.v1.apps` / `Deployment.apps` / `Deployment`. */
export function parseKindArg(arg: string): {
  gvk?: GroupVersionKind;
  gk: GroupKind;
} {
  const { gvr, gr } = parseResourceArg(arg);
  return {
    ...(gvr ? { gvk: { group: gvr.group, version: gvr.version, kind: gvr.resource } } : {}),
    gk: { group: gr.group, kind: gr.resource },
  };
}

/** What a mapper is built from: a discovery snapshot or anything shaped like one. */
export interface MapperSource {
  readonly groups: readonly ApiGroup[];
  readonly resources: ReadonlyMap<string, readonly DiscoveredResource[]>;
}

/**
 * A REST mapper over one discovery snapshot; it never asks the server. For one that refreshes
 * discovery when a lookup misses, see `DeferredRestMapper`. Subresources are not mapped (they are
 * part of their parent's descriptor).
 */
export class RestMapper {
  /** Every resource, most preferred first. */
  readonly resources: readonly DiscoveredResource[];
  readonly #rank = new Map<string, number>();

  constructor(source: MapperSource) {
    const order: string[] = [];
    const core = source.groups.find((g) => g.name === "");
    if (core?.versions.includes("v1")) order.push("v1");
    for (const g of source.groups) {
      const versions = [g.preferredVersion, ...g.versions.filter((v) => v !== g.preferredVersion)];
      for (const v of versions) {
        const key = gvKey(g.name, v);
        if (!order.includes(key) && source.resources.has(key)) order.push(key);
      }
    }
    order.forEach((key, i) => {
      this.#rank.set(key, i);
    });
    this.resources = Object.freeze(order.flatMap((key) => source.resources.get(key) ?? []));
  }

  /** 0 for the most preferred group version; higher is less preferred. */
  rankOf(r: { group: string; version: string }): number {
    return this.#rank.get(gvKey(r.group, r.version)) ?? Number.MAX_SAFE_INTEGER;
  }

  /**
   * kubectl's short-name expansion (client-go's `shortcutExpander`): a name that is some
   * resource's plural or singular is left alone; otherwise a short name (`deploy`, `po`, `crd`)
   * becomes its resource, and, when a group is given and no short name matches in it exactly, one
   * whose group starts with it (`hpa.autoscal`).
   */
  expandShortcut(q: ResourceQuery): ResourceQuery {
    const name = q.resource.toLowerCase();
    const group = q.group || "";
    const inGroup = (r: DiscoveredResource) => group === "" || r.group === group;
    if (this.resources.some((r) => inGroup(r) && (r.plural === name || r.singular === name))) {
      return { ...q, resource: name };
    }
    const short =
      this.resources.find((r) => inGroup(r) && r.shortNames.includes(name)) ??
      (group === ""
        ? undefined
        : this.resources.find((r) => r.group.startsWith(group) && r.shortNames.includes(name)));
    return short ? { ...q, group: short.group, resource: short.plural } : { ...q, resource: name };
  }

  /** Every resource that matches, short names expanded, most preferred first. */
  resourcesFor(q: ResourceQuery): DiscoveredResource[] {
    const { group, version, resource } = this.expandShortcut(q);
    return this.resources.filter(
      (r) =>
        (r.plural === resource || r.singular === resource) &&
        (!group || r.group === group) &&
        (!version || r.version === version),
    );
  }

  /**
   * The one resource that matches, by priority; a `NoMatchError` when none does, an
   * `AmbiguousResourceError` when several tie for first place.
   */
  resourceFor(q: ResourceQuery): DiscoveredResource {
    const all = this.resourcesFor(q);
    if (all.length === 0) throw new NoMatchError(query(q));
    const best = this.rankOf(all[0]!);
    const top = all.filter((r) => this.rankOf(r) === best);
    if (top.length > 1) throw new AmbiguousResourceError(query(q), top);
    return all[0]!;
  }

  kindsFor(q: ResourceQuery): GroupVersionKind[] {
    return this.resourcesFor(q).map(gvk);
  }

  kindFor(q: ResourceQuery): GroupVersionKind {
    return gvk(this.resourceFor(q));
  }

  /**
   * The resources that serve a kind: at the first of `versions` that has it, or, with no versions,
   * at every version, most preferred first. Empty when none.
   */
  restMappings(gk: GroupKind, versions: readonly string[] = []): DiscoveredResource[] {
    const matches = this.resources.filter(
      (r) => r.group === gk.group && (r.kind === gk.kind || r.kind.toLowerCase() === gk.kind),
    );
    const wanted = versions.filter((v) => v !== "");
    if (wanted.length === 0) return matches;
    for (const v of wanted) {
      const at = matches.filter((r) => r.version === v);
      if (at.length > 0) return at;
    }
    return [];
  }

  /**
   * The resource of a kind in a group (`{ group: "apps", kind: "Deployment" }`), at the first of
   * `versions` that serves it, else at the most preferred version; a `NoMatchError` when none.
   */
  restMapping(gk: GroupKind, versions: readonly string[] = []): DiscoveredResource {
    const found = this.restMappings(gk, versions)[0];
    if (!found) {
      throw new NoMatchError({
        group: gk.group,
        kind: gk.kind,
        version: versions.filter((v) => v !== "").join(",") || undefined,
      });
    }
    return found;
  }

  /**
   * A kubectl resource argument: `deployments.v1.apps`, `deployments.apps`, `deploy.apps`,
   * `deployments`, `deployment`, `deploy`, or a kind (`Deployment`, `Deployment.v1.apps`). The
   * fully qualified reading is tried first, then the group-and-resource one, then the kind, as
   * kubectl's resource builder does.
   */
  resolve(arg: string): DiscoveredResource {
    const { gvr, gr } = parseResourceArg(arg);
    for (const q of gvr ? [gvr, gr] : [gr]) {
      if (q.resource === "") continue;
      const found = this.#maybe(() => this.resourceFor(q));
      if (found) return found;
    }
    const { gvk: fullKind, gk } = parseKindArg(arg);
    if (fullKind) {
      const found = this.restMappings(fullKind, [fullKind.version])[0];
      if (found) return found;
    }
    const found = this.restMappings(gk)[0];
    if (found) return found;
    throw new NoMatchError({ arg });
  }

  /**
   * The resources in a category (`all`, `api-extensions`), each once at its most preferred
   * version, in priority order: what `kubectl get all` lists.
   */
  expandCategory(category: string): DiscoveredResource[] {
    const seen = new Set<string>();
    const out: DiscoveredResource[] = [];
    for (const r of this.resources) {
      const key = `${r.plural}.${r.group}`;
      if (!r.categories.includes(category) || seen.has(key)) continue;
      seen.add(key);
      out.push(r);
    }
    return out;
  }

  #maybe(f: () => DiscoveredResource): DiscoveredResource | undefined {
    try {
      return f();
    } catch (err) {
      if (err instanceof NoMatchError) return undefined;
      throw err;
    }
  }
}

function gvk(r: DiscoveredResource): GroupVersionKind {
  return { group: r.group, version: r.version, kind: r.kind };
}

function query(q: ResourceQuery): MappingQuery {
  return { group: q.group, version: q.version, resource: q.resource };
}
