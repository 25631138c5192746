import assert from "node:assert/strict";
import { test } from "node:test";
import {
  cleanInstallHint,
  compareCodePoints,
  isDNS1123Label,
  parseGoDuration,
  parseTimeout,
} from "./util.ts";

test("Go durations", () => {
  const cases: [string, number | undefined][] = [
    ["0", 0],
    ["1s", 1000],
    ["1.5s", 1500],
    ["1h30m", 5_400_000],
    ["300ms", 300],
    ["2us", 0.002],
    ["2\u00b5s", 0.002],
    ["-1m", -60_000],
    ["+.5s", 500],
    ["", undefined],
    ["5", undefined],
    ["1d", undefined],
    ["s", undefined],
    [".s", undefined],
    ["1s2", undefined],
  ];
  for (const [s, want] of cases) assert.equal(parseGoDuration(s), want, s);
});

test("timeouts: whole seconds, or a duration", () => {
  assert.equal(parseTimeout("30"), 30_000);
  assert.equal(parseTimeout("+5"), 5000);
  assert.equal(parseTimeout("0"), 0);
  assert.equal(parseTimeout("2m"), 120_000);
  assert.equal(parseTimeout("-5"), undefined, "a negative integer is neither");
  assert.equal(parseTimeout("later"), undefined);
});

test("code point order differs from UTF-16 order beyond U+FFFF", () => {
  const names = ["\u{1F680}", "\uFF5A", "a", "B", "ab", ""];
  assert.deepEqual([...names].sort(compareCodePoints), ["", "B", "a", "ab", "\uFF5A", "\u{1F680}"]);
  assert.notDeepEqual([...names].sort(), [...names].sort(compareCodePoints));
});

test("namespace names are DNS-1123 labels", () => {
  for (const ok of ["default", "kube-system", "a", "0abc", "a".repeat(63)]) {
    assert.ok(isDNS1123Label(ok), ok);
  }
  for (const bad of ["", "Default", "a_b", "-a", "a-", "a.b", "a".repeat(64)]) {
    assert.ok(!isDNS1123Label(bad), bad);
  }
});

test("install hints lose their escape sequences but keep text and line breaks", () => {
  assert.equal(
    cleanInstallHint("\u001b[1mbold\u001b[0m\n\tnext"),
    "U+001B[1mboldU+001B[0m\n\tnext",
  );
  assert.equal(cleanInstallHint("caf\u00e9 \u2014 \u{1F680}"), "caf\u00e9 \u2014 \u{1F680}");
  assert.equal(cleanInstallHint("a\u0007b\u009bc"), "aU+0007bU+009Bc");
});
