/**
 * What the crdgen tests share: the fixture corpus (test/fixtures/crdgen), the declaration blocks
 * of a module's text, Biome's layout, and a type check of generated modules as a user's project
 * would run it (`kubekit` mapped to this repository's sources). No tests of its own (named
 * `.test.ts` so it stays out of the published package).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { CustomResourceDefinition } from "../api/apiextensions/v1/index.ts";
import { crdsFromText } from "./input.ts";

export const REPO = resolve(import.meta.dirname, "../..");
export const FIXTURES = join(REPO, "test/fixtures/crdgen");

/** The CRDs of fixture files (`certificate.yaml`, ...). */
export function fixture(...files: string[]): CustomResourceDefinition[] {
  return files.flatMap((f) => crdsFromText(readFileSync(join(FIXTURES, f), "utf8"), f));
}

/** The declaration `name` in module text: its doc comment (when `withDoc`) and body. */
export function block(text: string, name: string, withDoc = true): string {
  const lines = text.split("\n");
  const start = lines.findIndex(
    (l) => l.startsWith(`export interface ${name} {`) || l.startsWith(`export type ${name} =`),
  );
  if (start < 0) throw new Error(`no declaration ${name}`);
  let from = start;
  if (withDoc && lines[start - 1]?.endsWith("*/")) {
    while (!lines[from - 1]!.startsWith("/**")) from--;
    from--;
  }
  let to = start;
  if (lines[start]!.endsWith("{")) while (lines[to] !== "}") to++;
  else while (!lines[to]!.endsWith(";")) to++;
  return lines.slice(from, to + 1).join("\n");
}

/**
 * Runs `tsc` over `files` (relative path → text) in a temporary directory outside the repository,
 * with `kubekit` and `kubekit/*` mapped to this repository's sources, as a user's project resolves
 * the package. Returns tsc's output; empty when everything type-checks.
 */
export function typeCheck(files: ReadonlyMap<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "kubekit-crdgen-tsc-"));
  try {
    for (const [rel, text] of files) {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeFileSync(join(dir, rel), text);
    }
    writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
    const base = JSON.parse(readFileSync(join(REPO, "tsconfig.json"), "utf8")).compilerOptions;
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          ...base,
          customConditions: [],
          typeRoots: [join(REPO, "node_modules/@types")],
          paths: {
            kubekit: [join(REPO, "src/index.ts")],
            "kubekit/*": [join(REPO, "src/*/index.ts")],
          },
        },
        include: ["**/*.ts"],
      }),
    );
    const r = spawnSync(join(REPO, "node_modules/.bin/tsc"), ["-p", dir], { encoding: "utf8" });
    return r.status === 0 ? "" : `${r.stdout}${r.stderr}`.trim() || `tsc exited ${r.status}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `biome format` of `text` as a file at `path` under the repository; Biome's output. */
export function biomeFormat(text: string, path = "src/example/generated.ts"): string {
  const r = spawnSync(
    join(REPO, "node_modules/.bin/biome"),
    ["format", `--stdin-file-path=${path}`],
    {
      cwd: REPO,
      input: text,
      encoding: "utf8",
    },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}
