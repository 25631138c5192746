/**
 * The package's promises about itself: every export has its source, every capability folder is
 * exported, and the README's code is the type-checked example.
 */
import assert from "node:assert/strict";
import { existsSync, globSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";

const root = resolve(import.meta.dirname, "../..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

test("every export points at a source file (kubekit-source) and a dist path of the same shape", () => {
  for (const [key, target] of Object.entries<Record<string, string> | string>(pkg.exports)) {
    if (typeof target === "string") continue;
    const src = target["kubekit-source"]!;
    assert.ok(src, `${key} has a kubekit-source condition`);
    assert.equal(target.default, src.replace("./src/", "./dist/").replace(/\.ts$/, ".js"), key);
    assert.equal(target.types, src.replace("./src/", "./dist/").replace(/\.ts$/, ".d.ts"), key);
    if (src.includes("*"))
      assert.ok(
        globSync(src.slice(2).replace("*", "**"), { cwd: root }).length > 10,
        `${key} matches generated modules`,
      );
    else assert.ok(existsSync(join(root, src)), `${src} exists`);
  }
});

test("every capability folder with an index.ts is exported", () => {
  const folders = readdirSync(join(root, "src"), { withFileTypes: true }).filter(
    (d) => d.isDirectory() && existsSync(join(root, "src", d.name, "index.ts")),
  );
  for (const f of folders) {
    if (f.name === "core" || f.name === "client") continue; // the root export carries these
    assert.ok(pkg.exports[`./${f.name}`], `src/${f.name} is exported as ./${f.name}`);
  }
});

test("the README's quick look is examples/quick-look.ts, which the type check covers", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const block = /```ts\n(import \{ Client, isNotFound \}[\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block, "the README has the quick look");
  const example = readFileSync(join(root, "examples/quick-look.ts"), "utf8");
  assert.ok(
    example.replace(/\s+/g, " ").includes(block.replace(/\s+/g, " ").trim()),
    "README and example agree",
  );
});
