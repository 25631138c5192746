/**
 * A real Kubernetes control plane for kubekit's tests: etcd, kube-apiserver and
 * kube-controller-manager, built from Kubernetes' own Go modules (see go.mod beside this file) and
 * started on loopback with throwaway certificates.
 *
 * Binaries are cached outside the repository, keyed by version
 * (`$XDG_CACHE_HOME/kubekit/k8s-v<version>/bin`, default `~/.cache/...`), so only the first start
 * on a machine pays for the build. The running cluster's state lives in `.kubekit/cluster/` at the
 * repository root: `state.json` (pids and ports), `kubeconfig` (admin, `system:masters`), `pki/`,
 * `etcd/` and `logs/`. Processes are started detached, so the cluster outlives the command that
 * started it until `down()`.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, openSync, readFileSync, statSync } from "node:fs";
import { copyFile, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { createServer } from "node:net";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { stringify } from "yaml";

export const DEFAULT_VERSION = "1.37.2";

const moduleDir = import.meta.dirname;
export const repoRoot = resolve(moduleDir, "../..");
export const clusterDir = join(repoRoot, ".kubekit", "cluster");
export const kubeconfigPath = join(clusterDir, "kubeconfig");
const statePath = join(clusterDir, "state.json");
const logsDir = join(clusterDir, "logs");

type Log = (line: string) => void;

export interface Binaries {
  version: string;
  dir: string;
  etcd: string;
  apiserver: string;
  controllerManager: string;
  certs: string;
}

export interface ClusterState {
  version: string;
  kubeconfig: string;
  server: string;
  etcdUrl: string;
  pids: { etcd: number; apiserver: number; controllerManager: number };
  /** How kube-apiserver was started, so a fault test can kill it and start it again alike. */
  apiserver?: { bin: string; args: string[] };
  startedAt: string;
}

export interface ClusterStatus {
  up: boolean;
  state?: ClusterState;
  /** The gitVersion /version reports, when the API server answers. */
  serverVersion?: string;
  problems: string[];
}

function cacheRoot(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "kubekit");
}

function binDir(version: string): string {
  return join(cacheRoot(), `k8s-v${version}`, "bin");
}

function parseVersion(version: string): { major: string; minor: string; patch: string } {
  const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!m) throw new Error(`version must look like 1.37.2, got ${JSON.stringify(version)}`);
  return { major: m[1]!, minor: m[2]!, patch: m[3]! };
}

/** Runs a command, streaming nothing; resolves with stdout, rejects with stderr in the message. */
async function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; onLine?: (line: string) => void } = {},
): Promise<string> {
  return await new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    let partial = "";
    const feed = (chunk: string) => {
      if (!options.onLine) return;
      partial += chunk;
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const l of lines) options.onLine(l);
    };
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      feed(d);
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      err += d;
      feed(d);
      if (err.length > 1 << 20) err = err.slice(-(1 << 19));
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolvePromise(out);
      else reject(new Error(`${cmd} ${args.join(" ")} exited with ${code}:\n${err.slice(-8000)}`));
    });
  });
}

export async function goAvailable(): Promise<string | undefined> {
  try {
    return (await run("go", ["version"])).trim();
  } catch {
    return undefined;
  }
}

/**
 * The Go module that builds `version`. The committed module in this folder pins the default
 * version; any other version gets a generated module in the cache, derived the same way: every
 * staging module of k8s.io/kubernetes replaced by its v0.<minor>.<patch> release, and etcd at the
 * version Kubernetes itself requires.
 */
