import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../core/errors.ts";
import { decodeBase64Strict, parseKubeconfigFile } from "./decode.ts";

const FILE = "/home/me/.kube/config";

function fails(text: string): ConfigError {
  try {
    parseKubeconfigFile(text, FILE);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.file, FILE);
    return err;
  }
  assert.fail("expected a ConfigError");
}

test("a wrong type names the file, the line and the field", () => {
  const err = fails("apiVersion: v1\nkind: Config\nclusters: 5\n");
  assert.equal(err.line, 3);
  assert.equal(err.field, "clusters");
  assert.match(
    err.message,
    /^\/home\/me\/\.kube\/config:3: clusters: expected a list, got a number$/,
  );

  const deep = fails("users:\n- name: dev\n  user:\n    exec:\n      command: [a]\n");
  assert.equal(deep.line, 5);
  assert.equal(deep.field, 'users["dev"].exec.command');
});

test("a YAML syntax error names the line and quotes nothing from the file", () => {
  const err = fails('users:\n- name: u\n  user: {token: "s3cr3t-token"\ncontexts: []\n');
  assert.ok(err.line !== undefined && err.line >= 3, `line ${err.line}`);
  assert.match(err.message, /not valid YAML/);
  assert.doesNotMatch(err.message, /s3cr3t/);
});

test("type errors never echo the value, which may be a secret", () => {
  const err = fails("users:\n- name: u\n  user:\n    password: [hunter2-secret]\n");
  assert.equal(err.field, 'users["u"].password');
  assert.doesNotMatch(`${err.message} ${String(err.cause)}`, /hunter2/);
});

test("the same name twice in one list is an error at the second entry", () => {
  const err = fails(
    "clusters:\n- name: a\n  cluster: {server: https://1}\n- name: a\n  cluster: {server: https://2}\n",
  );
  assert.equal(err.line, 4);
  assert.equal(err.field, 'clusters["a"]');
  assert.match(err.message, /used twice in clusters \(first on line 2\)/);
});

test("a repeated extension name is allowed only when the earlier value is null", () => {
  const ok = parseKubeconfigFile("extensions:\n- name: e\n- name: e\n  extension: 2\n", FILE);
  assert.equal(ok.extensions.get("e"), 2);
  fails("extensions:\n- name: e\n  extension: 1\n- name: e\n");
});

test("apiVersion and kind are checked; unknown and differently-cased fields are ignored", () => {
  assert.match(fails("apiVersion: v2\n").message, /unsupported apiVersion "v2"/);
  assert.match(fails("kind: config\n").message, /unsupported kind "config"/);
  const f = parseKubeconfigFile(
    "Clusters: [{name: x}]\nclusters:\n- name: a\n  extra: 1\n  cluster: {Server: https://no, server: https://yes, what: 1}\n",
    FILE,
  );
  assert.deepEqual([...f.clusters.keys()], ["a"]);
  assert.equal(f.clusters.get("a")?.server, "https://yes");
});

test("null gives zero values, also inside lists, and an empty document is an empty config", () => {
  const f = parseKubeconfigFile(
    "clusters:\n- null\n- name: nul\n  cluster: null\nusers: ~\ncontexts:\n- name: c\n  context: {namespace: null}\n",
    FILE,
  );
  assert.equal(f.clusters.get("")?.server, "");
  assert.equal(f.clusters.get("nul")?.insecureSkipTlsVerify, false);
  assert.equal(f.users.size, 0);
  assert.equal(f.contexts.get("c")?.namespace, undefined);
  for (const text of ["", "# just a comment\n", "---\n"]) {
    const empty = parseKubeconfigFile(text, FILE);
    assert.equal(empty.clusters.size + empty.users.size + empty.contexts.size, 0);
    assert.equal(empty.currentContext, "");
  }
  assert.match(fails("- a\n").message, /must be a mapping, got a list/);
});

