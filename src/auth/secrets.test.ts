/**
 * Secrets stay secret: no token, password, key, refresh token, client secret, exec env value or
 * plugin output shows through `JSON.stringify`, `util.inspect` (with or without custom inspection)
 * or `String()` of anything this folder returns or throws, nor in any error message.
 */
import assert from "node:assert/strict";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { inspect } from "node:util";
import { CredentialCache } from "./cache.ts";
import { CertificateSource } from "./certificate.ts";
import { combineCredentialSources } from "./credentials.ts";
import { ExecCredentialSource, execCredentialSource } from "./exec.ts";
import { CERT_A, KEY_A, tempDir } from "./fixtures.test.ts";
import { OidcCredentialSource } from "./oidc.ts";
import { credentialSourceFor } from "./source.ts";
import { BasicAuthSource, StaticTokenSource } from "./static.ts";
import { TokenFileSource } from "./token-file.ts";

const TOKEN = "tok-7f3a9c1e5b";
const PASSWORD = "pw-c0rrect-h0rse";
const BASIC = Buffer.from(`admin:${PASSWORD}`).toString("base64");
const EXEC_TOKEN = "exec-tok-91d2e8";
const ENV_SECRET = "env-secret-4b6d";
const ID_TOKEN_MARK = "idtok-55aa";
const REFRESH = "refresh-0c0ffee";
const CLIENT_SECRET = "client-s3cr3t-99";
/** A line from the middle of the private key's base64 body. */
const KEY_LINE = KEY_A.split("\n")[2]!;

const SECRETS = [
  TOKEN,
  PASSWORD,
  BASIC,
  EXEC_TOKEN,
  ENV_SECRET,
  ID_TOKEN_MARK,
  Buffer.from(ID_TOKEN_MARK).toString("base64url").slice(0, 8),
  REFRESH,
  CLIENT_SECRET,
  KEY_LINE,
  "PRIVATE KEY",
];

function renderings(value: unknown): string[] {
  const out = [
    inspect(value, { depth: Number.POSITIVE_INFINITY, showHidden: true, getters: true }),
    inspect(value, { depth: Number.POSITIVE_INFINITY, showHidden: true, customInspect: false }),
    String(value),
  ];
  try {
    out.push(JSON.stringify(value) ?? "");
  } catch {
    // Cyclic values cannot be stringified; nothing leaks that way either.
  }
  if (value instanceof Error) {
    out.push(value.message, String(value.stack));
    for (let c: unknown = value.cause; c !== undefined; c = (c as Error).cause) {
      out.push(...renderings(c));
    }
  }
  return out;
}

function assertNoSecrets(what: string, value: unknown): void {
  for (const text of renderings(value)) {
    for (const secret of SECRETS) {
      assert.ok(!text.includes(secret), `${what} shows ${secret}:\n${text}`);
    }
  }
}

function script(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, 0o755);
  return path;
}

