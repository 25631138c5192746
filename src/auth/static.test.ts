import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../core/errors.ts";
import {
  ClientCertificate,
  Credentials,
  combineCredentialSources,
  raceSignal,
} from "./credentials.ts";
import { BasicAuthSource, StaticTokenSource } from "./static.ts";

test("a static token is sent as a bearer token, the same object every time", async () => {
  const s = new StaticTokenSource("abc.def");
  const a = await s.credentials();
  assert.equal(a.authorization, "Bearer abc.def");
  assert.equal(a.clientCert, undefined);
  assert.equal(await s.credentials(), a);
  assert.throws(() => new StaticTokenSource(""), ConfigError);
  assert.throws(() => new StaticTokenSource("a\nb"), ConfigError);
});

test("basic auth is base64 of the UTF-8 user:password", async () => {
  const c = await new BasicAuthSource("admin", "pä:ss").credentials();
  assert.equal(c.authorization, `Basic ${Buffer.from("admin:pä:ss").toString("base64")}`);
  assert.equal(c.authorization, "Basic YWRtaW46cMOkOnNz");
});

test("a combined source merges parts and keeps its object while the parts do not change", async () => {
  const cert = new ClientCertificate("CERT", "KEY");
  const certCreds = new Credentials({ clientCert: cert, expiresAt: 5000 });
  let tokenCreds = new Credentials({ authorization: "Bearer one", expiresAt: 9000 });
  const told: Credentials[][] = [[], []];
  const combined = combineCredentialSources([
    {
      credentials: async () => tokenCreds,
      onUnauthorized: (used) => told[0]!.push(used),
    },
    { credentials: async () => certCreds, onUnauthorized: (used) => told[1]!.push(used) },
  ]);
  const a = await combined.credentials();
  assert.equal(a.authorization, "Bearer one");
  assert.equal(a.clientCert, cert);
  assert.equal(a.expiresAt, 5000);
  assert.equal(await combined.credentials(), a);
  combined.onUnauthorized?.(a);
  assert.deepEqual(told, [[tokenCreds], [certCreds]]);
  tokenCreds = new Credentials({ authorization: "Bearer two" });
  const b = await combined.credentials();
  assert.notEqual(b, a);
  assert.equal(b.authorization, "Bearer two");
  combined.onUnauthorized?.(new Credentials({}));
  assert.equal(told[0]!.length, 1, "unknown credentials are not passed on");
});

test("certificate versions are unique and content comparison is by bytes", () => {
  const a = new ClientCertificate("C", "K");
  const b = new ClientCertificate(Buffer.from("C"), Buffer.from("K"));
  assert.notEqual(a.version, b.version);
  assert.ok(a.hasContent(Buffer.from("C"), "K"));
  assert.ok(!a.hasContent("C", "K2"));
});

test("raceSignal rejects with the signal's reason and leaves the shared promise alone", async () => {
  const ac = new AbortController();
  let resolveShared!: (v: string) => void;
  const shared = new Promise<string>((r) => {
    resolveShared = r;
  });
  const waiting = raceSignal(shared, ac.signal);
  const reason = new Error("caller gave up");
  ac.abort(reason);
  await assert.rejects(waiting, (e) => e === reason);
  resolveShared("done");
  assert.equal(await shared, "done");
  await assert.rejects(
    raceSignal(Promise.resolve(1), AbortSignal.abort(reason)),
    (e) => e === reason,
  );
});
