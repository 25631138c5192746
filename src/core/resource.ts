/**
 * Resource type descriptors: the static facts about a kind of object (group, version, plural,
 * scope, ...) that let request building address it without any call site spelling a URL or a
 * plural. `codegen/` emits one descriptor per built-in kind, `kubekit-crdgen` one per CRD version;
 * the dynamic client builds them at run time from discovery.
 */
import { RequestBuildError } from "./errors.ts";
import type { KubernetesObject, TypeMeta } from "./meta.ts";
import { validatePathSegmentName } from "./validation.ts";

/** The API verbs request building knows, as discovery and RBAC spell them. */
export type Verb =
  | "get"
  | "list"
  | "watch"
  | "create"
  | "update"
  | "patch"
  | "delete"
  | "deletecollection";

export const verbs: readonly Verb[] = Object.freeze([
  "get",
  "list",
  "watch",
  "create",
  "update",
  "patch",
  "delete",
  "deletecollection",
]);

/** A group and version; the core group is `""`. */
export interface GroupVersion {
  readonly group: string;
  readonly version: string;
}

export interface GroupVersionKind extends GroupVersion {
  readonly kind: string;
}

export interface GroupVersionResource extends GroupVersion {
  /** The plural resource name, e.g. `deployments`. */
  readonly resource: string;
}

/**
 * The least request building needs to address a resource: what a dynamic caller can supply from
 * discovery without a full descriptor. Every `ResourceType` is one.
 */
export interface ResourceRef<Namespaced extends boolean = boolean> {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly namespaced: Namespaced;
}

/** A subresource as discovery reports it, e.g. `status`, `scale` or `eviction`. */
export interface SubresourceInfo {
  readonly name: string;
  /**
   * What the subresource accepts and returns when that is not the parent kind itself, e.g.
   * `autoscaling/v1` Scale for `deployments/scale`. Absent when unknown.
   */
  readonly responseKind?: GroupVersionKind;
  readonly verbs: readonly string[];
}

/**
 * The phantom key that carries a descriptor's object type. It exists only in the type system; no
 * descriptor has it at run time.
 */
declare const objectType: unique symbol;

/**
 * A resource type: everything static about one kind in one group version.
 *
 * `T` is the object type, carried by a phantom property so that `client.api(Pod)` infers `Pod` from
 * the descriptor alone. `Namespaced` is the scope as a literal type (`true` or `false`), so the
 * typed client can offer `.namespace()` only on namespaced kinds.
 *
 * A generated module exports the descriptor and the object interface under one name; TypeScript
 * keeps values and types apart, so `import { Pod }` brings both:
 *
 * ```ts
 * export interface Pod extends KubernetesObject { spec?: PodSpec; status?: PodStatus }
 * export const Pod: ResourceType<Pod, true> = defineResource<Pod>()({
 *   group: "", version: "v1", kind: "Pod", plural: "pods", namespaced: true,
 * });
 * ```
 */
export interface ResourceType<
  T extends KubernetesObject = KubernetesObject,
  Namespaced extends boolean = boolean,
> extends ResourceRef<Namespaced> {
  readonly kind: string;
  /** The lower-case singular name, e.g. `pod`, which kubectl accepts as a resource name. */
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  /**
   * The verbs discovery listed when the descriptor was made. Informational: a newer server may
   * serve more, so request building does not refuse a verb missing from here.
   */
  readonly verbs: readonly string[];
  readonly subresources: readonly SubresourceInfo[];
  readonly [objectType]?: T;
}

/** The object type a descriptor carries: `ObjectOf<typeof Pod>` is `Pod`. */
export type ObjectOf<R> = R extends ResourceType<infer T, boolean> ? T : never;

/** The scope a descriptor carries as a literal type: `true`, `false`, or `boolean` when unknown. */
export type ScopeOf<R> = R extends ResourceRef<infer N> ? N : never;

export type NamespacedResourceType<T extends KubernetesObject = KubernetesObject> = ResourceType<
  T,
  true
>;
export type ClusterResourceType<T extends KubernetesObject = KubernetesObject> = ResourceType<
  T,
  false
>;

/** What `defineResource` takes; the lists default to empty and `singular` to the lower-case kind. */
export interface ResourceTypeSpec<Namespaced extends boolean> {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: Namespaced;
  readonly singular?: string;
  readonly shortNames?: readonly string[];
  readonly categories?: readonly string[];
  readonly verbs?: readonly string[];
  readonly subresources?: readonly SubresourceInfo[];
}

