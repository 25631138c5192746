import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Lease } from "../api/coordination/v1/index.ts";
import { ManualClock } from "../core/clock.ts";
import { ApiError, TransportError } from "../core/errors.ts";
import type { CallOptions } from "../rest/client.ts";
import {
  DEFAULT_LEASE_DURATION_MS,
  DEFAULT_RENEW_DEADLINE_MS,
  DEFAULT_RETRY_PERIOD_MS,
  type LeaderCallbacks,
  LeaderElectionError,
  LeaderElector,
  type LeaderElectorOptions,
  LeadershipLostError,
  type LeaseClient,
  microTime,
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

const clone = <T>(v: T): T => structuredClone(v);

/** One Lease with resourceVersion semantics: a stale update is a 409, as the API server's. */
class FakeLeases implements LeaseClient {
  lease: Lease | undefined;
  rv = 0;
  calls: string[] = [];
  /** When set, every call fails with what it returns (or hangs until aborted on "hang"). */
  fault: ((op: string) => unknown) | undefined;

  async #gate(op: string, options?: CallOptions): Promise<void> {
    this.calls.push(op);
    const f = this.fault?.(op);
    if (f === "hang") {
      await new Promise((_, reject) => {
        options?.signal?.addEventListener("abort", () => reject(options.signal?.reason), {
          once: true,
        });
      });
    }
    if (f !== undefined) throw f;
  }

  async get(_name: string, options?: CallOptions): Promise<Lease> {
    await this.#gate("get", options);
    if (!this.lease) throw apiError(404, "NotFound");
    return clone(this.lease);
  }

  async create(lease: Lease, options?: CallOptions): Promise<Lease> {
    await this.#gate("create", options);
    if (this.lease) throw apiError(409, "AlreadyExists");
    this.lease = {
      ...clone(lease),
      metadata: { ...lease.metadata, resourceVersion: `${++this.rv}` },
    };
    return clone(this.lease);
  }

  async update(lease: Lease, options?: CallOptions): Promise<Lease> {
    await this.#gate("update", options);
    if (!this.lease) throw apiError(404, "NotFound");
    if (lease.metadata?.resourceVersion !== this.lease.metadata?.resourceVersion)
      throw apiError(409, "Conflict");
    this.lease = {
      ...clone(lease),
      metadata: { ...lease.metadata, resourceVersion: `${++this.rv}` },
    };
    return clone(this.lease);
  }

  /** Another candidate's write (bumps the resourceVersion). */
  write(spec: NonNullable<Lease["spec"]>): void {
    this.lease = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: "lock", namespace: "ns", resourceVersion: `${++this.rv}` },
      spec: { ...this.lease?.spec, ...spec },
    };
  }
}

interface Harness {
  clock: ManualClock;
  store: FakeLeases;
  log: string[];
  signals: AbortSignal[];
  elector: LeaderElector;
}

function harness(
  options: Partial<LeaderElectorOptions> & { store?: FakeLeases; clock?: ManualClock } = {},
): Harness {
  const clock = options.clock ?? new ManualClock(1_000_000);
  const store = options.store ?? new FakeLeases();
  const log: string[] = [];
  const signals: AbortSignal[] = [];
  const identity = options.identity ?? "me";
  const callbacks: LeaderCallbacks = options.callbacks ?? {
    onStartedLeading: ({ signal }) => {
      log.push(`started@${clock.now()}`);
      signals.push(signal);
      signal.addEventListener("abort", () => log.push(`aborted@${clock.now()}`));
    },
    onStoppedLeading: () => {
      log.push(`stopped@${clock.now()}`);
    },
    onNewLeader: (id) => {
      log.push(`leader=${id}`);
    },
  };
  const elector = new LeaderElector({
    client: store,
    namespace: "ns",
    name: "lock",
    identity,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    random: () => 0,
    clock,
    ...options,
    callbacks,
  });
  return { clock, store, log, signals, elector };
}

