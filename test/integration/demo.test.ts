/**
 * `npm run demo` end to end against the test cluster: it takes the lease, creates its ConfigMap in
 * each namespace labelled demo=on, puts one back after it is deleted, records Events, and stops
 * cleanly (releasing the lease).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { test } from "node:test";
import { ConfigMap, Namespace } from "../../src/api/core/v1/index.ts";
import { isNotFound } from "../../src/core/errors.ts";
import { testClient, testKubeconfig, uniqueName } from "../support/cluster.ts";

test("the demo controller creates, repairs and reports, then stops by itself", {
  timeout: 120_000,
}, async () => {
  const client = await testClient();
  const ns = uniqueName("kk-demo");
  await client.api(Namespace).create({ metadata: { name: ns, labels: { demo: "on" } } });
  const root = resolve(import.meta.dirname, "../..");
  const child = spawn(
    process.execPath,
    [
      "--conditions=kubekit-source",
      "examples/demo/main.ts",
      "--duration",
      "15",
      "--identity",
      "demo-test",
      "--no-local",
    ],
    {
      cwd: root,
      env: { ...process.env, KUBECONFIG: testKubeconfig() },
    },
  );
  let out = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  child.stderr.on("data", (d) => {
    out += d;
  });
  const exited = new Promise<number>((r) => child.on("close", (c) => r(c ?? 1)));
  const cms = client.api(ConfigMap).namespace(ns);
  const until = async (what: string, check: () => Promise<boolean>) => {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (await check().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`timed out waiting for ${what}; demo said:\n${out}`);
  };
  try {
    await until("the demo's ConfigMap", async () => Boolean(await cms.get("kubekit-demo")));
    await cms.delete("kubekit-demo");
    await until("the ConfigMap put back", async () => Boolean(await cms.get("kubekit-demo")));
    assert.equal(await exited, 0, out);
    assert.match(out, /demo-test is the leader/);
    assert.match(out, new RegExp(`created ConfigMap ${ns}/kubekit-demo`));
    assert.match(out, /demo-test stopped leading/);
    const events = await client.request<{
      items: { reason: string; regarding: { name: string; kind?: string } }[];
    }>({
      method: "GET",
      path: "/apis/events.k8s.io/v1/namespaces/default/events",
    });
    assert.ok(
      events.items.some(
        (e) =>
          e.regarding.name === ns && e.regarding.kind === "Namespace" && e.reason === "Created",
      ),
    );
  } finally {
    child.kill();
    await client
      .api(Namespace)
      .delete(ns)
      .catch((e) => {
        if (!isNotFound(e)) throw e;
      });
    await client.close();
  }
});
