/**
 * `kubekit-crdgen` without a cluster (runCli, and the bin once as a process): inputs (files,
 * directories, standard input), `--out` with stale-module pruning limited to the same CRDs,
 * `--check`, `--stdout`, `--group`, and the usage errors. `--from-cluster` is in
 * test/integration/crdgen.test.ts.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { FIXTURES, fixture, REPO } from "./fixtures.test.ts";
import { generate } from "./generate.ts";
import { runCli, USAGE } from "./main.ts";
import { generatedFrom, writeModules } from "./output.ts";

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "kubekit-crdgen-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function run(argv: string[], options: { cwd?: string; stdin?: string } = {}) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    stdin: async () => options.stdin ?? "",
    cwd: options.cwd ?? REPO,
    env: {},
  });
  return { code, stdout, stderr };
}

const expected = generate(fixture("certificate.yaml", "servicemonitor.yaml", "widgets.yaml"));

describe("kubekit-crdgen", () => {
  test("files and directories in, one file per module out; a second run writes nothing", async (t) => {
    const out = tempDir(t);
    const inputs = tempDir(t);
    mkdirSync(join(inputs, "nested"));
    writeFileSync(join(inputs, "nested/w.yml"), readFileSync(join(FIXTURES, "widgets.yaml")));
    writeFileSync(join(inputs, "notes.txt"), "not a manifest");
    const r = await run([
      "--out",
      out,
      join(FIXTURES, "certificate.yaml"),
      join(FIXTURES, "servicemonitor.yaml"),
      inputs,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /3 CustomResourceDefinitions, 5 modules in .* \(5 written, 0 removed\)/);
    for (const [path, text] of expected) assert.equal(readFileSync(join(out, path), "utf8"), text);
    const again = await run(["-o", out, join(FIXTURES, "certificate.yaml")]);
    assert.match(again.stderr, /\(0 written, 0 removed\)/);
  });

  test("standard input, and --stdout for a single module", async () => {
    const text = readFileSync(join(FIXTURES, "certificate.yaml"), "utf8");
    const r = await run(["--stdout", "-"], { stdin: text });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, expected.get("cert.kubekit.test/v1.ts"));
    const many = await run(["--stdout", join(FIXTURES, "widgets.yaml")]);
    assert.equal(many.code, 2);
    assert.match(many.stderr, /3 modules \(crdgen\.kubekit\.test\/v1\.ts, .*\): use --out/);
  });

  test("--group keeps one group's CRDs", async () => {
    const r = await run([
      "--stdout",
      "--group",
      "gadgets.kubekit.test",
      join(FIXTURES, "bundle.yaml"),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^export const GadgetClass:/m);
  });

  test("a version no longer served is removed; modules of other CRDs are not", async (t) => {
    const out = tempDir(t);
    const file = join(tempDir(t), "widgets.yaml");
    const widgets = readFileSync(join(FIXTURES, "widgets.yaml"), "utf8");
    writeFileSync(file, widgets);
    assert.equal((await run(["-o", out, file, join(FIXTURES, "certificate.yaml")])).code, 0);
    writeFileSync(join(out, "mine.ts"), "// hand-written\n");
    // v1beta1 stops being served.
    writeFileSync(file, widgets.replace(/(name: v1beta1\n\s+)served: true/, "$1served: false"));
    const r = await run(["-o", out, file]);
    assert.match(r.stderr, /1 CustomResourceDefinition, 2 modules in .* \(0 written, 1 removed\)/);
    assert.equal(existsSync(join(out, "crdgen.kubekit.test/v1beta1.ts")), false);
    assert.ok(existsSync(join(out, "crdgen.kubekit.test/v1.ts")));
    assert.ok(existsSync(join(out, "cert.kubekit.test/v1.ts")), "another CRD's module stays");
    assert.ok(existsSync(join(out, "mine.ts")));
  });

  test("--check says what differs and writes nothing", async (t) => {
    const out = tempDir(t);
    const file = join(FIXTURES, "certificate.yaml");
    const missing = await run(["--check", "-o", out, file]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cert\.kubekit\.test\/v1\.ts differs/);
    assert.equal(existsSync(join(out, "cert.kubekit.test")), false);
    await run(["-o", out, file]);
    const ok = await run(["--check", "-o", out, file]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /up to date/);
    writeFileSync(join(out, "cert.kubekit.test/v1.ts"), "// edited\n");
    assert.equal((await run(["--check", "-o", out, file])).code, 1);
  });

  test("usage errors exit 2 with the usage; bad input exits 1 with the reason", async () => {
    for (const [argv, why] of [
      [[], /--out <dir> or --stdout is needed/],
      [["-o", "x"], /no input/],
      [["-o", "x", "--stdout", "f"], /exclude each other/],
      [["--check", "--stdout", "f"], /--check needs --out/],
      [["-o", "x", "--context", "c", "f"], /go with --from-cluster/],
      [["--bogus"], /Unknown option '--bogus'/],
    ] as const) {
      const r = await run([...argv]);
      assert.equal(r.code, 2, argv.join(" "));
      assert.match(r.stderr, why);
      assert.ok(r.stderr.endsWith(USAGE));
    }
    const help = await run(["--help"]);
    assert.equal(help.code, 0);
    assert.equal(help.stdout, USAGE);
    const none = await run(["--stdout", "-"], {
      stdin: "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n",
    });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no CustomResourceDefinition with a served version/);
    const broken = await run(["--stdout", "-"], { stdin: "kind: [" });
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /<stdin>/);
    const old = await run(["--stdout", "-"], {
      stdin:
        "apiVersion: apiextensions.k8s.io/v1beta1\nkind: CustomResourceDefinition\nmetadata: {name: a.b.c}\nspec: {}\n",
    });
    assert.match(old.stderr, /a\.b\.c: apiVersion is apiextensions\.k8s\.io\/v1beta1/);
  });

  test("the bin runs as a process", (t) => {
    const out = tempDir(t);
    execFileSync(
      process.execPath,
      ["src/crdgen/cli.ts", "-o", out, join(FIXTURES, "certificate.yaml")],
      { cwd: REPO, stdio: "pipe" },
    );
    assert.equal(
      readFileSync(join(out, "cert.kubekit.test/v1.ts"), "utf8"),
      expected.get("cert.kubekit.test/v1.ts"),
    );
    assert.match(
      readFileSync(join(REPO, "src/crdgen/cli.ts"), "utf8"),
      /^#!\/usr\/bin\/env node\n/,
    );
  });
});

describe("writeModules", () => {
  test("a module is recognised by its first line, which names its CRDs", () => {
    assert.deepEqual(generatedFrom(expected.get("cert.kubekit.test/v1.ts")!), [
      "certificates.cert.kubekit.test",
    ]);
    const bundle = generate(fixture("bundle.yaml")).get("gadgets.kubekit.test/v1.ts")!;
    assert.deepEqual(generatedFrom(bundle), [
      "gadgetclasses.gadgets.kubekit.test",
      "gadgets.gadgets.kubekit.test",
    ]);
    assert.equal(
      generatedFrom("// Code generated by codegen/generate.ts from x. DO NOT EDIT.\n"),
      undefined,
    );
  });

  test("a stale module is removed only when all its CRDs were covered", async (t) => {
    const dir = tempDir(t);
    const bundle = generate(fixture("bundle.yaml"));
    await writeModules(dir, bundle, [
      "gadgets.gadgets.kubekit.test",
      "gadgetclasses.gadgets.kubekit.test",
    ]);
    const partial = await writeModules(dir, new Map(), ["gadgets.gadgets.kubekit.test"]);
    assert.deepEqual(partial, { written: [], removed: [] });
    const check = await writeModules(
      dir,
      new Map(),
      ["gadgets.gadgets.kubekit.test", "gadgetclasses.gadgets.kubekit.test"],
      { check: true },
    );
    assert.deepEqual(check, { written: [], removed: ["gadgets.kubekit.test/v1.ts"] });
    assert.ok(existsSync(join(dir, "gadgets.kubekit.test/v1.ts")));
    await writeModules(dir, new Map(), [
      "gadgets.gadgets.kubekit.test",
      "gadgetclasses.gadgets.kubekit.test",
    ]);
    assert.equal(
      existsSync(join(dir, "gadgets.kubekit.test")),
      false,
      "the emptied folder goes too",
    );
  });
});
