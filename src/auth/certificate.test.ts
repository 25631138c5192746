import assert from "node:assert/strict";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError } from "../core/errors.ts";
import { CertificateSource, validatePair } from "./certificate.ts";
import { CredentialError } from "./errors.ts";
import { CERT_A, CERT_B, KEY_A, KEY_B, tempDir } from "./fixtures.test.ts";

test("fixture pairs match within a pair and not across pairs", () => {
  assert.ok(new X509Certificate(CERT_A).checkPrivateKey(createPrivateKey(KEY_A)));
  assert.ok(new X509Certificate(CERT_B).checkPrivateKey(createPrivateKey(KEY_B)));
  assert.ok(!new X509Certificate(CERT_A).checkPrivateKey(createPrivateKey(KEY_B)));
});

/** Files in memory with settable stat results, a clock, and counters. */
function fakeFiles(files: Record<string, string>) {
  const state = {
    files: { ...files },
    mtimes: Object.fromEntries(Object.keys(files).map((f) => [f, 1])) as Record<string, number>,
    stats: 0,
    reads: 0,
    now: 0,
  };
  return {
    state,
    write(path: string, content: string) {
      state.files[path] = content;
      state.mtimes[path] = (state.mtimes[path] ?? 0) + 1;
    },
    options: {
      now: () => state.now,
      stat: async (p: string) => {
        state.stats++;
        if (!(p in state.files)) throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
        return { mtimeMs: state.mtimes[p]!, size: state.files[p]!.length, ino: 1 };
      },
      readFile: async (p: string) => {
        state.reads++;
        if (!(p in state.files)) throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
        return Buffer.from(state.files[p]!);
      },
    },
  };
}

test("data: loaded once, validated, never re-checked", async () => {
  const s = new CertificateSource({ certData: CERT_A, keyData: KEY_A });
  const a = await s.credentials();
  assert.equal(a.authorization, undefined);
  assert.equal(a.clientCert?.cert, CERT_A);
  assert.equal(a.clientCert?.key, KEY_A);
  assert.equal(await s.credentials(), a);
  assert.equal((await s.certificate()).version, a.clientCert?.version);
  await assert.rejects(
    new CertificateSource({ certData: CERT_A, keyData: KEY_B }).credentials(),
    /does not belong/,
  );
  await assert.rejects(
    new CertificateSource({ certData: "nope", keyData: KEY_B }).credentials(),
    /not a valid PEM certificate/,
  );
  await assert.rejects(
    new CertificateSource({ certData: CERT_A, keyData: "nope" }).credentials(),
    /not a valid \(unencrypted\) PEM private key/,
  );
});

test("a certificate without a key, or the reverse, is a ConfigError", () => {
  assert.throws(() => new CertificateSource({ certFile: "/c" }), ConfigError);
  assert.throws(() => new CertificateSource({ keyData: KEY_A }), ConfigError);
});

test("data beats files", async () => {
  const f = fakeFiles({ "/c": CERT_B, "/k": KEY_B });
  const s = new CertificateSource(
    { certData: CERT_A, certFile: "/c", keyData: KEY_A, keyFile: "/k" },
    f.options,
  );
  assert.equal((await s.certificate()).cert, CERT_A);
  assert.equal(f.state.reads, 0);
});

test("files: stat at most every interval, reload on change, new version only for new bytes", async () => {
  const f = fakeFiles({ "/c": CERT_A, "/k": KEY_A });
  const s = new CertificateSource(
    { certFile: "/c", keyFile: "/k" },
    { ...f.options, checkIntervalMs: 1000 },
  );
  const a = await s.certificate();
  assert.equal(a.cert.toString(), CERT_A);
  assert.equal(f.state.reads, 2);
  const statsAfterLoad = f.state.stats;
  f.state.now = 999;
  assert.equal(await s.certificate(), a);
  assert.equal(f.state.stats, statsAfterLoad, "no stat before the interval");
  // Touched, same bytes: re-read, same object.
  f.write("/c", CERT_A);
  f.state.now = 1000;
  assert.equal(await s.certificate(), a);
  assert.equal(f.state.reads, 4);
  // Unchanged metadata: no read.
  f.state.now = 2000;
  assert.equal(await s.certificate(), a);
  assert.equal(f.state.reads, 4);
  // Rotated.
  f.write("/c", CERT_B);
  f.write("/k", KEY_B);
  f.state.now = 3000;
  const b = await s.certificate();
  assert.equal(b.cert.toString(), CERT_B);
  assert.ok(b.version > a.version);
});

