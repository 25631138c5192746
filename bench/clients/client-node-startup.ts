/** Start-up: a fresh process imports @kubernetes/client-node and makes its first request. */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const t0 = performance.now();
const resolved = createRequire(`${process.env.KUBEKIT_BENCH_REPO}/package.json`).resolve(
  "@kubernetes/client-node",
);
const k8s = (await import(
  pathToFileURL(resolved).href
)) as typeof import("@kubernetes/client-node");
const t1 = performance.now();
const p = JSON.parse(process.argv[3] ?? "{}") as {
  kubeconfig: string;
  namespace: string;
  name: string;
};
const kc = new k8s.KubeConfig();
kc.loadFromFile(p.kubeconfig);
await kc
  .makeApiClient(k8s.CoreV1Api)
  .readNamespacedConfigMap({ name: p.name, namespace: p.namespace });
const t2 = performance.now();
const status = (await import("node:fs")).readFileSync("/proc/self/status", "utf8");
const kb = (f: string) => Number(new RegExp(`^${f}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0) * 1024;
process.stdout.write(
  `${JSON.stringify({ ms: t2 - t0, importMs: t1 - t0, requestMs: t2 - t1, sinceProcessStart: t2, rss: kb("VmRSS"), peakRss: kb("VmHWM") })}\n`,
);
process.exit(0);
