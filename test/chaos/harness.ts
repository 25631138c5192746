/**
 * Fault injection for informers against the real control plane: writers that keep changing
 * objects, a TCP proxy that can go silent or drop every connection, kube-apiserver killed with
 * SIGKILL, etcd compaction; and the checks that must hold after each fault — the cache equals a
 * fresh list, every deletion was reported exactly once, no handler saw a resourceVersion go back,
 * and nothing leaked.
 *
 * Used by test/integration/informer-faults.test.ts (a short run inside `npm test`) and by
 * scripts/chaos.ts (`npm run test:chaos`, the full counts).
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { DeletedFinalStateUnknown, type SharedIndexInformer } from "../../src/cache/index.ts";
import type { Api } from "../../src/client/api.ts";
import type { KubernetesObject } from "../../src/core/meta.ts";
import { handles } from "../support/leaks.ts";

/** A TCP proxy to the API server that a test can silence (no FIN, no RST) or cut. */
export class FaultProxy {
  readonly #target: { host: string; port: number };
  readonly #server: Server;
  readonly #pairs = new Set<[Socket, Socket]>();
  #silent = false;
  port = 0;

  constructor(target: URL) {
    this.#target = { host: target.hostname, port: Number(target.port) };
    this.#server = createServer((client) => this.#accept(client));
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.#server.listen(0, "127.0.0.1", r));
    this.port = (this.#server.address() as { port: number }).port;
    return `https://127.0.0.1:${this.port}`;
  }

  #accept(client: Socket): void {
    const upstream = connect(this.#target.port, this.#target.host);
    const pair: [Socket, Socket] = [client, upstream];
    this.#pairs.add(pair);
    const forward = (from: Socket, to: Socket) => {
      from.on("data", (chunk) => {
        // While silent, bytes are swallowed: the peer sees a connection that is open but dead.
        if (!this.#silent) to.write(chunk);
      });
    };
    forward(client, upstream);
    forward(upstream, client);
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.#pairs.delete(pair);
    };
    client.on("close", close).on("error", close);
    upstream.on("close", close).on("error", close);
  }

  /** Stops forwarding without closing anything, for `ms`. */
  async silence(ms: number): Promise<void> {
    this.#silent = true;
    await sleep(ms);
    this.#silent = false;
  }

  /** Drops every connection at once (RST). */
  cut(): void {
    for (const [a, b] of this.#pairs) {
      a.resetAndDestroy();
      b.resetAndDestroy();
    }
    this.#pairs.clear();
  }

  get connections(): number {
    return this.#pairs.size;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((r) => this.#server.close(r));
  }
}

const rvNum = (o: KubernetesObject) => Number(o.metadata?.resourceVersion ?? 0);
const keyOf = (o: KubernetesObject) => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;

/** Watches what an informer tells its handler and notes every broken promise. */
export class Tracker<T extends KubernetesObject> {
  readonly lastRv = new Map<string, number>();
  readonly deletes = new Map<string, number>();
  readonly violations: string[] = [];
  events = 0;
  tombstones = 0;
  delayMs = 0;
  /** Notifications whose (slow) handling has not finished. */
  pending = 0;

  handler() {
    const seen = (o: T, what: string) => {
      const k = keyOf(o);
      const rv = rvNum(o);
      const last = this.lastRv.get(k);
      if (last !== undefined && rv < last)
        this.violations.push(`${what} ${k}: resourceVersion went back from ${last} to ${rv}`);
      this.lastRv.set(k, rv);
    };
    const slow = () => {
      if (this.delayMs <= 0) return undefined;
      this.pending++;
      return sleep(this.delayMs).finally(() => this.pending--);
    };
    return {
      onAdd: (o: T) => {
        this.events++;
        if (this.deletes.has(keyOf(o))) this.violations.push(`add ${keyOf(o)} after its delete`);
        seen(o, "add");
        return slow();
      },
      onUpdate: (_old: T, o: T) => {
        this.events++;
        seen(o, "update");
        return slow();
      },
      onDelete: (o: T | DeletedFinalStateUnknown<T>) => {
        this.events++;
        const obj = o instanceof DeletedFinalStateUnknown ? o.obj : o;
        if (o instanceof DeletedFinalStateUnknown) this.tombstones++;
        const k = keyOf(obj);
        this.deletes.set(k, (this.deletes.get(k) ?? 0) + 1);
        return slow();
      },
    };
  }
}

/** Creates, updates and deletes objects (never reusing a name) until stopped. */
export class Writer<T extends KubernetesObject> {
  readonly #api: Api<T, true>;
  readonly #make: (name: string, generation: number) => T;
  readonly live = new Set<string>();
  readonly deleted = new Set<string>();
  ops = 0;
  errors = 0;
  #n = 0;
  #stop = false;
  #done: Promise<void> | undefined;

