/**
 * The shapes of patches and apply configurations, derived from the object types, and typed
 * wrappers of `Api.patch` that check a patch against its kind.
 */
import type { Api, PatchCallOptions } from "../client/api.ts";
import type { KubernetesObject } from "../core/meta.ts";
import type { JsonPatch } from "../core/patch.ts";

// ---------------------------------------------------------------------------------------------
// RFC 6902 JSON Patch: the shapes live in core (Api.patch takes them too).

export {
  type JsonPatch,
  type JsonPatchAdd,
  type JsonPatchCopy,
  type JsonPatchMove,
  type JsonPatchOperation,
  type JsonPatchRemove,
  type JsonPatchReplace,
  type JsonPatchTest,
  jsonPointer,
} from "../core/patch.ts";

// ---------------------------------------------------------------------------------------------
// RFC 7386 JSON Merge Patch

/**
 * A JSON merge patch of `T`: any subset of its fields, each one merged recursively into the
 * object's; `null` deletes a field. Lists cannot be merged: a list in the patch replaces the
 * object's list whole, so it is typed as the full list.
 */
export type MergePatch<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: MergePatch<T[K]> | null }
    : T;

// ---------------------------------------------------------------------------------------------
// Strategic merge patch

/**
 * A list item directive: `{ "$patch": "replace" }` makes the patch's items the whole list;
 * `{ name: "x", "$patch": "delete" }` (with the merge key) deletes the item with that key.
 */
export interface ListItemDirective {
  $patch: "replace" | "delete";
  [mergeKey: string]: unknown;
}

type ListKeys<T> = {
  [K in keyof T & string]-?: NonNullable<T[K]> extends readonly unknown[] ? K : never;
}[keyof T & string];

type ElementOf<L> = L extends readonly (infer E)[] ? E : never;

type PrimitiveListKeys<T> = {
  [K in ListKeys<T>]: ElementOf<NonNullable<T[K]>> extends object ? never : K;
}[ListKeys<T>];

/** The directives a strategic merge patch of an object of type `T` may carry. */
export type StrategicMergePatchDirectives<T> = {
  /** `replace`: this object replaces the original's whole; `delete`: the original is removed. */
  $patch?: "replace" | "delete" | "merge";
  /** For fields with the `retainKeys` strategy: the fields to keep; the others are cleared. */
  $retainKeys?: (keyof T & string)[];
} & {
  /** The order of a merge list after the patch: its items' merge keys, or its primitives. */
  [K in ListKeys<T> as `$setElementOrder/${K}`]?: ElementOf<NonNullable<T[K]>> extends object
    ? Partial<ElementOf<NonNullable<T[K]>>>[]
    : ElementOf<NonNullable<T[K]>>[];
} & {
  /** Items to delete from a primitive merge list (`finalizers`). */
  [K in PrimitiveListKeys<T> as `$deleteFromPrimitiveList/${K}`]?: ElementOf<NonNullable<T[K]>>[];
};

/**
 * A strategic merge patch of `T` (built-in kinds only: the server answers 415 for custom
 * resources): like a merge patch, plus lists merged by their merge key where the API says so
 * (`containers` by `name`), and directives. A list of objects may hold partial items (merged into
 * the item with the same merge key) and `ListItemDirective`s.
 */
export type StrategicMergePatch<T> = T extends readonly (infer E)[]
  ? E extends object
    ? (StrategicMergePatch<E> | ListItemDirective)[]
    : E[]
  : T extends object
    ? { [K in keyof T]?: StrategicMergePatch<T[K]> | null } & StrategicMergePatchDirectives<T>
    : T;

// ---------------------------------------------------------------------------------------------
// Server-side apply

/** Every field optional, recursively; list items too. */
export type DeepPartial<T> = T extends readonly (infer E)[]
  ? DeepPartial<E>[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/**
 * A server-side apply configuration of `T`: the fields this manager wants to own and their values,
 * with `apiVersion`, `kind` and `metadata.name` required. Plain objects, no builders: fields left
 * out are not owned (and are removed if this manager owned them before and no one else does).
 */
export type ApplyConfiguration<T extends KubernetesObject> = DeepPartial<
  Omit<T, "apiVersion" | "kind" | "metadata">
> & {
  apiVersion: NonNullable<T["apiVersion"]>;
  kind: NonNullable<T["kind"]>;
  metadata: DeepPartial<NonNullable<T["metadata"]>> & { name: string; namespace?: string };
};

// ---------------------------------------------------------------------------------------------
// Typed patch calls

/** `Api.patch` options without the patch type, which the wrapper sets. */
export type TypedPatchOptions = Omit<PatchCallOptions, "type"> & { subresource?: string };

/** `api.patch(name, ops, { type: "json" })` with the operations typed. */
export function jsonPatch<T extends KubernetesObject>(
  api: Api<T, boolean>,
  name: string,
  operations: JsonPatch,
  options: TypedPatchOptions = {},
): Promise<T> {
  return api.patch(name, operations, { ...options, type: "json" });
}

/** `api.patch(name, patch, { type: "merge" })` with the patch checked against `T`. */
export function mergePatch<T extends KubernetesObject>(
  api: Api<T, boolean>,
  name: string,
  patch: MergePatch<T>,
  options: TypedPatchOptions = {},
): Promise<T> {
  return api.patch(name, patch, { ...options, type: "merge" });
}

/** `api.patch(name, patch, { type: "strategic" })` with the patch checked against `T`. */
export function strategicMergePatch<T extends KubernetesObject>(
  api: Api<T, boolean>,
  name: string,
  patch: StrategicMergePatch<T>,
  options: TypedPatchOptions = {},
): Promise<T> {
  return api.patch(name, patch, { ...options, type: "strategic" });
}
