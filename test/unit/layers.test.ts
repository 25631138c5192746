/**
 * The layer rule of ARCHITECTURE.md: a folder under src/ imports only folders that come before it
 * in LAYERS. The root index.ts is the facade and may import any folder. A new folder must be placed
 * in LAYERS (and in ARCHITECTURE.md) before it can hold code.
 */
import assert from "node:assert/strict";
import { globSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";

export const LAYERS = [
  "core",
  "config",
  "auth",
  "rest",
  "api",
  "client",
  "clientset",
  "discovery",
  "dynamic",
  "apply",
  "workqueue",
  "cache",
  "leaderelection",
  "events",
  "controller",
  "streams",
  "testing",
  "crdgen",
] as const;

const importRe =
  /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/gm;

function folderOf(src: string, file: string): string | undefined {
  const rel = relative(src, file);
  return rel.includes("/") ? rel.split("/")[0] : undefined;
}

export function layerViolations(src: string): string[] {
  const problems: string[] = [];
  for (const rel of globSync("**/*.ts", { cwd: src })) {
    const file = join(src, rel);
    const from = folderOf(src, file);
    if (from === undefined) continue; // src/index.ts: the facade
    const rank = LAYERS.indexOf(from as (typeof LAYERS)[number]);
    if (rank < 0) {
      problems.push(`src/${rel}: folder "${from}" is not in the layer list`);
      continue;
    }
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(importRe)) {
      const spec = m[1] ?? m[2]!;
      if (!spec.startsWith(".")) {
        if (spec === "kubekit" || spec.startsWith("kubekit/")) {
          problems.push(`src/${rel}: imports "${spec}"; inside the package use relative imports`);
        }
        continue;
      }
      const target = resolve(dirname(file), spec);
      if (!target.startsWith(src)) {
        problems.push(`src/${rel}: imports "${spec}" from outside src/`);
        continue;
      }
      const to = folderOf(src, target);
      if (to === undefined) {
        problems.push(`src/${rel}: imports the root facade "${spec}"`);
        continue;
      }
      if (to === from) continue;
      const toRank = LAYERS.indexOf(to as (typeof LAYERS)[number]);
      if (toRank < 0 || toRank > rank) {
        problems.push(
          `src/${rel}: "${from}" may not import "${to}" ("${spec}"): imports point downward only`,
        );
      }
    }
  }
  return problems;
}

test("imports under src/ point downward only", () => {
  assert.deepEqual(layerViolations(resolve(import.meta.dirname, "../../src")), []);
});

test("the layer check reports upward, unknown-folder and package-name imports", () => {
  const dir = mkdtempSync(join(tmpdir(), "kubekit-layers-"));
  try {
    const put = (path: string, text: string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    put("core/a.ts", 'import { b } from "../cache/b.ts";\nexport const a = b;\n');
    put("cache/b.ts", 'import { a } from "../core/a.ts";\nexport const b = 1;\nexport { a };\n');
    put("gadgets/c.ts", "export const c = 1;\n");
    put("rest/d.ts", 'export * from "kubekit/cache";\n');
    const found = layerViolations(dir);
    assert.equal(found.length, 3, found.join("\n"));
    assert.match(found.join("\n"), /"core" may not import "cache"/);
    assert.match(found.join("\n"), /folder "gadgets" is not in the layer list/);
    assert.match(found.join("\n"), /imports "kubekit\/cache"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
