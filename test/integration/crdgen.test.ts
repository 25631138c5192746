/**
 * kubekit-crdgen against the real kube-apiserver. The fixture corpus (test/fixtures/crdgen: a
 * cert-manager-like and a Prometheus-operator-like CRD, widgets.yaml with several versions, status
 * and scale, a bundle with a cluster-scoped kind and embedded resources) is created under groups
 * of its own; then:
 * - the manifest and the CRD read back from the cluster give the same modules, by the library and
 *   by the CLI (`--from-cluster` included);
 * - the server's own OpenAPI v3 for each served version, run through the same model, gives the
 *   same modules (the server is the oracle for what a schema means), and the patch metadata is
 *   the table `PatchMeta.fromServer` builds from that document;
 * - the descriptors are what discovery says;
 * - a program using the generated modules type-checks and does typed CRUD, status, scale, watch
 *   and server-side apply (test/fixtures/crdgen/scenario.ts.txt).
 */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { CustomResourceDefinition as Crds } from "../../src/api/apiextensions/v1/index.ts";
import { decodePatchMetaTable, PatchMeta } from "../../src/apply/patchmeta.ts";
import type { PatchMetaTable } from "../../src/apply/patchmeta-table.ts";
import type { Client } from "../../src/client/index.ts";
import { isNotFound } from "../../src/core/errors.ts";
import {
  buildCrdModule,
  buildCrdModules,
  crdsFromCluster,
  crdsFromText,
  generate,
  renderCrdModule,
} from "../../src/crdgen/index.ts";
import type { Schema } from "../../src/crdgen/schema.ts";
import { Discovery } from "../../src/discovery/index.ts";
import { testClient, testKubeconfig, testNamespace, uniqueName } from "../support/cluster.ts";

const root = resolve(import.meta.dirname, "../..");
const fixtures = join(root, "test/fixtures/crdgen");

const FILES = ["certificate.yaml", "servicemonitor.yaml", "widgets.yaml", "bundle.yaml"];

let client: Client;
/** widgets.yaml's group, made unique. */
let group: string;
let crdName: string;
/** The whole corpus, one multi-document file. */
let manifest: string;
let crdNames: string[];
let namespace: { name: string; remove(): Promise<void> };
/** Under the repository, so that `kubekit` resolves to its sources (kubekit-source). */
let work: string;

const eventually = async <T>(what: string, f: () => Promise<T | undefined>): Promise<T> => {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
};

before(async () => {
  client = await testClient();
  const suffix = `${uniqueName("crdgen")}.kubekit.test`;
  group = `crdgen.${suffix}`;
  crdName = `widgets.${group}`;
  mkdirSync(join(root, ".kubekit/tmp"), { recursive: true });
  work = mkdtempSync(join(root, ".kubekit/tmp/crdgen-"));
  manifest = join(work, "corpus.yaml");
  writeFileSync(
    manifest,
    FILES.map((f) =>
      readFileSync(join(fixtures, f), "utf8").replaceAll("kubekit.test", suffix),
    ).join("\n---\n"),
  );
  const crds = crdsFromText(readFileSync(manifest, "utf8"));
  crdNames = crds.map((c) => c.metadata!.name!).sort();
  const api = client.api(Crds);
  for (const crd of crds) await api.create(crd);
  for (const name of crdNames) {
    await eventually(`${name} is Established`, async () => {
      const c = await api.get(name);
      return c.status?.conditions?.find((x) => x.type === "Established" && x.status === "True");
    });
  }
  namespace = await testNamespace(client, "kk-crdgen");
});

after(async () => {
  for (const name of crdNames ?? []) {
    await client
      .api(Crds)
      .delete(name)
      .catch((e) => {
        if (!isNotFound(e)) throw e;
      });
  }
  await namespace?.remove();
  await client.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const fromManifest = () => generate(crdsFromText(readFileSync(manifest, "utf8"), manifest));

const cli = (args: string[]) =>
  promisify(execFile)(
    process.execPath,
    ["--conditions=kubekit-source", "src/crdgen/cli.ts", ...args],
    { cwd: root, env: { ...process.env, KUBECONFIG: testKubeconfig() }, timeout: 60_000 },
  );

function readTree(dir: string): Map<string, string> {
  return new Map(
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name))
      .sort()
      .map((f) => [relative(dir, f), readFileSync(f, "utf8")]),
  );
}

