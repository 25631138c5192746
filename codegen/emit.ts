/**
 * From the model to TypeScript text, laid out exactly as `biome format` (the repository's
 * biome.json: 2 spaces, width 100, double quotes, trailing commas) would lay it out, so the
 * committed output passes `biome check` without running Biome at generation time.
 *
 * Layout uses a small Wadler-style document printer (the algorithm Prettier and Biome share): a
 * group prints on one line when it fits in the rest of the line, and otherwise breaks every line
 * of its own (not of its children, which get their own chance). The generated code uses few
 * constructs (interfaces, unions, arrays, Record, the descriptor call), and for each the documents
 * below mirror Biome's choices; `npm run lint` on the output is the check that they still do.
 */
import {
  APIMACHINERY_MODULE,
  apiVersionOf,
  importAlias,
  isIdentifier,
  type ModuleModel,
  type ResourceModel,
  type TypeNode,
} from "./model.ts";

// ---------------------------------------------------------------------------------------------
// The document printer

export type Doc = string | Doc[] | Group | Indent | Line | IfBreak;
interface Group {
  t: "group";
  c: Doc;
  /** Break even if it fits (Biome keeps an object expanded that was written expanded). */
  brk: boolean;
}
interface Indent {
  t: "indent";
  c: Doc;
}
interface Line {
  t: "line";
  /** In a flat group: `""` if soft, else `" "`. */
  soft: boolean;
  /** Always a newline. */
  hard: boolean;
}
interface IfBreak {
  t: "ifBreak";
  b: Doc;
  f: Doc;
}

export const WIDTH = 100;
const INDENT = "  ";

export const group = (c: Doc, brk = false): Doc => ({ t: "group", c, brk });
export const indent = (c: Doc): Doc => ({ t: "indent", c });
export const line: Doc = { t: "line", soft: false, hard: false };
export const softline: Doc = { t: "line", soft: true, hard: false };
export const hardline: Doc = { t: "line", soft: false, hard: true };
export const ifBreak = (b: Doc, f: Doc = ""): Doc => ({ t: "ifBreak", b, f });
export const join = (sep: Doc, docs: Doc[]): Doc =>
  docs.flatMap((d, i) => (i === 0 ? [d] : [sep, d]));

type Mode = "flat" | "break";
type Cmd = [level: number, mode: Mode, doc: Doc];

/**
 * Whether `next`, then the commands waiting on `rest` (top of stack last), fit in `width` columns
 * before the next line break. The pending commands count because `a: T;` must fit with its `;`.
 */
function fits(next: Cmd, rest: Cmd[], width: number): boolean {
  const cmds: Cmd[] = [next];
  let restIdx = rest.length;
  while (width >= 0) {
    if (cmds.length === 0) {
      if (restIdx === 0) return true;
      cmds.push(rest[--restIdx]!);
      continue;
    }
    const [level, mode, doc] = cmds.pop()!;
    if (typeof doc === "string") width -= doc.length;
    else if (Array.isArray(doc))
      for (let i = doc.length - 1; i >= 0; i--) cmds.push([level, mode, doc[i]!]);
    else if (doc.t === "indent") cmds.push([level + 1, mode, doc.c]);
    else if (doc.t === "group") cmds.push([level, doc.brk ? "break" : mode, doc.c]);
    else if (doc.t === "ifBreak") cmds.push([level, mode, mode === "break" ? doc.b : doc.f]);
    else if (doc.hard || mode === "break") return true;
    else width -= doc.soft ? 0 : 1;
  }
  return false;
}

