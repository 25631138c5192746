/**
 * CustomResourceDefinitions to modules: one per group version, holding every kind the CRDs serve
 * there, laid out as codegen lays out src/api's modules (the same model.ts and render.ts).
 *
 * A module holds, for each kind:
 * - the kind's interface, its list's, and one per object nested inline in its schema, named as
 *   kube-rs's kopium names them: `<Kind>Spec`, then `<Kind><Field>` for what is under `spec`,
 *   `<Kind><Field>...` for anything else (`<Kind>Status`, `<Kind>StatusConditions`); array items
 *   and map values take their field's name. A name already taken (by a kind, another nested
 *   object, or the module's own exports) falls back to the full path (`<Kind>Spec<Field>`), then
 *   to a numbered one. Interfaces are sorted by name.
 * - its descriptor, under the kind's name, with the version's scope and subresources;
 * and, for the module, the patch metadata of its kinds (`PATCH_META_LINES`, `PATCH_META_KINDS`):
 * what kubekit/apply's `PatchMeta.fromServer` would read from the server's OpenAPI document.
 */
import type { CustomResourceDefinition } from "../api/apiextensions/v1/index.ts";
import { builtinPatchMetaTable } from "../apply/patchmeta.ts";
import {
  buildPatchMetaTable,
  type DefinitionMeta,
  encodePatchMetaTable,
} from "../apply/patchmeta-table.ts";
import { CrdError, type CrdVersion, OBJECT_META, servedVersions } from "./crd.ts";
import {
  apiVersionOf,
  type Declaration,
  declarationOf,
  importAlias,
  nameOfDefinition,
  type ResourceModel,
  type TypeContext,
  type TypeNode,
} from "./model.ts";
import { type Doc, hardline, join, print, WIDTH, wrapLine } from "./printer.ts";
import { renderDeclarations, valueDoc } from "./render.ts";
import type { Schema } from "./schema.ts";

/** One generated module: a group version and what the CRDs serve in it. */
export interface CrdModule {
  group: string;
  version: string;
  /** Where it is written, relative to the output directory: `<group>/<version>.ts`. */
  path: string;
  /** The kinds served here, by kind name. */
  kinds: CrdVersion[];
  /** In name order. */
  declarations: Declaration[];
  /** By kind. */
  resources: Map<string, ResourceModel>;
  /** `encodePatchMetaTable`'s lines of the kinds' patch metadata. */
  patchMeta: { lines: string[]; kinds: string[] };
}

/** Names a module exports or imports besides its types, which no type may take. */
const RESERVED = new Set([
  "defineResource",
  "ResourceType",
  "PATCH_META_LINES",
  "PATCH_META_KINDS",
  "metav1",
  "apimachinery",
]);

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The modules of a set of CRDs, one per group version that any of them serves, in path order. Two
 * CRDs that define one kind of one group are an error, as the server would have it.
 */
export function buildCrdModules(crds: readonly CustomResourceDefinition[]): CrdModule[] {
  const byGv = new Map<string, CrdVersion[]>();
  const owners = new Map<string, string>();
  for (const crd of crds) {
    for (const v of servedVersions(crd)) {
      const gk = `${v.kind}.${v.group}`;
      const owner = owners.get(gk);
      if (owner !== undefined && owner !== v.crd) {
        throw new CrdError(`CustomResourceDefinitions ${owner} and ${v.crd} both define ${gk}`);
      }
      owners.set(gk, v.crd);
      const key = apiVersionOf(v.group, v.version);
      const list = byGv.get(key) ?? [];
      if (list.some((o) => o.kind === v.kind)) {
        throw new CrdError(`CustomResourceDefinition ${v.crd} is given twice`);
      }
      list.push(v);
      byGv.set(key, list);
    }
  }
  return [...byGv.keys()].sort(compare).map((key) => {
    const kinds = byGv.get(key)!;
    return buildCrdModule(kinds[0]!.group, kinds[0]!.version, kinds);
  });
}

/** `tls-config` → `TlsConfig`, `x.y` → `XY`: a field name as part of a type name. */
function pascal(field: string): string {
  return field
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");
}

/**
 * The module of one group version from the kinds served there. Each kind's `schemas` are the
 * definitions the server publishes for it (from `servedVersions`, or the server's own OpenAPI
 * document): the module depends on nothing else, which is what lets the two be compared.
 */
