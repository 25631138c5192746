/**
 * `npm run bench [-- --quick] [-- --only 1,3] [-- --runs N]`: kubekit, @kubernetes/client-node
 * and client-go on the same work in the same run, interleaved, each run of each client in its
 * own process. Prints Markdown tables and writes bench/results/latest.json. See bench/README.md.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg, release, totalmem } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { ConfigMap, Namespace } from "../src/api/core/v1/index.ts";
import { loadConfig } from "../src/config/index.ts";
import { Client } from "../src/index.ts";
import {
  DEFAULT_VERSION,
  down,
  kubeconfigPath,
  status,
  up,
} from "../test/controlplane/controlplane.ts";
import { makePodList, makeWatchEvents } from "./lib/pods.ts";
import { type Replay, replayKubeconfig, startReplay } from "./lib/replay.ts";
import {
  benchDir,
  buildPeer,
  cacheDir,
  clientNodeInstalled,
  installedVersion,
  type Peer,
  prepareRuntime,
  type Runtime,
  run,
} from "./lib/setup.ts";
import {
  fmt,
  fmtRatio,
  fmtSummary,
  type Summary,
  summarize,
  table,
  type Unit,
} from "./lib/stats.ts";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    runs: { type: "string" },
    out: { type: "string" },
  },
});

const quick = args.quick === true;
const settings = {
  runs: Number(args.runs ?? (quick ? 3 : 5)),
  pods: 10_000,
  configMaps: quick ? 2_000 : 10_000,
  gets: quick ? 4_000 : 20_000,
  concurrency: 32,
  pageSize: 500,
  watchEvents: quick ? 40_000 : 200_000,
  distinctWatchEvents: 1_000,
  updates: quick ? 500 : 5_000,
  updateRate: 500,
  updateConcurrency: 8,
};
const only = args.only ? new Set(args.only.split(",").map((s) => s.trim())) : undefined;

const CLIENTS = ["kubekit", "client-node", "client-go", "client-go-protobuf", "floor"] as const;
type ClientId = (typeof CLIENTS)[number];
type Raw = Record<string, unknown>;

const LABELS: Record<ClientId, string> = {
  kubekit: "kubekit",
  "client-node": "client-node",
  "client-go": "client-go (JSON)",
  "client-go-protobuf": "client-go (protobuf)",
  floor: "floor",
};

const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

// ---------------------------------------------------------------------------------------------
// Child processes

let active = new Set<ReturnType<typeof spawn>>();

interface ChildResult {
  result: Raw;
  wallMs: number;
}

function runChild(
  cmd: string,
  argv: string[],
  options: { cwd?: string; onLine?: (obj: Raw) => void; timeoutMs?: number } = {},
): Promise<ChildResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, KUBEKIT_BENCH_REPO: join(benchDir, "..") };
  delete env.NODE_OPTIONS;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, argv, { cwd: options.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    active.add(child);
    let last: Raw | undefined;
    let partial = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 15 * 60_000);
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      partial += d;
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.startsWith("{")) continue;
        try {
          const obj = JSON.parse(line) as Raw;
          last = obj;
          if (obj.phase) options.onLine?.(obj);
        } catch {
          // Not ours.
        }
      }
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr = (stderr + d).slice(-8000);
      if (d.includes("DBG")) process.stderr.write(d);
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const wallMs = performance.now() - started;
      clearTimeout(timer);
      active.delete(child);
      if (last && !last.phase && code === 0) resolve({ result: last, wallMs });
      else {
        const why =
          (last?.error as string | undefined) ??
          `exited with ${code ?? signal}${stderr ? `: ${stderr.trim().split("\n").slice(-5).join(" | ")}` : ""}`;
        reject(new Error(why));
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Workloads

interface Metric {
  key: string;
  label: string;
  unit: Unit;
  better: "lower" | "higher";
}

interface Target {
  text: string;
  /** The measured value and the limit it is held to; undefined when a side is missing. */
  check(m: (client: ClientId, metric: string) => number | undefined):
    | {
        value: number;
        limit: number;
        pass: boolean;
        unit: "x" | "ms" | "bytes";
      }
    | undefined;
}

