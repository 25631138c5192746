import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Event as EventsV1Event } from "../api/events/v1/index.ts";
import { ManualClock } from "../core/clock.ts";
import { ApiError, RequestBuildError, TransportError } from "../core/errors.ts";
import type { CallOptions } from "../rest/client.ts";
import {
  EventRecorder,
  type EventRecorderOptions,
  type EventSink,
  objectReference,
  toCoreEvent,
  truncateUtf8,
} from "./index.ts";

const apiError = (code: number, reason: string) =>
  new ApiError({
    apiVersion: "v1",
    kind: "Status",
    status: "Failure",
    code,
    reason,
    message: reason,
  });

interface Call {
  op: "create" | "updateSeries";
  at: number;
  name: string;
  count: number | undefined;
}

/** An in-memory Events API: create fails on an existing name, a series update on a missing one. */
class FakeSink implements EventSink {
  readonly apiVersion = "events.k8s.io/v1" as const;
  readonly store = new Map<string, EventsV1Event>();
  readonly calls: Call[] = [];
  readonly clock: ManualClock;
  /** Returns an error to throw, "hang" to wait for the abort, or undefined to succeed. */
  fault: ((op: Call["op"], event: EventsV1Event) => unknown) | undefined;

  constructor(clock: ManualClock) {
    this.clock = clock;
  }

  async #gate(op: Call["op"], event: EventsV1Event, options: CallOptions): Promise<void> {
    this.calls.push({
      op,
      at: this.clock.now(),
      name: event.metadata?.name ?? "",
      count: event.series?.count,
    });
    const f = this.fault?.(op, event);
    if (f === "hang") {
      await new Promise((_, reject) =>
        options.signal?.addEventListener("abort", () => reject(options.signal?.reason)),
      );
    }
    if (f !== undefined) throw f;
  }

  async create(event: EventsV1Event, options: CallOptions): Promise<unknown> {
    await this.#gate("create", event, options);
    const key = `${event.metadata?.namespace}/${event.metadata?.name}`;
    if (this.store.has(key)) throw apiError(409, "AlreadyExists");
    this.store.set(key, structuredClone(event));
    return event;
  }

  async updateSeries(event: EventsV1Event, options: CallOptions): Promise<unknown> {
    await this.#gate("updateSeries", event, options);
    const stored = this.store.get(`${event.metadata?.namespace}/${event.metadata?.name}`);
    if (!stored) throw apiError(404, "NotFound");
    stored.series = structuredClone(event.series);
    return stored;
  }

  events(): EventsV1Event[] {
    return [...this.store.values()];
  }
}

const pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web-0", namespace: "shop", uid: "u-1", resourceVersion: "7" },
};

function setup(options: Partial<EventRecorderOptions> = {}) {
  const clock = new ManualClock(Date.UTC(2030, 0, 1));
  const sink = new FakeSink(clock);
  const errors: unknown[] = [];
  const recorder = new EventRecorder(sink, {
    reportingController: "example.com/ctl",
    reportingInstance: "ctl-1",
    clock,
    random: () => 0.5,
    retryIntervalMs: 1_000,
    seriesUpdateIntervalMs: 10_000,
    onError: (e) => errors.push(e),
    ...options,
  });
  return { clock, sink, recorder, errors };
}

const normal = { type: "Normal", reason: "Synced", action: "Sync", note: "ok" } as const;

