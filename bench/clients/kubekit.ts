/**
 * kubekit's side of each workload, in its own process. It imports kubekit as a user would: the
 * packed tarball installed in the bench's runtime folder (`import("kubekit")` resolves there,
 * because the orchestrator puts this file, type-stripped, beside that install).
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type * as CoreV1 from "../../src/api/core/v1/index.ts";
import type * as Cache from "../../src/cache/index.ts";
import type * as Config from "../../src/config/index.ts";
import type * as Root from "../../src/index.ts";
import { concurrently, emit, epochMs, latencyResult, main, memory, params } from "./common.ts";

const { workload, p } = params();

/** A subpath of the installed package; by file when the package does not export it. */
async function load<T>(subpath: string): Promise<T> {
  const spec = subpath ? `kubekit/${subpath}` : "kubekit";
  try {
    return (await import(spec)) as T;
  } catch (err) {
    if ((err as { code?: string }).code !== "ERR_PACKAGE_PATH_NOT_EXPORTED") throw err;
    const dir = join(import.meta.dirname, "node_modules", "kubekit", "dist", subpath, "index.js");
    return (await import(pathToFileURL(dir).href)) as T;
  }
}

main(async () => {
  const { Client } = await load<typeof Root>("");
  const { loadConfig } = await load<typeof Config>("config");
  const { ConfigMap, Pod } = await load<typeof CoreV1>("api/core/v1");
  const client = new Client(await loadConfig({ kubeconfig: p.kubeconfig }), { qps: -1 });
  switch (workload) {
    case "list-pods": {
      const pods = client.api(Pod);
      await pods.list({ limit: 1 });
      const start = performance.now();
      const list = await pods.list();
      const ms = performance.now() - start;
      return { ms, items: list.items.length, ...memory() };
    }
    case "list": {
      const cms = client.api(ConfigMap).namespace(p.namespace);
      await cms.list({ limit: 1 });
      const start = performance.now();
      let items: CoreV1.ConfigMap[] = [];
      let pages = 0;
      if (p.limit > 0) {
        for await (const page of cms.listPages({ limit: p.limit })) {
          pages++;
          if (page.restarted) items = [];
          for (const item of page.items) items.push(item);
        }
      } else {
        items = (await cms.list()).items;
        pages = 1;
      }
      const ms = performance.now() - start;
      return { ms, items: items.length, pages, ...memory() };
    }
    case "get": {
      const cms = client.api(ConfigMap).namespace(p.namespace);
      await cms.get(p.name);
      return latencyResult(p.n, await concurrently(p.n, p.c, () => cms.get(p.name)));
    }
    case "watch": {
      const pods = client.api(Pod);
      await pods.list({ limit: 1 });
      const start = performance.now();
      let events = 0;
      for await (const ev of pods.watch()) {
        if (ev.object.metadata?.name === undefined) throw new Error("an event without a pod");
        if (++events >= p.n) break;
      }
      const ms = performance.now() - start;
      if (events < p.n) throw new Error(`the watch ended after ${events} of ${p.n} events`);
      return { ms, events, eventsPerSec: events / (ms / 1000), ...memory() };
    }
    case "informer": {
      const { SharedIndexInformer } = await load<typeof Cache>("cache");
      const informer = new SharedIndexInformer(client.api(ConfigMap).namespace(p.namespace));
      const lags: number[] = [];
      let resolveDone: () => void = () => {};
      const done = new Promise<void>((r) => {
        resolveDone = r;
      });
      informer.addEventHandler({
        onUpdate(_old, cm) {
          const now = epochMs();
          if (cm.data?.run !== p.run || lags.length >= p.n) return;
          lags.push(now - Number(cm.data.ts) / 1e6);
          if (lags.length === p.n) resolveDone();
        },
      });
      const stop = new AbortController();
      const start = performance.now();
      const running = informer.run({ signal: stop.signal });
      await informer.waitForSync();
      const syncMs = performance.now() - start;
      const synced = memory();
      const objects = informer.indexer.list().length;
      emit({ phase: "synced", syncMs, rssAfterSync: synced.rss, objects });
      const timeout = setTimeout(resolveDone, Math.max(120_000, p.n * 50));
      await done;
      clearTimeout(timeout);
      stop.abort();
      await running;
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
