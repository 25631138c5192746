import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualClock } from "../core/clock.ts";
import type { WatchEvent } from "../rest/watch.ts";
import { Channel, FakeSource, gone, list, type Obj, obj, tick } from "./fakes.test.ts";
import { SharedIndexInformer } from "./informer.ts";
import { Lister } from "./lister.ts";
import { DeletedFinalStateUnknown, Indexer } from "./store.ts";

function recorder() {
  const events: string[] = [];
  return {
    events,
    handler: {
      onAdd: (o: Obj, initial: boolean) => {
        events.push(
          `add ${o.metadata.name}@${o.metadata.resourceVersion}${initial ? " (initial)" : ""}`,
        );
      },
      onUpdate: (a: Obj, b: Obj) => {
        events.push(
          `update ${a.metadata.name}@${a.metadata.resourceVersion}->${b.metadata.resourceVersion}`,
        );
      },
      onDelete: (o: Obj | DeletedFinalStateUnknown<Obj>) => {
        events.push(
          o instanceof DeletedFinalStateUnknown
            ? `tombstone ${o.key}@${o.obj.metadata.resourceVersion}`
            : `delete ${o.metadata.name}`,
        );
      },
    },
  };
}

function start(_src: FakeSource, informer: SharedIndexInformer<Obj>) {
  const ac = new AbortController();
  const done = informer.run({ signal: ac.signal });
  return {
    stop: async () => {
      ac.abort();
      await done;
    },
  };
}

test("adds, updates and deletes reach handlers in order; the cache follows; hasSynced after the list", async () => {
  const src = new FakeSource();
  src.lists.push(list("10", [obj("a", 1), obj("b", 2)]));
  const w = new Channel<WatchEvent<Obj>>();
  src.addStream(w);
  const informer = new SharedIndexInformer<Obj>(src, { streamingList: "never" });
  const r = recorder();
  const reg = informer.addEventHandler(r.handler);
  assert.equal(informer.hasSynced(), false);
  const run = start(src, informer);
  assert.equal(await informer.waitForSync(), true);
  await tick();
  assert.ok(reg.hasSynced());
  w.push({ type: "MODIFIED", object: obj("a", 11) });
  w.push({ type: "ADDED", object: obj("c", 12) });
  w.push({ type: "DELETED", object: obj("b", 13) });
  await tick();
  assert.deepEqual(r.events, [
    "add a@1 (initial)",
    "add b@2 (initial)",
    "update a@1->11",
    "add c@12",
    "delete b",
  ]);
  assert.deepEqual(informer.indexer.listKeys().sort(), ["ns/a", "ns/c"]);
  assert.equal(informer.lastSyncResourceVersion(), "13");
  await run.stop();
  assert.ok(informer.isStopped);
});

test("a delete missed while disconnected arrives as a tombstone with the last known state", async () => {
  const src = new FakeSource();
  src.lists.push(list("10", [obj("a", 1), obj("b", 2)]));
  const w = new Channel<WatchEvent<Obj>>();
  src.addStream(w);
  const informer = new SharedIndexInformer<Obj>(src, { streamingList: "never" });
  const r = recorder();
  informer.addEventHandler(r.handler);
  const run = start(src, informer);
  await tick();
  w.push({ type: "MODIFIED", object: obj("b", 5) });
  await tick();
  // The watch dies with 410; meanwhile b was deleted and a changed.
  src.lists.push(list("30", [obj("a", 20), obj("d", 21)]));
  src.addStream(new Channel<WatchEvent<Obj>>());
  w.fail(gone());
  await tick(6);
  assert.deepEqual(r.events, [
    "add a@1 (initial)",
    "add b@2 (initial)",
    "update b@2->5",
    "tombstone ns/b@5",
    "update a@1->20",
    "add d@21",
  ]);
  assert.deepEqual(informer.indexer.listKeys().sort(), ["ns/a", "ns/d"]);
  await run.stop();
});

test("a handler added late first gets the cache as initial adds; a slow handler delays only itself", async () => {
  const src = new FakeSource();
  src.lists.push(list("1", [obj("a", 1)]));
  const w = new Channel<WatchEvent<Obj>>();
  src.addStream(w);
  const informer = new SharedIndexInformer<Obj>(src, { streamingList: "never" });
  const fast = recorder();
  informer.addEventHandler(fast.handler);
  const run = start(src, informer);
  await informer.waitForSync();
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const slowSeen: string[] = [];
  const late = informer.addEventHandler({
    onAdd: async (o, initial) => {
      slowSeen.push(`add ${o.metadata.name}${initial ? " (initial)" : ""}`);
      await gate;
    },
    onUpdate: (_a, b) => {
      slowSeen.push(`update ${b.metadata.name}@${b.metadata.resourceVersion}`);
    },
  });
  assert.equal(late.hasSynced(), false, "its initial add is still being handled");
  w.push({ type: "MODIFIED", object: obj("a", 2) });
  w.push({ type: "MODIFIED", object: obj("a", 3) });
  await tick();
  assert.deepEqual(
    fast.events,
    ["add a@1 (initial)", "update a@1->2", "update a@2->3"],
    "the fast handler is not held up",
  );
  assert.deepEqual(slowSeen, ["add a (initial)"]);
  release();
  await tick();
  assert.deepEqual(
    slowSeen,
    ["add a (initial)", "update a@2", "update a@3"],
    "in order, after the slow one",
  );
  assert.equal(late.hasSynced(), true);
  late.remove();
  w.push({ type: "MODIFIED", object: obj("a", 4) });
  await tick();
  assert.equal(slowSeen.length, 3, "a removed handler hears nothing more");
  await run.stop();
});

