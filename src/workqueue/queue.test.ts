import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualClock } from "../core/clock.ts";
import { Queue } from "./queue.ts";

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Settles-or-not probe for a promise, without awaiting it forever. */
function track<T>(p: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  p.then(
    (value) => {
      state.settled = true;
      state.value = value;
    },
    (error) => {
      state.settled = true;
      state.error = error;
    },
  );
  return state;
}

test("keys come out first in, first out, and a key added while queued is queued once", async () => {
  const q = new Queue();
  q.add("a");
  q.add("b");
  q.add("a");
  q.add("c");
  q.add("b");
  assert.equal(q.len, 3);
  assert.equal(await q.get(), "a");
  assert.equal(await q.get(), "b");
  assert.equal(await q.get(), "c");
  assert.equal(q.len, 0);
});

test("a key added while being processed is queued again only after done, at the back", async () => {
  const q = new Queue();
  q.add("a");
  assert.equal(await q.get(), "a");
  q.add("a"); // dirty while processing
  q.add("a"); // still once
  q.add("b");
  assert.equal(q.len, 1);
  assert.equal(await q.get(), "b");
  const next = track(q.get());
  await flush();
  assert.equal(next.settled, false, "a must not be handed out while it is processed");
  q.done("a");
  await flush();
  assert.equal(next.value, "a");
  q.done("a");
  q.done("b");
  assert.equal(q.len, 0);
});

test("a key done without being re-added is not queued again; done of an idle key is ignored", async () => {
  const q = new Queue();
  q.done("ghost");
  q.add("a");
  const a = await q.get();
  q.done(a!);
  q.done(a!);
  assert.equal(q.len, 0);
  q.add("a");
  q.add("a");
  assert.equal(q.len, 1);
});

test("waiting workers are served in the order they asked", async () => {
  const q = new Queue();
  const first = track(q.get());
  const second = track(q.get());
  q.add("x");
  await flush();
  assert.equal(first.value, "x");
  assert.equal(second.settled, false);
  q.add("y");
  await flush();
  assert.equal(second.value, "y");
});

test("an aborted get rejects with the reason and takes no key", async () => {
  const q = new Queue();
  const ac = new AbortController();
  const aborted = q.get({ signal: ac.signal });
  const other = track(q.get());
  const reason = new Error("stop");
  ac.abort(reason);
  await assert.rejects(aborted, (e) => e === reason);
  q.add("k");
  await flush();
  assert.equal(other.value, "k");
  await assert.rejects(q.get({ signal: AbortSignal.abort(reason) }), (e) => e === reason);
});

test("keys are compared by Map semantics: objects by identity", async () => {
  const q = new Queue<{ id: number }>();
  const a = { id: 1 };
  q.add(a);
  q.add(a);
  q.add({ id: 1 });
  assert.equal(q.len, 2);
  assert.equal(await q.get(), a);
});

test("several workers never process one key at the same time, and every add is processed", async () => {
  const clock = new ManualClock();
  const q = new Queue<number>({ clock });
  const inFlight = new Set<number>();
  const processed = new Map<number, number>();
  let overlap = 0;
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const worker = async () => {
    for (;;) {
      const key = await q.get();
      if (key === undefined) return;
      if (inFlight.has(key)) overlap++;
      inFlight.add(key);
      await clock.sleep(1 + rand(20));
      inFlight.delete(key);
      processed.set(key, (processed.get(key) ?? 0) + 1);
      q.done(key);
    }
  };
  const workers = Array.from({ length: 5 }, worker);
  for (let round = 0; round < 200; round++) {
    q.add(rand(4)); // few keys, many adds: lots of re-adds while processing
    await clock.advance(rand(5));
  }
  await clock.advance(100);
  const last = new Map([...processed]);
  for (const k of [0, 1, 2, 3]) q.add(k);
  await clock.advance(100);
  void q.shutdown();
  await Promise.all(workers);
  assert.equal(overlap, 0);
  for (const k of [0, 1, 2, 3]) {
    assert.ok((processed.get(k) ?? 0) > (last.get(k) ?? 0), `key ${k} processed after its add`);
  }
});

test("shutdown: adds are ignored, workers drain what is queued, then get resolves undefined", async () => {
  const q = new Queue();
  const idle = track(q.get());
  q.add("taken");
  await flush();
  assert.equal(idle.value, "taken");
  q.add("a");
  q.add("b");
  const waiting = track(new Queue().get()); // another queue: unaffected
  await q.shutdown();
  assert.equal(q.shuttingDown, true);
  q.add("c");
  assert.equal(q.len, 2);
  assert.equal(await q.get(), "a");
  assert.equal(await q.get(), "b");
  assert.equal(await q.get(), undefined);
  assert.equal(await q.get(), undefined);
  await flush();
  assert.equal(waiting.settled, false);
});

test("shutdown wakes idle workers with undefined", async () => {
  const q = new Queue();
  const gets = [track(q.get()), track(q.get())];
  void q.shutdown();
  await flush();
  assert.deepEqual(
    gets.map((g) => [g.settled, g.value]),
    [
      [true, undefined],
      [true, undefined],
    ],
  );
});

