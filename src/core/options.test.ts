import assert from "node:assert/strict";
import { test } from "node:test";
import { RequestBuildError } from "./errors.ts";
import {
  encodeCreateOptions,
  encodeDeleteCollectionOptions,
  encodeDeleteOptions,
  encodeGetOptions,
  encodeListOptions,
  encodePatchOptions,
  encodeUpdateOptions,
  encodeWatchOptions,
  isApplyPatch,
  PatchType,
} from "./options.ts";
import { labelSelectorFromMeta, parseLabelSelector } from "./selectors.ts";

function throwsBuild(fn: () => unknown, field: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RequestBuildError, `expected a RequestBuildError, got ${String(e)}`);
    assert.equal(e.field, field);
    if (message) assert.match(e.message, message);
    return true;
  });
}

const sorted = (q: [string, string][]) => [...q].sort((a, b) => (a[0] < b[0] ? -1 : 1));

test("list options use the API server's parameter names", () => {
  assert.deepEqual(
    sorted(
      encodeListOptions({
        labelSelector: "app=web",
        fieldSelector: "metadata.name=x",
        limit: 500,
        resourceVersion: "12",
        resourceVersionMatch: "NotOlderThan",
        timeoutSeconds: 30,
      }),
    ),
    [
      ["fieldSelector", "metadata.name=x"],
      ["labelSelector", "app=web"],
      ["limit", "500"],
      ["resourceVersion", "12"],
      ["resourceVersionMatch", "NotOlderThan"],
      ["timeoutSeconds", "30"],
    ],
  );
  assert.deepEqual(encodeListOptions({ continue: "tok", resourceVersion: "0" }), [
    ["continue", "tok"],
    ["resourceVersion", "0"],
  ]);
  assert.deepEqual(encodeListOptions(undefined), []);
});

test("zero values are not sent, as client-go omits them", () => {
  assert.deepEqual(
    encodeListOptions({
      limit: 0,
      continue: "",
      resourceVersion: "",
      labelSelector: "",
      fieldSelector: {},
    }),
    [],
  );
  assert.deepEqual(
    encodeListOptions({ timeoutSeconds: 0 }),
    [["timeoutSeconds", "0"]],
    "a pointer in Go",
  );
  assert.deepEqual(encodeWatchOptions({ allowWatchBookmarks: false }), [["watch", "true"]]);
  // Zero values mean "not set", so they do not count as a watch-only option given to a list.
  assert.deepEqual(encodeListOptions({ allowWatchBookmarks: false, dryRun: "" } as never), []);
  assert.deepEqual(encodeWatchOptions({ limit: 0, continue: "" } as never), [["watch", "true"]]);
});

test("list option values are validated", () => {
  throwsBuild(() => encodeListOptions({ limit: -1 }), "options.limit", /non-negative integer/);
  throwsBuild(() => encodeListOptions({ limit: 1.5 }), "options.limit", /non-negative integer/);
  throwsBuild(() => encodeListOptions({ limit: "5" as never }), "options.limit");
  throwsBuild(() => encodeListOptions({ timeoutSeconds: 0.5 }), "options.timeoutSeconds");
  throwsBuild(() => encodeListOptions({ timeoutSeconds: Number.NaN }), "options.timeoutSeconds");
  throwsBuild(
    () => encodeListOptions({ resourceVersion: 5 as never }),
    "options.resourceVersion",
    /string/,
  );
  throwsBuild(
    () => encodeListOptions({ resourceVersionMatch: "Newest" as never, resourceVersion: "1" }),
    "options.resourceVersionMatch",
    /"Exact" or "NotOlderThan"/,
  );
  throwsBuild(() => encodeListOptions("x" as never), "options", /object/);
});

