import assert from "node:assert/strict";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError } from "../core/errors.ts";
import { CredentialCache } from "./cache.ts";
import { CERT_A, KEY_A, tempDir } from "./fixtures.test.ts";
import { credentialSourceFor } from "./source.ts";

const exec = {
  command: "kubekit-never-run",
  apiVersion: "client.authentication.k8s.io/v1",
  interactiveMode: "Never" as const,
};

test("no credentials: no source", () => {
  assert.equal(credentialSourceFor({}), undefined);
  assert.equal(credentialSourceFor({ bearerToken: "", username: null }), undefined);
});

test("token, token file, basic auth", async (t) => {
  assert.equal(
    (await credentialSourceFor({ bearerToken: "tok" })!.credentials()).authorization,
    "Bearer tok",
  );
  const dir = tempDir(t);
  const file = join(dir, "token");
  writeFileSync(file, "from-file\n");
  assert.equal(
    (await credentialSourceFor({ bearerToken: "tok", tokenFile: file })!.credentials())
      .authorization,
    "Bearer from-file",
    "the file refreshes the token",
  );
  assert.equal(
    (await credentialSourceFor({ username: "u", password: "p" })!.credentials()).authorization,
    `Basic ${Buffer.from("u:p").toString("base64")}`,
  );
});

test("a token beats exec and auth providers; a certificate turns exec off", async () => {
  const cache = new CredentialCache();
  const withToken = credentialSourceFor({ bearerToken: "tok", exec }, { cache });
  assert.equal((await withToken!.credentials()).authorization, "Bearer tok");
  const withBasic = credentialSourceFor({ username: "u", password: "p", exec }, { cache });
  assert.match((await withBasic!.credentials()).authorization ?? "", /^Basic /);
  const withCert = credentialSourceFor({ certData: CERT_A, keyData: KEY_A, exec }, { cache });
  const c = await withCert!.credentials();
  assert.equal(c.authorization, undefined);
  assert.equal(c.clientCert?.cert, CERT_A);
  const tokenOverProvider = credentialSourceFor(
    { bearerToken: "tok", authProvider: { name: "oidc", config: {} } },
    { cache },
  );
  assert.equal((await tokenOverProvider!.credentials()).authorization, "Bearer tok");
  assert.equal(cache.size, 0, "neither exec nor the provider was set up");
});

test("a token and a certificate are sent together", async () => {
  const s = credentialSourceFor({ bearerToken: "tok", certData: CERT_A, keyData: KEY_A });
  const c = await s!.credentials();
  assert.equal(c.authorization, "Bearer tok");
  assert.equal(c.clientCert?.key, KEY_A);
  assert.equal(await s!.credentials(), c);
});

test("exec gets the cluster and the shared cache", async (t) => {
  const dir = tempDir(t);
  const command = join(dir, "plugin.sh");
  writeFileSync(
    command,
    `#!/bin/sh\necho run >> "${dir}/runs"\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-tok"}}'\n`,
  );
  chmodSync(command, 0o755);
  const cache = new CredentialCache();
  const cluster = { server: "https://k:6443" };
  const a = credentialSourceFor({ exec: { ...exec, command } }, { cache, cluster });
  const b = credentialSourceFor({ exec: { ...exec, command } }, { cache, cluster });
  assert.equal(a, b);
  assert.equal((await a!.credentials()).authorization, "Bearer exec-tok");
  assert.equal(cache.size, 1);
});

test("conflicting settings are ConfigErrors", () => {
  assert.throws(() => credentialSourceFor({ bearerToken: "t", username: "u" }), ConfigError);
  assert.throws(() => credentialSourceFor({ tokenFile: "/t", password: "p" }), ConfigError);
  assert.throws(
    () => credentialSourceFor({ exec, authProvider: { name: "oidc" } }),
    /exec and auth-provider/,
  );
  assert.throws(() => credentialSourceFor({ certFile: "/c" }), /without a key/);
  assert.throws(
    () => credentialSourceFor({ authProvider: { name: "gcp" } }),
    /gke-gcloud-auth-plugin/,
  );
});
