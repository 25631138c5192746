import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError } from "../core/errors.ts";
import { tree } from "./fixtures.test.ts";
import { ERR_NOT_IN_CLUSTER } from "./in-cluster.ts";
import { parseKubeconfig } from "./kubeconfig.ts";
import {
  ERR_NO_CONFIG,
  type LoadConfigOptions,
  loadConfig,
  type RestConfigFromKubeconfigOptions,
  restConfigFromKubeconfig,
} from "./load.ts";

const dir = tree({
  "kube/config": [
    "clusters:",
    "- name: main",
    "  cluster:",
    "    server: https://main.example:6443",
    "    certificate-authority: pki/ca.pem",
    "    tls-server-name: main.internal",
    "    proxy-url: socks5://127.0.0.1:1080",
    "    extensions:",
    "    - name: client.authentication.k8s.io/exec",
    "      extension: {audience: kubekit}",
    "- name: http",
    "  cluster: {server: 'http://plain.example:8080', certificate-authority: pki/ca.pem}",
    "- name: insecure",
    "  cluster: {server: 'https://insecure.example', insecure-skip-tls-verify: true}",
    "users:",
    "- name: token",
    "  user: {token: inline-token, tokenFile: tokens/t.txt, as: jane, as-groups: [devs]}",
    "- name: token-file",
    "  user: {tokenFile: tokens/t.txt}",
    "- name: cert",
    "  user: {client-certificate: pki/client.crt, client-key-data: S0VZCg==}",
    "- name: exec",
    "  user:",
    "    exec:",
    "      command: ./bin/helper",
    "      apiVersion: client.authentication.k8s.io/v1beta1",
    "      args: [token]",
    "      env: [{name: API_KEY, value: exec-secret}]",
    '      installHint: "\\e[31minstall it\\e[0m"',
    "      provideClusterInfo: true",
    "contexts:",
    "- name: main",
    "  context: {cluster: main, user: token, namespace: team-a}",
    "- name: http",
    "  context: {cluster: http, user: token}",
    "- name: file",
    "  context: {cluster: main, user: token-file}",
    "- name: cert",
    "  context: {cluster: main, user: cert}",
    "- name: exec",
    "  context: {cluster: main, user: exec}",
    "current-context: main",
  ].join("\n"),
  "kube/pki/ca.pem": "CA PEM\n",
  "kube/pki/client.crt": "CERT PEM\n",
  "kube/tokens/t.txt": "file-token\n",
  "other-ca.pem": "OTHER CA\n",
});
const kubeconfigPath = join(dir, "kube/config");
const base: LoadConfigOptions = {
  kubeconfig: kubeconfigPath,
  env: {},
  cwd: dir,
  inCluster: false,
};
const load = (o: LoadConfigOptions = {}) => loadConfig({ ...base, ...o });