test("list options follow the server's resourceVersion rules", () => {
  throwsBuild(
    () => encodeListOptions({ resourceVersionMatch: "Exact" }),
    "options.resourceVersionMatch",
    /needs resourceVersion/,
  );
  throwsBuild(
    () =>
      encodeListOptions({
        resourceVersionMatch: "NotOlderThan",
        resourceVersion: "5",
        continue: "t",
      }),
    "options.resourceVersionMatch",
    /continue/,
  );
  throwsBuild(
    () => encodeListOptions({ resourceVersionMatch: "Exact", resourceVersion: "0" }),
    "options.resourceVersionMatch",
    /"0"/,
  );
  throwsBuild(
    () => encodeListOptions({ continue: "t", resourceVersion: "5" }),
    "options.resourceVersion",
    /continue/,
  );
  assert.doesNotThrow(() =>
    encodeListOptions({ resourceVersionMatch: "Exact", resourceVersion: "5" }),
  );
});

test("watch-only options are refused on a list, and list-only ones on a watch", () => {
  throwsBuild(
    () => encodeListOptions({ sendInitialEvents: true } as never),
    "options.sendInitialEvents",
    /does not apply to list; it applies to watch/,
  );
  throwsBuild(
    () => encodeListOptions({ sendInitialEvents: false } as never),
    "options.sendInitialEvents",
  );
  throwsBuild(
    () => encodeListOptions({ allowWatchBookmarks: true } as never),
    "options.allowWatchBookmarks",
  );
  throwsBuild(
    () => encodeWatchOptions({ limit: 5 } as never),
    "options.limit",
    /does not apply to watch/,
  );
  throwsBuild(() => encodeWatchOptions({ continue: "t" } as never), "options.continue");
  throwsBuild(
    () => encodeListOptions({ dryRun: "All" } as never),
    "options.dryRun",
    /does not apply to list/,
  );
});

test("keys no verb knows are ignored, so call options can pass through", () => {
  const signal = new AbortController().signal;
  assert.deepEqual(encodeListOptions({ limit: 1, signal } as never), [["limit", "1"]]);
  assert.deepEqual(encodeGetOptions({ signal } as never), []);
});

test("watch options: watch=true, bookmarks, and the streaming-list rules", () => {
  assert.deepEqual(encodeWatchOptions(undefined), [["watch", "true"]]);
  assert.deepEqual(
    sorted(
      encodeWatchOptions({
        resourceVersion: "7",
        allowWatchBookmarks: true,
        timeoutSeconds: 300,
        labelSelector: { app: "web" },
      }),
    ),
    [
      ["allowWatchBookmarks", "true"],
      ["labelSelector", "app=web"],
      ["resourceVersion", "7"],
      ["timeoutSeconds", "300"],
      ["watch", "true"],
    ],
  );
  assert.deepEqual(
    sorted(encodeWatchOptions({ sendInitialEvents: true, resourceVersionMatch: "NotOlderThan" })),
    [
      ["resourceVersionMatch", "NotOlderThan"],
      ["sendInitialEvents", "true"],
      ["watch", "true"],
    ],
  );
  assert.deepEqual(
    encodeWatchOptions({ sendInitialEvents: false, resourceVersionMatch: "NotOlderThan" }).at(-1),
    ["sendInitialEvents", "false"],
  );
  throwsBuild(
    () => encodeWatchOptions({ sendInitialEvents: true }),
    "options.resourceVersionMatch",
    /"NotOlderThan" when sendInitialEvents/,
  );
  throwsBuild(
    () => encodeWatchOptions({ resourceVersionMatch: "NotOlderThan" }),
    "options.resourceVersionMatch",
    /only together with sendInitialEvents/,
  );
  throwsBuild(
    () => encodeWatchOptions({ resourceVersionMatch: "Exact" as never, sendInitialEvents: true }),
    "options.resourceVersionMatch",
    /"NotOlderThan"/,
  );
  throwsBuild(
    () => encodeWatchOptions({ allowWatchBookmarks: "yes" as never }),
    "options.allowWatchBookmarks",
  );
});

