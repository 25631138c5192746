/**
 * Declarations and descriptors as TypeScript text, for both generators: type trees, interfaces
 * and aliases with their doc comments, and the `defineResource` call beside each kind, in the
 * layouts Biome gives them (see printer.ts). What a module imports is the caller's business: the
 * printer only reports which other modules the types refer to.
 */

import {
  apiVersionOf,
  type Declaration,
  importAlias,
  isIdentifier,
  type ResourceModel,
  type TypeNode,
} from "./model.ts";
import {
  type Doc,
  docComment,
  group,
  hardline,
  INDENT,
  ifBreak,
  indent,
  join,
  line,
  quote,
  softline,
  WIDTH,
} from "./printer.ts";

// ---------------------------------------------------------------------------------------------
// ---------------------------------------------------------------------------------------------
// Types

/** Renders type trees for one module: references into other modules go through their alias. */
export class TypePrinter {
  readonly imports = new Set<string>();
  readonly module: string;
  constructor(module: string) {
    this.module = module;
  }

  /** `| A | B` members, the first `|` only when broken; shared by every union layout. */
  private unionBody(members: TypeNode[]): Doc {
    return [
      ifBreak("| "),
      join(
        [line, "| "],
        members.map((m) => this.type(m)),
      ),
    ];
  }

  /** A type where a union, if it breaks, continues on the next lines (after `:` or `=`). */
  annotation(t: TypeNode, lead: string): Doc {
    if (t.kind === "union") return [lead, group(indent([line, this.unionBody(t.members)]))];
    return [lead, " ", this.type(t)];
  }

