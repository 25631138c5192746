/**
 * The schema server-side apply works with: structured-merge-diff's `schema` package (atoms of
 * scalars, lists and maps, named types and references) built from OpenAPI v3 schemas exactly as
 * kube-apiserver builds it (`k8s.io/kube-openapi/pkg/schemaconv`), plus what the field manager
 * needs besides: which struct fields a Go zero value holds (for the "empty object" a create is
 * compared against).
 *
 * Sources, best first:
 * - the built-in kinds: `ssa-schema.generated.ts`, the same conversion run over kubekit's committed
 *   OpenAPI snapshot (checked against it by `ssa-schema.test.ts`);
 * - a custom resource: `schemaFromCrd(openAPIV3Schema, gvk)`, as the CRD handler builds it
 *   (`metadata` is the built-in ObjectMeta, `apiVersion` and `kind` are strings);
 * - a `PatchMeta` (src/apply), when that is all a caller has: an approximation, since the patch
 *   table keeps only non-default facts (unknown fields count as declared fields of any type, and a
 *   `listType: map` without a patch merge key has lost its keys, so it is treated as atomic);
 * - nothing: smd's deduced type (maps granular, lists atomic, every key a map key).
 */

import type { FieldMeta, PatchMeta, PatchMetaTable } from "../apply/patchmeta.ts";
import { BUILTIN_SSA_KINDS, BUILTIN_SSA_TYPES } from "./ssa-schema.generated.ts";

export type ScalarType = "numeric" | "string" | "boolean" | "untyped";

export interface Atom {
  readonly scalar?: ScalarType;
  readonly list?: ListAtom;
  readonly map?: MapAtom;
}

export interface ListAtom {
  readonly relationship: "atomic" | "associative";
  /** `x-kubernetes-list-map-keys` (or the patch merge key); empty for a set. */
  readonly keys: readonly string[];
  readonly element: TypeRef;
}

export interface MapAtom {
  readonly fields: ReadonlyMap<string, StructField>;
  /** "" (granular, the default), `atomic` or `separable` (`x-kubernetes-map-type: granular`). */
  readonly relationship: "" | "atomic" | "separable";
  /** The type of keys that are not fields; undefined when such keys are not allowed. */
  readonly element: TypeRef | undefined;
  /**
   * Every key counts as a declared field of type `element`: the stand-in for a struct whose
   * fields are not known (PatchMeta-derived schemas only; smd has no such thing).
   */
  readonly anyKeyIsField?: boolean;
}

export interface StructField {
  readonly type: TypeRef;
  /** The OpenAPI `default`, kept when it is a scalar or `{}`. */
  readonly default?: unknown;
  /** In the OpenAPI `required` list: the Go field has no `omitempty`. */
  readonly required?: boolean;
}

export type TypeRef =
  | { readonly named: string; readonly relationship?: "atomic" | "separable" }
  | { readonly inline: Atom };

export interface SsaSchema {
  readonly types: ReadonlyMap<string, Atom>;
  /** `group/version/Kind` (`version/Kind` in the core group) → the kind's type. */
  readonly kinds: ReadonlyMap<string, string>;
  /** Where names missing from `types` are looked up (the built-in table, for ObjectMeta). */
  readonly fallback?: SsaSchema;
}

export const UNTYPED_ATOMIC = "__untyped_atomic_";
export const UNTYPED_DEDUCED = "__untyped_deduced_";
const ANY = "__kubekit_any_";

const untypedAtomic: Atom = {
  scalar: "untyped",
  list: { relationship: "atomic", keys: [], element: { named: UNTYPED_ATOMIC } },
  map: { fields: new Map(), relationship: "atomic", element: { named: UNTYPED_ATOMIC } },
};
const untypedDeduced: Atom = {
  scalar: "untyped",
  list: { relationship: "atomic", keys: [], element: { named: UNTYPED_ATOMIC } },
  map: { fields: new Map(), relationship: "separable", element: { named: UNTYPED_DEDUCED } },
};
const anyType: Atom = {
  scalar: "untyped",
  list: { relationship: "atomic", keys: [], element: { named: ANY } },
  map: { fields: new Map(), relationship: "", element: { named: ANY }, anyKeyIsField: true },
};

