import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError } from "../core/errors.ts";
import { tree } from "./fixtures.test.ts";
import { loadKubeconfig, parseKubeconfig } from "./kubeconfig.ts";
import { viewKubeconfig } from "./view.ts";

const text = [
  "clusters:",
  "- name: zeta",
  "  cluster: {server: https://z, certificate-authority: pki/ca.pem}",
  "- name: alpha",
  "  cluster: {certificate-authority-data: Q0EK}",
  "users:",
  "- name: u",
  "  user:",
  "    token: tok-123",
  "    password: pw-456",
  "    client-certificate-data: Q0VSVAo=",
  "    client-key-data: S0VZCg==",
  "    exec: {command: ./x, apiVersion: client.authentication.k8s.io/v1beta1, env: [{name: E, value: v}]}",
  "contexts:",
  "- name: c",
  "  context: {cluster: zeta, user: u, namespace: ns}",
  "- name: lonely",
  "  context: {}",
  "current-context: c",
].join("\n");

test("the default view redacts tokens, passwords and data as kubectl does", async () => {
  const v = await viewKubeconfig(parseKubeconfig(text, "/k/config"));
  assert.deepEqual(
    v.clusters?.map((c) => c.name),
    ["alpha", "zeta"],
  );
  assert.deepEqual(v.clusters?.[0]?.cluster, {
    server: "",
    "certificate-authority-data": "DATA+OMITTED",
  });
  assert.equal(v.clusters?.[1]?.cluster["certificate-authority"], "pki/ca.pem", "as written");
  const user = v.users?.[0]?.user;
  assert.equal(user?.token, "REDACTED");
  assert.equal(user?.password, "REDACTED");
  assert.equal(user?.["client-certificate-data"], "DATA+OMITTED");
  assert.equal(user?.["client-key-data"], "DATA+OMITTED");
  // kubectl shows exec env values in its default view; so does a faithful copy of it.
  assert.deepEqual(user?.exec, {
    command: "./x",
    args: null,
    env: [{ name: "E", value: "v" }],
    apiVersion: "client.authentication.k8s.io/v1beta1",
    provideClusterInfo: false,
    interactiveMode: "IfAvailable",
  });
  assert.deepEqual(v.contexts?.[1]?.context, { cluster: "", user: "" });
  assert.equal(v.extensions, undefined);
});

test("raw shows everything; data is re-encoded base64", async () => {
  const v = await viewKubeconfig(parseKubeconfig(text, "/k/config"), { raw: true });
  const user = v.users?.[0]?.user;
  assert.equal(user?.token, "tok-123");
  assert.equal(user?.password, "pw-456");
  assert.equal(user?.["client-key-data"], "S0VZCg==");
});

test("minify keeps the chosen context and what it names, and fails like kubectl", async () => {
  const kc = parseKubeconfig(text, "/k/config");
  const v = await viewKubeconfig(kc, { minify: true });
  assert.deepEqual(
    [v.clusters?.map((c) => c.name), v.users?.map((u) => u.name), v.contexts?.map((c) => c.name)],
    [["zeta"], ["u"], ["c"]],
  );
  const lonely = await viewKubeconfig(kc, { minify: true, context: "lonely" });
  assert.equal(lonely.clusters, null);
  assert.equal(lonely.users, null);
  assert.equal(lonely["current-context"], "lonely");
  assert.equal((await viewKubeconfig(kc, { context: "lonely" }))["current-context"], "c");

  const rejects = (p: Promise<unknown>, re: RegExp) =>
    assert.rejects(p, (e: unknown) => e instanceof ConfigError && re.test(e.message));
  await rejects(
    viewKubeconfig(kc, { minify: true, context: "nope" }),
    /context "nope" does not exist/,
  );
  const ghosts = parseKubeconfig(
    "contexts:\n- {name: a, context: {cluster: gone}}\n- {name: b, context: {user: gone}}\n",
    "/k/config",
  );
  await rejects(viewKubeconfig(ghosts, { minify: true }), /current-context must be set/);
  await rejects(viewKubeconfig(ghosts, { minify: true, context: "a" }), /cluster "gone"/);
  await rejects(viewKubeconfig(ghosts, { minify: true, context: "b" }), /user "gone"/);
});

test("flatten inlines files relative to the file that named them, unredacted", async () => {
  const dir = tree({
    "k/config": text,
    "k/pki/ca.pem": "the CA\n",
  });
  const kc = await loadKubeconfig({ path: join(dir, "k/config") });
  const v = await viewKubeconfig(kc, { flatten: true, minify: true });
  assert.deepEqual(v.clusters?.[0]?.cluster, {
    server: "https://z",
    "certificate-authority-data": Buffer.from("the CA\n").toString("base64"),
  });
  assert.equal(v.users?.[0]?.user.token, "tok-123", "kubectl does not redact flattened output");
});

test("flatten fails on a path next to its data, and on a file it cannot read", async () => {
  const both = parseKubeconfig(
    "clusters:\n- name: c\n  cluster: {certificate-authority: ca.pem, certificate-authority-data: Q0EK}\n",
    "/k/config",
  );
  await assert.rejects(
    viewKubeconfig(both, { flatten: true }),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.field === 'clusters["c"].certificate-authority' &&
      e.file === "/k/config" &&
      /both/.test(e.message),
  );
  const missing = parseKubeconfig(
    "users:\n- name: u\n  user: {client-key: nope.pem}\n",
    "/nonexistent-kubekit/config",
  );
  await assert.rejects(
    viewKubeconfig(missing, { flatten: true }),
    (e: unknown) => e instanceof ConfigError && /\/nonexistent-kubekit\/nope\.pem/.test(e.message),
  );
  // Without flatten the same config prints fine.
  assert.equal((await viewKubeconfig(missing)).users?.[0]?.user["client-key"], "nope.pem");
});

test("names sort by code point, as Go sorts them", async () => {
  const kc = parseKubeconfig(
    'clusters:\n- name: "\uFF5A"\n- name: "\u{1F680}"\n- name: "Z"\n- name: "a"\n',
    "/k/config",
  );
  const v = await viewKubeconfig(kc);
  assert.deepEqual(
    v.clusters?.map((c) => c.name),
    ["Z", "a", "\uFF5A", "\u{1F680}"],
  );
});
