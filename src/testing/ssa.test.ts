/**
 * Server-side apply and field management (ssa.ts and the fieldmanager modules), pure: the expected
 * values are kube-apiserver's, as test/integration/ssa-oracle.test.ts checks against the real one.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PatchMeta } from "../apply/patchmeta.ts";
import { ApiError } from "../core/errors.ts";
import type { KubernetesObject } from "../core/meta.ts";
import {
  comparePathElements,
  FieldSet,
  fieldElement,
  goJson,
  keyElement,
  type PathElement,
  pathString,
} from "./fieldmanager-fieldpath.ts";
import { merge, reconcileFieldSetWithSchema, toFieldSet } from "./fieldmanager-typed.ts";
import { type ApplyInput, recordUpdate, serverSideApply, type UpdateInput } from "./ssa.ts";
import { builtinKind, DEDUCED_ROOT, DEDUCED_SCHEMA, schemaFromCrd } from "./ssa-schema.ts";

type Obj = Record<string, unknown>;

const T0 = "2026-01-01T00:00:00Z";
const T1 = "2026-01-01T00:00:01Z";
const T2 = "2026-01-01T00:00:02Z";

const f = (name: string): PathElement => fieldElement(name);

function apply(
  live: Obj | undefined,
  applied: Obj,
  manager: string,
  extra: Partial<ApplyInput> = {},
): Obj {
  return serverSideApply({
    live: live as KubernetesObject | undefined,
    applied: applied as KubernetesObject,
    manager,
    now: T0,
    force: false,
    ...extra,
  }) as unknown as Obj;
}

function update(
  live: Obj | undefined,
  updated: Obj,
  manager: string,
  extra: Partial<UpdateInput> = {},
): Obj {
  return recordUpdate({
    live: live as KubernetesObject | undefined,
    updated: updated as KubernetesObject,
    manager,
    now: T0,
    ...extra,
  }) as unknown as Obj;
}

function refused(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  return assert.fail("expected an ApiError");
}

const meta = (o: Obj) => (o.metadata ?? {}) as Obj;
const entries = (o: Obj) => (meta(o).managedFields ?? []) as Obj[];
const fieldsOf = (o: Obj, manager: string, operation = "Apply") =>
  entries(o).find((e) => e.manager === manager && e.operation === operation)?.fieldsV1;
/** The object as stored: a uid marks it as existing. */
const stored = (o: Obj): Obj => ({
  ...o,
  metadata: { ...meta(o), uid: "u-1", resourceVersion: "1" },
});

const cm = (data?: Obj, m: Obj = {}): Obj => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "c", ...m },
  ...(data ? { data } : {}),
});

const labels = { app: "web" };
const deployment = (spec: Obj = {}): Obj => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "ns" },
  spec: {
    replicas: 1,
    selector: { matchLabels: labels },
    template: { metadata: { labels }, spec: { containers: [{ name: "web", image: "nginx" }] } },
    ...spec,
  },
});
const deploymentPart = (spec: Obj): Obj => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web" },
  spec,
});
const containers = (...list: Obj[]): Obj => ({ template: { spec: { containers: list } } });

