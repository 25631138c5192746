/**
 * Discovery, REST mapping, the dynamic client and the metadata and Table clients against the real
 * API server, checked against kubectl where kubectl has an answer.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import type { Client } from "../../src/client/index.ts";
import { isNotFound } from "../../src/core/errors.ts";
import {
  DeferredRestMapper,
  type DiscoveredResource,
  Discovery,
  type DiscoverySnapshot,
  DiskCache,
  NoMatchError,
  RestMapper,
} from "../../src/discovery/index.ts";
import {
  dynamic,
  dynamicForKind,
  formatTable,
  metadata,
  tables,
  type Unstructured,
} from "../../src/dynamic/index.ts";
import {
  expectedServerVersion,
  testClient,
  testKubeconfig,
  testNamespace,
  uniqueName,
} from "../support/cluster.ts";

const run = promisify(execFile);

let client: Client;
let ns: { name: string; remove(): Promise<void> };
const tmp = mkdtempSync(join(tmpdir(), "kubekit-discovery-it-"));

before(async () => {
  client = await testClient();
  ns = await testNamespace(client, "kk-disc");
});

after(async () => {
  await ns.remove();
  await client.close();
  rmSync(tmp, { recursive: true, force: true });
});

/**
 * Groups the API server itself serves. Other test files create CRDs concurrently, so comparisons
 * between two moments (kubectl and kubekit, aggregated and legacy) look at these only.
 */
const builtin = (group: string) =>
  group === "" || !group.includes(".") || group.endsWith(".k8s.io");

