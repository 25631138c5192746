/**
 * The runnable examples, run as a user would (`node --conditions=kubekit-source examples/...`)
 * against the test cluster.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { testKubeconfig } from "../support/cluster.ts";

const root = resolve(import.meta.dirname, "../..");
const run = (file: string, args: string[] = [], timeout = 60_000) =>
  promisify(execFile)(process.execPath, ["--conditions=kubekit-source", file, ...args], {
    cwd: root,
    env: { ...process.env, KUBECONFIG: testKubeconfig() },
    timeout,
  });

test("out-of-cluster: lists pods with the kubeconfig", async () => {
  const { stdout } = await run("examples/out-of-cluster.ts", ["--once"]);
  assert.match(stdout, /^There are \d+ pods in the cluster$/m);
  assert.match(stdout, /Pod example-xxxxx in namespace default not found/);
});

test("dynamic create, update, list and delete of a Deployment", async () => {
  const { stdout } = await run("examples/dynamic-create-update-delete-deployment.ts");
  assert.match(stdout, /Created deployment demo-deployment\./);
  assert.match(stdout, / \* demo-deployment \(1 replicas\)/);
  assert.match(stdout, /Deleted deployment\./);
});

test("leader election: one candidate leads, stops on time and releases the lease", async () => {
  const lease = `example-${process.pid}`;
  const { stdout } = await run("examples/leader-election.ts", [
    "--id",
    "solo",
    "--lease",
    lease,
    "--duration",
    "3",
  ]);
  assert.match(stdout, /solo: leading/);
  assert.match(stdout, /solo: doing the leader's work/);
  assert.match(stdout, /solo: leader lost/);
});

test("typed create, update (retryOnConflict), list and delete of a Deployment", async () => {
  const { stdout } = await run("examples/create-update-delete-deployment.ts");
  assert.match(stdout, /Created deployment demo-deployment-typed\./);
  assert.match(stdout, / \* demo-deployment-typed \(1 replicas\)/);
  assert.match(stdout, /Deleted deployment\./);
});
