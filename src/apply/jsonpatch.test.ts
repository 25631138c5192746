/**
 * JSON patches as kube-apiserver applies them: the RFC 6902 examples (appendix A) and the places
 * where evanphx/json-patch v4, which the server uses, departs from the RFC.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { PatchError } from "./errors.ts";
import { applyJsonPatch, JsonPatchError } from "./jsonpatch.ts";

function fails(fn: () => unknown, reason: string, operation?: number): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof JsonPatchError, String(err));
    assert.ok(err instanceof PatchError);
    assert.equal(err.reason, reason);
    assert.equal(err.code, "ERR_KUBEKIT_JSON_PATCH");
    if (operation !== undefined) assert.equal(err.operation, operation);
    return true;
  });
}

test("the examples of RFC 6902 appendix A", () => {
  const cases: [unknown, unknown[], unknown][] = [
    [{ foo: "bar" }, [{ op: "add", path: "/baz", value: "qux" }], { foo: "bar", baz: "qux" }],
    [
      { foo: ["bar", "baz"] },
      [{ op: "add", path: "/foo/1", value: "qux" }],
      { foo: ["bar", "qux", "baz"] },
    ],
    [{ baz: "qux", foo: "bar" }, [{ op: "remove", path: "/baz" }], { foo: "bar" }],
    [{ foo: ["bar", "qux", "baz"] }, [{ op: "remove", path: "/foo/1" }], { foo: ["bar", "baz"] }],
    [
      { baz: "qux", foo: "bar" },
      [{ op: "replace", path: "/baz", value: "boo" }],
      { baz: "boo", foo: "bar" },
    ],
    [
      { foo: { bar: "baz", waldo: "fred" }, qux: { corge: "grault" } },
      [{ op: "move", from: "/foo/waldo", path: "/qux/thud" }],
      { foo: { bar: "baz" }, qux: { corge: "grault", thud: "fred" } },
    ],
    [
      { foo: ["all", "grass", "cows", "eat"] },
      [{ op: "move", from: "/foo/1", path: "/foo/3" }],
      { foo: ["all", "cows", "eat", "grass"] },
    ],
    [
      { baz: "qux", foo: ["a", 2, "c"] },
      [
        { op: "test", path: "/baz", value: "qux" },
        { op: "test", path: "/foo/1", value: 2 },
      ],
      { baz: "qux", foo: ["a", 2, "c"] },
    ],
    [
      { foo: "bar" },
      [{ op: "add", path: "/child", value: { grandchild: {} } }],
      { foo: "bar", child: { grandchild: {} } },
    ],
    [
      { foo: ["bar"] },
      [{ op: "add", path: "/foo/-", value: ["abc", "def"] }],
      {
        foo: ["bar", ["abc", "def"]],
      },
    ],
    [{ "/": 9, "~1": 10 }, [{ op: "test", path: "/~01", value: 10 }], { "/": 9, "~1": 10 }],
    [{ "a/b": 1 }, [{ op: "copy", from: "/a~1b", path: "/c" }], { "a/b": 1, c: 1 }],
  ];
  for (const [doc, patch, want] of cases) {
    assert.deepEqual(applyJsonPatch(doc, patch), want, JSON.stringify(patch));
  }
});

test("failures name their reason and the failing operation; the input is untouched", () => {
  const doc = { baz: "qux", foo: ["a", 2] };
  const before = structuredClone(doc);
  fails(
    () =>
      applyJsonPatch(doc, [
        { op: "add", path: "/x", value: 1 },
        { op: "test", path: "/baz", value: "bar" },
      ]),
    "testFailed",
    1,
  );
  assert.deepEqual(doc, before);
  fails(() => applyJsonPatch(doc, [{ op: "remove", path: "/nope" }]), "missing", 0);
  fails(() => applyJsonPatch(doc, [{ op: "add", path: "/a/b", value: 1 }]), "missing");
  fails(() => applyJsonPatch(doc, [{ op: "add", path: "/foo/5", value: 1 }]), "invalidIndex");
  fails(() => applyJsonPatch(doc, [{ op: "add", path: "/foo/x", value: 1 }]), "invalidIndex");
  fails(() => applyJsonPatch(doc, [{ op: "replace", path: "/foo/2", value: 1 }]), "invalidIndex");
  fails(() => applyJsonPatch(doc, [{ op: "bogus", path: "/x" }]), "unknownOperation");
  fails(() => applyJsonPatch(doc, [{ op: "add", value: 1 }]), "missing");
  fails(() => applyJsonPatch(doc, [{ op: "add", path: "/x" }]), "missing");
  fails(() => applyJsonPatch(doc, [{ op: "move", from: "/nope", path: "/x" }]), "missing");
  fails(() => applyJsonPatch(doc, [{ op: "copy", from: "/nope", path: "/x" }]), "missing");
  fails(() => applyJsonPatch(doc, [{ op: "add", path: "", value: {} }]), "missing");
  fails(() => applyJsonPatch(doc, { op: "add" } as never), "decode");
  fails(() => applyJsonPatch(doc, ["add"]), "decode");
  assert.deepEqual(doc, before);
});

test("where the server's library departs from the RFC, the server's behaviour wins", () => {
  // replace of a missing member adds it (the RFC says it must exist)
  assert.deepEqual(applyJsonPatch({ a: 1 }, [{ op: "replace", path: "/b", value: 2 }]), {
    a: 1,
    b: 2,
  });
  // negative indices count from the end
  assert.deepEqual(applyJsonPatch({ l: [1, 2, 3] }, [{ op: "remove", path: "/l/-1" }]), {
    l: [1, 2],
  });
  assert.deepEqual(applyJsonPatch({ l: [1, 2, 3] }, [{ op: "add", path: "/l/-1", value: 9 }]), {
    l: [1, 2, 3, 9],
  });
  assert.deepEqual(applyJsonPatch({ l: [1, 2] }, [{ op: "replace", path: "/l/-2", value: 0 }]), {
    l: [0, 2],
  });
  fails(() => applyJsonPatch({ l: [1] }, [{ op: "remove", path: "/l/-2" }]), "invalidIndex");
  // test of a missing member against null passes
  assert.deepEqual(applyJsonPatch({ a: 1 }, [{ op: "test", path: "/b", value: null }]), { a: 1 });
  fails(() => applyJsonPatch({ a: 1 }, [{ op: "test", path: "/b", value: 1 }]), "testFailed");
  // replace of the root swaps the document
  assert.deepEqual(applyJsonPatch({ a: 1 }, [{ op: "replace", path: "", value: { b: 2 } }]), {
    b: 2,
  });
  fails(() => applyJsonPatch({ a: 1 }, [{ op: "replace", path: "", value: 3 }]), "missing");
  // test of the root compares the whole document
  assert.deepEqual(applyJsonPatch({ a: 1 }, [{ op: "test", path: "", value: { a: 1 } }]), {
    a: 1,
  });
});

test("values are copied: later changes to the patch or the result do not leak", () => {
  const value = { nested: [1] };
  const patch = [
    { op: "add", path: "/a", value },
    { op: "copy", from: "/a", path: "/b" },
  ];
  const out = applyJsonPatch({} as Record<string, { nested: number[] }>, patch);
  out.a!.nested.push(2);
  assert.deepEqual(out.b, { nested: [1] });
  assert.deepEqual(value, { nested: [1] });
});
