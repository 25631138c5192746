/**
 * client-go's dynamic-create-update-delete-deployment example: the same flow as the typed one,
 * with the dynamic client and plain JSON objects.
 */
import { Client, isConflict } from "kubekit";
import { loadConfig } from "kubekit/config";
import { dynamic, type Unstructured } from "kubekit/dynamic";

const client = new Client(await loadConfig());
const deployments = dynamic(client, {
  group: "apps",
  version: "v1",
  resource: "deployments",
  namespaced: true,
}).namespace("default");

const deployment: Unstructured = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "demo-deployment" },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: "demo" } },
    template: {
      metadata: { labels: { app: "demo" } },
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
};
console.log("Creating deployment...");
const created = await deployments.create(deployment);
console.log(`Created deployment ${created.metadata?.name}.`);

console.log("Updating deployment...");
for (let attempt = 0; ; attempt++) {
  const current = await deployments.get("demo-deployment");
  const spec = current.spec as {
    replicas: number;
    template: { spec: { containers: { image: string }[] } };
  };
  spec.replicas = 1;
  spec.template.spec.containers[0]!.image = "nginx:1.13";
  try {
    await deployments.update(current);
    break;
  } catch (err) {
    if (!isConflict(err) || attempt >= 5) throw err;
  }
}
console.log("Updated deployment...");

for (const d of (await deployments.list()).items)
  console.log(` * ${d.metadata?.name} (${(d.spec as { replicas: number }).replicas} replicas)`);

console.log("Deleting deployment...");
await deployments.delete("demo-deployment", { propagationPolicy: "Foreground" });
console.log("Deleted deployment.");
await client.close();
