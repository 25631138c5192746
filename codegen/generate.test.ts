/**
 * Tests of the generator: the committed src/api/ is exactly what the stored snapshot generates
 * (so CI catches hand edits and stale output), and the parts that are easy to get wrong (module
 * names, required fields, IntOrString, comment escaping, layout, the descriptors of known
 * resources) behave as documented.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { before, describe, test } from "node:test";
import {
  buildClientset,
  type ClientsetGroupVersion,
  compare,
  groupGoName,
  groupVersionGoName,
  lowerCamel,
  pluralOfKind,
  renderClientset,
} from "./clientset.ts";
import {
  docComment,
  group,
  hardline,
  indent,
  line,
  print,
  renderModule,
  softline,
  wrapLine,
} from "./emit.ts";
import { connectionFromKubeconfig, fetchSnapshot, stableJson } from "./fetch.ts";
import { DEFAULT_OUT, generatedOutput, REPO_ROOT, SNAPSHOT_ROOT, writeOutput } from "./generate.ts";
import {
  buildModules,
  declarationOf,
  importAlias,
  type ModuleModel,
  moduleOfPackage,
  nameOfDefinition,
  type ResourceModel,
  type TypeNode,
  typeOf,
} from "./model.ts";
import { buildBuiltinPatchMeta, PATCH_META_FILE, renderPatchMeta } from "./patchmeta.ts";
import { loadSnapshot, pickSnapshot, type Snapshot } from "./snapshot.ts";

let snapshot: Snapshot;
let modules: Map<string, ModuleModel>;
before(() => {
  snapshot = loadSnapshot(pickSnapshot(SNAPSHOT_ROOT));
  modules = buildModules(snapshot);
});

const ref = (definition: string): TypeNode => {
  const { module, name } = nameOfDefinition(definition);
  return { kind: "ref", module, name };
};

function resource(module: string, kind: string): ResourceModel {
  const r = modules.get(module)?.resources.get(kind);
  assert.ok(r, `${module} has a ${kind} descriptor`);
  return r;
}

test("the committed src/api/, src/clientset/ and patch metadata are what `npm run codegen` generates", () => {
  const out = mkdtempSync(join(tmpdir(), "kubekit-codegen-"));
  try {
    execFileSync(process.execPath, [join(REPO_ROOT, "codegen/generate.ts"), "--out", out], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    const fresh = generatedOutput(out);
    const committed = generatedOutput(DEFAULT_OUT);
    assert.ok(fresh.length > 30, `the generator wrote ${fresh.length} files`);
    assert.ok(fresh.includes("clientset/index.ts"), "the generator wrote the clientset");
    assert.ok(fresh.includes(PATCH_META_FILE), "the generator wrote the patch metadata");
    const all = [...new Set([...fresh, ...committed])].sort();
    for (const rel of all) {
      const where = `src/${rel}`;
      assert.ok(
        committed.includes(rel),
        `${where} is generated but not committed: run npm run codegen`,
      );
      assert.ok(fresh.includes(rel), `${where} is no longer generated: run npm run codegen`);
      const want = readFileSync(join(out, rel), "utf8");
      const have = readFileSync(join(DEFAULT_OUT, rel), "utf8");
      if (want !== have) {
        const a = want.split("\n");
        const b = have.split("\n");
        let i = 0;
        while (i < a.length && a[i] === b[i]) i++;
        assert.fail(
          `${where} differs from the generator's output at line ${i + 1}` +
            ` (committed ${JSON.stringify(b[i])}, generated ${JSON.stringify(a[i])}):` +
            " edit codegen/, not the generated file, and run npm run codegen",
        );
      }
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

describe("names", () => {
  test("modules are named after the Go package, as client-go names its typed packages", () => {
    const cases: [string, string][] = [
      ["io.k8s.api.core.v1", "core/v1"],
      ["io.k8s.api.apps.v1", "apps/v1"],
      ["io.k8s.api.rbac.v1", "rbac/v1"],
      ["io.k8s.api.apiserverinternal.v1alpha1", "apiserverinternal/v1alpha1"],
      ["io.k8s.api.flowcontrol.v1", "flowcontrol/v1"],
      ["io.k8s.api.resource.v1beta2", "resource/v1beta2"],
      ["io.k8s.apimachinery.pkg.apis.meta.v1", "meta/v1"],
      ["io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1", "apiextensions/v1"],
      ["io.k8s.kube-aggregator.pkg.apis.apiregistration.v1", "apiregistration/v1"],
      ["io.k8s.apimachinery.pkg.api.resource", "apimachinery"],
      ["io.k8s.apimachinery.pkg.util.intstr", "apimachinery"],
      ["io.k8s.apimachinery.pkg.runtime", "apimachinery"],
    ];
    for (const [pkg, module] of cases) assert.equal(moduleOfPackage(pkg), module, pkg);
    assert.throws(() => moduleOfPackage("io.example.widgets.v1"), /no module for OpenAPI package/);
    assert.deepEqual(nameOfDefinition("io.k8s.api.core.v1.Pod"), {
      pkg: "io.k8s.api.core.v1",
      module: "core/v1",
      name: "Pod",
    });
    assert.equal(importAlias("core/v1"), "corev1");
    assert.equal(importAlias("apimachinery"), "apimachinery");
  });

  test("every served group version has its module, alpha and beta included", () => {
    for (const path of [
      "core/v1",
      "apps/v1",
      "batch/v1",
      "rbac/v1",
      "coordination/v1",
      "coordination/v1beta1",
      "coordination/v1alpha2",
      "apiextensions/v1",
      "networking/v1",
      "storage/v1",
      "admissionregistration/v1",
      "admissionregistration/v1alpha1",
      "authentication/v1",
      "policy/v1",
      "flowcontrol/v1",
      "apiserverinternal/v1alpha1",
      "apiregistration/v1",
      "resource/v1alpha3",
      "meta/v1",
      "apimachinery",
    ]) {
      assert.ok(modules.has(path), path);
    }
    const served = snapshot.discovery.flatMap((g) =>
      g.versions.map((v) => (g.group === "" ? v.version : `${g.group}/${v.version}`)),
    );
    const described = new Set([...modules.values()].flatMap((m) => m.apiVersions));
    for (const gv of served) assert.ok(described.has(gv), `${gv} has descriptors`);
  });
});

describe("types", () => {
  test("required fields are required; apiVersion and kind are optional literals", () => {
    const container = modules.get("core/v1")!.declarations.find((d) => d.name === "Container");
    assert.equal(container?.kind, "interface");
    const props = new Map(container.properties.map((p) => [p.name, p]));
    assert.equal(props.get("name")?.optional, false);
    assert.equal(props.get("image")?.optional, true);

    const pod = declarationOf(
      "io.k8s.api.core.v1.Pod",
      snapshot.schemas.get("io.k8s.api.core.v1.Pod")!,
      ref,
    );
    assert.equal(pod.kind, "interface");
    const pp = new Map(pod.properties.map((p) => [p.name, p]));
    assert.deepEqual(pp.get("apiVersion"), {
      ...pp.get("apiVersion"),
      optional: true,
      type: { kind: "literal", value: "v1" },
    });
    assert.deepEqual(pp.get("kind")?.type, { kind: "literal", value: "Pod" });
    assert.equal(pp.get("kind")?.optional, true);

    const list = modules.get("core/v1")!.declarations.find((d) => d.name === "PodList");
    assert.equal(list?.kind, "interface");
    const items = list.properties.find((p) => p.name === "items");
    assert.deepEqual(items, {
      ...items,
      optional: false,
      type: { kind: "array", element: { kind: "ref", module: "core/v1", name: "Pod" } },
    });
  });

  test("the schema's required list is followed even on a synthetic definition", () => {
    const d = declarationOf(
      "io.k8s.api.example.v1.Thing",
      {
        type: "object",
        required: ["a"],
        properties: { a: { type: "string" }, b: { type: "integer" }, "x-y": { type: "boolean" } },
      },
      ref,
    );
    const text = renderModule(
      {
        path: "example/v1",
        goPackages: [],
        apiVersions: [],
        declarations: [d],
        resources: new Map(),
      },
      "v0.0.0",
    );
    assert.match(text, /\n {2}a: string;\n {2}b\?: number;\n {2}"x-y"\?: boolean;\n/);
  });

  test("IntOrString is number | string, and fields typed with it refer to it", () => {
    const text = renderModule(modules.get("apimachinery")!, snapshot.version);
    assert.match(text, /^export type IntOrString = number \| string;$/m);
    assert.match(text, /^export type Quantity = string;$/m);
    const core = renderModule(modules.get("core/v1")!, snapshot.version);
    assert.match(core, /^ {2}targetPort\?: apimachinery\.IntOrString;$/m);
    // The extension (custom resources use it; built-in schemas refer to the definition) means it.
    assert.deepEqual(typeOf({ "x-kubernetes-int-or-string": true }, ref), {
      kind: "ref",
      module: "apimachinery",
      name: "IntOrString",
    });
  });

  test("maps, untyped values, open enums and nullable", () => {
    const renderType = (t: TypeNode) => {
      const m: ModuleModel = {
        path: "example/v1",
        goPackages: [],
        apiVersions: [],
        declarations: [{ kind: "alias", definition: "X", name: "X", type: t }],
        resources: new Map(),
      };
      return renderModule(m, "v0").split("\n").at(-2)!;
    };
    assert.equal(
      renderType(typeOf({ type: "object", additionalProperties: { type: "string" } }, ref)),
      "export type X = Record<string, string>;",
    );
    assert.equal(
      renderType(typeOf({ type: "object" }, ref)),
      "export type X = Record<string, unknown>;",
    );
    assert.equal(renderType(typeOf({}, ref)), "export type X = unknown;");
    assert.equal(
      renderType(typeOf({ type: "string", enum: ["A", "B"] }, ref)),
      'export type X = "A" | "B" | (string & {});',
    );
    assert.equal(
      renderType(typeOf({ type: "array", items: { type: "integer" }, nullable: true }, ref)),
      "export type X = number[] | null;",
    );
  });
});

describe("doc comments", () => {
  const text = (t: string, column = 0) => print(docComment(t, column));

  test("`*/` cannot end the comment early and `@` cannot start a tag", () => {
    assert.equal(text("matches a/*/b */ c"), "/** matches a/*\\/b *\\/ c */\n");
    assert.equal(text("first\n@second line"), "/**\n * first\n * \\@second line\n */\n");
  });

  test("long prose wraps at the line width; code blocks and URLs stay whole", () => {
    const long = `${"word ".repeat(40)}end`;
    for (const l of text(long).split("\n")) assert.ok(l.length <= 100, l);
    const url = `see https://example.com/${"x".repeat(120)}`;
    assert.deepEqual(wrapLine(url, 97), ["see", `https://example.com/${"x".repeat(120)}`]);
    const code = `\t${"code ".repeat(30)}`;
    assert.deepEqual(wrapLine(code, 97), [code]);
    assert.deepEqual(wrapLine(` - ${"item ".repeat(25)}`.trimEnd(), 40).slice(0, 2), [
      " - item item item item item item item",
      "   item item item item item item item",
    ]);
    // A wrapped line never starts with markup.
    for (const l of wrapLine(`${"a".repeat(95)} - b`, 97)) assert.doesNotMatch(l, /^- /);
  });
});

