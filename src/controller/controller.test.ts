import assert from "node:assert/strict";
import { test } from "node:test";
import { Channel, FakeSource, list, type Obj, obj, tick } from "../cache/fakes.test.ts";
import { SharedIndexInformer } from "../cache/informer.ts";
import type { WatchEvent } from "../rest/watch.ts";
import { itemExponentialFailureRateLimiter } from "../workqueue/rate-limiters.ts";
import { Controller, controllerOwnerKey, type ObjectKey } from "./controller.ts";

function informerWith(items: Obj[]) {
  const src = new FakeSource();
  src.lists.push(list("1", items));
  const w = new Channel<WatchEvent<Obj>>();
  src.addStream(w);
  return { informer: new SharedIndexInformer<Obj>(src, { streamingList: "never" }), w };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("every object is reconciled; one key never runs twice at once; changes while running reconcile again", async () => {
  const { informer, w } = informerWith([obj("a", 1), obj("b", 2)]);
  const running = new Set<string>();
  const log: string[] = [];
  let overlap = false;
  const controller = new Controller({
    for: informer,
    workers: 4,
    reconcile: async (k: ObjectKey) => {
      const id = `${k.namespace}/${k.name}`;
      if (running.has(id)) overlap = true;
      running.add(id);
      log.push(id);
      await sleep(30);
      running.delete(id);
    },
  });
  const ac = new AbortController();
  const runs = [informer.run({ signal: ac.signal }), controller.run({ signal: ac.signal })];
  await sleep(10);
  w.push({ type: "MODIFIED", object: obj("a", 3) });
  w.push({ type: "MODIFIED", object: obj("a", 4) });
  await sleep(150);
  ac.abort();
  await Promise.all(runs);
  assert.equal(overlap, false);
  assert.deepEqual(log.filter((k) => k === "ns/b").length, 1);
  const a = log.filter((k) => k === "ns/a").length;
  assert.ok(
    a === 2,
    `a was reconciled ${a} times: once, then once more for the changes made meanwhile`,
  );
});

test("a failing reconcile is retried with backoff, then forgotten on success; requeueAfter runs it again", async () => {
  const { informer } = informerWith([obj("a", 1)]);
  const attempts: number[] = [];
  const errors: string[] = [];
  const controller = new Controller({
    for: informer,
    rateLimiter: itemExponentialFailureRateLimiter(5, 100),
    onError: (e) => errors.push((e as Error).message),
    reconcile: async (_k, { attempt }) => {
      attempts.push(attempt);
      if (attempts.length < 3) throw new Error(`fail ${attempts.length}`);
      if (attempts.length === 3) return { requeueAfterMs: 20 };
      return undefined;
    },
  });
  const ac = new AbortController();
  const runs = [informer.run({ signal: ac.signal }), controller.run({ signal: ac.signal })];
  await sleep(200);
  ac.abort();
  await Promise.all(runs);
  assert.deepEqual(errors, ["fail 1", "fail 2"]);
  assert.deepEqual(attempts, [1, 2, 3, 1], "attempt counts reset after a success");
});

test("owned objects reconcile their controller owner", async () => {
  const { informer: owners } = informerWith([obj("parent", 1)]);
  const owned = informerWith([]);
  const seen: string[] = [];
  const controller = new Controller({
    for: owners,
    owns: [{ informer: owned.informer, ownerKind: "Thing" }],
    reconcile: async (k) => {
      seen.push(k.name);
    },
  });
  const ac = new AbortController();
  const runs = [
    owners.run({ signal: ac.signal }),
    owned.informer.run({ signal: ac.signal }),
    controller.run({ signal: ac.signal }),
  ];
  await sleep(20);
  const child = obj("child", 5, {});
  child.metadata = {
    ...child.metadata,
    ownerReferences: [
      { apiVersion: "x/v1", kind: "Thing", name: "parent", uid: "u", controller: true },
    ],
  } as Obj["metadata"];
  owned.w.push({ type: "ADDED", object: child });
  await sleep(50);
  ac.abort();
  await Promise.all(runs);
  assert.deepEqual(seen, ["parent", "parent"]);
  assert.deepEqual(controllerOwnerKey(child, "Thing"), { namespace: "ns", name: "parent" });
  assert.equal(controllerOwnerKey(child, "Other"), undefined);
});

test("shutdown lets in-flight reconciles finish, starts no new ones, and forces only after the grace period", async () => {
  const { informer } = informerWith([obj("a", 1), obj("b", 2), obj("c", 3)]);
  const finished: string[] = [];
  let forced = false;
  const controller = new Controller({
    for: informer,
    workers: 1,
    shutdownGraceMs: 1000,
    reconcile: async (k, { signal }) => {
      signal.addEventListener("abort", () => {
        forced = true;
      });
      await sleep(80);
      finished.push(k.name);
    },
  });
  const ac = new AbortController();
  const runs = [informer.run({ signal: ac.signal }), controller.run({ signal: ac.signal })];
  await sleep(40);
  ac.abort();
  await Promise.all(runs);
  await tick();
  assert.deepEqual(finished, ["a"], "the one in flight finished; the queued ones never started");
  assert.equal(forced, false);
});