test("selectors: strings are validated and sent as written, objects in canonical form", () => {
  assert.deepEqual(encodeListOptions({ labelSelector: "b=1 , a" }), [["labelSelector", "b=1 , a"]]);
  assert.deepEqual(encodeListOptions({ labelSelector: { b: "1", a: { exists: true } } }), [
    ["labelSelector", "a,b=1"],
  ]);
  assert.deepEqual(encodeListOptions({ labelSelector: parseLabelSelector("b=1 , a") }), [
    ["labelSelector", "a,b=1"],
  ]);
  assert.deepEqual(encodeListOptions({ fieldSelector: { "metadata.name": "a,b" } }), [
    ["fieldSelector", "metadata.name=a\\,b"],
  ]);
  throwsBuild(
    () => encodeListOptions({ labelSelector: "a in b" }),
    "options.labelSelector",
    /expected '\('/,
  );
  throwsBuild(
    () => encodeListOptions({ fieldSelector: "nope" }),
    "options.fieldSelector",
    /has no '='/,
  );
  throwsBuild(
    () => encodeListOptions({ labelSelector: labelSelectorFromMeta(undefined) }),
    "options.labelSelector",
    /matches nothing/,
  );
  throwsBuild(
    () => encodeDeleteCollectionOptions({ labelSelector: labelSelectorFromMeta(null) }),
    "options.labelSelector",
    /matches nothing/,
  );
});

test("get options", () => {
  assert.deepEqual(encodeGetOptions({ resourceVersion: "0" }), [["resourceVersion", "0"]]);
  assert.deepEqual(encodeGetOptions({}), []);
  throwsBuild(
    () => encodeGetOptions({ limit: 1 } as never),
    "options.limit",
    /does not apply to get/,
  );
});

test("create and update options: dryRun, fieldManager, fieldValidation", () => {
  assert.deepEqual(
    encodeCreateOptions({ dryRun: "All", fieldManager: "kubekit", fieldValidation: "Strict" }),
    [
      ["dryRun", "All"],
      ["fieldManager", "kubekit"],
      ["fieldValidation", "Strict"],
    ],
  );
  assert.deepEqual(encodeUpdateOptions({ fieldValidation: "Warn" }), [["fieldValidation", "Warn"]]);
  throwsBuild(() => encodeCreateOptions({ dryRun: "all" as never }), "options.dryRun", /"All"/);
  throwsBuild(() => encodeCreateOptions({ dryRun: true as never }), "options.dryRun");
  throwsBuild(
    () => encodeUpdateOptions({ fieldValidation: "strict" as never }),
    "options.fieldValidation",
    /"Ignore" or "Warn" or "Strict"/,
  );
  throwsBuild(
    () => encodeCreateOptions({ force: true } as never),
    "options.force",
    /apply patches/,
  );
  throwsBuild(
    () => encodeUpdateOptions({ gracePeriodSeconds: 1 } as never),
    "options.gracePeriodSeconds",
  );
});

test("a field manager is at most 128 bytes of printable characters", () => {
  assert.doesNotThrow(() => encodeCreateOptions({ fieldManager: "x".repeat(128) }));
  assert.doesNotThrow(() => encodeCreateOptions({ fieldManager: "é".repeat(64) }), "128 bytes");
  assert.doesNotThrow(() => encodeCreateOptions({ fieldManager: "my controller ü 😀" }));
  throwsBuild(
    () => encodeCreateOptions({ fieldManager: "x".repeat(129) }),
    "options.fieldManager",
    /128/,
  );
  throwsBuild(
    () => encodeCreateOptions({ fieldManager: "é".repeat(65) }),
    "options.fieldManager",
    /128/,
  );
  throwsBuild(
    () => encodeCreateOptions({ fieldManager: "a\tb" }),
    "options.fieldManager",
    /U\+0009 at offset 1/,
  );
  throwsBuild(
    () => encodeCreateOptions({ fieldManager: "a\u200bb" }),
    "options.fieldManager",
    /U\+200B/,
  );
});