/** Prints a document; trailing spaces are trimmed from every line. */
export function print(doc: Doc, width = WIDTH): string {
  const out: string[] = [];
  let pos = 0;
  const stack: Cmd[] = [[0, "break", doc]];
  while (stack.length > 0) {
    const [level, mode, d] = stack.pop()!;
    if (typeof d === "string") {
      out.push(d);
      pos += d.length;
    } else if (Array.isArray(d)) {
      for (let i = d.length - 1; i >= 0; i--) stack.push([level, mode, d[i]!]);
    } else if (d.t === "indent") {
      stack.push([level + 1, mode, d.c]);
    } else if (d.t === "group") {
      const flat = mode === "flat" || (!d.brk && fits([level, "flat", d.c], stack, width - pos));
      stack.push([level, flat ? "flat" : "break", d.c]);
    } else if (d.t === "ifBreak") {
      stack.push([level, mode, mode === "break" ? d.b : d.f]);
    } else if (mode === "flat" && !d.hard) {
      if (!d.soft) {
        out.push(" ");
        pos += 1;
      }
    } else {
      out.push(`\n${INDENT.repeat(level)}`);
      pos = level * INDENT.length;
    }
  }
  return out
    .join("")
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n");
}

// ---------------------------------------------------------------------------------------------
// Comments

/**
 * Breaks one line of prose into lines of at most `width` characters, at spaces only (a long URL
 * stays whole). Lines that start with a tab or two spaces are preformatted (Go doc code blocks) and
 * kept as they are. A list item (`- x`, ` - x`, `1. x`) continues under its text. A word that
 * would read as markup at the start of a line (`-`, `*`, `1.`, `#`, `@...`) is never moved to the
 * start of one: it stays with the word before it.
 */
export function wrapLine(text: string, width: number): string[] {
  if (text.length <= width || /^(\t| {2})/.test(text)) return [text];
  const lead = /^ ?(?:[-*] |\d+\. )?/.exec(text)![0];
  const units: string[] = [];
  for (const word of text.slice(lead.length).split(" ")) {
    const markup = /^([-*+>#]|\d+[.)]|@.*)$/.test(word);
    if (markup && units.length > 0) units[units.length - 1] += ` ${word}`;
    else units.push(word);
  }
  const out: string[] = [];
  let cur = lead;
  let fresh = true; // nothing after the line's indentation yet
  for (const unit of units) {
    if (!fresh && cur.length + 1 + unit.length > width) {
      out.push(cur);
      cur = " ".repeat(lead.length) + unit;
    } else cur = fresh ? cur + unit : `${cur} ${unit}`;
    fresh = false;
  }
  out.push(cur);
  return out;
}

/**
 * A JSDoc comment holding `text`, wrapped to the line width (`wrapLine`), with `*\/` written
 * `*\\/` (it would end the comment) and a backslash before an `@` that starts a line (it would
 * read as a JSDoc tag). Trailing whitespace and blank leading/trailing lines are dropped. Text
 * that fits on one line at `column` becomes a one-line comment.
 */
export function docComment(text: string, column: number): Doc {
  const width = WIDTH - column - 3;
  const lines = text
    .replaceAll("*/", "*\\/")
    .split(/\r?\n/)
    .flatMap((l) => wrapLine(l.trimEnd(), width))
    .map((l) => l.replace(/^(\s*)@/, "$1\\@"));
  while (lines.length > 0 && lines[0] === "") lines.shift();
  while (lines.length > 0 && lines.at(-1) === "") lines.pop();
  if (lines.length === 0) return [];
  if (lines.length === 1 && column + lines[0]!.length + 7 <= WIDTH) {
    return [`/** ${lines[0]} */`, hardline];
  }
  return [
    "/**",
    hardline,
    ...lines.flatMap((l) => [l === "" ? " *" : ` * ${l}`, hardline]),
    " */",
    hardline,
  ];
}

// ---------------------------------------------------------------------------------------------
// Types

/** Renders type trees for one module: references into other modules go through their alias. */
class TypePrinter {
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
        return JSON.stringify(t.value);
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
  if (typeof v === "string") return JSON.stringify(v);
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
// Modules

/** The first line of every generated file; also how stale generated files are recognised. */
export const HEADER_PREFIX = "// Code generated by codegen/generate.ts";

export function headerLine(version: string): string {
  return `${HEADER_PREFIX} from kube-apiserver ${version}. DO NOT EDIT.`;
}

/** The relative specifier of `to`'s index.ts from `from`'s. */
function specifier(from: string, to: string): string {
  return `${"../".repeat(from.split("/").length)}${to}/index.ts`;
}

/**
 * The module's own doc comment, as paragraphs (wrapped later). No code example: the layer check
 * (test/unit/layers.test.ts) reads `import ... from "kubekit/..."` even inside a comment.
 */
function moduleDoc(m: ModuleModel, version: string): string[] {
  const packages = m.goPackages.map((p) => `\`${p}\``).join(", ");
  if (m.path === "meta/v1") {
    return [
      `apimachinery's meta/v1 (Go package ${packages}, client-go's metav1): the metadata every ` +
        "object carries (ObjectMeta, ListMeta, OwnerReference, ManagedFieldsEntry), Time and " +
        "MicroTime, LabelSelector, Condition, Status, and the option kinds every group shares. " +
        "Types only: none of them is a resource.",
    ];
  }
  if (m.path === APIMACHINERY_MODULE) {
    return [
      `apimachinery's unversioned value types (Go packages ${packages}): Quantity, IntOrString ` +
        "and RawExtension. They belong to no group version, so they share this module. Types only.",
    ];
  }
  if (m.resources.size === 0) {
    return [
      `The wire types of Go package ${packages}, which other modules refer to. kube-apiserver ` +
        `${version} serves no resources of these kinds. Types only.`,
    ];
  }
  const example = [...m.resources.keys()].sort(
    (a, b) => a.length - b.length || (a < b ? -1 : 1),
  )[0];
  return [
    `The ${m.apiVersions.map((v) => (v.includes("/") ? `\`${v}\`` : `core \`${v}\``)).join(", ")} ` +
      `API: the wire types of Go package ${packages}, and a descriptor for each resource under ` +
      `the same name as its interface: \`${example}\` imported from \`kubekit/api/${m.path}\` is both.`,
  ];
}

