/**
 * Leader election against the real API server: several candidates (in this process, so one clock
 * measures them all) compete for a Lease through kubekit's own client. Short durations keep the
 * file fast: lease 2 s, renew deadline 1.5 s, retry period 0.3 s.
 *
 * The fencing test forces hand-overs (the leader releases, crashes without releasing, or loses its
 * connection while still believing it leads) and checks, with a log of the intervals in which each
 * candidate believed it led, that no two such intervals overlap.
 */
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { after, before, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { Lease } from "../../src/api/coordination/v1/index.ts";
import type { Client } from "../../src/client/index.ts";
import { TimeoutError, TransportError } from "../../src/core/errors.ts";
import { LeaderElector, type LeaseClient } from "../../src/leaderelection/index.ts";
import type { CallOptions } from "../../src/rest/client.ts";
import { testClient, testNamespace, uniqueName } from "../support/cluster.ts";

let client: Client;
let ns: { name: string; remove(): Promise<void> };

before(async () => {
  client = await testClient();
  ns = await testNamespace(client, "kk-le");
});

after(async () => {
  await ns.remove();
  await client.close();
});

const LEASE = 2_000;
const RENEW = 1_500;
const RETRY = 300;

/** The real Lease API with a switch that makes every call fail at once or hang (a partition). */
class Faulty implements LeaseClient {
  readonly #api: LeaseClient;
  mode: "ok" | "fail" | "hang" = "ok";

  constructor(api: LeaseClient) {
    this.#api = api;
  }

  async #gate(options?: CallOptions): Promise<void> {
    if (this.mode === "fail") throw new TransportError("injected: connection refused", {});
    if (this.mode === "hang") {
      const timeoutMs = options?.timeoutMs ?? 30_000;
      await new Promise((_, reject) => {
        const timer = setTimeout(
          () => reject(new TimeoutError("injected: no answer", { timeoutMs })),
          timeoutMs,
        );
        options?.signal?.addEventListener(
          "abort",
          () => {
            clearTimeout(timer);
            reject(options.signal?.reason);
          },
          { once: true },
        );
      });
    }
  }

  async get(name: string, options?: CallOptions) {
    await this.#gate(options);
    return this.#api.get(name, options);
  }

  async create(lease: Lease, options?: CallOptions) {
    await this.#gate(options);
    return this.#api.create(lease, options);
  }

  async update(lease: Lease, options?: CallOptions) {
    await this.#gate(options);
    return this.#api.update(lease, options);
  }
}

interface Interval {
  id: string;
  start: number;
  end: number | undefined;
}

interface Candidate {
  id: string;
  elector: LeaderElector;
  leases: Faulty;
  ctl: AbortController;
  run: Promise<void>;
}

/** Candidates on one Lease that append to a shared fencing log while they believe they lead. */
function candidates(
  leaseName: string,
  ids: string[],
  options: {
    releaseOnCancel?: boolean;
    leaseDurationMs?: number;
    renewDeadlineMs?: number;
    /** Give the first two candidates the Client and the Lease Api instead of a LeaseClient. */
    variety?: boolean;
  } = {},
) {
  const log: Interval[] = [];
  const stopped: string[] = [];
  const all: Candidate[] = ids.map((id, i) => {
    const leases = new Faulty(client.api(Lease).namespace(ns.name));
    const elector = new LeaderElector({
      client: !options.variety ? leases : i === 0 ? client : i === 1 ? client.api(Lease) : leases,
      namespace: ns.name,
      name: leaseName,
      identity: id,
      leaseDurationMs: options.leaseDurationMs ?? LEASE,
      renewDeadlineMs: options.renewDeadlineMs ?? RENEW,
      retryPeriodMs: RETRY,
      releaseOnCancel: options.releaseOnCancel ?? false,
      callbacks: {
        onStartedLeading: ({ signal }) => {
          const interval: Interval = { id, start: performance.now(), end: undefined };
          log.push(interval);
          return new Promise<void>((resolve) => {
            signal.addEventListener(
              "abort",
              () => {
                interval.end = performance.now();
                resolve();
              },
              { once: true },
            );
          });
        },
        onStoppedLeading: () => {
          stopped.push(id);
        },
      },
    });
    const ctl = new AbortController();
    return { id, elector, leases, ctl, run: elector.run({ signal: ctl.signal }) };
  });
  const leaders = () => all.filter((c) => c.elector.isLeader());
  const stopAll = async () => {
    for (const c of all) c.ctl.abort();
    await Promise.all(all.map((c) => c.run));
  };
  return { all, log, stopped, leaders, stopAll };
}