interface Workload {
  id: string;
  n: string;
  title: string;
  what: string;
  metrics: Metric[];
  /** Why a client cannot run this workload. */
  unsupported: Partial<Record<ClientId, string>>;
  run(client: ClientId, ctx: Context): Promise<Raw>;
  targets: Target[];
}

interface Context {
  runtime: Runtime;
  peer: Peer;
  replay: Replay;
  replayKubeconfig: string;
  hasProto: boolean;
  namespace: string;
  rep: number;
}

const ms: Metric = { key: "ms", label: "time", unit: "ms", better: "lower" };
const peakRss: Metric = { key: "peakRss", label: "peak RSS", unit: "bytes", better: "lower" };

function node(ctx: Context, file: string, workload: string, p: Raw, onLine?: (o: Raw) => void) {
  const params = {
    kubeconfig: kubeconfigPath,
    namespace: ctx.namespace,
    name: "cm-00000",
    n: 0,
    c: 1,
    limit: 0,
    run: "",
    ...p,
  };
  return runChild(
    process.execPath,
    [join(ctx.runtime.dir, file), workload, JSON.stringify(params)],
    {
      cwd: ctx.runtime.dir,
      ...(onLine ? { onLine } : {}),
    },
  );
}

function go(
  ctx: Context,
  workload: string,
  flags: string[],
  proto: boolean,
  onLine?: (o: Raw) => void,
) {
  return runChild(ctx.peer.bin, [workload, ...flags, ...(proto ? ["-protobuf"] : [])], {
    ...(onLine ? { onLine } : {}),
  });
}

/** Runs a workload's client: the Node clients by file, client-go by the peer's workload name. */
async function standard(
  client: ClientId,
  ctx: Context,
  workload: string,
  p: { kubeconfig?: string; n?: number; c?: number; limit?: number },
): Promise<Raw> {
  const kubeconfig = p.kubeconfig ?? kubeconfigPath;
  const flags = ["-kubeconfig", kubeconfig, "-namespace", ctx.namespace, "-name", "cm-00000"];
  if (p.n !== undefined) flags.push("-n", String(p.n));
  if (p.c !== undefined) flags.push("-c", String(p.c));
  if (p.limit !== undefined) flags.push("-limit", String(p.limit));
  switch (client) {
    case "kubekit":
      return (await node(ctx, "kubekit.mjs", workload, { ...p, kubeconfig })).result;
    case "client-node":
      return (await node(ctx, "client-node.mjs", workload, { ...p, kubeconfig })).result;
    case "floor":
      return (await node(ctx, "floor.mjs", workload, { ...p, kubeconfig })).result;
    case "client-go":
      return (await go(ctx, workload, flags, false)).result;
    case "client-go-protobuf":
      return (await go(ctx, workload, flags, true)).result;
  }
}

function expectItems(raw: Raw, n: number): Raw {
  if (raw.items !== n) throw new Error(`expected ${n} items, got ${String(raw.items)}`);
  return raw;
}

const ratio =
  (a: ClientId, b: ClientId, metric: string) =>
  (m: (c: ClientId, k: string) => number | undefined) => {
    const x = m(a, metric);
    const y = m(b, metric);
    return x === undefined || y === undefined ? undefined : x / y;
  };

function atMost(text: string, f: ReturnType<typeof ratio>, limit: number): Target {
  return {
    text,
    check: (m) => {
      const value = f(m);
      return value === undefined ? undefined : { value, limit, pass: value <= limit, unit: "x" };
    },
  };
}

function atLeast(text: string, f: ReturnType<typeof ratio>, limit: number): Target {
  return {
    text,
    check: (m) => {
      const value = f(m);
      return value === undefined ? undefined : { value, limit, pass: value >= limit, unit: "x" };
    },
  };
}

/** The ConfigMaps in the bench's namespace: the seeded ones and kube-root-ca.crt. */
let expected = settings.configMaps + 1;

const noFloor =
  "no floor here: the floor is defined for the replay-server workloads (1 and 4) and the informer (5)";

