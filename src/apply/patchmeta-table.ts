/**
 * The patch metadata table: what it holds, how it is built from OpenAPI schemas, and its text form
 * (the generated `patchmeta.generated.ts`). No I/O and no dependency on the generated table, so
 * the code generator can import it to produce that table. See patchmeta.ts for the rules' story
 * and the resolver.
 */
import type { GroupVersionKind } from "../core/resource.ts";

/** `x-kubernetes-list-type`; a list without one is atomic. */
export type ListType = "atomic" | "set" | "map";

/** What the table says about one field. */
export interface FieldMeta {
  /** A struct (known fields), a list, or a map with free keys (`additionalProperties`). */
  readonly shape: "struct" | "list" | "map";
  /**
   * The definition of the struct, of the list's items or of the map's values, when that definition
   * is in the table (has metadata of its own).
   */
  readonly type?: string;
  /** `x-kubernetes-patch-strategy`, split at commas: `merge`, `replace`, `retainKeys`. */
  readonly patchStrategies?: readonly string[];
  /** `x-kubernetes-patch-merge-key`. */
  readonly patchMergeKey?: string;
  /** `x-kubernetes-list-type` when it is `set` or `map` (lists only). */
  readonly listType?: ListType;
  /**
   * `x-kubernetes-list-map-keys`, kept only on lists with a patch merge key whose map keys say more
   * than that key (`ports`: merged by `containerPort`, identified by `containerPort` + `protocol`).
   */
  readonly listMapKeys?: readonly string[];
  /** `x-kubernetes-map-type: atomic` on the field itself. */
  readonly atomic?: boolean;
}

export interface DefinitionMeta {
  /** `x-kubernetes-map-type: atomic` on the definition: its objects are owned and replaced whole. */
  readonly atomic: boolean;
  readonly fields: ReadonlyMap<string, FieldMeta>;
}

export interface PatchMetaTable {
  /** By OpenAPI definition name (`io.k8s.api.apps.v1.DeploymentSpec`). */
  readonly definitions: ReadonlyMap<string, DefinitionMeta>;
  /** `apps/v1/Deployment` (`v1/Pod` for the core group) → definition name. */
  readonly kinds: ReadonlyMap<string, string>;
}

/** The key of `kinds`: `group/version/Kind`, or `version/Kind` in the core group. */
export function kindKey(gvk: GroupVersionKind): string {
  return gvk.group ? `${gvk.group}/${gvk.version}/${gvk.kind}` : `${gvk.version}/${gvk.kind}`;
}

// ---------------------------------------------------------------------------------------------
// Building the table from OpenAPI schemas

interface RawSchema {
  type?: string | string[];
  $ref?: string;
  allOf?: RawSchema[];
  properties?: Record<string, RawSchema>;
  items?: RawSchema;
  additionalProperties?: RawSchema | boolean;
  "x-kubernetes-patch-strategy"?: string;
  "x-kubernetes-patch-merge-key"?: string;
  "x-kubernetes-list-type"?: string;
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-map-type"?: string;
  "x-kubernetes-group-version-kind"?: { group?: string; version?: string; kind?: string }[];
}

interface RawField extends Omit<FieldMeta, "type"> {
  target?: string;
}

interface RawDefinition {
  atomic: boolean;
  fields: Map<string, RawField>;
}

function refName(ref: string | undefined): string | undefined {
  if (typeof ref !== "string" || ref === "") return undefined;
  return ref.slice(ref.lastIndexOf("/") + 1);
}

function isObjectSchema(s: RawSchema): boolean {
  return s.type === "object" || (s.type === undefined && s.properties !== undefined);
}

/**
 * The patch metadata of every definition in `schemas` (an OpenAPI v3 document's
 * `components.schemas`, or the merged schemas of several). Objects defined inline (custom
 * resources define everything inline) become definitions named after their place:
 * `<definition>/<field>`, with `[]` for list items and `{}` for map values.
 */