test("credentials and sources do not show their secrets", async (t) => {
  const dir = tempDir(t);
  const tokenFile = join(dir, "token");
  writeFileSync(tokenFile, TOKEN);
  const certResponse = JSON.stringify({
    apiVersion: "client.authentication.k8s.io/v1",
    kind: "ExecCredential",
    status: { token: EXEC_TOKEN, clientCertificateData: CERT_A, clientKeyData: KEY_A },
  });
  writeFileSync(join(dir, "response.json"), certResponse);
  const command = script(dir, "plugin.sh", `#!/bin/sh\ncat "${dir}/response.json"\n`);
  const cache = new CredentialCache();
  const idToken = `${Buffer.from("{}").toString("base64url")}.${Buffer.from(
    JSON.stringify({ sub: ID_TOKEN_MARK, exp: 4_000_000_000 }),
  ).toString("base64url")}.sig`;

  const sources = {
    static: new StaticTokenSource(TOKEN),
    basic: new BasicAuthSource("admin", PASSWORD),
    tokenFile: new TokenFileSource(tokenFile, { token: TOKEN }),
    certificate: new CertificateSource({ certData: CERT_A, keyData: KEY_A }),
    exec: execCredentialSource(
      {
        command,
        apiVersion: "client.authentication.k8s.io/v1",
        interactiveMode: "Never",
        env: [{ name: "SECRET", value: ENV_SECRET }],
      },
      { cache },
    ),
    oidc: new OidcCredentialSource({
      "id-token": idToken,
      "refresh-token": REFRESH,
      "client-secret": CLIENT_SECRET,
      "client-id": "kubectl",
      "idp-issuer-url": "https://issuer.example",
    }),
    combined: combineCredentialSources([
      new StaticTokenSource(TOKEN),
      new CertificateSource({ certData: CERT_A, keyData: KEY_A }),
    ]),
    fromConfig: credentialSourceFor({ bearerToken: TOKEN, certData: CERT_A, keyData: KEY_A }),
  };
  for (const [name, source] of Object.entries(sources)) {
    assertNoSecrets(`source ${name}`, source);
    const creds = await source!.credentials();
    assert.ok(creds.authorization !== undefined || creds.clientCert !== undefined, name);
    assertNoSecrets(`credentials of ${name}`, creds);
    assertNoSecrets(`client certificate of ${name}`, creds.clientCert);
    assertNoSecrets(`credentials of ${name} in an object`, { creds, list: [creds] });
  }
  assertNoSecrets("the cache", cache);
  // The header value is there for the transport to use, of course.
  assert.equal((await sources.static.credentials()).authorization, `Bearer ${TOKEN}`);
  assert.equal(
    inspect(await sources.static.credentials()),
    "Credentials { authorization: 'Bearer <redacted>' }",
  );
  assert.deepEqual(JSON.parse(JSON.stringify(await sources.basic.credentials())), {
    authorization: "Basic <redacted>",
  });
});

test("errors from plugins that fail after printing credentials show none of them", async (t) => {
  const dir = tempDir(t);
  const leak = `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${EXEC_TOKEN}"}}`;
  const bodies = [
    `#!/bin/sh\necho '${leak}'\nexit 1\n`,
    `#!/bin/sh\necho '${leak}' | cut -c1-60\n`,
    `#!/bin/sh\necho '${leak.replace("/v1", "/v1beta1")}'\n`,
    `#!/bin/sh\necho '${leak.replace("ExecCredential", "Other")}'\n`,
    `#!/bin/sh\necho '${leak}'\nexec sleep 10\n`,
  ];
  for (const [i, body] of bodies.entries()) {
    const command = script(dir, `p${i}.sh`, body);
    const s = new ExecCredentialSource(
      {
        command,
        apiVersion: "client.authentication.k8s.io/v1",
        interactiveMode: "Never",
        env: [{ name: "SECRET", value: ENV_SECRET }],
      },
      { cache: new CredentialCache(), timeoutMs: 300, killGraceMs: 100 },
    );
    const err = await s.credentials().then(
      () => assert.fail(`case ${i} should fail`),
      (e: unknown) => e,
    );
    assertNoSecrets(`exec error ${i}`, err);
  }
});

test("errors from token files, certificates and oidc show no secrets", async () => {
  const errors: unknown[] = [];
  const collect = async (p: Promise<unknown>) => {
    await p.then(
      () => assert.fail("should fail"),
      (e: unknown) => errors.push(e),
    );
  };
  await collect(new TokenFileSource("/nonexistent/kubekit/token").credentials());
  await collect(new CertificateSource({ certData: KEY_A, keyData: KEY_A }).credentials());
  await collect(
    new CertificateSource({ certData: CERT_A, keyData: `${KEY_LINE}\n` }).credentials(),
  );
  await collect(
    new OidcCredentialSource({
      "refresh-token": REFRESH,
      "client-secret": CLIENT_SECRET,
    }).credentials(),
  );
  await collect(
    new OidcCredentialSource(
      {
        "refresh-token": REFRESH,
        "client-secret": CLIENT_SECRET,
        "client-id": "kubectl",
        "idp-issuer-url": "http://127.0.0.1:1/",
      },
      { timeoutMs: 1000 },
    ).credentials(),
  );
  try {
    new StaticTokenSource(`${TOKEN}\n`);
  } catch (e) {
    errors.push(e);
  }
  assert.equal(errors.length, 6);
  for (const [i, err] of errors.entries()) assertNoSecrets(`error ${i}`, err);
});
