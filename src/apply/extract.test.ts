/**
 * `extract`: the apply configuration a manager owns, from `metadata.managedFields` (FieldsV1):
 * nested maps, associative list items by `k:`, set items by `v:`, index items by `i:`, atomic and
 * granular leaves, subresources, and the identity fields; plus the paths of a FieldsV1 set. Then
 * client-go's answers for objects several managers wrote on the real server.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { Deployment } from "../api/apps/v1/index.ts";
import type { KubernetesObject, ManagedFieldsEntry } from "../core/meta.ts";
import { ExtractError, extract, type FieldsV1, fieldPaths, ownedFieldPaths } from "./extract.ts";
import { PatchMeta } from "./patchmeta.ts";

const K = (keys: Record<string, unknown>) => `k:${JSON.stringify(keys)}`;

const mine: FieldsV1 = {
  "f:metadata": {
    "f:labels": { "f:app": {} },
    "f:annotations": { ".": {}, "f:note": {} },
    "f:finalizers": { 'v:"example.com/mine"': {} },
  },
  "f:spec": {
    "f:replicas": {},
    "f:selector": {},
    "f:template": {
      "f:metadata": { "f:labels": { "f:app": {} } },
      "f:spec": {
        "f:nodeSelector": {},
        "f:containers": {
          [K({ name: "web" })]: {
            ".": {},
            "f:name": {},
            "f:image": {},
            "f:args": {},
            "f:resources": {},
            "f:ports": {
              [K({ containerPort: 80, protocol: "TCP" })]: {
                ".": {},
                "f:containerPort": {},
                "f:protocol": {},
              },
            },
          },
        },
        "f:volumes": { [K({ name: "cache" })]: { ".": {}, "f:name": {}, "f:emptyDir": {} } },
      },
    },
  },
};

const theirs: FieldsV1 = {
  "f:metadata": { "f:labels": { "f:team": {} }, "f:finalizers": { 'v:"example.com/theirs"': {} } },
  "f:spec": {
    "f:template": {
      "f:spec": {
        "f:containers": {
          [K({ name: "web" })]: {
            "f:env": { [K({ name: "X" })]: { ".": {}, "f:name": {}, "f:value": {} } },
            "f:resources": { "f:limits": { "f:cpu": {} } },
            // Applied empty, since filled by someone else: a granular list leaf is not owned content.
            "f:volumeMounts": {},
          },
          [K({ name: "sidecar" })]: { ".": {}, "f:name": {}, "f:image": {} },
        },
      },
    },
  },
};

const entry = (manager: string, fieldsV1: FieldsV1, extra: Partial<ManagedFieldsEntry> = {}) => ({
  manager,
  operation: "Apply",
  apiVersion: "apps/v1",
  fieldsType: "FieldsV1",
  fieldsV1,
  ...extra,
});

const live: Deployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: {
    name: "web",
    namespace: "prod",
    uid: "u",
    resourceVersion: "7",
    labels: { app: "web", team: "t" },
    annotations: { note: "hi", "deployment.kubernetes.io/revision": "1" },
    finalizers: ["example.com/theirs", "example.com/mine"],
    managedFields: [
      entry("theirs", theirs),
      entry("mine", mine),
      entry("mine", { "f:status": { "f:replicas": {} } }, { subresource: "status" }),
      entry("mine", { "f:spec": { "f:paused": {} } }, { operation: "Update" }),
    ],
  },
  spec: {
    replicas: 2,
    paused: false,
    revisionHistoryLimit: 10,
    selector: { matchLabels: { app: "web" }, matchExpressions: [] },
    template: {
      metadata: { labels: { app: "web" } },
      spec: {
        nodeSelector: { disk: "ssd", zone: "a" },
        containers: [
          { name: "sidecar", image: "envoy" },
          {
            name: "web",
            image: "nginx",
            args: ["-g", "daemon off;"],
            env: [{ name: "X", value: "1" }],
            resources: { limits: { cpu: "1" } },
            ports: [
              { containerPort: 80, protocol: "TCP" },
              { containerPort: 81, protocol: "TCP" },
            ],
            terminationMessagePath: "/dev/termination-log",
            volumeMounts: [{ name: "cache", mountPath: "/cache" }],
          },
        ],
        volumes: [{ name: "cache", emptyDir: {} }],
        restartPolicy: "Always",
      },
    },
  },
  status: { replicas: 2, readyReplicas: 1 },
};

describe("extract", () => {
  test("exactly the manager's fields, plus apiVersion, kind, name and namespace", () => {
    assert.deepEqual(extract(live, "mine"), {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: {
        name: "web",
        namespace: "prod",
        labels: { app: "web" },
        annotations: { note: "hi" },
        finalizers: ["example.com/mine"],
      },
      spec: {
        replicas: 2,
        // Atomic leaves (LabelSelector, nodeSelector, args) are whole values.
        selector: { matchLabels: { app: "web" }, matchExpressions: [] },
        template: {
          metadata: { labels: { app: "web" } },
          spec: {
            nodeSelector: { disk: "ssd", zone: "a" },
            containers: [
              {
                name: "web",
                image: "nginx",
                args: ["-g", "daemon off;"],
                // resources: applied empty by "mine", filled by "theirs": not "mine"'s to send.
                ports: [{ containerPort: 80, protocol: "TCP" }],
              },
            ],
            // An empty object applied as such is owned as such.
            volumes: [{ name: "cache", emptyDir: {} }],
          },
        },
      },
    });
  });

  test("the other manager's view: items keep their keys, nested granular maps recurse", () => {
    assert.deepEqual(extract(live, "theirs"), {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: {
        name: "web",
        namespace: "prod",
        labels: { team: "t" },
        finalizers: ["example.com/theirs"],
      },
      spec: {
        template: {
          spec: {
            containers: [
              { name: "sidecar", image: "envoy" },
              {
                name: "web",
                env: [{ name: "X", value: "1" }],
                resources: { limits: { cpu: "1" } },
              },
            ],
          },
        },
      },
    });
  });

  test("a subresource's entry; Update entries never count; no entry gives the identity", () => {
    assert.deepEqual(extract(live, "mine", { subresource: "status" }), {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "prod" },
      status: { replicas: 2 },
    });
    const identity = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "prod" },
    };
    assert.deepEqual(extract(live, "nobody"), identity);
    const updateOnly = structuredClone(live);
    updateOnly.metadata!.managedFields = [entry("x", mine, { operation: "Update" })];
    assert.deepEqual(extract(updateOnly, "x"), identity);
  });

  test("fields gone from the object are left out; the input is not changed", () => {
    const changed = structuredClone(live);
    delete changed.spec!.replicas;
    changed.spec!.template.spec!.containers = [{ name: "sidecar", image: "envoy" }];
    const before = structuredClone(changed);
    const config = extract(changed, "mine");
    assert.equal(config.spec?.replicas, undefined);
    assert.equal(config.spec?.template?.spec?.containers, undefined);
    assert.deepEqual(changed, before);
  });

  test("index items (i:) and lists without a schema", () => {
    const obj = {
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: {
        name: "w",
        managedFields: [
          entry("m", {
            "f:spec": {
              "f:steps": { "i:1": { "f:run": {} } },
              "f:tags": {},
              "f:settings": {},
              "f:empty": {},
            },
          }),
        ],
      },
      spec: {
        steps: [{ run: "a" }, { run: "b", extra: 1 }],
        tags: ["x", "y"],
        settings: { a: 1 },
        empty: {},
      },
    };
    // No schema: lists count as atomic, objects as granular (apply's defaults).
    assert.deepEqual(extract(obj, "m").spec, {
      steps: [{ run: "b" }],
      tags: ["x", "y"],
      empty: {},
    });
  });

  test("the kind from options for objects without one; none at all is an error", () => {
    const item = structuredClone(live);
    delete item.apiVersion;
    delete item.kind;
    const config = extract(item, "mine", {
      kind: { group: "apps", version: "v1", kind: "Deployment" },
    });
    assert.equal(config.apiVersion, "apps/v1");
    assert.equal(config.kind, "Deployment");
    assert.deepEqual(config.spec?.selector, live.spec?.selector);
    assert.throws(() => extract(item, "mine"), ExtractError);
  });

  test("a schema from elsewhere decides atomicity (here: everything unknown)", () => {
    const config = extract(live, "mine", { schema: PatchMeta.unknown() });
    // Unknown objects are granular, so the owned-as-a-leaf selector is left out; lists stay whole.
    assert.equal(config.spec?.selector, undefined);
    assert.deepEqual(config.spec?.template?.spec?.containers?.[0]?.args, ["-g", "daemon off;"]);
  });
});

test("fieldPaths writes paths as the server's conflict messages do", () => {
  assert.deepEqual(ownedFieldPaths(live, "theirs"), [
    ".metadata.labels.team",
    '.metadata.finalizers[="example.com/theirs"]',
    '.spec.template.spec.containers[name="web"].env[name="X"].name',
    '.spec.template.spec.containers[name="web"].env[name="X"].value',
    '.spec.template.spec.containers[name="web"].resources.limits.cpu',
    '.spec.template.spec.containers[name="web"].volumeMounts',
    '.spec.template.spec.containers[name="sidecar"].name',
    '.spec.template.spec.containers[name="sidecar"].image',
  ]);
  assert.deepEqual(
    fieldPaths({
      "f:spec": {
        "f:ports": { [K({ protocol: "TCP", port: 80 })]: { "f:name": {} } },
        "f:l": { "i:3": {} },
      },
    }),
    ['.spec.ports[port=80,protocol="TCP"].name', ".spec.l[3]"],
  );
  assert.deepEqual(ownedFieldPaths(live, "mine", { operation: "Update" }), [".spec.paused"]);
});

test("client-go's own answers on objects the server wrote (test/fixtures/apply/extract-corpus.json)", () => {
  const path = join(import.meta.dirname, "../../test/fixtures/apply/extract-corpus.json");
  const { cases } = JSON.parse(readFileSync(path, "utf8")) as {
    cases: {
      name: string;
      original: KubernetesObject;
      manager: string;
      subresource?: string;
      want: { config: unknown };
    }[];
  };
  assert.ok(cases.length >= 10, `${cases.length} cases`);
  for (const c of cases) {
    const got = extract(c.original, c.manager, c.subresource ? { subresource: c.subresource } : {});
    // client-go's configurations go through JSON: no undefined members.
    assert.deepEqual(JSON.parse(JSON.stringify(got)), c.want.config, c.name);
  }
});