export function buildPatchMetaTable(
  schemas: Readonly<Record<string, unknown>> | ReadonlyMap<string, unknown>,
): PatchMetaTable {
  const entries: [string, unknown][] =
    schemas instanceof Map ? [...schemas] : Object.entries(schemas as Record<string, unknown>);
  const raw = new Map<string, RawDefinition>();
  const kinds = new Map<string, string>();

  const define = (name: string, s: RawSchema): void => {
    if (raw.has(name)) return;
    const def: RawDefinition = {
      atomic: s["x-kubernetes-map-type"] === "atomic",
      fields: new Map(),
    };
    raw.set(name, def);
    for (const [field, prop] of Object.entries(s.properties ?? {})) {
      if (typeof prop !== "object" || prop === null) continue;
      const f = fieldOf(`${name}/${field}`, prop);
      if (f) def.fields.set(field, f);
    }
  };

  /** The struct a schema stands for: a reference, or an inline object defined under `name`. */
  const targetOf = (name: string, s: RawSchema | undefined): string | undefined => {
    if (!s || typeof s !== "object") return undefined;
    const ref = refName(s.$ref) ?? refName(s.allOf?.[0]?.$ref);
    if (ref !== undefined) return ref;
    if (isObjectSchema(s) && s.properties !== undefined) {
      define(name, s);
      return name;
    }
    // Anything else (a scalar, a map nested in a list) has no fields to describe.
    return undefined;
  };

  const fieldOf = (name: string, p: RawSchema): RawField | undefined => {
    const strategy = p["x-kubernetes-patch-strategy"];
    const common: { -readonly [K in keyof RawField]: RawField[K] } = { shape: "struct" };
    if (typeof strategy === "string" && strategy !== "") {
      common.patchStrategies = strategy.split(",").map((x) => x.trim());
    }
    const key = p["x-kubernetes-patch-merge-key"];
    if (typeof key === "string" && key !== "") common.patchMergeKey = key;
    if (p["x-kubernetes-map-type"] === "atomic") common.atomic = true;
    const isArray = p.type === "array" || (p.type === undefined && p.items !== undefined);
    if (isArray) {
      common.shape = "list";
      const lt = p["x-kubernetes-list-type"];
      if (lt === "set" || lt === "map") common.listType = lt;
      const keys = p["x-kubernetes-list-map-keys"];
      if (
        common.patchMergeKey !== undefined &&
        Array.isArray(keys) &&
        !(keys.length === 1 && keys[0] === common.patchMergeKey)
      ) {
        common.listMapKeys = keys.map(String);
      }
      // The items of an atomic list without a patch strategy never matter: it is one value.
      if (common.listType === undefined && !common.patchStrategies) {
        return common.patchMergeKey !== undefined ? common : undefined;
      }
      const target = targetOf(`${name}[]`, p.items);
      if (target !== undefined) common.target = target;
      return common;
    }
    const ref = refName(p.$ref) ?? refName(p.allOf?.[0]?.$ref);
    if (ref !== undefined) {
      common.target = ref;
      return common;
    }
    if (isObjectSchema(p) && typeof p.additionalProperties === "object") {
      common.shape = "map";
      const target = targetOf(`${name}{}`, p.additionalProperties);
      if (target !== undefined) common.target = target;
      return common;
    }
    if (isObjectSchema(p) && p.properties !== undefined) {
      define(name, p);
      common.target = name;
      return common;
    }
    // A scalar, or an object of unknown shape: only a patch strategy could matter.
    return common.patchStrategies || common.atomic ? common : undefined;
  };

  for (const [name, schema] of entries) {
    if (typeof schema !== "object" || schema === null) continue;
    const s = schema as RawSchema;
    define(name, s);
    for (const g of s["x-kubernetes-group-version-kind"] ?? []) {
      if (typeof g?.kind !== "string" || typeof g.version !== "string") continue;
      kinds.set(kindKey({ group: g.group ?? "", version: g.version, kind: g.kind }), name);
    }
  }

  // A definition is kept when it is atomic or has a field that is not the default; a field is not
  // the default when it has patch metadata, is a granular list, is atomic, or leads to a kept
  // definition. Definitions refer to each other in cycles (JSONSchemaProps), so: a fixed point.
  const kept = new Set<string>();
  const fieldMatters = (f: RawField): boolean =>
    f.patchStrategies !== undefined ||
    f.patchMergeKey !== undefined ||
    f.listType !== undefined ||
    f.atomic === true ||
    (f.target !== undefined && kept.has(f.target));
  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, def] of raw) {
      if (kept.has(name)) continue;
      if (def.atomic || [...def.fields.values()].some(fieldMatters)) {
        kept.add(name);
        changed = true;
      }
    }
  }

  const definitions = new Map<string, DefinitionMeta>();
  for (const name of [...kept].sort()) {
    const def = raw.get(name)!;
    const fields = new Map<string, FieldMeta>();
    for (const [field, f] of [...def.fields].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (!fieldMatters(f)) continue;
      const { target, ...rest } = f;
      fields.set(
        field,
        target !== undefined && kept.has(target) ? { ...rest, type: target } : rest,
      );
    }
    definitions.set(name, { atomic: def.atomic, fields });
  }
  return { definitions, kinds: new Map([...kinds].sort(([a], [b]) => (a < b ? -1 : 1))) };
}

