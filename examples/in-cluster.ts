/**
 * client-go's in-cluster-client-configuration example: run inside a pod, authenticate with its
 * service account (the token file is re-read, so rotated tokens keep working) and list pods.
 */
import { Client } from "kubekit";
import { Pod } from "kubekit/api/core/v1";
import { inClusterConfig } from "kubekit/config";

const config = await inClusterConfig();
const client = new Client(config);
for (;;) {
  const pods = await client.api(Pod).list();
  console.log(
    `There are ${pods.items.length} pods in the cluster (this pod's namespace: ${config.namespace})`,
  );
  await new Promise((r) => setTimeout(r, 10_000));
}
