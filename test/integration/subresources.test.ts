/**
 * The typed subresource helpers against the real API server: scale, eviction, binding, token,
 * ephemeral containers, resize, log and proxy.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Deployment } from "../../src/api/apps/v1/index.ts";
import { Node, Pod, ServiceAccount } from "../../src/api/core/v1/index.ts";
import type { Client } from "../../src/client/index.ts";
import { ApiError, isNotFound } from "../../src/core/errors.ts";
import { testClient, testNamespace, uniqueName } from "../support/cluster.ts";

let client: Client;
let ns: { name: string; remove(): Promise<void> };

before(async () => {
  client = await testClient();
  ns = await testNamespace(client, "kk-sub");
});

after(async () => {
  await ns.remove();
  await client.close();
});

const pod = (name: string): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name },
  spec: {
    containers: [
      { name: "c", image: "registry.invalid/none:1", resources: { requests: { cpu: "100m" } } },
    ],
  },
});

test("scale: get and update the replicas of a Deployment", async () => {
  const deployments = client.api(Deployment).namespace(ns.name);
  await deployments.create({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web" },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: { containers: [{ name: "c", image: "registry.invalid/none:1" }] },
      },
    },
  });
  const scale = await deployments.scale.get("web");
  assert.equal(scale.kind, "Scale");
  assert.equal(scale.spec?.replicas, 1);
  const updated = await deployments.scale.update("web", { spec: { replicas: 3 } });
  assert.equal(updated.spec?.replicas, 3);
  assert.equal((await deployments.get("web")).spec?.replicas, 3);
  const patched = await deployments.scale.patch(
    "web",
    { spec: { replicas: 2 } },
    { type: "merge" },
  );
  assert.equal(patched.spec?.replicas, 2);
});

test("serviceaccounts/token: a TokenRequest returns a token with the asked lifetime", async () => {
  const sas = client.api(ServiceAccount).namespace(ns.name);
  await sas.create({ metadata: { name: "robot" } });
  const tr = await sas.createToken("robot", { spec: { expirationSeconds: 600 } });
  assert.equal(tr.kind, "TokenRequest");
  assert.match(tr.status?.token ?? "", /^ey/);
  assert.ok(tr.status?.expirationTimestamp);
});

test("pods: bind to a node, evict, ephemeral containers, resize, and log errors from the server", async () => {
  const pods = client.api(Pod).namespace(ns.name);
  const nodeName = uniqueName("node");
  const node = await client
    .api(Node)
    .create({ apiVersion: "v1", kind: "Node", metadata: { name: nodeName } });
  // Without a kubelet the node reports no capacity; give it some so a resize can be admitted.
  const capacity = { cpu: "4", memory: "8Gi", pods: "110" };
  await client
    .api(Node)
    .status.patch(
      node.metadata!.name!,
      { status: { capacity, allocatable: capacity } },
      { type: "merge" },
    );
  try {
    const p = await pods.create(pod("p1"));
    await pods.bind("p1", { apiVersion: "v1", kind: "Node", name: nodeName });
    assert.equal((await pods.get("p1")).spec?.nodeName, nodeName);

    const withDebug = await pods.updateEphemeralContainers({
      ...(await pods.get("p1")),
      spec: {
        ...p.spec!,
        ephemeralContainers: [{ name: "debug", image: "registry.invalid/busybox:1" }],
      },
    });
    assert.equal(withDebug.spec?.ephemeralContainers?.[0]?.name, "debug");

    const current = await pods.get("p1");
    const resized = await pods.resize({
      ...current,
      spec: {
        ...current.spec!,
        containers: [{ ...current.spec!.containers[0]!, resources: { requests: { cpu: "200m" } } }],
      },
    });
    assert.equal(resized.spec?.containers[0]?.resources?.requests?.cpu, "200m");

    // No kubelet runs, so the server cannot fetch logs: the error is the server's, typed.
    await assert.rejects(pods.logs("p1", { container: "c", tailLines: 5 }), ApiError);

    await pods.create(pod("p2"));
    await pods.evict("p2");
    const gone = await pods.get("p2").catch((e) => e);
    assert.ok(
      isNotFound(gone) || (gone as Pod).metadata?.deletionTimestamp,
      "evicted: deleted or terminating",
    );
  } finally {
    await client.api(Node).delete(nodeName);
  }
});

test("proxy: a request through the API server to a service without endpoints fails with the server's error", async () => {
  await client.request({
    method: "POST",
    path: `/api/v1/namespaces/${ns.name}/services`,
    body: {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "svc" },
      spec: { ports: [{ port: 80 }] },
    },
  });
  const { Service } = await import("../../src/api/core/v1/index.ts");
  await assert.rejects(
    client.api(Service).namespace(ns.name).proxy("svc", "/healthz"),
    (e) => e instanceof ApiError && e.statusCode === 503,
  );
});
