/**
 * A custom resource whose schema is a built-in type's gets the built-in's types: CRDs made from
 * kube-apiserver's own OpenAPI for ConfigMap and Deployment (every referenced definition inlined,
 * as a CRD must have it, down to PodSpec's last field) are generated, and each interface is
 * compared with the one `npm run codegen` committed for the built-in, in src/api.
 *
 * "Modulo names", made precise: type names (`WidgetTemplateSpec` is `PodTemplateSpec`), the
 * module qualifiers of references (`corev1.`, `metav1.`), the `apiVersion` and `kind` literals,
 * and references to definitions that are aliases (`metav1.Time`, `apimachinery.Quantity`), which
 * a CRD can only spell out (`string`). Line breaks in code may differ where names differ in
 * length; comments must be identical. Two things a CRD cannot express are left out: a nested
 * object's own description (a CRD has one description per field, which becomes the property's
 * doc, so the hoisted interface repeats it), and `default` (documented as `@default` for custom
 * resources only, since the built-in modules predate it).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { CustomResourceDefinition } from "../api/apiextensions/v1/index.ts";
import { Deployment } from "../api/apps/v1/index.ts";
import { block, REPO } from "./fixtures.test.ts";
import { INT_OR_STRING, moduleOfPackage, nameOfDefinition } from "./model.ts";
import { buildCrdModules, renderCrdModule } from "./module.ts";
import type { Schema } from "./schema.ts";

const SNAPSHOTS = join(REPO, "codegen/openapi");
const snapshot = join(SNAPSHOTS, readdirSync(SNAPSHOTS).sort().at(-1)!, "openapi/v3");
const schemas = new Map<string, Schema>();
for (const doc of ["api/v1.json", "apis/apps/v1.json"]) {
  const parsed = JSON.parse(readFileSync(join(snapshot, doc), "utf8"));
  for (const [k, v] of Object.entries(parsed.components.schemas)) schemas.set(k, v as Schema);
}
const committed = new Map<string, string>();
const moduleText = (module: string): string => {
  let t = committed.get(module);
  if (t === undefined) {
    t = readFileSync(join(REPO, "src/api", module, "index.ts"), "utf8");
    committed.set(module, t);
  }
  return t;
};

const QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity";

const refOf = (s: Schema): string | undefined =>
  (s.$ref ?? s.allOf?.[0]?.$ref)?.replace("#/components/schemas/", "");

/** Definitions that are objects with properties become interfaces; the rest are aliases. */
const isInterface = (d: string): boolean =>
  schemas.get(d)?.type === "object" && Object.keys(schemas.get(d)?.properties ?? {}).length > 0;

/**
 * A built-in definition as a CRD would have to write it: references inlined (IntOrString as the
 * extension, Quantity as a string), defaults dropped. `found` collects, by path below the root, which definition each
 * inlined object stands for.
 */
function mirror(schema: Schema, path: string[], found: Map<string, string>): Schema {
  if (path.length > 30) throw new Error(`recursive at ${path.join(".")}`);
  const ref = refOf(schema);
  if (ref !== undefined) {
    const { description } = schema;
    if (ref === INT_OR_STRING) return { description, "x-kubernetes-int-or-string": true };
    // Typed `oneOf [string, number]`, which a structural schema cannot say; codegen makes it a
    // string, and so does a CRD that declares it one.
    if (ref === QUANTITY) return { description, type: "string" };
    if (isInterface(ref)) found.set(JSON.stringify(path), ref);
    return { ...mirror(schemas.get(ref)!, path, found), description };
  }
  const { default: _, ...out } = schema;
  if (schema.properties) {
    out.properties = Object.fromEntries(
      Object.entries(schema.properties).map(([k, p]) => [k, mirror(p, [...path, k], found)]),
    );
  }
  if (schema.items) out.items = mirror(schema.items, path, found);
  if (typeof schema.additionalProperties === "object") {
    out.additionalProperties = mirror(schema.additionalProperties, path, found);
  }
  if (out.description === undefined) delete out.description;
  return out;
}

/** A CRD serving `definition`'s schema as `crdgen.example.com/v1` `Widget`. */
function crdOf(definition: string, found: Map<string, string>): CustomResourceDefinition {
  const root = schemas.get(definition)!;
  const { "x-kubernetes-group-version-kind": _, ...schema } = mirror(root, [], found);
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: "widgets.crdgen.example.com" },
    spec: {
      group: "crdgen.example.com",
      scope: "Namespaced",
      names: { kind: "Widget", plural: "widgets" },
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          subresources: {
            status: {},
            scale: { specReplicasPath: ".spec.replicas", statusReplicasPath: ".status.replicas" },
          },
          schema: { openAPIV3Schema: schema as never },
        },
      ],
    },
  };
}

