import assert from "node:assert/strict";
import { test } from "node:test";
import {
  compareCodePoints,
  encodePathSegment,
  utf8Length,
  validateDNS1123Label,
  validateDNS1123Subdomain,
  validateLabelValue,
  validatePathSegmentName,
  validateQualifiedName,
} from "./validation.ts";

const valid = (errs: string[], what: string) => assert.deepEqual(errs, [], what);
const invalid = (errs: string[], what: string, re?: RegExp) => {
  assert.ok(errs.length > 0, `${what} should be invalid`);
  if (re) assert.match(errs.join("; "), re, what);
};

test("DNS-1123 labels: lower-case alphanumerics and '-', alphanumeric at both ends, at most 63", () => {
  for (const v of ["a", "0", "my-ns", "0abc", "a--b", "a".repeat(63)]) {
    valid(validateDNS1123Label(v), v);
  }
  invalid(validateDNS1123Label(""), "empty", /empty/);
  invalid(validateDNS1123Label("a".repeat(64)), "64 chars", /63/);
  for (const v of ["A", "-a", "a-", "a.b", "a_b", "ü", "a b"]) invalid(validateDNS1123Label(v), v);
});

test("DNS-1123 subdomains: dot-separated labels, at most 253", () => {
  const long = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`;
  assert.equal(long.length, 253);
  for (const v of ["example.com", "a.b-c.d", "a", long]) valid(validateDNS1123Subdomain(v), v);
  invalid(validateDNS1123Subdomain(`${long}d`), "254 chars", /253/);
  for (const v of ["", "a..b", ".a", "a.", "Example.com", "a_b.com", "-a.b"]) {
    invalid(validateDNS1123Subdomain(v), v);
  }
});

test("qualified names: an optional subdomain prefix, then a 63-character name", () => {
  for (const v of ["app", "App_1.x", "example.com/app", "k8s.io/Part-Of", "a".repeat(63)]) {
    valid(validateQualifiedName(v), v);
  }
  invalid(validateQualifiedName(""), "empty", /name part must not be empty/);
  invalid(validateQualifiedName("a/b/c"), "two slashes", /one '\/'/);
  invalid(validateQualifiedName("/app"), "empty prefix", /prefix part must not be empty/);
  invalid(validateQualifiedName("Example.com/app"), "upper-case prefix", /^prefix part/);
  invalid(validateQualifiedName("example.com/"), "empty name", /name part must not be empty/);
  invalid(validateQualifiedName("a".repeat(64)), "64 chars", /63/);
  invalid(validateQualifiedName(`example.com/${"a".repeat(64)}`), "64-char name part", /63/);
  for (const v of ["-app", "app-", "a b", "a:b", "ü"]) invalid(validateQualifiedName(v), v);
});

test("label values: empty, or up to 63 qualified-name characters", () => {
  for (const v of ["", "a", "a-b_c.d", "MyValue", "12345", "a".repeat(63)]) {
    valid(validateLabelValue(v), JSON.stringify(v));
  }
  invalid(validateLabelValue("a".repeat(64)), "64 chars", /63/);
  for (const v of ["-a", "a-", "a b", "a/b", "-1", "é"]) invalid(validateLabelValue(v), v);
});

test("path segment names reject only '.', '..', '/' and '%' (and the empty name)", () => {
  for (const v of ["system:controller:x", "UPPER", "a b", "a.b", "...", "ü", "a?b"]) {
    valid(validatePathSegmentName(v), v);
  }
  assert.deepEqual(validatePathSegmentName("."), ["may not be '.'"]);
  assert.deepEqual(validatePathSegmentName(".."), ["may not be '..'"]);
  assert.deepEqual(validatePathSegmentName("a/b%c"), [
    "may not contain '/'",
    "may not contain '%'",
  ]);
  invalid(validatePathSegmentName(""), "empty", /empty/);
});

test("path segments are percent-encoded, keeping what RFC 3986 allows in a segment", () => {
  assert.equal(encodePathSegment("system:node:a@b"), "system:node:a@b");
  assert.equal(encodePathSegment("a+b&c=d;e,f$g!h'(i)*~._-"), "a+b&c=d;e,f$g!h'(i)*~._-");
  assert.equal(encodePathSegment("a b"), "a%20b");
  assert.equal(encodePathSegment("é"), "%C3%A9");
  assert.equal(encodePathSegment("?#[]"), "%3F%23%5B%5D");
  assert.equal(encodePathSegment("/%"), "%2F%25");
  assert.equal(encodePathSegment("\u{1F600}"), "%F0%9F%98%80");
  assert.equal(encodePathSegment("a\uD800b"), undefined, "a lone surrogate has no UTF-8 form");
});

test("compareCodePoints orders as UTF-8 bytes do, unlike the default sort", () => {
  const xs = ["\u{1F600}", "\uFFFF", "b", "a", "ab", ""];
  assert.deepEqual([...xs].sort(compareCodePoints), ["", "a", "ab", "b", "\uFFFF", "\u{1F600}"]);
  assert.deepEqual([...xs].sort().slice(-2), ["\u{1F600}", "\uFFFF"], "the default sort differs");
  assert.equal(compareCodePoints("a", "a"), 0);
  assert.ok(compareCodePoints("\u{10000}", "\u{10001}") < 0);
  assert.ok(compareCodePoints("\uE000", "\u{10000}") < 0);
});

test("utf8Length counts bytes", () => {
  assert.equal(utf8Length("abc"), 3);
  assert.equal(utf8Length("é"), 2);
  assert.equal(utf8Length("\u{1F600}"), 4);
});
