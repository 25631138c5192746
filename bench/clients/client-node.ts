/**
 * @kubernetes/client-node's side of each workload, in its own process, used as its README shows:
 * `KubeConfig.loadFromFile`, `makeApiClient(CoreV1Api)`, `Watch` and `makeInformer`. It has no
 * client-side rate limiter, so none needs turning off.
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import type * as ClientNode from "@kubernetes/client-node";
import { concurrently, emit, epochMs, latencyResult, main, memory, params } from "./common.ts";

const { workload, p } = params();

/** The repository's copy (a dev dependency), found from the path the orchestrator passes. */
async function load(): Promise<typeof ClientNode> {
  const from = process.env.KUBEKIT_BENCH_REPO;
  if (!from) throw new Error("KUBEKIT_BENCH_REPO is not set");
  const resolved = createRequire(`${from}/package.json`).resolve("@kubernetes/client-node");
  return (await import(pathToFileURL(resolved).href)) as typeof ClientNode;
}

main(async () => {
  const k8s = await load();
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(p.kubeconfig);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  switch (workload) {
    case "list-pods": {
      await core.listPodForAllNamespaces({ limit: 1 });
      const start = performance.now();
      const list = await core.listPodForAllNamespaces();
      const ms = performance.now() - start;
      return { ms, items: list.items.length, ...memory() };
    }
    case "list": {
      await core.listNamespacedConfigMap({ namespace: p.namespace, limit: 1 });
      const start = performance.now();
      let items: ClientNode.V1ConfigMap[] = [];
      let pages = 0;
      if (p.limit > 0) {
        let token: string | undefined;
        do {
          const page = await core.listNamespacedConfigMap({
            namespace: p.namespace,
            limit: p.limit,
            ...(token ? { _continue: token } : {}),
          });
          pages++;
          for (const item of page.items) items.push(item);
          token = page.metadata?._continue || undefined;
        } while (token);
      } else {
        items = (await core.listNamespacedConfigMap({ namespace: p.namespace })).items;
        pages = 1;
      }
      const ms = performance.now() - start;
      return { ms, items: items.length, pages, ...memory() };
    }
    case "get": {
      const req = { name: p.name, namespace: p.namespace };
      await core.readNamespacedConfigMap(req);
      return latencyResult(
        p.n,
        await concurrently(p.n, p.c, () => core.readNamespacedConfigMap(req)),
      );
    }
    case "watch": {
      await core.listPodForAllNamespaces({ limit: 1 });
      const start = performance.now();
      let events = 0;
      let abort: AbortController | undefined;
      await new Promise<void>((resolve, reject) => {
        void new k8s.Watch(kc)
          .watch(
            "/api/v1/pods",
            {},
            (_type: string, obj: ClientNode.V1Pod) => {
              if (events >= p.n) return;
              if (obj.metadata?.name === undefined) reject(new Error("an event without a pod"));
              if (++events >= p.n) resolve();
            },
            (err: unknown) => {
              if (events < p.n)
                reject(err ?? new Error(`the watch ended after ${events} of ${p.n} events`));
            },
          )
          .then((c) => {
            abort = c;
          }, reject);
      });
      const ms = performance.now() - start;
      abort?.abort();
      return { ms, events, eventsPerSec: events / (ms / 1000), ...memory() };
    }
    case "informer": {
      const informer = k8s.makeInformer<ClientNode.V1ConfigMap>(
        kc,
        `/api/v1/namespaces/${p.namespace}/configmaps`,
        () => core.listNamespacedConfigMap({ namespace: p.namespace }),
      );
      const lags: number[] = [];
      let resolveDone: () => void = () => {};
      const done = new Promise<void>((r) => {
        resolveDone = r;
      });
      informer.on("update", (cm) => {
        const now = epochMs();
        if (cm.data?.run !== p.run || lags.length >= p.n) return;
        lags.push(now - Number(cm.data.ts) / 1e6);
        if (lags.length === p.n) resolveDone();
      });
      informer.on("error", (err) => {
        process.stderr.write(`informer error: ${String(err)}\n`);
      });
      const start = performance.now();
      await informer.start();
      const syncMs = performance.now() - start;
      const synced = memory();
      const objects = informer.list().length;
      emit({ phase: "synced", syncMs, rssAfterSync: synced.rss, objects });
      const timeout = setTimeout(resolveDone, Math.max(120_000, p.n * 50));
      await done;
      clearTimeout(timeout);
      await informer.stop();
      lags.sort((a, b) => a - b);
      const pct = (q: number) => lags[Math.min(lags.length - 1, Math.round(q * lags.length) - 1)];
      return {
        syncMs,
        rssAfterSync: synced.rss,
        peakRssSync: synced.peakRss,
        peakRss: memory().peakRss,
        objects,
        updates: lags.length,
        lagP50: pct(0.5),
        lagP99: pct(0.99),
        lagMax: lags[lags.length - 1],
      };
    }
    default:
      throw new Error(`unknown workload ${workload}`);
  }
});
