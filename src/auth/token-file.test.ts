import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { CredentialError } from "./errors.ts";
import { tempDir } from "./fixtures.test.ts";
import { TokenFileSource } from "./token-file.ts";

/** A fake file system with one file and a clock, counting reads. */
function fakeFile(initial: string | Error) {
  const state = { content: initial as string | Error, reads: 0, now: 1_000_000 };
  return {
    state,
    now: () => state.now,
    readFile: async () => {
      state.reads++;
      await Promise.resolve();
      if (state.content instanceof Error) throw state.content;
      return state.content;
    },
  };
}

const enoent = () => Object.assign(new Error("ENOENT: no such file"), { code: "ENOENT" });

test("reads on first use, keeps the token ~50 s, then reads again", async () => {
  const f = fakeFile("tok-1\n");
  const s = new TokenFileSource("/t", { now: f.now, readFile: f.readFile });
  assert.equal(f.state.reads, 0, "no I/O at construction");
  const a = await s.credentials();
  assert.equal(a.authorization, "Bearer tok-1");
  assert.equal(f.state.reads, 1);
  f.state.content = "tok-2";
  f.state.now += 49_999;
  assert.equal(await s.credentials(), a);
  assert.equal(f.state.reads, 1);
  f.state.now += 1;
  const b = await s.credentials();
  assert.equal(b.authorization, "Bearer tok-2");
  assert.equal(f.state.reads, 2);
});

test("an unchanged token keeps its Credentials object", async () => {
  const f = fakeFile("same");
  const s = new TokenFileSource("/t", { now: f.now, readFile: f.readFile });
  const a = await s.credentials();
  f.state.now += 60_000;
  assert.equal(await s.credentials(), a);
  assert.equal(f.state.reads, 2);
});

test("concurrent first calls share one read", async () => {
  const f = fakeFile("tok");
  const s = new TokenFileSource("/t", { now: f.now, readFile: f.readFile });
  const all = await Promise.all([s.credentials(), s.credentials(), s.credentials()]);
  assert.equal(f.state.reads, 1);
  assert.ok(all.every((c) => c === all[0]));
});

test("a failed or empty re-read keeps the old token and warns once per streak", async () => {
  const f = fakeFile("tok-1");
  const warnings: Error[] = [];
  const s = new TokenFileSource("/var/run/token", {
    now: f.now,
    readFile: f.readFile,
    onWarning: (w) => warnings.push(w),
  });
  const a = await s.credentials();
  f.state.content = enoent();
  f.state.now += 60_000;
  assert.equal(await s.credentials(), a);
  assert.equal(warnings.length, 1);
  assert.ok(warnings[0] instanceof CredentialError);
  assert.match(warnings[0].message, /cannot read token file "\/var\/run\/token" \(ENOENT\)/);
  f.state.now += 5_000;
  assert.equal(await s.credentials(), a, "retry is not due yet");
  assert.equal(f.state.reads, 2);
  f.state.content = "   \n";
  f.state.now += 10_000;
  assert.equal(await s.credentials(), a);
  assert.equal(f.state.reads, 3);
  assert.equal(warnings.length, 1, "reported once, not on every failed attempt");
  f.state.content = "tok-2";
  f.state.now += 10_000;
  assert.equal((await s.credentials()).authorization, "Bearer tok-2");
  f.state.content = "";
  f.state.now += 60_000;
  assert.equal((await s.credentials()).authorization, "Bearer tok-2");
  assert.equal(warnings.length, 2, "a new streak is reported again");
  assert.match(warnings[1]!.message, /is empty/);
});

test("without any token, a failed read throws (and the next call tries again)", async () => {
  const f = fakeFile(enoent());
  const s = new TokenFileSource("/t", { now: f.now, readFile: f.readFile });
  await assert.rejects(s.credentials(), CredentialError);
  await assert.rejects(s.credentials(), CredentialError);
  assert.equal(f.state.reads, 2);
  f.state.content = "";
  await assert.rejects(s.credentials(), /is empty/);
  f.state.content = "a\nb";
  await assert.rejects(s.credentials(), /more than one line/);
  f.state.content = "ok";
  assert.equal((await s.credentials()).authorization, "Bearer ok");
});

test("a static token is used until the file has been read, and the file wins", async () => {
  const f = fakeFile(enoent());
  const warnings: Error[] = [];
  const s = new TokenFileSource("/t", {
    token: "static",
    now: f.now,
    readFile: f.readFile,
    onWarning: (w) => warnings.push(w),
  });
  assert.equal((await s.credentials()).authorization, "Bearer static");
  assert.equal(f.state.reads, 1, "the file is read on first use even with a static token");
  assert.equal(warnings.length, 1);
  f.state.content = "from-file";
  f.state.now += 10_000;
  assert.equal((await s.credentials()).authorization, "Bearer from-file");
});

test("a 401 with the current token makes the next call re-read; an older token does not", async () => {
  const f = fakeFile("tok-1");
  const s = new TokenFileSource("/t", { now: f.now, readFile: f.readFile });
  const a = await s.credentials();
  f.state.content = "tok-2";
  s.onUnauthorized(a);
  s.onUnauthorized(a);
  const [b, c] = await Promise.all([s.credentials(), s.credentials()]);
  assert.equal(b.authorization, "Bearer tok-2");
  assert.equal(c, b);
  assert.equal(f.state.reads, 2, "one re-read for any number of 401s");
  s.onUnauthorized(a);
  assert.equal(await s.credentials(), b);
  assert.equal(f.state.reads, 2);
});

test("reads a real file by default", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "token");
  writeFileSync(path, "real-token\n");
  const s = new TokenFileSource(path);
  assert.equal((await s.credentials()).authorization, "Bearer real-token");
});