const workloads: Workload[] = [
  {
    id: "list-decode",
    n: "1",
    title: "Large list decode (replay server)",
    what: `GET /api/v1/pods returning a ${settings.pods.toLocaleString("en-US")}-pod PodList from a local replay server (plain HTTP, no gzip): time until the objects are in hand, peak RSS of the process.`,
    metrics: [ms, peakRss],
    unsupported: {},
    run: async (client, ctx) => {
      if (client === "client-go-protobuf" && !ctx.hasProto)
        throw new Unsupported("no protobuf replay data");
      return expectItems(
        await standard(client, ctx, "list-pods", { kubeconfig: ctx.replayKubeconfig }),
        settings.pods,
      );
    },
    targets: [
      atMost("kubekit ≤ 1.15× the floor's time", ratio("kubekit", "floor", "ms"), 1.15),
      atLeast("kubekit ≥ 2.5× faster than client-node", ratio("client-node", "kubekit", "ms"), 2.5),
    ],
  },
  {
    id: "list-configmaps",
    n: "2a",
    title: "Large list from the real API server, unpaginated",
    what: `${settings.configMaps.toLocaleString("en-US")} ConfigMaps (~1 KB of data each) in one GET (TLS, gzip as each client negotiates it): time until the objects are in hand.`,
    metrics: [ms, peakRss],
    unsupported: { floor: noFloor },
    run: async (client, ctx) =>
      expectItems(await standard(client, ctx, "list", { limit: 0 }), expected),
    targets: [
      atMost("kubekit ≤ 1.0× client-go's time (JSON)", ratio("kubekit", "client-go", "ms"), 1.0),
    ],
  },
  {
    id: "list-configmaps-paged",
    n: "2b",
    title: `Large list from the real API server, limit=${settings.pageSize}`,
    what: `The same ConfigMaps in pages of ${settings.pageSize}, following continue tokens: time until all objects are in hand.`,
    metrics: [ms, peakRss],
    unsupported: { floor: noFloor },
    run: async (client, ctx) =>
      expectItems(await standard(client, ctx, "list", { limit: settings.pageSize }), expected),
    targets: [
      atMost("kubekit ≤ 1.0× client-go's time (JSON)", ratio("kubekit", "client-go", "ms"), 1.0),
    ],
  },
  {
    id: "small-requests",
    n: "3",
    title: "Small requests",
    what: `${settings.gets.toLocaleString("en-US")} GETs of one ConfigMap from the real API server at concurrency ${settings.concurrency}, client-side rate limits off: throughput and latency.`,
    metrics: [
      { key: "rps", label: "throughput", unit: "per-s", better: "higher" },
      { key: "p50", label: "p50", unit: "ms", better: "lower" },
      { key: "p99", label: "p99", unit: "ms", better: "lower" },
    ],
    unsupported: { floor: noFloor },
    run: (client, ctx) =>
      standard(client, ctx, "get", { n: settings.gets, c: settings.concurrency }),
    targets: [
      atLeast(
        "kubekit ≥ 1.5× client-node's throughput",
        ratio("kubekit", "client-node", "rps"),
        1.5,
      ),
      atLeast("kubekit ≥ 0.8× client-go's throughput", ratio("kubekit", "client-go", "rps"), 0.8),
    ],
  },
  {
    id: "watch",
    n: "4",
    title: "Watch throughput (replay server)",
    what: `A replay server streams ${settings.watchEvents.toLocaleString("en-US")} MODIFIED pod events (${settings.distinctWatchEvents.toLocaleString("en-US")} distinct, repeated) as fast as the client reads: events decoded per second.`,
    metrics: [{ key: "eventsPerSec", label: "events/s", unit: "per-s", better: "higher" }, peakRss],
    unsupported: {},
    run: async (client, ctx) => {
      if (client === "client-go-protobuf" && !ctx.hasProto)
        throw new Unsupported("no protobuf replay data");
      return standard(client, ctx, "watch", {
        kubeconfig: ctx.replayKubeconfig,
        n: settings.watchEvents,
      });
    },
    targets: [
      atLeast(
        "kubekit ≥ 0.8× the floor's events/s",
        ratio("kubekit", "floor", "eventsPerSec"),
        0.8,
      ),
    ],
  },
  {
    id: "informer",
    n: "5",
    title: "Informer",
    what: `An informer on ${settings.configMaps.toLocaleString("en-US")} ConfigMaps of the real API server (each client's default list/watch strategy): time until synced and RSS then; then ${settings.updates.toLocaleString("en-US")} merge-patches at ${settings.updateRate}/s by a separate writer process, each stamped with its wall-clock time: lag from the write to the handler.`,
    metrics: [
      { key: "syncMs", label: "synced", unit: "ms", better: "lower" },
      { key: "rssAfterSync", label: "RSS after sync", unit: "bytes", better: "lower" },
      { key: "lagP50", label: "lag p50", unit: "ms", better: "lower" },
      { key: "lagP99", label: "lag p99", unit: "ms", better: "lower" },
    ],
    unsupported: {},
    run: (client, ctx) => informer(client, ctx),
    targets: [
      atMost(
        "kubekit synced ≤ 1.2× client-go's time",
        ratio("kubekit", "client-go", "syncMs"),
        1.2,
      ),
      atMost(
        "kubekit RSS after sync ≤ 0.5× client-node's",
        ratio("kubekit", "client-node", "rssAfterSync"),
        0.5,
      ),
      atMost("kubekit lag p99 ≤ client-go's", ratio("kubekit", "client-go", "lagP99"), 1.0),
    ],
  },
  {
    id: "startup",
    n: "6",
    title: "Start-up",
    what: "A fresh process imports the library (kubekit: `kubekit`, `kubekit/config` and `kubekit/api/core/v1` from the installed tarball) and GETs one ConfigMap: time for import + first request (in-process), and wall time from spawn to exit.",
    metrics: [
      { key: "ms", label: "import + first request", unit: "ms", better: "lower" },
      { key: "importMs", label: "import", unit: "ms", better: "lower" },
      { key: "wallMs", label: "process wall time", unit: "ms", better: "lower" },
      { key: "rss", label: "RSS", unit: "bytes", better: "lower" },
    ],
    unsupported: {
      floor: noFloor,
      "client-go-protobuf": "the same binary and start-up as client-go (JSON)",
    },
    run: async (client, ctx) => {
      const p = { namespace: ctx.namespace, name: "cm-00000" };
      let r: ChildResult;
      if (client === "kubekit") r = await node(ctx, "kubekit-startup.mjs", "startup", p);
      else if (client === "client-node")
        r = await node(ctx, "client-node-startup.mjs", "startup", p);
      else
        r = await go(
          ctx,
          "startup",
          ["-kubeconfig", kubeconfigPath, "-namespace", ctx.namespace, "-name", "cm-00000"],
          false,
        );
      return { ...r.result, wallMs: r.wallMs };
    },
    targets: [
      {
        text: "kubekit import + first request ≤ 150 ms",
        check: (m) => {
          const v = m("kubekit", "ms");
          return v === undefined ? undefined : { value: v, limit: 150, pass: v <= 150, unit: "ms" };
        },
      },
    ],
  },
];