test("YAML is read as 1.1, as Kubernetes reads it: yes/on booleans, merge keys, last key wins", () => {
  const f = parseKubeconfigFile(
    [
      "clusters:",
      "- name: a",
      "  cluster: &c {server: https://a, insecure-skip-tls-verify: yes}",
      "- name: b",
      "  cluster:",
      "    <<: *c",
      "    server: https://first",
      "    server: https://last",
      "extensions:",
      "- name: e",
      "  extension: {when: 2001-12-14, big: 1e400, oct: 017}",
      "---",
      "current-context: second-document-is-ignored",
    ].join("\n"),
    FILE,
  );
  assert.equal(f.clusters.get("a")?.insecureSkipTlsVerify, true);
  assert.equal(f.clusters.get("b")?.insecureSkipTlsVerify, true);
  assert.equal(f.clusters.get("b")?.server, "https://last");
  assert.deepEqual(f.extensions.get("e"), { when: "2001-12-14", big: "1e400", oct: 15 });
  assert.equal(f.currentContext, "");
  assert.match(fails("extensions:\n- name: e\n  extension: .inf\n").message, /infinity/);
});

test("relative paths resolve against the file's directory and keep the written form", () => {
  const f = parseKubeconfigFile(
    [
      "clusters:",
      "- name: c",
      "  cluster: {server: https://c, certificate-authority: ../pki/ca.pem}",
      "users:",
      "- name: u",
      "  user: {client-certificate: /abs/cert.pem, client-key: ./key.pem, tokenFile: tok}",
      "- name: e",
      "  user: {exec: {command: ./bin/helper, apiVersion: client.authentication.k8s.io/v1}}",
      "- name: p",
      "  user: {exec: {command: aws, apiVersion: client.authentication.k8s.io/v1beta1}}",
    ].join("\n"),
    FILE,
  );
  assert.deepEqual(f.clusters.get("c")?.certificateAuthority, {
    asWritten: "../pki/ca.pem",
    path: "/home/me/pki/ca.pem",
  });
  const u = f.users.get("u")!;
  assert.deepEqual(u.clientCertificate, { asWritten: "/abs/cert.pem", path: "/abs/cert.pem" });
  assert.equal(u.clientKey?.path, "/home/me/.kube/key.pem");
  assert.equal(u.tokenFile?.path, "/home/me/.kube/tok");
  assert.deepEqual(f.users.get("e")?.exec?.command, {
    asWritten: "./bin/helper",
    path: "/home/me/.kube/bin/helper",
  });
  assert.deepEqual(f.users.get("p")?.exec?.command, { asWritten: "aws", path: "aws" });
});

test("exec: interactiveMode defaults to IfAvailable for v1beta1 only; null and [] stay apart", () => {
  const f = parseKubeconfigFile(
    [
      "users:",
      "- name: beta",
      "  user: {exec: {command: x, apiVersion: client.authentication.k8s.io/v1beta1, args: []}}",
      "- name: v1",
      "  user: {exec: {command: x, apiVersion: client.authentication.k8s.io/v1, env: [{name: A}]}}",
    ].join("\n"),
    FILE,
  );
  const beta = f.users.get("beta")!.exec!;
  assert.equal(beta.interactiveMode, "IfAvailable");
  assert.deepEqual(beta.args, []);
  assert.equal(beta.env, null);
  const v1 = f.users.get("v1")!.exec!;
  assert.equal(v1.interactiveMode, undefined);
  assert.equal(v1.args, null);
  assert.equal(v1.env?.[0]?.name, "A");
  assert.equal(v1.env?.[0]?.value, "");
});

test("base64 is Go's: padded standard alphabet, line breaks ignored", () => {
  assert.equal(decodeBase64Strict("Q0EK")?.toString(), "CA\n");
  assert.equal(decodeBase64Strict("Q0\nEK")?.toString(), "CA\n");
  assert.equal(decodeBase64Strict("Q0E=")?.toString(), "CA");
  for (const bad of ["Q0E", "Q0E-", "Q0E=K", "Q===", "not base64!"]) {
    assert.equal(decodeBase64Strict(bad), undefined, bad);
  }
  const err = fails("clusters:\n- name: a\n  cluster: {certificate-authority-data: Q0E}\n");
  assert.equal(err.field, 'clusters["a"].certificate-authority-data');
  assert.equal(err.line, 3);
});

test("alias expansion is bounded", () => {
  const lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 8; i++) {
    lines.push(
      `a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(", ")}]`,
    );
  }
  assert.match(fails(lines.join("\n")).message, /too many YAML nodes/);
});