/**
 * Makes a frozen descriptor for object type `T`. The call is curried so that `T` is given and the
 * scope is inferred from the `namespaced` literal: `defineResource<Pod>()({ ..., namespaced: true })`
 * is a `ResourceType<Pod, true>`. Throws a `RequestBuildError` for a group, version or plural that
 * could never appear in a URL path.
 */
export function defineResource<T extends KubernetesObject>(): <Namespaced extends boolean>(
  spec: ResourceTypeSpec<Namespaced>,
) => ResourceType<T, Namespaced> {
  return (spec) => {
    checkResourceRef(spec, "resource");
    if (typeof spec.kind !== "string" || spec.kind === "") {
      throw new RequestBuildError("resource.kind", "must be a non-empty string");
    }
    const list = <V>(xs: readonly V[] | undefined): readonly V[] => Object.freeze([...(xs ?? [])]);
    return Object.freeze({
      group: spec.group,
      version: spec.version,
      kind: spec.kind,
      plural: spec.plural,
      namespaced: spec.namespaced,
      singular: spec.singular ?? spec.kind.toLowerCase(),
      shortNames: list(spec.shortNames),
      categories: list(spec.categories),
      verbs: list(spec.verbs),
      subresources: list(spec.subresources?.map((s) => Object.freeze({ ...s }))),
    });
  };
}

/**
 * Checks that a resource reference can address a URL: a version and plural that are path segments,
 * a group that is `""` or a path segment, and a boolean scope. `field` names the value in errors.
 */
export function checkResourceRef(ref: unknown, field: string): asserts ref is ResourceRef {
  if (typeof ref !== "object" || ref === null) {
    throw new RequestBuildError(
      field,
      "must be a resource type or {group, version, plural, namespaced}",
    );
  }
  const r = ref as Record<string, unknown>;
  if (typeof r.group !== "string") {
    throw new RequestBuildError(`${field}.group`, 'must be a string ("" for the core group)');
  }
  if (r.group !== "") pathSegment(r.group, `${field}.group`);
  for (const key of ["version", "plural"] as const) {
    const v = r[key];
    if (typeof v !== "string") throw new RequestBuildError(`${field}.${key}`, "must be a string");
    pathSegment(v, `${field}.${key}`);
  }
  if (typeof r.namespaced !== "boolean") {
    throw new RequestBuildError(`${field}.namespaced`, "must be true or false");
  }
}

function pathSegment(value: string, field: string): void {
  const errs = validatePathSegmentName(value);
  if (errs.length > 0)
    throw new RequestBuildError(field, `${JSON.stringify(value)} ${errs.join("; ")}`);
}

/** The `apiVersion` of a group version: `v1` for the core group, `apps/v1` otherwise. */
export function apiVersionOf(gv: GroupVersion): string {
  return gv.group === "" ? gv.version : `${gv.group}/${gv.version}`;
}

export function gvkOf(rt: GroupVersion & { readonly kind: string }): GroupVersionKind {
  return { group: rt.group, version: rt.version, kind: rt.kind };
}

export function gvrOf(rt: ResourceRef): GroupVersionResource {
  return { group: rt.group, version: rt.version, resource: rt.plural };
}

/**
 * Parses `v1` or `apps/v1`. Stricter than apimachinery's parser, which also accepts `""` and `/`
 * as the internal version: those never name a served API, so here they are errors, as are an empty
 * group or version around the slash and more than one slash. `field` names the value in errors.
 */
export function parseGroupVersion(text: string, field = "groupVersion"): GroupVersion {
  const parts = text.split("/");
  if (parts.length === 1) {
    if (text === "") throw new RequestBuildError(field, "must not be empty");
    return { group: "", version: text };
  }
  if (parts.length === 2 && parts[0] !== "" && parts[1] !== "") {
    return { group: parts[0]!, version: parts[1]! };
  }
  throw new RequestBuildError(
    field,
    `${JSON.stringify(text)} is not a group version; expected "version" or "group/version"`,
  );
}

/** `parseGroupVersion` for an object's `apiVersion` field. */
export function parseApiVersion(apiVersion: string): GroupVersion {
  return parseGroupVersion(apiVersion, "apiVersion");
}

/** The inverse of `parseGroupVersion`. */
export function formatGroupVersion(gv: GroupVersion): string {
  return apiVersionOf(gv);
}

/** The group, version and kind an object declares in its `apiVersion` and `kind`. */
export function gvkOfObject(obj: TypeMeta): GroupVersionKind {
  if (typeof obj.apiVersion !== "string") {
    throw new RequestBuildError("apiVersion", "the object has no apiVersion");
  }
  if (typeof obj.kind !== "string" || obj.kind === "") {
    throw new RequestBuildError("kind", "the object has no kind");
  }
  return { ...parseApiVersion(obj.apiVersion), kind: obj.kind };
}