/** One-line alias declarations (`export type Time = string;`) by qualified name. */
function aliases(): Map<string, string> {
  const out = new Map<string, string>();
  for (const [d] of schemas) {
    if (isInterface(d)) continue;
    let module: string;
    try {
      module = nameOfDefinition(d).module;
    } catch {
      continue;
    }
    const name = nameOfDefinition(d).name;
    const m = new RegExp(`^export type ${name} = (.+);$`, "m").exec(moduleText(module));
    if (m && name !== "IntOrString") out.set(name, m[1]!);
  }
  return out;
}

/**
 * A declaration block with names made comparable: in code lines (not comments), module
 * qualifiers dropped, `renames` and alias references replaced, and line breaks in code folded
 * as a wider line would print them.
 */
function comparable(
  text: string,
  renames: Map<string, string>,
  alias: Map<string, string>,
): string {
  const literal = (n: string) => n.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const names = new RegExp(
    `(?<![\\w"])(?:${[...renames.keys(), ...alias.keys()].map(literal).join("|")})(?![\\w"])`,
    "g",
  );
  const lines = text.split("\n").map((l) => l.trim());
  const out: string[] = [];
  let code = "";
  const flush = () => {
    if (code === "") return;
    out.push(
      code
        .replace(/([:(<,]) \| /g, "$1 ")
        .replace(/([(<]) /g, "$1")
        .replace(/ ([)>])/g, "$1")
        .replace(/,>/g, ">"),
    );
    code = "";
  };
  for (const line of lines) {
    if (line.startsWith("/**") || line.startsWith("*")) {
      flush();
      out.push(line);
      continue;
    }
    const l = line
      .replace(/\b[a-z][a-z0-9]*\.(?=[A-Z])/g, "")
      .replace(names, (name) => renames.get(name) ?? alias.get(name)!);
    code = code === "" ? l : `${code} ${l}`;
  }
  flush();
  return out.join("\n");
}

function compareWithBuiltin(definition: string, builtinModule: string) {
  const found = new Map<string, string>();
  const [m] = buildCrdModules([crdOf(definition, found)]);
  const text = renderCrdModule(m!);
  const builtinName = nameOfDefinition(definition).name;
  const renames = new Map<string, string>([
    ["Widget", builtinName],
    ['"Widget"', `"${builtinName}"`],
    ['"crdgen.example.com/v1"', `"${builtinModule === "core/v1" ? "v1" : builtinModule}"`],
  ]);
  const alias = aliases();
  const nested = m!.declarations.filter((d) => d.definition.includes("/"));
  for (const d of nested) {
    const path = JSON.stringify(d.definition.split("/").slice(1));
    const target = found.get(path);
    assert.ok(target, `${d.name} (${path}) stands for a built-in definition`);
    renames.set(d.name, nameOfDefinition(target).name);
  }
  // The kind itself, its doc comment included.
  assert.equal(
    comparable(block(text, "Widget"), renames, alias),
    comparable(block(moduleText(builtinModule), builtinName), renames, alias),
  );
  // Every nested object, from its first line.
  for (const d of nested) {
    const target = found.get(JSON.stringify(d.definition.split("/").slice(1)))!;
    const { module, name } = nameOfDefinition(target);
    assert.equal(
      comparable(block(text, d.name, false), renames, alias),
      comparable(block(moduleText(module), name, false), renames, alias),
      `${d.name} is ${target}`,
    );
  }
  return { module: m!, nested: nested.length, found };
}

describe("a CRD with a built-in's schema gets the built-in's interfaces", () => {
  test("ConfigMap", () => {
    const { nested } = compareWithBuiltin("io.k8s.api.core.v1.ConfigMap", "core/v1");
    assert.equal(nested, 0);
  });

  test("Deployment, with the whole PodTemplateSpec inlined", () => {
    const { module, nested, found } = compareWithBuiltin(
      "io.k8s.api.apps.v1.Deployment",
      "apps/v1",
    );
    assert.ok(nested > 100, `${nested} nested interfaces compared`);
    const kinds = new Set(found.values());
    for (const d of [
      "io.k8s.api.apps.v1.DeploymentSpec",
      "io.k8s.api.apps.v1.RollingUpdateDeployment",
      "io.k8s.api.core.v1.PodSpec",
      "io.k8s.api.core.v1.Container",
      "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
      "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
    ]) {
      assert.ok(kinds.has(d), d);
    }
    // With status and scale subresources, the descriptor's are the built-in's (each in the order
    // its server's discovery lists them).
    const byName = <T extends { name: string }>(xs: readonly T[]) =>
      [...xs].sort((a, b) => (a.name < b.name ? -1 : 1));
    assert.deepEqual(
      byName(module.resources.get("Widget")!.subresources),
      byName(Deployment.subresources),
    );
    assert.equal(moduleOfPackage("io.k8s.api.apps.v1"), "apps/v1");
  });
});
