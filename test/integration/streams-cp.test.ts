/**
 * copyToPod and copyFromPod through a real kube-apiserver to the fake kubelet (test/fakekubelet),
 * whose exec runs the system `tar` in the container's root directory.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import {
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  truncate,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Pod } from "../../src/api/core/v1/index.ts";
import type { Api } from "../../src/client/api.ts";
import type { Client } from "../../src/client/index.ts";
import { copyFromPod, copyToPod, logs, StreamError } from "../../src/streams/index.ts";
import { testClient, testKubeconfig, testNamespace } from "../support/cluster.ts";
import { clusterIsLocal, FakeKubelet, fakeKubeletBinary } from "../support/fakekubelet.ts";
import { assertNoLeaks, handles } from "../support/leaks.ts";

const local = await clusterIsLocal(testKubeconfig());
const binary = local ? await fakeKubeletBinary() : undefined;

let client: Client;
let ns: { name: string; remove(): Promise<void> };
let kubelet: FakeKubelet;
let pods: Api<Pod, true>;
let work: string;
/** The container's working directory, where relative remote paths land. */
let root: string;
const POD = "files";

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** Every regular file below `dir` by relative path, with its hash. */
async function hashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) {
      const p = join(e.parentPath, e.name);
      out[p.slice(dir.length + 1)] = sha(await readFile(p));
    }
  }
  return out;
}

/** Waits until `path` exists with at least one byte. */
async function grown(path: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const size = await stat(path).then(
      (s) => s.size,
      () => 0,
    );
    if (size > 0) return;
    await sleep(10);
  }
  throw new Error(`${path} never grew`);
}

const T = { timeout: 120_000 };

describe("kubekit/streams copy through kube-apiserver to a fake kubelet", {
  skip: !local
    ? "the test cluster is not kubekit's local control plane, so it cannot reach a fake kubelet"
    : binary
      ? false
      : "Go is not available to build the fake kubelet (test/fakekubelet)",
}, () => {
  before(async () => {
    client = await testClient();
    ns = await testNamespace(client, "kk-cp");
    kubelet = await FakeKubelet.start(client, binary!);
    await kubelet.createPod(ns.name, POD, [{ name: "app" }]);
    root = join(kubelet.containerDir(ns.name, POD, "app"), "root");
    pods = client.api(Pod).namespace(ns.name);
    work = await mkdtemp(join(tmpdir(), "kubekit-cp-it-"));
    // The Client teaches kubekit/streams how this client connects (see src/streams/index.ts).
    logs(client, POD, { namespace: ns.name });
  });

  after(async () => {
    await kubelet?.stop();
    await ns?.remove();
    await client?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test("a directory tree with a 5 MB binary file round-trips byte-identical", T, async () => {
    const src = join(work, "tree");
    await mkdir(join(src, "sub", "deeper"), { recursive: true });
    await mkdir(join(src, "emptydir"));
    await writeFile(join(src, "big.bin"), randomBytes(5 * 1024 * 1024));
    await writeFile(join(src, "sub", "empty"), "");
    await writeFile(join(src, "sub", "deeper", `${"n".repeat(150)}.txt`), "long name\n");
    await writeFile(join(src, "run.sh"), "#!/bin/sh\n", { mode: 0o755 });
    await symlink("sub/empty", join(src, "link"));
    const want = await hashes(src);

    // `to` does not exist: the directory becomes it.
    await copyToPod(pods, POD, { from: src, to: "uploaded", container: "app" });
    assert.deepEqual(await hashes(join(root, "uploaded")), want);
    assert.equal((await stat(join(root, "uploaded", "run.sh"))).mode & 0o777, 0o755);
    assert.equal(await readlink(join(root, "uploaded", "link")), "sub/empty");

    // The Client form, and an absolute remote path.
    const back = join(work, "back");
    await copyFromPod(client, POD, {
      from: join(root, "uploaded"),
      to: back,
      namespace: ns.name,
      container: "app",
    });
    assert.deepEqual(await hashes(back), want);
    assert.ok((await stat(join(back, "emptydir"))).isDirectory());
    assert.equal(await readlink(join(back, "link")), "sub/empty");
    assert.equal((await stat(join(back, "run.sh"))).mode & 0o777, 0o755);
  });

  test("a single file: to a new path, and into an existing directory", T, async () => {
    const file = join(work, "one.txt");
    await writeFile(file, "one\n");
    await mkdir(join(root, "inbox"));
    await copyToPod(pods, POD, { from: file, to: "inbox/renamed.txt", container: "app" });
    assert.equal(await readFile(join(root, "inbox", "renamed.txt"), "utf8"), "one\n");
    await copyToPod(pods, POD, { from: file, to: "inbox", container: "app" });
    assert.equal(await readFile(join(root, "inbox", "one.txt"), "utf8"), "one\n");

    const local = join(work, "fetched", "copy.txt");
    await copyFromPod(pods, POD, { from: "inbox/renamed.txt", to: local, container: "app" });
    assert.equal(await readFile(local, "utf8"), "one\n");

    // A missing local source fails before anything runs.
    await assert.rejects(
      copyToPod(pods, POD, { from: join(work, "absent"), to: "x", container: "app" }),
      (err) => err instanceof StreamError && err.code === "ERR_KUBEKIT_STREAM_TAR",
    );
  });

  test("copying a missing remote path fails with the remote tar's message", T, async () => {
    await assert.rejects(
      copyFromPod(pods, POD, { from: "no-such-dir", to: join(work, "nothing"), container: "app" }),
      (err) => {
        assert.ok(err instanceof StreamError);
        assert.equal(err.code, "ERR_KUBEKIT_STREAM_TAR");
        assert.match(err.message, /exited with 2: .*no-such-dir: Cannot stat: No such file/);
        return true;
      },
    );
    assert.equal(existsSync(join(work, "nothing")), false);
    // Into a remote directory that does not exist: the remote tar -x fails the same way.
    await writeFile(join(work, "small.txt"), "x");
    await assert.rejects(
      copyToPod(pods, POD, {
        from: join(work, "small.txt"),
        to: "missing/dir/f",
        container: "app",
      }),
      (err) => err instanceof StreamError && /exited with 2: .*missing\/dir/.test(err.message),
    );
  });

  test("abort mid-copy rejects with the reason and leaks nothing", T, async () => {
    const start = handles();
    const big = join(work, "huge.bin");
    await writeFile(big, "");
    await truncate(big, 512 * 1024 * 1024);
    const reason = new Error("stop");

    const up = new AbortController();
    const upload = copyToPod(pods, POD, {
      from: big,
      to: "huge-up.bin",
      container: "app",
      signal: up.signal,
    });
    await grown(join(root, "huge-up.bin"));
    up.abort(reason);
    await assert.rejects(upload, (err) => err === reason);

    await writeFile(join(root, "huge-down.bin"), "");
    await truncate(join(root, "huge-down.bin"), 512 * 1024 * 1024);
    const down = new AbortController();
    const target = join(work, "huge-down.bin");
    const download = copyFromPod(pods, POD, {
      from: "huge-down.bin",
      to: target,
      container: "app",
      signal: down.signal,
    });
    await grown(target);
    down.abort(reason);
    await assert.rejects(download, (err) => err === reason);
    assert.ok((await stat(target)).size < 512 * 1024 * 1024, "the copy was cut short");

    // Aborted before it starts: nothing runs.
    await assert.rejects(
      copyFromPod(pods, POD, { from: "x", to: "y", container: "app", signal: down.signal }),
      (err) => err === reason,
    );
    await assertNoLeaks(start);
  });
});