const common = new Map<string, Atom>([
  [UNTYPED_ATOMIC, untypedAtomic],
  [UNTYPED_DEDUCED, untypedDeduced],
  [ANY, anyType],
]);

/** The deduced schema: what kube-apiserver uses for a kind it has no schema for. */
export const DEDUCED_SCHEMA: SsaSchema = { types: new Map(), kinds: new Map() };
export const DEDUCED_ROOT: TypeRef = { named: UNTYPED_DEDUCED };

/** smd's `Schema.Resolve`: the atom of a reference, with a map-type override applied. */
export function resolve(schema: SsaSchema, ref: TypeRef | undefined): Atom | undefined {
  if (ref === undefined) return undefined;
  if ("inline" in ref) return ref.inline;
  let atom: Atom | undefined;
  for (let s: SsaSchema | undefined = schema; s && !atom; s = s.fallback)
    atom = s.types.get(ref.named);
  atom ??= common.get(ref.named);
  if (atom === undefined || ref.relationship === undefined) return atom;
  if (atom.map) return { map: { ...atom.map, relationship: ref.relationship } };
  if (atom.list) {
    return ref.relationship === "atomic"
      ? { list: { ...atom.list, relationship: "atomic" } }
      : atom;
  }
  return undefined;
}

/** smd's `Map.FindField`. */
export function findField(m: MapAtom, key: string): StructField | undefined {
  const f = m.fields.get(key);
  if (f) return f;
  return m.anyKeyIsField && m.element ? { type: m.element } : undefined;
}

export function kindKey(apiVersion: string, kind: string): string {
  return `${apiVersion}/${kind}`;
}

// ---------------------------------------------------------------------------------------------
// From OpenAPI (kube-openapi's schemaconv.ToSchemaFromOpenAPI)

interface OpenApi {
  type?: string | string[];
  format?: string;
  $ref?: string;
  allOf?: OpenApi[];
  properties?: Record<string, OpenApi>;
  required?: string[];
  items?: OpenApi | OpenApi[];
  additionalProperties?: OpenApi | boolean;
  default?: unknown;
  "x-kubernetes-list-type"?: string;
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-patch-strategy"?: string;
  "x-kubernetes-patch-merge-key"?: string;
  "x-kubernetes-map-type"?: string;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-group-version-kind"?: { group?: string; version?: string; kind?: string }[];
}

const QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity";
const RAW_EXTENSION = "io.k8s.apimachinery.pkg.runtime.RawExtension";
export const OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

function refName(s: OpenApi): string | undefined {
  const ref =
    typeof s.$ref === "string" && s.$ref !== ""
      ? s.$ref
      : s.allOf?.length === 1 && typeof s.allOf[0]?.$ref === "string"
        ? s.allOf[0].$ref
        : undefined;
  const name = ref?.slice(ref.lastIndexOf("/") + 1);
  return name ? name : undefined;
}

function mapRelationship(s: OpenApi): "" | "atomic" | "separable" {
  const t = s["x-kubernetes-map-type"];
  return t === "atomic" ? "atomic" : t === "granular" ? "separable" : "";
}

function keptDefault(v: unknown): unknown {
  if (v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean") {
    return v;
  }
  if (typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0) return {};
  return undefined;
}

class Converter {
  readonly preserveUnknownFields: boolean;

  constructor(preserveUnknownFields: boolean) {
    this.preserveUnknownFields = preserveUnknownFields;
  }

  visit(s: OpenApi): Atom {
    const c = s["x-kubernetes-preserve-unknown-fields"] === true ? new Converter(true) : this;
    return c.parse(s);
  }

  parse(s: OpenApi): Atom {
    const typ = (Array.isArray(s.type) ? s.type[0] : s.type) ?? "";
    switch (typ) {
      case "":
        return { scalar: "untyped", list: this.list(s), map: this.object(s) };
      case "object":
        return { map: this.object(s) };
      case "array":
        return { list: this.list(s) };
      case "integer":
      case "number":
        return { scalar: "numeric" };
      case "boolean":
        return { scalar: "boolean" };
      case "string":
        return {
          scalar:
            s.format === undefined || s.format === "" || s.format === "byte" ? "string" : "untyped",
        };
      default:
        return { scalar: "untyped" };
    }
  }