describe("EventRecorder", () => {
  test("validates its options and each event's type, reason, action and object", () => {
    const sink = new FakeSink(new ManualClock());
    const make = (o: Partial<EventRecorderOptions>) =>
      new EventRecorder(sink, {
        reportingController: "example.com/c",
        reportingInstance: "i",
        ...o,
      });
    assert.throws(() => make({ reportingController: "" }), RequestBuildError);
    assert.throws(() => make({ reportingController: "not a name!" }), RequestBuildError);
    assert.throws(() => make({ reportingInstance: "" }), RequestBuildError);
    assert.throws(() => make({ reportingInstance: "x".repeat(129) }), RequestBuildError);
    const r = make({});
    assert.throws(() => r.event(pod, { ...normal, type: "Info" as "Normal" }), RequestBuildError);
    assert.throws(() => r.event(pod, { ...normal, reason: "" }), RequestBuildError);
    assert.throws(() => r.event(pod, { ...normal, action: "x".repeat(129) }), RequestBuildError);
    assert.throws(() => r.event({ kind: "Pod" }, normal), RequestBuildError);
  });

  test("writes one Event named <object>.<hex nanos> in the object's namespace", async () => {
    const { clock, sink, recorder } = setup();
    recorder.event(pod, { ...normal, note: "é".repeat(600) });
    await clock.advance(0);
    const [ev] = sink.events();
    assert.ok(ev);
    assert.equal(ev.metadata?.namespace, "shop");
    assert.match(ev.metadata?.name ?? "", /^web-0\.[0-9a-f]+$/);
    const nanos = BigInt(`0x${ev.metadata?.name?.split(".")[1]}`);
    assert.equal(nanos / 1_000_000n, BigInt(clock.now()), "unix nanoseconds of the event");
    assert.equal(ev.eventTime, "2030-01-01T00:00:00.000000Z");
    assert.deepEqual(ev.regarding, {
      apiVersion: "v1",
      kind: "Pod",
      namespace: "shop",
      name: "web-0",
      uid: "u-1",
      resourceVersion: "7",
    });
    assert.equal(ev.reportingController, "example.com/ctl");
    assert.equal(ev.reportingInstance, "ctl-1");
    assert.equal(ev.type, "Normal");
    assert.equal(ev.reason, "Synced");
    assert.equal(ev.action, "Sync");
    assert.equal(ev.series, undefined);
    assert.equal(Buffer.byteLength(ev.note ?? ""), 1024, "note cut to 1 KiB");
    assert.equal(ev.note, "é".repeat(512));
    assert.deepEqual(recorder.stats, {
      recorded: 1,
      dropped: 0,
      spamFiltered: 0,
      written: 1,
      retried: 0,
      failed: 0,
      pending: 0,
    });
  });

  test("a cluster-scoped object's events go to default; distinct events in one millisecond get distinct names", async () => {
    const { clock, sink, recorder } = setup();
    const node = { apiVersion: "v1", kind: "Node", metadata: { name: "n1" } };
    recorder.event(node, normal);
    recorder.event(node, { ...normal, reason: "Other" });
    await clock.advance(0);
    const names = sink.events().map((e) => e.metadata?.name);
    assert.equal(new Set(names).size, 2);
    assert.deepEqual(
      sink.events().map((e) => e.metadata?.namespace),
      ["default", "default"],
    );
  });

  test("series: the second occurrence writes count 2 at once, later ones at most every interval", async () => {
    const { clock, sink, recorder } = setup();
    const t0 = clock.now();
    recorder.event(pod, normal);
    await clock.advance(1_000);
    recorder.event(pod, normal);
    await clock.advance(0);
    assert.deepEqual(
      sink.calls.map((c) => [c.op, c.at - t0, c.count]),
      [
        ["create", 0, undefined],
        ["updateSeries", 1_000, 2],
      ],
    );
    await clock.advance(1_000);
    recorder.event(pod, normal);
    await clock.advance(1_000);
    recorder.event(pod, normal); // count 4 at t0 + 3 s
    await clock.advance(7_999);
    assert.equal(sink.calls.length, 2, "nothing before the interval");
    await clock.advance(1);
    assert.deepEqual(sink.calls.at(-1), {
      op: "updateSeries",
      at: t0 + 11_000,
      name: sink.calls[0]?.name,
      count: 4,
    });
    const [ev] = sink.events();
    assert.deepEqual(ev?.series, {
      count: 4,
      lastObservedTime: "2030-01-01T00:00:03.000000Z",
    });
    assert.equal(ev?.eventTime, "2030-01-01T00:00:00.000000Z", "eventTime is the first");
    assert.equal(sink.events().length, 1);
    assert.equal(recorder.stats.recorded, 4);
  });

  test("100 identical events: one Event, created once and updated to count 100", async () => {
    const { clock, sink, recorder } = setup();
    for (let i = 0; i < 100; i++) recorder.event(pod, normal);
    await clock.advance(0);
    assert.deepEqual(
      sink.calls.map((c) => [c.op, c.count]),
      [
        ["create", undefined],
        ["updateSeries", 100],
      ],
    );
    assert.equal(sink.events().length, 1);
    assert.equal(sink.events()[0]?.series?.count, 100);
  });

  test("events differing in type, reason, action, regarding or related are not isomorphic", async () => {
    const { clock, sink, recorder } = setup();
    const other = { ...pod, metadata: { ...pod.metadata, name: "web-1", uid: "u-2" } };
    recorder.event(pod, normal);
    recorder.event(pod, { ...normal, type: "Warning" });
    recorder.event(pod, { ...normal, reason: "Other" });
    recorder.event(pod, { ...normal, action: "Other" });
    recorder.event(other, normal);
    recorder.event(pod, { ...normal, related: other });
    recorder.event(pod, { ...normal, note: "a different note is still the same event" });
    await clock.advance(0);
    assert.equal(sink.events().length, 6);
    assert.deepEqual(sink.events().find((e) => e.related)?.related, objectReference(other));
    assert.equal(sink.events().filter((e) => e.series?.count === 2).length, 1);
  });

  test("spam filter: 25 new Events per source and object, then one per 5 minutes; repeats are free", async () => {
    const { clock, sink, recorder } = setup();
    for (let i = 0; i < 30; i++) recorder.event(pod, { ...normal, reason: `R${i}` });
    for (let i = 0; i < 10; i++) recorder.event(pod, { ...normal, reason: "R0" });
    recorder.event({ ...pod, metadata: { ...pod.metadata, name: "web-1" } }, normal);
    await clock.advance(0);
    assert.equal(sink.events().length, 26);
    assert.equal(recorder.stats.spamFiltered, 5);
    assert.equal(sink.events().find((e) => e.reason === "R0")?.series?.count, 11);
    await clock.advance(299_000);
    recorder.event(pod, { ...normal, reason: "Late1" });
    assert.equal(recorder.stats.spamFiltered, 6);
    await clock.advance(1_000);
    recorder.event(pod, { ...normal, reason: "Late2" });
    recorder.event(pod, { ...normal, reason: "Late3" });
    await clock.advance(0);
    assert.equal(recorder.stats.spamFiltered, 7);
    assert.ok(sink.events().some((e) => e.reason === "Late2"));
  });

  test("a full buffer drops new events without blocking, and counts them", async () => {
    const { clock, sink, recorder } = setup({ bufferSize: 3 });
    sink.fault = () => "hang";
    for (let i = 0; i < 5; i++) recorder.event(pod, { ...normal, reason: `R${i}` });
    recorder.event(pod, { ...normal, reason: "R0" }); // a repeat of a pending event is kept
    await clock.advance(0);
    assert.deepEqual(recorder.stats, {
      recorded: 4,
      dropped: 2,
      spamFiltered: 0,
      written: 0,
      retried: 0,
      failed: 0,
      pending: 3,
    });
    await recorder.close({ drain: false });
    assert.equal(recorder.stats.dropped, 5);
    assert.equal(recorder.stats.pending, 0);
    recorder.event(pod, normal);
    assert.equal(recorder.stats.dropped, 6, "dropped after close");
  });

  test("failed writes are retried: first after a random part of the interval, then every interval", async () => {
    const { clock, sink, recorder } = setup();
    let failures = 2;
    sink.fault = () => (failures-- > 0 ? new TransportError("refused", {}) : undefined);
    const t0 = clock.now();
    recorder.event(pod, normal);
    await clock.advance(10_000);
    assert.deepEqual(
      sink.calls.map((c) => c.at - t0),
      [0, 500, 1_500],
    );
    assert.equal(sink.events().length, 1);
    assert.equal(recorder.stats.retried, 2);
    assert.equal(recorder.stats.failed, 0);
  });

  test("gives up after maxTries (12) on a server in trouble", async () => {
    const { clock, sink, recorder, errors } = setup();
    sink.fault = () => apiError(503, "ServiceUnavailable");
    recorder.event(pod, normal);
    await clock.advance(60_000);
    assert.equal(sink.calls.length, 12);
    assert.equal(sink.calls.at(-1)!.at - sink.calls[0]!.at, 500 + 10 * 1_000);
    assert.equal(recorder.stats.failed, 1);
    assert.equal(recorder.stats.retried, 11);
    assert.equal(errors.length, 1);
    assert.equal(recorder.stats.pending, 0);
  });

  test("rejected events (403, 422, AlreadyExists) are not retried", async () => {
    for (const err of [
      apiError(403, "Forbidden"),
      apiError(422, "Invalid"),
      apiError(409, "AlreadyExists"),
      apiError(400, "BadRequest"),
    ]) {
      const { clock, sink, recorder, errors } = setup();
      sink.fault = () => err;
      recorder.event(pod, normal);
      await clock.advance(60_000);
      assert.equal(sink.calls.length, 1, err.reason);
      assert.equal(recorder.stats.failed, 1);
      assert.equal(errors[0], err);
    }
  });

  test("a series whose Event was deleted is created again with its series", async () => {
    const { clock, sink, recorder } = setup();
    recorder.event(pod, normal);
    await clock.advance(0);
    sink.store.clear();
    recorder.event(pod, normal);
    await clock.advance(0);
    assert.deepEqual(
      sink.calls.map((c) => [c.op, c.count]),
      [
        ["create", undefined],
        ["updateSeries", 2],
        ["create", 2],
      ],
    );
    assert.equal(sink.events()[0]?.series?.count, 2);
  });

  test("close({ drain: true }) writes pending series at once; drain: false drops them", async () => {
    const a = setup();
    for (let i = 0; i < 3; i++) {
      a.recorder.event(pod, normal);
      await a.clock.advance(0);
    }
    assert.equal(a.sink.events()[0]?.series?.count, 2, "count 3 waits for the interval");
    await a.recorder.close({ drain: true });
    assert.equal(a.sink.events()[0]?.series?.count, 3);
    assert.equal(a.recorder.stats.dropped, 0);

    const b = setup();
    for (let i = 0; i < 3; i++) {
      b.recorder.event(pod, normal);
      await b.clock.advance(0);
    }
    await b.recorder.close({ drain: false });
    assert.equal(b.sink.events()[0]?.series?.count, 2);
    assert.equal(b.recorder.stats.dropped, 1);
  });

  test("close({ drain: true, timeoutMs }) gives up on writes that keep failing", async () => {
    const { clock, sink, recorder } = setup();
    sink.fault = () => new TransportError("refused", {});
    recorder.event(pod, normal);
    await clock.advance(0);
    const closed = recorder.close({ drain: true, timeoutMs: 5_000 });
    let done = false;
    void closed.then(() => {
      done = true;
    });
    await clock.advance(4_999);
    assert.equal(done, false);
    await clock.advance(1);
    assert.equal(done, true);
    assert.equal(recorder.stats.dropped, 1);
  });

  test("a series not seen for 6 minutes is finished: a repeat starts a new Event", async () => {
    const { clock, sink, recorder } = setup();
    recorder.event(pod, normal);
    recorder.event(pod, normal);
    await clock.advance(7 * 60_000);
    recorder.event(pod, normal);
    await clock.advance(0);
    assert.equal(sink.events().length, 2);
    assert.deepEqual(
      sink.events().map((e) => e.series?.count),
      [2, undefined],
    );
  });

  test("no timer is left once everything is written (a process may exit without close)", async () => {
    const { clock, recorder } = setup();
    for (let i = 0; i < 3; i++) {
      recorder.event(pod, normal);
      await clock.advance(0);
    }
    assert.equal(clock.pending, 1, "count 3 waits for the interval");
    await clock.advance(10_000);
    assert.equal(clock.pending, 0);
    assert.equal(recorder.stats.pending, 0);
  });

  test("the series update interval is at most 30 minutes", () => {
    assert.throws(() => setup({ seriesUpdateIntervalMs: 30 * 60_000 + 1 }), RequestBuildError);
    setup({ seriesUpdateIntervalMs: 30 * 60_000 });
  });
});

