/**
 * The floor: what the same work costs with nothing but Node itself, in its own process.
 * - list-pods: node:http GET, Buffer.concat of the chunks, one JSON.parse.
 * - watch: node:http GET, split on newlines, JSON.parse per line.
 * Plain HTTP against the replay server, no gzip; a client can approach this, not beat it.
 * - informer: the least an informer can be, against the real API server: one node:https watch
 *   with the streaming list (`sendInitialEvents=true`), uncompressed, JSON.parse per line into a
 *   Map until the initial-events-end bookmark, then the update lags from the same stream. No
 *   resume, no relist, no handlers: what Node and V8 cost before any client code.
 */
import { readFileSync } from "node:fs";
import { type IncomingMessage, request } from "node:http";
import { request as httpsRequest } from "node:https";
import { emit, epochMs, main, memory, params, percentile } from "./common.ts";

const { workload, p } = params();

function get(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: "application/json" } }, resolve);
    req.on("error", reject);
    req.end();
  });
}

async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

interface ConfigMapish {
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    annotations?: Record<string, string>;
  };
  data?: Record<string, string>;
}

/** The streaming-list informer floor, with the test kubeconfig's inline CA and client cert. */
async function informerFloor(kubeconfig: string, server: string) {
  const field = (name: string) => {
    const b64 = new RegExp(`${name}:\\s*(\\S+)`).exec(kubeconfig)?.[1];
    if (!b64) throw new Error(`no ${name} in the kubeconfig`);
    return Buffer.from(b64, "base64");
  };
  const tls = {
    ca: field("certificate-authority-data"),
    cert: field("client-certificate-data"),
    key: field("client-key-data"),
  };
  const path = `/api/v1/namespaces/${encodeURIComponent(p.namespace)}/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`;
  const start = performance.now();
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpsRequest(
      `${server}${path}`,
      { ...tls, headers: { accept: "application/json" } },
      resolve,
    );
    req.on("error", reject);
    req.end();
  });
  if (res.statusCode !== 200) throw new Error(`watch: HTTP ${res.statusCode}`);
  const cache = new Map<string, ConfigMapish>();
  const lags: number[] = [];
  let syncMs = 0;
  let synced: ReturnType<typeof memory> | undefined;
  let rest: Buffer | undefined;
  outer: for await (const chunk of res) {
    let buf = chunk as Buffer;
    if (rest) {
      buf = Buffer.concat([rest, buf]);
      rest = undefined;
    }
    let pos = 0;
    for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10, pos)) {
      const ev = JSON.parse(buf.toString("utf8", pos, nl)) as {
        type: string;
        object: ConfigMapish;
      };
      pos = nl + 1;
      const o = ev.object;
      if (ev.type === "BOOKMARK") {
        if (!synced && o.metadata.annotations?.["k8s.io/initial-events-end"] === "true") {
          syncMs = performance.now() - start;
          synced = memory();
          emit({ phase: "synced", syncMs, rssAfterSync: synced.rss, objects: cache.size });
        }
        continue;
      }
      const now = epochMs();
      const key = `${o.metadata.namespace}/${o.metadata.name}`;
      if (ev.type === "DELETED") cache.delete(key);
      else {
        const old = cache.get(key);
        cache.set(key, o);
        if (synced && old && o.data?.run === p.run && lags.length < p.n) {
          lags.push(now - Number(o.data.ts) / 1e6);
          if (lags.length === p.n) break outer;
        }
      }
    }
    if (pos < buf.length) rest = buf.subarray(pos);
  }
  res.destroy();
  if (!synced) throw new Error("the watch ended before the initial events did");
  lags.sort((a, b) => a - b);
  return {
    syncMs,
    rssAfterSync: synced.rss,
    peakRssSync: synced.peakRss,
    peakRss: memory().peakRss,
    objects: cache.size,
    updates: lags.length,
    lagP50: percentile(lags, 0.5),
    lagP99: percentile(lags, 0.99),
    lagMax: lags[lags.length - 1],
  };
}

main(async () => {
  const kubeconfig = readFileSync(p.kubeconfig, "utf8");
  const server = /server:\s*(\S+)/.exec(kubeconfig)?.[1];
  if (!server) throw new Error(`no server in ${p.kubeconfig}`);
  switch (workload) {
    case "informer":
      return informerFloor(kubeconfig, server);
    case "list-pods": {
      JSON.parse((await readAll(await get(`${server}/api/v1/pods?limit=1`))).toString());
      const start = performance.now();
      const list = JSON.parse((await readAll(await get(`${server}/api/v1/pods`))).toString()) as {
        items: unknown[];
      };
      const ms = performance.now() - start;
      return { ms, items: list.items.length, ...memory() };
    }
    case "watch": {
      JSON.parse((await readAll(await get(`${server}/api/v1/pods?limit=1`))).toString());
      const start = performance.now();
      const res = await get(`${server}/api/v1/pods?watch=true`);
      let events = 0;
      let rest: Buffer | undefined;
      outer: for await (const chunk of res) {
        let buf = chunk as Buffer;
        if (rest) {
          buf = Buffer.concat([rest, buf]);
          rest = undefined;
        }
        let pos = 0;
        for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10, pos)) {
          const ev = JSON.parse(buf.toString("utf8", pos, nl)) as { object?: unknown };
          if (!ev.object) throw new Error("an event without an object");
          pos = nl + 1;
          if (++events >= p.n) break outer;
        }
        if (pos < buf.length) rest = buf.subarray(pos);
      }
      const ms = performance.now() - start;
      res.destroy();
      if (events < p.n) throw new Error(`the watch ended after ${events} of ${p.n} events`);
      return { ms, events, eventsPerSec: events / (ms / 1000), ...memory() };
    }
    default:
      return { unsupported: "the floor exists for the replay workloads only" };
  }
});
