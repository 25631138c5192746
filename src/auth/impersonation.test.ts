import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../core/errors.ts";
import { escapeExtraKey, impersonationHeaders } from "./impersonation.ts";

test("user, uid, one header per group and per extra value, in order", () => {
  assert.deepEqual(
    impersonationHeaders({
      user: "jane",
      uid: "42",
      groups: ["dev", "ops"],
      extra: { scopes: ["view", "edit"], "example.com/team": ["a"] },
    }),
    [
      ["Impersonate-User", "jane"],
      ["Impersonate-Uid", "42"],
      ["Impersonate-Group", "dev"],
      ["Impersonate-Group", "ops"],
      ["Impersonate-Extra-scopes", "view"],
      ["Impersonate-Extra-scopes", "edit"],
      ["Impersonate-Extra-example.com%2Fteam", "a"],
    ],
  );
});

test("nothing to impersonate gives no headers", () => {
  assert.deepEqual(impersonationHeaders(undefined), []);
  assert.deepEqual(impersonationHeaders({}), []);
  assert.deepEqual(impersonationHeaders({ user: "", groups: [], extra: {} }), []);
  assert.deepEqual(impersonationHeaders({ user: "jane", extra: { empty: [] } }), [
    ["Impersonate-User", "jane"],
  ]);
});

test("groups, uid or extra without a user are refused", () => {
  assert.throws(() => impersonationHeaders({ groups: ["dev"] }), ConfigError);
  assert.throws(() => impersonationHeaders({ uid: "42" }), ConfigError);
  assert.throws(() => impersonationHeaders({ extra: { a: ["b"] } }), ConfigError);
});

test("values with line breaks are refused rather than sent", () => {
  assert.throws(() => impersonationHeaders({ user: "jane\r\nX-Evil: 1" }), ConfigError);
  assert.throws(() => impersonationHeaders({ user: "jane", groups: ["a\nb"] }), ConfigError);
});

test("extra keys: token characters stay, everything else and % become %XX of the UTF-8 bytes", () => {
  assert.equal(escapeExtraKey("abcXYZ019!#$&'*+-.^_`|~"), "abcXYZ019!#$&'*+-.^_`|~");
  assert.equal(escapeExtraKey("example.com/scope"), "example.com%2Fscope");
  assert.equal(escapeExtraKey("a b"), "a%20b");
  assert.equal(escapeExtraKey("100%"), "100%25");
  assert.equal(
    escapeExtraKey('a:b;c,d"e(f)g<h>i=j?k@l[m]n{o}p\\q'),
    "a%3Ab%3Bc%2Cd%22e%28f%29g%3Ch%3Ei%3Dj%3Fk%40l%5Bm%5Dn%7Bo%7Dp%5Cq",
  );
  assert.equal(escapeExtraKey("é"), "%C3%A9");
  assert.equal(escapeExtraKey("\t\x7f"), "%09%7F");
  // The API server decodes with url.PathUnescape; decodeURIComponent is the same for these.
  for (const key of ["example.com/scope", "100%", "é ü/%2F"]) {
    assert.equal(decodeURIComponent(escapeExtraKey(key)), key);
  }
});
