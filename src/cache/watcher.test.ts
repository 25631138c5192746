import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualClock } from "../core/clock.ts";
import { ApiError } from "../core/errors.ts";
import type { WatchEvent } from "../rest/watch.ts";
import { Channel, FakeSource, gone, list, type Obj, obj, tick } from "./fakes.test.ts";
import { INITIAL_EVENTS_END, type WatcherEvent, type WatcherPhase, watcher } from "./watcher.ts";

function describe(e: WatcherEvent<Obj>): string {
  switch (e.type) {
    case "init":
      return "init";
    case "initDone":
      return `initDone@${e.resourceVersion}`;
    default:
      return `${e.type} ${e.object.metadata.name}@${e.object.metadata.resourceVersion}`;
  }
}

/** Runs a watcher in the background, collecting what it yields. */
function run(src: FakeSource, opts: Parameters<typeof watcher>[1] = {}) {
  const ac = new AbortController();
  const seen: string[] = [];
  const errors: [string, WatcherPhase][] = [];
  const done = (async () => {
    for await (const e of watcher(src, {
      streamingList: "never",
      random: () => 0,
      ...opts,
      signal: ac.signal,
      onError: (err, phase) => errors.push([(err as Error).message, phase]),
    })) {
      seen.push(describe(e));
    }
  })();
  return { ac, seen, errors, done };
}

test("lists in pages, then watches from the list's resourceVersion with bookmarks", async () => {
  const src = new FakeSource();
  src.lists.push(list("10", [obj("a", 5)], "tok"), list("10", [obj("b", 6)]));
  const w = new Channel<WatchEvent<Obj>>();
  src.addStream(w);
  const r = run(src, { pageSize: 1, labelSelector: "app=x" });
  await tick();
  w.push({ type: "ADDED", object: obj("c", 11) });
  w.push({ type: "MODIFIED", object: obj("a", 12) });
  w.push({ type: "BOOKMARK", object: obj("", 15) });
  w.push({ type: "DELETED", object: obj("b", 16) });
  await tick();
  assert.deepEqual(r.seen, [
    "init",
    "initApply a@5",
    "initApply b@6",
    "initDone@10",
    "apply c@11",
    "apply a@12",
    "delete b@16",
  ]);
  assert.deepEqual(
    src.listCalls.map((c) => [c.limit, c.continue, c.labelSelector]),
    [
      [1, undefined, "app=x"],
      [1, "tok", "app=x"],
    ],
  );
  assert.equal(src.watchCalls[0]?.resourceVersion, "10");
  assert.equal(src.watchCalls[0]?.allowWatchBookmarks, true);
  const t = src.watchCalls[0]!.timeoutSeconds!;
  assert.ok(t >= 300 && t <= 600, `timeoutSeconds ${t} in [300, 600]`);
  // A watch that ends cleanly is resumed from the last resourceVersion seen (the bookmark's or later).
  const w2 = new Channel<WatchEvent<Obj>>();
  src.addStream(w2);
  w.end();
  await tick();
  assert.equal(src.watchCalls[1]?.resourceVersion, "16");
  r.ac.abort();
  await r.done;
  assert.ok(w2.closed, "abort closed the open watch");
});

test("410 Gone during the watch relists at once; a partial list is restarted with a new init", async () => {
  const clock = new ManualClock();
  const src = new FakeSource();
  src.lists.push(list("10", [obj("a", 5)]));
  const w = new Channel<WatchEvent<Obj>>();
  src.addStream(w);
  const r = run(src, { clock });
  await tick();
  src.lists.push(
    list("20", [obj("a", 18)], "t2"),
    new Error("connection reset"),
    list("21", [obj("a", 18), obj("d", 19)]),
  );
  src.addStream(new Channel<WatchEvent<Obj>>());
  w.fail(gone());
  await tick();
  // Second list: first page ok, then the second page failed (list error, backoff).
  assert.deepEqual(
    r.errors.map((e) => e[1]),
    ["watchStart", "list"],
  );
  await clock.advance(800);
  await tick();
  assert.deepEqual(r.seen, [
    "init",
    "initApply a@5",
    "initDone@10",
    "init",
    "initApply a@18",
    "init",
    "initApply a@18",
    "initApply d@19",
    "initDone@21",
  ]);
  assert.equal(src.listCalls[1]?.continue, undefined, "relists start from scratch");
  r.ac.abort();
  await r.done;
});

