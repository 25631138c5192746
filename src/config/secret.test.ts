/**
 * Secrets stay secret: tokens, passwords, private keys, exec env values, auth-provider settings
 * and proxy passwords never appear in what JSON.stringify, util.inspect, console.log, String() or
 * an error message show, while transport code reads them as ordinary properties.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { format, inspect } from "node:util";
import { ConfigError } from "../core/errors.ts";
import { tree } from "./fixtures.test.ts";
import { loadKubeconfig, parseKubeconfig } from "./kubeconfig.ts";
import { loadConfig, restConfigFromKubeconfig } from "./load.ts";
import { RestConfig } from "./rest-config.ts";

const SECRETS = {
  token: "tok-SECRET-1",
  password: "pw-SECRET-2",
  key: "-----BEGIN PRIVATE KEY----- key-SECRET-3",
  env: "env-SECRET-4",
  idToken: "idtoken-SECRET-5",
  proxy: "proxy-SECRET-6",
};
const keyB64 = Buffer.from(SECRETS.key).toString("base64");

/** Every way a value gets printed. */
function renderings(value: unknown): string[] {
  return [
    JSON.stringify(value),
    JSON.stringify(value, null, 2),
    inspect(value),
    inspect(value, { depth: Number.POSITIVE_INFINITY }),
    inspect(value, { showHidden: true, depth: Number.POSITIVE_INFINITY }),
    inspect(value, { customInspect: false, showHidden: true, depth: Number.POSITIVE_INFINITY }),
    format("%s %o %O %j", value, value, value, value),
    String(value),
    `${value}`,
    JSON.stringify({ ...(value as object) }),
    JSON.stringify(structuredClone(value)),
  ];
}

function assertNoSecret(value: unknown, what: string) {
  for (const out of renderings(value)) {
    for (const [name, secret] of Object.entries(SECRETS)) {
      assert.ok(!out.includes(secret), `${what}: the ${name} shows in: ${out.slice(0, 400)}`);
    }
    assert.ok(!out.includes(keyB64), `${what}: the key (base64) shows`);
    assert.ok(!out.includes(Buffer.from(SECRETS.key).toString("hex")), `${what}: key (hex)`);
  }
}

const kubeconfigText = [
  "clusters:",
  "- name: c",
  `  cluster: {server: "https://c.example", proxy-url: "http://user:${SECRETS.proxy}@proxy:3128"}`,
  "users:",
  "- name: u",
  "  user:",
  `    token: ${SECRETS.token}`,
  `    client-certificate-data: ${Buffer.from("CERT").toString("base64")}`,
  `    client-key-data: ${keyB64}`,
  "    exec:",
  "      command: helper",
  "      apiVersion: client.authentication.k8s.io/v1",
  "      interactiveMode: Never",
  `      env: [{name: API_KEY, value: ${SECRETS.env}}]`,
  "- name: basic",
  `  user: {username: admin, password: ${SECRETS.password}}`,
  "- name: oidc",
  `  user: {auth-provider: {name: oidc, config: {id-token: ${SECRETS.idToken}, client-id: k}}}`,
  "contexts:",
  "- name: c",
  "  context: {cluster: c, user: u}",
  "- name: basic",
  "  context: {cluster: c, user: basic}",
  "- name: oidc",
  "  context: {cluster: c, user: oidc}",
  "current-context: c",
].join("\n");

