/**
 * Informers against the real API server: the shared factory with listers, typed, dynamic and
 * metadata-only informers, waitFor surviving a watch, and the memory an informer holds per object.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ConfigMap } from "../../src/api/core/v1/index.ts";
import { SharedIndexInformer, SharedInformerFactory, waitFor } from "../../src/cache/index.ts";
import type { Client } from "../../src/client/index.ts";
import type { KubernetesObject } from "../../src/core/meta.ts";
import { dynamic, metadata } from "../../src/dynamic/index.ts";
import { testClient, testNamespace } from "../support/cluster.ts";

let client: Client;
let ns: { name: string; remove(): Promise<void> };

before(async () => {
  client = await testClient();
  ns = await testNamespace(client, "kk-inf");
});

after(async () => {
  await ns.remove();
  await client.close();
});

test("a shared factory gives one informer per resource; listers read the synced cache", async () => {
  const cms = client.api(ConfigMap).namespace(ns.name);
  for (const n of ["a", "b", "c"])
    await cms.create({ metadata: { name: n, labels: { tier: n === "c" ? "db" : "web" } } });
  const factory = new SharedInformerFactory(client, { namespace: ns.name });
  const informer = factory.informerFor(ConfigMap);
  assert.equal(factory.informerFor(ConfigMap), informer, "one informer however many ask");
  const added: string[] = [];
  const deleted: string[] = [];
  informer.addEventHandler({
    onAdd: (o) => {
      added.push(o.metadata!.name!);
    },
    onDelete: (o) => {
      deleted.push("obj" in o ? o.obj.metadata!.name! : o.metadata!.name!);
    },
  });
  factory.start();
  const synced = await factory.waitForSync({ timeoutMs: 30_000 });
  assert.deepEqual([...synced.values()], [true]);
  const lister = factory.lister(ConfigMap).namespace(ns.name);
  assert.deepEqual(
    lister
      .list({ tier: "web" })
      .map((o) => o.metadata!.name)
      .sort(),
    ["a", "b"],
  );
  assert.equal(lister.get("c")?.metadata?.labels?.tier, "db");
  await cms.delete("b");
  await cms.create({ metadata: { name: "d" } });
  const deadline = Date.now() + 10_000;
  while ((!deleted.includes("b") || !lister.get("d")) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(deleted, ["b"]);
  assert.ok(lister.get("d"));
  assert.ok(added.includes("a") && added.includes("d"));
  await factory.shutdown();
  assert.ok(informer.isStopped);
});

test("dynamic and metadata-only informers", async () => {
  const cms = client.api(ConfigMap).namespace(ns.name);
  await cms.create({ metadata: { name: "big" }, data: { payload: "x".repeat(10_000) } });
  const ac = new AbortController();
  const dyn = new SharedIndexInformer(
    dynamic(client, {
      group: "",
      version: "v1",
      resource: "configmaps",
      namespaced: true,
    }).namespace(ns.name),
  );
  const meta = new SharedIndexInformer(
    metadata(client, {
      group: "",
      version: "v1",
      resource: "configmaps",
      namespaced: true,
    }).namespace(ns.name) as never,
  );
  const runs = [dyn.run({ signal: ac.signal }), meta.run({ signal: ac.signal })];
  assert.ok(await dyn.waitForSync({ timeoutMs: 30_000 }));
  assert.ok(await meta.waitForSync({ timeoutMs: 30_000 }));
  const full = dyn.indexer.getByKey(`${ns.name}/big`) as KubernetesObject & {
    data?: Record<string, string>;
  };
  const slim = meta.indexer.getByKey(`${ns.name}/big`) as KubernetesObject & {
    data?: unknown;
    kind?: string;
  };
  assert.equal(full?.data?.payload?.length, 10_000);
  assert.equal(slim?.data, undefined, "metadata-only objects carry no data");
  assert.equal(slim?.metadata?.name, "big");
  ac.abort();
  await Promise.all(runs);
});

test("waitFor sees a condition come true, and a deletion", async () => {
  const cms = client.api(ConfigMap).namespace(ns.name);
  await cms.create({ metadata: { name: "w" }, data: { ready: "no" } });
  const waiting = waitFor(cms, "w", (o) => o?.data?.ready === "yes", { timeoutMs: 20_000 });
  await new Promise((r) => setTimeout(r, 200));
  await cms.patch("w", { data: { ready: "yes" } }, { type: "merge" });
  const got = await waiting;
  assert.equal(got?.data?.ready, "yes");
  const gone = waitFor(cms, "w", (o) => o === undefined, { timeoutMs: 20_000 });
  await cms.delete("w");
  assert.equal(await gone, undefined);
  await assert.rejects(
    waitFor(cms, "never", (o) => o !== undefined, { timeoutMs: 300 }),
    /not met within 300 ms/,
  );
});