test("patch options: force only for apply, and apply needs a field manager", () => {
  assert.deepEqual(encodePatchOptions({ fieldManager: "me", force: true }, PatchType.apply), [
    ["fieldManager", "me"],
    ["force", "true"],
  ]);
  assert.deepEqual(encodePatchOptions({ fieldManager: "me", force: false }, PatchType.applyCbor), [
    ["fieldManager", "me"],
    ["force", "false"],
  ]);
  assert.deepEqual(encodePatchOptions({ dryRun: "All" }, PatchType.merge), [["dryRun", "All"]]);
  throwsBuild(
    () => encodePatchOptions({}, PatchType.apply),
    "options.fieldManager",
    /required for apply/,
  );
  throwsBuild(() => encodePatchOptions(undefined, PatchType.apply), "options.fieldManager");
  throwsBuild(
    () => encodePatchOptions({ force: false }, PatchType.strategicMerge),
    "options.force",
    /does not apply to a patch of type application\/strategic-merge-patch\+json/,
  );
  throwsBuild(
    () => encodePatchOptions({}, "application/json" as never),
    "contentType",
    /not a patch type/,
  );
  assert.ok(isApplyPatch(PatchType.apply) && isApplyPatch(PatchType.applyCbor));
  assert.ok(!isApplyPatch(PatchType.merge));
});

test("delete options become a meta/v1 DeleteOptions body", () => {
  assert.equal(encodeDeleteOptions(undefined), '{"kind":"DeleteOptions","apiVersion":"v1"}');
  assert.deepEqual(
    JSON.parse(
      encodeDeleteOptions({
        gracePeriodSeconds: 0,
        propagationPolicy: "Foreground",
        preconditions: { uid: "u-1", resourceVersion: "9" },
        dryRun: "All",
      }),
    ),
    {
      kind: "DeleteOptions",
      apiVersion: "v1",
      gracePeriodSeconds: 0,
      propagationPolicy: "Foreground",
      preconditions: { uid: "u-1", resourceVersion: "9" },
      dryRun: ["All"],
    },
  );
  assert.deepEqual(
    JSON.parse(encodeDeleteOptions({ ignoreStoreReadErrorWithClusterBreakingPotential: true }))
      .ignoreStoreReadErrorWithClusterBreakingPotential,
    true,
  );
});

test("delete options are validated", () => {
  throwsBuild(
    () => encodeDeleteOptions({ gracePeriodSeconds: -1 }),
    "options.gracePeriodSeconds",
    /non-negative.*use 1/,
  );
  throwsBuild(
    () => encodeDeleteOptions({ propagationPolicy: "Cascade" as never }),
    "options.propagationPolicy",
    /"Orphan" or "Background" or "Foreground"/,
  );
  throwsBuild(() => encodeDeleteOptions({ preconditions: "u" as never }), "options.preconditions");
  throwsBuild(
    () => encodeDeleteOptions({ preconditions: { uid: 1 as never } }),
    "options.preconditions.uid",
    /string/,
  );
  throwsBuild(
    () =>
      encodeDeleteOptions({
        ignoreStoreReadErrorWithClusterBreakingPotential: true,
        propagationPolicy: "Orphan",
      }),
    "options.ignoreStoreReadErrorWithClusterBreakingPotential",
    /propagationPolicy/,
  );
  throwsBuild(
    () => encodeDeleteOptions({ labelSelector: "a" } as never),
    "options.labelSelector",
    /delete/,
  );
});

test("deletecollection: list options in the query, delete options in the body", () => {
  const { query, body } = encodeDeleteCollectionOptions({
    labelSelector: { app: "web" },
    propagationPolicy: "Background",
    limit: 10,
  });
  assert.deepEqual(query, [
    ["labelSelector", "app=web"],
    ["limit", "10"],
  ]);
  assert.deepEqual(JSON.parse(body), {
    kind: "DeleteOptions",
    apiVersion: "v1",
    propagationPolicy: "Background",
  });
  throwsBuild(
    () => encodeDeleteCollectionOptions({ fieldManager: "me" } as never),
    "options.fieldManager",
  );
});