describe("FieldsV1 and field sets", () => {
  test("serialised as the server does: members and children merged in element order, '.' first", () => {
    const s = FieldSet.of(
      [f("spec"), f("replicas")],
      [f("metadata"), f("labels")],
      [f("metadata"), f("labels"), f("app")],
      [f("spec"), f("containers"), keyElement([["name", "web"]])],
      [f("spec"), f("containers"), keyElement([["name", "web"]]), f("image")],
      [f("spec"), f("finalizers"), { t: "v", value: "a<b>&c" }],
      [f("spec"), f("list"), { t: "i", index: 2 }],
    );
    assert.equal(
      JSON.stringify(s.toFieldsV1()),
      JSON.stringify({
        "f:metadata": { "f:labels": { ".": {}, "f:app": {} } },
        "f:spec": {
          "f:containers": { 'k:{"name":"web"}': { ".": {}, "f:image": {} } },
          "f:finalizers": { 'v:"a\\u003cb\\u003e\\u0026c"': {} },
          "f:list": { "i:2": {} },
          "f:replicas": {},
        },
      }),
    );
    assert.ok(FieldSet.fromFieldsV1(s.toFieldsV1()).equals(s));
  });

  test("parsing: '{}' is a member, children without '.' are not, unknown element types are skipped", () => {
    const s = FieldSet.fromFieldsV1({
      "f:a": {},
      "f:b": { "f:c": {} },
      "f:d": { ".": {}, "f:e": {} },
      "x:unknown": {},
      'k:{"port":80,"protocol":"TCP"}': { ".": {} },
    });
    assert.ok(s.has([f("a")]));
    assert.ok(!s.has([f("b")]));
    assert.ok(s.has([f("b"), f("c")]));
    assert.ok(s.has([f("d")]) && s.has([f("d"), f("e")]));
    assert.ok(
      s.has([
        keyElement([
          ["protocol", "TCP"],
          ["port", 80],
        ]),
      ]),
    );
    assert.throws(() => FieldSet.fromFieldsV1({ "f:a": { "i:x": {} } }));
  });

  test("element order: fields, keys, values, indexes; numbers before strings; byte order", () => {
    const order: PathElement[] = [
      f("a"),
      f("b"),
      keyElement([["k", 1]]),
      keyElement([["k", "1"]]),
      { t: "v", value: 2 },
      { t: "v", value: "x" },
      { t: "v", value: true },
      { t: "i", index: 0 },
    ];
    for (let i = 1; i < order.length; i++)
      assert.equal(comparePathElements(order[i - 1]!, order[i]!), -1);
    assert.equal(comparePathElements(f("\u{ffff}"), f("\u{10000}")), -1);
  });

  test("paths as conflict messages print them", () => {
    assert.equal(
      pathString([
        f("spec"),
        f("ports"),
        keyElement([
          ["protocol", "TCP"],
          ["port", 80],
        ]),
        f("name"),
      ]),
      '.spec.ports[port=80,protocol="TCP"].name',
    );
    assert.equal(
      pathString([f("x"), { t: "v", value: 1.5e-7 }, { t: "i", index: 3 }]),
      ".x[=1.5e-07][3]",
    );
  });

  test("difference removes members only; recursive difference removes below them too", () => {
    const s = FieldSet.of([f("a")], [f("a"), f("b")], [f("c")]);
    const minus = FieldSet.of([f("a")]);
    assert.deepEqual(s.difference(minus).paths().map(pathString), [".c", ".a.b"]);
    assert.deepEqual(s.recursiveDifference(minus).paths().map(pathString), [".c"]);
    assert.deepEqual(
      s
        .intersection(FieldSet.of([f("a"), f("b")]))
        .paths()
        .map(pathString),
      [".a.b"],
    );
  });

  test("Go's JSON: sorted keys, HTML escaped", () => {
    assert.equal(goJson({ b: [1, "<"], a: null }), '{"a":null,"b":[1,"\\u003c"]}');
  });
});

