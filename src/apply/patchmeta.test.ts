/**
 * Patch metadata: the generated table of built-in kinds answers what the OpenAPI extensions say
 * (merge keys, strategies, list and map types), survives its text form, and the same builder reads
 * a custom resource's inline schema from a server's OpenAPI document.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Deployment } from "../api/apps/v1/index.ts";
import type { OpenApiDocument } from "../discovery/openapi.ts";
import { PatchError } from "./errors.ts";
import {
  buildPatchMetaTable,
  builtinPatchMetaTable,
  decodePatchMetaTable,
  encodePatchMetaTable,
  type FieldLookup,
  PatchMeta,
  resolvePatchMeta,
} from "./patchmeta.ts";

function walk(meta: PatchMeta, ...path: string[]): FieldLookup {
  let f: FieldLookup | undefined;
  let m = meta;
  for (const key of path) {
    f = m.lookup(key);
    m = f.meta;
  }
  return f!;
}

describe("built-in kinds", () => {
  const deployment = PatchMeta.builtin(Deployment)!;
  const podSpec = ["spec", "template", "spec"];

  test("kinds resolve from descriptors and from apiVersion + kind; unknown kinds do not", () => {
    assert.equal(deployment.definition, "io.k8s.api.apps.v1.Deployment");
    assert.equal(
      PatchMeta.builtin({ apiVersion: "v1", kind: "Pod" })?.definition,
      "io.k8s.api.core.v1.Pod",
    );
    assert.equal(PatchMeta.builtin({ apiVersion: "example.com/v1", kind: "Widget" }), undefined);
    assert.equal(PatchMeta.builtin({ apiVersion: "v1" }), undefined);
  });

  test("containers: merge by name, a granular (map) list for apply", () => {
    const f = walk(deployment, ...podSpec, "containers");
    assert.equal(f.strategy, "merge");
    assert.equal(f.mergeKey, "name");
    assert.equal(f.retainKeys, false);
    assert.equal(f.atomic, false);
    assert.equal(f.meta.definition, "io.k8s.api.core.v1.Container");
    // env inside a container, through the items' node.
    assert.equal(walk(deployment, ...podSpec, "containers", "env").mergeKey, "name");
  });

  test("ports: merged by containerPort, identified by containerPort + protocol", () => {
    const f = walk(deployment, ...podSpec, "containers", "ports");
    assert.equal(f.mergeKey, "containerPort");
    assert.deepEqual(f.field?.listMapKeys, ["containerPort", "protocol"]);
    // Where the map keys are just the merge key, they are not repeated.
    assert.equal(walk(deployment, ...podSpec, "containers").field?.listMapKeys, undefined);
  });

  test("volumes: merge + retainKeys; Deployment strategy: retainKeys alone", () => {
    const v = walk(deployment, ...podSpec, "volumes");
    assert.deepEqual([v.strategy, v.retainKeys, v.mergeKey], ["merge", true, "name"]);
    const s = walk(deployment, "spec", "strategy");
    assert.deepEqual([s.strategy, s.retainKeys], [undefined, true]);
  });

  test("finalizers: a primitive merge list (a set for apply)", () => {
    const f = walk(deployment, "metadata", "finalizers");
    assert.deepEqual(
      [f.strategy, f.mergeKey, f.field?.listType, f.atomic],
      ["merge", undefined, "set", false],
    );
  });

  test("atomic values: nodeSelector (a map), LabelSelector (a struct), args (a plain list)", () => {
    assert.equal(walk(deployment, ...podSpec, "nodeSelector").atomic, true);
    assert.equal(walk(deployment, "spec", "selector").atomic, true);
    // args is an atomic list with nothing else to say: not in the table, so apply's default.
    assert.equal(walk(deployment, ...podSpec, "containers", "args").field, undefined);
    assert.equal(walk(deployment, ...podSpec, "containers", "args").atomic, undefined);
    // labels: a granular map of strings, the default, so not in the table either.
    assert.equal(walk(deployment, "metadata", "labels").field, undefined);
  });

  test("the replace strategy (PodDisruptionBudget selector)", () => {
    const pdb = PatchMeta.builtin({ apiVersion: "policy/v1", kind: "PodDisruptionBudget" })!;
    assert.equal(walk(pdb, "spec", "selector").strategy, "replace");
  });

  test("the text form decodes to the same table", () => {
    const table = builtinPatchMetaTable();
    const { lines, kinds } = encodePatchMetaTable(table);
    assert.ok(
      lines.length > 400 && kinds.length > 200,
      `${lines.length} lines, ${kinds.length} kinds`,
    );
    assert.deepEqual(decodePatchMetaTable(lines, kinds), table);
  });

  test("resolvePatchMeta: a node as is, a kind from the table, else an error that says what to do", () => {
    assert.equal(resolvePatchMeta(deployment), deployment);
    assert.equal(
      resolvePatchMeta({ apiVersion: "apps/v1", kind: "Deployment" }).definition,
      deployment.definition,
    );
    assert.throws(
      () => resolvePatchMeta({ group: "example.com", version: "v1", kind: "Widget" }),
      (e: unknown) => e instanceof PatchError && /example\.com\/v1\/Widget/.test(e.message),
    );
  });
});

/** The OpenAPI v3 document of a CRD's group version, as the server publishes it (abridged). */
const widgetDoc: OpenApiDocument = {
  openapi: "3.0.0",
  components: {
    schemas: {
      "com.example.v1.Widget": {
        type: "object",
        "x-kubernetes-group-version-kind": [
          { group: "example.com", version: "v1", kind: "Widget" },
        ],
        properties: {
          apiVersion: { type: "string" },
          metadata: {
            allOf: [
              { $ref: "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" },
            ],
          },
          spec: {
            type: "object",
            properties: {
              ports: {
                type: "array",
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["port", "protocol"],
                items: {
                  type: "object",
                  properties: { port: { type: "integer" }, protocol: { type: "string" } },
                },
              },
              tags: { type: "array", "x-kubernetes-list-type": "set", items: { type: "string" } },
              selector: {
                type: "object",
                "x-kubernetes-map-type": "atomic",
                additionalProperties: { type: "string" },
              },
              args: { type: "array", items: { type: "string" } },
              nested: {
                type: "object",
                properties: {
                  inner: {
                    type: "object",
                    "x-kubernetes-map-type": "atomic",
                    properties: { a: { type: "string" } },
                  },
                },
              },
            },
          },
        },
      },
      "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {
        type: "object",
        properties: {
          finalizers: {
            type: "array",
            items: { type: "string", default: "" },
            "x-kubernetes-list-type": "set",
            "x-kubernetes-patch-strategy": "merge",
          },
          labels: { type: "object", additionalProperties: { type: "string" } },
        },
      },
    },
  },
};

