/**
 * What integration tests know about the cluster they run against. `scripts/test.ts` starts (or
 * reuses) the control plane and passes its admin kubeconfig in `KUBEKIT_TEST_KUBECONFIG`; a user may
 * set that variable to run the tests against any other cluster.
 */
import { randomBytes } from "node:crypto";
import { Client, type ClientOptions } from "../../src/client/index.ts";
import { loadConfig } from "../../src/config/index.ts";

export function testKubeconfig(): string {
  const path = process.env.KUBEKIT_TEST_KUBECONFIG;
  if (!path) {
    throw new Error(
      "KUBEKIT_TEST_KUBECONFIG is not set: run integration tests through `npm test` / `npm run test:integration`, " +
        "or start a cluster with `npm run cluster -- up` and set it to .kubekit/cluster/kubeconfig",
    );
  }
  return path;
}

/** The Kubernetes version the test control plane was built at, when the tests run against it. */
export function expectedServerVersion(): string | undefined {
  const v = process.env.KUBEKIT_TEST_K8S_VERSION;
  return v ? `v${v}` : undefined;
}

/** A name no other test (or earlier run against the same cluster) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** A kubekit Client for the test cluster, with the rate limit off unless a test asks for one. */
export async function testClient(options: ClientOptions = {}): Promise<Client> {
  const config = await loadConfig({ kubeconfig: testKubeconfig(), env: {}, inCluster: false });
  return new Client(config, { qps: -1, ...options });
}

/** A fresh namespace for one test file, deleted (without waiting) by the returned function. */
export async function testNamespace(
  client: Client,
  prefix = "kk",
): Promise<{ name: string; remove(): Promise<void> }> {
  const name = uniqueName(prefix);
  await client.request({
    method: "POST",
    path: "/api/v1/namespaces",
    body: { apiVersion: "v1", kind: "Namespace", metadata: { name } },
  });
  return {
    name,
    remove: async () => {
      await client
        .request({ method: "DELETE", path: `/api/v1/namespaces/${name}` })
        .catch(() => {});
    },
  };
}

/**
 * Compacts etcd's history up to its current revision, so that every older resourceVersion is gone
 * (resuming from one is a 410). Only possible against kubekit's own control plane, whose etcd URL
 * is in its state file; returns false elsewhere.
 */
export async function compactEtcd(): Promise<boolean> {
  const { readFile } = await import("node:fs/promises");
  const { clusterDir } = await import("../controlplane/controlplane.ts");
  let etcdUrl: string;
  try {
    const state = JSON.parse(await readFile(`${clusterDir}/state.json`, "utf8"));
    if (state.kubeconfig !== testKubeconfig()) return false;
    etcdUrl = state.etcdUrl;
  } catch {
    return false;
  }
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${etcdUrl}${path}`, { method: "POST", body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`etcd ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { header: { revision: string } };
  };
  const { header } = await post("/v3/kv/range", {
    key: Buffer.from("/").toString("base64"),
    limit: 1,
  });
  await post("/v3/kv/compaction", { revision: header.revision, physical: true });
  return true;
}