  type(t: TypeNode): Doc {
    switch (t.kind) {
      case "keyword":
        return t.name;
      case "literal":
        return quote(t.value);
      case "openString":
        return "(string & {})";
      case "ref":
        if (t.module === this.module) return t.name;
        this.imports.add(t.module);
        return `${importAlias(t.module)}.${t.name}`;
      case "array":
        if (t.element.kind === "union") {
          return [
            group(["(", indent([softline, this.unionBody(t.element.members)]), softline, ")"]),
            "[]",
          ];
        }
        return [this.type(t.element), "[]"];
      case "record": {
        const value =
          t.value.kind === "union" ? group(this.unionBody(t.value.members)) : this.type(t.value);
        return group(["Record<", indent([softline, "string,", line, value]), softline, ">"]);
      }
      case "union":
        return group(this.unionBody(t.members));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Values (the descriptor's arguments)

type Value = string | boolean | Value[] | { [key: string]: Value };

/**
 * An object or array literal. Objects and arrays print flat when they fit; an array of two or more
 * objects with more than one key each always breaks, one element per line (Biome's rule).
 */
export function valueDoc(v: Value, forceBreak = false): Doc {
  if (typeof v === "string") return quote(v);
  if (typeof v === "boolean") return String(v);
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    const brk =
      forceBreak ||
      (v.length > 1 &&
        v.every((e) => typeof e === "object" && !Array.isArray(e) && Object.keys(e).length > 1));
    return group(
      [
        "[",
        indent([
          softline,
          join(
            [",", line],
            v.map((e) => valueDoc(e)),
          ),
        ]),
        ifBreak(","),
        softline,
        "]",
      ],
      brk,
    );
  }
  const entries = Object.entries(v).map(([k, e]) => [k, ": ", valueDoc(e)]);
  return group(
    ["{", indent([line, join([",", line], entries)]), ifBreak(","), line, "}"],
    forceBreak,
  );
}

/** The arguments of `defineResource`: empty lists are left to its defaults. */
function descriptorValue(r: ResourceModel): { [key: string]: Value } {
  return {
    group: r.group,
    version: r.version,
    kind: r.kind,
    plural: r.plural,
    singular: r.singular,
    namespaced: r.namespaced,
    ...(r.shortNames.length > 0 ? { shortNames: r.shortNames } : {}),
    ...(r.categories.length > 0 ? { categories: r.categories } : {}),
    verbs: r.verbs,
    ...(r.subresources.length > 0
      ? {
          subresources: r.subresources.map((s) => ({
            name: s.name,
            ...(s.responseKind ? { responseKind: { ...s.responseKind } } : {}),
            verbs: s.verbs,
          })),
        }
      : {}),
  };
}

/**
 * `export const Pod: ResourceType<Pod, true> = defineResource<Pod>()({ ... });` in whichever of
 * Biome's layouts applies: the head on one line (the object on the next line when only its brace
 * does not fit); broken after `=` when the head is too long; with the type arguments broken when
 * even the left-hand side is too long.
 */
export function descriptorDoc(r: ResourceModel): Doc {
  const n = r.kind;
  const scope = String(r.namespaced);
  const call = `defineResource<${n}>()(`;
  const body = valueDoc(descriptorValue(r), true);
  const lhs = `export const ${n}: ResourceType<${n}, ${scope}> =`;
  if (`${lhs} ${call}`.length <= WIDTH) {
    // The object hugs the parenthesis when its brace fits too; else it moves to its own line.
    if (`${lhs} ${call}{`.length <= WIDTH) return [`${lhs} ${call}`, body, ");"];
    return [`${lhs} ${call}`, indent([hardline, body, ","]), hardline, ");"];
  }
  if (lhs.length <= WIDTH) return [lhs, indent([hardline, call, body, ");"])];
  return [
    `export const ${n}: ResourceType<`,
    indent([hardline, `${n},`, hardline, scope]),
    hardline,
    `> = ${call}`,
    body,
    ");",
  ];
}

// ---------------------------------------------------------------------------------------------
// Declarations

export interface RenderOptions {
  /** Add the schema's `default` to a property's doc comment as a `@default` tag. */
  defaults?: boolean;
  /**
   * The doc comment above a descriptor: its text and tags. By default: "The `pods` resource of
   * `v1` (namespaced)."
   */
  resourceDoc?: (r: ResourceModel) => { text: string; tags?: string[] };
}

const defaultResourceDoc = (r: ResourceModel): { text: string; tags?: string[] } => ({
  text:
    `The \`${r.plural}\` resource of \`${apiVersionOf(r.group, r.version)}\` ` +
    `(${r.namespaced ? "namespaced" : "cluster-scoped"}).`,
});

/** `@default <json>`, or nothing when JSON cannot say the value. */
function defaultTag(value: unknown): string[] {
  const json = JSON.stringify(value);
  return json === undefined ? [] : [`@default ${json}`];
}

/**
 * The declarations of one module, blank-line separated, each kind followed by its descriptor
 * (`resources`, by kind). Returns the document and the modules its types refer to (through
 * `importAlias(module)`), which the caller imports. A descriptor whose kind has no declaration is
 * an error.
 */
export function renderDeclarations(
  module: string,
  declarations: readonly Declaration[],
  resources: ReadonlyMap<string, ResourceModel>,
  options: RenderOptions = {},
): { doc: Doc; imports: ReadonlySet<string> } {
  const types = new TypePrinter(module);
  const resourceDoc = options.resourceDoc ?? defaultResourceDoc;
  const decls: Doc[] = [];
  for (const d of declarations) {
    const tags = d.deprecated !== undefined ? [`@deprecated ${d.deprecated}`] : [];
    const docs: Doc[] = [
      d.description || tags.length > 0 ? docComment(d.description ?? "", 0, tags) : [],
    ];
    if (d.kind === "alias") {
      docs.push(types.annotation(d.type, `export type ${d.name} =`), ";");
    } else {
      const members: Doc[] = d.properties.map((p) => {
        const ptags = options.defaults && p.default !== undefined ? defaultTag(p.default) : [];
        return [
          p.description || ptags.length > 0
            ? docComment(p.description ?? "", INDENT.length, ptags)
            : [],
          types.annotation(
            p.type,
            `${isIdentifier(p.name) ? p.name : quote(p.name)}${p.optional ? "?" : ""}:`,
          ),
          ";",
        ];
      });
      if (d.additionalProperties) {
        members.push([types.annotation(d.additionalProperties, "[key: string]:"), ";"]);
      }
      docs.push(
        `export interface ${d.name} {`,
        indent([hardline, join(hardline, members)]),
        hardline,
        "}",
      );
    }
    const resource = resources.get(d.name);
    if (resource) {
      const { text, tags: rtags = [] } = resourceDoc(resource);
      docs.push(hardline, hardline, docComment(text, 0, rtags), descriptorDoc(resource));
    }
    decls.push(docs);
  }
  const missing = [...resources.keys()].filter((k) => !declarations.some((d) => d.name === k));
  if (missing.length > 0) throw new Error(`${module}: descriptors without types: ${missing}`);
  return { doc: join([hardline, hardline], decls), imports: types.imports };
}
