/**
 * kubekit/streams through a real kube-apiserver to a fake kubelet built from Kubernetes' own
 * streaming server code (test/fakekubelet): logs, exec, attach and port-forward, compared with
 * kubectl against the same pods where kubectl is installed.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { parse, stringify } from "yaml";
import { Pod } from "../../src/api/core/v1/index.ts";
import type { CredentialSource, Credentials } from "../../src/auth/credentials.ts";
import { Api } from "../../src/client/api.ts";
import { Client } from "../../src/client/index.ts";
import { loadConfig } from "../../src/config/index.ts";
import {
  ApiError,
  isBadRequest,
  isForbidden,
  isInternalError,
  isNotFound,
  isUnauthorized,
} from "../../src/core/errors.ts";
import { RestClient } from "../../src/rest/client.ts";
import {
  attach,
  attachStream,
  exec,
  execStream,
  forward,
  logs,
  PortForwardError,
  portForward,
  StreamError,
} from "../../src/streams/index.ts";
import { FaultProxy } from "../chaos/harness.ts";
import { testClient, testKubeconfig, testNamespace, uniqueName } from "../support/cluster.ts";
import { clusterIsLocal, FakeKubelet, fakeKubeletBinary } from "../support/fakekubelet.ts";
import { assertNoLeaks, handles } from "../support/leaks.ts";

// The fake kubelet listens on this host's loopback, which only kubekit's own control plane reaches.
const local = await clusterIsLocal(testKubeconfig());
const binary = local ? await fakeKubeletBinary() : undefined;
const kubectlFound = await new Promise<boolean>((res) => {
  execFile("kubectl", ["version", "--client"], (err) => res(!err));
});

let client: Client;
let ns: { name: string; remove(): Promise<void> };
let kubelet: FakeKubelet;
let pods: Api<Pod, true>;
let echo: { port: number; server: Server };
/** The pod every test uses; its containers are set up in `before`. */
const POD = "web";

