/**
 * The server-side apply schema: the conversion follows kube-openapi's schemaconv rules and the
 * text form round-trips. The generated table of built-in kinds (ssa-schema.generated.ts) is
 * written by `npm run codegen` and checked by codegen's up-to-date test.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { PatchMeta } from "../apply/patchmeta.ts";
import {
  type Atom,
  buildSchema,
  builtinKind,
  builtinSchema,
  DEDUCED_ROOT,
  DEDUCED_SCHEMA,
  decodeSchema,
  encodeAtom,
  encodeSchema,
  findField,
  OBJECT_META,
  resolve,
  schemaFromCrd,
  schemaFromPatchMeta,
  UNTYPED_DEDUCED,
  zeroObject,
} from "./ssa-schema.ts";

const _GENERATED = fileURLToPath(new URL("./ssa-schema.generated.ts", import.meta.url));

describe("the generated table of built-in kinds", () => {
  test("its text form round-trips", () => {
    const s = builtinSchema();
    const again = decodeSchema(encodeSchema(s).types, encodeSchema(s).kinds);
    assert.deepEqual(encodeSchema(again), encodeSchema(s));
  });

  test("Deployment: keyed lists with key defaults, atomic selector, sets, free maps", () => {
    const { schema, root } = builtinKind("apps/v1", "Deployment")!;
    const at = (...path: string[]): Atom => {
      let a = resolve(schema, root)!;
      for (const p of path) {
        const next = p === "[]" ? a.list!.element : (findField(a.map!, p)?.type ?? a.map!.element);
        a = resolve(schema, next)!;
      }
      return a;
    };
    const containers = at("spec", "template", "spec", "containers").list!;
    assert.deepEqual([containers.relationship, containers.keys], ["associative", ["name"]]);
    const ports = at("spec", "template", "spec", "containers", "[]", "ports").list!;
    assert.deepEqual(ports.keys, ["containerPort", "protocol"]);
    const item = resolve(schema, ports.element)!.map!;
    assert.equal(item.fields.get("protocol")?.default, "TCP");
    assert.equal(at("spec", "selector").map?.relationship, "atomic");
    assert.equal(at("spec", "template", "spec", "tolerations").list?.relationship, "atomic");
    const finalizers = at("metadata", "finalizers").list!;
    assert.deepEqual([finalizers.relationship, finalizers.keys], ["associative", []]);
    const labels = at("metadata", "labels").map!;
    assert.equal(labels.fields.size, 0);
    assert.deepEqual(resolve(schema, labels.element), { scalar: "string" });
    // Quantities are untyped scalars; a RawExtension is atomic whatever it holds.
    assert.deepEqual(
      at("spec", "template", "spec", "containers", "[]", "resources", "limits", "cpu"),
      {
        scalar: "untyped",
      },
    );
    const rev = builtinKind("apps/v1", "ControllerRevision")!;
    const data = resolve(rev.schema, resolve(rev.schema, rev.root)!.map!.fields.get("data")!.type)!;
    assert.equal(data.map?.relationship, "atomic");
    // conditions: keyed by type, with no patch merge key in the schema.
    const conditions = at("status", "conditions").list!;
    assert.deepEqual(conditions.keys, ["type"]);
  });

  test("zero objects: non-pointer structs are present and empty, required pointers null", () => {
    const d = builtinKind("apps/v1", "Deployment")!;
    const zero = zeroObject(d.schema, d.root, "apps/v1", "Deployment", true);
    assert.deepEqual(zero, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: {},
      spec: {
        selector: null,
        strategy: {},
        template: { metadata: {}, spec: { containers: null } },
      },
      status: {},
    });
    const c = builtinKind("v1", "ConfigMap")!;
    assert.deepEqual(zeroObject(c.schema, c.root, "v1", "ConfigMap", true), {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {},
    });
  });
});

describe("conversion from OpenAPI (schemaconv)", () => {
  const schema = buildSchema({
    T: {
      type: "object",
      properties: {
        keyed: {
          type: "array",
          items: { type: "object", properties: { k: { type: "string" } } },
          "x-kubernetes-list-type": "map",
          "x-kubernetes-list-map-keys": ["k"],
        },
        merged: {
          type: "array",
          items: { type: "string" },
          "x-kubernetes-patch-strategy": "merge",
        },
        byMergeKey: {
          type: "array",
          items: { type: "object" },
          "x-kubernetes-patch-strategy": "merge,retainKeys",
          "x-kubernetes-patch-merge-key": "name",
        },
        plain: { type: "array", items: { type: "string" } },
        free: { type: "object", additionalProperties: { type: "integer" } },
        anything: { type: "object", additionalProperties: true },
        closed: { type: "object", properties: { a: { type: "string" } } },
        open: {
          type: "object",
          "x-kubernetes-preserve-unknown-fields": true,
          properties: { inner: { type: "object", properties: { b: { type: "boolean" } } } },
        },
        empty: { type: "object" },
        intOrString: { "x-kubernetes-int-or-string": true },
        atomicRef: { $ref: "#/components/schemas/U", "x-kubernetes-map-type": "atomic" },
        time: { type: "string", format: "date-time" },
      },
    },
    U: { type: "object", properties: { x: { type: "string" } } },
    Ref: { $ref: "#/components/schemas/U" },
  });
  const t = resolve(schema, { named: "T" })!.map!;
  const field = (n: string) => resolve(schema, t.fields.get(n)!.type)!;

  test("list types, with patch strategies as the fallback", () => {
    assert.deepEqual(encodeAtom(field("keyed")), "[m(k):{k:s}]");
    assert.deepEqual(encodeAtom(field("merged")), "[s:s]");
    assert.deepEqual(encodeAtom(field("byMergeKey")), `[m(name):{*:@${UNTYPED_DEDUCED}}]`);
    assert.deepEqual(encodeAtom(field("plain")), "[a:s]");
  });

  test("maps: additional properties, preserved unknown fields (inherited), closed structs", () => {
    assert.equal(encodeAtom(field("free")), "{*:n}");
    assert.equal(encodeAtom(field("anything")), `{*:@${UNTYPED_DEDUCED}}`);
    assert.equal(encodeAtom(field("closed")), "{a:s}");
    assert.equal(
      encodeAtom(field("open")),
      `{inner:{b:b,*:@${UNTYPED_DEDUCED}},*:@${UNTYPED_DEDUCED}}`,
    );
    assert.equal(encodeAtom(field("empty")), `{*:@${UNTYPED_DEDUCED}}`);
    assert.equal(
      encodeAtom(field("intOrString")),
      `(u|[a:@__untyped_atomic_]|{*:@${UNTYPED_DEDUCED}})`,
    );
    assert.equal(encodeAtom(field("time")), "u");
    assert.equal(resolve(schema, t.fields.get("atomicRef")!.type)!.map!.relationship, "atomic");
    assert.equal(schema.types.has("Ref"), false);
  });

  test("a custom resource: metadata is ObjectMeta; lists without a list type are atomic", () => {
    const { schema: s, root } = schemaFromCrd(
      {
        type: "object",
        properties: {
          spec: {
            type: "object",
            properties: { items: { type: "array", items: { type: "string" } } },
          },
        },
      },
      "example.com/v1",
      "Widget",
    );
    const r = resolve(s, root)!.map!;
    assert.deepEqual(r.fields.get("metadata")!.type, { named: OBJECT_META });
    assert.ok(resolve(s, r.fields.get("metadata")!.type)!.map!.fields.has("finalizers"));
    assert.equal(encodeAtom(resolve(s, r.fields.get("spec")!.type)!), "{items:[a:s]}");
  });

  test("a PatchMeta stands in: unknown fields are declared, patch table lists keep their keys", () => {
    const { schema: s, root } = schemaFromPatchMeta(
      PatchMeta.builtin({ apiVersion: "v1", kind: "Pod" })!,
    );
    const pod = resolve(s, root)!.map!;
    const spec = resolve(s, findField(pod, "spec")!.type)!.map!;
    assert.deepEqual(resolve(s, findField(spec, "containers")!.type)!.list!.keys, ["name"]);
    assert.ok(findField(spec, "nodeName"));
    const deduced = resolve(DEDUCED_SCHEMA, DEDUCED_ROOT)!.map!;
    assert.equal(findField(deduced, "spec"), undefined);
  });
});
