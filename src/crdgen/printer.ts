/**
 * Text layout shared by kubekit's two generators (codegen/, which makes src/api from
 * kube-apiserver's OpenAPI, and kubekit-crdgen, which makes the same kind of module from
 * CustomResourceDefinitions): a document printer that lays code out exactly as `biome format`
 * would (the repository's biome.json: 2 spaces, width 100, double quotes, trailing commas), and
 * doc comments wrapped to that width. Output that passes `biome check` without running Biome.
 *
 * Layout uses a small Wadler-style document printer (the algorithm Prettier and Biome share): a
 * group prints on one line when it fits in the rest of the line, and otherwise breaks every line
 * of its own (not of its children, which get their own chance). The generated code uses few
 * constructs (interfaces, unions, arrays, Record, the descriptor call), and for each the documents
 * in render.ts mirror Biome's choices; codegen's tests run Biome on the output to check they still
 * do.
 */

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
export const INDENT = "  ";

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

/**
 * A string literal as Biome writes it: double quotes, unless the text holds more double quotes
 * than single ones (then single quotes, so fewer escapes).
 */
export function quote(value: string): string {
  const json = JSON.stringify(value);
  const doubles = value.split('"').length - 1;
  const singles = value.split("'").length - 1;
  if (doubles <= singles) return json;
  return `'${json.slice(1, -1).replaceAll('\\"', '"').replaceAll("'", "\\'")}'`;
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
 *
 * `tags` (`@deprecated ...`, `@default ...`) follow the text after a blank line, one per line
 * (wrapped, their own line breaks folded to spaces), and are the only lines that may start with
 * `@`.
 */
export function docComment(text: string, column: number, tags: readonly string[] = []): Doc {
  const width = WIDTH - column - 3;
  const lines = text
    .replaceAll("*/", "*\\/")
    .split(/\r?\n/)
    .flatMap((l) => wrapLine(l.trimEnd(), width))
    .map((l) => l.replace(/^(\s*)@/, "$1\\@"));
  while (lines.length > 0 && lines[0] === "") lines.shift();
  while (lines.length > 0 && lines.at(-1) === "") lines.pop();
  if (tags.length > 0 && lines.length > 0) lines.push("");
  for (const tag of tags) {
    lines.push(...wrapLine(tag.replaceAll("*/", "*\\/").replace(/\s+/g, " ").trim(), width));
  }
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