async function kubectl(...args: string[]): Promise<string> {
  // kubectl 1.32 warns about the version skew on stderr; only stdout is read.
  const { stdout } = await run(
    "kubectl",
    ["--kubeconfig", testKubeconfig(), "--cache-dir", join(tmp, "kubectl-cache"), ...args],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  return stdout;
}

/** A kubectl table: columns start where their headers start (tabwriter alignment). */
function parseColumns(text: string): Record<string, string>[] {
  const [header, ...rows] = text.split("\n").filter((l) => l.trim() !== "");
  const names = header!.split(/\s+/).filter(Boolean);
  const starts = names.map((n) => header!.indexOf(n));
  return rows.map((row) =>
    Object.fromEntries(
      names.map((n, i) => [n, row.slice(starts[i], starts[i + 1] ?? row.length).trim()]),
    ),
  );
}

const apiVersion = (r: { group: string; version: string }) =>
  r.group ? `${r.group}/${r.version}` : r.version;

test("discovery lists the built-in groups of the server and agrees with kubectl api-resources -o wide", async () => {
  const discovery = new Discovery(client);
  const version = await discovery.serverVersion();
  const expected = expectedServerVersion();
  if (expected) assert.equal(version.gitVersion, expected);
  const snap = await discovery.snapshot();
  assert.equal(snap.format, "aggregated");
  const groups = snap.groups.map((g) => g.name);
  for (const g of [
    "",
    "apps",
    "batch",
    "autoscaling",
    "policy",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "rbac.authorization.k8s.io",
    "networking.k8s.io",
    "storage.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "admissionregistration.k8s.io",
    "certificates.k8s.io",
    "scheduling.k8s.io",
    "node.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "resource.k8s.io",
  ]) {
    assert.ok(groups.includes(g), `group ${JSON.stringify(g)} is discovered`);
  }
  assert.equal(groups[0], "", "the core group comes first");
  for (const gv of snap.failed?.groups.keys() ?? []) {
    assert.ok(!builtin(gv.split("/").slice(0, -1).join("/")), `built-in ${gv} failed`);
  }

  const ours = (await discovery.preferredResources()).resources.filter((r) => builtin(r.group));
  const rows = parseColumns(await kubectl("api-resources", "-o", "wide")).filter((row) =>
    builtin(row.APIVERSION!.includes("/") ? row.APIVERSION!.split("/")[0]! : ""),
  );
  const fromKubectl = rows.map((row) => ({
    name: row.NAME,
    shortNames: row.SHORTNAMES ? row.SHORTNAMES.split(",").sort() : [],
    apiVersion: row.APIVERSION,
    namespaced: row.NAMESPACED === "true",
    kind: row.KIND,
    verbs: row.VERBS ? row.VERBS.split(",").sort() : [],
    categories: row.CATEGORIES ? row.CATEGORIES.split(",").sort() : [],
  }));
  const fromKubekit = ours.map((r) => ({
    name: r.plural,
    shortNames: [...r.shortNames].sort(),
    apiVersion: apiVersion(r),
    namespaced: r.namespaced,
    kind: r.kind,
    verbs: [...r.verbs].sort(),
    categories: [...r.categories].sort(),
  }));
  const key = (x: { name?: string; apiVersion?: string }) => `${x.apiVersion} ${x.name}`;
  const byKey = (xs: typeof fromKubekit) => xs.sort((a, b) => key(a).localeCompare(key(b)));
  assert.ok(fromKubectl.length > 50, `kubectl listed ${fromKubectl.length} resources`);
  assert.deepEqual(byKey(fromKubekit), byKey(fromKubectl as typeof fromKubekit));
});

/** A snapshot in comparable form, built-in groups only. */
function comparable(snap: DiscoverySnapshot) {
  return {
    groups: snap.groups.filter((g) => builtin(g.name)),
    resources: [...snap.resources]
      .filter(([gv]) => builtin(gv.includes("/") ? gv.split("/")[0]! : ""))
      .map(([gv, rs]) => [
        gv,
        rs.map((r) => ({
          ...r,
          subresources: [...r.subresources].sort((a, b) => a.name.localeCompare(b.name)),
        })),
      ]),
  };
}

test("aggregated and legacy discovery give the same groups and resources; the disk cache keeps them", async () => {
  const aggregated = await new Discovery(client).snapshot();
  const legacy = await new Discovery(client, { legacy: true }).snapshot();
  assert.equal(aggregated.format, "aggregated");
  assert.equal(legacy.format, "legacy");
  assert.deepEqual(comparable(legacy), comparable(aggregated));
  const deployments = aggregated.resources.get("apps/v1")?.find((r) => r.plural === "deployments");
  assert.deepEqual(deployments?.subresources.map((s) => [s.name, s.responseKind?.kind]).sort(), [
    ["scale", "Scale"],
    ["status", "Deployment"],
  ]);

  const cache = new DiskCache({ dir: join(tmp, "disk") });
  const first = await new Discovery(client, { diskCache: cache }).snapshot();
  const second = new Discovery(client, { diskCache: cache });
  const read = await second.snapshot();
  assert.equal(read.source, "disk");
  assert.equal(second.fresh, false);
  assert.deepEqual(comparable(read), comparable(first));
});

test("kubectl-style names resolve as kubectl resolves them", async () => {
  const mapper = new RestMapper(await new Discovery(client).snapshot());
  const cases: Record<string, string> = {
    pods: "v1 pods",
    po: "v1 pods",
    pod: "v1 pods",
    deploy: "apps/v1 deployments",
    "deploy.apps": "apps/v1 deployments",
    "deployments.apps": "apps/v1 deployments",
    "deployments.v1.apps": "apps/v1 deployments",
    Deployment: "apps/v1 deployments",
    crd: "apiextensions.k8s.io/v1 customresourcedefinitions",
    events: "v1 events",
    "events.events.k8s.io": "events.k8s.io/v1 events",
    hpa: "autoscaling/v2 horizontalpodautoscalers",
    "horizontalpodautoscalers.v1.autoscaling": "autoscaling/v1 horizontalpodautoscalers",
    cm: "v1 configmaps",
    ns: "v1 namespaces",
  };
  for (const [arg, want] of Object.entries(cases)) {
    const r = mapper.resolve(arg);
    assert.equal(`${apiVersion(r)} ${r.plural}`, want, arg);
  }
  // What `kubectl get all` lists.
  assert.deepEqual(
    mapper
      .expandCategory("all")
      .filter((r) => builtin(r.group))
      .map((r) => r.plural)
      .sort(),
    [
      "cronjobs",
      "daemonsets",
      "deployments",
      "horizontalpodautoscalers",
      "jobs",
      "pods",
      "replicasets",
      "replicationcontrollers",
      "services",
      "statefulsets",
    ],
  );
  assert.throws(() => mapper.resolve("nosuchthings"), NoMatchError);
});

test("OpenAPI v3 documents are read on demand and not downloaded again while their hash holds", async () => {
  const discovery = new Discovery(client);
  const paths = await discovery.openapi.paths();
  assert.ok(paths.has("apis/apps/v1") && paths.has("api/v1"));
  const doc = await discovery.openapi.document("apis/apps/v1");
  assert.ok(doc.components?.schemas?.["io.k8s.api.apps.v1.Deployment"]);
  discovery.invalidate();
  await discovery.openapi.document("apis/apps/v1");
  assert.equal(discovery.openapi.downloads, 1);
});

test("a CRD created at run time: the deferred mapper finds it, the dynamic client works it", async () => {
  const discovery = new Discovery(client);
  const mapper = new DeferredRestMapper(discovery);
  // The mapper's data predates the CRD.
  const crdResource = await mapper.resolve("crd");
  const crds = dynamic(client, crdResource);
  const group = `${uniqueName("kk").replace("-", "")}.kubekit.example.com`;
  const short = uniqueName("kkw").replace("-", "");
  const crdName = `widgets.${group}`;
  await crds.create({
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: crdName },
    spec: {
      group,
      scope: "Namespaced",
      names: {
        plural: "widgets",
        singular: "widget",
        kind: "Widget",
        listKind: "WidgetList",
        shortNames: [short],
        categories: [`${short}-cat`],
      },
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: "object",
              properties: {
                spec: {
                  type: "object",
                  properties: { replicas: { type: "integer" }, color: { type: "string" } },
                },
                status: {
                  type: "object",
                  properties: { replicas: { type: "integer" }, phase: { type: "string" } },
                },
              },
            },
          },
          subresources: {
            status: {},
            scale: { specReplicasPath: ".spec.replicas", statusReplicasPath: ".status.replicas" },
          },
          additionalPrinterColumns: [
            { name: "Color", type: "string", jsonPath: ".spec.color" },
            { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
          ],
        },
      ],
    },
  });
  try {
    // Established, and listed by discovery (the server updates discovery on its own schedule).
    const deadline = Date.now() + 30_000;
    for (;;) {
      const crd = (await crds.get(crdName)) as Unstructured & {
        status?: { conditions?: { type: string; status: string }[] };
      };
      const established = crd.status?.conditions?.some(
        (c) => c.type === "Established" && c.status === "True",
      );
      const listed =
        established && (await new Discovery(client).groups()).some((g) => g.name === group);
      if (listed) break;
      assert.ok(Date.now() < deadline, "the CRD was not established and discovered in 30 s");
      await new Promise((r) => setTimeout(r, 100));
    }

    // By kind and by short name, through the same mapper: one refresh for both misses.
    const byKind = await mapper.restMapping({ group, kind: "Widget" });
    assert.equal(byKind.plural, "widgets");
    assert.equal(byKind.namespaced, true);
    assert.deepEqual(byKind.shortNames, [short]);
    assert.deepEqual(byKind.subresources.map((s) => s.name).sort(), ["scale", "status"]);
    assert.equal((await mapper.resolve(short)).kind, "Widget");
    assert.equal((await mapper.resolve(`widgets.${group}`)).kind, "Widget");
    assert.deepEqual(
      (await mapper.expandCategory(`${short}-cat`)).map((r) => r.plural),
      ["widgets"],
    );
    assert.equal(mapper.refreshes, 1);

    const widgets = (
      await dynamicForKind(client, mapper, { group, version: "v1", kind: "Widget" })
    ).namespace(ns.name);
    const start = await widgets.list();
    const seen: string[] = [];
    const watchDone = (async () => {
      for await (const ev of widgets.watch({
        resourceVersion: start.metadata.resourceVersion,
        signal: AbortSignal.timeout(30_000),
      })) {
        const spec = ev.object.spec as { replicas?: number; color?: string } | undefined;
        const status = ev.object.status as { phase?: string } | undefined;
        seen.push(
          `${ev.type} ${spec?.color ?? "-"} ${spec?.replicas ?? "-"} ${status?.phase ?? "-"}`,
        );
        if (ev.type === "DELETED") break;
      }
    })();

    const created = await widgets.create({
      apiVersion: `${group}/v1`,
      kind: "Widget",
      metadata: { name: "w1", labels: { app: "w" } },
      spec: { replicas: 1, color: "red" },
    });
    assert.equal(created.metadata.namespace, ns.name);
    const got = await widgets.get("w1");
    assert.deepEqual(got.spec, { replicas: 1, color: "red" });
    assert.deepEqual(
      (await widgets.list({ labelSelector: { app: "w" } })).items.map((i) => i.metadata.name),
      ["w1"],
    );
    const updated = await widgets.update({ ...got, spec: { replicas: 1, color: "blue" } });
    assert.equal((updated.spec as { color: string }).color, "blue");

    // status: only the status subresource changes it.
    const withStatus = await widgets.status.update({
      ...updated,
      spec: { replicas: 1, color: "ignored" },
      status: { replicas: 1, phase: "Ready" },
    });
    assert.deepEqual(withStatus.status, { replicas: 1, phase: "Ready" });
    assert.equal((withStatus.spec as { color: string }).color, "blue");
    assert.deepEqual((await widgets.status.get("w1")).status, { replicas: 1, phase: "Ready" });

    // scale: autoscaling/v1 Scale mapped onto .spec.replicas and .status.replicas.
    const scale = await widgets.scale.get("w1");
    assert.equal(scale.kind, "Scale");
    assert.equal(scale.spec?.replicas, 1);
    assert.equal(scale.status?.replicas, 1);
    await widgets.scale.update("w1", { spec: { replicas: 3 } });
    assert.equal(((await widgets.get("w1")).spec as { replicas: number }).replicas, 3);

    const patched = await widgets.patch("w1", { spec: { color: "green" } }, { type: "merge" });
    assert.equal((patched.spec as { color: string }).color, "green");

    // The Table of a custom resource comes from its additionalPrinterColumns.
    const table = await tables(client, byKind).namespace(ns.name).list();
    assert.deepEqual(
      table.columnDefinitions.map((c) => c.name),
      ["Name", "Color", "Age"],
    );
    assert.match(formatTable(table), /^NAME\s+COLOR\s+AGE\nw1\s+green\s+\d+s\n$/);

    await widgets.delete("w1");
    await watchDone;
    assert.deepEqual(seen, [
      "ADDED red 1 -",
      "MODIFIED blue 1 -",
      "MODIFIED blue 1 Ready",
      "MODIFIED blue 3 Ready",
      "MODIFIED green 3 Ready",
      "DELETED green 3 Ready",
    ]);
  } finally {
    await crds.delete(crdName).catch((e) => {
      if (!isNotFound(e)) throw e;
    });
  }
});