  constructor(api: Api<T, true>, make: (name: string, generation: number) => T) {
    this.#api = api;
    this.#make = make;
  }

  /** One random change; failures (the server may be down) are counted, not thrown. */
  async step(): Promise<void> {
    const names = [...this.live];
    const r = Math.random();
    try {
      const createShare = names.length > 300 ? 0.2 : 0.45;
      if (names.length < 5 || r < createShare) {
        const name = `w-${this.#n++}`;
        await this.#api.create(this.#make(name, 0), { timeoutMs: 5000 });
        this.live.add(name);
      } else if (r < 0.8) {
        const name = names[Math.floor(Math.random() * names.length)]!;
        await this.#api.patch(
          name,
          { metadata: { annotations: { gen: String(this.ops) } } },
          { type: "merge", timeoutMs: 5000 },
        );
      } else {
        const name = names[Math.floor(Math.random() * names.length)]!;
        this.live.delete(name);
        this.deleted.add(name);
        await this.#api.delete(name, { timeoutMs: 5000 });
      }
      this.ops++;
    } catch {
      this.errors++;
      await sleep(100);
    }
  }

  get running(): boolean {
    return this.#done !== undefined && !this.#stop;
  }

  start(): void {
    this.#stop = false;
    this.#done = (async () => {
      while (!this.#stop) await this.step();
    })();
  }

  async stop(): Promise<void> {
    this.#stop = true;
    await this.#done;
    this.#done = undefined;
  }
}

export interface Verdict {
  ok: boolean;
  problems: string[];
  cacheSize: number;
}

/**
 * Waits (up to `timeoutMs`) for the informer's cache to equal a fresh list (same keys, same
 * resourceVersions), then checks the deletion and ordering promises.
 */
export async function verify<T extends KubernetesObject>(
  informer: SharedIndexInformer<T>,
  api: Api<T, true>,
  tracker: Tracker<T>,
  timeoutMs = 60_000,
): Promise<Verdict> {
  const deadline = Date.now() + timeoutMs;
  let problems: string[] = [];
  for (;;) {
    let server: Map<string, string>;
    try {
      const list = await api.list({ timeoutMs: 10_000 });
      server = new Map(list.items.map((o) => [keyOf(o), o.metadata?.resourceVersion ?? ""]));
    } catch (e) {
      problems = [`listing failed: ${(e as Error).message}`];
      if (Date.now() > deadline) break;
      await sleep(500);
      continue;
    }
    problems = [];
    const cache = new Map(
      informer.indexer.list().map((o) => [keyOf(o), o.metadata?.resourceVersion ?? ""]),
    );
    for (const [k, rv] of server)
      if (cache.get(k) !== rv)
        problems.push(`cache differs: ${k}: server ${rv}, cache ${cache.get(k) ?? "missing"}`);
    for (const k of cache.keys())
      if (!server.has(k)) problems.push(`cache differs: ${k} is cached but not on the server`);
    // Every object the handler knew that is gone from the server was reported deleted exactly
    // once (handlers may lag behind the cache, so this too is waited for).
    // The handler has caught up: it last saw each live object at the server's resourceVersion.
    for (const [k, rv] of server) {
      const seen = tracker.lastRv.get(k);
      if (seen !== Number(rv))
        problems.push(`handler behind: ${k}: server ${rv}, handler ${seen ?? "never saw it"}`);
    }
    for (const k of tracker.lastRv.keys()) {
      const n = tracker.deletes.get(k) ?? 0;
      if (server.has(k) && n > 0)
        problems.push(`${k} exists but was reported deleted ${n} time(s)`);
      if (!server.has(k) && n !== 1)
        problems.push(`${k} is gone but was reported deleted ${n} time(s)`);
    }
    if ((problems.length === 0 && tracker.pending === 0) || Date.now() > deadline) break;
    await sleep(250);
  }
  problems = [...problems.slice(0, 10), ...tracker.violations.slice(0, 10)];
  return { ok: problems.length === 0, problems, cacheSize: informer.indexer.size };
}