describe("apply", () => {
  test("creates: the applied fields, nothing else; the namespace from the URL", () => {
    const out = apply(undefined, cm({ k: "v" }, { labels: { x: "1" } }), "m", { namespace: "ns" });
    assert.deepEqual(out, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: "c",
        labels: { x: "1" },
        namespace: "ns",
        managedFields: [
          {
            manager: "m",
            operation: "Apply",
            apiVersion: "v1",
            time: T0,
            fieldsType: "FieldsV1",
            fieldsV1: { "f:data": { "f:k": {} }, "f:metadata": { "f:labels": { "f:x": {} } } },
          },
        ],
      },
      data: { k: "v" },
    });
  });

  test("the same apply again changes nothing, not even the manager's time", () => {
    const first = stored(apply(undefined, cm({ k: "v" }), "m"));
    const again = apply(first, cm({ k: "v" }), "m", { now: T1 });
    assert.deepEqual(again, first);
  });

  test("a field left out goes, unless another manager owns it too", () => {
    let o = stored(apply(undefined, cm({ own: "a" }, { labels: { shared: "x", mine: "1" } }), "a"));
    o = apply(o, cm(undefined, { labels: { shared: "x" } }), "b");
    assert.deepEqual(fieldsOf(o, "b"), { "f:metadata": { "f:labels": { "f:shared": {} } } });
    o = apply(o, cm({ own: "a" }), "a");
    assert.deepEqual(meta(o).labels, { shared: "x" });
    assert.deepEqual(fieldsOf(o, "a"), { "f:data": { "f:own": {} } });
    o = apply(o, cm(), "b");
    assert.equal(meta(o).labels, undefined);
    assert.deepEqual(
      entries(o).map((e) => e.manager),
      ["a"],
    );
  });

  test("a conflict is the server's 409: one cause per field, managers named as the server does", () => {
    let o = stored(apply(undefined, cm({ k: "1", j: "1" }), "a"));
    o = stored(update(o, { ...o, data: { k: "1", j: "1", u: "1" } }, "editor"));
    const one = refused(() => apply(o, cm({ k: "2" }), "b"));
    assert.deepEqual(one.status, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'Apply failed with 1 conflict: conflict with "a": .data.k',
      reason: "Conflict",
      details: {
        causes: [
          { reason: "FieldManagerConflict", message: 'conflict with "a"', field: ".data.k" },
        ],
      },
      code: 409,
    });
    const two = refused(() => apply(o, cm({ k: "2", j: "2", u: "2" }), "b"));
    assert.equal(
      two.status.message,
      'Apply failed with 3 conflicts: conflicts with "a":\n- .data.j\n- .data.k\nconflicts with "editor" using v1:\n- .data.u',
    );
    assert.deepEqual(
      two.causes.map((c) => c.message),
      ['conflict with "a"', 'conflict with "a"', 'conflict with "editor" using v1'],
    );
  });

  test("force takes the fields: the old owner keeps the rest", () => {
    let o = stored(apply(undefined, cm({ k: "1", j: "1" }), "a"));
    o = apply(o, cm({ k: "2" }), "b", { force: true });
    assert.deepEqual((o as { data: Obj }).data, { k: "2", j: "1" });
    assert.deepEqual(fieldsOf(o, "a"), { "f:data": { "f:j": {} } });
    assert.deepEqual(fieldsOf(o, "b"), { "f:data": { "f:k": {} } });
  });

  test("after an Update by another manager: the same value is shared, another is a conflict", () => {
    const created = stored(update(undefined, cm({ k: "1", j: "1" }), "creator"));
    const shared = apply(created, cm({ k: "1" }), "a");
    assert.deepEqual(fieldsOf(shared, "creator", "Update"), {
      "f:data": { ".": {}, "f:j": {}, "f:k": {} },
    });
    assert.deepEqual(fieldsOf(shared, "a"), { "f:data": { "f:k": {} } });
    const e = refused(() => apply(stored(shared), cm({ j: "2" }), "a"));
    assert.equal(
      e.status.message,
      'Apply failed with 1 conflict: conflict with "creator" using v1: .data.j',
    );
  });

  test("an Update takes what it changes from the applier, and removal ends ownership", () => {
    let o = stored(apply(undefined, cm({ k: "1", j: "1" }), "a"));
    o = stored(update(o, { ...o, data: { k: "2", j: "1" } }, "editor"));
    assert.deepEqual(fieldsOf(o, "a"), { "f:data": { "f:j": {} } });
    assert.deepEqual(fieldsOf(o, "editor", "Update"), { "f:data": { "f:k": {} } });
    o = update(o, { ...o, data: { k: "2" } }, "remover");
    assert.equal(fieldsOf(o, "a"), undefined);
    assert.equal(fieldsOf(o, "remover", "Update"), undefined);
  });

  test("an empty map is owned as a value; a later apply of {} changes nothing below it", () => {
    const o = apply(undefined, cm({}, { labels: {} }), "a");
    assert.deepEqual(fieldsOf(o, "a"), { "f:data": {}, "f:metadata": { "f:labels": {} } });
  });

  test("keyed lists: containers by name, ports by containerPort and protocol (defaulted)", () => {
    const o = apply(
      undefined,
      deployment(
        containers({
          name: "web",
          image: "nginx",
          ports: [{ containerPort: 80 }],
          env: [{ name: "A", value: "1" }],
        }),
      ),
      "a",
    );
    assert.deepEqual(fieldsOf(o, "a"), {
      "f:spec": {
        "f:replicas": {},
        "f:selector": {},
        "f:template": {
          "f:spec": {
            "f:containers": {
              'k:{"name":"web"}': {
                ".": {},
                "f:env": { 'k:{"name":"A"}': { ".": {}, "f:name": {}, "f:value": {} } },
                "f:image": {},
                "f:name": {},
                "f:ports": {
                  'k:{"containerPort":80,"protocol":"TCP"}': { ".": {}, "f:containerPort": {} },
                },
              },
            },
          },
        },
      },
    });
  });

  test("keyed lists merge item by item; a removed item goes with the fields only its applier owned", () => {
    let o = stored(apply(undefined, deployment(), "a"));
    o = stored(
      apply(
        o,
        deploymentPart(
          containers(
            { name: "web", env: [{ name: "B", value: "1" }] },
            { name: "side", image: "busybox" },
          ),
        ),
        "b",
      ),
    );
    o = apply(o, deployment(containers({ name: "web", image: "nginx:2" })), "a");
    const spec = (o as { spec: { template: { spec: { containers: Obj[] } } } }).spec.template.spec;
    assert.deepEqual(spec.containers, [
      { name: "web", image: "nginx:2", env: [{ name: "B", value: "1" }] },
      { name: "side", image: "busybox" },
    ]);
    o = apply(
      stored(o),
      deploymentPart(containers({ name: "web", env: [{ name: "B", value: "1" }] })),
      "b",
    );
    const after = (o as { spec: { template: { spec: { containers: Obj[] } } } }).spec.template.spec;
    assert.deepEqual(after.containers, [
      { name: "web", image: "nginx:2", env: [{ name: "B", value: "1" }] },
    ]);
  });

  test("list order: live items stay in place until the next shared item; new items follow the configuration", () => {
    const { schema, root } = builtinKind("apps/v1", "Deployment")!;
    const list = (...names: string[]) => ({
      spec: { template: { spec: { containers: names.map((name) => ({ name })) } } },
    });
    const merged = merge(
      { schema, root },
      list("one", "two", "three", "four"),
      list("zero", "three", "one"),
    );
    assert.deepEqual(
      (
        merged as { spec: { template: { spec: { containers: Obj[] } } } }
      ).spec.template.spec.containers.map((c) => c.name),
      ["two", "zero", "three", "four", "one"],
    );
  });

  test("sets: finalizers by value", () => {
    let o = stored(apply(undefined, cm(undefined, { finalizers: ["x/a", "x/shared"] }), "a"));
    o = stored(apply(o, cm(undefined, { finalizers: ["x/shared", "x/b"] }), "b"));
    assert.deepEqual(meta(o).finalizers, ["x/a", "x/shared", "x/b"]);
    o = apply(o, cm(undefined, { finalizers: ["x/a"] }), "a");
    assert.deepEqual(meta(o).finalizers, ["x/a", "x/shared", "x/b"]);
    assert.deepEqual(fieldsOf(o, "a"), { "f:metadata": { "f:finalizers": { 'v:"x/a"': {} } } });
  });

  test("atomic lists and atomic structs are one field: equal is shared, different conflicts", () => {
    let o = stored(
      apply(undefined, deployment(containers({ name: "web", image: "nginx", args: ["-a"] })), "a"),
    );
    o = stored(apply(o, deploymentPart(containers({ name: "web", args: ["-a"] })), "b"));
    const web = (fieldsOf(o, "b") as Obj)["f:spec"] as Obj;
    assert.deepEqual(web, {
      "f:template": {
        "f:spec": {
          "f:containers": { 'k:{"name":"web"}': { ".": {}, "f:args": {}, "f:name": {} } },
        },
      },
    });
    const e = refused(() =>
      apply(o, deploymentPart({ selector: { matchLabels: { app: "web", x: "1" } } }), "b"),
    );
    assert.equal(e.causes[0]?.field, ".spec.selector");
  });

  test("status: not tracked on the main resource; /status tracks only status (a Deployment's labels neither)", () => {
    let o = stored(apply(undefined, { ...deployment(), status: { replicas: 3 } }, "a"));
    assert.equal((fieldsOf(o, "a") as Obj)["f:status"] as Obj | undefined, undefined);
    o = update(
      o,
      { ...o, metadata: { ...meta(o), labels: { s: "1" } }, status: { collisionCount: 1 } },
      "ctrl",
      { subresource: "status" },
    );
    assert.deepEqual(
      entries(o).find((e) => e.manager === "ctrl"),
      {
        manager: "ctrl",
        operation: "Update",
        apiVersion: "apps/v1",
        time: T0,
        fieldsType: "FieldsV1",
        fieldsV1: { "f:status": { "f:collisionCount": {} } },
        subresource: "status",
      },
    );
  });

  test("refusals: another kind or version, managedFields, unknown fields, duplicates, names", () => {
    const live = stored(apply(undefined, cm({ k: "1" }), "a", { namespace: "ns" }));
    const status = (e: ApiError) => [e.status.code, e.status.reason, e.status.message];
    assert.deepEqual(status(refused(() => apply(live, { ...cm(), kind: "Secret" }, "a"))), [
      400,
      "BadRequest",
      "invalid object type: /v1, Kind=Secret",
    ]);
    assert.deepEqual(
      status(refused(() => apply(live, { kind: "ConfigMap", metadata: { name: "c" } }, "a"))),
      [400, "BadRequest", "invalid object type: /, Kind=ConfigMap"],
    );
    assert.deepEqual(status(refused(() => apply(live, cm({}, { managedFields: [] }), "a"))), [
      400,
      "BadRequest",
      "metadata.managedFields must be nil",
    ]);
    assert.deepEqual(status(refused(() => apply(live, { ...cm(), foo: 1 }, "a"))), [
      500,
      undefined,
      "failed to create typed patch object (/c; /v1, Kind=ConfigMap): .foo: field not declared in schema",
    ]);
    const dup = refused(() =>
      apply(
        undefined,
        deployment(containers({ name: "a", image: "x" }, { name: "a", image: "y" })),
        "a",
      ),
    );
    assert.equal(
      dup.status.message,
      'failed to create typed patch object (ns/web; apps/v1, Kind=Deployment): .spec.template.spec.containers: duplicate entries for key [name="a"]',
    );
    assert.deepEqual(status(refused(() => apply(live, cm({}, { name: "d" }), "a"))), [
      400,
      "BadRequest",
      "the name of the object (d) does not match the name on the URL (c)",
    ]);
    assert.deepEqual(
      status(
        refused(() =>
          apply(undefined, { apiVersion: "v1", kind: "ConfigMap" }, "a", { name: "c" }),
        ),
      ),
      [
        400,
        "BadRequest",
        "the name of the object (c based on URL) was undeterminable: name must be provided",
      ],
    );
    assert.deepEqual(status(refused(() => apply(live, cm({}, { namespace: "other" }), "a"))), [
      400,
      "BadRequest",
      "the namespace of the provided object does not match the namespace sent on the request",
    ]);
  });

  test("the field manager: required, at most 128 bytes, printable (a 422 on PatchOptions)", () => {
    const required = refused(() => apply(undefined, cm(), ""));
    assert.deepEqual(required.status, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message:
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
      reason: "Invalid",
      details: {
        group: "meta.k8s.io",
        kind: "PatchOptions",
        causes: [
          {
            reason: "FieldValueRequired",
            message: "Required value: is required for apply patch",
            field: "fieldManager",
          },
        ],
      },
      code: 422,
    });
    assert.equal(
      refused(() => apply(undefined, cm(), "m".repeat(129))).status.message,
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes',
    );
    assert.equal(
      refused(() => apply(undefined, cm(), "a\u0001b")).status.message,
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value: "a\\x01b": invalid character U+0001 (at position 1)',
    );
  });

  test("a custom resource with a status subresource: status is /status's alone", () => {
    const schema = {
      type: "object",
      properties: {
        spec: { type: "object", properties: { size: { type: "string" } } },
        status: { type: "object", properties: { phase: { type: "string" } } },
      },
    };
    const w = (body: Obj): Obj => ({
      apiVersion: "x.io/v1",
      kind: "W",
      metadata: { name: "w" },
      ...body,
    });
    const ctx = { openAPIV3Schema: schema, statusSubresource: true };
    const o = stored(
      apply(undefined, w({ spec: { size: "s" }, status: { phase: "x" } }), "a", ctx),
    );
    assert.deepEqual(fieldsOf(o, "a"), { "f:spec": { "f:size": {} } });
    const st = apply(
      o,
      w({ metadata: { name: "w", labels: { l: "1" } }, status: { phase: "Ready" } }),
      "ctrl",
      {
        ...ctx,
        subresource: "status",
      },
    );
    assert.deepEqual(
      entries(st).find((e) => e.manager === "ctrl"),
      {
        apiVersion: "x.io/v1",
        fieldsType: "FieldsV1",
        fieldsV1: { "f:status": { "f:phase": {} } },
        manager: "ctrl",
        operation: "Apply",
        subresource: "status",
        time: T0,
      },
    );
  });

  test("a cluster-scoped kind loses a namespace the configuration names; inputs stay as they were", () => {
    const ns = stored(
      apply(undefined, { apiVersion: "v1", kind: "Namespace", metadata: { name: "n" } }, "a", {
        namespace: "",
      }),
    );
    const config = {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "n", namespace: "x", labels: { a: "1" } },
    };
    const before = structuredClone(ns);
    const o = apply(ns, config, "a");
    assert.equal(meta(o).namespace, undefined);
    assert.deepEqual(ns, before);
    assert.equal(config.metadata.namespace, "x");
  });

  test('an Update without a manager name is recorded as "unknown"', () => {
    const o = update(undefined, cm({ k: "1" }), "");
    assert.deepEqual(
      entries(o).map((e) => e.manager),
      ["unknown"],
    );
  });

  test("the first apply to an unmanaged object gives what is there to before-first-apply", () => {
    const unmanaged = stored(cm({ k: "1", j: "1" }));
    const o = apply(unmanaged, cm({ k: "1", n: "3" }), "a", { now: T1 });
    assert.deepEqual(
      entries(o).map((e) => [e.manager, e.operation, e.time, e.fieldsV1]),
      [
        ["a", "Apply", T1, { "f:data": { "f:k": {}, "f:n": {} } }],
        ["before-first-apply", "Update", T1, { "f:data": { ".": {}, "f:j": {}, "f:k": {} } }],
      ],
    );
  });

  test("an apply that changes nothing records its fields but no time (and sorts first)", () => {
    const live = stored(apply(undefined, cm({ k: "1" }), "a", { now: T1 }));
    const o = apply(live, cm({ k: "1" }), "b", { now: T2 });
    assert.deepEqual(
      entries(o).map((e) => [e.manager, e.time]),
      [
        ["b", undefined],
        ["a", T1],
      ],
    );
  });

  test("kubectl: conflicts with what its client-side apply set are taken over; the annotation follows", () => {
    const lastApplied =
      '{"apiVersion":"v1","data":{"k":"1"},"kind":"ConfigMap","metadata":{"annotations":{},"name":"c"}}\n';
    const created = stored(
      update(
        undefined,
        cm(
          { k: "1" },
          { annotations: { "kubectl.kubernetes.io/last-applied-configuration": lastApplied } },
        ),
        "kubectl-client-side-apply",
      ),
    );
    const o = apply(created, cm({ k: "2" }), "kubectl");
    assert.deepEqual((o as { data: Obj }).data, { k: "2" });
    assert.equal(
      (meta(o).annotations as Obj)["kubectl.kubernetes.io/last-applied-configuration"],
      '{"apiVersion":"v1","data":{"k":"2"},"kind":"ConfigMap","metadata":{"name":"c"}}\n',
    );
    // Another manager gets no such pass.
    assert.equal(refused(() => apply(created, cm({ k: "2" }), "other")).statusCode, 409);
  });

  test("a custom resource: its schema's lists are atomic unless typed; entries' keys sorted", () => {
    const schema = {
      type: "object",
      properties: {
        spec: {
          type: "object",
          properties: {
            tags: { type: "array", items: { type: "string" } },
            ports: {
              type: "array",
              "x-kubernetes-list-type": "map",
              "x-kubernetes-list-map-keys": ["name"],
              items: {
                type: "object",
                properties: { name: { type: "string" }, port: { type: "integer" } },
              },
            },
          },
        },
      },
    };
    const w = (spec: Obj): Obj => ({
      apiVersion: "x.io/v1",
      kind: "W",
      metadata: { name: "w" },
      spec,
    });
    const o = apply(undefined, w({ tags: ["a"], ports: [{ name: "p", port: 1 }] }), "a", {
      openAPIV3Schema: schema,
    });
    assert.equal(
      JSON.stringify(entries(o)[0]),
      JSON.stringify({
        apiVersion: "x.io/v1",
        fieldsType: "FieldsV1",
        fieldsV1: {
          "f:spec": {
            "f:ports": { 'k:{"name":"p"}': { ".": {}, "f:name": {}, "f:port": {} } },
            "f:tags": {},
          },
        },
        manager: "a",
        operation: "Apply",
        time: T0,
      }),
    );
    // A keyed item pruned while another manager owns a field of it leaves its list empty: null
    // for a custom resource (the server's validation decides), dropped for a built-in kind.
    const patched = stored(
      update(
        stored(o),
        { ...o, spec: { ...(o.spec as Obj), ports: [{ name: "p", port: 2 }] } },
        "editor",
        {
          openAPIV3Schema: schema,
        },
      ),
    );
    const later = apply(patched, w({ tags: ["a"] }), "a", { openAPIV3Schema: schema });
    assert.equal((later.spec as Obj).ports, null);
  });

  test("a kind with no schema at all is deduced: every key is a map key, lists are atomic", () => {
    const o = apply(
      undefined,
      {
        apiVersion: "x.io/v1",
        kind: "Thing",
        metadata: { name: "t" },
        spec: { a: { b: 1 }, l: [1] },
      },
      "a",
    );
    assert.deepEqual(fieldsOf(o, "a"), {
      "f:spec": { ".": {}, "f:a": { ".": {}, "f:b": {} }, "f:l": {} },
    });
  });

  test("a PatchMeta stands in for a custom resource's schema", () => {
    const meta0 = PatchMeta.builtin({ apiVersion: "v1", kind: "Pod" })!;
    const o = apply(
      undefined,
      {
        apiVersion: "x.io/v1",
        kind: "Pod2",
        metadata: { name: "p" },
        spec: { containers: [{ name: "c", image: "i" }] },
      },
      "a",
      { patchMeta: meta0 },
    );
    assert.deepEqual(fieldsOf(o, "a"), {
      "f:spec": { "f:containers": { 'k:{"name":"c"}': { ".": {}, "f:image": {}, "f:name": {} } } },
    });
  });

  test("/scale: an apply of a Scale owns the parent's replicas", () => {
    const d = stored(apply(undefined, deployment({ replicas: 2 }), "a"));
    const o = apply(
      d,
      {
        apiVersion: "autoscaling/v1",
        kind: "Scale",
        metadata: { name: "web" },
        spec: { replicas: 4 },
      },
      "hpa",
      { subresource: "scale", force: true },
    );
    assert.equal((o.spec as Obj).replicas, 4);
    assert.deepEqual(
      entries(o).map((e) => [e.manager, e.operation, e.subresource, JSON.stringify(e.fieldsV1)]),
      [
        // The parent had no time for the Scale's new manager: no time, so it sorts first.
        ["hpa", "Apply", "scale", JSON.stringify({ "f:spec": { "f:replicas": {} } })],
        [
          "a",
          "Apply",
          undefined,
          JSON.stringify({
            "f:spec": {
              "f:selector": {},
              "f:template": (fieldsOf(d, "a") as { "f:spec": Obj })["f:spec"]["f:template"],
            },
          }),
        ],
      ],
    );
  });
});