test("a metadata-only list of 500 ConfigMaps carries no data and is smaller", async () => {
  const configmaps = dynamic(client, {
    group: "",
    version: "v1",
    resource: "configmaps",
    namespaced: true,
  }).namespace(ns.name);
  const payload = "x".repeat(1000);
  const names = Array.from({ length: 500 }, (_, i) => `m-${String(i).padStart(3, "0")}`);
  for (let i = 0; i < names.length; i += 50) {
    await Promise.all(
      names.slice(i, i + 50).map((name) =>
        configmaps.create({
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name, labels: { set: "meta" } },
          data: { payload },
        }),
      ),
    );
  }
  const meta = metadata(client, {
    group: "",
    version: "v1",
    resource: "configmaps",
    namespaced: true,
  }).namespace(ns.name);
  const list = await meta.list({ labelSelector: { set: "meta" } });
  assert.equal(list.kind, "PartialObjectMetadataList");
  assert.equal(list.items.length, 500);
  for (const item of list.items) {
    assert.equal(item.kind, "PartialObjectMetadata");
    assert.equal("data" in item, false);
    assert.equal(item.metadata.labels?.set, "meta");
  }
  assert.deepEqual(
    list.items.map((i) => i.metadata.name),
    names,
  );
  const one = await meta.get("m-000");
  assert.equal(one.kind, "PartialObjectMetadata");
  assert.equal("data" in one, false);

  // The response bodies, with and without the metadata Accept header.
  const path = `/api/v1/namespaces/${ns.name}/configmaps`;
  const query = { labelSelector: "set=meta" };
  const full = await client.rest.text({ method: "GET", path, query });
  const partial = await client.rest.text({
    method: "GET",
    path,
    query,
    accept: "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json",
  });
  assert.ok(full.length > 500 * 1000);
  assert.ok(partial.length < full.length / 2, `${partial.length} vs ${full.length}`);

  // A metadata watch sees a change as PartialObjectMetadata.
  const events: string[] = [];
  const watching = (async () => {
    for await (const ev of meta.watch({
      resourceVersion: list.metadata.resourceVersion,
      fieldSelector: { "metadata.name": "m-001" },
      signal: AbortSignal.timeout(20_000),
    })) {
      events.push(`${ev.type} ${ev.object.kind} ${ev.object.metadata.labels?.touched ?? "-"}`);
      assert.equal("data" in ev.object, false);
      break;
    }
  })();
  await meta.patch("m-001", { metadata: { labels: { touched: "yes" } } }, { type: "merge" });
  await watching;
  assert.deepEqual(events, ["MODIFIED PartialObjectMetadata yes"]);

  // formatTable prints what kubectl prints (the AGE column aside, which moves with the clock).
  const table = await tables(client, {
    group: "",
    version: "v1",
    resource: "configmaps",
    namespaced: true,
  })
    .namespace(ns.name)
    .list({ labelSelector: { set: "meta" }, limit: 5 });
  const dropAge = (text: string) => text.replace(/\s+\S+$/gm, "");
  const ours = formatTable(table);
  const theirs = await kubectl(
    "get",
    "configmaps",
    "-n",
    ns.name,
    "-l",
    "set=meta",
    "--chunk-size=0",
  );
  assert.equal(table.rows.length, 5);
  assert.deepEqual(dropAge(ours).split("\n").slice(0, 6), dropAge(theirs).split("\n").slice(0, 6));
});

test("a deferred mapper misses cleanly for what does not exist", async () => {
  const mapper = new DeferredRestMapper(new Discovery(client), { minRefreshIntervalMs: 50 });
  await mapper.resolve("pods");
  await new Promise((r) => setTimeout(r, 5));
  await assert.rejects(mapper.resolve("nosuchthings"), NoMatchError);
  assert.equal(mapper.refreshes, 1);
  const r: DiscoveredResource = await mapper.resolve("po");
  assert.equal(r.kind, "Pod");
});