async function until<T>(what: string, f: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

function assertNoOverlap(log: Interval[]): void {
  const sorted = [...log].sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    assert.ok(prev.end !== undefined, `${prev.id} still leads while ${cur.id} started`);
    assert.ok(
      cur.start >= prev.end,
      `${cur.id} started leading ${(prev.end - cur.start).toFixed(1)} ms before ${prev.id} stopped`,
    );
  }
}

test("three candidates elect exactly one leader, and the others see it", async () => {
  const name = uniqueName("three");
  const c = candidates(name, ["a", "b", "c"], { variety: true });
  const leader = await until("a leader", () => c.leaders()[0]);
  // Hold for a few lease durations: no second leader, no flapping.
  const end = performance.now() + 2 * LEASE;
  while (performance.now() < end) {
    assert.deepEqual(
      c.leaders().map((l) => l.id),
      [leader.id],
    );
    await delay(20);
  }
  for (const cand of c.all) assert.equal(cand.elector.getLeader(), leader.id);
  const lease = await client.api(Lease).namespace(ns.name).get(name);
  assert.equal(lease.spec?.holderIdentity, leader.id);
  assert.equal(lease.spec?.leaseDurationSeconds, 2);
  assert.equal(lease.spec?.leaseTransitions, 0);
  assert.match(lease.spec?.renewTime ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.equal(c.log.length, 1);
  await c.stopAll();
  assertNoOverlap(c.log);
});

test("a leader that stops renewing (aborted without release) is replaced within the lease duration", async () => {
  const c = candidates(uniqueName("crash"), ["a", "b", "c"]);
  const first = await until("a leader", () => c.leaders()[0]);
  await delay(3 * RETRY); // let the others observe a few renewals
  const t0 = performance.now();
  first.ctl.abort();
  await first.run;
  const next = await until("a new leader", () => c.leaders()[0], 3 * LEASE);
  const took = performance.now() - t0;
  assert.notEqual(next.id, first.id);
  // The others wait a full lease duration after the last renewal they saw (at most one retry
  // period before the abort), then find out at their next jittered attempt (≤ 2.2 retry periods).
  assert.ok(took >= LEASE - RETRY - 50, `took over after ${took.toFixed(0)} ms: too early`);
  assert.ok(took <= LEASE + 2.2 * RETRY + 500, `took over after ${took.toFixed(0)} ms: too late`);
  const lease = await client.api(Lease).namespace(ns.name).get(next.elector.name);
  assert.equal(lease.spec?.holderIdentity, next.id);
  assert.equal(lease.spec?.leaseTransitions, 1);
  await c.stopAll();
  assertNoOverlap(c.log);
});

test("a leader whose client fails steps down by the renew deadline; another takes over after it", async () => {
  const c = candidates(uniqueName("partition"), ["a", "b", "c"]);
  const first = await until("a leader", () => c.leaders()[0]);
  await delay(3 * RETRY);
  const t0 = performance.now();
  first.leases.mode = "fail";
  await first.run; // ends by itself
  const steppedDown = performance.now() - t0;
  assert.ok(steppedDown <= RENEW + 200, `stepped down after ${steppedDown.toFixed(0)} ms`);
  const next = await until("a new leader", () => c.leaders()[0], 3 * LEASE);
  const took = performance.now() - t0;
  assert.notEqual(next.id, first.id);
  assert.ok(took <= LEASE + 2.2 * RETRY + 500, `took over after ${took.toFixed(0)} ms`);
  assert.deepEqual(c.stopped, [first.id]);
  await c.stopAll();
  assertNoOverlap(c.log);
});

test("releaseOnCancel hands over at once, well under the lease duration", async () => {
  // A long lease makes the difference plain: without the release the others would wait 8 s.
  const c = candidates(uniqueName("release"), ["a", "b", "c"], {
    releaseOnCancel: true,
    leaseDurationMs: 8_000,
    renewDeadlineMs: 6_000,
  });
  const first = await until("a leader", () => c.leaders()[0]);
  await delay(3 * RETRY);
  const t0 = performance.now();
  first.ctl.abort();
  assert.equal(first.elector.isLeader(), false, "leadership ends with the abort");
  await first.run;
  const released = await client.api(Lease).namespace(ns.name).get(first.elector.name);
  const next = await until("a new leader", () => c.leaders()[0], 8_000);
  const took = performance.now() - t0;
  assert.ok(
    released.spec?.holderIdentity === "" || released.spec?.holderIdentity === next.id,
    `released Lease holder: ${released.spec?.holderIdentity}`,
  );
  assert.notEqual(next.id, first.id);
  assert.ok(took < 1_500, `took over after ${took.toFixed(0)} ms`);
  await c.stopAll();
  assertNoOverlap(c.log);
});

test("fencing: over 30 forced hand-overs no two candidates ever believe they lead at once", async () => {
  const HANDOVERS = 30;
  const name = uniqueName("fencing");
  const ids = ["a", "b", "c"];
  const log: Interval[] = [];
  let done = false;
  const current = new Map<
    string,
    { ctl: AbortController; leases: Faulty; elector: LeaderElector }
  >();
  const loops = ids.map(async (id) => {
    const leases = new Faulty(client.api(Lease).namespace(ns.name));
    const elector = new LeaderElector({
      client: leases,
      namespace: ns.name,
      name,
      identity: id,
      leaseDurationMs: LEASE,
      renewDeadlineMs: RENEW,
      retryPeriodMs: RETRY,
      releaseOnCancel: true,
      callbacks: {
        onStartedLeading: ({ signal }) => {
          const interval: Interval = { id, start: performance.now(), end: undefined };
          log.push(interval);
          return new Promise<void>((resolve) => {
            signal.addEventListener(
              "abort",
              () => {
                interval.end = performance.now();
                resolve();
              },
              { once: true },
            );
          });
        },
        onStoppedLeading: () => {},
      },
    });
    while (!done) {
      const ctl = new AbortController();
      current.set(id, { ctl, leases, elector });
      await elector.run({ signal: ctl.signal });
      leases.mode = "ok"; // the partition heals
      // Rejoin later, so that the hand-over goes to another candidate.
      if (!done) await delay(LEASE);
    }
  });

  const kinds = { release: 0, crash: 0, fail: 0, hang: 0 };
  const kindOf: string[] = [];
  const t0 = performance.now();
  for (let i = 0; i < HANDOVERS; i++) {
    const leaderInterval = await until(
      `leader #${i + 1}`,
      () => (log.length === i + 1 && log[i]!.end === undefined ? log[i] : undefined),
      4 * LEASE,
    );
    await delay(RETRY); // let it renew at least once
    const leader = current.get(leaderInterval.id)!;
    // Mostly quick releases; every third a leader that keeps believing it leads while the others
    // cannot reach it — the case that needs the lease-duration margin — or simply vanishes.
    const kind = i % 3 !== 2 ? "release" : (["fail", "hang", "crash"] as const)[((i / 3) % 3) | 0]!;
    kinds[kind]++;
    kindOf.push(kind);
    if (kind === "release") leader.ctl.abort();
    else if (kind === "crash") {
      leader.leases.mode = "fail"; // no release possible, as if the process died
      leader.ctl.abort();
    } else leader.leases.mode = kind;
  }
  await until(
    "the last leader",
    () => (log.length === HANDOVERS + 1 ? true : undefined),
    4 * LEASE,
  );
  done = true;
  for (const { ctl } of current.values()) ctl.abort();
  await Promise.all(loops);
  const seconds = (performance.now() - t0) / 1000;

  assertNoOverlap(log);
  const sorted = [...log].sort((a, b) => a.start - b.start);
  const minGap: Record<string, number> = {};
  for (let i = 1; i < sorted.length; i++) {
    const kind = kindOf[i - 1]!;
    const gap = sorted[i]!.start - sorted[i - 1]!.end!;
    minGap[kind] = Math.min(minGap[kind] ?? Number.POSITIVE_INFINITY, Math.round(gap));
  }
  const changes = sorted.slice(1).filter((cur, i) => cur.id !== sorted[i]!.id).length;
  const handovers = log.length - 1;
  const lease = await client.api(Lease).namespace(ns.name).get(name);
  console.log(
    `fencing: ${handovers} hand-overs (${JSON.stringify(kinds)}; ${changes} to another candidate) ` +
      `in ${seconds.toFixed(1)} s, no overlap; smallest gap (ms) by kind ${JSON.stringify(minGap)}; ` +
      `leaseTransitions ${lease.spec?.leaseTransitions}`,
  );
  assert.ok(handovers >= HANDOVERS);
  assert.ok(changes >= HANDOVERS - 3, `only ${changes} hand-overs went to another candidate`);
  assert.ok((lease.spec?.leaseTransitions ?? 0) >= HANDOVERS);
});