export function buildCrdModule(group: string, version: string, served: CrdVersion[]): CrdModule {
  const module = apiVersionOf(group, version);
  const kinds = [...served].sort((a, b) => compare(a.kind, b.kind));
  const own = new Map<string, string>();
  const taken = new Set(RESERVED);
  for (const k of kinds) {
    for (const [definition, name] of [
      [k.definitions.kind, k.kind],
      [k.definitions.list, k.listKind],
    ] as const) {
      if (RESERVED.has(name)) {
        throw new CrdError(
          `${module}: kind ${k.kind}: ${name} is a name the module exports itself`,
        );
      }
      if (taken.has(name)) {
        throw new CrdError(`${module}: kind ${k.kind}: ${name} names two types`);
      }
      taken.add(name);
      own.set(definition, name);
    }
  }
  const ref = (definition: string): TypeNode => {
    const name = own.get(definition);
    if (name !== undefined) return { kind: "ref", module, name };
    const d = nameOfDefinition(definition); // a built-in definition, which kubekit/api has
    return { kind: "ref", module: d.module, name: d.name };
  };

  const declarations: Declaration[] = [];
  const schemas = new Map<string, Schema>();
  for (const k of kinds) {
    const roots = [
      [k.definitions.kind, k.kind],
      [k.definitions.list, k.listKind],
    ] as const;
    for (const [definition] of roots) {
      if (!k.schemas.has(definition)) throw new CrdError(`${module}: no definition ${definition}`);
    }
    // First the paths of the kind's nested objects, in the order the declarations meet them,
    // so that every name is chosen knowing all the others the kind wants.
    const paths: string[][] = [];
    const walk: TypeContext = {
      ref,
      structural: true,
      path: [],
      inline: (schema, path) => {
        paths.push([...path]);
        declarationOf("", schema, { ...walk, path }, "Walk");
        return { kind: "keyword", name: "unknown" };
      },
    };
    for (const [definition, name] of roots) {
      try {
        declarationOf(definition, k.schemas.get(definition)!, walk, name);
      } catch (err) {
        throw new CrdError(`${module} ${name}: ${(err as Error).message}`, { cause: err });
      }
    }
    const names = nestedNames(k.kind, paths, taken);
    const context = (definition: string): TypeContext => {
      const ctx: TypeContext = {
        ref,
        structural: true,
        path: [],
        inline: (schema, path) => {
          const name = names.get(JSON.stringify(path))!;
          declarations.push(
            declarationOf(`${definition}/${path.join("/")}`, schema, { ...ctx, path }, name),
          );
          return { kind: "ref", module, name };
        },
      };
      return ctx;
    };
    for (const [definition, name] of roots) {
      const schema = k.schemas.get(definition)!;
      schemas.set(definition, schema);
      const d = declarationOf(definition, schema, context(definition), name);
      if (d.kind !== "interface") throw new CrdError(`${module} ${name}: not an object schema`);
      declarations.push(k.deprecated === undefined ? d : { ...d, deprecated: k.deprecated });
    }
  }
  declarations.sort((a, b) => compare(a.name, b.name));
  return {
    group,
    version,
    path: `${group}/${version}.ts`,
    kinds,
    declarations,
    resources: new Map(kinds.map((k) => [k.kind, k.resource])),
    patchMeta: encodePatchMetaTable(patchMetaTable(schemas)),
  };
}

/**
 * The type names of a kind's nested objects, by `JSON.stringify(path)`, taking each from `taken`:
 * `<Kind>` + the path's fields in PascalCase, without `Spec` below `spec` unless that short name
 * is another path's full one or already taken; then the full name; then the full name numbered.
 */
function nestedNames(kind: string, paths: readonly string[][], taken: Set<string>) {
  const full = (path: readonly string[]) => kind + path.map(pascal).join("");
  const fulls = new Set(paths.map(full));
  const names = new Map<string, string>();
  for (const path of paths) {
    const long = full(path);
    const short = path[0] === "spec" && path.length > 1 ? full(path.slice(1)) : long;
    const candidates = short !== long && !fulls.has(short) ? [short, long] : [long];
    let name = candidates.find((c) => !taken.has(c));
    for (let n = 2; name === undefined; n++) if (!taken.has(`${long}${n}`)) name = `${long}${n}`;
    taken.add(name);
    names.set(JSON.stringify(path), name);
  }
  return names;
}

/** Every `$ref` target in a schema. */
function refsOf(schema: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(schema)) for (const s of schema) refsOf(s, into);
  else if (typeof schema === "object" && schema !== null) {
    for (const [k, v] of Object.entries(schema)) {
      if (k === "$ref" && typeof v === "string") into.add(v.slice(v.lastIndexOf("/") + 1));
      else refsOf(v, into);
    }
  }
  return into;
}

/**
 * The patch metadata of the module's definitions, as `buildPatchMetaTable` builds it from a
 * server's document, where the built-in definitions they refer to (ObjectMeta) are present too:
 * those come from kubekit's built-in table. `buildPatchMetaTable` drops a field that leads to a
 * definition it does not have, so each one stands in as an atomic definition (which keeps the
 * fields that lead to it) until the real entry replaces it.
 */
