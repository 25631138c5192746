/**
 * client-go's out-of-cluster-client-configuration example: load the kubeconfig as kubectl does
 * (`--kubeconfig`, then KUBECONFIG, then ~/.kube/config) and list pods every 10 seconds.
 *
 *   node --conditions=kubekit-source examples/out-of-cluster.ts [--kubeconfig path]
 */
import { parseArgs } from "node:util";
import { Client, isNotFound } from "kubekit";
import { Pod } from "kubekit/api/core/v1";
import { loadConfig } from "kubekit/config";

const { values } = parseArgs({
  options: { kubeconfig: { type: "string" }, once: { type: "boolean" } },
});
const client = new Client(
  await loadConfig(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
);
const ac = new AbortController();
process.once("SIGINT", () => ac.abort());

while (!ac.signal.aborted) {
  const pods = await client.api(Pod).list({ signal: ac.signal });
  console.log(`There are ${pods.items.length} pods in the cluster`);
  try {
    const pod = await client
      .api(Pod)
      .namespace("default")
      .get("example-xxxxx", { signal: ac.signal });
    console.log(`Found example-xxxxx pod in default namespace (${pod.status?.phase})`);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    console.log("Pod example-xxxxx in namespace default not found");
  }
  if (values.once) break;
  await new Promise((r) => setTimeout(r, 10_000));
}
await client.close();