async function configError(p: Promise<unknown>): Promise<ConfigError> {
  const err = await p.then(
    () => assert.fail("expected a ConfigError"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ConfigError, String(err));
  return err;
}

test("the current context resolves to server, namespace, CA, TLS name and token", async () => {
  const rc = await load();
  assert.equal(rc.server, "https://main.example:6443");
  assert.equal(rc.namespace, "team-a");
  assert.equal(rc.contextName, "main");
  assert.equal(rc.clusterName, "main");
  assert.equal(rc.userName, "token");
  assert.equal(rc.caFile, join(dir, "kube/pki/ca.pem"));
  assert.equal(rc.caData?.toString(), "CA PEM\n");
  assert.equal(rc.tlsServerName, "main.internal");
  assert.equal(rc.proxyUrl, "socks5://127.0.0.1:1080");
  assert.equal(rc.bearerToken, "inline-token", "token wins over tokenFile...");
  assert.equal(rc.tokenFile, join(dir, "kube/tokens/t.txt"), "...which is kept for refresh");
  assert.deepEqual(rc.impersonate, {
    user: "jane",
    uid: undefined,
    groups: ["devs"],
    extra: {},
  });
  assert.deepEqual(rc.kubeconfigFiles, [kubeconfigPath]);
  assert.equal(rc.qps, 5);
  assert.equal(rc.burst, 10);
  assert.equal(rc.timeoutMs, 0);
  assert.match(rc.userAgent, /^kubekit\/\d/);
});

test("a token file alone is read now and kept as the file to re-read", async () => {
  const rc = await load({ context: "file" });
  assert.equal(rc.bearerToken, "file-token");
  assert.equal(rc.tokenFile, join(dir, "kube/tokens/t.txt"));
  assert.equal(rc.namespace, "default");
});

test("certificate files stay paths; inline data stays data", async () => {
  const rc = await load({ context: "cert" });
  assert.equal(rc.certFile, join(dir, "kube/pki/client.crt"));
  assert.equal(rc.certData, undefined);
  assert.equal(rc.keyFile, undefined);
  assert.equal(rc.keyData?.toString(), "KEY\n");
});

test("exec: command resolved against the kubeconfig, hint cleaned, cluster info and extension", async () => {
  const rc = await load({ context: "exec" });
  assert.ok(rc.exec);
  assert.equal(rc.exec.command, join(dir, "kube/bin/helper"));
  assert.deepEqual(rc.exec.args, ["token"]);
  assert.equal(rc.exec.env[0]?.value, "exec-secret");
  assert.equal(rc.exec.interactiveMode, "IfAvailable", "the v1beta1 default");
  assert.equal(rc.exec.installHint, "U+001B[31minstall itU+001B[0m");
  assert.equal(rc.exec.provideClusterInfo, true);
  assert.deepEqual(rc.execCluster, {
    server: "https://main.example:6443",
    tlsServerName: "main.internal",
    insecureSkipTlsVerify: false,
    certificateAuthorityData: Buffer.from("CA PEM\n"),
    proxyUrl: "socks5://127.0.0.1:1080",
    disableCompression: false,
    config: { audience: "kubekit" },
  });
});

test("an http server gets no credentials, CA or TLS name; impersonation still applies", async () => {
  const rc = await load({ context: "http" });
  assert.equal(rc.server, "http://plain.example:8080");
  assert.equal(rc.isTls, false);
  assert.equal(rc.bearerToken, undefined);
  assert.equal(rc.tokenFile, undefined);
  assert.equal(rc.caData, undefined);
  assert.equal(rc.caFile, undefined);
  assert.equal(rc.impersonate?.user, "jane");
});

test("overrides: context, cluster, user and namespace", async () => {
  const rc = await load({ cluster: "insecure", user: "token-file", namespace: "flag-ns" });
  assert.equal(rc.server, "https://insecure.example");
  assert.equal(rc.insecureSkipTlsVerify, true);
  assert.equal(rc.bearerToken, "file-token");
  assert.equal(rc.namespace, "flag-ns");
  assert.equal(rc.contextName, "main");

  for (const [o, field] of [
    [{ context: "nope" }, 'contexts["nope"]'],
    [{ cluster: "nope" }, 'clusters["nope"]'],
    [{ user: "nope" }, 'users["nope"]'],
  ] as const) {
    const err = await configError(load(o));
    assert.equal(err.field, field);
    assert.match(err.message, /does not exist/);
  }
});

test("overrides: insecure or a CA replaces all CA settings; a server drops the TLS name", async () => {
  const insecure = await load({ insecureSkipTlsVerify: true });
  assert.equal(insecure.insecureSkipTlsVerify, true);
  assert.equal(insecure.caFile, undefined, "the kubeconfig's CA is dropped, not an error");
  const ca = await load({ cluster: "insecure", certificateAuthority: "other-ca.pem" });
  assert.equal(ca.insecureSkipTlsVerify, false);
  assert.equal(ca.caData?.toString(), "OTHER CA\n");
  assert.equal(ca.caFile, join(dir, "other-ca.pem"), "relative to cwd, not the kubeconfig");
  const server = await load({ server: "https://elsewhere.example" });
  assert.equal(server.server, "https://elsewhere.example");
  assert.equal(server.tlsServerName, undefined);
  const both = await load({ server: "https://elsewhere.example", tlsServerName: "x.internal" });
  assert.equal(both.tlsServerName, "x.internal");
});

test("overrides: a client certificate replaces the inline one; token and timeout", async () => {
  const cert = await load({ context: "cert", clientKey: "kube/pki/client.crt" });
  assert.equal(cert.keyFile, join(dir, "kube/pki/client.crt"));
  assert.equal(cert.keyData, undefined, "the override drops client-key-data");
  const token = await load({ token: "flag-token" });
  assert.equal(token.bearerToken, "flag-token");
  assert.equal((await load({ timeout: "45" })).timeoutMs, 45_000);
  assert.equal((await load({ timeout: "1m30s" })).timeoutMs, 90_000);
  assert.equal((await load({ timeout: "250ms" })).timeoutMs, 250);
  const err = await configError(load({ timeout: "soon" }));
  assert.equal(err.field, "timeout");
});

test("client tuning passes through and is validated", async () => {
  const rc = await load({ qps: 50, burst: 100, userAgent: "my-controller/1.0" });
  assert.deepEqual([rc.qps, rc.burst, rc.userAgent], [50, 100, "my-controller/1.0"]);
  assert.equal((await load({ qps: -1 })).qps, -1, "negative qps turns rate limiting off");
  await configError(load({ qps: 5, burst: 0 }));
});

/** A one-file kubeconfig whose current context uses the given user and cluster fields. */
function single(user: string, cluster = "server: https://c.example", context = "") {
  return parseKubeconfig(
    [
      "clusters:",
      "- name: c",
      `  cluster: {${cluster}}`,
      "users:",
      "- name: u",
      `  user: {${user}}`,
      "contexts:",
      "- name: ctx",
      `  context: {cluster: c, user: u${context}}`,
      "current-context: ctx",
    ].join("\n"),
    "/k/config",
  );
}

async function invalid(
  user: string,
  cluster?: string,
  context?: string,
  o?: RestConfigFromKubeconfigOptions,
): Promise<ConfigError> {
  return configError(restConfigFromKubeconfig(single(user, cluster, context), o));
}

test("validation errors name the kubeconfig file and the entry", async () => {
  const cases: [string, string | undefined, string | undefined, string, RegExp][] = [
    [
      "token: t",
      "certificate-authority: /nonexistent/ca.pem, server: https://c",
      undefined,
      'clusters["c"].certificate-authority',
      /cannot read the certificate authority/,
    ],
    [
      "token: t",
      "server: https://c, certificate-authority: /x, certificate-authority-data: Q0EK",
      undefined,
      'clusters["c"].certificate-authority-data',
      /both set/,
    ],
    [
      "token: t",
      "server: https://c, proxy-url: 'ftp://user:proxy-pass@p'",
      undefined,
      'clusters["c"].proxy-url',
      /unsupported scheme "ftp"/,
    ],
    [
      "token: t",
      "insecure-skip-tls-verify: true",
      undefined,
      'clusters["c"].server',
      /no server found for cluster "c"/,
    ],
    [
      "token: t",
      "server: https://c, insecure-skip-tls-verify: true, certificate-authority-data: Q0EK",
      undefined,
      'clusters["c"].insecure-skip-tls-verify',
      /insecure-skip-tls-verify cannot be used together/,
    ],
    [
      "client-certificate-data: Q0VSVAo=",
      undefined,
      undefined,
      'users["u"].client-certificate-data',
      /needs a key/,
    ],
    [
      "client-key-data: S0VZCg==",
      undefined,
      undefined,
      'users["u"].client-key-data',
      /needs a certificate/,
    ],
    [
      "client-certificate: /nonexistent/c.crt, client-key-data: S0VZCg==",
      undefined,
      undefined,
      'users["u"].client-certificate',
      /cannot read the client certificate/,
    ],
    [
      "tokenFile: /nonexistent/token",
      undefined,
      undefined,
      'users["u"].tokenFile',
      /cannot read the token file/,
    ],
    [
      "token: t, username: a, password: p",
      undefined,
      undefined,
      'users["u"].token',
      /more than one authentication method/,
    ],
    [
      "tokenFile: /dev/null, username: a",
      undefined,
      undefined,
      'users["u"].tokenFile',
      /more than one authentication method/,
    ],
    [
      "exec: {apiVersion: client.authentication.k8s.io/v1, interactiveMode: Never}",
      undefined,
      undefined,
      'users["u"].exec.command',
      /needs a command/,
    ],
    [
      "exec: {command: x, interactiveMode: Never}",
      undefined,
      undefined,
      'users["u"].exec.apiVersion',
      /needs an apiVersion/,
    ],
    [
      "exec: {command: x, apiVersion: client.authentication.k8s.io/v1}",
      undefined,
      undefined,
      'users["u"].exec.interactiveMode',
      /needs an interactiveMode/,
    ],
    [
      "exec: {command: x, apiVersion: client.authentication.k8s.io/v1, interactiveMode: Sometimes}",
      undefined,
      undefined,
      'users["u"].exec.interactiveMode',
      /invalid interactiveMode "Sometimes"/,
    ],
    [
      "exec: {command: x, apiVersion: client.authentication.k8s.io/v1alpha1}",
      undefined,
      undefined,
      'users["u"].exec.apiVersion',
      /not supported/,
    ],
    [
      "exec: {command: x, apiVersion: client.authentication.k8s.io/v1, interactiveMode: Never}, auth-provider: {name: oidc}",
      undefined,
      undefined,
      'users["u"].exec',
      /cannot both be set/,
    ],
    ["as-groups: [admins]", undefined, undefined, 'users["u"].as', /need a user to impersonate/],
    [
      "token: t",
      undefined,
      ", namespace: Not_Valid",
      'contexts["ctx"].namespace',
      /not a valid namespace name/,
    ],
  ];
  for (const [user, cluster, context, field, message] of cases) {
    const err = await invalid(user, cluster ?? undefined, context);
    assert.equal(err.field, field, `${user} / ${cluster}: ${err.message}`);
    assert.equal(err.file, "/k/config", field);
    assert.match(err.message, message, field);
    assert.match(err.message, /^\/k\/config: /, "the message starts with the file");
  }
});

test("several problems: the error names the first and lists all", async () => {
  const err = await invalid(
    "token: t, username: a, as-uid: '7', client-certificate-data: Q0VSVAo=",
  );
  assert.equal(err.field, 'users["u"].token');
  assert.match(err.message, /more than one authentication method/);
  assert.match(err.message, /needs a key/);
  assert.match(err.message, /need a user to impersonate/);
  assert.ok(err.cause instanceof AggregateError);
  assert.equal(err.cause.errors.length, 3);
});

test("a context naming a missing cluster or user is an error (clientcmd would use an empty one)", async () => {
  const kc = parseKubeconfig(
    "clusters:\n- {name: c, cluster: {server: https://c}}\ncontexts:\n- {name: a, context: {cluster: ghost}}\n- {name: b, context: {cluster: c, user: ghost}}\n",
    "/k/config",
  );
  const a = await configError(restConfigFromKubeconfig(kc, { context: "a" }));
  assert.equal(a.field, 'contexts["a"].cluster');
  const b = await configError(restConfigFromKubeconfig(kc, { context: "b" }));
  assert.equal(b.field, 'contexts["b"].user');
  const current = parseKubeconfig("current-context: ghost\n", "/k/config");
  const c = await configError(restConfigFromKubeconfig(current));
  assert.equal(c.field, "current-context");
  assert.equal(c.file, "/k/config");
});

test("nothing to connect to: ERR_NO_CONFIG, unless a server is given", async () => {
  const empty = parseKubeconfig("", "/k/config");
  const err = await configError(restConfigFromKubeconfig(empty));
  assert.equal(err.code, ERR_NO_CONFIG);
  const rc = await restConfigFromKubeconfig(empty, { server: "https://flag.example", token: "t" });
  assert.equal(rc.server, "https://flag.example");
  assert.equal(rc.bearerToken, "t");
  assert.equal(rc.namespace, "default");
  const noCluster = parseKubeconfig(
    "contexts:\n- {name: c, context: {}}\ncurrent-context: c\n",
    "/k",
  );
  assert.equal((await configError(restConfigFromKubeconfig(noCluster))).code, ERR_NO_CONFIG);
});

test("loadConfig falls back to in-cluster only when the kubeconfig gives nothing", async () => {
  const sa = tree({ token: "sa-token\n", "ca.crt": "SA CA\n", namespace: "pod-ns\n" });
  const env = { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" };
  const home = tree({});
  const rc = await loadConfig({ env, home, inCluster: { dir: sa }, namespace: "override-ns" });
  assert.equal(rc.source, "in-cluster");
  assert.equal(rc.server, "https://10.96.0.1:443");
  assert.equal(rc.bearerToken, "sa-token");
  assert.equal(rc.namespace, "override-ns");

  const fromKubeconfig = await loadConfig({ ...base, env, inCluster: { dir: sa } });
  assert.equal(fromKubeconfig.source, "kubeconfig", "a usable kubeconfig wins over in-cluster");

  const none = await configError(loadConfig({ env: {}, home, inCluster: { dir: sa } }));
  assert.equal(none.code, ERR_NO_CONFIG);
  assert.match(none.message, /not running in a cluster/);
  const disabled = await configError(loadConfig({ env, home, inCluster: false }));
  assert.equal(disabled.code, ERR_NO_CONFIG);
  assert.notEqual(disabled.code, ERR_NOT_IN_CLUSTER);
});

test("KUBECONFIG is honoured by loadConfig, and an explicit path beats it", async () => {
  const d = tree({
    "a.yaml":
      "clusters: [{name: a, cluster: {server: 'https://a'}}]\ncontexts: [{name: a, context: {cluster: a}}]\ncurrent-context: a\n",
    "b.yaml":
      "clusters: [{name: b, cluster: {server: 'https://b'}}]\ncontexts: [{name: b, context: {cluster: b}}]\ncurrent-context: b\n",
  });
  const viaEnv = await loadConfig({ env: { KUBECONFIG: "a.yaml" }, cwd: d, inCluster: false });
  assert.equal(viaEnv.server, "https://a");
  const explicit = await loadConfig({
    kubeconfig: "b.yaml",
    env: { KUBECONFIG: "a.yaml" },
    cwd: d,
    inCluster: false,
  });
  assert.equal(explicit.server, "https://b");
});