describe("tables from OpenAPI documents (custom resources)", () => {
  test("inline objects become definitions named by their place", () => {
    const table = buildPatchMetaTable(widgetDoc.components!.schemas!);
    assert.equal(table.kinds.get("example.com/v1/Widget"), "com.example.v1.Widget");
    assert.deepEqual(table.definitions.get("com.example.v1.Widget/spec")?.fields.get("ports"), {
      shape: "list",
      listType: "map",
    });
    assert.deepEqual(
      table.definitions.get("com.example.v1.Widget/spec/nested")?.fields.get("inner"),
      { shape: "struct", atomic: true, type: "com.example.v1.Widget/spec/nested/inner" },
    );
    // Plain scalars and atomic lists are left out: they are the defaults.
    assert.equal(table.definitions.get("com.example.v1.Widget/spec")?.fields.has("args"), false);
  });

  test("PatchMeta.fromServer reads the group version's document through discovery.openapi", async () => {
    const asked: string[] = [];
    const discovery = {
      openapi: {
        document: async (path: string) => {
          asked.push(path);
          return widgetDoc;
        },
      },
    } as unknown as Parameters<typeof PatchMeta.fromServer>[0];
    const meta = await PatchMeta.fromServer(discovery, {
      apiVersion: "example.com/v1",
      kind: "Widget",
    });
    assert.deepEqual(asked, ["apis/example.com/v1"]);
    assert.equal(walk(meta, "spec", "ports").atomic, false);
    assert.equal(walk(meta, "spec", "tags").atomic, false);
    assert.equal(walk(meta, "spec", "selector").atomic, true);
    assert.equal(walk(meta, "spec", "nested", "inner").atomic, true);
    assert.equal(walk(meta, "metadata", "finalizers").strategy, "merge");
    await assert.rejects(
      PatchMeta.fromServer(discovery, { apiVersion: "example.com/v1", kind: "Gadget" }),
      (e: unknown) => e instanceof PatchError && /does not define Gadget/.test(e.message),
    );
    await PatchMeta.fromServer(discovery, { apiVersion: "v1", kind: "Widget" }).catch(() => {});
    assert.equal(asked.at(-1), "api/v1");
  });
});