function kubectl(
  args: string[],
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = execFile(
      "kubectl",
      ["--kubeconfig", testKubeconfig(), "-n", ns.name, ...args],
      { encoding: "utf8" },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        res({ code: typeof code === "number" ? code : 1, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Reads `r` until the text read so far satisfies `done`. */
async function readUntil(r: Readable, done: (text: string) => boolean): Promise<string> {
  let text = "";
  // Reading on later: leaving the loop must not destroy the stream.
  for await (const chunk of r.iterator({ destroyOnReturn: false })) {
    text += (chunk as Buffer).toString("utf8");
    if (done(text)) return text;
  }
  throw new Error(`the stream ended before the expected output; got ${JSON.stringify(text)}`);
}

/** A free local port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Sends `data` to a local port and returns what comes back, once as many bytes came back. */
function roundTrip(port: number, data: Buffer): Promise<Buffer> {
  return new Promise((res, rej) => {
    const parts: Buffer[] = [];
    let got = 0;
    const s: Socket = connect(port, "127.0.0.1", () => s.write(data));
    s.on("data", (d: Buffer) => {
      parts.push(d);
      got += d.length;
      if (got >= data.length) s.end();
    });
    s.on("error", rej);
    s.on("close", () => res(Buffer.concat(parts)));
  });
}

/** A stream that breaks must fail its test, not hang the run. */
const T = { timeout: 60_000 };

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("kubekit/streams through kube-apiserver to a fake kubelet", {
  skip: !local
    ? "the test cluster is not kubekit's local control plane, so it cannot reach a fake kubelet"
    : binary
      ? false
      : "Go is not available to build the fake kubelet (test/fakekubelet)",
}, () => {
  before(async () => {
    client = await testClient();
    ns = await testNamespace(client, "kk-streams");
    kubelet = await FakeKubelet.start(client, binary!);
    await kubelet.createPod(ns.name, POD, [
      { name: "app", attach: ["sh", "-c", 'while read l; do echo "got $l"; done'] },
      { name: "once", attach: ["sh", "-c", 'read l; echo "once: $l"; echo "bye" >&2'] },
      { name: "follow" },
      { name: "prev" },
    ]);
    echo = await new Promise((res) => {
      const server = createServer((s) => {
        s.on("error", () => {});
        s.pipe(s);
      });
      server.listen(0, "127.0.0.1", () =>
        res({ port: (server.address() as { port: number }).port, server }),
      );
    });
    pods = client.api(Pod).namespace(ns.name);
    // kubekit/streams learns how a client connects (TLS, credentials) when given the Client;
    // from then on that client's Apis open WebSockets too (see src/streams/index.ts).
    logs(client, POD, { namespace: ns.name });
  });

  after(async () => {
    await new Promise<void>((r) => echo?.server.close(() => r()));
    await kubelet?.stop();
    await ns?.remove();
    await client?.close();
  });

  describe("logs", () => {
    test("the whole log, line by line and as text, as kubectl logs prints it", T, async () => {
      await kubelet.writeLog(ns.name, POD, "app", [
        { line: "alpha" },
        { line: "beta", stream: "stderr" },
        { line: "gamma ✓" },
      ]);
      const lines: string[] = [];
      for await (const line of logs(pods, POD, { container: "app" })) lines.push(line);
      assert.deepEqual(lines, ["alpha", "beta", "gamma ✓"]);
      const text = await logs(pods, POD, { container: "app" }).text();
      assert.equal(text, "alpha\nbeta\ngamma ✓\n");
      // The Client form, with the namespace as an option.
      assert.equal(await logs(client, POD, { namespace: ns.name, container: "app" }).text(), text);
      if (kubectlFound) {
        const k = await kubectl(["logs", POD, "-c", "app"]);
        assert.equal(k.code, 0, k.stderr);
        assert.equal(k.stdout, text);
      }
    });

    test("tailLines, timestamps and limitBytes, compared with kubectl", T, async () => {
      const t0 = new Date("2026-01-02T03:04:05.123Z");
      await kubelet.writeLog(ns.name, POD, "app", [
        { line: "delta", time: t0 },
        { line: "epsilon", time: new Date(t0.getTime() + 1000) },
      ]);
      const tail = await logs(pods, POD, { container: "app", tailLines: 2 }).text();
      assert.equal(tail, "delta\nepsilon\n");
      const stamped = await logs(pods, POD, {
        container: "app",
        tailLines: 2,
        timestamps: true,
      }).text();
      assert.equal(
        stamped,
        "2026-01-02T03:04:05.123000000Z delta\n2026-01-02T03:04:06.123000000Z epsilon\n",
      );
      const limited = await logs(pods, POD, { container: "app", limitBytes: 8 }).text();
      assert.equal(limited, "alpha\nbe");
      const lines: string[] = [];
      for await (const l of logs(pods, POD, { container: "app", limitBytes: 8 })) lines.push(l);
      assert.deepEqual(lines, ["alpha", "be"], "a cut last line is yielded too");
      if (kubectlFound) {
        const k1 = await kubectl(["logs", POD, "-c", "app", "--tail=2", "--timestamps"]);
        assert.equal(k1.stdout, stamped);
        const k2 = await kubectl(["logs", POD, "-c", "app", "--limit-bytes=8"]);
        assert.equal(k2.stdout, limited);
      }
    });

    test("sinceSeconds and sinceTime keep only later lines", T, async () => {
      await kubelet.writeLog(ns.name, POD, "prev", [
        { line: "old", time: new Date(Date.now() - 3_600_000) },
        { line: "new", time: new Date() },
      ]);
      const recent = await logs(pods, POD, { container: "prev", sinceSeconds: 600 }).text();
      assert.equal(recent, "new\n");
      const since = new Date(Date.now() - 1_800_000);
      assert.equal(await logs(pods, POD, { container: "prev", sinceTime: since }).text(), "new\n");
      assert.equal(
        await logs(pods, POD, { container: "prev", sinceTime: since.toISOString() }).text(),
        "new\n",
      );
    });

    test(
      "previous reads the container's last run; without one the server's Status",
      T,
      async () => {
        await assert.rejects(
          logs(pods, POD, { container: "follow", previous: true }).text(),
          (err: unknown) => {
            assert.ok(isBadRequest(err), String(err));
            assert.match((err as Error).message, /previous terminated container "follow"/);
            return true;
          },
        );
        await kubelet.restart(ns.name, POD, "prev");
        await kubelet.writeLog(ns.name, POD, "prev", [{ line: "second run" }]);
        assert.equal(await logs(pods, POD, { container: "prev" }).text(), "second run\n");
        assert.equal(
          await logs(pods, POD, { container: "prev", previous: true }).text(),
          "old\nnew\n",
        );
      },
    );

    test(
      "follow receives lines written after it started, and ends when the container exits",
      T,
      async () => {
        await kubelet.writeLog(ns.name, POD, "follow", [{ line: "first" }]);
        const start = handles();
        const seen: string[] = [];
        const it = logs(pods, POD, { container: "follow", follow: true })[Symbol.asyncIterator]();
        seen.push((await it.next()).value as string);
        await kubelet.writeLog(ns.name, POD, "follow", [{ line: "second" }, { line: "third" }]);
        seen.push((await it.next()).value as string, (await it.next()).value as string);
        assert.deepEqual(seen, ["first", "second", "third"]);
        await kubelet.exit(ns.name, POD, "follow");
        assert.equal((await it.next()).done, true, "the stream ends with the container");
        await assertNoLeaks(start);
      },
    );

    test("break ends a followed log and closes its connection", T, async () => {
      await kubelet.restart(ns.name, POD, "follow");
      await kubelet.writeLog(ns.name, POD, "follow", [{ line: "a" }, { line: "b" }]);
      const start = handles();
      const lines: string[] = [];
      for await (const line of logs(pods, POD, { container: "follow", follow: true })) {
        lines.push(line);
        if (lines.length === 2) break;
      }
      assert.deepEqual(lines, ["a", "b"]);
      await assertNoLeaks(start);
    });

    test(
      "abort ends a followed log with the signal's reason and closes its connection",
      T,
      async () => {
        const start = handles();
        const ac = new AbortController();
        const reason = new Error("enough");
        const lines: string[] = [];
        await assert.rejects(
          (async () => {
            for await (const line of logs(pods, POD, {
              container: "follow",
              follow: true,
              signal: ac.signal,
            })) {
              lines.push(line);
              if (lines.length === 2) ac.abort(reason);
            }
          })(),
          (err) => err === reason,
        );
        assert.deepEqual(lines, ["a", "b"]);
        await assertNoLeaks(start);
      },
    );

    test("chunks() yields the bytes as sent", T, async () => {
      const parts: Buffer[] = [];
      for await (const c of logs(pods, POD, { container: "app" }).chunks()) parts.push(c);
      const bytes = Buffer.concat(parts);
      assert.ok(bytes.includes(Buffer.from("gamma ✓\n", "utf8")));
      assert.equal(bytes.toString("utf8").split("\n")[0], "alpha");
    });

    test(
      "a missing pod is NotFound; a missing container BadRequest, with the server's Status",
      T,
      async () => {
        await assert.rejects(logs(pods, "no-such-pod").text(), (err: unknown) => {
          assert.ok(isNotFound(err), String(err));
          assert.equal((err as ApiError).status.details?.name, "no-such-pod");
          return true;
        });
        await assert.rejects(logs(pods, POD, { container: "nope" }).text(), (err: unknown) => {
          assert.ok(isBadRequest(err), String(err));
          assert.match((err as ApiError).message, /nope/);
          return true;
        });
      },
    );
  });

  describe("exec", () => {
    test("stdout and stderr apart, exit codes 0 and non-zero, as kubectl exec", T, async () => {
      const ok = await exec(pods, POD, ["sh", "-c", "echo out; echo err >&2"], {
        container: "app",
      });
      assert.deepEqual(
        { exitCode: ok.exitCode, stdout: ok.stdout, stderr: ok.stderr },
        { exitCode: 0, stdout: "out\n", stderr: "err\n" },
      );
      const failed = await exec(pods, POD, ["sh", "-c", "echo partial; exit 42"], {
        container: "app",
      });
      assert.equal(failed.exitCode, 42);
      assert.equal(failed.stdout, "partial\n");
      assert.equal(failed.status.reason, "NonZeroExitCode");
      if (kubectlFound) {
        const k = await kubectl([
          "exec",
          POD,
          "-c",
          "app",
          "--",
          "sh",
          "-c",
          "echo partial; exit 42",
        ]);
        assert.equal(k.code, 42);
        assert.equal(k.stdout, failed.stdout);
      }
    });

    test("stdin round-trips byte for byte and then reaches end-of-file", T, async () => {
      const data = Buffer.concat([Buffer.from([...Array(256).keys()]), randomBytes(300_000)]);
      const r = await exec(pods, POD, ["cat"], {
        container: "app",
        stdin: data,
        stderr: false,
        encoding: "buffer",
      });
      assert.equal(r.exitCode, 0);
      assert.equal(r.stderr, undefined);
      assert.equal(sha(r.stdout!), sha(data));
      // An async iterable as stdin, and the Client form.
      async function* parts() {
        yield "one ";
        yield Buffer.from("two");
      }
      const c = await exec(client, POD, ["sh", "-c", "cat; echo; echo done"], {
        namespace: ns.name,
        container: "app",
        stdin: parts(),
      });
      assert.equal(c.stdout, "one two\ndone\n");
      if (kubectlFound) {
        const k = await kubectl(["exec", "-i", POD, "-c", "app", "--", "cat"], "via kubectl\n");
        assert.equal(k.stdout, "via kubectl\n");
      }
    });

    test("the stream form: stdout as it comes, stdin written and ended", T, async () => {
      const s = await execStream(
        pods,
        POD,
        ["sh", "-c", 'while read l; do echo "<$l>"; done; echo end'],
        {
          container: "app",
          stdin: true,
        },
      );
      assert.equal(s.protocol, "v5.channel.k8s.io");
      s.stdin!.write("one\n");
      const first = await readUntil(s.stdout!, (t) => t.includes("<one>"));
      assert.equal(first, "<one>\n");
      s.stdin!.end("two\n");
      const rest = await readUntil(s.stdout!, (t) => t.includes("end"));
      assert.equal(rest, "<two>\nend\n");
      assert.equal((await s.done).exitCode, 0);
    });

    test("a terminal: stty size sees the initial size and each resize", T, async () => {
      const s = await execStream(pods, POD, ["sh", "-c", "while read l; do stty size; done"], {
        container: "app",
        tty: true,
        stdin: true,
        terminalSize: { cols: 80, rows: 24 },
      });
      assert.equal(s.stderr, undefined, "a terminal has no separate stderr");
      const out = s.stdout!;
      // A size and a line travel on different channels (as with kubectl, the command may start
      // before the initial size arrives): ask until the expected size shows.
      const sizeBecomes = async (size: string) => {
        const asking = setInterval(() => s.stdin!.write("\r"), 150);
        // Ending the output makes readUntil fail at once rather than at the test's timeout.
        const giveUp = setTimeout(() => s.close(), 10_000);
        try {
          return await readUntil(out, (t) => t.includes(`${size}\r\n`));
        } finally {
          clearInterval(asking);
          clearTimeout(giveUp);
        }
      };
      assert.ok(!(await sizeBecomes("24 80")).includes("30 100"));
      s.resize(100, 30);
      assert.ok((await sizeBecomes("30 100")).endsWith("\n"));
      s.stdin!.end();
      assert.equal((await s.done).exitCode, 0);
    });

    test("a command that does not exist: InternalError with the runtime's message", T, async () => {
      await assert.rejects(exec(pods, POD, ["no-such-command"], { container: "app" }), (err) => {
        assert.ok(isInternalError(err), String(err));
        assert.match((err as Error).message, /executable file not found/);
        assert.equal((err as ApiError).url, `/api/v1/namespaces/${ns.name}/pods/${POD}/exec`);
        return true;
      });
      if (kubectlFound) {
        const k = await kubectl(["exec", POD, "-c", "app", "--", "no-such-command"]);
        assert.notEqual(k.code, 0);
        assert.match(k.stderr, /executable file not found/);
      }
    });

    test(
      "abort rejects with the reason, the remote process sees its stdin end, nothing leaks",
      T,
      async () => {
        const start = handles();
        const root = join(kubelet.containerDir(ns.name, POD, "app"), "root");
        const ac = new AbortController();
        const s = await execStream(
          pods,
          POD,
          ["sh", "-c", "echo started; cat >/dev/null; echo gone > aborted.txt"],
          { container: "app", stdin: true, signal: ac.signal },
        );
        await readUntil(s.stdout!, (t) => t.includes("started"));
        const reason = new Error("stop");
        ac.abort(reason);
        await assert.rejects(s.done, (err) => err === reason);
        for (let i = 0; i < 50 && !existsSync(join(root, "aborted.txt")); i++) await sleep(100);
        assert.equal(await readFile(join(root, "aborted.txt"), "utf8"), "gone\n");
        // Aborting the wait for the handshake rejects too.
        const early = new AbortController();
        early.abort(reason);
        await assert.rejects(
          exec(pods, POD, ["true"], { container: "app", signal: early.signal }),
          (e) => e === reason,
        );
        await assertNoLeaks(start);
      },
    );

    test("close() ends the session: done rejects with ERR_KUBEKIT_STREAM_CLOSED", T, async () => {
      const s = await execStream(pods, POD, ["sleep", "30"], { container: "app" });
      s.close();
      await assert.rejects(s.done, (err) => {
        assert.ok(err instanceof StreamError);
        assert.equal(err.code, "ERR_KUBEKIT_STREAM_CLOSED");
        return true;
      });
    });

    test("keep-alive: pings go out and the API server answers them", T, async () => {
      let pongs = 0;
      const onPong = () => {
        pongs++;
      };
      subscribe("undici:websocket:pong", onPong);
      try {
        const r = await exec(pods, POD, ["sleep", "1"], { container: "app", keepAliveMs: 100 });
        assert.equal(r.exitCode, 0);
        assert.ok(pongs >= 5, `${pongs} pongs in a second of pings every 100 ms`);
        pongs = 0;
        await exec(pods, POD, ["sleep", "1"], { container: "app", keepAliveMs: 0 });
        assert.equal(pongs, 0, "keepAliveMs: 0 sends no pings");
      } finally {
        unsubscribe("undici:websocket:pong", onPong);
      }
    });

    test(
      "keep-alive: a connection that goes silent (no FIN, no RST) is declared lost",
      T,
      async () => {
        const start = handles();
        const config = client.config;
        const proxy = new FaultProxy(new URL(config.server));
        const proxied = new Client(
          await loadConfig({
            kubeconfig: testKubeconfig(),
            env: {},
            inCluster: false,
            server: await proxy.listen(),
            tlsServerName: "localhost",
          }),
          { qps: -1 },
        );
        try {
          const s = await execStream(proxied.api(Pod).namespace(ns.name), POD, ["sleep", "60"], {
            container: "app",
            keepAliveMs: 100,
          });
          const t0 = Date.now();
          const silent = proxy.silence(4_000);
          await assert.rejects(s.done, (err) => {
            assert.ok(err instanceof StreamError, String(err));
            assert.equal(err.code, "ERR_KUBEKIT_STREAM_LOST");
            assert.match(err.message, /nothing arrived for \d+ ms/);
            return true;
          });
          const took = Date.now() - t0;
          assert.ok(
            took >= 2000 && took < 4000,
            `declared lost after ${took} ms (12 × 100 ms + 1 s)`,
          );
          await silent;
        } finally {
          await proxied.close();
          await proxy.close();
        }
        await assertNoLeaks(start);
      },
    );

    test("v4.channel.k8s.io, served by the kubelet's own WebSocket code", T, async () => {
      const r = await exec(pods, POD, ["sh", "-c", "echo four; echo e >&2; exit 3"], {
        container: "app",
        protocols: ["v4.channel.k8s.io"],
      });
      assert.deepEqual([r.exitCode, r.stdout, r.stderr], [3, "four\n", "e\n"]);
    });
  });

  describe("attach", () => {
    test("to the main process: stdin in, its output out", T, async () => {
      const s = await attachStream(pods, POD, { container: "app", stdin: true });
      s.stdin!.write("hello\n");
      assert.equal(await readUntil(s.stdout!, (t) => t.includes("got hello")), "got hello\n");
      s.stdin!.write("again\n");
      assert.equal(await readUntil(s.stdout!, (t) => t.includes("got again")), "got again\n");
      await s[Symbol.asyncDispose]();
      // What the main process wrote is in the container's log too.
      const log = await logs(pods, POD, { container: "app" }).text();
      assert.match(log, /got hello\ngot again\n/);
    });

    test("buffered: returns the output once the process ends", T, async () => {
      const r = await attach(pods, POD, { container: "once", stdin: "hi\n" });
      assert.deepEqual([r.exitCode, r.stdout, r.stderr], [0, "once: hi\n", "bye\n"]);
    });
  });

  describe("port-forward", () => {
    test("bytes round-trip to a local echo server through the API server", T, async () => {
      const start = handles();
      const session = await portForward(pods, POD, [echo.port]);
      assert.equal(session.protocol, "v4.channel.k8s.io");
      const stream = session.streams[0]!;
      assert.equal(stream.port, echo.port);
      stream.write("ping");
      assert.equal(await readUntil(stream, (t) => t.length >= 4), "ping");
      stream.end();
      await session.done;
      await assertNoLeaks(start);
    });

    test("two ports over one WebSocket, each with its own channels", T, async () => {
      const session = await portForward(pods, POD, [echo.port, echo.port]);
      const [a, b] = session.streams;
      a!.write("first port");
      b!.write("second");
      assert.equal(await readUntil(b!, (t) => t.length >= 6), "second");
      assert.equal(await readUntil(a!, (t) => t.length >= 10), "first port");
      a!.end();
      b!.end();
      await session.done;
    });

    test("forward(): concurrent connections, each over its own WebSocket", T, async () => {
      const start = handles();
      const fwd = await forward(pods, POD, { remotePort: echo.port });
      assert.equal(fwd.address, "127.0.0.1");
      const payloads = Array.from({ length: 6 }, (_, i) => randomBytes(50_000 + i));
      const results = await Promise.all(payloads.map((p) => roundTrip(fwd.port, p)));
      assert.deepEqual(results.map(sha), payloads.map(sha));
      await fwd.close();
      await assertNoLeaks(start);
    });

    test("a 10 MB transfer arrives intact", T, async () => {
      const fwd = await forward(pods, POD, { remotePort: echo.port });
      const data = randomBytes(10 * 1024 * 1024);
      const back = await roundTrip(fwd.port, data);
      assert.equal(back.length, data.length);
      assert.equal(sha(back), sha(data));
      await fwd.close();
    });

    test("a closed remote port: PortForwardError with the kubelet's message", T, async () => {
      const port = await closedPort();
      const session = await portForward(pods, POD, [port]);
      await assert.rejects(session.done, (err) => {
        assert.ok(err instanceof PortForwardError, String(err));
        assert.equal(err.code, "ERR_KUBEKIT_PORT_FORWARD");
        assert.equal(err.port, port);
        assert.match(err.message, /connection refused/);
        return true;
      });
      const errors: unknown[] = [];
      const fwd = await forward(pods, POD, { remotePort: port, onError: (e) => errors.push(e) });
      const back = await roundTrip(fwd.port, Buffer.from("x"));
      assert.equal(back.length, 0, "the local connection is closed");
      await fwd.close();
      assert.equal(errors.length, 1);
      assert.ok(errors[0] instanceof PortForwardError);
    });

    test(
      "kubectl port-forward reaches the same echo server (the fake kubelet's SPDY side)",
      T,
      async (t) => {
        if (!kubectlFound) return t.skip("kubectl is not installed");
        const localPort = await closedPort();
        const child = execFile("kubectl", [
          "--kubeconfig",
          testKubeconfig(),
          "-n",
          ns.name,
          "port-forward",
          `pod/${POD}`,
          `${localPort}:${echo.port}`,
        ]);
        try {
          await new Promise<void>((res, rej) => {
            child.stdout?.on("data", (d: Buffer) => {
              if (d.toString().includes("Forwarding from")) res();
            });
            child.on("exit", (code) => rej(new Error(`kubectl port-forward exited ${code}`)));
          });
          const data = randomBytes(100_000);
          assert.equal(sha(await roundTrip(localPort, data)), sha(data));
        } finally {
          child.kill();
        }
      },
    );
  });

  describe("credentials", () => {
    let dir: string;
    let token: string;
    let deniedToken: string;
    let cluster: Record<string, string>;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), "kubekit-streams-"));
      const kc = parse(await readFile(testKubeconfig(), "utf8"));
      cluster = kc.clusters[0].cluster;
      const core = `/api/v1/namespaces/${ns.name}`;
      const rbac = `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns.name}`;
      for (const sa of ["streamer", "bystander"]) {
        await client.request({
          method: "POST",
          path: `${core}/serviceaccounts`,
          body: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: sa } },
        });
      }
      // Streams need get and create on the subresources (AuthorizePodWebsocketUpgradeCreatePermission).
      await client.request({
        method: "POST",
        path: `${rbac}/roles`,
        body: {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "Role",
          metadata: { name: "streamer" },
          rules: [
            { apiGroups: [""], resources: ["pods", "pods/log"], verbs: ["get"] },
            {
              apiGroups: [""],
              resources: ["pods/exec", "pods/attach", "pods/portforward"],
              verbs: ["get", "create"],
            },
          ],
        },
      });
      await client.request({
        method: "POST",
        path: `${rbac}/rolebindings`,
        body: {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "RoleBinding",
          metadata: { name: "streamer" },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "streamer" },
          subjects: [{ kind: "ServiceAccount", name: "streamer", namespace: ns.name }],
        },
      });
      const tokenFor = async (sa: string) =>
        (
          await client.request<{ status: { token: string } }>({
            method: "POST",
            path: `${core}/serviceaccounts/${sa}/token`,
            body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: {} },
          })
        ).status.token;
      token = await tokenFor("streamer");
      deniedToken = await tokenFor("bystander");
    });

    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    async function clientWith(user: object): Promise<Client> {
      const path = join(dir, uniqueName("kc"));
      await writeFile(
        path,
        stringify({
          apiVersion: "v1",
          kind: "Config",
          clusters: [{ name: "c", cluster }],
          users: [{ name: "u", user }],
          contexts: [{ name: "x", context: { cluster: "c", user: "u", namespace: ns.name } }],
          "current-context": "x",
        }),
      );
      return new Client(await loadConfig({ kubeconfig: path, env: {}, inCluster: false }), {
        qps: -1,
      });
    }

    test(
      "a bearer token reaches the WebSocket handshake; a token without rights is Forbidden",
      T,
      async () => {
        const allowed = await clientWith({ token });
        const denied = await clientWith({ token: deniedToken });
        try {
          const r = await exec(allowed, POD, ["echo", "as streamer"], { container: "app" });
          assert.equal(r.stdout, "as streamer\n");
          const session = await portForward(allowed, POD, [echo.port]);
          session.close();
          await session.done;
          await assert.rejects(exec(denied, POD, ["true"], { container: "app" }), (err) => {
            assert.ok(isForbidden(err), String(err));
            assert.match((err as Error).message, /system:serviceaccount:.*:bystander/);
            assert.ok(!(err as Error).message.includes(deniedToken));
            return true;
          });
        } finally {
          await allowed.close();
          await denied.close();
        }
      },
    );

    test("an exec plugin's credentials are used", T, async () => {
      const plugin = join(dir, "plugin.sh");
      const credential = {
        apiVersion: "client.authentication.k8s.io/v1",
        kind: "ExecCredential",
        status: { token },
      };
      await writeFile(plugin, `#!/bin/sh\necho '${JSON.stringify(credential)}'\n`);
      await chmod(plugin, 0o755);
      const viaPlugin = await clientWith({
        exec: {
          apiVersion: "client.authentication.k8s.io/v1",
          command: plugin,
          interactiveMode: "Never",
        },
      });
      try {
        const r = await attach(viaPlugin, POD, { container: "once", stdin: "plugin\n" });
        assert.equal(r.stdout, "once: plugin\n");
      } finally {
        await viaPlugin.close();
      }
    });

    test(
      "impersonation headers are sent: the admin impersonating a bystander is Forbidden",
      T,
      async () => {
        const as = new Client(
          await loadConfig({
            kubeconfig: testKubeconfig(),
            env: {},
            inCluster: false,
            impersonate: { user: `system:serviceaccount:${ns.name}:bystander` },
          }),
          { qps: -1 },
        );
        try {
          await assert.rejects(
            exec(as, POD, ["true"], { namespace: ns.name, container: "app" }),
            (err) => {
              assert.ok(isForbidden(err), String(err));
              assert.match((err as Error).message, /bystander/);
              return true;
            },
          );
          // The same impersonated user reads logs over the pooled connection: also Forbidden.
          await assert.rejects(
            logs(as, POD, { namespace: ns.name, container: "app" }).text(),
            isForbidden,
          );
        } finally {
          await as.close();
        }
      },
    );

    test(
      "after a 401 the credential source is told, and the handshake is retried once",
      T,
      async () => {
        let told = 0;
        const good = { authorization: `Bearer ${token}` } as Credentials;
        const bad = { authorization: "Bearer not-a-valid-token" } as Credentials;
        const source: CredentialSource = {
          credentials: async () => (told > 0 ? good : bad),
          onUnauthorized: () => {
            told++;
          },
        };
        // A client whose credential source is the test's own, over the config's TLS settings.
        const config = (await clientWith({ token: "unused" })).config;
        const podsWith = (credentials: CredentialSource) => {
          const rest = new RestClient({
            server: config.server,
            ...(config.caData ? { ca: config.caData } : {}),
            credentials,
            qps: -1,
          });
          return {
            rest,
            pods: new Api<Pod, true>({ rest, defaultNamespace: ns.name }, Pod, ns.name),
          };
        };
        const c = podsWith(source);
        const n = podsWith({ credentials: async () => bad, onUnauthorized() {} });
        try {
          const r = await exec(c.pods, POD, ["echo", "retried"], { container: "app" });
          assert.equal(r.stdout, "retried\n");
          assert.equal(told, 1);
          await assert.rejects(exec(n.pods, POD, ["true"], { container: "app" }), (err) => {
            assert.ok(isUnauthorized(err), String(err));
            assert.ok(!(err as Error).message.includes("not-a-valid-token"));
            return true;
          });
        } finally {
          await c.rest.close();
          await n.rest.close();
        }
      },
    );
  });

  describe("errors", () => {
    test(
      "exec, attach and port-forward to a missing pod: NotFound with the server's Status",
      T,
      async () => {
        for (const call of [
          () => exec(pods, "no-such-pod", ["true"]),
          () => attach(pods, "no-such-pod"),
          () => portForward(pods, "no-such-pod", [80]),
        ]) {
          await assert.rejects(call(), (err: unknown) => {
            assert.ok(err instanceof ApiError, String(err));
            assert.ok(isNotFound(err));
            assert.equal(err.status.details?.kind, "pods");
            return true;
          });
        }
      },
    );

    test("a missing container: BadRequest naming it", T, async () => {
      await assert.rejects(exec(pods, POD, ["true"], { container: "nope" }), (err: unknown) => {
        assert.ok(isBadRequest(err), String(err));
        assert.match((err as Error).message, /container nope is not valid/);
        return true;
      });
    });

    test(
      "any Api of a client streams (no need to pass the Client first); a fake transport cannot",
      T,
      async () => {
        const other = await testClient();
        try {
          const r = await exec(other.api(Pod).namespace(ns.name), POD, ["echo", "ok"], {
            container: "app",
          });
          assert.equal(r.stdout, "ok\n");
          const fake = new RestClient({
            server: "https://fake.invalid",
            transport: { dispatch: async () => assert.fail("no request"), close: async () => {} },
          });
          const pods = new Api<Pod, true>({ rest: fake, defaultNamespace: ns.name }, Pod, ns.name);
          await assert.rejects(exec(pods, POD, ["true"]), (err) => {
            assert.ok(err instanceof StreamError);
            assert.equal(err.code, "ERR_KUBEKIT_STREAM_NO_CONNECTION");
            return true;
          });
        } finally {
          await other.close();
        }
      },
    );
  });
});
