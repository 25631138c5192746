/**
 * Small pure helpers over stored objects: rendering for a response, metadata order, JSON paths
 * (`.spec.replicas`) for scale subresources and field selectors, and the name rules with the
 * messages kube-apiserver's validation gives.
 */
import { jsonClone, jsonEqual } from "../apply/json.ts";
import type { KubernetesObject, ObjectMeta } from "../core/meta.ts";
import {
  formatLabelSelector,
  type LabelSelector,
  labelSelectorFromMeta,
} from "../core/selectors.ts";
import { utf8Length } from "../core/validation.ts";
import type { NameRule, ServedResource } from "./registry.ts";
import { type FieldError, fieldInvalid } from "./status.ts";

export type Obj = KubernetesObject & Record<string, unknown>;

export function apiVersionOf(r: { group: string; version: string }): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** RFC 3339 in UTC with whole seconds, as `metav1.Time` serializes. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

const META_ORDER = [
  "name",
  "generateName",
  "namespace",
  "selfLink",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "labels",
  "annotations",
  "ownerReferences",
  "finalizers",
  "managedFields",
];

/** Metadata with its fields in the order the real server writes them; empty values dropped. */
export function orderMetadata(meta: ObjectMeta): ObjectMeta {
  const m = meta as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of META_ORDER) {
    const v = m[k];
    if (v === undefined || v === null || v === "") continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  for (const [k, v] of Object.entries(m)) if (!(k in out) && !META_ORDER.includes(k)) out[k] = v;
  return out as ObjectMeta;
}

/**
 * An object as a response carries it: `kind`, `apiVersion` of the version asked for, then the
 * rest. Items of a built-in list come without `kind` and `apiVersion`, as the real server sends
 * them (custom resources keep theirs).
 */
export function render(obj: KubernetesObject, r: ServedResource, typed = true): Obj {
  const { apiVersion: _a, kind: _k, metadata, ...rest } = obj as Obj;
  if (!typed && !r.custom) return { metadata, ...rest } as Obj;
  return { kind: r.kind, apiVersion: apiVersionOf(r), metadata, ...rest } as Obj;
}

/** The object with everything but `metadata` and `status`: what `generation` tracks. */
export function specOf(obj: KubernetesObject): Record<string, unknown> {
  const { apiVersion: _a, kind: _k, metadata: _m, status: _s, ...rest } = obj as Obj;
  return rest;
}

export function sameSpec(a: KubernetesObject, b: KubernetesObject): boolean {
  return jsonEqual(specOf(a), specOf(b));
}

/** Two states are the same write when they differ at most in `managedFields`. */
export function sameObject(a: KubernetesObject, b: KubernetesObject): boolean {
  const strip = (o: KubernetesObject) => {
    const { apiVersion: _a, kind: _k, ...rest } = o as Obj;
    const { managedFields: _f, ...meta } = o.metadata ?? {};
    return { ...rest, metadata: meta };
  };
  return jsonEqual(strip(a), strip(b));
}

/** A path such as `.spec.replicas` split into its fields. */
function fieldsOf(path: string): string[] {
  return path.replace(/^\./, "").split(".").filter(Boolean);
}

export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const f of fieldsOf(path)) {
    if (typeof cur !== "object" || cur === null || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[f];
  }
  return cur;
}

/** `obj` (a fresh copy) with `value` at `path`, creating the objects on the way. */
export function setPath<T>(obj: T, path: string, value: unknown): T {
  const out = jsonClone(obj) as Record<string, unknown>;
  const fields = fieldsOf(path);
  let cur = out;
  for (const f of fields.slice(0, -1)) {
    const next = cur[f];
    if (typeof next !== "object" || next === null || Array.isArray(next)) cur[f] = {};
    cur = cur[f] as Record<string, unknown>;
  }
  cur[fields[fields.length - 1]!] = value;
  return out as T;
}

/** A field's value as a field selector compares it: scalars as Go prints them, else "". */
export function fieldValue(obj: unknown, path: string): string {
  const v = getPath(obj, path);
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return "";
}

/** A meta/v1 LabelSelector as `metav1.LabelSelectorAsSelector(...).String()` writes it. */
export function selectorString(sel: LabelSelector | undefined): string {
  if (sel === undefined) return "";
  try {
    return formatLabelSelector(labelSelectorFromMeta(sel));
  } catch {
    return "";
  }
}

/** A `map[string]string` selector (ReplicationController) as `labels.SelectorFromSet` writes it. */
export function mapSelectorString(sel: Record<string, string> | undefined): string {
  if (!sel) return "";
  return Object.keys(sel)
    .sort()
    .map((k) => `${k}=${sel[k]}`)
    .join(",");
}

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** apimachinery's name validation, with its messages. */
export function validateName(name: string, rule: NameRule, field: string): FieldError[] {
  const errs: string[] = [];
  switch (rule) {
    case "subdomain":
      if (utf8Length(name) > 253) errs.push("must be no more than 253 characters");
      if (!SUBDOMAIN.test(name)) {
        errs.push(
          "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        );
      }
      break;
    case "label":
      if (utf8Length(name) > 63) errs.push("must be no more than 63 characters");
      if (!LABEL.test(name)) {
        errs.push(
          "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        );
      }
      break;
    case "label1035":
      if (utf8Length(name) > 63) errs.push("must be no more than 63 characters");
      if (!LABEL1035.test(name)) {
        errs.push(
          "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
        );
      }
      break;
    case "path":
      if (name === "." || name === "..") errs.push(`may not be '${name}'`);
      for (const c of ["/", "%"]) if (name.includes(c)) errs.push(`may not contain '${c}'`);
      break;
  }
  return errs.map((e) => fieldInvalid(field, name, e));
}

/** `generateName` plus five characters from the alphabet apimachinery's name generator uses. */
export function generateName(prefix: string): string {
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  const base = prefix.length > 58 ? prefix.slice(0, 58) : prefix;
  let suffix = "";
  for (let i = 0; i < 5; i++) suffix += alphabet[Math.floor(Math.random() * alphabet.length)];
  return base + suffix;
}