describe("LeaderElector configuration", () => {
  const base = (): LeaderElectorOptions => ({
    client: new FakeLeases(),
    namespace: "ns",
    name: "lock",
    identity: "me",
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    callbacks: { onStartedLeading() {}, onStoppedLeading() {} },
  });

  test("client-go's usual values are exported, not applied", () => {
    assert.equal(DEFAULT_LEASE_DURATION_MS, 15_000);
    assert.equal(DEFAULT_RENEW_DEADLINE_MS, 10_000);
    assert.equal(DEFAULT_RETRY_PERIOD_MS, 2_000);
    const { leaseDurationMs: _, ...noLease } = base();
    assert.throws(
      () => new LeaderElector(noLease as LeaderElectorOptions),
      (e: unknown) => e instanceof LeaderElectionError && e.field === "leaseDurationMs",
    );
  });

  test("lease > renew deadline > 1.2 × retry period, all > 0, identity and callbacks set", () => {
    const bad: [Partial<LeaderElectorOptions>, string][] = [
      [{ leaseDurationMs: 10_000 }, "leaseDurationMs"],
      [{ leaseDurationMs: 9_000 }, "leaseDurationMs"],
      [{ renewDeadlineMs: 2_400 }, "renewDeadlineMs"],
      [{ retryPeriodMs: 0 }, "retryPeriodMs"],
      [{ retryPeriodMs: -1 }, "retryPeriodMs"],
      [{ renewDeadlineMs: 0 }, "renewDeadlineMs"],
      [{ leaseDurationMs: Number.NaN }, "leaseDurationMs"],
      [{ identity: "" }, "identity"],
      [{ name: "" }, "name"],
      [
        { callbacks: { onStoppedLeading() {} } as unknown as LeaderCallbacks },
        "callbacks.onStartedLeading",
      ],
      [
        { callbacks: { onStartedLeading() {} } as unknown as LeaderCallbacks },
        "callbacks.onStoppedLeading",
      ],
    ];
    for (const [patch, field] of bad) {
      assert.throws(
        () => new LeaderElector({ ...base(), ...patch }),
        (e: unknown) => e instanceof LeaderElectionError && e.field === field,
        `${JSON.stringify(patch)} should be rejected on ${field}`,
      );
    }
    // 2.4 s is exactly 1.2 × 2 s: rejected above; just over it is fine.
    new LeaderElector({ ...base(), renewDeadlineMs: 2_401 });
  });

  test("microTime is RFC 3339 with microseconds", () => {
    assert.equal(microTime(Date.UTC(2024, 0, 2, 3, 4, 5, 678)), "2024-01-02T03:04:05.678000Z");
  });
});

