/**
 * The foundation's smoke test: the control plane the suite runs against is a real, working
 * Kubernetes. Plain HTTPS with the kubeconfig's certificates; kubekit's own client is not involved.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { dirname, resolve } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { parse } from "yaml";
import { expectedServerVersion, testKubeconfig, uniqueName } from "../support/cluster.ts";

interface Conn {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
}

function connection(): Conn {
  const path = testKubeconfig();
  const kc = parse(readFileSync(path, "utf8"));
  const ctx = kc.contexts.find((c: { name: string }) => c.name === kc["current-context"]).context;
  const cluster = kc.clusters.find((c: { name: string }) => c.name === ctx.cluster).cluster;
  const user = kc.users.find((u: { name: string }) => u.name === ctx.user)?.user ?? {};
  const dir = dirname(path);
  const material = (data?: string, file?: string) =>
    data ? Buffer.from(data, "base64") : file ? readFileSync(resolve(dir, file)) : undefined;
  return {
    server: cluster.server,
    ca: material(cluster["certificate-authority-data"], cluster["certificate-authority"]),
    cert: material(user["client-certificate-data"], user["client-certificate"]),
    key: material(user["client-key-data"], user["client-key"]),
    token: user.token,
  };
}

const conn = connection();

// biome-ignore lint/suspicious/noExplicitAny: wire JSON read ad hoc by a smoke test
type Json = any;

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Json }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return await new Promise((res, rej) => {
    const req = request(
      new URL(path, conn.server),
      {
        method,
        ca: conn.ca,
        cert: conn.cert,
        key: conn.key,
        headers: {
          accept: "application/json",
          ...(conn.token ? { authorization: `Bearer ${conn.token}` } : {}),
          ...(payload ? { "content-type": "application/json" } : {}),
        },
      },
      (resp) => {
        let text = "";
        resp.setEncoding("utf8");
        resp.on("data", (d: string) => {
          text += d;
        });
        resp.on("end", () =>
          res({ status: resp.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }),
        );
      },
    );
    req.on("error", rej);
    req.end(payload);
  });
}

test("/version reports the Kubernetes version the control plane was built at", async () => {
  const r = await call("GET", "/version");
  assert.equal(r.status, 200);
  assert.match(r.json.gitVersion, /^v1\.\d+\.\d+/);
  const want = expectedServerVersion();
  if (want) assert.equal(r.json.gitVersion, want);
});

test("/api and /apis answer with the core and named groups", async () => {
  const api = await call("GET", "/api");
  assert.equal(api.status, 200);
  assert.equal(api.json.kind, "APIVersions");
  assert.deepEqual(api.json.versions, ["v1"]);
  const apis = await call("GET", "/apis");
  assert.equal(apis.status, 200);
  assert.equal(apis.json.kind, "APIGroupList");
  const names = apis.json.groups.map((g: { name: string }) => g.name);
  for (const g of ["apps", "batch", "coordination.k8s.io", "rbac.authorization.k8s.io"]) {
    assert.ok(names.includes(g), `${g} is served`);
  }
});

test("a namespace can be created, read and deleted, and then disappears", async () => {
  const name = uniqueName("kubekit-smoke");
  const created = await call("POST", "/api/v1/namespaces", {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name },
  });
  assert.equal(created.status, 201);
  const got = await call("GET", `/api/v1/namespaces/${name}`);
  assert.equal(got.status, 200);
  assert.equal(got.json.metadata.uid, created.json.metadata.uid);
  const deleted = await call("DELETE", `/api/v1/namespaces/${name}`);
  assert.equal(deleted.status, 200);
  // Only kube-controller-manager's namespace controller removes the `kubernetes` finalizer, so
  // seeing the 404 proves it runs.
  const deadline = Date.now() + 60_000;
  let last = 0;
  while (Date.now() < deadline) {
    last = (await call("GET", `/api/v1/namespaces/${name}`)).status;
    if (last === 404) break;
    await sleep(250);
  }
  assert.equal(last, 404, "the namespace finished deleting");
});

test("kube-controller-manager runs: the default ServiceAccount and kube-root-ca.crt exist", async () => {
  const sa = await call("GET", "/api/v1/namespaces/default/serviceaccounts/default");
  assert.equal(sa.status, 200);
  const deadline = Date.now() + 30_000;
  let cm = await call("GET", "/api/v1/namespaces/default/configmaps/kube-root-ca.crt");
  while (cm.status !== 200 && Date.now() < deadline) {
    await sleep(250);
    cm = await call("GET", "/api/v1/namespaces/default/configmaps/kube-root-ca.crt");
  }
  assert.equal(cm.status, 200);
  assert.match(cm.json.data["ca.crt"], /BEGIN CERTIFICATE/);
});
