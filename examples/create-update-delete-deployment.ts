/**
 * client-go's create-update-delete-deployment example with the typed client: create a
 * Deployment, update it with get-modify-update inside `retryOnConflict` (another writer may change
 * it between our read and our write), list, and delete it with foreground propagation.
 */
import { Client } from "kubekit";
import { Deployment } from "kubekit/api/apps/v1";
import { retryOnConflict } from "kubekit/apply";
import { loadConfig } from "kubekit/config";

const client = new Client(await loadConfig());
const deployments = client.api(Deployment).namespace("default");

console.log("Creating deployment...");
const created = await deployments.create({
  metadata: { name: "demo-deployment-typed" },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: "demo-typed" } },
    template: {
      metadata: { labels: { app: "demo-typed" } },
      spec: {
        containers: [
          {
            name: "web",
            image: "nginx:1.12",
            ports: [{ name: "http", protocol: "TCP", containerPort: 80 }],
          },
        ],
      },
    },
  },
});
console.log(`Created deployment ${created.metadata?.name}.`);

console.log("Updating deployment...");
await retryOnConflict(async () => {
  const current = await deployments.get("demo-deployment-typed");
  current.spec!.replicas = 1;
  current.spec!.template.spec!.containers[0]!.image = "nginx:1.13";
  await deployments.update(current);
});
console.log("Updated deployment...");

for (const d of (await deployments.list()).items)
  console.log(` * ${d.metadata?.name} (${d.spec?.replicas} replicas)`);

console.log("Deleting deployment...");
await deployments.delete("demo-deployment-typed", { propagationPolicy: "Foreground" });
console.log("Deleted deployment.");
await client.close();