export { handles };

export interface ChaosPlan {
  kills: number;
  compactions: number;
  stalls: number;
  /** Changes made during the slow-handler burst, and the handler's delay per event. */
  burst: number;
  handlerDelayMs: number;
  stallTimeoutMs: number;
  log?: (line: string) => void;
}

export interface ChaosReport {
  faults: { name: string; ms: number; verdicts: Record<string, Verdict> }[];
  writes: number;
  writeErrors: number;
  events: Record<string, number>;
  tombstones: Record<string, number>;
  leaked: { sockets: number; timers: number };
  ok: boolean;
}

/**
 * Runs informers for ConfigMaps (served from the watch cache: streaming lists, bookmarks) and
 * PodTemplates (etcd directly on the test control plane, so compaction makes resuming fail with
 * 410) through a FaultProxy while writers change both, injects the planned faults, and verifies
 * after each one.
 */
export async function runChaos(plan: ChaosPlan): Promise<ChaosReport> {
  const log = plan.log ?? (() => {});
  const { Client } = await import("../../src/client/index.ts");
  const { loadConfig } = await import("../../src/config/index.ts");
  const { SharedIndexInformer } = await import("../../src/cache/index.ts");
  const { ConfigMap, PodTemplate } = await import("../../src/api/core/v1/index.ts");
  const { compactEtcd, testKubeconfig, testNamespace } = await import("../support/cluster.ts");
  const { restartApiserver } = await import("../controlplane/controlplane.ts");

  const before = handles();
  const adminConfig = await loadConfig({ kubeconfig: testKubeconfig(), env: {}, inCluster: false });
  const admin = new Client(adminConfig, { qps: -1 });
  const ns = await testNamespace(admin, "kk-chaos");
  const proxy = new FaultProxy(new URL(adminConfig.server));
  const proxied = await proxy.listen();
  const informerClient = new Client(
    await loadConfig({
      kubeconfig: testKubeconfig(),
      env: {},
      inCluster: false,
      server: proxied,
      tlsServerName: "localhost",
    }),
    { qps: -1 },
  );
  const stop = new AbortController();
  const kinds = {
    configmaps: {
      writer: new Writer(admin.api(ConfigMap).namespace(ns.name), (name) => ({
        metadata: { name },
        data: { v: "0" },
      })),
      api: informerClient.api(ConfigMap).namespace(ns.name),
      check: admin.api(ConfigMap).namespace(ns.name),
    },
    podtemplates: {
      writer: new Writer(admin.api(PodTemplate).namespace(ns.name), (name) => ({
        metadata: { name },
        template: { spec: { containers: [{ name: "c", image: "x" }] } },
      })),
      api: informerClient.api(PodTemplate).namespace(ns.name),
      check: admin.api(PodTemplate).namespace(ns.name),
    },
  };
  const running: Record<
    string,
    {
      informer: SharedIndexInformer<KubernetesObject>;
      tracker: Tracker<KubernetesObject>;
      run: Promise<void>;
    }
  > = {};
  for (const [name, k] of Object.entries(kinds)) {
    const informer = new SharedIndexInformer<KubernetesObject>(
      k.api as unknown as Api<KubernetesObject, true>,
      {
        stallTimeoutMs: plan.stallTimeoutMs,
        backoff: { maxMs: 5000 },
        transform: (o) => {
          delete o.metadata?.managedFields;
          return o;
        },
      },
    );
    const tracker = new Tracker<KubernetesObject>();
    informer.addEventHandler(tracker.handler());
    running[name] = { informer, tracker, run: informer.run({ signal: stop.signal }) };
  }
  const report: ChaosReport = {
    faults: [],
    writes: 0,
    writeErrors: 0,
    events: {},
    tombstones: {},
    leaked: { sockets: 0, timers: 0 },
    ok: true,
  };
  const check = async (fault: string, started: number, timeoutMs = 60_000) => {
    // The comparison needs the server to hold still: writers pause while the caches are checked.
    const wasRunning = Object.values(kinds).map((k) => k.writer.running);
    await Promise.all(Object.values(kinds).map((k) => k.writer.stop()));
    const verdicts: Record<string, Verdict> = {};
    for (const [name, r] of Object.entries(running)) {
      verdicts[name] = await verify(
        r.informer,
        kinds[name as keyof typeof kinds].check as unknown as Api<KubernetesObject, true>,
        r.tracker,
        timeoutMs,
      );
      if (!verdicts[name].ok) report.ok = false;
    }
    report.faults.push({ name: fault, ms: Date.now() - started, verdicts });
    Object.values(kinds).forEach((k, i) => {
      if (wasRunning[i]) k.writer.start();
    });
    log(
      `${fault}: ${Object.entries(verdicts)
        .map(
          ([n, v]) =>
            `${n} ${v.ok ? "ok" : `FAILED ${v.problems.join("; ")}`} (${v.cacheSize} cached)`,
        )
        .join(", ")}`,
    );
  };
  try {
    for (const r of Object.values(running)) await r.informer.waitForSync({ timeoutMs: 60_000 });
    for (const k of Object.values(kinds)) k.writer.start();
    await sleep(500);
    for (let i = 0; i < plan.kills; i++) {
      await sleep(200 + Math.random() * 1500);
      const t = Date.now();
      await restartApiserver();
      await check(`kill -9 kube-apiserver #${i + 1}`, t);
    }
    for (let i = 0; i < plan.compactions; i++) {
      const t = Date.now();
      proxy.cut();
      await sleep(300);
      await compactEtcd();
      await check(`connections cut + etcd compacted #${i + 1}`, t);
    }
    for (let i = 0; i < plan.stalls; i++) {
      const t = Date.now();
      await proxy.silence(plan.stallTimeoutMs + 1500);
      await check(`proxy silent for ${plan.stallTimeoutMs + 1500} ms #${i + 1}`, t);
    }
    if (plan.burst > 0) {
      for (const k of Object.values(kinds)) await k.writer.stop();
      for (const r of Object.values(running)) r.tracker.delayMs = plan.handlerDelayMs;
      const t = Date.now();
      const w = kinds.configmaps.writer;
      const batch = 16;
      for (let done = 0; done < plan.burst; done += batch)
        await Promise.all(
          Array.from({ length: Math.min(batch, plan.burst - done) }, () => w.step()),
        );
      await check(
        `burst of ${plan.burst} changes, handler ${plan.handlerDelayMs} ms/event`,
        t,
        Math.max(60_000, plan.burst * plan.handlerDelayMs * 3),
      );
    }
  } finally {
    for (const k of Object.values(kinds)) await k.writer.stop();
    const t = Date.now();
    await check("final", t);
    stop.abort();
    await Promise.all(Object.values(running).map((r) => r.run));
    for (const [name, r] of Object.entries(running)) {
      report.events[name] = r.tracker.events;
      report.tombstones[name] = r.tracker.tombstones;
    }
    for (const k of Object.values(kinds)) {
      report.writes += k.writer.ops;
      report.writeErrors += k.writer.errors;
    }
    await informerClient.close();
    await proxy.close();
    await ns.remove();
    await admin.close();
    await sleep(500);
    const after = handles();
    report.leaked = {
      sockets: Math.max(0, after.sockets - before.sockets),
      timers: Math.max(0, after.timers - before.timers),
    };
    if (report.leaked.sockets > 0 || report.leaked.timers > 0) report.ok = false;
  }
  return report;
}
