/**
 * Unstructured objects: any Kubernetes object as the plain JSON the server sends, for code that
 * learns its kinds at run time (the dynamic client, generic controllers, kubectl-like tools).
 */
import type { KubernetesList, KubernetesObject, ObjectMeta } from "../core/meta.ts";

/**
 * An object of any kind: `apiVersion`, `kind` and `metadata` are always there (the server sends
 * them, and creating or updating an object needs them); everything else is `unknown` until the
 * caller checks it, e.g. with `nestedField`.
 */
export interface Unstructured extends KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export type UnstructuredList = KubernetesList<Unstructured>;

/** True for an object with a string `apiVersion` and `kind` and an object `metadata`. */
export function isUnstructured(value: unknown): value is Unstructured {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.apiVersion === "string" &&
    typeof v.kind === "string" &&
    typeof v.metadata === "object" &&
    v.metadata !== null
  );
}

/**
 * The value at a path of object keys (`nestedField(obj, "spec", "replicas")`), or undefined when
 * any step is missing or not an object. Arrays are not indexed: a path names fields only.
 */
export function nestedField(obj: unknown, ...path: string[]): unknown {
  let cur: unknown = obj;
  for (const key of path) {
    if (typeof cur !== "object" || cur === null || Array.isArray(cur)) return undefined;
    if (!Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}
