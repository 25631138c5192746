import assert from "node:assert/strict";
import { delimiter, join } from "node:path";
import { test } from "node:test";
import { ConfigError } from "../core/errors.ts";
import { tree } from "./fixtures.test.ts";
import { kubeconfigSources, loadKubeconfig, parseKubeconfig } from "./kubeconfig.ts";

const list = (...entries: string[]) => entries.join(delimiter);

test("sources: an explicit path alone, else KUBECONFIG, else ~/.kube/config", () => {
  const cwd = "/work";
  assert.deepEqual(kubeconfigSources({ path: "k.yaml", env: { KUBECONFIG: "/other" }, cwd }), {
    paths: ["/work/k.yaml"],
    explicit: true,
  });
  assert.deepEqual(
    kubeconfigSources({ env: { KUBECONFIG: list("", "a", "", "/b", "a", "./a", "") }, cwd }),
    { paths: ["/work/a", "/b", "/work/a"], explicit: false },
    "split, empty entries dropped, de-duplicated as written (./a is another string)",
  );
  assert.deepEqual(kubeconfigSources({ env: { KUBECONFIG: list("", "") }, cwd }).paths, []);
  assert.deepEqual(kubeconfigSources({ env: { KUBECONFIG: "" }, home: "/h", cwd }).paths, [
    "/h/.kube/config",
  ]);
  assert.deepEqual(kubeconfigSources({ env: { HOME: "/env-home" }, cwd }).paths, [
    "/env-home/.kube/config",
  ]);
});

test("merge: the first file that defines a name wins the whole entry", async () => {
  const dir = tree({
    "a.yaml": [
      "clusters:",
      "- name: shared",
      "  cluster: {server: https://a}",
      "users:",
      "- name: shared",
      "  user: {token: from-a}",
    ].join("\n"),
    "b.yaml": [
      "clusters:",
      "- name: shared",
      "  cluster: {server: https://b, tls-server-name: b-only, insecure-skip-tls-verify: true}",
      "- name: only-b",
      "  cluster: {server: https://only-b}",
      "users:",
      "- name: shared",
      "  user: {token: from-b, as: b-admin}",
    ].join("\n"),
  });
  const kc = await loadKubeconfig({ env: { KUBECONFIG: list("a.yaml", "b.yaml") }, cwd: dir });
  const shared = kc.clusters.get("shared")!;
  assert.equal(shared.server, "https://a");
  assert.equal(shared.tlsServerName, undefined, "no field of the losing entry leaks in");
  assert.equal(shared.insecureSkipTlsVerify, false);
  assert.equal(shared.source, join(dir, "a.yaml"));
  assert.equal(kc.clusters.get("only-b")?.source, join(dir, "b.yaml"));
  assert.equal(kc.users.get("shared")?.token, "from-a");
  assert.equal(kc.users.get("shared")?.as, undefined);
  assert.deepEqual(kc.files, [join(dir, "a.yaml"), join(dir, "b.yaml")]);
});

test("merge: current-context is the first non-empty one; colors if any file sets it", async () => {
  const dir = tree({
    "1.yaml": 'current-context: ""\npreferences: {colors: false}\n',
    "2.yaml": "current-context: second\npreferences: {extensions: [{name: p, extension: 2}]}\n",
    "3.yaml": "current-context: third\npreferences: {colors: true, extensions: [{name: p}]}\n",
  });
  const kc = await loadKubeconfig({
    env: { KUBECONFIG: list("1.yaml", "2.yaml", "3.yaml") },
    cwd: dir,
  });
  assert.equal(kc.currentContext, "second");
  assert.equal(kc.currentContextSource, join(dir, "2.yaml"));
  assert.equal(kc.preferences.colors, true);
  assert.equal(kc.preferences.extensions.get("p"), 2);
});

test("missing KUBECONFIG files are skipped and listed; an explicit one must exist", async () => {
  const dir = tree({ "real.yaml": "current-context: real\n" });
  const kc = await loadKubeconfig({
    env: { KUBECONFIG: list("gone.yaml", "real.yaml") },
    cwd: dir,
  });
  assert.equal(kc.currentContext, "real");
  assert.deepEqual(kc.missingFiles, [join(dir, "gone.yaml")]);

  const err = await loadKubeconfig({ path: "gone.yaml", cwd: dir }).then(
    () => assert.fail("expected an error"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ConfigError);
  assert.equal(err.file, join(dir, "gone.yaml"));
  assert.match(err.message, /does not exist/);
});

test("without KUBECONFIG, ~/.kube/config; nothing at all is an empty config", async () => {
  const home = tree({ ".kube/config": "current-context: from-home\n" });
  assert.equal((await loadKubeconfig({ env: {}, home })).currentContext, "from-home");
  const empty = tree({});
  const kc = await loadKubeconfig({ env: {}, home: empty });
  assert.deepEqual(kc.files, []);
  assert.deepEqual(kc.missingFiles, [join(empty, ".kube", "config")]);
  assert.equal(kc.clusters.size, 0);
});

test("a KUBECONFIG entry that cannot be read (a directory) fails the load", async () => {
  const dir = tree({ "sub/x": "" });
  await assert.rejects(
    loadKubeconfig({ env: { KUBECONFIG: "sub" }, cwd: dir }),
    (e: unknown) => e instanceof ConfigError && e.file === join(dir, "sub"),
  );
});

test("a parse error in any file fails the load and names that file", async () => {
  const dir = tree({ "good.yaml": "current-context: a\n", "bad.yaml": "\n\nusers: {}\n" });
  await assert.rejects(
    loadKubeconfig({ env: { KUBECONFIG: list("good.yaml", "bad.yaml") }, cwd: dir }),
    (e: unknown) => e instanceof ConfigError && e.file === join(dir, "bad.yaml") && e.line === 3,
  );
});

test("parseKubeconfig reads text as if it came from the given file", () => {
  const kc = parseKubeconfig(
    "clusters:\n- name: c\n  cluster: {server: https://c, certificate-authority: ca.pem}\n",
    "/secrets/kubeconfig",
  );
  assert.equal(kc.clusters.get("c")?.certificateAuthority?.path, "/secrets/ca.pem");
  assert.deepEqual(kc.files, ["/secrets/kubeconfig"]);
});
