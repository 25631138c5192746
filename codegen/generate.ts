/**
 * The generator of `src/api/`: kubekit's typed API, one module per group version, made from what
 * a real kube-apiserver serves.
 *
 *   npm run codegen                  regenerate src/api/, src/clientset/,
 *                                    src/apply/patchmeta.generated.ts and
 *                                    src/testing/ssa-schema.generated.ts from the stored
 *                                    snapshot (no network)
 *   npm run codegen -- --fetch       refetch the snapshot from a cluster, then regenerate
 *       [--kubeconfig <file>]        default: $KUBECONFIG, else .kubekit/cluster/kubeconfig
 *   npm run codegen -- --version v1.37.2 --out <dir>
 *                                    another stored snapshot / another output directory, which
 *                                    stands for src/ (api/ and clientset/ are written under it)
 *
 * ## Input
 * `codegen/openapi/<gitVersion>/` holds the server's OpenAPI v3 documents and its aggregated
 * discovery, for built-in group versions only (fetch.ts). The schemas give the types; discovery
 * gives the resources (plural, scope, verbs, short names, subresources), which OpenAPI does not
 * state. Without `--version` the newest stored snapshot is used.
 *
 * ## Output: where definitions live
 * A definition goes to the module of its Go package, named as client-go names the package
 * (src/crdgen/model.ts `moduleOfPackage`): `io.k8s.api.apps.v1.Deployment` → `src/api/apps/v1`,
 * `internal.apiserver.k8s.io` → `apiserverinternal/v1alpha1`, apiextensions and the aggregator's
 * apiregistration under their package names. The shared definitions:
 * - apimachinery's meta/v1 (ObjectMeta, ListMeta, Status, LabelSelector, Time, MicroTime, ...) →
 *   `src/api/meta/v1`, as client-go's metav1.
 * - apimachinery's unversioned value types (`resource.Quantity`, `intstr.IntOrString`,
 *   `runtime.RawExtension`) → `src/api/apimachinery`: they belong to no group version, and one
 *   small module for them is easier to find than three one-type modules.
 * - the JSON-schema types of CRDs (JSONSchemaProps, JSON, JSONSchemaPropsOrArray, ...) stay in
 *   `src/api/apiextensions/v1`, their own package; nothing outside apiextensions uses them.
 * - a package that no served group version owns but others reference (e.g. scheduling/v1alpha3,
 *   used by batch/v1) still gets its module, with types and no descriptors.
 * A module imports another only with `import type * as corev1 from "../../core/v1/index.ts"`,
 * erased at run time, so loading one module never loads another; a module with descriptors loads
 * `src/core/resource.ts` and nothing else (the layer rule: `api` imports only `core`).
 *
 * ## Output: what a module holds
 * - an interface per object definition, properties in schema order with the schema's descriptions
 *   as doc comments, required exactly as the schema's `required`; other definitions become type
 *   aliases. Type mapping: src/crdgen/model.ts `typeOf`, shared with kubekit-crdgen
 *   (IntOrString `number | string`; Quantity, Time, MicroTime `string`; maps `Record<string, T>`;
 *   untyped `unknown`). Values are the wire JSON: nothing is converted on decode, so these are
 *   interfaces, never classes.
 * - on each kind, `apiVersion` and `kind` are string literals and optional. Optional because the
 *   server leaves them out of list items (`PodList.items[i]` has neither) and because an object
 *   literal for create should not have to repeat what the descriptor already says; the client sets
 *   them on the way out. Literal, so that `apiVersion: "v2"` on a Pod does not compile, and so that
 *   when present they narrow.
 * - for each kind that discovery lists as a top-level resource, a descriptor made with
 *   `defineResource<T>()` under the same name as the interface (declaration merging of a const and
 *   an interface): `import { Pod }` gives both. Kinds met only as subresources (autoscaling/v1
 *   Scale, policy/v1 Eviction) and non-resource types (PodSpec) get none.
 *
 * ## Output: the Clientset
 * `src/clientset/index.ts` (clientset.ts): client-go's Clientset as a thin facade, one property
 * per served group version and one method per resource, each returning `client.api(Descriptor)`.
 * It is the only generated module that loads every group version's descriptors.
 *
 * ## Output: patch metadata
 * `src/apply/patchmeta.generated.ts` (patchmeta.ts): for every definition, the fields whose patch
 * strategy, merge key, list type or map type matter to strategic merge patches and to extracting
 * apply configurations, and the definition of each kind. The rules are `buildPatchMetaTable` in
 * `src/apply/patchmeta-table.ts`, which kubekit also runs on a server's OpenAPI documents. Of
 * `src/apply/`, only files that start with the generated-code header belong to the generator.
 *
 * ## Determinism and checks
 * Output depends only on the snapshot: definitions sorted by name, discovery in the server's order,
 * files laid out as Biome would (src/crdgen/printer.ts and render.ts, shared with kubekit-crdgen).
 * Every file starts with the `Code generated` line; a file under an output folder (`TARGETS`) that
 * starts with it and is no longer produced is deleted, other files (src/api/api.test-d.ts,
 * src/clientset/*.test.ts) are left alone. codegen/generate.test.ts regenerates into a temporary
 * directory and fails on any difference from the committed src/api/, src/clientset/ and
 * src/apply/patchmeta.generated.ts.
 */
import { mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildClientset, renderClientset } from "./clientset.ts";
import { HEADER_PREFIX, renderModule } from "./emit.ts";
import { connectionFromKubeconfig, fetchSnapshot } from "./fetch.ts";
import { buildModules } from "./model.ts";
import { PATCH_META_FILE, renderPatchMeta } from "./patchmeta.ts";
import { loadSnapshot, pickSnapshot } from "./snapshot.ts";
import { renderSsaSchema, SSA_SCHEMA_FILE } from "./ssaschema.ts";

export const REPO_ROOT = resolve(import.meta.dirname, "..");
export const SNAPSHOT_ROOT = join(REPO_ROOT, "codegen/openapi");
/** The output directory: generated files go to folders under it, as under src/. */
export const DEFAULT_OUT = join(REPO_ROOT, "src");
/** The folders under the output directory that the generator owns (and prunes). */
export const TARGETS = ["api", "clientset", "apply", "testing"] as const;

/** Every generated file, by path relative to the output directory (`api/core/v1/index.ts`). */
export function generate(snapshotDir: string): { version: string; files: Map<string, string> } {
  const snapshot = loadSnapshot(snapshotDir);
  const files = new Map<string, string>();
  const modules = buildModules(snapshot);
  for (const m of modules.values()) {
    files.set(`api/${m.path}/index.ts`, renderModule(m, snapshot.version));
  }
  files.set(
    "clientset/index.ts",
    renderClientset(buildClientset(snapshot, modules), snapshot.version),
  );
  files.set(PATCH_META_FILE, renderPatchMeta(snapshot));
  files.set(SSA_SCHEMA_FILE, renderSsaSchema(snapshotDir, snapshot.version));
  return { version: snapshot.version, files };
}

/** Relative paths of the files under `dir` that start with the generated-code header. */
export function generatedFilesIn(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir, { recursive: true, encoding: "utf8" });
  } catch {
    return [];
  }
  return entries
    .filter((rel) => rel.endsWith(".ts"))
    .filter((rel) => {
      try {
        return readFileSync(join(dir, rel), "utf8").startsWith(HEADER_PREFIX);
      } catch {
        return false; // a directory named *.ts, or gone meanwhile
      }
    })
    .map((rel) => rel.split("\\").join("/"))
    .sort();
}

/** Generated files under the `TARGETS` folders of `outDir`, relative to `outDir`. */
export function generatedOutput(outDir: string): string[] {
  return TARGETS.flatMap((t) => generatedFilesIn(join(outDir, t)).map((rel) => `${t}/${rel}`));
}

/**
 * Writes `files` under `outDir`, rewriting only files whose text changed, and deletes generated
 * files under the `TARGETS` folders that are no longer produced (and folders that leaves empty).
 * Nothing outside those folders is looked at, generated or not.
 */
export function writeOutput(
  outDir: string,
  files: Map<string, string>,
): { written: number; removed: number } {
  let written = 0;
  let removed = 0;
  for (const rel of generatedOutput(outDir)) {
    if (files.has(rel)) continue;
    rmSync(join(outDir, rel));
    removed++;
    for (let d = dirname(join(outDir, rel)); d !== outDir && d.startsWith(outDir); d = dirname(d)) {
      if (readdirSync(d).length > 0) break;
      rmdirSync(d);
    }
  }
  for (const [rel, text] of files) {
    const path = join(outDir, rel);
    let old: string | undefined;
    try {
      old = readFileSync(path, "utf8");
    } catch {}
    if (old === text) continue;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    written++;
  }
  return { written, removed };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      fetch: { type: "boolean", default: false },
      kubeconfig: { type: "string" },
      version: { type: "string" },
      out: { type: "string" },
    },
  });
  let snapshotDir: string;
  if (values.fetch) {
    const kubeconfig = resolve(
      values.kubeconfig ??
        process.env.KUBECONFIG?.split(":")[0] ??
        join(REPO_ROOT, ".kubekit/cluster/kubeconfig"),
    );
    snapshotDir = await fetchSnapshot(connectionFromKubeconfig(kubeconfig), SNAPSHOT_ROOT, (l) =>
      console.error(`[fetch] ${l}`),
    );
  } else {
    snapshotDir = pickSnapshot(SNAPSHOT_ROOT, values.version);
  }
  const outDir = resolve(values.out ?? DEFAULT_OUT);
  const { version, files } = generate(snapshotDir);
  const { written, removed } = writeOutput(outDir, files);
  console.error(
    `kube-apiserver ${version}: ${files.size} files in ${relative(process.cwd(), outDir) || "."} ` +
      `(${written} written, ${removed} removed)`,
  );
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  });
}