  ref(s: OpenApi): TypeRef {
    const name = refName(s);
    if (name !== undefined) {
      const rel = mapRelationship(s);
      return rel === "" ? { named: name } : { named: name, relationship: rel };
    }
    return { inline: this.visit(s) };
  }

  object(s: OpenApi): MapAtom {
    const required = new Set(s.required ?? []);
    const fields = new Map<string, StructField>();
    for (const [name, member] of Object.entries(s.properties ?? {})) {
      if (typeof member !== "object" || member === null) continue;
      const d = keptDefault(member.default);
      fields.set(name, {
        type: this.ref(member),
        ...(d === undefined ? {} : { default: d }),
        ...(required.has(name) ? { required: true } : {}),
      });
    }
    let element: TypeRef | undefined;
    const ap = s.additionalProperties;
    if (ap === undefined) {
      if (this.preserveUnknownFields || fields.size === 0) element = { named: UNTYPED_DEDUCED };
    } else if (typeof ap === "object" && ap !== null) element = this.ref(ap);
    else if (ap === true) element = { named: UNTYPED_DEDUCED };
    return { fields, relationship: mapRelationship(s), element };
  }

  list(s: OpenApi): ListAtom {
    let relationship: ListAtom["relationship"] = "atomic";
    let keys: readonly string[] = [];
    const lt = s["x-kubernetes-list-type"];
    const ps = s["x-kubernetes-patch-strategy"];
    if (lt !== undefined) {
      if (lt === "set" || lt === "map") relationship = "associative";
      if (lt === "map") keys = (s["x-kubernetes-list-map-keys"] ?? []).map(String);
    } else if (ps === "merge" || ps === "merge,retainKeys") {
      relationship = "associative";
      const key = s["x-kubernetes-patch-merge-key"];
      if (typeof key === "string") keys = [key];
    }
    const items = Array.isArray(s.items) ? s.items[0] : s.items;
    const element: TypeRef =
      items && typeof items === "object" ? this.ref(items) : { named: UNTYPED_ATOMIC };
    return { relationship, keys, element };
  }
}

/**
 * The schema of every definition in `models` (an OpenAPI v3 document's `components.schemas`):
 * `ToSchemaFromOpenAPI(models, preserveUnknownFields)`, kinds from
 * `x-kubernetes-group-version-kind`.
 */
export function buildSchema(
  models: Readonly<Record<string, unknown>> | ReadonlyMap<string, unknown>,
  options: { preserveUnknownFields?: boolean; fallback?: SsaSchema } = {},
): SsaSchema {
  const entries = models instanceof Map ? [...models] : Object.entries(models);
  const types = new Map<string, Atom>();
  const kinds = new Map<string, string>();
  const root = new Converter(options.preserveUnknownFields ?? false);
  for (const [name, raw] of entries) {
    if (typeof raw !== "object" || raw === null) continue;
    const s = raw as OpenApi;
    if (typeof s.$ref === "string" && s.$ref !== "") continue;
    if (name === QUANTITY) types.set(name, { scalar: "untyped" });
    else if (name === RAW_EXTENSION) types.set(name, untypedAtomic);
    else types.set(name, root.visit(s));
    for (const g of s["x-kubernetes-group-version-kind"] ?? []) {
      if (typeof g?.kind !== "string" || typeof g.version !== "string" || !g.kind) continue;
      const apiVersion = g.group ? `${g.group}/${g.version}` : g.version;
      kinds.set(kindKey(apiVersion, g.kind), name);
    }
  }
  return { types, kinds, ...(options.fallback ? { fallback: options.fallback } : {}) };
}

/**
 * A custom resource's schema as the CRD handler gives it to the field manager: the version's
 * `openAPIV3Schema` with `metadata` replaced by the built-in ObjectMeta and `apiVersion` and
 * `kind` declared as strings.
 */
