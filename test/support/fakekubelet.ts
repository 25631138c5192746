/**
 * A fake kubelet for stream tests: test/fakekubelet (Kubernetes' own streaming server code over a
 * fake runtime of local processes and files) built once, started per test file, and registered
 * as a Node so that kube-apiserver routes pods/log, pods/exec, pods/attach and pods/portforward of
 * pods bound to it there.
 *
 * What kube-apiserver needs for that (pkg/registry/core/pod/strategy.go and
 * pkg/kubelet/client/kubelet_client.go): the pod's `spec.nodeName` names a Node whose
 * `status.addresses` has an address of a preferred type (only `InternalIP: 127.0.0.1` here; a
 * `Hostname` would be preferred and would have to resolve) and whose
 * `status.daemonEndpoints.kubeletEndpoint.Port` is the kubelet's port. Loopback is not refused for
 * these subresources (only the pods/nodes *proxy* subresources check for proxyable addresses).
 * Without `--kubelet-certificate-authority` the API server does not verify the kubelet's
 * certificate, so a self-signed one works. The Node does not declare the ExtendWebSocketsToKubelet
 * feature, so the API server translates v5 WebSockets to SPDY itself, as for kubelets before 1.36.
 *
 * Pods get phase Running and a running container status (kubectl refuses exec and port-forward
 * otherwise) and tolerate every taint: without node heartbeats the node lifecycle controller marks
 * the Node unreachable, and a pod without that toleration would be evicted after five minutes.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { appendFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import type { Pod } from "../../src/api/core/v1/index.ts";
import type { Client } from "../../src/client/index.ts";
import { clusterDir, goAvailable } from "../controlplane/controlplane.ts";
import { uniqueName } from "./cluster.ts";

const sourceDir = resolve(import.meta.dirname, "../fakekubelet");

function cacheRoot(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "kubekit");
}

/** A hash of everything the binary is built from, so a changed source rebuilds. */
function sourceHash(): string {
  const h = createHash("sha256");
  for (const f of readdirSync(sourceDir).sort()) {
    if (f === "go.mod" || f === "go.sum" || f.endsWith(".go")) {
      h.update(f).update(readFileSync(join(sourceDir, f)));
    }
  }
  return h.digest("hex").slice(0, 16);
}

async function run(cmd: string, args: string[], cwd: string): Promise<void> {
  await new Promise<void>((res, rej) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { ...process.env, CGO_ENABLED: "0" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      err += d;
    });
    child.on("error", rej);
    child.on("close", (code) =>
      code === 0 ? res() : rej(new Error(`${cmd} ${args.join(" ")} failed (${code}):\n${err}`)),
    );
  });
}

/**
 * The fake kubelet's binary, built into `~/.cache/kubekit/fakekubelet-<hash>/` if it is not there.
 * Without Go (and no cached binary) it returns undefined, or throws under `CI=true`, where stream
 * tests must not be skipped.
 */
export async function fakeKubeletBinary(): Promise<string | undefined> {
  const dir = join(cacheRoot(), `fakekubelet-${sourceHash()}`);
  const bin = join(dir, "fakekubelet");
  if (existsSync(bin)) return bin;
  if (!(await goAvailable())) {
    if (process.env.CI === "true" || process.env.CI === "1") {
      throw new Error("Go is needed to build the fake kubelet, and `go` was not found on PATH");
    }
    return undefined;
  }
  await mkdir(dir, { recursive: true });
  // Concurrent builders each write their own file; the rename makes whichever is last win whole.
  const partial = `${bin}.${process.pid}.tmp`;
  await run("go", ["build", "-trimpath", "-o", partial, "."], sourceDir);
  await rename(partial, bin);
  return bin;
}

/**
 * Whether the test cluster is kubekit's own control plane, whose kube-apiserver runs on this host
 * and so can reach a kubelet on 127.0.0.1. Another cluster (KUBEKIT_TEST_KUBECONFIG) cannot.
 */
