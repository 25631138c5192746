/**
 * Measures the heap an informer holds per object: 10,000 ConfigMaps (created with server-side
 * apply, so each carries managedFields), cached once as they come and once with a transform that
 * drops managedFields. Run with `node --expose-gc scripts/informer-memory.ts` against the test
 * control plane (started if needed); prints bytes per object.
 */
import { ConfigMap } from "../src/api/core/v1/index.ts";
import { SharedIndexInformer } from "../src/cache/index.ts";
import { Client } from "../src/client/index.ts";
import { loadConfig } from "../src/config/index.ts";
import { down, up } from "../test/controlplane/controlplane.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");
const N = Number(process.env.N ?? 10_000);
const started = await up({ log: (l) => console.error(`[controlplane] ${l}`) });
const client = new Client(
  await loadConfig({ kubeconfig: started.state.kubeconfig, env: {}, inCluster: false }),
  { qps: -1 },
);
const ns = `kk-mem-${Date.now()}`;
await client.request({
  method: "POST",
  path: "/api/v1/namespaces",
  body: { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } },
});
try {
  const cms = client.api(ConfigMap).namespace(ns);
  for (let i = 0; i < N; i += 64) {
    await Promise.all(
      Array.from({ length: Math.min(64, N - i) }, (_, j) =>
        cms.apply(
          {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: `cm-${i + j}`, labels: { app: "mem", shard: String((i + j) % 10) } },
            data: { key: `value-${i + j}`, other: "x".repeat(40) },
          },
          { fieldManager: "kubekit-mem" },
        ),
      ),
    );
  }
  const modes = [
    ["as served", undefined],
    [
      "managedFields dropped",
      (o: ConfigMap) => {
        delete o.metadata?.managedFields;
        return o;
      },
    ],
  ] as const;
  // Each mode in its own process (MODE=0 or 1): a second informer in one process would be measured
  // against a heap still holding the first one's garbage.
  for (const [label, transform] of [modes[Number(process.env.MODE ?? 0)]!]) {
    gc();
    const before = process.memoryUsage().heapUsed;
    const ac = new AbortController();
    const informer = new SharedIndexInformer(cms, transform ? { transform } : {});
    const run = informer.run({ signal: ac.signal });
    await informer.waitForSync();
    gc();
    const after = process.memoryUsage().heapUsed;
    console.log(
      `${label}: ${informer.indexer.size} objects, ${Math.round((after - before) / informer.indexer.size)} bytes/object on the heap`,
    );
    ac.abort();
    await run;
  }
} finally {
  await client.request({ method: "DELETE", path: `/api/v1/namespaces/${ns}` }).catch(() => {});
  await client.close();
  if (started.started) await down({ log: () => {} });
}