export function schemaFromCrd(
  openAPIV3Schema: unknown,
  apiVersion: string,
  kind: string,
  options: { preserveUnknownFields?: boolean } = {},
): { schema: SsaSchema; root: TypeRef } {
  const s = (
    typeof openAPIV3Schema === "object" && openAPIV3Schema !== null ? openAPIV3Schema : {}
  ) as OpenApi;
  const name = `${kindKey(apiVersion, kind)}.__root__`;
  const withMeta: OpenApi = {
    ...s,
    properties: {
      ...(s.properties ?? {}),
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata: { $ref: `#/components/schemas/${OBJECT_META}` },
    },
  };
  const schema = buildSchema(
    { [name]: withMeta },
    { preserveUnknownFields: options.preserveUnknownFields ?? false, fallback: builtinSchema() },
  );
  return { schema, root: { named: name } };
}

// ---------------------------------------------------------------------------------------------
// From a PatchMeta (an approximation; see the module comment)

const fromPatchMetaCache = new WeakMap<PatchMetaTable, SsaSchema>();

function patchMetaSchema(table: PatchMetaTable): SsaSchema {
  let s = fromPatchMetaCache.get(table);
  if (s) return s;
  const anyRef: TypeRef = { named: ANY };
  const refTo = (type: string | undefined): TypeRef => (type ? { named: type } : anyRef);
  const fieldRef = (f: FieldMeta): TypeRef => {
    if (f.shape === "list") {
      let relationship: ListAtom["relationship"] = "atomic";
      let keys: readonly string[] = [];
      if (f.listType === "set") relationship = "associative";
      else if (f.listType === "map") {
        keys = f.listMapKeys ?? (f.patchMergeKey !== undefined ? [f.patchMergeKey] : []);
        if (keys.length > 0) relationship = "associative";
      } else if (f.patchStrategies?.includes("merge")) {
        relationship = "associative";
        if (f.patchMergeKey !== undefined) keys = [f.patchMergeKey];
      }
      return { inline: { list: { relationship, keys, element: refTo(f.type) } } };
    }
    if (f.shape === "map") {
      return {
        inline: {
          map: {
            fields: new Map(),
            relationship: f.atomic ? "atomic" : "",
            element: refTo(f.type),
          },
        },
      };
    }
    if (f.type === undefined) return f.atomic ? { named: UNTYPED_ATOMIC } : anyRef;
    return f.atomic ? { named: f.type, relationship: "atomic" } : { named: f.type };
  };
  const types = new Map<string, Atom>();
  for (const [name, def] of table.definitions) {
    const fields = new Map<string, StructField>();
    for (const [field, f] of def.fields) fields.set(field, { type: fieldRef(f) });
    types.set(name, {
      map: {
        fields,
        relationship: def.atomic ? "atomic" : "",
        element: anyRef,
        anyKeyIsField: true,
      },
    });
  }
  s = { types, kinds: new Map([...table.kinds].map(([k, d]) => [k, d])) };
  fromPatchMetaCache.set(table, s);
  return s;
}

/** The schema and root type a PatchMeta node stands for. */
export function schemaFromPatchMeta(meta: PatchMeta): { schema: SsaSchema; root: TypeRef } {
  const schema = patchMetaSchema(meta.table);
  return { schema, root: meta.definition ? { named: meta.definition } : { named: ANY } };
}

// ---------------------------------------------------------------------------------------------
// The built-in table and its text form

let builtin: SsaSchema | undefined;

/** The schema of every built-in kind of the API server kubekit's types were generated from. */
export function builtinSchema(): SsaSchema {
  builtin ??= decodeSchema(BUILTIN_SSA_TYPES, BUILTIN_SSA_KINDS);
  return builtin;
}

/** The built-in kind's schema, or undefined for a kind the table lacks. */
export function builtinKind(
  apiVersion: string,
  kind: string,
): { schema: SsaSchema; root: TypeRef } | undefined {
  const schema = builtinSchema();
  const name = schema.kinds.get(kindKey(apiVersion, kind));
  return name === undefined ? undefined : { schema, root: { named: name } };
}

const ABBREVIATIONS: readonly (readonly [string, string])[] = [
  ["^", "io.k8s.apimachinery.pkg.apis.meta.v1."],
  ["&", "io.k8s.apimachinery.pkg."],
  ["%", "io.k8s.api."],
  ["#", "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions."],
  ["+", "io.k8s.kube-aggregator.pkg.apis."],
];

function shortName(name: string): string {
  for (const [a, full] of ABBREVIATIONS)
    if (name.startsWith(full)) return a + name.slice(full.length);
  return name;
}