function patchMetaTable(schemas: ReadonlyMap<string, Schema>) {
  const builtin = builtinPatchMetaTable();
  const standIns = [...refsOf([...schemas.values()], new Set())].filter(
    (r) => !schemas.has(r) && builtin.definitions.has(r),
  );
  const table = buildPatchMetaTable(
    new Map<string, unknown>([
      ...schemas,
      ...standIns.map((r): [string, Schema] => [r, { "x-kubernetes-map-type": "atomic" }]),
    ]),
  );
  const definitions = new Map<string, DefinitionMeta>(table.definitions);
  const queue = standIns.filter((r) => definitions.has(r));
  for (const r of queue) definitions.delete(r);
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (definitions.has(name)) continue;
    const def = builtin.definitions.get(name)!;
    definitions.set(name, def);
    for (const f of def.fields.values()) if (f.type !== undefined) queue.push(f.type);
  }
  if (!builtin.definitions.has(OBJECT_META)) {
    throw new Error("kubekit's built-in patch metadata has no ObjectMeta"); // a broken build
  }
  return {
    definitions: new Map([...definitions].sort(([a], [b]) => compare(a, b))),
    kinds: table.kinds,
  };
}

// ---------------------------------------------------------------------------------------------
// Text

/** The first line of every module crdgen writes; also how its stale modules are recognised. */
export const HEADER_PREFIX = "// Code generated by kubekit-crdgen";

function listOf(items: string[]): string {
  return items.length <= 1
    ? (items[0] ?? "")
    : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/**
 * The module's doc comment, as paragraphs. No code example: a module may land under a folder
 * whose checks read `import ... from "kubekit/..."` even inside comments (kubekit's own do).
 */
function moduleDoc(m: CrdModule): string[] {
  const crds = [...new Set(m.kinds.map((k) => k.crd))].sort(compare);
  const gv = apiVersionOf(m.group, m.version);
  const example = m.kinds[0]!.kind;
  const facts = m.kinds.map((k) => {
    const notes = [
      k.resource.namespaced ? "namespaced" : "cluster-scoped",
      k.storage
        ? "the storage version"
        : k.storageVersion !== undefined
          ? `stored as \`${apiVersionOf(k.group, k.storageVersion)}\``
          : undefined,
      k.deprecated !== undefined ? `deprecated: ${k.deprecated}` : undefined,
    ].filter((n) => n !== undefined);
    return `- \`${k.kind}\` (\`${k.resource.plural}\`, CustomResourceDefinition \`${k.crd}\`): ${notes.join("; ")}.`;
  });
  return [
    `The \`${gv}\` API of CustomResourceDefinition${crds.length > 1 ? "s" : ""} ` +
      `${listOf(crds.map((c) => `\`${c}\``))}: an interface for each kind, its list and each ` +
      "object nested in them, and a descriptor for each kind under the same name as its " +
      `interface (\`${example}\` is both, for \`client.api(${example})\`).`,
    "",
    ...facts,
    "",
    "`PATCH_META_LINES` and `PATCH_META_KINDS` are the list and map semantics of the kinds' " +
      "fields (`x-kubernetes-list-type`, list map keys, map types) for kubekit/apply: " +
      `\`PatchMeta.fromTable(decodePatchMetaTable(PATCH_META_LINES, PATCH_META_KINDS), ${example})\` ` +
      "is what `extract` and merge computations take for these kinds.",
  ];
}

/** The `export const NAME: readonly string[] = [...]` of a patch metadata array. */
function stringArray(name: string, doc: string, values: string[]): Doc {
  return [
    `/** ${doc} */`,
    hardline,
    `export const ${name}: readonly string[] = `,
    valueDoc(values),
    ";",
  ];
}

/** The complete text of a module (`<group>/<version>.ts`). */
export function renderCrdModule(m: CrdModule): string {
  const module = apiVersionOf(m.group, m.version);
  const { doc, imports } = renderDeclarations(module, m.declarations, m.resources, {
    defaults: true,
    resourceDoc: (r) => {
      const k = m.kinds.find((x) => x.kind === r.kind)!;
      const notes = [r.namespaced ? "namespaced" : "cluster-scoped"];
      if (k.storage) notes.push("the storage version");
      return {
        text: `The \`${r.plural}\` resource of \`${module}\` (${notes.join("; ")}).`,
        tags: k.deprecated !== undefined ? [`@deprecated ${k.deprecated}`] : [],
      };
    },
  });
  const crds = [...new Set(m.kinds.map((k) => k.crd))].sort(compare);
  const head = [
    `${HEADER_PREFIX} from CustomResourceDefinition${crds.length > 1 ? "s" : ""} ${crds.join(", ")}. DO NOT EDIT.`,
    "/**",
    ...moduleDoc(m)
      .flatMap((l) => wrapLine(l, WIDTH - 3))
      .map((l) => (l === "" ? " *" : ` * ${l}`)),
    " *",
    " * @module",
    " */",
    "",
    'import { defineResource, type ResourceType } from "kubekit";',
    ...[...imports]
      .sort(compare)
      .map((target) => `import type * as ${importAlias(target)} from "kubekit/api/${target}";`),
    "",
  ];
  const body = join(
    [hardline, hardline],
    [
      doc,
      stringArray(
        "PATCH_META_LINES",
        "`<definition> <field> <shape>[:<type>] [attributes]`, or `<definition> . atomic`.",
        m.patchMeta.lines,
      ),
      stringArray("PATCH_META_KINDS", "`<group/version/Kind> <definition>`.", m.patchMeta.kinds),
    ],
  );
  return `${head.join("\n")}\n${print(body)}\n`;
}
