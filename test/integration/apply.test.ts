/**
 * kubekit/apply against the real API server: server-side apply between managers (conflicts, force,
 * ownership, idempotence, giving fields up), `extract` round trips, JSON / merge / strategic patches
 * (typed), strategic patches computed by kubekit and applied by the server, dry runs,
 * `retryOnConflict` under a real race, and manifests applied and deleted.
 *
 * Every test makes its own namespace (and its own cluster-scoped names); the tests of this file
 * run concurrently.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CustomResourceDefinition } from "../../src/api/apiextensions/v1/index.ts";
import { Deployment } from "../../src/api/apps/v1/index.ts";
import { ConfigMap, type Container, Namespace, Pod } from "../../src/api/core/v1/index.ts";
import {
  type ApplyConfiguration,
  applyManifests,
  applyStrategicMergePatch,
  createThreeWayMergePatch,
  createTwoWayMergePatch,
  deleteManifests,
  extract,
  jsonPatch,
  jsonPointer,
  managedFieldsEntry,
  mergePatch,
  ownedFieldPaths,
  retryOnConflict,
  strategicMergePatch,
} from "../../src/apply/index.ts";
import type { Client } from "../../src/client/index.ts";
import { ApiError, isConflict, isInvalid } from "../../src/core/errors.ts";
import { testClient, testNamespace, uniqueName } from "../support/cluster.ts";

let client: Client;

before(async () => {
  client = await testClient();
});

after(async () => {
  await client.close();
});

async function namespaceFor(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const ns = await testNamespace(client, "kk-apply");
  t.after(() => ns.remove());
  return ns.name;
}

const labels = { app: "web" };

function deployment(
  ns: string,
  name: string,
  spec: Partial<NonNullable<Deployment["spec"]>> = {},
): ApplyConfiguration<Deployment> {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: ns },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: "web", image: "nginx:1.27" }] },
      },
      ...spec,
    },
  };
}

describe("server-side apply between managers", () => {
  test("overlapping fields are a 409 Conflict naming the fields and the other manager", async (t) => {
    const ns = await namespaceFor(t);
    const api = client.api(Deployment).namespace(ns);
    await api.apply(deployment(ns, "web"), { fieldManager: "team-a" });
    const theirs: ApplyConfiguration<Deployment> = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web" },
      spec: {
        replicas: 3,
        template: { spec: { containers: [{ name: "web", image: "nginx:1.28" }] } },
      },
    };
    const err = await api.apply(theirs, { fieldManager: "team-b" }).then(
      () => assert.fail("the apply should conflict"),
      (e: unknown) => e,
    );
    assert.ok(isConflict(err), String(err));
    assert.ok(err instanceof ApiError);
    assert.equal(err.statusCode, 409);
    const causes = err.causes.map((c) => [c.reason, c.message, c.field]).sort();
    assert.deepEqual(causes, [
      ["FieldManagerConflict", 'conflict with "team-a"', ".spec.replicas"],
      [
        "FieldManagerConflict",
        'conflict with "team-a"',
        '.spec.template.spec.containers[name="web"].image',
      ],
    ]);
    assert.match(err.message, /Apply failed with 2 conflicts/);
  });

  test("force takes ownership, and managedFields say so", async (t) => {
    const ns = await namespaceFor(t);
    const api = client.api(Deployment).namespace(ns);
    await api.apply(deployment(ns, "web"), { fieldManager: "team-a" });
    const forced = await api.apply(
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "web" },
        spec: { replicas: 4 },
      },
      { fieldManager: "team-b", force: true },
    );
    assert.equal(forced.spec?.replicas, 4);
    assert.deepEqual(ownedFieldPaths(forced, "team-b"), [".spec.replicas"]);
    assert.ok(!ownedFieldPaths(forced, "team-a").includes(".spec.replicas"));
    assert.ok(ownedFieldPaths(forced, "team-a").includes(".spec.selector"));
  });

  test("applying the same configuration twice does not change the resourceVersion", async (t) => {
    const ns = await namespaceFor(t);
    const api = client.api(ConfigMap).namespace(ns);
    const config: ApplyConfiguration<ConfigMap> = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "c", labels: { a: "1" } },
      data: { key: "value" },
    };
    const first = await api.apply(config, { fieldManager: "me" });
    const second = await api.apply(config, { fieldManager: "me" });
    assert.equal(second.metadata?.resourceVersion, first.metadata?.resourceVersion);
    const changed = await api.apply({ ...config, data: { key: "other" } }, { fieldManager: "me" });
    assert.notEqual(changed.metadata?.resourceVersion, first.metadata?.resourceVersion);

    // A configuration of identity fields alone owns nothing. A Namespace so applied is created
    // without managedFields, though the server gave it fields (a label, spec.finalizers); the next
    // apply writes managedFields (those fields to "before-first-apply"), moving the
    // resourceVersion once.
    const name = uniqueName("kk-bare");
    const namespaces = client.api(Namespace);
    t.after(() =>
      namespaces.delete(name).then(
        () => {},
        () => {},
      ),
    );
    const bare = { apiVersion: "v1", kind: "Namespace", metadata: { name } } as const;
    const created = await namespaces.apply(bare, { fieldManager: "me" });
    assert.equal(created.metadata?.managedFields, undefined);
    const next = await namespaces.apply(bare, { fieldManager: "me" });
    assert.notEqual(next.metadata?.resourceVersion, created.metadata?.resourceVersion);
    assert.deepEqual(
      next.metadata?.managedFields?.map((e) => [e.manager, e.operation]),
      [["before-first-apply", "Update"]],
    );
    const third = await namespaces.apply(bare, { fieldManager: "me" });
    assert.equal(third.metadata?.resourceVersion, next.metadata?.resourceVersion);
  });

  test("a field left out of a configuration goes away only if no other manager owns it", async (t) => {
    const ns = await namespaceFor(t);
    const api = client.api(ConfigMap).namespace(ns);
    const cm = (managerLabels?: Record<string, string>): ApplyConfiguration<ConfigMap> => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "c", ...(managerLabels ? { labels: managerLabels } : {}) },
      data: { owned: "by a" },
    });
    await api.apply(cm({ mine: "1", shared: "x" }), { fieldManager: "a" });
    // b applies the same value: no conflict, shared ownership.
    const both = await api.apply({ ...cm({ shared: "x" }), data: {} }, { fieldManager: "b" });
    assert.ok(ownedFieldPaths(both, "a").includes(".metadata.labels.shared"));
    assert.ok(ownedFieldPaths(both, "b").includes(".metadata.labels.shared"));
    const after = await api.apply(cm(), { fieldManager: "a" });
    assert.deepEqual(after.metadata?.labels, { shared: "x" });
    assert.deepEqual(ownedFieldPaths(after, "a"), [".data.owned"]);
    // An empty map is a value of its own: applying `labels: {}` owns the map, not its keys.
    const empty = await api.apply(cm({}), { fieldManager: "a" });
    assert.deepEqual(empty.metadata?.labels, { shared: "x" });
    assert.deepEqual(ownedFieldPaths(empty, "a").sort(), [".data.owned", ".metadata.labels"]);
  });

  test("extract + modify + apply round-trips without taking other managers' fields", async (t) => {
    const ns = await namespaceFor(t);
    const api = client.api(Deployment).namespace(ns);
    const mine = deployment(ns, "web", {
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: "web",
              image: "nginx:1.27",
              args: ["-g", "daemon off;"],
              ports: [{ containerPort: 80, protocol: "TCP" }],
            },
          ],
          volumes: [{ name: "cache", emptyDir: {} }],
        },
      },
    });
    await api.apply(mine, { fieldManager: "me" });
    // Someone else adds a label, an env var to my container and a whole container.
    await api.apply(
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "web", labels: { owner: "them" } },
        spec: {
          template: {
            spec: {
              containers: [
                { name: "web", env: [{ name: "THEIRS", value: "1" }] },
                { name: "sidecar", image: "busybox:1.36" },
              ],
            },
          },
        },
      },
      { fieldManager: "them" },
    );
    const live = await api.get("web");
    const extracted = extract(live, "me");
    // Exactly what I applied: no defaults, nothing of theirs.
    assert.deepEqual(extracted, mine);

    extracted.spec!.replicas = 2;
    extracted.spec!.template!.spec!.containers![0]!.image = "nginx:1.28";
    const updated = await api.apply(extracted, { fieldManager: "me" });
    assert.equal(updated.spec?.replicas, 2);
    const [sidecar, web] = [...(updated.spec?.template.spec?.containers ?? [])].sort((a, b) =>
      a.name < b.name ? -1 : 1,
    );
    assert.equal(sidecar?.name, "sidecar");
    assert.equal(web?.image, "nginx:1.28");
    assert.deepEqual(web?.env, [{ name: "THEIRS", value: "1" }]);
    assert.equal(updated.metadata?.labels?.owner, "them");
    const ownedByMe = ownedFieldPaths(updated, "me");
    assert.ok(
      !ownedByMe.some((p) => p.includes("sidecar") || p.includes("env") || p.includes("owner")),
    );
    assert.deepEqual(extract(updated, "them").metadata?.labels, { owner: "them" });
  });
});

describe("patches", () => {
  test("a JSON patch whose test op fails is a 422 Invalid, and changes nothing", async (t) => {
    const ns = await namespaceFor(t);
    const api = client.api(ConfigMap).namespace(ns);
    const cm = await api.create({
      metadata: { name: "c", labels: { "app.kubernetes.io/name": "x" } },
      data: { a: "1" },
    });
    const ok = await jsonPatch(api, "c", [
      { op: "test", path: jsonPointer("metadata", "labels", "app.kubernetes.io/name"), value: "x" },
      { op: "replace", path: "/data/a", value: "2" },
    ]);
    assert.equal(ok.data?.a, "2");
    const err = await jsonPatch(api, "c", [
      { op: "test", path: "/data/a", value: "nope" },
      { op: "replace", path: "/data/a", value: "3" },
    ]).then(
      () => assert.fail("the test op should fail"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ApiError);
    // The server's answer: 422, reason Invalid, with no causes to point at the failed op.
    assert.equal(err.statusCode, 422);
    assert.equal(err.reason, "Invalid");
    assert.ok(isInvalid(err));
    const now = await api.get("c");
    assert.equal(now.data?.a, "2");
    assert.notEqual(now.metadata?.resourceVersion, cm.metadata?.resourceVersion);
  });

  test("a merge patch with null deletes a label", async (t) => {
    const ns = await namespaceFor(t);
    const api = client.api(ConfigMap).namespace(ns);
    await api.create({ metadata: { name: "c", labels: { keep: "1", drop: "2" } } });
    const patched = await mergePatch(api, "c", { metadata: { labels: { drop: null, add: "3" } } });
    assert.deepEqual(patched.metadata?.labels, { keep: "1", add: "3" });
  });

  test("a strategic merge patch adds a container without replacing the list", async (t) => {
    const ns = await namespaceFor(t);
    const api = client.api(Deployment).namespace(ns);
    await api.apply(deployment(ns, "web"), { fieldManager: "me" });
    const patched = await strategicMergePatch(api, "web", {
      spec: { template: { spec: { containers: [{ name: "sidecar", image: "busybox:1.36" }] } } },
    });
    assert.deepEqual(
      patched.spec?.template.spec?.containers.map((c) => [c.name, c.image]),
      [
        ["sidecar", "busybox:1.36"],
        ["web", "nginx:1.27"],
      ],
    );
  });

  test("dryRun: apply and patch answer with the result and change nothing", async (t) => {
    const ns = await namespaceFor(t);
    const api = client.api(ConfigMap).namespace(ns);
    const created = await api.create({ metadata: { name: "c" }, data: { a: "1" } });
    const applied = await api.apply(
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { a: "2" } },
      { fieldManager: "me", dryRun: "All", force: true },
    );
    assert.equal(applied.data?.a, "2");
    const patched = await mergePatch(api, "c", { data: { a: "3" } }, { dryRun: "All" });
    assert.equal(patched.data?.a, "3");
    const now = await api.get("c");
    assert.deepEqual(now.data, { a: "1" });
    assert.equal(now.metadata?.resourceVersion, created.metadata?.resourceVersion);
    assert.equal(managedFieldsEntry(now, "me"), undefined);
  });
});

describe("strategic merge patches computed by kubekit, applied by the server", () => {
  test("a Deployment: two-way patch of containers, env, ports, volumes and labels", async (t) => {
    const ns = await namespaceFor(t);
    const api = client.api(Deployment).namespace(ns);
    const original = await api.create({
      metadata: { name: "web", labels: { app: "web", tier: "front" } },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        template: {
          metadata: { labels },
          spec: {
            containers: [
              {
                name: "web",
                image: "nginx:1.27",
                env: [
                  { name: "A", value: "1" },
                  { name: "B", value: "2" },
                ],
                ports: [{ containerPort: 53, protocol: "TCP" }],
              },
              { name: "old", image: "busybox:1.36" },
            ],
            volumes: [{ name: "data", emptyDir: {} }],
          },
        },
      },
    });
    const modified = structuredClone(original);
    modified.metadata!.labels = { app: "web", release: "2" };
    const spec = modified.spec!;
    spec.strategy = { type: "Recreate" };
    const pod = spec.template.spec!;
    const [web, old] = pod.containers as [Container, Container];
    web.image = "nginx:1.28";
    web.env = [
      { name: "B", value: "3" },
      { name: "C", value: "4" },
    ];
    // Two protocols on one port: merged by containerPort alone this would fold into one.
    web.ports = [
      { containerPort: 53, protocol: "TCP" },
      { containerPort: 53, protocol: "UDP" },
    ];
    // A new container with the server's defaults spelled out, so the result can be compared whole.
    const sidecar: Container = { ...structuredClone(old), name: "sidecar", image: "busybox:1.37" };
    pod.containers = [sidecar, web];
    // $retainKeys: the new source replaces emptyDir instead of sitting beside it.
    pod.volumes = [{ name: "data", configMap: { name: "settings", defaultMode: 0o644 } }];

    const patch = createTwoWayMergePatch(original, modified, Deployment);
    assert.deepEqual(applyStrategicMergePatch(original, patch, Deployment), modified);
    const result = await strategicMergePatch(api, "web", patch);
    assert.deepEqual(result.spec?.template, modified.spec?.template);
    assert.deepEqual(result.spec?.strategy, { type: "Recreate" });
    assert.deepEqual(result.metadata?.labels, modified.metadata?.labels);
  });

  test("a Pod: the fields a pod may change (image, tolerations added, deadline, labels)", async (t) => {
    const ns = await namespaceFor(t);
    const api = client.api(Pod).namespace(ns);
    const original = await api.create({
      metadata: { name: "p", labels: { a: "1" } },
      spec: {
        containers: [{ name: "c", image: "busybox:1.36", command: ["sleep", "3600"] }],
        tolerations: [{ key: "k", operator: "Exists", effect: "NoSchedule" }],
      },
    });
    const modified = structuredClone(original);
    modified.metadata!.labels = { b: "2" };
    modified.spec!.containers[0]!.image = "busybox:1.37";
    modified.spec!.activeDeadlineSeconds = 600;
    modified.spec!.tolerations = [
      ...(modified.spec!.tolerations ?? []),
      { key: "more", operator: "Exists", effect: "NoExecute", tolerationSeconds: 30 },
    ];
    const patch = createTwoWayMergePatch(original, modified, Pod);
    const result = await strategicMergePatch(api, "p", patch);
    assert.deepEqual(result.spec, modified.spec);
    assert.deepEqual(result.metadata?.labels, { b: "2" });
  });

  test("finalizers: a primitive merge list, added to and removed from", async (t) => {
    const ns = await namespaceFor(t);
    const api = client.api(ConfigMap).namespace(ns);
    const original = await api.create({ metadata: { name: "c", finalizers: ["example.com/a"] } });
    const step = async (from: ConfigMap, finalizers: string[]) => {
      const to = structuredClone(from);
      to.metadata!.finalizers = finalizers;
      const patch = createTwoWayMergePatch(from, to, ConfigMap);
      const result = await strategicMergePatch(api, "c", patch);
      assert.deepEqual(result.metadata?.finalizers ?? [], finalizers);
      return result;
    };
    const two = await step(original, ["example.com/b", "example.com/a"]);
    const one = await step(two, ["example.com/b"]);
    await step(one, []);
  });

  test("a three-way patch keeps another writer's changes and applies mine", async (t) => {
    const ns = await namespaceFor(t);
    const api = client.api(Deployment).namespace(ns);
    // What I applied last time (kubectl's last-applied-configuration).
    const lastApplied = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", labels: { mine: "1" } },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [
              { name: "web", image: "nginx:1.27" },
              { name: "retired", image: "busybox:1.36" },
            ],
          },
        },
      },
    } satisfies Deployment;
    await api.create(structuredClone(lastApplied));
    // Someone else: scales, labels, adds an env var to my container.
    await strategicMergePatch(api, "web", {
      metadata: { labels: { theirs: "2" } },
      spec: {
        replicas: 3,
        template: {
          spec: { containers: [{ name: "web", env: [{ name: "THEIRS", value: "1" }] }] },
        },
      },
    });
    const current = await api.get("web");
    const desired = structuredClone(lastApplied);
    desired.spec.template.spec.containers = [{ name: "web", image: "nginx:1.28" }];
    desired.metadata.labels = { mine: "2" };
    const patch = createThreeWayMergePatch<Deployment>(lastApplied, desired, current, Deployment, {
      overwrite: true,
    });
    const result = await strategicMergePatch(api, "web", patch);
    assert.equal(result.spec?.replicas, 3);
    assert.deepEqual(result.metadata?.labels, { mine: "2", theirs: "2" });
    const containers = result.spec?.template.spec?.containers ?? [];
    assert.deepEqual(
      containers.map((c) => [c.name, c.image, c.env]),
      [["web", "nginx:1.28", [{ name: "THEIRS", value: "1" }]]],
    );
  });
});

test("retryOnConflict: two racing read-modify-writes both land", async (t) => {
  const ns = await namespaceFor(t);
  const api = client.api(ConfigMap).namespace(ns);
  await api.create({ metadata: { name: "counter" }, data: { n: "0" } });
  let conflicts = 0;
  const increment = () =>
    retryOnConflict(async () => {
      const cm = await api.get("counter");
      // Both read before either writes, so one of the first writes must lose.
      await new Promise((r) => setTimeout(r, 50));
      cm.data = { n: String(Number(cm.data?.n) + 1) };
      try {
        return await api.update(cm);
      } catch (err) {
        if (isConflict(err)) conflicts++;
        throw err;
      }
    });
  await Promise.all([increment(), increment()]);
  assert.equal((await api.get("counter")).data?.n, "2");
  assert.ok(conflicts >= 1, `${conflicts} conflicts`);
});

test("applyManifests: a Namespace, a CRD, one of its objects and a Deployment; then deleteManifests", async () => {
  const ns = uniqueName("kk-manifest");
  const group = `${uniqueName("g")}.kubekit.test`;
  const crdName = `widgets.${group}`;
  const manifest = `# objects in file order; the Namespace and the CRD must go first
apiVersion: ${group}/v1
kind: Widget
metadata:
  name: w
  namespace: ${ns}
spec:
  size: 3
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ${crdName}
spec:
  group: ${group}
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
---
apiVersion: v1
kind: Namespace
metadata:
  name: ${ns}
  labels: {app.kubernetes.io/managed-by: kubekit-test}
`;
  try {
    const results = await applyManifests(client, manifest, {
      fieldManager: "kubekit-test",
      source: "app.yaml",
    });
    assert.deepEqual(
      results.map((r) => [r.object.kind, r.action, r.error?.message]),
      [
        ["Namespace", "created", undefined],
        ["CustomResourceDefinition", "created", undefined],
        ["Widget", "created", undefined],
        ["Deployment", "created", undefined],
      ],
    );
    assert.equal(results[2]?.resource?.plural, "widgets");
    assert.equal(results[2]?.resource?.group, group);
    const widget = await client
      .api({ group, version: "v1", plural: "widgets", namespaced: true })
      .namespace(ns)
      .get("w");
    assert.deepEqual((widget as { spec?: unknown }).spec, { size: 3 });

    // Again: nothing to do. A changed Widget: configured. A dry run: nothing persists.
    const again = await applyManifests(client, manifest, { fieldManager: "kubekit-test" });
    assert.deepEqual(
      again.map((r) => r.action),
      ["unchanged", "unchanged", "unchanged", "unchanged"],
    );
    const bigger = manifest.replace("size: 3", "size: 4");
    const dry = await applyManifests(client, bigger, {
      fieldManager: "kubekit-test",
      dryRun: true,
    });
    assert.deepEqual(
      dry.map((r) => r.action),
      ["unchanged", "unchanged", "configured", "unchanged"],
    );
    const changed = await applyManifests(client, bigger, { fieldManager: "kubekit-test" });
    assert.equal(changed[2]?.action, "configured");

    // An unknown kind is an error for that object alone.
    const unknown = await applyManifests(
      client,
      `apiVersion: ${group}/v1\nkind: Gadget\nmetadata: {name: g, namespace: ${ns}}\n`,
      { fieldManager: "kubekit-test" },
    );
    assert.match(unknown[0]?.error?.message ?? "", /unknown kind "Gadget"/);

    const deleted = await deleteManifests(client, manifest);
    assert.deepEqual(
      deleted.map((r) => [r.object.kind, r.action, r.error?.message]),
      [
        ["Deployment", "deleted", undefined],
        ["Widget", "deleted", undefined],
        ["CustomResourceDefinition", "deleted", undefined],
        ["Namespace", "deleted", undefined],
      ],
    );
    // Again: gone (the Namespace and the CRD may still be finalizing: deleted again is fine; once
    // the CRD is no longer served, its Widget counts as gone).
    const twice = await deleteManifests(client, manifest);
    assert.equal(twice[0]?.action, "notFound");
    assert.equal(twice[1]?.action, "notFound");
    assert.deepEqual(
      twice.map((r) => r.error),
      [undefined, undefined, undefined, undefined],
    );
  } finally {
    await client
      .api(CustomResourceDefinition)
      .delete(crdName)
      .catch(() => {});
    await client.request({ method: "DELETE", path: `/api/v1/namespaces/${ns}` }).catch(() => {});
  }
});