function longName(name: string): string {
  for (const [a, full] of ABBREVIATIONS) if (name.startsWith(a)) return full + name.slice(a.length);
  return name;
}

const BARE = /^[A-Za-z0-9_$.-]+$/;

/**
 * The text form of an atom, one line per named type in the generated table:
 * scalars `s` `n` `b` `u`; `@name` a reference (`!` atomic, `~` granular after it);
 * `[a:T]` an atomic list, `[s:T]` a set, `[m(k1,k2):T]` a keyed list; `{field*=default:T,*:T}` a
 * struct or map (`*` after a name: required; `=` a JSON default; `*:T` the type of other keys;
 * `!` or `~` first: atomic or granular); `(A|B|C)` an atom that is several (untyped).
 */
export function encodeAtom(a: Atom): string {
  const parts: string[] = [];
  if (a.scalar) parts.push({ numeric: "n", string: "s", boolean: "b", untyped: "u" }[a.scalar]);
  if (a.list) {
    const l = a.list;
    const head =
      l.relationship === "atomic"
        ? "a"
        : l.keys.length === 0
          ? "s"
          : `m(${l.keys.map(encodeName).join(",")})`;
    parts.push(`[${head}:${encodeRef(l.element)}]`);
  }
  if (a.map) {
    const m = a.map;
    const entries = [...m.fields].map(([name, f]) => {
      const d = f.default === undefined ? "" : `=${JSON.stringify(f.default)}`;
      return `${encodeName(name)}${f.required ? "*" : ""}${d}:${encodeRef(f.type)}`;
    });
    if (m.element) entries.push(`*:${encodeRef(m.element)}`);
    const rel = m.relationship === "atomic" ? "!" : m.relationship === "separable" ? "~" : "";
    parts.push(`{${rel}${entries.join(",")}}`);
  }
  return parts.length === 1 ? parts[0]! : `(${parts.join("|")})`;
}

function encodeName(n: string): string {
  return BARE.test(n) ? n : JSON.stringify(n);
}

function encodeRef(r: TypeRef): string {
  if ("inline" in r) return encodeAtom(r.inline);
  const rel = r.relationship === "atomic" ? "!" : r.relationship === "separable" ? "~" : "";
  return `@${shortName(r.named)}${rel}`;
}

/** Lines of `<name> <atom>` and `<apiVersion>/<Kind> <name>`, names abbreviated. */
export function encodeSchema(schema: SsaSchema): { types: string[]; kinds: string[] } {
  return {
    types: [...schema.types].map(([n, a]) => `${shortName(n)} ${encodeAtom(a)}`),
    kinds: [...schema.kinds].map(([k, n]) => `${k} ${shortName(n)}`),
  };
}

export function decodeSchema(types: readonly string[], kinds: readonly string[]): SsaSchema {
  const out = new Map<string, Atom>();
  for (const line of types) {
    const sp = line.indexOf(" ");
    const p = new AtomParser(line, sp + 1);
    const atom = p.atom();
    if (p.i !== line.length) throw new Error(`bad schema line at ${p.i}: ${line}`);
    out.set(longName(line.slice(0, sp)), atom);
  }
  const k = new Map<string, string>();
  for (const line of kinds) {
    const sp = line.indexOf(" ");
    k.set(line.slice(0, sp), longName(line.slice(sp + 1)));
  }
  return { types: out, kinds: k };
}

class AtomParser {
  readonly s: string;
  i: number;

  constructor(s: string, i: number) {
    this.s = s;
    this.i = i;
  }

  fail(): never {
    throw new Error(`bad schema text at ${this.i}: ${this.s}`);
  }

  eat(c: string): boolean {
    if (this.s[this.i] !== c) return false;
    this.i++;
    return true;
  }

  expect(c: string): void {
    if (!this.eat(c)) this.fail();
  }

  atom(): Atom {
    if (this.eat("(")) {
      let a: Atom = {};
      do a = { ...a, ...this.single() };
      while (this.eat("|"));
      this.expect(")");
      return a;
    }
    return this.single();
  }