test("resync delivers update(o, o) to the handlers that asked, on their own period", async () => {
  const clock = new ManualClock();
  const src = new FakeSource();
  src.lists.push(list("1", [obj("a", 1)]));
  src.addStream(new Channel<WatchEvent<Obj>>());
  const informer = new SharedIndexInformer<Obj>(src, { streamingList: "never", clock });
  const every5 = recorder();
  const never = recorder();
  informer.addEventHandler(every5.handler, { resyncMs: 5000 });
  informer.addEventHandler(never.handler);
  const run = start(src, informer);
  await informer.waitForSync();
  await clock.advance(5000);
  await tick();
  await clock.advance(5000);
  await tick();
  assert.deepEqual(every5.events, ["add a@1 (initial)", "update a@1->1", "update a@1->1"]);
  assert.deepEqual(never.events, ["add a@1 (initial)"]);
  await run.stop();
  assert.equal(clock.pending, 0, "no timer left after stop");
});

test("the transform runs before objects enter the cache; a throwing handler does not stop others", async () => {
  const src = new FakeSource();
  src.lists.push(
    list("1", [
      {
        ...obj("a", 1),
        metadata: { ...obj("a", 1).metadata, managedFields: [{ manager: "x" }] },
      } as Obj,
    ]),
  );
  src.addStream(new Channel<WatchEvent<Obj>>());
  const informer = new SharedIndexInformer<Obj>(src, {
    streamingList: "never",
    transform: (o) => {
      delete (o.metadata as { managedFields?: unknown }).managedFields;
      return o;
    },
  });
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on("warning", onWarning);
  informer.addEventHandler({
    onAdd: () => {
      throw new Error("boom");
    },
  });
  const r = recorder();
  informer.addEventHandler(r.handler);
  const run = start(src, informer);
  await informer.waitForSync();
  await tick(6);
  process.off("warning", onWarning);
  assert.equal(
    (informer.indexer.getByKey("ns/a")!.metadata as { managedFields?: unknown }).managedFields,
    undefined,
  );
  assert.deepEqual(r.events, ["add a@1 (initial)"]);
  assert.ok(warnings.some((w) => w.includes("boom")));
  await run.stop();
});

test("health reports a failing list and recovers", async () => {
  const clock = new ManualClock();
  const src = new FakeSource();
  src.lists.push(new Error("unreachable"), list("1", []));
  src.addStream(new Channel<WatchEvent<Obj>>());
  const informer = new SharedIndexInformer<Obj>(src, { streamingList: "never", clock });
  const run = start(src, informer);
  await tick();
  assert.equal(informer.health().healthy, false);
  assert.equal(informer.health().lastErrorPhase, "list");
  await clock.advance(2000);
  await tick();
  assert.equal(informer.health().healthy, true);
  assert.ok(informer.hasSynced());
  await run.stop();
});

test("waitForSync answers false when aborted first", async () => {
  const informer = new SharedIndexInformer<Obj>(new FakeSource());
  const ac = new AbortController();
  const p = informer.waitForSync({ signal: ac.signal });
  ac.abort();
  assert.equal(await p, false);
});

test("Indexer: namespace index, custom indexes, byIndex, replace; Lister filters by namespace and labels", () => {
  const idx = new Indexer<Obj>({ indexers: { byApp: (o) => [o.metadata.labels?.app ?? ""] } });
  const mk = (ns: string, name: string, app: string): Obj => ({
    metadata: { name, namespace: ns, resourceVersion: "1", labels: { app } },
  });
  idx.add(mk("a", "x", "web"));
  idx.add(mk("a", "y", "db"));
  idx.add(mk("b", "z", "web"));
  assert.deepEqual(idx.indexKeys("namespace", "a").sort(), ["a/x", "a/y"]);
  assert.deepEqual(
    idx
      .byIndex("byApp", "web")
      .map((o) => o.metadata.name)
      .sort(),
    ["x", "z"],
  );
  idx.update(mk("a", "x", "db"));
  assert.deepEqual(
    idx.byIndex("byApp", "web").map((o) => o.metadata.name),
    ["z"],
  );
  assert.deepEqual(idx.listIndexFuncValues("byApp").sort(), ["db", "web"]);
  idx.delete(new DeletedFinalStateUnknown("b/z", mk("b", "z", "web")));
  assert.deepEqual(idx.listIndexFuncValues("byApp"), ["db"]);
  const lister = new Lister(idx);
  assert.equal(lister.namespace("a").list().length, 2);
  assert.deepEqual(
    lister
      .namespace("a")
      .list("app=db")
      .map((o) => o.metadata.name)
      .sort(),
    ["x", "y"],
  );
  assert.equal(lister.namespace("a").get("y")?.metadata.name, "y");
  assert.equal(lister.get("y"), undefined, "a cluster-wide lister needs the namespace in the key");
  idx.replace([mk("c", "q", "web")]);
  assert.deepEqual(idx.listKeys(), ["c/q"]);
  assert.deepEqual(idx.indexKeys("namespace", "a"), []);
  assert.throws(() => idx.byIndex("nope", "x"), /does not exist/);
  assert.throws(() => idx.addIndexers({ byApp: () => [] }), /already exists/);
});
