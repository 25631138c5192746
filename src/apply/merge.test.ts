/**
 * RFC 7386 JSON merge patches: computing one (nested objects diffed, lists and scalars replaced,
 * removals as null) and applying one, with the RFC's own examples.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { applyMergePatch, createMergePatch } from "./merge.ts";

test("createMergePatch: changes, additions, null for removals, lists whole", () => {
  const original = {
    metadata: { labels: { a: "1", b: "2" }, annotations: { x: "1" } },
    spec: { replicas: 1, ports: [80, 443], template: { image: "a" } },
  };
  const modified = {
    metadata: { labels: { a: "1", c: "3" } },
    spec: { replicas: 1, ports: [80], template: { image: "b" }, paused: true },
  };
  const patch = createMergePatch<unknown>(original, modified);
  assert.deepEqual(patch, {
    metadata: { labels: { b: null, c: "3" }, annotations: null },
    spec: { ports: [80], template: { image: "b" }, paused: true },
  });
  assert.deepEqual(applyMergePatch(original, patch), modified);
  assert.deepEqual(createMergePatch(modified, modified), {});
});

test("applyMergePatch: the examples of RFC 7386 appendix A", () => {
  const cases: [unknown, unknown, unknown][] = [
    [{ a: "b" }, { a: "c" }, { a: "c" }],
    [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
    [{ a: "b" }, { a: null }, {}],
    [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
    [{ a: ["b"] }, { a: "c" }, { a: "c" }],
    [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
    [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
    [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
    [
      ["a", "b"],
      ["c", "d"],
      ["c", "d"],
    ],
    [{ a: "b" }, ["c"], ["c"]],
    [{ a: "foo" }, null, null],
    [{ a: "foo" }, "bar", "bar"],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: "b", c: null }, { a: "b" }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, want] of cases) {
    const copy = structuredClone(target);
    assert.deepEqual(applyMergePatch(target, patch), want, JSON.stringify([target, patch]));
    assert.deepEqual(target, copy, "the target is not changed");
  }
});
