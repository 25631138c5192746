/**
 * The emitter of `src/apply/patchmeta.generated.ts`: the patch metadata of every built-in kind
 * (patch strategies and merge keys for strategic merge patches, list and map types for extracting
 * apply configurations), from the same snapshot the types come from.
 *
 * The rules live in `src/apply/patchmeta-table.ts` (`buildPatchMetaTable`), which also builds
 * tables at run time from a server's OpenAPI documents; this file only renders the result. The table is text,
 * one string per field, so that the file's diff after a Kubernetes upgrade reads as a diff of the
 * API, and so that its layout is trivially Biome's: an array of string literals, one per line.
 */
import {
  buildPatchMetaTable,
  encodePatchMetaTable,
  type PatchMetaTable,
} from "../src/apply/patchmeta-table.ts";
import { headerLine, WIDTH, wrapLine } from "./emit.ts";
import type { Snapshot } from "./snapshot.ts";

/** The output path, relative to the output directory (src/). */
export const PATCH_META_FILE = "apply/patchmeta.generated.ts";

export function buildBuiltinPatchMeta(snapshot: Snapshot): PatchMetaTable {
  return buildPatchMetaTable(snapshot.schemas);
}

function stringArray(name: string, doc: string, values: string[]): string[] {
  for (const v of values) {
    // Biome would switch quotes (or escape) for these; the encoder never produces them.
    if (/["'\\\n`]/.test(v)) throw new Error(`cannot render ${JSON.stringify(v)}`);
  }
  return [
    ...comment(doc),
    `export const ${name}: readonly string[] = [`,
    ...values.map((v) => `  "${v}",`),
    "];",
  ];
}

function comment(text: string): string[] {
  const lines = text.split("\n").flatMap((l) => wrapLine(l, WIDTH - 3));
  if (lines.length === 1 && lines[0]!.length + 7 <= WIDTH) return [`/** ${lines[0]} */`];
  return ["/**", ...lines.map((l) => (l === "" ? " *" : ` * ${l}`)), " */"];
}

/** The complete text of `src/apply/patchmeta.generated.ts`. */
export function renderPatchMeta(snapshot: Snapshot): string {
  const table = buildBuiltinPatchMeta(snapshot);
  const { lines, kinds } = encodePatchMetaTable(table);
  const out = [
    headerLine(snapshot.version),
    ...comment(
      `The patch metadata of the built-in kinds of kube-apiserver ${snapshot.version}: for each ` +
        "OpenAPI definition, the fields whose patch strategy, merge key, list type or map type " +
        "differ from the defaults (objects merge field by field, lists are replaced and atomic). " +
        `${table.definitions.size} definitions, ${kinds.length} kinds. The format and its reader ` +
        "are in patchmeta-table.ts.\n\n@module",
    ),
    "",
    ...stringArray(
      "PATCH_META_LINES",
      "`<definition> <field> <shape>[:<type>] [attributes]`, or `<definition> . atomic`.",
      lines,
    ),
    "",
    ...stringArray("PATCH_META_KINDS", "`<group/version/Kind> <definition>`.", kinds),
  ];
  return `${out.join("\n")}\n`;
}