class Unsupported extends Error {}

async function informer(client: ClientId, ctx: Context): Promise<Raw> {
  const runId = `${client}-${ctx.rep}-${Date.now().toString(36)}`;
  let writer: Promise<ChildResult> | undefined;
  const onLine = (o: Raw) => {
    if (o.phase !== "synced" || writer) return;
    writer = runChild(ctx.peer.bin, [
      "update",
      "-kubeconfig",
      kubeconfigPath,
      "-namespace",
      ctx.namespace,
      "-n",
      String(settings.updates),
      "-total",
      String(settings.configMaps),
      "-rate",
      String(settings.updateRate),
      "-c",
      String(settings.updateConcurrency),
      "-run",
      runId,
    ]);
    writer.catch(() => {});
  };
  const p = { n: settings.updates, run: runId };
  let r: ChildResult;
  if (client === "kubekit") r = await node(ctx, "kubekit.mjs", "informer", p, onLine);
  else if (client === "client-node") r = await node(ctx, "client-node.mjs", "informer", p, onLine);
  else if (client === "floor") r = await node(ctx, "floor.mjs", "informer", p, onLine);
  else {
    const flags = [
      "-kubeconfig",
      kubeconfigPath,
      "-namespace",
      ctx.namespace,
      "-n",
      String(settings.updates),
      "-run",
      runId,
    ];
    r = await go(ctx, "informer", flags, client === "client-go-protobuf", onLine);
  }
  const w = writer ? await writer : undefined;
  const raw: Raw = { ...r.result, writeRate: w?.result.rate };
  if (raw.objects !== expected)
    throw new Error(`synced ${String(raw.objects)} objects, expected ${expected}`);
  if (raw.updates !== settings.updates)
    throw new Error(`saw ${String(raw.updates)} of ${settings.updates} updates`);
  // Let the API server settle before the next client's list.
  await sleep(1000);
  return raw;
}