describe("updates (create, update, patches)", () => {
  test("a create owns what differs from the kind's empty object: no '.' for non-pointer structs", () => {
    const o = update(
      undefined,
      {
        ...deployment(),
        spec: {
          ...(deployment().spec as Obj),
          strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1 } },
        },
        status: {},
      },
      "kubectl-create",
    );
    assert.deepEqual(fieldsOf(o, "kubectl-create", "Update"), {
      "f:spec": {
        "f:replicas": {},
        "f:selector": {},
        "f:strategy": { "f:rollingUpdate": { ".": {}, "f:maxSurge": {} }, "f:type": {} },
        "f:template": {
          "f:metadata": { "f:labels": { ".": {}, "f:app": {} } },
          "f:spec": {
            "f:containers": { 'k:{"name":"web"}': { ".": {}, "f:image": {}, "f:name": {} } },
          },
        },
      },
    });
  });

  test("the request's managedFields: used when valid and non-empty, [] resets, subresources ignore them", () => {
    const live = stored(apply(undefined, cm({ k: "1" }), "a"));
    const bogus = [
      {
        manager: "x",
        operation: "Update",
        apiVersion: "v1",
        fieldsType: "FieldsV1",
        fieldsV1: { "f:data": { "f:k": {} } },
      },
    ];
    const replaced = update(
      live,
      { ...live, metadata: { ...meta(live), managedFields: bogus } },
      "u",
    );
    assert.deepEqual(
      entries(replaced).map((e) => e.manager),
      ["x"],
    );
    const reset = update(live, { ...live, metadata: { ...meta(live), managedFields: [] } }, "u");
    assert.equal(meta(reset).managedFields, undefined);
    const invalid = update(
      live,
      { ...live, metadata: { ...meta(live), managedFields: [{ manager: "x" }] } },
      "u",
    );
    assert.deepEqual(
      entries(invalid).map((e) => e.manager),
      ["a"],
    );
    const sub = update(live, { ...live, metadata: { ...meta(live), managedFields: [] } }, "u", {
      subresource: "status",
    });
    assert.deepEqual(
      entries(sub).map((e) => e.manager),
      ["a"],
    );
  });

  test("an existing object nobody manages stays unmanaged through updates", () => {
    const unmanaged = stored(cm({ k: "1" }));
    const o = update(unmanaged, { ...unmanaged, data: { k: "2" } }, "u");
    assert.equal(meta(o).managedFields, undefined);
  });

  test("entries sort by operation, time, manager; beyond ten Update managers the oldest fold", () => {
    let o = stored(apply(undefined, cm({ base: "1" }), "applier", { now: T2 }));
    for (let i = 0; i < 12; i++) {
      const data = { ...(o.data as Obj), [`k${i}`]: "1" };
      o = stored(
        update(o, { ...o, data }, `u${String(i).padStart(2, "0")}`, { now: i < 6 ? T0 : T1 }),
      );
    }
    assert.deepEqual(
      entries(o).map((e) => [e.manager, e.time]),
      [
        ["applier", T2],
        ["ancient-changes", T0],
        ["u03", T0],
        ["u04", T0],
        ["u05", T0],
        ["u06", T1],
        ["u07", T1],
        ["u08", T1],
        ["u09", T1],
        ["u10", T1],
        ["u11", T1],
      ],
    );
    assert.deepEqual(fieldsOf(o, "ancient-changes", "Update"), {
      "f:data": { "f:k0": {}, "f:k1": {}, "f:k2": {} },
    });
  });

  test("a write that changes nothing keeps every manager's time", () => {
    const live = stored(apply(undefined, cm({ k: "1" }), "a"));
    const o = update(live, live, "u", { now: T1 });
    assert.deepEqual(entries(o), entries(live));
  });

  test("/scale: the scaler takes the replicas; the entry has no time (the parent had none for it)", () => {
    const d = stored(apply(undefined, deployment({ replicas: 2 }), "a"));
    const o = update(d, { ...d, spec: { ...(d.spec as Obj), replicas: 3 } }, "scaler", {
      subresource: "scale",
      now: T1,
    });
    assert.deepEqual(
      entries(o).find((e) => e.manager === "scaler"),
      {
        manager: "scaler",
        operation: "Update",
        apiVersion: "apps/v1",
        fieldsType: "FieldsV1",
        fieldsV1: { "f:spec": { "f:replicas": {} } },
        subresource: "scale",
      },
    );
    assert.ok(!JSON.stringify(fieldsOf(o, "a")).includes("f:replicas"));
  });
});