  single(): Atom {
    const c = this.s[this.i];
    if (c === "[") return { list: this.list() };
    if (c === "{") return { map: this.map() };
    this.i++;
    if (c === "s") return { scalar: "string" };
    if (c === "n") return { scalar: "numeric" };
    if (c === "b") return { scalar: "boolean" };
    if (c === "u") return { scalar: "untyped" };
    return this.fail();
  }

  ref(): TypeRef {
    if (!this.eat("@")) return { inline: this.atom() };
    const start = this.i;
    while (this.i < this.s.length && !",:]})|!~".includes(this.s[this.i]!)) this.i++;
    const named = longName(this.s.slice(start, this.i));
    if (this.eat("!")) return { named, relationship: "atomic" };
    if (this.eat("~")) return { named, relationship: "separable" };
    return { named };
  }

  name(): string {
    if (this.s[this.i] === '"') return this.json() as string;
    const start = this.i;
    while (this.i < this.s.length && /[A-Za-z0-9_$.-]/.test(this.s[this.i]!)) this.i++;
    if (this.i === start) this.fail();
    return this.s.slice(start, this.i);
  }

  /** One JSON value (scalars and `{}`, all the table holds). */
  json(): unknown {
    const start = this.i;
    if (this.s[this.i] === '"') {
      this.i++;
      while (this.s[this.i] !== '"') this.i += this.s[this.i] === "\\" ? 2 : 1;
      this.i++;
    } else if (this.s.startsWith("{}", this.i)) this.i += 2;
    else while (this.i < this.s.length && !",:".includes(this.s[this.i]!)) this.i++;
    return JSON.parse(this.s.slice(start, this.i)) as unknown;
  }

  list(): ListAtom {
    this.expect("[");
    let relationship: ListAtom["relationship"] = "associative";
    const keys: string[] = [];
    if (this.eat("a")) relationship = "atomic";
    else if (this.eat("m")) {
      this.expect("(");
      do keys.push(this.name());
      while (this.eat(","));
      this.expect(")");
    } else this.expect("s");
    this.expect(":");
    const element = this.ref();
    this.expect("]");
    return { relationship, keys, element };
  }

  map(): MapAtom {
    this.expect("{");
    const relationship = this.eat("!") ? "atomic" : this.eat("~") ? "separable" : "";
    const fields = new Map<string, StructField>();
    let element: TypeRef | undefined;
    while (!this.eat("}")) {
      if (fields.size > 0 || element) this.expect(",");
      if (this.eat("*")) {
        this.expect(":");
        element = this.ref();
        continue;
      }
      const name = this.name();
      const required = this.eat("*");
      const d = this.eat("=") ? this.json() : undefined;
      this.expect(":");
      fields.set(name, {
        type: this.ref(),
        ...(d === undefined ? {} : { default: d }),
        ...(required ? { required: true } : {}),
      });
    }
    return { fields, relationship, element };
  }
}

// ---------------------------------------------------------------------------------------------
// Go zero values

/**
 * The object a create is compared against: kube-apiserver passes `New()` of the kind, whose
 * struct fields that are not pointers (OpenAPI `default: {}`) are present and empty, and whose
 * required (`omitempty`-less) fields are present as their zero value or null. A custom resource's
 * is just its `apiVersion` and `kind`.
 */
export function zeroObject(
  schema: SsaSchema,
  root: TypeRef,
  apiVersion: string,
  kind: string,
  typed: boolean,
): Record<string, unknown> {
  const base = typed ? zeroOf(schema, root, 0) : {};
  return { ...(typeof base === "object" && base !== null ? base : {}), apiVersion, kind };
}

function zeroOf(schema: SsaSchema, ref: TypeRef, depth: number): unknown {
  const atom = resolve(schema, ref);
  if (!atom?.map || depth > 20) return {};
  const out: Record<string, unknown> = {};
  for (const [name, f] of atom.map.fields) {
    const d = f.default;
    const target = resolve(schema, f.type);
    if (typeof d === "object" && d !== null && target?.map) {
      out[name] = zeroOf(schema, f.type, depth + 1);
    } else if (f.required) {
      // A required scalar with a default is a Go value (its zero value); without, a pointer.
      const zero = { string: "", numeric: 0, boolean: false, untyped: null }[
        target?.scalar ?? "untyped"
      ];
      out[name] = d === undefined ? null : zero;
    }
  }
  return out;
}