describe("descriptors", () => {
  test("pods: namespaced, short names, subresources with their kinds", () => {
    const pods = resource("core/v1", "Pod");
    assert.equal(pods.plural, "pods");
    assert.equal(pods.singular, "pod");
    assert.equal(pods.namespaced, true);
    assert.deepEqual(pods.shortNames, ["po"]);
    assert.deepEqual(pods.categories, ["all"]);
    assert.ok(pods.verbs.includes("watch"));
    const subs = new Map(pods.subresources.map((s) => [s.name, s]));
    for (const name of [
      "status",
      "log",
      "eviction",
      "binding",
      "ephemeralcontainers",
      "resize",
      "exec",
      "attach",
      "portforward",
      "proxy",
    ]) {
      assert.ok(subs.has(name), `pods/${name}`);
    }
    assert.deepEqual(subs.get("eviction"), {
      name: "eviction",
      responseKind: { group: "policy", version: "v1", kind: "Eviction" },
      verbs: ["create"],
    });
    assert.deepEqual(subs.get("binding")?.responseKind, {
      group: "",
      version: "v1",
      kind: "Binding",
    });
    // Subresources that return the Pod itself say nothing more.
    assert.equal(subs.get("status")?.responseKind, undefined);
    assert.deepEqual(subs.get("status")?.verbs, ["get", "patch", "update"]);
  });

  test("deployments/scale is autoscaling/v1 Scale, which has no descriptor of its own", () => {
    const deployments = resource("apps/v1", "Deployment");
    assert.deepEqual(deployments.shortNames, ["deploy"]);
    const scale = deployments.subresources.find((s) => s.name === "scale");
    assert.deepEqual(scale?.responseKind, { group: "autoscaling", version: "v1", kind: "Scale" });
    assert.equal(modules.get("autoscaling/v1")!.resources.has("Scale"), false);
    assert.ok(modules.get("autoscaling/v1")!.declarations.some((d) => d.name === "Scale"));
    assert.equal(modules.get("core/v1")!.resources.has("PodSpec"), false);
  });

  test("namespaces are cluster-scoped; CRDs have their short names", () => {
    const ns = resource("core/v1", "Namespace");
    assert.equal(ns.namespaced, false);
    assert.deepEqual(ns.shortNames, ["ns"]);
    const crd = resource("apiextensions/v1", "CustomResourceDefinition");
    assert.equal(crd.namespaced, false);
    assert.equal(crd.group, "apiextensions.k8s.io");
    assert.deepEqual(crd.shortNames, ["crd", "crds"]);
    // internal.apiserver.k8s.io lives where client-go puts it.
    const sv = resource("apiserverinternal/v1alpha1", "StorageVersion");
    assert.equal(sv.group, "internal.apiserver.k8s.io");
  });

  test("the generated modules define working descriptors", async () => {
    const core = await import("../src/api/core/v1/index.ts");
    assert.equal(core.Pod.plural, "pods");
    assert.equal(core.Pod.namespaced, true);
    assert.ok(Object.isFrozen(core.Pod));
    assert.equal(core.Namespace.namespaced, false);
    assert.equal("PodSpec" in core, false);
    const apps = await import("../src/api/apps/v1/index.ts");
    assert.deepEqual(apps.Deployment.subresources.find((s) => s.name === "scale")?.responseKind, {
      group: "autoscaling",
      version: "v1",
      kind: "Scale",
    });
    const autoscaling = await import("../src/api/autoscaling/v1/index.ts");
    assert.equal("Scale" in autoscaling, false);
    // Type-only modules have nothing at run time.
    assert.deepEqual(Object.keys(await import("../src/api/meta/v1/index.ts")), []);
  });
});