async function moduleFor(version: string, log: Log): Promise<string> {
  if (version === DEFAULT_VERSION) return moduleDir;
  const { minor, patch } = parseVersion(version);
  const dir = join(cacheRoot(), `k8s-v${version}`, "src");
  if (existsSync(join(dir, "go.sum"))) return dir;
  log(`preparing a Go module for Kubernetes v${version} in ${dir}`);
  await mkdir(join(dir, "certs"), { recursive: true });
  await copyFile(join(moduleDir, "certs", "main.go"), join(dir, "certs", "main.go"));
  const info = JSON.parse(
    await run("go", ["list", "-m", "-json", `k8s.io/kubernetes@v${version}`]),
  );
  const kmod = await readFile(info.GoMod, "utf8");
  const staging = [...kmod.matchAll(/^\s*(k8s\.io\/[\w.-]+)\s+=>\s+\.\/staging\//gm)].map(
    (m) => m[1]!,
  );
  const goVersion = /^go (\S+)/m.exec(kmod)?.[1] ?? "1.26.0";
  const godebug = /^godebug .*$/m.exec(kmod)?.[0] ?? "";
  const etcdVersion = /go\.etcd\.io\/etcd\/server\/v3 (v\S+)/.exec(kmod)?.[1];
  const lines = [`module kubekit.dev/controlplane`, "", `go ${goVersion}`, "", godebug, ""];
  for (const m of staging) lines.push(`replace ${m} => ${m} v0.${minor}.${patch}`);
  await writeFile(join(dir, "go.mod"), `${lines.join("\n")}\n`);
  const env = { ...process.env, GOFLAGS: "-mod=mod" };
  await run(
    "go",
    [
      "get",
      "-tool",
      `k8s.io/kubernetes/cmd/kube-apiserver@v${version}`,
      `k8s.io/kubernetes/cmd/kube-controller-manager@v${version}`,
      `go.etcd.io/etcd/server/v3${etcdVersion ? `@${etcdVersion}` : ""}`,
    ],
    { cwd: dir, env },
  );
  if (etcdVersion) {
    // `go get` may have raised etcd's sibling modules past what Kubernetes pins; put them back.
    const pins = [...kmod.matchAll(/(go\.etcd\.io\/[\w./-]+) (v\S+)/g)].map(
      (m) => `${m[1]}@${m[2]}`,
    );
    await run("go", ["get", ...pins], { cwd: dir, env });
  }
  return dir;
}

/**
 * Returns the binaries for `version`, building them first if the cache lacks any. A cold build
 * compiles Kubernetes from source (tens of minutes on two cores); its progress is logged.
 */
export async function ensureBinaries(
  version = DEFAULT_VERSION,
  log: Log = console.log,
): Promise<Binaries> {
  const dir = binDir(version);
  const bins: Binaries = {
    version,
    dir,
    etcd: join(dir, "etcd"),
    apiserver: join(dir, "kube-apiserver"),
    controllerManager: join(dir, "kube-controller-manager"),
    certs: join(dir, "kubekit-certs"),
  };
  const stamp = join(dir, "build.json");
  const wanted = await buildKey(version);
  if (existsSync(stamp)) {
    try {
      const s = JSON.parse(readFileSync(stamp, "utf8"));
      if (
        s.key === wanted &&
        [bins.etcd, bins.apiserver, bins.controllerManager, bins.certs].every(existsSync)
      ) {
        return bins;
      }
    } catch {
      // A broken stamp means a broken cache: rebuild below.
    }
  }
  const go = await goAvailable();
  if (!go)
    throw new Error("Go is needed to build the test control plane, and `go` was not found on PATH");
  const started = Date.now();
  log(
    `building Kubernetes v${version} (kube-apiserver, kube-controller-manager, etcd) with ${go} into ${dir}`,
  );
  log(
    "a cold build compiles Kubernetes from source and takes a while; later starts reuse the binaries",
  );
  const src = await moduleFor(version, log);
  await mkdir(dir, { recursive: true });
  const { major, minor } = parseVersion(version);
  const x = "k8s.io/component-base/version";
  const y = "k8s.io/client-go/pkg/version";
  const ldflags = [
    "-s",
    "-w",
    ...[x, y].flatMap((p) => [
      `-X ${p}.gitVersion=v${version}`,
      `-X ${p}.gitMajor=${major}`,
      `-X ${p}.gitMinor=${minor}`,
      `-X ${p}.gitTreeState=clean`,
    ]),
  ].join(" ");
  const env = { ...process.env, CGO_ENABLED: "0" };
  let compiled = 0;
  let lastReport = Date.now();
  const progress = (line: string) => {
    if (!line || line.startsWith("go: downloading")) return;
    compiled++;
    if (Date.now() - lastReport > 30_000) {
      lastReport = Date.now();
      const secs = Math.round((Date.now() - started) / 1000);
      log(`  ... ${compiled} packages compiled, ${secs}s so far (latest: ${line.trim()})`);
    }
  };
  await run(
    "go",
    [
      "build",
      "-v",
      "-trimpath",
      `-ldflags=${ldflags}`,
      "-o",
      `${dir}/`,
      "k8s.io/kubernetes/cmd/kube-apiserver",
      "k8s.io/kubernetes/cmd/kube-controller-manager",
      "go.etcd.io/etcd/server/v3",
    ],
    { cwd: src, env, onLine: progress },
  );
  // etcd's main package is the root of module go.etcd.io/etcd/server/v3, so go names it `server`.
  await rm(bins.etcd, { force: true });
  await rename(join(dir, "server"), bins.etcd);
  await run("go", ["build", "-trimpath", "-o", bins.certs, "./certs"], { cwd: src, env });
  const seconds = Math.round((Date.now() - started) / 1000);
  const sizes = Object.fromEntries(
    (["etcd", "apiserver", "controllerManager", "certs"] as const).map((k) => [
      k,
      statSync(bins[k]).size,
    ]),
  );
  await writeFile(
    stamp,
    JSON.stringify(
      { key: wanted, version, go, seconds, sizes, builtAt: new Date().toISOString() },
      null,
      2,
    ),
  );
  log(`built Kubernetes v${version} in ${seconds}s (${fmtSizes(sizes)})`);
  return bins;
}

function fmtSizes(sizes: Record<string, number>): string {
  return Object.entries(sizes)
    .map(([k, v]) => `${k} ${(v / 1e6).toFixed(1)} MB`)
    .join(", ");
}

/** What the binaries depend on: the module definition and the certificate tool's source. */
async function buildKey(version: string): Promise<string> {
  const h = createHash("sha256").update(version);
  if (version === DEFAULT_VERSION) {
    for (const f of ["go.mod", "go.sum", "certs/main.go"])
      h.update(await readFile(join(moduleDir, f)));
  } else {
    h.update(await readFile(join(moduleDir, "certs/main.go")));
  }
  return h.digest("hex").slice(0, 16);
}

async function freePort(): Promise<number> {
  return await new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === "object" && addr ? res(addr.port) : rej(new Error("no port")),
      );
    });
  });
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readState(): ClusterState | undefined {
  try {
    return JSON.parse(readFileSync(statePath, "utf8")) as ClusterState;
  } catch {
    return undefined;
  }
}

