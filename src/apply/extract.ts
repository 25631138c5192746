/**
 * Extracting a manager's apply configuration from a live object, as client-go's generated
 * `ExtractX` functions do (apimachinery `managedfields.ExtractInto`): read the manager's `Apply`
 * entry in `metadata.managedFields` and keep exactly the fields it owns.
 *
 * FieldsV1 (structured-merge-diff's `fieldpath` set, serialised): an object whose keys are path
 * elements and whose values are the sets below them.
 * - `f:<name>`: a struct field or a map key.
 * - `k:{"name":"c"}`: the item of an associative list (`listType: map`) with those key values.
 * - `v:<json>`: the item of a set (`listType: set`) with that value.
 * - `i:<n>`: the item at an index of a list with neither.
 * - `.`: the element itself is owned as well as (some of) what is below it.
 * Like apimachinery, only the leaves count (an element with children owns them, not itself): a
 * leaf that is a scalar, an atomic list or an atomic map contributes its whole value; an empty
 * object or list contributes itself; a granular object or list without children contributes
 * nothing (the manager applied it empty and others filled it).
 */

import { KubekitError } from "../core/errors.ts";
import type { KubernetesObject, ManagedFieldsEntry } from "../core/meta.ts";
import { isObject, type JsonObject, jsonEqual } from "./json.ts";
import { type KindRef, PatchMeta } from "./patchmeta.ts";
import type { ApplyConfiguration } from "./types.ts";

/** A FieldsV1 set: path elements (`f:spec`, `k:{...}`, `v:...`, `i:0`, `.`) to their subsets. */
export type FieldsV1 = { [pathElement: string]: FieldsV1 };

export interface ExtractOptions {
  /** The subresource the manager applied to (`status`); "" or absent for the object itself. */
  subresource?: string;
  /**
   * Patch metadata that says which values are atomic. By default the built-in table for the
   * object's kind; for a custom resource pass `await PatchMeta.fromServer(discovery, gvk)`, else
   * lists count as atomic and objects as granular (apply's defaults for schemaless fields).
   */
  schema?: PatchMeta;
  /** The kind, for objects that lack `apiVersion` and `kind` (list items): a descriptor works. */
  kind?: KindRef;
}

/** An object that cannot be extracted from: no kind, or managed fields in another format. */
export class ExtractError extends KubekitError {
  static override readonly brand: string = "ExtractError";

  constructor(message: string) {
    super(message, { code: "ERR_KUBEKIT_EXTRACT" });
  }
}

/** The `Apply` entry of `manager` for `subresource` (apimachinery's `findManagedFields`). */
export function managedFieldsEntry(
  object: KubernetesObject,
  manager: string,
  subresource = "",
): ManagedFieldsEntry | undefined {
  return object.metadata?.managedFields?.find(
    (e) =>
      e.manager === manager && e.operation === "Apply" && (e.subresource ?? "") === subresource,
  );
}

/**
 * The apply configuration `fieldManager` owns in `object`: the fields of its `Apply` entry, plus
 * `apiVersion`, `kind`, `metadata.name` and `metadata.namespace`. Change it and apply it again
 * with the same manager to update just those fields; fields other managers own are not in it, so
 * applying it never takes them over. A manager with no entry gets the identity fields alone.
 *
 * Items of associative lists keep their key fields even when the manager does not own them, so
 * the configuration stays applicable.
 */
export function extract<T extends KubernetesObject>(
  object: T,
  fieldManager: string,
  options: ExtractOptions = {},
): ApplyConfiguration<T> {
  const ref = options.kind ?? object;
  const { apiVersion, kind } = kindOf(ref);
  if (!apiVersion || !kind) {
    throw new ExtractError(
      "the object has no apiVersion and kind: pass options.kind (a descriptor works)",
    );
  }
  const schema = options.schema ?? PatchMeta.builtin({ apiVersion, kind }) ?? PatchMeta.unknown();
  const entry = managedFieldsEntry(object, fieldManager, options.subresource ?? "");
  let out: JsonObject = {};
  if (entry) {
    if (entry.fieldsType !== undefined && entry.fieldsType !== "FieldsV1") {
      throw new ExtractError(`managed fields of type ${entry.fieldsType} are not supported`);
    }
    out = extractObject(object as JsonObject, (entry.fieldsV1 ?? {}) as FieldsV1, schema) ?? {};
  }
  const metadata = isObject(out.metadata) ? out.metadata : {};
  const name = object.metadata?.name;
  const namespace = object.metadata?.namespace;
  return {
    ...out,
    apiVersion,
    kind,
    metadata: {
      ...metadata,
      ...(name === undefined ? {} : { name }),
      ...(namespace === undefined || namespace === "" ? {} : { namespace }),
    },
  } as unknown as ApplyConfiguration<T>;
}

function kindOf(ref: KindRef): { apiVersion: string | undefined; kind: string | undefined } {
  if ("group" in ref && typeof ref.group === "string") {
    return {
      apiVersion: ref.group ? `${ref.group}/${ref.version}` : ref.version,
      kind: ref.kind,
    };
  }
  const r = ref as { apiVersion?: string; kind?: string };
  return { apiVersion: r.apiVersion, kind: r.kind };
}

const OMIT = Symbol("omit");

function isLeaf(set: FieldsV1): boolean {
  return Object.keys(set).every((k) => k === ".");
}

