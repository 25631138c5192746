/**
 * The README's quick look, type-checked with the rest of the project.
 * Run: `node --conditions=kubekit-source examples/quick-look.ts` (it needs a cluster and runs until stopped).
 */
import { Client, isNotFound } from "kubekit";
import { Deployment } from "kubekit/api/apps/v1";
import { ConfigMap, Pod } from "kubekit/api/core/v1";
import { SharedInformerFactory, watcher } from "kubekit/cache";
import { loadConfig } from "kubekit/config";

const client = new Client(await loadConfig()); // kubeconfig as kubectl reads it, or in-cluster
const pods = client.api(Pod).namespace("web"); // Api<Pod, true>: no strings, no plurals

const list = await pods.list({ labelSelector: { app: "web", tier: { notIn: ["db"] } } });
for (const pod of list.items) console.log(pod.metadata?.name, pod.status?.phase);

try {
  await client.api(ConfigMap).namespace("web").get("settings");
} catch (err) {
  if (!isNotFound(err)) throw err; // ApiError carries the server's Status
}

await client
  .api(Deployment)
  .namespace("web")
  .scale.update("frontend", { spec: { replicas: 3 } });

// A watch that heals itself: relists on 410, resumes after disconnects, never ends on an error.
const ac = new AbortController();
for await (const ev of watcher(pods, {
  signal: ac.signal,
  onError: (e, phase) => console.warn(phase, e),
})) {
  if (ev.type === "apply") console.log("changed", ev.object.metadata?.name);
}

// Shared informers with listers, as client-go's.
const factory = new SharedInformerFactory(client, { namespace: "web" });
factory.informerFor(Pod).addEventHandler({ onAdd: (p) => console.log("pod", p.metadata?.name) });
factory.start();
await factory.waitForSync();
console.log(factory.lister(Pod).namespace("web").list({ app: "web" }).length);
await factory.shutdown();