test("the loaded kubeconfig never shows its secrets, but they are readable", async () => {
  const kc = parseKubeconfig(kubeconfigText, "/k/config");
  assertNoSecret(kc, "Kubeconfig");
  const u = kc.users.get("u")!;
  assertNoSecret(u, "KubeconfigUser");
  assertNoSecret(u.exec, "exec");
  assertNoSecret(kc.users.get("oidc")!.authProvider, "auth-provider");
  assert.equal(u.token, SECRETS.token);
  assert.equal(u.clientKeyData?.toString(), SECRETS.key);
  assert.equal(u.exec?.env?.[0]?.value, SECRETS.env);
  assert.equal(kc.users.get("basic")?.password, SECRETS.password);
  assert.equal(kc.users.get("oidc")?.authProvider?.config?.["id-token"], SECRETS.idToken);
  // What is printed still says what is there.
  const json = JSON.parse(JSON.stringify(kc));
  assert.equal(json.users[0].token, "[redacted]");
  assert.equal(json.users[0].clientKeyData, "[redacted]");
  assert.deepEqual(json.users[0].exec.env, [{ name: "API_KEY", value: "[redacted]" }]);
  assert.match(inspect(kc, { depth: 10 }), /token: '\[redacted\]'/);
});

test("a RestConfig never shows its secrets, but the transport reads them", async () => {
  const kc = parseKubeconfig(kubeconfigText, "/k/config");
  const rc = await restConfigFromKubeconfig(kc);
  const basic = await restConfigFromKubeconfig(kc, { context: "basic" });
  const oidc = await restConfigFromKubeconfig(kc, { context: "oidc" });
  for (const [name, c] of [
    ["token", rc],
    ["basic", basic],
    ["oidc", oidc],
  ] as const) {
    assertNoSecret(c, name);
  }
  assert.equal(rc.bearerToken, SECRETS.token);
  assert.equal(rc.keyData?.toString(), SECRETS.key);
  assert.equal(rc.exec?.env[0]?.value, SECRETS.env);
  assert.equal(rc.proxyUrl, `http://user:${SECRETS.proxy}@proxy:3128`);
  assert.equal(basic.password, SECRETS.password);
  assert.equal(oidc.authProvider?.config?.["id-token"], SECRETS.idToken);
  const json = JSON.parse(JSON.stringify(rc));
  assert.equal(json.bearerToken, "[redacted]");
  assert.equal(json.keyData, "[redacted]");
  assert.equal(json.proxyUrl, "http://user:redacted@proxy:3128/");
  assert.match(inspect(rc), /^RestConfig \{/);
});

test("a RestConfig built by hand redacts the same way", () => {
  const rc = new RestConfig({
    server: "https://x",
    bearerToken: SECRETS.token,
    keyData: SECRETS.key,
    certData: "CERT",
    exec: {
      command: "x",
      apiVersion: "client.authentication.k8s.io/v1",
      interactiveMode: "Never",
      env: [{ name: "K", value: SECRETS.env }],
    },
  });
  assertNoSecret(rc, "hand-made RestConfig");
  assert.equal(rc.exec?.env[0]?.value, SECRETS.env);
});

test("no error message or cause carries a secret", async () => {
  const dir = tree({
    config: [
      "clusters:",
      `- {name: c, cluster: {server: "https://c", proxy-url: "ftp://u:${SECRETS.proxy}@p"}}`,
      "users:",
      `- {name: u, user: {token: ${SECRETS.token}, password: ${SECRETS.password}, as-uid: x}}`,
      "contexts:",
      "- {name: c, context: {cluster: c, user: u}}",
      "current-context: c",
    ].join("\n"),
    syntax: `users:\n- name: u\n  user: {token: "${SECRETS.token}"\n`,
    types: `users:\n- name: u\n  user:\n    token: [${SECRETS.token}]\n`,
  });
  const errors: unknown[] = [];
  await loadConfig({ kubeconfig: `${dir}/config`, env: {}, inCluster: false }).catch((e) =>
    errors.push(e),
  );
  await loadKubeconfig({ path: `${dir}/syntax` }).catch((e) => errors.push(e));
  await loadKubeconfig({ path: `${dir}/types` }).catch((e) => errors.push(e));
  assert.equal(errors.length, 3);
  for (const e of errors) {
    assert.ok(e instanceof ConfigError, String(e));
    const text = [e.message, e.stack, inspect(e, { depth: 10 })].join("\n");
    for (const [name, secret] of Object.entries(SECRETS)) {
      assert.ok(!text.includes(secret), `the ${name} shows in: ${e.message}`);
    }
  }
});