test("writeOutput prunes stale generated files under api/, clientset/ and apply/ only", () => {
  const out = mkdtempSync(join(tmpdir(), "kubekit-write-"));
  try {
    const header =
      "// Code generated by codegen/generate.ts from kube-apiserver v0. DO NOT EDIT.\n";
    const files = new Map([
      ["api/a/v1/index.ts", `${header}export {};\n`],
      ["clientset/index.ts", `${header}export {};\n`],
    ]);
    assert.deepEqual(writeOutput(out, files), { written: 2, removed: 0 });
    assert.deepEqual(writeOutput(out, files), { written: 0, removed: 0 });
    writeFileSync(join(out, "api/a/v1/index.ts"), "// hand-written\n");
    mkdirSync(join(out, "api/gone/v1"), { recursive: true });
    writeFileSync(join(out, "api/gone/v1/index.ts"), header);
    writeFileSync(join(out, "clientset/clientset.test.ts"), "// a test beside it\n");
    mkdirSync(join(out, "apply"));
    writeFileSync(join(out, "apply/stale.generated.ts"), header);
    writeFileSync(join(out, "apply/extract.ts"), "// hand-written code beside generated code\n");
    mkdirSync(join(out, "other"));
    writeFileSync(join(out, "other/index.ts"), header);
    // The hand-edited file is rewritten, the stale one removed with its folders, the rest kept.
    assert.deepEqual(writeOutput(out, files), { written: 1, removed: 2 });
    assert.equal(existsSync(join(out, "api/gone")), false);
    assert.equal(existsSync(join(out, "apply/stale.generated.ts")), false);
    assert.ok(existsSync(join(out, "apply/extract.ts")));
    assert.ok(existsSync(join(out, "clientset/clientset.test.ts")));
    assert.ok(existsSync(join(out, "other/index.ts")));
    assert.deepEqual(generatedOutput(out), ["api/a/v1/index.ts", "clientset/index.ts"]);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

describe("clientset", () => {
  let clientset: ClientsetGroupVersion[];
  before(() => {
    clientset = buildClientset(snapshot, modules);
  });
  const gv = (property: string): ClientsetGroupVersion => {
    const found = clientset.find((g) => g.property === property);
    assert.ok(found, `the clientset has ${property}`);
    return found;
  };

  test("group versions are named as client-go names them", () => {
    assert.equal(groupGoName(""), "Core");
    assert.equal(groupGoName("rbac.authorization.k8s.io"), "Rbac");
    assert.equal(groupGoName("internal.apiserver.k8s.io"), "Internal");
    assert.equal(groupGoName("flowcontrol.apiserver.k8s.io"), "Flowcontrol");
    assert.equal(groupGoName("apps"), "Apps");
    assert.throws(() => groupGoName("my-group.example.com"), /not an identifier/);
    assert.equal(
      groupVersionGoName("admissionregistration.k8s.io", "v1beta1"),
      "AdmissionregistrationV1beta1",
    );
    const properties = clientset.map((g) => g.property);
    for (const p of [
      "coreV1",
      "appsV1",
      "batchV1",
      "rbacV1",
      "networkingV1",
      "coordinationV1",
      "apiextensionsV1",
      "apiregistrationV1",
      "admissionregistrationV1",
      "admissionregistrationV1beta1",
      "resourceV1alpha3",
      "internalV1alpha1",
      "flowcontrolV1",
      "autoscalingV2",
    ]) {
      assert.ok(properties.includes(p), p);
    }
    assert.deepEqual(properties, [...properties].sort(compare));
    assert.equal(gv("coreV1").className, "CoreV1Client");
    assert.equal(gv("internalV1alpha1").group, "internal.apiserver.k8s.io");
  });

  test("resources are named by gengo's plural rules, checked against discovery", () => {
    const cases: [string, string][] = [
      ["Pod", "Pods"],
      ["Endpoints", "Endpoints"],
      ["ComponentStatus", "ComponentStatuses"],
      ["NetworkPolicy", "NetworkPolicies"],
      ["Ingress", "Ingresses"],
      ["IPAddress", "IPAddresses"],
      ["CSIStorageCapacity", "CSIStorageCapacities"],
      ["Gateway", "Gateways"],
      ["Mesh", "Meshes"],
      ["Batch", "Batches"],
      ["Graph", "Graphs"],
      ["Knife", "Knives"],
      ["Leaf", "Leaves"],
    ];
    for (const [kind, plural] of cases) assert.equal(pluralOfKind(kind), plural, kind);
    assert.equal(lowerCamel("Pods"), "pods");
    assert.equal(lowerCamel("CSIDrivers"), "csiDrivers");
    assert.equal(lowerCamel("APIServices"), "apiServices");
    assert.equal(lowerCamel("IPAddresses"), "ipAddresses");
    assert.equal(lowerCamel("ABC"), "abc");

    const method = (property: string, name: string) => {
      const r = gv(property).resources.find((x) => x.method === name);
      assert.ok(r, `${property}.${name}`);
      return r;
    };
    assert.deepEqual(method("coreV1", "pods"), {
      method: "pods",
      kind: "Pod",
      module: "core/v1",
      plural: "pods",
      namespaced: true,
    });
    assert.equal(method("coreV1", "namespaces").namespaced, false);
    assert.equal(method("coreV1", "endpoints").kind, "Endpoints");
    assert.equal(method("coreV1", "componentStatuses").plural, "componentstatuses");
    assert.equal(method("apiextensionsV1", "customResourceDefinitions").namespaced, false);
    assert.equal(method("rbacV1", "clusterRoles").module, "rbac/v1");
    assert.equal(method("storageV1", "csiDrivers").kind, "CSIDriver");
    assert.equal(method("apiregistrationV1", "apiServices").kind, "APIService");
    assert.equal(
      method("internalV1alpha1", "storageVersions").module,
      "apiserverinternal/v1alpha1",
    );
    assert.equal(method("eventsV1", "events").module, "events/v1");

    // Every resource discovery lists is there once, in its own group version.
    const listed = snapshot.discovery.flatMap((g) =>
      g.versions.flatMap((v) => v.resources.map((r) => `${g.group}/${v.version}/${r.resource}`)),
    );
    const emitted = clientset.flatMap((g) =>
      g.resources.map((r) => `${g.group}/${g.version}/${r.plural}`),
    );
    assert.deepEqual([...emitted].sort(), [...listed].sort());
  });

  test("a kind whose plural the rules get wrong is an error, not a misnamed method", () => {
    const odd: Snapshot = {
      ...snapshot,
      discovery: [
        {
          group: "",
          versions: [
            {
              version: "v1",
              resources: [
                {
                  resource: "people",
                  responseKind: { group: "", version: "", kind: "Person" },
                  scope: "Namespaced",
                },
              ],
            },
          ],
        },
      ],
    };
    const withPeople = new Map(modules);
    withPeople.set("core/v1", {
      ...modules.get("core/v1")!,
      resources: new Map([
        ["Person", { ...resource("core/v1", "Pod"), kind: "Person", plural: "people" }],
      ]),
    });
    assert.throws(() => buildClientset(odd, withPeople), /plural of Person is persons/);
  });

  test("each method is one call of client.api on its module's descriptor", () => {
    const text = renderClientset(clientset, snapshot.version);
    assert.ok(text.startsWith("// Code generated by codegen/generate.ts from kube-apiserver"));
    assert.match(
      text,
      /\n {2}pods\(namespace\?: string\): Api<corev1\.Pod, true> \{\n {4}return inNamespace\(this\.#client\.api\(corev1\.Pod\), namespace\);\n {2}\}\n/,
    );
    assert.match(
      text,
      /\n {2}nodes\(\): Api<corev1\.Node, false> \{\n {4}return this\.#client\.api\(corev1\.Node\);\n {2}\}\n/,
    );
    assert.match(text, /^import \* as corev1 from "\.\.\/api\/core\/v1\/index\.ts";$/m);
    // Only types come from the client layer: the facade has no code of its own to drift.
    assert.match(text, /^import type \{ Api, Client \} from "\.\.\/client\/index\.ts";$/m);
    const methods = clientset.reduce((n, g) => n + g.resources.length, 0);
    assert.equal(text.match(/this\.#client\.api\(/g)?.length, methods);
  });
});

describe("layout matches Biome", () => {
  const biome = join(REPO_ROOT, "node_modules/.bin/biome");
  const format = (text: string): string => {
    const r = spawnSync(biome, ["format", "--stdin-file-path=src/api/example/v1/index.ts"], {
      cwd: REPO_ROOT,
      input: text,
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };

  test("long unions, maps and arrays, quoted keys and every descriptor head layout", () => {
    const values = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel"];
    const longEnum: TypeNode = typeOf({ type: "string", enum: values }, ref);
    const props: Record<string, TypeNode> = {
      short: { kind: "union", members: [{ kind: "literal", value: "A" }, { kind: "openString" }] },
      longUnionProperty: longEnum,
      list: { kind: "array", element: longEnum },
      map: { kind: "record", value: longEnum },
      mapOfShort: {
        kind: "record",
        value: {
          kind: "ref",
          module: "admissionregistration/v1alpha1",
          name: "ValidatingAdmissionPolicyBindingSpec",
        },
      },
      "x-kubernetes-weird-name": { kind: "keyword", name: "boolean" },
    };
    const declarations: ModuleModel["declarations"] = [
      {
        kind: "interface",
        definition: "io.k8s.api.example.v1.Thing",
        name: "Thing",
        description: `A thing. ${"Prose that needs wrapping. ".repeat(8)}Ends */ here.`,
        properties: Object.entries(props).map(([name, type]) => ({ name, optional: true, type })),
      },
      { kind: "alias", definition: "io.k8s.api.example.v1.Mode", name: "Mode", type: longEnum },
    ];
    const resources = new Map<string, ResourceModel>();
    // Kind-name lengths that hit each head layout: one line; object on its own line; broken
    // after `=`; type arguments broken.
    for (const kind of [
      "Pod",
      "StorageVersion",
      "ControllerRevisionX",
      `Validating${"X".repeat(30)}`,
    ]) {
      declarations.push({
        kind: "interface",
        definition: `io.k8s.api.example.v1.${kind}`,
        name: kind,
        properties: [
          { name: "metadata", optional: true, type: { kind: "keyword", name: "unknown" } },
        ],
      });
      resources.set(kind, {
        group: "example.k8s.io",
        version: "v1",
        kind,
        plural: `${kind.toLowerCase()}s`,
        singular: kind.toLowerCase(),
        namespaced: kind.length % 2 === 0,
        shortNames: [],
        categories: ["all"],
        verbs: ["get", "list"],
        subresources:
          kind === "Pod"
            ? [{ name: "status", verbs: ["get"] }]
            : [
                {
                  name: "scale",
                  responseKind: { group: "autoscaling", version: "v1", kind: "Scale" },
                  verbs: ["get"],
                },
                { name: "status", verbs: ["get", "patch", "update"] },
              ],
      });
    }
    const text = renderModule(
      {
        path: "example/v1",
        goPackages: ["k8s.io/api/example/v1"],
        apiVersions: ["example.k8s.io/v1"],
        declarations,
        resources,
      },
      "v0.0.0",
    );
    assert.equal(text, format(text));
  });

  test("the clientset, every signature layout included", () => {
    const clientset = buildClientset(snapshot, modules);
    // Long names that force the broken layouts, on top of the real ones.
    clientset.push({
      group: "example.k8s.io",
      version: "v1alpha1",
      property: "exampleV1alpha1",
      className: "ExampleV1alpha1Client",
      resources: [
        {
          method: `namespaced${"X".repeat(18)}s`,
          kind: `Namespaced${"X".repeat(18)}`,
          module: "example/v1alpha1",
          plural: "x",
          namespaced: true,
        },
        {
          method: `cluster${"X".repeat(43)}s`,
          kind: `Cluster${"X".repeat(43)}`,
          module: "example/v1alpha1",
          plural: "y",
          namespaced: false,
        },
      ],
    });
    const text = renderClientset(clientset, snapshot.version);
    const r = spawnSync(biome, ["format", "--stdin-file-path=src/clientset/index.ts"], {
      cwd: REPO_ROOT,
      input: text,
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(text, r.stdout);
  });

  test("the printer breaks only the groups that do not fit", () => {
    const doc = group(["f(", indent([softline, "a,", line, "b"]), softline, ")"]);
    assert.equal(print(doc), "f(a, b)");
    assert.equal(print(doc, 5), "f(\n  a,\n  b\n)");
    assert.equal(print(["x", hardline, "y"]), "x\ny");
  });
});

describe("patch metadata", () => {
  const lines = () => renderPatchMeta(snapshot).split("\n");

  test("one line per field that differs from the defaults, and one per kind", () => {
    const text = lines();
    const has = (line: string) => assert.ok(text.includes(`  "${line}",`), line);
    has(
      "io.k8s.api.core.v1.PodSpec containers list:io.k8s.api.core.v1.Container patchStrategy=merge patchMergeKey=name listType=map",
    );
    has(
      "io.k8s.api.core.v1.Container ports list patchStrategy=merge patchMergeKey=containerPort listType=map listMapKeys=containerPort,protocol",
    );
    has(
      "io.k8s.api.core.v1.PodSpec volumes list:io.k8s.api.core.v1.Volume patchStrategy=merge,retainKeys patchMergeKey=name listType=map",
    );
    has("io.k8s.api.apps.v1.DeploymentSpec strategy struct patchStrategy=retainKeys");
    has(
      "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta finalizers list patchStrategy=merge listType=set",
    );
    has("io.k8s.api.core.v1.PodSpec nodeSelector map atomic");
    has("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector . atomic");
    has("apps/v1/Deployment io.k8s.api.apps.v1.Deployment");
    has("v1/Pod io.k8s.api.core.v1.Pod");
    // Defaults are not listed: a scalar, an atomic list, a map of strings.
    assert.equal(text.filter((l) => l.includes("io.k8s.api.core.v1.Container args")).length, 0);
    assert.equal(text.filter((l) => l.includes("io.k8s.api.core.v1.Container image")).length, 0);
    assert.equal(text.filter((l) => l.includes("ObjectMeta labels")).length, 0);
  });

  test("every kind's definition and every field's type is in the table", () => {
    const table = buildBuiltinPatchMeta(snapshot);
    for (const [kind, def] of table.kinds) {
      assert.ok(snapshot.schemas.has(def), `${kind}: ${def}`);
    }
    for (const [name, def] of table.definitions) {
      for (const [field, f] of def.fields) {
        if (f.type) assert.ok(table.definitions.has(f.type), `${name}.${field}: ${f.type}`);
      }
    }
  });

  test("the file is laid out as Biome lays it out", () => {
    const biome = join(REPO_ROOT, "node_modules/.bin/biome");
    const text = renderPatchMeta(snapshot);
    const r = spawnSync(biome, ["format", `--stdin-file-path=src/${PATCH_META_FILE}`], {
      cwd: REPO_ROOT,
      input: text,
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(text, r.stdout);
  });
});

describe("fetch", () => {
  test("a kubeconfig's current context gives server, CA, client certificate and token", () => {
    const dir = mkdtempSync(join(tmpdir(), "kubekit-kubeconfig-"));
    try {
      writeFileSync(join(dir, "ca.crt"), "CA FILE");
      const file = join(dir, "config");
      writeFileSync(
        file,
        [
          "apiVersion: v1",
          "kind: Config",
          "current-context: b",
          "clusters:",
          "  - name: a",
          "    cluster: { server: https://a.example }",
          "  - name: b",
          "    cluster: { server: https://b.example:6443/, certificate-authority: ca.crt }",
          "users:",
          `  - name: u`,
          `    user: { client-certificate-data: ${Buffer.from("CERT").toString("base64")}, client-key-data: ${Buffer.from("KEY").toString("base64")}, token: t0k }`,
          "contexts:",
          "  - name: b",
          "    context: { cluster: b, user: u }",
        ].join("\n"),
      );
      const conn = connectionFromKubeconfig(file);
      assert.equal(conn.server, "https://b.example:6443");
      assert.equal(conn.ca?.toString(), "CA FILE");
      assert.equal(conn.cert?.toString(), "CERT");
      assert.equal(conn.key?.toString(), "KEY");
      assert.equal(conn.token, "t0k");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("stored JSON is stable", () => {
    assert.equal(
      stableJson({ b: 1, a: [1, { c: "x" }] }),
      '{\n  "b": 1,\n  "a": [\n    1,\n    {\n      "c": "x"\n    }\n  ]\n}\n',
    );
  });

  // Against the test cluster, when the test run has one of the snapshot's version: a fresh fetch
  // must reproduce the committed snapshot byte for byte.
  const kubeconfig = process.env.KUBEKIT_TEST_KUBECONFIG;
  test("refetching from the test cluster reproduces the stored snapshot", {
    skip: kubeconfig ? false : "KUBEKIT_TEST_KUBECONFIG is not set",
  }, async (t) => {
    const root = mkdtempSync(join(tmpdir(), "kubekit-snapshot-"));
    try {
      const dir = await fetchSnapshot(connectionFromKubeconfig(kubeconfig!), root);
      const version = dir.split("/").at(-1)!;
      const stored = join(SNAPSHOT_ROOT, version);
      if (version !== snapshot.version) {
        t.skip(`the test cluster is ${version}, the snapshot ${snapshot.version}`);
        return;
      }
      const list = (d: string) =>
        readdirSync(d, { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile())
          .map((e) => relative(d, join(e.parentPath, e.name)))
          .sort();
      const files = list(dir);
      assert.deepEqual(files, list(stored));
      for (const f of files) {
        assert.ok(readFileSync(join(dir, f)).equals(readFileSync(join(stored, f))), `${f} differs`);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