export async function clusterIsLocal(kubeconfig: string): Promise<boolean> {
  try {
    const state = JSON.parse(await readFile(join(clusterDir, "state.json"), "utf8"));
    return state.kubeconfig === kubeconfig;
  } catch {
    return false;
  }
}

export interface FakeContainer {
  name: string;
  /** The container's main process (what attach connects to), started on the first attach. */
  attach?: readonly string[];
}

export interface LogEntry {
  line: string;
  stream?: "stdout" | "stderr";
  time?: Date;
}

/** One started fake kubelet, registered as Node `nodeName`. */
export class FakeKubelet {
  readonly nodeName: string;
  readonly port: number;
  readonly stateDir: string;
  readonly #client: Client;
  readonly #child: ChildProcess;
  readonly #pods: { namespace: string; name: string }[] = [];

  private constructor(
    client: Client,
    child: ChildProcess,
    nodeName: string,
    port: number,
    stateDir: string,
  ) {
    this.#client = client;
    this.#child = child;
    this.nodeName = nodeName;
    this.port = port;
    this.stateDir = stateDir;
  }

  /** Starts the binary on a free loopback port and registers its Node. */
  static async start(client: Client, binary: string): Promise<FakeKubelet> {
    const stateDir = await mkdtemp(join(tmpdir(), "kubekit-fakekubelet-"));
    // stdin stays open: the kubelet exits when it closes, i.e. when this process is gone.
    const child = spawn(binary, ["-state-dir", stateDir], { stdio: ["pipe", "pipe", "pipe"] });
    // Kubernetes' streaming code logs every refused port and closed connection: keep the tail of
    // it for a failure's message rather than fill the test output.
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      stderr = (stderr + d).slice(-16_384);
    });
    const port = await new Promise<number>((res, rej) => {
      const lines = createInterface({ input: child.stdout! });
      lines.once("line", (l) => {
        lines.close();
        try {
          res((JSON.parse(l) as { port: number }).port);
        } catch (e) {
          rej(e);
        }
      });
      child.once("exit", (code) =>
        rej(new Error(`the fake kubelet exited (${code}) before listening:\n${stderr}`)),
      );
      child.once("error", rej);
    });
    const nodeName = uniqueName("fakekubelet");
    const kubelet = new FakeKubelet(client, child, nodeName, port, stateDir);
    await client.request({
      method: "POST",
      path: "/api/v1/nodes",
      body: { apiVersion: "v1", kind: "Node", metadata: { name: nodeName } },
    });
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    await client.request({
      method: "PATCH",
      path: `/api/v1/nodes/${nodeName}/status`,
      contentType: "application/merge-patch+json",
      body: {
        status: {
          addresses: [{ type: "InternalIP", address: "127.0.0.1" }],
          daemonEndpoints: { kubeletEndpoint: { Port: port } },
          conditions: [
            {
              type: "Ready",
              status: "True",
              reason: "KubeletReady",
              message: "kubekit fake kubelet",
              lastHeartbeatTime: now,
              lastTransitionTime: now,
            },
          ],
        },
      },
    });
    return kubelet;
  }

  containerDir(namespace: string, pod: string, container: string): string {
    return join(this.stateDir, "pods", namespace, pod, container);
  }

  /** Creates a pod bound to this node, Running, with the given containers. */
  async createPod(namespace: string, name: string, containers: FakeContainer[]): Promise<Pod> {
    for (const c of containers) {
      const dir = this.containerDir(namespace, name, c.name);
      await mkdir(join(dir, "logs"), { recursive: true });
      await mkdir(join(dir, "root"), { recursive: true });
      await writeFile(join(dir, "logs", "0.log"), "");
      if (c.attach)
        await writeFile(join(dir, "attach.json"), JSON.stringify({ command: c.attach }));
    }
    const body: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace },
      spec: {
        nodeName: this.nodeName,
        automountServiceAccountToken: false,
        tolerations: [{ operator: "Exists" }],
        containers: containers.map((c) => ({ name: c.name, image: "kubekit.dev/fake" })),
      },
    };
    // A new namespace's ServiceAccount may not exist yet for a moment; admission then refuses.
    for (let i = 0; ; i++) {
      try {
        await this.#client.request({
          method: "POST",
          path: `/api/v1/namespaces/${namespace}/pods`,
          body,
        });
        break;
      } catch (err) {
        if (i > 50 || !/serviceaccount/i.test(String((err as Error).message))) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    this.#pods.push({ namespace, name });
    const startedAt = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    return this.#client.request<Pod>({
      method: "PATCH",
      path: `/api/v1/namespaces/${namespace}/pods/${name}/status`,
      contentType: "application/merge-patch+json",
      body: {
        status: {
          phase: "Running",
          hostIP: "127.0.0.1",
          conditions: [{ type: "Ready", status: "True", lastTransitionTime: startedAt }],
          containerStatuses: containers.map((c) => ({
            name: c.name,
            image: "kubekit.dev/fake",
            imageID: "kubekit.dev/fake",
            containerID: `fake://${namespace}/${name}/${c.name}`,
            ready: true,
            started: true,
            restartCount: 0,
            state: { running: { startedAt } },
          })),
        },
      },
    });
  }

  #runs(namespace: string, pod: string, container: string): number[] {
    return readdirSync(join(this.containerDir(namespace, pod, container), "logs"))
      .filter((f) => /^\d+\.log$/.test(f))
      .map((f) => Number.parseInt(f, 10))
      .sort((a, b) => a - b);
  }

  /** Appends lines to the current run's log, in the CRI log format the kubelet reads. */
  async writeLog(
    namespace: string,
    pod: string,
    container: string,
    entries: LogEntry[],
  ): Promise<void> {
    const runs = this.#runs(namespace, pod, container);
    const file = join(
      this.containerDir(namespace, pod, container),
      "logs",
      `${runs.at(-1) ?? 0}.log`,
    );
    const text = entries
      .map((e) => `${criTime(e.time ?? new Date())} ${e.stream ?? "stdout"} F ${e.line}\n`)
      .join("");
    await appendFile(file, text);
  }

  /** Starts the container's next run: its log so far becomes what `previous` reads. */
  async restart(namespace: string, pod: string, container: string): Promise<void> {
    const runs = this.#runs(namespace, pod, container);
    const dir = this.containerDir(namespace, pod, container);
    await writeFile(join(dir, "logs", `${(runs.at(-1) ?? 0) + 1}.log`), "");
    await rm(join(dir, "exited"), { force: true });
  }

  /** Marks the current run as ended: a log follow reads to the end and stops. */
  async exit(namespace: string, pod: string, container: string): Promise<void> {
    await writeFile(join(this.containerDir(namespace, pod, container), "exited"), "");
  }

  /** Stops the kubelet and deletes its pods (at once: nothing else would) and its Node. */
  async stop(): Promise<void> {
    const exited = new Promise<void>((r) => {
      if (this.#child.exitCode !== null || this.#child.signalCode !== null) r();
      else this.#child.once("exit", () => r());
    });
    this.#child.kill("SIGTERM");
    await exited;
    for (const p of this.#pods) {
      await this.#client
        .request({
          method: "DELETE",
          path: `/api/v1/namespaces/${p.namespace}/pods/${p.name}`,
          body: { apiVersion: "v1", kind: "DeleteOptions", gracePeriodSeconds: 0 },
        })
        .catch(() => {});
    }
    await this.#client
      .request({ method: "DELETE", path: `/api/v1/nodes/${this.nodeName}` })
      .catch(() => {});
    await rm(this.stateDir, { recursive: true, force: true });
  }
}

/** RFC 3339 with nanoseconds, as container runtimes write CRI log timestamps. */
function criTime(t: Date): string {
  return t.toISOString().replace(/\.(\d{3})Z$/, ".$1000000Z");
}