test("a key re-added during processing is still handed out after shutdown, when done", async () => {
  const q = new Queue();
  q.add("a");
  await q.get();
  q.add("a");
  void q.shutdown();
  assert.equal(q.len, 0);
  q.done("a");
  assert.equal(await q.get(), "a");
  assert.equal(await q.get(), undefined);
});

test("shutdown({ drain: true }) resolves once every key being processed is done", async () => {
  const q = new Queue();
  q.add("a");
  q.add("b");
  q.add("c");
  await q.get();
  await q.get();
  const drained = track(q.shutdown({ drain: true }));
  await flush();
  assert.equal(drained.settled, false);
  q.done("a");
  await flush();
  assert.equal(drained.settled, false);
  q.done("b");
  await flush();
  assert.equal(drained.settled, true);
  assert.equal(drained.error, undefined);
  // "c" was queued, not in flight: the drain does not wait for it, but workers still get it.
  assert.equal(await q.get(), "c");
});

test("a drain with nothing in flight resolves at once", async () => {
  const q = new Queue();
  q.add("queued");
  await q.shutdown({ drain: true });
});

test("a plain shutdown ends a drain that is waiting; a signal ends it with the reason", async () => {
  const q = new Queue();
  q.add("a");
  await q.get();
  const drained = track(q.shutdown({ drain: true }));
  await flush();
  assert.equal(drained.settled, false);
  await q.shutdown();
  await flush();
  assert.equal(drained.settled, true);

  const q2 = new Queue();
  q2.add("a");
  await q2.get();
  const ac = new AbortController();
  const p = q2.shutdown({ drain: true, signal: ac.signal });
  const reason = new Error("too slow");
  ac.abort(reason);
  await assert.rejects(p, (e) => e === reason);
});

test("for await: each key is marked done when the loop moves on", async () => {
  const q = new Queue();
  q.add("a");
  q.add("b");
  const seen: string[] = [];
  const loop = (async () => {
    for await (const key of q) {
      seen.push(key);
      if (seen.length === 1) {
        q.add("a"); // re-added while processing: must come back once this iteration ends
      }
    }
  })();
  await flush();
  void q.shutdown({ drain: true });
  await loop;
  assert.deepEqual(seen, ["a", "b", "a"]);
});

test("for await: a throwing body or a break does not leave the key being processed", async () => {
  const q = new Queue();
  q.add("boom");
  await assert.rejects(
    (async () => {
      for await (const key of q) {
        throw new Error(`failed ${key}`);
      }
    })(),
    /failed boom/,
  );
  q.add("boom");
  assert.equal(q.len, 1, "the key was marked done, so a new add queues it");
  for await (const key of q) {
    assert.equal(key, "boom");
    break;
  }
  q.add("boom");
  assert.equal(q.len, 1);
  await q.shutdown({ drain: true });
});

test("for await: an explicit done in the body is honoured and not repeated later", async () => {
  const q = new Queue();
  q.add("k");
  const a = q.iterate();
  const first = await a.next();
  assert.equal(first.value, "k");
  q.done("k"); // worker A releases early
  q.add("k");
  assert.equal(await q.get(), "k"); // worker B now holds "k"
  q.add("k"); // dirty while B processes it
  const next = track(a.next()); // A moves on: must not mark B's hand-out done
  await flush();
  assert.equal(next.settled, false, "k stays held by B; A waits");
  q.done("k"); // B finishes: k is queued again, and A (waiting) receives it
  await flush();
  assert.deepEqual(next.value, { value: "k", done: false });
  await a.return();
  await q.shutdown({ drain: true });
});

test("for await: several concurrent loops share the keys and end at shutdown", async () => {
  const clock = new ManualClock();
  const q = new Queue<number>({ clock });
  const byWorker: number[][] = [[], [], []];
  const loops = byWorker.map(async (mine) => {
    for await (const key of q) {
      mine.push(key);
      await clock.sleep(10);
    }
  });
  for (let i = 0; i < 9; i++) q.add(i);
  await clock.advance(5);
  assert.deepEqual(
    byWorker.map((w) => w.length),
    [1, 1, 1],
  );
  await clock.advance(100);
  const drained = q.shutdown({ drain: true });
  await clock.advance(10);
  await drained;
  await Promise.all(loops);
  assert.deepEqual(byWorker.flat().sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(clock.pending, 0);
});

test("iterate({ signal }) throws the reason when aborted while waiting", async () => {
  const q = new Queue();
  const ac = new AbortController();
  const reason = new Error("worker stopped");
  const loop = (async () => {
    for await (const _ of q.iterate({ signal: ac.signal })) {
      // nothing arrives
    }
  })();
  await flush();
  ac.abort(reason);
  await assert.rejects(loop, (e) => e === reason);
  q.add("later");
  assert.equal(await q.get(), "later", "the aborted loop took nothing");
});

test("an unnamed queue starts no timer", () => {
  const clock = new ManualClock();
  const q = new Queue({ clock });
  q.add("a");
  assert.equal(clock.pending, 0);
});