/** The complete text of `src/api/<m.path>/index.ts`. */
export function renderModule(m: ModuleModel, version: string): string {
  const types = new TypePrinter(m.path);
  const decls: Doc[] = [];
  for (const d of m.declarations) {
    const docs: Doc[] = [d.description ? docComment(d.description, 0) : []];
    if (d.kind === "alias") {
      docs.push(types.annotation(d.type, `export type ${d.name} =`), ";");
    } else {
      const members = d.properties.map((p) => [
        p.description ? docComment(p.description, INDENT.length) : [],
        types.annotation(
          p.type,
          `${isIdentifier(p.name) ? p.name : JSON.stringify(p.name)}${p.optional ? "?" : ""}:`,
        ),
        ";",
      ]);
      docs.push(
        `export interface ${d.name} {`,
        indent([hardline, join(hardline, members)]),
        hardline,
        "}",
      );
    }
    const resource = m.resources.get(d.name);
    if (resource) {
      docs.push(
        hardline,
        hardline,
        docComment(
          `The \`${resource.plural}\` resource of \`${apiVersionOf(resource.group, resource.version)}\` ` +
            `(${resource.namespaced ? "namespaced" : "cluster-scoped"}).`,
          0,
        ),
        descriptorDoc(resource),
      );
    }
    decls.push(docs);
  }
  const missing = [...m.resources.keys()].filter((k) => !m.declarations.some((d) => d.name === k));
  if (missing.length > 0) throw new Error(`${m.path}: descriptors without types: ${missing}`);

  const imports: string[] = [];
  if (m.resources.size > 0) {
    imports.push(
      `import { defineResource, type ResourceType } from "${"../".repeat(m.path.split("/").length + 1)}core/resource.ts";`,
    );
  }
  for (const target of [...types.imports].sort()) {
    imports.push(`import type * as ${importAlias(target)} from "${specifier(m.path, target)}";`);
  }
  const head = [
    headerLine(version),
    "/**",
    ...moduleDoc(m, version)
      .flatMap((l) => wrapLine(l, WIDTH - 3))
      .map((l) => (l === "" ? " *" : ` * ${l}`)),
    " *",
    " * @module",
    " */",
    "",
    ...(imports.length > 0 ? [...imports, ""] : []),
  ];
  return `${head.join("\n")}\n${print(join([hardline, hardline], decls))}\n`;
}