// ---------------------------------------------------------------------------------------------
// Results

interface ClientOutcome {
  unsupported?: string;
  errors?: string[];
  runs?: Raw[];
  metrics?: Record<string, Summary>;
}

interface WorkloadResult {
  id: string;
  n: string;
  title: string;
  what: string;
  metrics: Metric[];
  clients: Partial<Record<ClientId, ClientOutcome>>;
  /** `ratios[metric]["a/b"]`: median of a over median of b. */
  ratios: Record<string, Record<string, number>>;
  targets: { text: string; value?: number; limit?: number; unit?: string; pass?: boolean }[];
}

function summarizeWorkload(w: Workload, outcomes: Map<ClientId, ClientOutcome>): WorkloadResult {
  for (const o of outcomes.values()) {
    if (!o.runs?.length) continue;
    o.metrics = {};
    for (const m of w.metrics) {
      const s = summarize(o.runs.map((r) => Number(r[m.key])));
      if (s) o.metrics[m.key] = s;
    }
    // Every other numeric field too, for the record.
    for (const key of Object.keys(o.runs[0]!)) {
      if (o.metrics[key] || typeof o.runs[0]![key] !== "number") continue;
      const s = summarize(o.runs.map((r) => Number(r[key])));
      if (s) o.metrics[key] = s;
    }
  }
  const median = (c: ClientId, k: string) => outcomes.get(c)?.metrics?.[k]?.median;
  const ratios: WorkloadResult["ratios"] = {};
  for (const m of w.metrics) {
    ratios[m.key] = {};
    for (const a of CLIENTS) {
      for (const b of CLIENTS) {
        const x = median(a, m.key);
        const y = median(b, m.key);
        if (a !== b && x !== undefined && y !== undefined && y !== 0)
          ratios[m.key]![`${a}/${b}`] = x / y;
      }
    }
  }
  return {
    id: w.id,
    n: w.n,
    title: w.title,
    what: w.what,
    metrics: w.metrics,
    clients: Object.fromEntries(outcomes),
    ratios,
    targets: w.targets.map((t) => {
      const c = t.check(median);
      return c ? { text: t.text, ...c } : { text: t.text };
    }),
  };
}

function render(r: WorkloadResult): string {
  const out: string[] = [`### ${r.n}. ${r.title}`, "", r.what, ""];
  const rows: string[][] = [];
  for (const c of CLIENTS) {
    const o = r.clients[c];
    if (!o) continue;
    if (o.unsupported) {
      rows.push([LABELS[c], `*n/a: ${o.unsupported}*`, ...r.metrics.slice(1).map(() => "")]);
      continue;
    }
    if (!o.metrics) {
      rows.push([
        LABELS[c],
        `*failed: ${(o.errors?.[0] ?? "no result").slice(0, 120)}*`,
        ...r.metrics.slice(1).map(() => ""),
      ]);
      continue;
    }
    rows.push([LABELS[c], ...r.metrics.map((m) => fmtSummary(o.metrics?.[m.key], m.unit))]);
  }
  out.push(table(["client", ...r.metrics.map((m) => `${m.label} median (min–max)`)], rows), "");
  // Ratios of medians: kubekit to each other client; every client to the floor.
  const ratioRows: string[][] = [];
  const has = (c: ClientId) => r.clients[c]?.metrics !== undefined;
  const pairs: [ClientId, ClientId][] = [];
  for (const c of CLIENTS)
    if (c !== "kubekit" && has(c) && has("kubekit")) pairs.push(["kubekit", c]);
  for (const c of CLIENTS)
    if (c !== "floor" && c !== "kubekit" && has(c) && has("floor")) pairs.push([c, "floor"]);
  for (const [a, b] of pairs) {
    ratioRows.push([
      `${LABELS[a]} ÷ ${LABELS[b]}`,
      ...r.metrics.map((m) => fmtRatio(r.ratios[m.key]?.[`${a}/${b}`])),
    ]);
  }
  if (ratioRows.length)
    out.push(table(["ratio of medians", ...r.metrics.map((m) => m.label)], ratioRows), "");
  return out.join("\n");
}