describe("the same modules from every source", () => {
  test("the manifest and the CRDs read back from the cluster", async () => {
    const crds = await crdsFromCluster(client, { names: crdNames });
    assert.deepEqual(
      crds.map((c) => c.metadata?.name),
      crdNames,
    );
    const fromCluster = generate(crds);
    assert.equal(fromCluster.size, 6);
    assert.deepEqual(fromCluster, fromManifest());
    // All CRDs of the cluster, these among them.
    const all = (await crdsFromCluster(client)).map((c) => c.metadata?.name);
    for (const name of crdNames) assert.ok(all.includes(name), name);
  });

  test("the CLI, from the manifest and with --from-cluster", async () => {
    const a = join(work, "cli-manifest");
    const b = join(work, "cli-cluster");
    const r1 = await cli(["-o", a, manifest]);
    assert.match(
      r1.stderr,
      /5 CustomResourceDefinitions, 6 modules in .* \(6 written, 0 removed\)/,
    );
    const r2 = await cli([
      "--from-cluster",
      "--kubeconfig",
      testKubeconfig(),
      "-o",
      b,
      ...crdNames,
    ]);
    assert.match(r2.stderr, /\(6 written, 0 removed\)/);
    const expected = fromManifest();
    assert.deepEqual(readTree(a), expected);
    assert.deepEqual(readTree(b), expected);
    // KUBECONFIG from the environment, kubectl's rules.
    const check = await cli(["--from-cluster", "--check", "-o", b, ...crdNames]);
    assert.match(check.stderr, /up to date/);
    await assert.rejects(
      cli(["--from-cluster", "-o", b, `nothing.${group}`]),
      (e: Error & { code?: number; stderr?: string }) => {
        assert.equal(e.code, 1);
        assert.match(e.stderr ?? "", /not found/i);
        return true;
      },
    );
  });

  test("the server's OpenAPI v3 document of each version, through the same model", async () => {
    const expected = fromManifest();
    const modules = buildCrdModules(crdsFromText(readFileSync(manifest, "utf8")));
    assert.equal(modules.length, expected.size);
    for (const m of modules) {
      const gv = `${m.group}/${m.version}`;
      const doc = await eventually(`the server publishes ${gv}`, async () => {
        const d = await new Discovery(client).openapi
          .document(`apis/${gv}`)
          .catch((e) => (isNotFound(e) ? undefined : Promise.reject(e)));
        const schemas = d?.components?.schemas ?? {};
        return m.kinds.every((k) => schemas[k.definitions.kind]) ? d : undefined;
      });
      const published = doc.components!.schemas! as Record<string, Schema>;
      const served = m.kinds.map((k) => {
        const schemas = new Map(
          [k.definitions.kind, k.definitions.list].map((d) => [d, published[d]!] as const),
        );
        // What the generator computed is what the server publishes, definition for definition.
        assert.deepEqual(schemas, k.schemas, `${gv} ${k.kind}: published definitions`);
        return { ...k, schemas };
      });
      const fromServer = buildCrdModule(m.group, m.version, served);
      assert.equal(renderCrdModule(fromServer), expected.get(m.path), gv);

      // The patch metadata is what PatchMeta.fromServer reads from that document.
      const ours = decodePatchMetaTable(fromServer.patchMeta.lines, fromServer.patchMeta.kinds);
      for (const k of m.kinds) {
        const gvk = { group: m.group, version: m.version, kind: k.kind };
        const theirs = (await PatchMeta.fromServer(new Discovery(client), gvk)).table;
        assert.deepEqual(
          closure(ours, k.definitions.kind),
          closure(theirs, k.definitions.kind),
          `${gv} ${k.kind}: patch metadata`,
        );
        assert.ok(PatchMeta.fromTable(ours, gvk));
      }
    }
  });
});