describe("schema reconciliation", () => {
  test("a set recorded under a value the schema now makes atomic owns the value itself", () => {
    const typed = builtinKind("apps/v1", "Deployment")!;
    const set = FieldSet.of(
      [f("spec"), f("selector"), f("matchLabels"), f("app")],
      [f("spec"), f("replicas")],
    );
    const r = reconcileFieldSetWithSchema(set, typed)!;
    assert.deepEqual(r.paths().map(pathString), [".spec.replicas", ".spec.selector"]);
    assert.equal(
      reconcileFieldSetWithSchema(FieldSet.of([f("spec"), f("replicas")]), typed),
      undefined,
    );
  });

  test("toFieldSet: struct fields are not members, map keys and list items are", () => {
    const crd = schemaFromCrd(
      {
        type: "object",
        properties: {
          spec: {
            type: "object",
            additionalProperties: { type: "object", properties: { a: { type: "string" } } },
          },
        },
      },
      "x.io/v1",
      "W",
    );
    assert.deepEqual(toFieldSet(crd, { spec: { k: { a: "1" } } }).toFieldsV1(), {
      "f:spec": { "f:k": { ".": {}, "f:a": {} } },
    });
    assert.deepEqual(
      toFieldSet(
        { schema: DEDUCED_SCHEMA, root: DEDUCED_ROOT },
        { spec: { k: { a: "1" } } },
      ).toFieldsV1(),
      { "f:spec": { ".": {}, "f:k": { ".": {}, "f:a": {} } } },
    );
  });
});
