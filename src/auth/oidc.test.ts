import assert from "node:assert/strict";
import { once } from "node:events";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { ConfigError } from "../core/errors.ts";
import { CredentialCache } from "./cache.ts";
import { CredentialError, CredentialErrorCode } from "./errors.ts";
import { SERVER_CERT, SERVER_KEY } from "./fixtures.test.ts";
import { authProviderSource, jwtExpiry, OidcCredentialSource } from "./oidc.ts";

const NOW = Date.parse("2030-01-01T00:00:00Z");

/** An unsigned JWT with the given `exp` (seconds) and a marker to tell tokens apart. */
function jwt(expSeconds: number | undefined, marker: string): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "none" })}.${part({ sub: marker, ...(expSeconds !== undefined && { exp: expSeconds }) })}.sig`;
}

interface TokenRequest {
  authorization: string | undefined;
  form: URLSearchParams;
}

/**
 * A tiny identity provider: discovery at /.well-known/openid-configuration, a token endpoint at
 * /token whose answer `onToken` decides. Closed when the test ends.
 */
async function issuer(
  t: { after(fn: () => Promise<void> | void): void },
  onToken: (req: TokenRequest, n: number) => { status: number; body: unknown },
  tls = false,
) {
  const state = { discovery: 0, tokens: [] as TokenRequest[] };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const base = `${tls ? "https" : "http"}://127.0.0.1:${(server.address() as AddressInfo).port}`;
      if (req.method === "GET" && req.url === "/idp/.well-known/openid-configuration") {
        state.discovery++;
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ issuer: `${base}/idp`, token_endpoint: `${base}/token` }));
        return;
      }
      if (req.method === "POST" && req.url === "/token") {
        const tr = {
          authorization: req.headers.authorization,
          form: new URLSearchParams(Buffer.concat(chunks).toString()),
        };
        state.tokens.push(tr);
        const { status, body } = onToken(tr, state.tokens.length);
        res.statusCode = status;
        res.setHeader("content-type", "application/json");
        res.end(typeof body === "string" ? body : JSON.stringify(body));
        return;
      }
      res.statusCode = 404;
      res.end();
    });
  };
  const server = tls
    ? createHttpsServer({ cert: SERVER_CERT, key: SERVER_KEY }, handler)
    : createHttpServer(handler);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, "close");
  });
  const port = (server.address() as AddressInfo).port;
  return { state, url: `${tls ? "https" : "http"}://127.0.0.1:${port}/idp` };
}

const config = (url: string, extra: Record<string, string> = {}) => ({
  "idp-issuer-url": url,
  "client-id": "kubectl",
  "client-secret": "s3cret+/=",
  "refresh-token": "refresh-1",
  ...extra,
});

test("jwtExpiry reads exp without verifying; anything else is undefined", () => {
  assert.equal(jwtExpiry(jwt(1_900_000_000, "x")), 1_900_000_000_000);
  assert.equal(jwtExpiry(jwt(1_900_000_000.7, "x")), 1_900_000_000_000);
  assert.equal(jwtExpiry(jwt(undefined, "x")), undefined);
  assert.equal(jwtExpiry("not-a-jwt"), undefined);
  assert.equal(jwtExpiry("a.%%%.c"), undefined);
});

test("a valid id-token is used without asking the issuer", async (t) => {
  const idp = await issuer(t, () => ({ status: 500, body: {} }));
  const token = jwt(NOW / 1000 + 3600, "valid");
  const s = new OidcCredentialSource(config(idp.url, { "id-token": token }), { now: () => NOW });
  const c = await s.credentials();
  assert.equal(c.authorization, `Bearer ${token}`);
  assert.equal(c.expiresAt, NOW + 3600_000);
  assert.equal(await s.credentials(), c);
  assert.equal(idp.state.discovery, 0);
});

test("an expired id-token is refreshed once, with the refresh token and client credentials", async (t) => {
  const fresh = jwt(NOW / 1000 + 3600, "fresh");
  const idp = await issuer(t, () => ({
    status: 200,
    body: { access_token: "at", id_token: fresh, refresh_token: "refresh-2", token_type: "Bearer" },
  }));
  // Expires within the 10 s margin: counts as expired.
  const old = jwt(NOW / 1000 + 5, "old");
  const s = new OidcCredentialSource(config(`${idp.url}/`, { "id-token": old }), {
    now: () => NOW,
  });
  const all = await Promise.all([s.credentials(), s.credentials(), s.credentials()]);
  assert.ok(all.every((c) => c === all[0]));
  assert.equal(all[0]!.authorization, `Bearer ${fresh}`);
  assert.equal(idp.state.discovery, 1);
  assert.equal(idp.state.tokens.length, 1);
  const req = idp.state.tokens[0]!;
  assert.equal(req.form.get("grant_type"), "refresh_token");
  assert.equal(req.form.get("refresh_token"), "refresh-1");
  assert.equal(
    req.authorization,
    `Basic ${Buffer.from("kubectl:s3cret%2B%2F%3D").toString("base64")}`,
  );
  // A 401 with the fresh token refreshes again, with the rotated refresh token.
  s.onUnauthorized(all[0]!);
  await s.credentials();
  assert.equal(idp.state.tokens[1]!.form.get("refresh_token"), "refresh-2");
});

