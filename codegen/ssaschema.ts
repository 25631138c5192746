/**
 * `src/testing/ssa-schema.generated.ts`: the server-side apply schema of the built-in kinds, as
 * kube-openapi's schemaconv builds it from the snapshot's OpenAPI v3 definitions (the conversion
 * itself is src/testing/ssa-schema.ts, which the in-memory API server also runs on a CRD's schema),
 * pruned to the types reachable from resource kinds.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type Atom,
  buildSchema,
  encodeSchema,
  OBJECT_META,
  resolve,
  type SsaSchema,
  type TypeRef,
} from "../src/testing/ssa-schema.ts";
import { headerLine } from "./emit.ts";

export const SSA_SCHEMA_FILE = "testing/ssa-schema.generated.ts";

/** The types reachable from the kinds that are resources (their metadata is an ObjectMeta). */
function pruneToResources(full: SsaSchema): SsaSchema {
  const kinds = new Map<string, string>();
  for (const [k, name] of full.kinds) {
    const meta = resolve(full, { named: name })?.map?.fields.get("metadata")?.type;
    if (meta && "named" in meta && meta.named === OBJECT_META) kinds.set(k, name);
  }
  const keep = new Set<string>();
  const visitRef = (r: TypeRef | undefined): void => {
    if (r === undefined) return;
    if ("inline" in r) visitAtom(r.inline);
    else if (!keep.has(r.named) && full.types.has(r.named)) {
      keep.add(r.named);
      visitAtom(full.types.get(r.named)!);
    }
  };
  const visitAtom = (a: Atom): void => {
    visitRef(a.list?.element);
    visitRef(a.map?.element);
    for (const f of a.map?.fields.values() ?? []) visitRef(f.type);
  };
  for (const name of kinds.values()) visitRef({ named: name });
  const types = new Map(
    [...full.types].filter(([n]) => keep.has(n)).sort(([a], [b]) => (a < b ? -1 : 1)),
  );
  return { types, kinds: new Map([...kinds].sort(([a], [b]) => (a < b ? -1 : 1))) };
}

/** A string literal as Biome formats it: double quotes unless the text holds some. */
function quote(l: string): string {
  if (!l.includes('"') || l.includes("'")) return JSON.stringify(l);
  return `'${l.replace(/\\/g, "\\\\")}'`;
}

/**
 * The OpenAPI v3 schemas of a snapshot (codegen/openapi/<version>/), every group version's
 * document merged; a definition's kinds are the union of its copies' (meta/v1 types are registered
 * in every group).
 */
function loadSnapshotSchemas(snapshotDir: string): Map<string, unknown> {
  const dir = join(snapshotDir, "openapi");
  const index = JSON.parse(readFileSync(join(dir, "v3.json"), "utf8")) as {
    paths: Record<string, unknown>;
  };
  const schemas = new Map<string, Record<string, unknown>>();
  for (const path of Object.keys(index.paths).sort()) {
    const doc = JSON.parse(readFileSync(join(dir, "v3", `${path}.json`), "utf8")) as {
      components?: { schemas?: Record<string, Record<string, unknown>> };
    };
    for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) {
      const seen = schemas.get(name);
      const gvk = "x-kubernetes-group-version-kind";
      if (!seen) schemas.set(name, schema);
      else if (Array.isArray(schema[gvk])) {
        const all = [...((seen[gvk] as unknown[]) ?? []), ...(schema[gvk] as unknown[])];
        const unique = [...new Map(all.map((g) => [JSON.stringify(g), g])).values()];
        schemas.set(name, { ...seen, [gvk]: unique });
      }
    }
  }
  return schemas;
}

export function renderSsaSchema(snapshotDir: string, version: string): string {
  const schema = pruneToResources(buildSchema(loadSnapshotSchemas(snapshotDir)));
  const { types, kinds } = encodeSchema(schema);
  const array = (name: string, doc: string, lines: string[]) => [
    `/** ${doc} */`,
    `export const ${name}: readonly string[] = [`,
    ...lines.map((l) => `  ${quote(l)},`),
    "];",
  ];
  return [
    headerLine(version),
    "/**",
    ` * The server-side apply schema of the built-in kinds of kube-apiserver ${version}, as`,
    " * kube-openapi's schemaconv builds it from the OpenAPI v3 definitions: every type reachable from a",
    ` * resource kind (${types.length} types, ${kinds.length} kinds). The text form is read by ssa-schema.ts.`,
    " *",
    " * @module",
    " */",
    "",
    ...array("BUILTIN_SSA_TYPES", "`<type> <atom>`, names abbreviated (see ssa-schema.ts).", types),
    "",
    ...array("BUILTIN_SSA_KINDS", "`<apiVersion>/<Kind> <type>`.", kinds),
    "",
  ].join("\n");
}