/** The owned part of `obj` below `set`; undefined when nothing is left. */
function extractObject(obj: JsonObject, set: FieldsV1, meta: PatchMeta): JsonObject | undefined {
  if (Object.keys(obj).length === 0) return obj;
  const out: JsonObject = {};
  for (const [pe, sub] of Object.entries(set)) {
    if (!pe.startsWith("f:")) continue;
    const name = pe.slice(2);
    if (!Object.hasOwn(obj, name)) continue;
    const value = obj[name];
    const f = meta.lookup(name);
    const v = isLeaf(sub) ? leafValue(value, f.atomic) : extractValue(value, sub, f.meta);
    if (v !== OMIT) out[name] = v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function extractValue(value: unknown, set: FieldsV1, meta: PatchMeta): unknown {
  if (Array.isArray(value)) return extractList(value, set, meta) ?? OMIT;
  if (isObject(value)) return extractObject(value, set, meta) ?? OMIT;
  return value; // a scalar where the set has children: it was replaced since; keep what is there
}

/** What a leaf contributes: see the module comment. */
function leafValue(value: unknown, atomic: boolean | undefined): unknown {
  if (Array.isArray(value)) {
    if (value.length === 0) return value;
    return (atomic ?? true) ? value : OMIT;
  }
  if (isObject(value)) {
    if (Object.keys(value).length === 0) return value;
    return atomic ? value : OMIT;
  }
  return value;
}

interface ItemSelector {
  matches(item: unknown, index: number): boolean;
  /** The key fields an associative item must keep. */
  keys: JsonObject | undefined;
  set: FieldsV1;
}

function selectorOf(pe: string, set: FieldsV1): ItemSelector | undefined {
  const kind = pe.slice(0, 2);
  const body = pe.slice(2);
  try {
    if (kind === "k:") {
      const keys = JSON.parse(body) as JsonObject;
      if (!isObject(keys)) return undefined;
      return {
        keys,
        set,
        matches: (item) =>
          isObject(item) &&
          Object.entries(keys).every(([k, v]) => Object.hasOwn(item, k) && jsonEqual(item[k], v)),
      };
    }
    if (kind === "v:") {
      const v = JSON.parse(body) as unknown;
      return { keys: undefined, set, matches: (item) => jsonEqual(item, v) };
    }
    if (kind === "i:") {
      const i = Number(body);
      return { keys: undefined, set, matches: (_item, index) => index === i };
    }
  } catch {
    throw new ExtractError(`managed fields: cannot parse the path element ${JSON.stringify(pe)}`);
  }
  return undefined;
}

function extractList(list: unknown[], set: FieldsV1, meta: PatchMeta): unknown[] | undefined {
  if (list.length === 0) return list;
  const selectors = Object.entries(set)
    .map(([pe, sub]) => selectorOf(pe, sub))
    .filter((s): s is ItemSelector => s !== undefined);
  const out: unknown[] = [];
  list.forEach((item, index) => {
    const s = selectors.find((x) => x.matches(item, index));
    if (!s) return;
    if (isLeaf(s.set)) {
      out.push(item);
      return;
    }
    if (!isObject(item)) {
      out.push(item);
      return;
    }
    const owned = extractObject(item, s.set, meta) ?? {};
    out.push(s.keys ? { ...s.keys, ...owned } : owned);
  });
  return out.length > 0 ? out : undefined;
}

// ---------------------------------------------------------------------------------------------
// Reading FieldsV1

/**
 * The leaf paths of a FieldsV1 set, written as the API server writes them in conflict messages:
 * `.spec.replicas`, `.spec.template.spec.containers[name="app"].image`,
 * `.metadata.finalizers[="example.com/x"]`, `.spec.list[0]`.
 */
export function fieldPaths(set: FieldsV1): string[] {
  const out: string[] = [];
  const walk = (s: FieldsV1, prefix: string) => {
    for (const [pe, sub] of Object.entries(s)) {
      if (pe === ".") continue;
      const path = prefix + pathElementString(pe);
      if (isLeaf(sub)) out.push(path);
      else walk(sub, path);
    }
  };
  walk(set, "");
  return out;
}

function pathElementString(pe: string): string {
  const body = pe.slice(2);
  switch (pe.slice(0, 2)) {
    case "f:":
      return `.${body}`;
    case "k:": {
      const keys = JSON.parse(body) as JsonObject;
      return `[${Object.keys(keys)
        .sort()
        .map((k) => `${k}=${JSON.stringify(keys[k])}`)
        .join(",")}]`;
    }
    case "v:":
      return `[=${body}]`;
    case "i:":
      return `[${body}]`;
    default:
      return `<${pe}>`;
  }
}

/** The leaf paths `manager` owns through apply (see `fieldPaths`), or [] without an entry. */
export function ownedFieldPaths(
  object: KubernetesObject,
  manager: string,
  options: { subresource?: string; operation?: "Apply" | "Update" } = {},
): string[] {
  const operation = options.operation ?? "Apply";
  const subresource = options.subresource ?? "";
  const entry = object.metadata?.managedFields?.find(
    (e) =>
      e.manager === manager && e.operation === operation && (e.subresource ?? "") === subresource,
  );
  return entry?.fieldsV1 ? fieldPaths(entry.fieldsV1 as FieldsV1) : [];
}