// ---------------------------------------------------------------------------------------------
// The text form of the table (patchmeta.generated.ts)

/**
 * One line per definition-level fact or field, space-separated, so that a diff of the generated
 * file reads as a diff of the API:
 *
 *     <definition> . atomic
 *     <definition> <field> <shape>[:<type>] [patchStrategy=a,b] [patchMergeKey=k]
 *         [listType=set|map] [listMapKeys=a,b] [atomic]
 *
 * and one line per kind: `<group/version/Kind> <definition>`.
 */
export function encodePatchMetaTable(table: PatchMetaTable): {
  lines: string[];
  kinds: string[];
} {
  const lines: string[] = [];
  const check = (s: string) => {
    if (s === "" || /[\s]/.test(s)) throw new Error(`cannot encode ${JSON.stringify(s)}`);
    return s;
  };
  for (const [name, def] of table.definitions) {
    if (def.atomic) lines.push(`${check(name)} . atomic`);
    for (const [field, f] of def.fields) {
      const parts = [check(name), check(field), f.type ? `${f.shape}:${check(f.type)}` : f.shape];
      if (f.patchStrategies) parts.push(`patchStrategy=${f.patchStrategies.join(",")}`);
      if (f.patchMergeKey !== undefined) parts.push(`patchMergeKey=${check(f.patchMergeKey)}`);
      if (f.listType) parts.push(`listType=${f.listType}`);
      if (f.listMapKeys) parts.push(`listMapKeys=${f.listMapKeys.map(check).join(",")}`);
      if (f.atomic) parts.push("atomic");
      lines.push(parts.join(" "));
    }
  }
  const kinds = [...table.kinds].map(([k, d]) => `${check(k)} ${check(d)}`);
  return { lines, kinds };
}

/** The inverse of `encodePatchMetaTable`. */
export function decodePatchMetaTable(
  lines: readonly string[],
  kindLines: readonly string[],
): PatchMetaTable {
  const defs = new Map<string, { atomic: boolean; fields: Map<string, FieldMeta> }>();
  const defOf = (name: string) => {
    let d = defs.get(name);
    if (!d) {
      d = { atomic: false, fields: new Map() };
      defs.set(name, d);
    }
    return d;
  };
  for (const line of lines) {
    const [name, field, shapeType, ...attrs] = line.split(" ");
    if (name === undefined || field === undefined || shapeType === undefined) {
      throw new Error(`bad patch metadata line ${JSON.stringify(line)}`);
    }
    const def = defOf(name);
    if (field === ".") {
      if (shapeType === "atomic") def.atomic = true;
      continue;
    }
    const colon = shapeType.indexOf(":");
    const shape = (colon < 0 ? shapeType : shapeType.slice(0, colon)) as FieldMeta["shape"];
    const f: { -readonly [K in keyof FieldMeta]: FieldMeta[K] } = { shape };
    if (colon >= 0) f.type = shapeType.slice(colon + 1);
    for (const attr of attrs) {
      const eq = attr.indexOf("=");
      const k = eq < 0 ? attr : attr.slice(0, eq);
      const v = eq < 0 ? "" : attr.slice(eq + 1);
      if (k === "patchStrategy") f.patchStrategies = v.split(",");
      else if (k === "patchMergeKey") f.patchMergeKey = v;
      else if (k === "listType") f.listType = v as ListType;
      else if (k === "listMapKeys") f.listMapKeys = v.split(",");
      else if (k === "atomic") f.atomic = true;
    }
    def.fields.set(field, f);
  }
  const kinds = new Map<string, string>();
  for (const line of kindLines) {
    const sp = line.indexOf(" ");
    kinds.set(line.slice(0, sp), line.slice(sp + 1));
  }
  return { definitions: defs, kinds };
}