/** The definitions reachable from `root` in a patch metadata table. */
function closure(table: PatchMetaTable, root: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const queue = [root];
  while (queue.length > 0) {
    const name = queue.shift()!;
    const def = table.definitions.get(name);
    if (out.has(name) || def === undefined) continue;
    out.set(name, { atomic: def.atomic, fields: [...def.fields] });
    for (const f of def.fields.values()) if (f.type) queue.push(f.type);
  }
  return out;
}

test("the descriptors are what discovery says", async () => {
  for (const m of buildCrdModules(crdsFromText(readFileSync(manifest, "utf8")))) {
    for (const ours of m.resources.values()) {
      const found = await eventually(`discovery lists ${m.group}/${m.version}`, async () => {
        const rs = await new Discovery(client)
          .resources(`${m.group}/${m.version}`)
          .catch(() => undefined);
        return rs?.find((r) => r.plural === ours.plural);
      });
      // Discovery keeps a subresource's responseKind even when it is the kind itself.
      const subresources = found.subresources.map(({ responseKind, ...s }) =>
        responseKind && responseKind.kind === ours.kind && responseKind.group === m.group
          ? s
          : { ...s, responseKind },
      );
      assert.deepEqual({ ...ours }, { ...found, subresources }, `${m.path} ${ours.kind}`);
    }
  }
});

test("a program on the generated modules type-checks and does typed CRUD, status, scale, watch and apply", async () => {
  const modules = fromManifest();
  const dir = join(work, "program");
  const put = (rel: string, text: string) => {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  };
  assert.ok(crdName.startsWith("widgets."));
  put("gen/widgets.ts", modules.get(`${group}/v1.ts`)!);
  put("gen/widgets-v1beta1.ts", modules.get(`${group}/v1beta1.ts`)!);
  put("scenario.ts", readFileSync(join(fixtures, "scenario.ts.txt"), "utf8"));
  const base = JSON.parse(readFileSync(join(root, "tsconfig.json"), "utf8")).compilerOptions;
  put("tsconfig.json", JSON.stringify({ compilerOptions: base, include: ["**/*.ts"] }));
  const tsc = spawnSync(join(root, "node_modules/.bin/tsc"), ["-p", dir], { encoding: "utf8" });
  assert.equal(tsc.status, 0, `${tsc.stdout}${tsc.stderr}`);

  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--conditions=kubekit-source", join(dir, "scenario.ts")],
    {
      cwd: root,
      env: { ...process.env, KUBECONFIG: testKubeconfig(), CRDGEN_NAMESPACE: namespace.name },
      timeout: 120_000,
    },
  );
  const out = JSON.parse(stdout.trim().split("\n").at(-1)!);
  assert.deepEqual(out.created, { apiVersion: `${group}/v1`, kind: "Widget" });
  // The defaults the generated docs promise are the server's.
  assert.deepEqual(out.defaults, { colour: "red", replicas: 1, maxUnavailable: "25%" });
  assert.equal(out.owner, null, "a nullable field keeps its null");
  assert.deepEqual(out.listed, ["w1"]);
  assert.deepEqual(out.updated, { size: 3, owner: "me" });
  assert.deepEqual(out.status, { replicas: 1, selector: "app=crdgen", phase: "Ready" });
  assert.equal(out.statusKeptSpec, 3);
  assert.deepEqual(out.scale, { spec: 1, status: 1, selector: "app=crdgen" });
  assert.equal(out.scaled, 4);
  assert.deepEqual(out.watched, ["ADDED w2 7", "DELETED w2 7"]);
  // ports is a list-map (merged across managers), tags a set (merged too).
  assert.deepEqual(out.mergedPorts, ["a", "b", "c"]);
  assert.deepEqual(out.mergedTags, ["x", "y"]);
  assert.deepEqual(out.extracted.spec.ports, [
    { name: "a", protocol: "TCP", number: 1 },
    { name: "b", protocol: "UDP" },
  ]);
  assert.equal(out.v1beta1, `${group}/v1beta1`);
  assert.equal(out.deleted, true);
});