function renderTargets(results: WorkloadResult[], sizes: Sizes): string {
  const rows: string[][] = [];
  for (const r of results) {
    for (const t of r.targets) {
      const shown =
        t.value === undefined
          ? "not measured"
          : t.unit === "x"
            ? `${fmtRatio(t.value)} (limit ${fmtRatio(t.limit)})`
            : `${fmt(t.value, t.unit as Unit)} (limit ${fmt(t.limit, t.unit as Unit)})`;
      rows.push([r.n, t.text, shown, t.pass === undefined ? "?" : t.pass ? "holds" : "**missed**"]);
    }
  }
  const limit = 10_000_000;
  rows.push([
    "6",
    "kubekit installed (package + dependencies) ≤ 10 MB",
    `${fmt(sizes.kubekit.bytes, "bytes")} (limit ${fmt(limit, "bytes")})`,
    sizes.kubekit.bytes <= limit ? "holds" : "**missed**",
  ]);
  return table(["#", "target", "measured", ""], rows);
}

interface Sizes {
  kubekit: { bytes: number; files: number; tarballBytes: number };
  clientNode?: { bytes: number; files: number; version: string };
  clientNodeError?: string;
  clientGo: { binaryBytes: number; note: string };
}

function renderSizes(s: Sizes): string {
  return table(
    ["client", "installed size", "what was measured"],
    [
      [
        "kubekit",
        fmt(s.kubekit.bytes, "bytes"),
        `node_modules of a fresh \`npm install --omit=dev\` of the packed tarball (${s.kubekit.files} files; tarball ${fmt(s.kubekit.tarballBytes, "bytes")})`,
      ],
      [
        "client-node",
        s.clientNode ? fmt(s.clientNode.bytes, "bytes") : `*n/a: ${s.clientNodeError}*`,
        s.clientNode
          ? `node_modules of a fresh \`npm install --omit=dev @kubernetes/client-node@${s.clientNode.version}\` (${s.clientNode.files} files)`
          : "",
      ],
      ["client-go", fmt(s.clientGo.binaryBytes, "bytes"), s.clientGo.note],
    ],
  );
}

function machine() {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  return {
    nproc: availableParallelism(),
    cpu: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown",
    memoryBytes: totalmem(),
    kernel: release(),
    node: process.version,
  };
}

// ---------------------------------------------------------------------------------------------
// Main

