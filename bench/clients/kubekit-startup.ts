/**
 * Start-up: a fresh process imports kubekit and kubekit/api/core/v1 (the installed package, as
 * compiled JavaScript) and makes its first request. Nothing else is loaded first.
 */
const t0 = performance.now();
const spec = (s: string) => s;
const { Client } = (await import(spec("kubekit"))) as typeof import("../../src/index.ts");
const { loadConfig } = (await import(
  spec("kubekit/config")
)) as typeof import("../../src/config/index.ts");
const { ConfigMap } = (await import(
  spec("kubekit/api/core/v1")
)) as typeof import("../../src/api/core/v1/index.ts");
const t1 = performance.now();
const p = JSON.parse(process.argv[3] ?? "{}") as {
  kubeconfig: string;
  namespace: string;
  name: string;
};
const client = new Client(await loadConfig({ kubeconfig: p.kubeconfig }));
await client.api(ConfigMap).namespace(p.namespace).get(p.name);
const t2 = performance.now();
const status = (await import("node:fs")).readFileSync("/proc/self/status", "utf8");
const kb = (f: string) => Number(new RegExp(`^${f}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0) * 1024;
process.stdout.write(
  `${JSON.stringify({ ms: t2 - t0, importMs: t1 - t0, requestMs: t2 - t1, sinceProcessStart: t2, rss: kb("VmRSS"), peakRss: kb("VmHWM") })}\n`,
);
process.exit(0);