test("a half-done rotation keeps the old pair, warns once, and is retried soon", async () => {
  const f = fakeFiles({ "/c": CERT_A, "/k": KEY_A });
  const warnings: Error[] = [];
  const s = new CertificateSource(
    { certFile: "/c", keyFile: "/k" },
    { ...f.options, checkIntervalMs: 60_000, retryMs: 100, onWarning: (w) => warnings.push(w) },
  );
  const a = await s.certificate();
  f.write("/c", CERT_B);
  f.state.now = 60_000;
  assert.equal(await s.certificate(), a);
  assert.equal(warnings.length, 1);
  assert.ok(warnings[0] instanceof CredentialError);
  assert.match(warnings[0].message, /does not belong/);
  f.state.now = 60_050;
  assert.equal(await s.certificate(), a, "not retried before retryMs");
  f.state.now = 60_100;
  assert.equal(await s.certificate(), a);
  assert.equal(warnings.length, 1, "reported once per streak");
  f.write("/k", KEY_B);
  f.state.now = 60_200;
  assert.equal((await s.certificate()).cert.toString(), CERT_B);
});

test("a missing file at first use throws; later it is a warning", async () => {
  const f = fakeFiles({ "/c": CERT_A });
  const warnings: Error[] = [];
  const s = new CertificateSource(
    { certFile: "/c", keyFile: "/k" },
    { ...f.options, onWarning: (w) => warnings.push(w) },
  );
  await assert.rejects(s.credentials(), /cannot read "\/k" \(ENOENT\)/);
  assert.equal(warnings.length, 0);
  f.write("/k", KEY_A);
  const a = await s.certificate();
  delete f.state.files["/k"];
  f.state.now = 5 * 60_000;
  assert.equal(await s.certificate(), a);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!.message, /cannot read "\/k" \(ENOENT\)/);
});

test("a 401 with the current pair makes the next call check the files", async () => {
  const f = fakeFiles({ "/c": CERT_A, "/k": KEY_A });
  const s = new CertificateSource({ certFile: "/c", keyFile: "/k" }, f.options);
  const a = await s.credentials();
  f.write("/c", CERT_B);
  f.write("/k", KEY_B);
  s.onUnauthorized(await s.credentials());
  const b = await s.credentials();
  assert.notEqual(b, a);
  assert.equal(b.clientCert?.cert.toString(), CERT_B);
  s.onUnauthorized(a); // an old pair: nothing to do
  const stats = f.state.stats;
  assert.equal(await s.credentials(), b);
  assert.equal(f.state.stats, stats);
});

test("concurrent calls share one load", async () => {
  const f = fakeFiles({ "/c": CERT_A, "/k": KEY_A });
  const s = new CertificateSource({ certFile: "/c", keyFile: "/k" }, f.options);
  const all = await Promise.all([s.certificate(), s.certificate(), s.certificate()]);
  assert.equal(f.state.reads, 2);
  assert.ok(all.every((c) => c === all[0]));
});

test("real files are watched through their metadata", async (t) => {
  const dir = tempDir(t);
  const cert = join(dir, "tls.crt");
  const key = join(dir, "tls.key");
  writeFileSync(cert, CERT_A);
  writeFileSync(key, KEY_A);
  let now = 0;
  const s = new CertificateSource({ certFile: cert, keyFile: key }, { now: () => now });
  const a = await s.certificate();
  writeFileSync(cert, CERT_B);
  writeFileSync(key, KEY_B);
  now = 5 * 60_000;
  const b = await s.certificate();
  assert.notEqual(b, a);
  assert.equal(b.cert.toString(), CERT_B);
});

test("validatePair messages name the part, never the content", () => {
  for (const [c, k] of [
    [CERT_A, KEY_B],
    ["garbage", KEY_A],
    [CERT_A, "garbage-key-material"],
  ] as const) {
    try {
      validatePair(c, k, "exec");
      assert.fail("should throw");
    } catch (err) {
      assert.ok(err instanceof CredentialError);
      assert.ok(!err.message.includes("garbage"));
      assert.ok(!err.message.includes("PRIVATE KEY"));
      assert.equal(err.cause, undefined);
    }
  }
});