async function main(): Promise<number> {
  const startedAt = new Date();
  // Other work on the machine skews everything; the load average says whether there was any.
  const loadBefore = loadavg()[0]!;
  let loadMax = loadBefore;
  const loadTimer = setInterval(() => {
    loadMax = Math.max(loadMax, loadavg()[0]!);
  }, 5000);
  loadTimer.unref();
  const selected = workloads.filter(
    (w) => !only || only.has(w.n) || only.has(w.n.replace(/[ab]$/, "")) || only.has(w.id),
  );
  log(
    `${quick ? "quick" : "full"} run: ${selected.map((w) => w.n).join(", ")}; ${settings.runs} runs each`,
  );

  const [runtime, peer] = await Promise.all([prepareRuntime(log), buildPeer(log)]);
  const clientNodeVersion = installedVersion("@kubernetes/client-node");
  const sizes: Sizes = {
    kubekit: { ...runtime.installed, tarballBytes: runtime.tarballBytes },
    clientGo: {
      binaryBytes: peer.bytes,
      note: "for information: the stripped, static peer binary (client-go and everything it links, plus the bench code)",
    },
  };
  try {
    sizes.clientNode = {
      ...(await clientNodeInstalled(clientNodeVersion)),
      version: clientNodeVersion,
    };
  } catch (err) {
    sizes.clientNodeError = (err as Error).message.split("\n")[0]!;
  }

  // Replay data (JSON generated here; protobuf by the Go peer), cached by content.
  log(`generating ${settings.pods.toLocaleString("en-US")} pods for the replay server`);
  const list = makePodList(settings.pods);
  const watchBlock = makeWatchEvents(settings.distinctWatchEvents);
  const dataDir = join(cacheDir(), "data");
  await mkdir(dataDir, { recursive: true });
  await writeFile(join(dataDir, "podlist.json"), list);
  let listProto: Buffer | undefined;
  let watchBlockProto: Buffer | undefined;
  try {
    await run(peer.bin, [
      "encode",
      "-in",
      join(dataDir, "podlist.json"),
      "-out-list",
      join(dataDir, "podlist.pb"),
      "-out-watch",
      join(dataDir, "watch.pb"),
      "-events",
      String(settings.distinctWatchEvents),
    ]);
    listProto = await readFile(join(dataDir, "podlist.pb"));
    watchBlockProto = await readFile(join(dataDir, "watch.pb"));
  } catch (err) {
    log(`no protobuf replay data: ${(err as Error).message.split("\n")[0]}`);
  }
  const smallList = makePodList(1);
  const replay = await startReplay({
    list,
    smallList,
    ...(listProto ? { listProto } : {}),
    watchBlock,
    ...(watchBlockProto ? { watchBlockProto } : {}),
    eventsPerBlock: settings.distinctWatchEvents,
    watchEvents: settings.watchEvents,
  });
  const replayKc = join(runtime.dir, "replay.kubeconfig");
  await writeFile(replayKc, replayKubeconfig(replay.url));

  // The control plane: reuse a running one; start (and later stop) one otherwise.
  const needCluster = selected.some((w) => !["list-decode", "watch"].includes(w.id));
  let startedCluster = false;
  let namespace = "";
  let client: Client | undefined;
  let serverVersion = "";
  const cleanup = async () => {
    for (const c of active) c.kill("SIGKILL");
    active = new Set();
    await replay.close();
    if (client && namespace) {
      log(`deleting namespace ${namespace}`);
      await client
        .api(Namespace)
        .delete(namespace)
        .catch((e: unknown) => log(`could not delete ${namespace}: ${String(e)}`));
      await client.close();
    }
    if (startedCluster) {
      log("stopping the control plane this run started");
      await down({ log });
    }
  };
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    log("interrupted: cleaning up");
    void cleanup().finally(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const results: WorkloadResult[] = [];
  try {
    if (needCluster) {
      const st = await status();
      if (!st.up) {
        log("no control plane is up: starting one (it will be stopped at the end)");
        const r = await up({ log });
        startedCluster = r.started;
      }
      serverVersion = (await status()).serverVersion ?? `v${DEFAULT_VERSION}`;
      client = new Client(await loadConfig({ kubeconfig: kubeconfigPath }), { qps: -1 });
      namespace = `kubekit-bench-${Date.now().toString(36)}`;
      await client.api(Namespace).create({ metadata: { name: namespace } });
      // The namespace's default ServiceAccount is not needed: nothing here runs pods.
      log(`seeding ${settings.configMaps.toLocaleString("en-US")} ConfigMaps into ${namespace}`);
      const seeded = JSON.parse(
        (
          await run(peer.bin, [
            "seed",
            "-kubeconfig",
            kubeconfigPath,
            "-namespace",
            namespace,
            "-n",
            String(settings.configMaps),
            "-c",
            "16",
          ])
        )
          .trim()
          .split("\n")
          .pop()!,
      );
      log(`seeded in ${(seeded.ms / 1000).toFixed(1)} s`);
      // kube-controller-manager adds kube-root-ca.crt to every namespace: wait for it, so every
      // list and informer sees the same count.
      const cms = client.api(ConfigMap).namespace(namespace);
      for (let i = 0; i < 120; i++) {
        if (
          await cms.get("kube-root-ca.crt").then(
            () => true,
            () => false,
          )
        )
          break;
        await sleep(500);
      }
      expected = settings.configMaps + 1;
    }
    const ctx: Context = {
      runtime,
      peer,
      replay,
      replayKubeconfig: replayKc,
      hasProto: listProto !== undefined,
      namespace,
      rep: 0,
    };
    for (const w of selected) {
      const outcomes = new Map<ClientId, ClientOutcome>();
      const runnable = CLIENTS.filter((c) => {
        if (w.unsupported[c]) {
          outcomes.set(c, { unsupported: w.unsupported[c] });
          return false;
        }
        outcomes.set(c, { runs: [], errors: [] });
        return true;
      });
      for (let rep = 0; rep < settings.runs; rep++) {
        ctx.rep = rep;
        // Interleaved, and the starting client rotates so none always runs first.
        const order = runnable.map((_, i) => runnable[(i + rep) % runnable.length]!);
        for (const c of order) {
          const o = outcomes.get(c)!;
          if (o.unsupported) continue;
          try {
            const raw = await w.run(c, ctx);
            if (typeof raw.unsupported === "string") {
              outcomes.set(c, { unsupported: raw.unsupported });
              continue;
            }
            o.runs!.push(raw);
            log(
              `${w.n} ${w.id} run ${rep + 1}/${settings.runs} ${c}: ${w.metrics.map((m) => `${m.label} ${fmt(Number(raw[m.key]), m.unit)}`).join(", ")}`,
            );
          } catch (err) {
            if (err instanceof Unsupported) {
              outcomes.set(c, { unsupported: err.message });
              continue;
            }
            const msg = (err as Error).message;
            o.errors!.push(msg);
            log(`${w.n} ${w.id} run ${rep + 1}/${settings.runs} ${c}: FAILED ${msg.slice(0, 300)}`);
          }
        }
      }
      const r = summarizeWorkload(w, outcomes);
      results.push(r);
      process.stdout.write(`${render(r)}\n`);
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    if (!interrupted) await cleanup();
  }

  const goVersion = (await run("go", ["version"]).catch(() => "")).trim();
  const m = machine();
  const header = [
    `${quick ? "Quick" : "Full"} run of ${startedAt.toISOString().slice(0, 10)} on ${m.nproc} × ${m.cpu}, ${(m.memoryBytes / 2 ** 30).toFixed(0)} GiB, Linux ${m.kernel}; Node ${m.node}, ${goVersion.replace(/^go version /, "")}; kubekit ${runtime.kubekitVersion}, @kubernetes/client-node ${clientNodeVersion}, client-go ${peer.clientGoVersion}${serverVersion ? `, kube-apiserver ${serverVersion}` : ""}. ${settings.runs} runs per client and workload, interleaved; median (min–max). Load average (1 min) ${loadBefore.toFixed(1)} at the start, at most ${loadMax.toFixed(1)} during the run (the bench itself keeps it near 1–2 on 2 cores).`,
  ].join("\n");
  const text = [
    header,
    "",
    ...results.map(render),
    "### 6. Installed size",
    "",
    renderSizes(sizes),
    "",
    "### Targets",
    "",
    renderTargets(results, sizes),
    "",
  ].join("\n");
  process.stdout.write(`\n${"=".repeat(100)}\n${text}`);

  const outFile = args.out ?? join(benchDir, "results", "latest.json");
  await mkdir(join(benchDir, "results"), { recursive: true });
  const doc = {
    date: startedAt.toISOString(),
    mode: quick ? "quick" : "full",
    machine: m,
    versions: {
      kubekit: runtime.kubekitVersion,
      clientNode: clientNodeVersion,
      clientGo: peer.clientGoVersion,
      go: goVersion,
      kubeApiserver: serverVersion || undefined,
    },
    settings,
    loadAverage: { start: loadBefore, max: loadMax },
    workloads: results,
    sizes,
    summary: text,
  };
  await writeFile(outFile, `${JSON.stringify(doc, null, 2)}\n`);
  log(`wrote ${outFile}`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(
      `bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 1;
  },
);