describe("core/v1 fallback", () => {
  test("an events.k8s.io/v1 Event as an old-style core Event with count and timestamps", () => {
    const core = toCoreEvent({
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { name: "web-0.1", namespace: "shop" },
      eventTime: "2030-01-01T00:00:00.250000Z",
      series: { count: 7, lastObservedTime: "2030-01-01T00:01:02.999000Z" },
      regarding: { kind: "Pod", name: "web-0", namespace: "shop" },
      reportingController: "example.com/ctl",
      reportingInstance: "ctl-1",
      type: "Warning",
      reason: "Failed",
      action: "Sync",
      note: "boom",
    });
    assert.deepEqual(core, {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "web-0.1", namespace: "shop" },
      involvedObject: { kind: "Pod", name: "web-0", namespace: "shop" },
      count: 7,
      firstTimestamp: "2030-01-01T00:00:00Z",
      lastTimestamp: "2030-01-01T00:01:02Z",
      source: { component: "example.com/ctl" },
      type: "Warning",
      reason: "Failed",
      action: "Sync",
      message: "boom",
      reportingComponent: "example.com/ctl",
      reportingInstance: "ctl-1",
    });
  });

  test("truncateUtf8 never splits a character", () => {
    assert.equal(truncateUtf8("abc", 3), "abc");
    assert.equal(truncateUtf8("aé", 2), "a");
    assert.equal(truncateUtf8("😀😀", 7), "😀");
  });
});