interface Tls {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

function loadTls(): Tls {
  const pki = join(clusterDir, "pki");
  return {
    ca: readFileSync(join(pki, "ca.crt")),
    cert: readFileSync(join(pki, "admin.crt")),
    key: readFileSync(join(pki, "admin.key")),
  };
}

/** A GET with the admin certificate; resolves with the status code and body, never throws on HTTP errors. */
export async function adminGet(
  server: string,
  path: string,
  timeoutMs = 5000,
): Promise<{ status: number; body: string }> {
  const tls = loadTls();
  return await new Promise((res, rej) => {
    const req = request(
      new URL(path, server),
      { ...tls, method: "GET", timeout: timeoutMs },
      (resp) => {
        let body = "";
        resp.setEncoding("utf8");
        resp.on("data", (d: string) => {
          body += d;
        });
        resp.on("end", () => res({ status: resp.statusCode ?? 0, body }));
        resp.on("error", rej);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on("error", rej);
    req.end();
  });
}

export async function status(): Promise<ClusterStatus> {
  const state = readState();
  if (!state) return { up: false, problems: ["no cluster state (not started)"] };
  const problems: string[] = [];
  for (const [name, pid] of Object.entries(state.pids)) {
    if (!alive(pid)) problems.push(`${name} (pid ${pid}) is not running`);
  }
  let serverVersion: string | undefined;
  try {
    const r = await adminGet(state.server, "/readyz");
    if (r.status !== 200) problems.push(`/readyz answered ${r.status}`);
    const v = await adminGet(state.server, "/version");
    serverVersion = JSON.parse(v.body).gitVersion;
  } catch (e) {
    problems.push(`API server unreachable: ${(e as Error).message}`);
  }
  return { up: problems.length === 0, state, serverVersion, problems };
}

function startProcess(name: string, bin: string, args: string[]): number {
  const fd = openSync(join(logsDir, `${name}.log`), "a");
  const child = spawn(bin, args, { detached: true, stdio: ["ignore", fd, fd] });
  child.unref();
  if (!child.pid) throw new Error(`could not start ${name}`);
  return child.pid;
}

async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
  pids: number[],
) {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    for (const pid of pids) {
      if (!alive(pid))
        throw new Error(`a control-plane process died while waiting for ${what}; see ${logsDir}`);
    }
    try {
      if (await check()) return;
    } catch (e) {
      lastErr = e;
    }
    await sleep(250);
  }
  throw new Error(
    `timed out after ${timeoutMs / 1000}s waiting for ${what}${lastErr ? ` (${(lastErr as Error).message})` : ""}; see ${logsDir}`,
  );
}

export interface UpResult {
  state: ClusterState;
  /** False when a cluster was already up and was reused. */
  started: boolean;
  buildSeconds: number;
  startSeconds: number;
}

/**
 * Starts the control plane, or returns the running one. Waits for `/readyz`, namespace `default`
 * and the `default` ServiceAccount (the sign that kube-controller-manager works).
 */
export async function up(options: { version?: string; log?: Log } = {}): Promise<UpResult> {
  const version = options.version ?? DEFAULT_VERSION;
  const log = options.log ?? console.log;
  const current = await status();
  if (current.up && current.state) {
    if (current.state.version !== version) {
      throw new Error(
        `a v${current.state.version} cluster is already up; run \`npm run cluster -- down\` before starting v${version}`,
      );
    }
    return { state: current.state, started: false, buildSeconds: 0, startSeconds: 0 };
  }
  if (current.state) {
    log(`a previous cluster is half up (${current.problems.join("; ")}); cleaning it up`);
    await down({ log: () => {} });
  }

  const buildStart = Date.now();
  const bins = await ensureBinaries(version, log);
  const buildSeconds = (Date.now() - buildStart) / 1000;
  const start = Date.now();

  await rm(clusterDir, { recursive: true, force: true });
  const pki = join(clusterDir, "pki");
  await mkdir(logsDir, { recursive: true });
  await mkdir(pki, { recursive: true });
  const hosts = [
    "127.0.0.1",
    "::1",
    "localhost",
    "10.0.0.1",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
  ];
  await run(bins.certs, ["-dir", pki, "-hosts", hosts.join(",")]);

  const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const server = `https://127.0.0.1:${apiPort}`;

  const etcd = startProcess("etcd", bins.etcd, [
    "--name=default",
    `--data-dir=${join(clusterDir, "etcd")}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=default=${peerUrl}`,
    "--unsafe-no-fsync",
    "--log-level=warn",
  ]);
  const pids = { etcd, apiserver: 0, controllerManager: 0 };
  const writeState = () =>
    writeFile(
      statePath,
      JSON.stringify(
        {
          version,
          kubeconfig: kubeconfigPath,
          server,
          etcdUrl,
          pids,
          ...(pids.apiserver ? { apiserver: { bin: bins.apiserver, args: apiserverArgs } } : {}),
          startedAt: new Date().toISOString(),
        },
        null,
        2,
      ),
    );
  await writeState();
  await waitFor("etcd", 30_000, async () => (await fetch(`${etcdUrl}/health`)).ok, [etcd]);

  const apiserverArgs = [
    `--etcd-servers=${etcdUrl}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--secure-port=${apiPort}`,
    `--cert-dir=${pki}`,
    `--tls-cert-file=${join(pki, "apiserver.crt")}`,
    `--tls-private-key-file=${join(pki, "apiserver.key")}`,
    `--client-ca-file=${join(pki, "ca.crt")}`,
    "--service-cluster-ip-range=10.0.0.0/24",
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${join(pki, "sa.pub")}`,
    `--service-account-signing-key-file=${join(pki, "sa.key")}`,
    "--authorization-mode=RBAC",
    "--allow-privileged=true",
    "--endpoint-reconciler-type=none",
    "--profiling=false",
    // Serve every group/version the binary has, alpha and beta included: the typed API is
    // generated from what this server serves, and tests can exercise any of it.
    "--runtime-config=api/all=true",
    // PodTemplates skip the watch cache, so their lists and continue tokens are served by etcd:
    // tests compact etcd to make a continue token expire, which cache snapshots would hide.
    "--watch-cache-sizes=podtemplates#0",
  ];
  pids.apiserver = startProcess("kube-apiserver", bins.apiserver, apiserverArgs);
  await writeState();

  const admin = loadTls();
  const b64 = (b: Buffer) => b.toString("base64");
  const kubeconfig = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name: "kubekit", cluster: { server, "certificate-authority-data": b64(admin.ca) } },
    ],
    users: [
      {
        name: "admin",
        user: { "client-certificate-data": b64(admin.cert), "client-key-data": b64(admin.key) },
      },
    ],
    contexts: [{ name: "kubekit", context: { cluster: "kubekit", user: "admin" } }],
    "current-context": "kubekit",
    preferences: {},
  };
  await writeFile(kubeconfigPath, stringify(kubeconfig), { mode: 0o600 });

  const planes = () => [
    pids.etcd,
    pids.apiserver,
    ...(pids.controllerManager ? [pids.controllerManager] : []),
  ];
  await waitFor(
    "kube-apiserver /readyz",
    120_000,
    async () => (await adminGet(server, "/readyz")).status === 200,
    planes(),
  );
  await waitFor(
    "namespace default",
    60_000,
    async () => (await adminGet(server, "/api/v1/namespaces/default")).status === 200,
    planes(),
  );

  pids.controllerManager = startProcess("kube-controller-manager", bins.controllerManager, [
    `--kubeconfig=${kubeconfigPath}`,
    "--leader-elect=false",
    "--bind-address=127.0.0.1",
    "--secure-port=0",
    "--controllers=*",
    `--service-account-private-key-file=${join(pki, "sa.key")}`,
    `--root-ca-file=${join(pki, "ca.crt")}`,
    `--cluster-signing-cert-file=${join(pki, "ca.crt")}`,
    `--cluster-signing-key-file=${join(pki, "ca.key")}`,
    "--use-service-account-credentials=false",
  ]);
  await writeState();
  await waitFor(
    "kube-controller-manager (ServiceAccount default/default)",
    90_000,
    async () =>
      (await adminGet(server, "/api/v1/namespaces/default/serviceaccounts/default")).status === 200,
    planes(),
  );
  const startSeconds = (Date.now() - start) / 1000;
  const state = readState()!;
  return { state, started: true, buildSeconds, startSeconds };
}

/**
 * Kills kube-apiserver with SIGKILL (no graceful shutdown: connections just die) and starts it
 * again with the same flags and port; resolves once it is ready. For fault tests.
 */
export async function restartApiserver(options: { downMs?: number } = {}): Promise<void> {
  const state = readState();
  if (!state?.apiserver) throw new Error("no running control plane started by this harness");
  try {
    process.kill(state.pids.apiserver, "SIGKILL");
  } catch {
    // Already gone.
  }
  while (alive(state.pids.apiserver)) await sleep(20);
  if (options.downMs) await sleep(options.downMs);
  state.pids.apiserver = startProcess("kube-apiserver", state.apiserver.bin, state.apiserver.args);
  await writeFile(statePath, JSON.stringify(state, null, 2));
  await waitFor(
    "kube-apiserver /readyz after restart",
    120_000,
    async () => (await adminGet(state.server, "/readyz")).status === 200,
    [state.pids.etcd, state.pids.apiserver],
  );
}

/** The running control plane's state, if this harness started one. */
export function clusterState(): ClusterState | undefined {
  return readState();
}

async function stopPid(pid: number, timeoutMs: number): Promise<void> {
  if (!alive(pid)) return;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < deadline) await sleep(100);
  if (alive(pid)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
    while (alive(pid)) await sleep(50);
  }
}

/** Stops all three processes and deletes the cluster's data; the logs are kept for inspection. */
export async function down(options: { log?: Log } = {}): Promise<boolean> {
  const log = options.log ?? console.log;
  const state = readState();
  if (state) {
    await stopPid(state.pids.controllerManager, 10_000);
    await stopPid(state.pids.apiserver, 15_000);
    await stopPid(state.pids.etcd, 10_000);
  }
  for (const entry of ["etcd", "pki", "kubeconfig", "state.json"]) {
    await rm(join(clusterDir, entry), { recursive: true, force: true });
  }
  if (state) log(`stopped the v${state.version} cluster; logs kept in ${logsDir}`);
  else log("no cluster was up");
  return state !== undefined;
}

/** Where the logs of the three processes go. */
export function logsFolder(): string {
  return logsDir;
}

export function relativeToRepo(path: string): string {
  return path.startsWith(repoRoot) ? path.slice(repoRoot.length + 1) : path;
}