test("client credentials go into the body when the issuer refuses basic auth, and that is remembered", async (t) => {
  const idp = await issuer(t, (req, n) =>
    req.authorization
      ? { status: 401, body: { error: "invalid_client" } }
      : { status: 200, body: { id_token: jwt(NOW / 1000 + 60 * n, `t${n}`) } },
  );
  const s = new OidcCredentialSource(config(idp.url), { now: () => NOW });
  const a = await s.credentials();
  assert.equal(idp.state.tokens.length, 2);
  assert.equal(idp.state.tokens[1]!.form.get("client_id"), "kubectl");
  assert.equal(idp.state.tokens[1]!.form.get("client_secret"), "s3cret+/=");
  s.onUnauthorized(a);
  await s.credentials();
  assert.equal(idp.state.tokens.length, 3, "the second refresh goes straight to the body style");
  assert.equal(idp.state.tokens[2]!.authorization, undefined);
});

test("a refused refresh is a CredentialError that quotes the issuer's error but no secret", async (t) => {
  const idp = await issuer(t, () => ({
    status: 400,
    body: { error: "invalid_grant", error_description: "Token is not active\u001b[0m" },
  }));
  const s = new OidcCredentialSource(config(idp.url), { now: () => NOW });
  const err = await s.credentials().catch((e: unknown) => e);
  assert.ok(err instanceof CredentialError);
  assert.equal(err.code, CredentialErrorCode.oidcRefresh);
  assert.match(err.message, /HTTP 400, invalid_grant: Token is not active\)$/);
  for (const secret of ["refresh-1", "s3cret"]) assert.ok(!err.message.includes(secret));
});

test("a token response without an id_token is an error that says why it may happen", async (t) => {
  const idp = await issuer(t, () => ({ status: 200, body: { access_token: "only-access" } }));
  const s = new OidcCredentialSource(config(idp.url), { now: () => NOW });
  await assert.rejects(s.credentials(), /no id_token \(was the "openid" scope requested/);
});

test("discovery failures name the URL and the status", async (t) => {
  const idp = await issuer(t, () => ({ status: 200, body: {} }));
  const s = new OidcCredentialSource(config(idp.url.replace("/idp", "/elsewhere")), {
    now: () => NOW,
  });
  await assert.rejects(
    s.credentials(),
    /elsewhere\/\.well-known\/openid-configuration answered HTTP 404/,
  );
  const down = new OidcCredentialSource(config("http://127.0.0.1:1/idp"), { now: () => NOW });
  await assert.rejects(down.credentials(), /request to .* failed \(ECONNREFUSED\)/);
});

test("an expired id-token without what a refresh needs is an error naming what is missing", async () => {
  const old = jwt(NOW / 1000 - 60, "old");
  const s = new OidcCredentialSource(
    { "id-token": old, "client-id": "kubectl" },
    { now: () => NOW },
  );
  await assert.rejects(
    s.credentials(),
    /expired, and it cannot be refreshed without refresh-token, idp-issuer-url/,
  );
  // A valid token without refresh settings is fine, and a 401 then keeps it (nothing better).
  const valid = jwt(NOW / 1000 + 60, "valid");
  const v = new OidcCredentialSource({ "id-token": valid }, { now: () => NOW });
  const c = await v.credentials();
  v.onUnauthorized(c);
  assert.equal(await v.credentials(), c);
});

test("idp-certificate-authority-data is trusted for an https issuer", async (t) => {
  const fresh = jwt(NOW / 1000 + 600, "tls");
  const idp = await issuer(t, () => ({ status: 200, body: { id_token: fresh } }), true);
  const withCa = new OidcCredentialSource(
    config(idp.url, {
      "idp-certificate-authority-data": Buffer.from(SERVER_CERT).toString("base64"),
    }),
    { now: () => NOW },
  );
  assert.equal((await withCa.credentials()).authorization, `Bearer ${fresh}`);
  const withoutCa = new OidcCredentialSource(config(idp.url), { now: () => NOW });
  await assert.rejects(withoutCa.credentials(), /failed \(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED/);
});

test("authProviderSource: oidc sources are shared by config + server; gcp and azure say what to use", () => {
  const cache = new CredentialCache();
  const a = authProviderSource(
    { name: "oidc", config: { "client-id": "x" } },
    { cache, server: "https://a" },
  );
  assert.equal(
    authProviderSource(
      { name: "oidc", config: { "client-id": "x" } },
      { cache, server: "https://a" },
    ),
    a,
  );
  assert.notEqual(
    authProviderSource(
      { name: "oidc", config: { "client-id": "x" } },
      { cache, server: "https://b" },
    ),
    a,
  );
  assert.throws(
    () => authProviderSource({ name: "gcp" }),
    (e) => e instanceof ConfigError && /gke-gcloud-auth-plugin/.test(e.message),
  );
  assert.throws(
    () => authProviderSource({ name: "azure" }),
    (e) => e instanceof ConfigError && /kubelogin/.test(e.message),
  );
  assert.throws(() => authProviderSource({ name: "keystone" }), /unknown auth provider "keystone"/);
  assert.throws(
    () => authProviderSource({ name: "oidc", config: { "idp-issuer-url": "::" } }, { cache }),
    ConfigError,
  );
});
