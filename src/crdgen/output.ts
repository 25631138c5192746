/**
 * Writing generated modules to a directory: only files whose text changed are rewritten, and a
 * module the generator wrote before for the same CRDs that it no longer produces (a version that
 * stopped being served) is removed. Modules of other CRDs in the same directory are left alone, so
 * several runs over different CRDs can share one output directory.
 */
import { mkdir, readdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { HEADER_PREFIX } from "./module.ts";

/** The CRD names a generated module's first line names; undefined for any other file. */
export function generatedFrom(text: string): string[] | undefined {
  const first = text.slice(0, text.indexOf("\n") >>> 0);
  const m = new RegExp(
    `^${HEADER_PREFIX} from CustomResourceDefinitions? (.+)\\. DO NOT EDIT\\.$`,
  ).exec(first);
  return m ? m[1]!.split(", ") : undefined;
}

export interface WriteResult {
  /** Paths (relative to the directory) written, or that would be with `check`. */
  written: string[];
  /** Stale modules removed, or that would be with `check`. */
  removed: string[];
}

/**
 * Brings `dir` to `files` (relative path → text). `crds` are the CRD names the run covered: a
 * generated module under `dir` that is not in `files` is removed only when every CRD it was made
 * from is among them. With `check`, nothing is changed and the result says what would be.
 */
export async function writeModules(
  dir: string,
  files: ReadonlyMap<string, string>,
  crds: Iterable<string>,
  options: { check?: boolean } = {},
): Promise<WriteResult> {
  const covered = new Set(crds);
  const result: WriteResult = { written: [], removed: [] };
  let existing: string[] = [];
  try {
    existing = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith(".ts"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  for (const rel of existing.map((f) => f.split("\\").join("/")).sort()) {
    if (files.has(rel)) continue;
    let text: string;
    try {
      text = await readFile(join(dir, rel), "utf8");
    } catch {
      continue; // a directory named *.ts
    }
    const from = generatedFrom(text);
    if (from === undefined || !from.every((c) => covered.has(c))) continue;
    result.removed.push(rel);
    if (options.check) continue;
    await rm(join(dir, rel));
    for (let d = dirname(join(dir, rel)); d !== dir && d.startsWith(dir); d = dirname(d)) {
      if ((await readdir(d)).length > 0) break;
      await rmdir(d);
    }
  }
  for (const [rel, text] of files) {
    const path = join(dir, rel);
    let old: string | undefined;
    try {
      old = await readFile(path, "utf8");
    } catch {}
    if (old === text) continue;
    result.written.push(rel);
    if (options.check) continue;
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
  }
  return result;
}