describe("LeaderElector rules", () => {
  test("creates an absent Lease and leads; renews by optimistic update without a read", async () => {
    const h = harness();
    const ctl = new AbortController();
    const run = h.elector.run({ signal: ctl.signal });
    await h.clock.advance(0);
    assert.deepEqual(h.log, ["leader=me", "started@1000000"]);
    assert.ok(h.elector.isLeader());
    assert.equal(h.elector.getLeader(), "me");
    const spec = h.store.lease?.spec;
    assert.equal(spec?.holderIdentity, "me");
    assert.equal(spec?.leaseDurationSeconds, 15);
    assert.equal(spec?.leaseTransitions, 0);
    assert.match(spec?.acquireTime ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(spec?.renewTime, microTime(1_000_000));
    assert.deepEqual(h.store.calls, ["get", "create"]);

    await h.clock.advance(2_000);
    assert.deepEqual(h.store.calls, ["get", "create", "update"]);
    assert.equal(h.store.lease?.spec?.renewTime, microTime(1_002_000));
    assert.equal(h.store.lease?.spec?.acquireTime, microTime(1_000_000), "acquireTime kept");
    assert.equal(h.store.lease?.spec?.leaseTransitions, 0);
    ctl.abort();
    await run;
    assert.equal(h.elector.isLeader(), false);
    assert.equal(h.log.at(-1), "stopped@1002000");
  });

  test("observation rule: another's Lease is valid for its duration after the record last changed here", async () => {
    const store = new FakeLeases();
    // renewTime is ancient: a rule based on renewTime would take over at once.
    store.write({
      holderIdentity: "other",
      leaseDurationSeconds: 15,
      acquireTime: "2000-01-01T00:00:00.000000Z",
      renewTime: "2000-01-01T00:00:00.000000Z",
      leaseTransitions: 4,
    });
    const h = harness({ store, clock: new ManualClock(0) });
    const ctl = new AbortController();
    const run = h.elector.run({ signal: ctl.signal });
    await h.clock.advance(0);
    assert.deepEqual(h.log, ["leader=other"]);
    assert.equal(h.elector.getLeader(), "other");
    assert.equal(h.elector.isLeader(), false);

    await h.clock.advance(5_000); // attempts at 0, 2, 4 s: held
    store.write({ renewTime: "2000-01-01T00:00:01.000000Z" }); // other renews at 5 s
    await h.clock.advance(15_000); // seen changed at 6 s: valid until 21 s (attempts at 8..20 s)
    assert.equal(h.elector.isLeader(), false, "still held at 20 s");
    assert.equal(store.lease?.spec?.holderIdentity, "other");

    await h.clock.advance(2_000); // attempt at 22 s takes over
    assert.ok(h.elector.isLeader());
    assert.deepEqual(h.log, ["leader=other", "leader=me", "started@22000"]);
    assert.equal(store.lease?.spec?.holderIdentity, "me");
    assert.equal(store.lease?.spec?.leaseTransitions, 5, "a takeover counts a transition");
    assert.equal(store.lease?.spec?.acquireTime, microTime(22_000));
    ctl.abort();
    await run;
  });

  test("a renewTime in the future does not extend another's Lease either", async () => {
    const store = new FakeLeases();
    store.write({
      holderIdentity: "other",
      leaseDurationSeconds: 3,
      renewTime: "2999-01-01T00:00:00.000000Z",
    });
    const h = harness({ store, clock: new ManualClock(0) });
    const ctl = new AbortController();
    const run = h.elector.run({ signal: ctl.signal });
    await h.clock.advance(2_000);
    assert.equal(h.elector.isLeader(), false);
    await h.clock.advance(2_000); // seen at 0 s, valid until 3 s: taken at 4 s
    assert.ok(h.elector.isLeader());
    assert.equal(store.lease?.spec?.leaseTransitions, 1);
    ctl.abort();
    await run;
  });

  test("a stale write is a conflict: the attempt fails and the next one reads again", async () => {
    const store = new FakeLeases();
    store.write({ holderIdentity: "", leaseDurationSeconds: 1, leaseTransitions: 2 });
    const errors: unknown[] = [];
    const h = harness({ store, onError: (e) => errors.push(e) });
    let sneaked = false;
    store.fault = (op) => {
      // Another candidate wins the race between our read and our write.
      if (op === "update" && !sneaked) {
        sneaked = true;
        store.write({ holderIdentity: "other", leaseDurationSeconds: 15, leaseTransitions: 3 });
      }
      return undefined;
    };
    const ctl = new AbortController();
    const run = h.elector.run({ signal: ctl.signal });
    await h.clock.advance(0);
    assert.equal(h.elector.isLeader(), false);
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as ApiError).reason, "Conflict");
    assert.equal(store.lease?.spec?.holderIdentity, "other");
    await h.clock.advance(2_000);
    assert.equal(h.elector.isLeader(), false, "the winner's fresh Lease is respected");
    assert.equal(h.elector.getLeader(), "other");
    ctl.abort();
    await run;
  });

  test("no successful renewal within the renew deadline aborts the leading signal at the deadline", async () => {
    const h = harness();
    const ctl = new AbortController();
    const run = h.elector.run({ signal: ctl.signal });
    await h.clock.advance(4_000); // renewed at 2 s and 4 s
    assert.equal(h.store.lease?.spec?.renewTime, microTime(1_004_000));
    h.store.fault = () => apiError(500, "InternalError");
    await h.clock.advance(9_999);
    assert.ok(h.elector.isLeader(), "still leading just before 4 s + 10 s");
    assert.equal(h.signals[0]?.aborted, false);
    await h.clock.advance(1);
    assert.ok(h.signals[0]?.aborted);
    const reason = h.signals[0]?.reason;
    assert.ok(reason instanceof LeadershipLostError && reason.why === "deadline");
    assert.equal(h.elector.isLeader(), false);
    await run;
    assert.deepEqual(h.log.slice(-2), ["aborted@1014000", "stopped@1014000"]);
  });

  test("the deadline also ends leadership while a renewal hangs", async () => {
    const h = harness();
    const run = h.elector.run();
    await h.clock.advance(0);
    h.store.fault = () => "hang";
    await h.clock.advance(9_999);
    assert.ok(h.elector.isLeader());
    await h.clock.advance(1);
    assert.equal(h.elector.isLeader(), false);
    assert.ok(h.signals[0]?.aborted);
    await run;
    assert.deepEqual(h.log.slice(-2), ["aborted@1010000", "stopped@1010000"]);
  });

  test("seeing another holder while renewing aborts at once, not at the deadline", async () => {
    const h = harness();
    const ctl = new AbortController();
    const run = h.elector.run({ signal: ctl.signal });
    await h.clock.advance(2_000);
    h.store.write({ holderIdentity: "thief", renewTime: microTime(5) });
    await h.clock.advance(2_000); // update conflicts, read shows the thief
    assert.ok(h.signals[0]?.aborted);
    const reason = h.signals[0]?.reason;
    assert.ok(reason instanceof LeadershipLostError && reason.why === "taken");
    await run;
    assert.deepEqual(h.log.slice(-3), ["leader=thief", "aborted@1004000", "stopped@1004000"]);
    assert.equal(h.elector.getLeader(), "thief");
  });

  test("jitter: acquire attempts are retryPeriod × (1 + random × 1.2) apart", async () => {
    for (const [r, gap] of [
      [0, 2_000],
      [0.5, 3_200],
      [0.999_999, 4_399.9976],
    ] as const) {
      const store = new FakeLeases();
      store.write({ holderIdentity: "other", leaseDurationSeconds: 3600 });
      const h = harness({ store, random: () => r });
      const ctl = new AbortController();
      const run = h.elector.run({ signal: ctl.signal });
      await h.clock.advance(gap - 1);
      assert.equal(store.calls.length, 1, `random ${r}: one attempt before ${gap} ms`);
      await h.clock.advance(1);
      assert.equal(store.calls.length, 2, `random ${r}: second attempt at ${gap} ms`);
      assert.ok(gap >= 2_000 && gap < 2_000 * 2.2);
      ctl.abort();
      await run;
    }
  });

  test("renewals are not jittered: every retry period", async () => {
    const h = harness({ random: () => 0.9 });
    const run = h.elector.run();
    await h.clock.advance(6_000);
    assert.deepEqual(h.store.calls, ["get", "create", "update", "update", "update"]);
    h.store.fault = () => apiError(500, "InternalError");
    await h.clock.advance(20_000);
    await run;
  });

  test("releaseOnCancel: the signal aborts at once, then an empty holder with a 1 s duration is written", async () => {
    const h = harness({ releaseOnCancel: true });
    const ctl = new AbortController();
    const run = h.elector.run({ signal: ctl.signal });
    await h.clock.advance(2_000);
    ctl.abort();
    assert.ok(h.signals[0]?.aborted, "aborted synchronously with run's signal");
    assert.equal(h.elector.isLeader(), false);
    await run;
    const spec = h.store.lease?.spec;
    assert.equal(spec?.holderIdentity, "");
    assert.equal(spec?.leaseDurationSeconds, 1);
    assert.equal(spec?.leaseTransitions, 0);
    assert.equal(h.elector.getLeader(), undefined);
    assert.equal(h.log.at(-1), "stopped@1002000");
  });

  test("without releaseOnCancel the Lease keeps its holder", async () => {
    const h = harness();
    const ctl = new AbortController();
    const run = h.elector.run({ signal: ctl.signal });
    await h.clock.advance(0);
    ctl.abort();
    await run;
    assert.equal(h.store.lease?.spec?.holderIdentity, "me");
    assert.equal(h.store.lease?.spec?.leaseDurationSeconds, 15);
  });

  test("the release is retried on conflict while the record is still ours, and skipped once it is not", async () => {
    const h = harness({ releaseOnCancel: true });
    const ctl = new AbortController();
    const run = h.elector.run({ signal: ctl.signal });
    await h.clock.advance(0);
    // A label change by someone else: a new resourceVersion, the same holder.
    h.store.write({});
    ctl.abort();
    await run;
    assert.equal(h.store.lease?.spec?.holderIdentity, "");
    assert.deepEqual(h.store.calls, ["get", "create", "update", "get", "update"]);

    const h2 = harness({ releaseOnCancel: true });
    const ctl2 = new AbortController();
    const run2 = h2.elector.run({ signal: ctl2.signal });
    await h2.clock.advance(0);
    h2.store.write({ holderIdentity: "thief" });
    ctl2.abort();
    await run2;
    assert.equal(h2.store.lease?.spec?.holderIdentity, "thief", "not ours: left alone");
  });

  test("run waits for onStartedLeading's work before releasing; a rejection ends leadership and run", async () => {
    const clock = new ManualClock(0);
    const store = new FakeLeases();
    const order: string[] = [];
    const h = harness({
      clock,
      store,
      releaseOnCancel: true,
      callbacks: {
        onStartedLeading: async ({ signal }) => {
          await clock.sleep(3_000);
          order.push(`work failed, holder=${store.lease?.spec?.holderIdentity}`);
          assert.equal(signal.aborted, false);
          throw new Error("boom");
        },
        onStoppedLeading: () => {
          order.push(`stopped, holder=${store.lease?.spec?.holderIdentity || "none"}`);
        },
      },
    });
    const run = h.elector.run();
    const settled = run.then(
      () => "resolved",
      (e: Error) => e.message,
    );
    await clock.advance(3_000);
    assert.equal(await settled, "boom");
    assert.deepEqual(order, ["work failed, holder=me", "stopped, holder=none"]);
    assert.equal(h.elector.isLeader(), false);
  });

  test("onNewLeader follows every change of holder", async () => {
    const store = new FakeLeases();
    store.write({ holderIdentity: "a", leaseDurationSeconds: 5 });
    const h = harness({ store, clock: new ManualClock(0) });
    const ctl = new AbortController();
    const run = h.elector.run({ signal: ctl.signal });
    await h.clock.advance(0);
    store.write({ holderIdentity: "b" });
    await h.clock.advance(2_000);
    store.write({ holderIdentity: "" });
    await h.clock.advance(2_000); // empty holder: taken at once
    ctl.abort();
    await run;
    assert.deepEqual(
      h.log.filter((l) => l.startsWith("leader=")),
      ["leader=a", "leader=b", "leader=me"],
    );
  });

  test("two candidates on one store never lead at once and hand over after the lease duration", async () => {
    const clock = new ManualClock(0);
    const store = new FakeLeases();
    const a = harness({ clock, store, identity: "a" });
    const b = harness({ clock, store, identity: "b" });
    const ca = new AbortController();
    const runA = a.elector.run({ signal: ca.signal });
    await clock.advance(0);
    const runB = b.elector.run();
    for (let t = 0; t < 30_000; t += 500) {
      await clock.advance(500);
      assert.ok(!(a.elector.isLeader() && b.elector.isLeader()), `both lead at ${clock.now()}`);
      if (t === 5_000) {
        assert.ok(a.elector.isLeader());
        // a stops renewing without releasing (as a crashed process would).
        store.fault = undefined;
        ca.abort();
      }
    }
    await runA;
    assert.ok(b.elector.isLeader());
    const started = Number(b.log.find((l) => l.startsWith("started@"))?.slice(8));
    // a renewed at 4 s (seen by b at its 4 s attempt); b takes over at the first attempt after 19 s.
    assert.equal(started, 20_000);
    assert.equal(store.lease?.spec?.leaseTransitions, 1);
    store.fault = () => new TransportError("down", {});
    await clock.advance(20_000);
    await runB;
  });
});
