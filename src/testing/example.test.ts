/**
 * examples/testing.ts runs as a user would run it (`node --conditions=kubekit-source ...`); it
 * needs no cluster, so it is a unit test.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";

const root = resolve(import.meta.dirname, "../..");

test("examples/testing.ts: a reconciler tested against a fake client", async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--conditions=kubekit-source", "examples/testing.ts"],
    { cwd: root, timeout: 60_000 },
  );
  assert.equal(
    stdout,
    [
      "create shop/",
      "create web/",
      "get web/kubekit-demo",
      "update web/kubekit-demo",
      "get web/kubekit-demo",
      "update web/kubekit-demo",
      "both ConfigMaps hold the wanted data",
      "",
    ].join("\n"),
  );
});
