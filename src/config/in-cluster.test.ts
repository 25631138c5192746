import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError } from "../core/errors.ts";
import { tree } from "./fixtures.test.ts";
import { ERR_NOT_IN_CLUSTER, inClusterConfig, inClusterPossible } from "./in-cluster.ts";

const sa = tree({ token: "sa-token\n", "ca.crt": "SA CA\n", namespace: "from-file\n" });
const env = { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" };

test("the service account: server, token (read now and kept as file), CA, namespace", async () => {
  const rc = await inClusterConfig({ dir: sa, env });
  assert.equal(rc.server, "https://10.96.0.1:443");
  assert.equal(rc.source, "in-cluster");
  assert.equal(rc.bearerToken, "sa-token");
  assert.equal(rc.tokenFile, join(sa, "token"));
  assert.equal(rc.caData?.toString(), "SA CA\n");
  assert.equal(rc.caFile, join(sa, "ca.crt"));
  assert.equal(rc.namespace, "from-file");
  assert.equal(rc.insecureSkipTlsVerify, false);
});

test("an IPv6 service host is bracketed", async () => {
  const rc = await inClusterConfig({
    dir: sa,
    env: { KUBERNETES_SERVICE_HOST: "fd00:10:96::1", KUBERNETES_SERVICE_PORT: "443" },
  });
  assert.equal(rc.server, "https://[fd00:10:96::1]:443");
});

test("namespace: POD_NAMESPACE, then the namespace file, then default", async () => {
  assert.equal(
    (await inClusterConfig({ dir: sa, env: { ...env, POD_NAMESPACE: "from-env" } })).namespace,
    "from-env",
  );
  const bare = tree({ token: "t" });
  const rc = await inClusterConfig({ dir: bare, env });
  assert.equal(rc.namespace, "default");
  assert.equal(rc.caData, undefined, "a missing ca.crt is not an error (as in client-go)");
  assert.equal(rc.caFile, undefined);
});

test("outside a cluster: ERR_KUBEKIT_NOT_IN_CLUSTER", async () => {
  for (const e of [
    {},
    { KUBERNETES_SERVICE_HOST: "10.0.0.1" },
    { KUBERNETES_SERVICE_PORT: "443" },
  ]) {
    await assert.rejects(
      inClusterConfig({ dir: sa, env: e }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.code === ERR_NOT_IN_CLUSTER &&
        /not running in a cluster/.test(err.message),
    );
    assert.equal(await inClusterPossible({ dir: sa, env: e }), false);
  }
  assert.equal(await inClusterPossible({ dir: sa, env }), true);
  assert.equal(await inClusterPossible({ dir: tree({}), env }), false, "no token file");
});

test("an unreadable token is an error naming the file", async () => {
  const dir = tree({ "token/inside": "" }); // token is a directory
  await assert.rejects(
    inClusterConfig({ dir, env }),
    (err: unknown) => err instanceof ConfigError && err.file === join(dir, "token"),
  );
  assert.equal(await inClusterPossible({ dir, env }), false);
});

test("overrides: server, token (replaces the file), CA, timeout", async () => {
  const ca = tree({ "ca.pem": "OTHER\n" });
  const rc = await inClusterConfig({
    dir: sa,
    env,
    overrides: {
      server: "https://apiserver.example",
      token: "flag-token",
      certificateAuthority: "ca.pem",
      cwd: ca,
      timeout: "10",
    },
  });
  assert.equal(rc.server, "https://apiserver.example");
  assert.equal(rc.bearerToken, "flag-token");
  assert.equal(rc.tokenFile, undefined);
  assert.equal(rc.caData?.toString(), "OTHER\n");
  assert.equal(rc.timeoutMs, 10_000);
});