test("transient failures back off as client-go's reflector: 800 ms doubling, reset after quiet", async () => {
  const clock = new ManualClock();
  const src = new FakeSource();
  src.lists.push(new Error("down"), new Error("down"), new Error("down"), list("1", []));
  src.addStream(new Channel<WatchEvent<Obj>>());
  const r = run(src, { clock });
  await tick();
  assert.equal(src.listCalls.length, 1);
  await clock.advance(799);
  assert.equal(src.listCalls.length, 1);
  await clock.advance(1);
  assert.equal(src.listCalls.length, 2);
  await clock.advance(1600);
  assert.equal(src.listCalls.length, 3);
  await clock.advance(3200);
  await tick();
  assert.equal(src.listCalls.length, 4);
  assert.deepEqual(r.seen.at(-1), "initDone@1");
  assert.deepEqual(r.errors, [
    ["down", "list"],
    ["down", "list"],
    ["down", "list"],
  ]);
  r.ac.abort();
  await r.done;
  assert.equal(clock.pending, 0, "no timer left");
});

test("a watch refused at start with 429 or a network error re-watches from the same resourceVersion", async () => {
  const clock = new ManualClock();
  const src = new FakeSource();
  src.lists.push(list("7", []));
  src.addStream(new ApiError({ kind: "Status", code: 429, reason: "TooManyRequests" }));
  src.addStream(new Error("ECONNREFUSED"));
  src.addStream(new Channel<WatchEvent<Obj>>());
  const r = run(src, { clock });
  await tick();
  await clock.advance(800);
  await clock.advance(1600);
  await tick();
  assert.deepEqual(
    src.watchCalls.map((c) => c.resourceVersion),
    ["7", "7", "7"],
  );
  assert.deepEqual(
    r.errors.map((e) => e[1]),
    ["watchStart", "watchStart"],
  );
  assert.equal(src.listCalls.length, 1, "no relist");
  r.ac.abort();
  await r.done;
});

test("streaming list: initial events end at the annotated bookmark, the same stream carries on", async () => {
  const src = new FakeSource();
  const w = new Channel<WatchEvent<Obj>>();
  src.addStream(w);
  const r = run(src, { streamingList: "auto" });
  w.push({ type: "ADDED", object: obj("a", 3) });
  w.push({ type: "ADDED", object: obj("b", 4) });
  w.push({
    type: "BOOKMARK",
    object: {
      metadata: { name: "", resourceVersion: "9", annotations: { [INITIAL_EVENTS_END]: "true" } },
    } as Obj,
  });
  w.push({ type: "MODIFIED", object: obj("a", 10) });
  await tick();
  assert.deepEqual(r.seen, ["init", "initApply a@3", "initApply b@4", "initDone@9", "apply a@10"]);
  assert.equal(src.watchCalls[0]?.sendInitialEvents, true);
  assert.equal(src.watchCalls[0]?.resourceVersionMatch, "NotOlderThan");
  assert.equal(src.listCalls.length, 0);
  r.ac.abort();
  await r.done;
});

test("a server that refuses streaming lists gets list+watch from then on", async () => {
  const src = new FakeSource();
  src.addStream(
    new ApiError({
      kind: "Status",
      code: 422,
      reason: "Invalid",
      message: "sendInitialEvents is forbidden",
    }),
  );
  src.lists.push(list("5", [obj("a", 5)]));
  src.addStream(new Channel<WatchEvent<Obj>>());
  const r = run(src, { streamingList: "auto" });
  await tick();
  assert.deepEqual(r.seen, ["init", "initApply a@5", "initDone@5"]);
  assert.equal(src.watchCalls[1]?.sendInitialEvents, undefined);
  assert.deepEqual(r.errors, [], "a refusal is not an error");
  r.ac.abort();
  await r.done;
});

test("break closes the watch; an error handler that throws does not stop the watcher", async () => {
  const src = new FakeSource();
  src.lists.push(new Error("x"), list("1", [obj("a", 1)]));
  const w = new Channel<WatchEvent<Obj>>();
  src.addStream(w);
  let errors = 0;
  const seen: string[] = [];
  for await (const e of watcher(src, {
    streamingList: "never",
    backoff: { initialMs: 1, jitter: 0 },
    onError: () => {
      errors++;
      throw new Error("handler bug");
    },
  })) {
    seen.push(describe(e));
    if (e.type === "initDone") w.push({ type: "ADDED", object: obj("b", 2) });
    if (e.type === "apply") break;
  }
  assert.equal(errors, 1);
  assert.deepEqual(seen, ["init", "init", "initApply a@1", "initDone@1", "apply b@2"]);
  assert.ok(w.closed);
});
