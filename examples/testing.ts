/**
 * Testing a reconciler without a cluster: `ensureConfigMap` keeps a ConfigMap named
 * `kubekit-demo` in a namespace, as the demo controller does. Here it runs against a fake client
 * (kubekit/testing): the seeded objects are served by an in-memory API server, every request is
 * recorded as an action, and a reactor makes the first update lose a race, so the retry is tested
 * too.
 */
import assert from "node:assert/strict";
import { type Client, isAlreadyExists } from "kubekit";
import { ConfigMap } from "kubekit/api/core/v1";
import { retryOnConflict } from "kubekit/apply";
import { fakeClient, newConflict } from "kubekit/testing";

/** The code under test: create the ConfigMap, or put its data back if someone changed it. */
async function ensureConfigMap(client: Client, namespace: string): Promise<void> {
  const cms = client.api(ConfigMap).namespace(namespace);
  const want = { greeting: "hello" };
  try {
    await cms.create({ metadata: { name: "kubekit-demo" }, data: want });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    await retryOnConflict(async () => {
      const current = await cms.get("kubekit-demo");
      await cms.update({ ...current, data: want });
    });
  }
}

const fake = fakeClient({
  objects: [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "kubekit-demo", namespace: "web" }, // its namespace is created too
      data: { greeting: "edited by hand" },
    },
  ],
});
let updates = 0;
fake.prependReactor("update", "configmaps", () => {
  // The first update loses a race with another writer; later ones reach the server.
  if (updates++ === 0) throw newConflict({ group: "", resource: "configmaps" }, "kubekit-demo");
  return undefined;
});

await ensureConfigMap(fake.client, "shop");
await ensureConfigMap(fake.client, "web");
// What the reconciler sent: a create each, then get + update twice for the conflict in "web".
for (const a of fake.actions) console.log(`${a.verb} ${a.namespace}/${a.name ?? ""}`);

for (const ns of ["shop", "web"]) {
  const cm = await fake.client.api(ConfigMap).namespace(ns).get("kubekit-demo");
  assert.deepEqual(cm.data, { greeting: "hello" });
}
console.log("both ConfigMaps hold the wanted data");
await fake.close();
