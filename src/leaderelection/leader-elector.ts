/**
 * Lease-based leader election, as client-go's `tools/leaderelection` with a `leases` lock.
 *
 * Candidates share one `coordination.k8s.io/v1` Lease. A candidate only trusts its own clock: a
 * Lease held by someone else stays valid for `leaseDurationSeconds` after this candidate last saw
 * the record *change*, whatever its `renewTime` says, so clock skew between machines does not
 * matter (only a difference in clock *rate* does). Writes carry the resourceVersion that was read,
 * so two candidates racing for an expired Lease cannot both win: the loser gets a 409 Conflict.
 */
import { Lease } from "../api/coordination/v1/index.ts";
import type { Api } from "../client/api.ts";
import type { Client } from "../client/client.ts";
import { type Clock, realClock } from "../core/clock.ts";
import { isConflict, isNotFound, KubekitError } from "../core/errors.ts";
import type { CallOptions } from "../rest/client.ts";

type LeaseSpec = NonNullable<Lease["spec"]>;

/** client-go's usual lease duration; not a default, there are none. */
export const DEFAULT_LEASE_DURATION_MS = 15_000;
/** client-go's usual renew deadline; not a default, there are none. */
export const DEFAULT_RENEW_DEADLINE_MS = 10_000;
/** client-go's usual retry period; not a default, there are none. */
export const DEFAULT_RETRY_PERIOD_MS = 2_000;
/** Waits between acquire attempts are `retryPeriod × (1 + random × JITTER_FACTOR)`. */
export const JITTER_FACTOR = 1.2;

/** An invalid `LeaderElector` configuration, or a misuse such as a second concurrent `run`. */
export class LeaderElectionError extends KubekitError {
  static override readonly brand: string = "LeaderElectionError";
  /** The option at fault, e.g. `renewDeadlineMs`. */
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`, { code: "ERR_KUBEKIT_LEADER_ELECTION" });
    this.field = field;
  }
}

/** Why the signal given to `onStartedLeading` was aborted (its `reason`). */
export class LeadershipLostError extends KubekitError {
  static override readonly brand: string = "LeadershipLostError";
  /** `deadline`: no renewal succeeded in time; `taken`: another candidate holds the Lease. */
  readonly why: "deadline" | "taken";

  constructor(why: "deadline" | "taken", message: string) {
    super(message, { code: "ERR_KUBEKIT_LEADERSHIP_LOST" });
    this.why = why;
  }
}

/** What the elector needs of the Lease API; `Api<Lease, true>` has it, and so can a test fake. */
export interface LeaseClient {
  get(name: string, options?: CallOptions): Promise<Lease>;
  create(lease: Lease, options?: CallOptions): Promise<Lease>;
  update(lease: Lease, options?: CallOptions): Promise<Lease>;
}

export interface LeaderCallbacks {
  /**
   * Called when this candidate becomes leader. `signal` aborts the moment leadership is lost (the
   * renew deadline passed, another candidate took the Lease, or `run`'s signal aborted): stop the
   * guarded work then. A returned promise is awaited before the Lease is released and `run`
   * resolves; if it rejects, leadership is given up and `run` rejects with that error.
   */
  onStartedLeading(ctx: { signal: AbortSignal }): void | Promise<void>;
  /** Called after leading ended (and after the release, with `releaseOnCancel`). */
  onStoppedLeading(): void | Promise<void>;
  /** Called whenever the observed holder changes to a (non-empty) identity, this one included. */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectorOptions {
  /** A Client (the Lease API is made from it), the Lease `Api`, or anything with get/create/update. */
  client: Client | Api<Lease, true> | LeaseClient;
  /** The Lease's namespace (ignored for a `LeaseClient` without a `namespace()` method). */
  namespace: string;
  /** The Lease's name. */
  name: string;
  /** This candidate's identity, unique among the candidates (a pod name, a hostname + uuid). */
  identity: string;
  /**
   * How long the others wait, after they last saw the record change, before they may take over.
   * Stored in the Lease as whole seconds, rounded up.
   */
  leaseDurationMs: number;
  /**
   * How long the leader keeps trying to renew before it gives up leading. kubekit counts it from
   * the start of the last successful renewal, so `leaseDurationMs − renewDeadlineMs` is a real
   * safety margin whatever the request latency (client-go starts the window a retry period later).
   */
  renewDeadlineMs: number;
  /** The wait between attempts (jittered by up to ×2.2 while acquiring). */
  retryPeriodMs: number;
  /**
   * On stop, write an empty holder with `leaseDurationSeconds: 1` so another candidate takes over
   * at once. Only safe if the guarded work has stopped: `run` waits for `onStartedLeading` first.
   */
  releaseOnCancel?: boolean;
  callbacks: LeaderCallbacks;
  clock?: Clock;
  /** Randomness for the jitter; `Math.random` when unset. */
  random?: () => number;
  /** Timeout of each Lease request; max(1 s, renewDeadline / 2) when unset, as client-go's. */
  requestTimeoutMs?: number;
  /** Told about each failed read or write of the Lease (they are retried; this is for logs). */
  onError?(error: unknown): void;
}

type Attempt = "acquired" | "held" | "failed";

/** MicroTime: RFC 3339 with microseconds, as the API server writes it. */
export function microTime(ms: number): string {
  return `${new Date(Math.floor(ms)).toISOString().slice(0, -1)}000Z`;
}

function recordKey(spec: LeaseSpec | undefined): string {
  const s = spec ?? {};
  return JSON.stringify([
    s.holderIdentity ?? "",
    s.leaseDurationSeconds ?? 0,
    s.acquireTime ?? "",
    s.renewTime ?? "",
    s.leaseTransitions ?? 0,
    s.strategy ?? "",
    s.preferredHolder ?? "",
  ]);
}

function positive(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0)
    throw new LeaderElectionError(
      field,
      `must be a number greater than zero, got ${String(value)}`,
    );
  return value;
}

function resolveLeases(client: LeaderElectorOptions["client"], namespace: string): LeaseClient {
  const c = client as Partial<Client> & Partial<Api<Lease, true>>;
  if (typeof c.api === "function") return (client as Client).api(Lease).namespace(namespace);
  if (typeof c.namespace === "function") return (client as Api<Lease, true>).namespace(namespace);
  return client as LeaseClient;
}

/**
 * One candidate in a Lease-based election.
 *
 * ```ts
 * const elector = new LeaderElector({
 *   client, namespace: "kube-system", name: "my-controller", identity: hostname,
 *   leaseDurationMs: DEFAULT_LEASE_DURATION_MS, renewDeadlineMs: DEFAULT_RENEW_DEADLINE_MS,
 *   retryPeriodMs: DEFAULT_RETRY_PERIOD_MS, releaseOnCancel: true,
 *   callbacks: { onStartedLeading: ({ signal }) => controller.run(signal), onStoppedLeading() {} },
 * });
 * await elector.run({ signal });   // resolves when leadership ends or signal aborts
 * ```
 */
export class LeaderElector {
  readonly identity: string;
  readonly namespace: string;
  readonly name: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly releaseOnCancel: boolean;
  readonly #leases: LeaseClient;
  readonly #callbacks: LeaderCallbacks;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #requestTimeoutMs: number;
  readonly #onError: ((error: unknown) => void) | undefined;

  /** The last Lease read or written (its resourceVersion is what the next update carries). */
  #lease: Lease | undefined;
  #observedKey: string | undefined;
  /** Local clock time at which the record was last seen to change. */
  #observedAt = 0;
  #reportedLeader = "";
  #leading: AbortController | undefined;
  #running = false;
  /** Start of the last attempt that acquired or renewed the Lease. */
  #lastRenewStart = 0;
  #callbackError: { error: unknown } | undefined;

  constructor(options: LeaderElectorOptions) {
    const o = options as Partial<LeaderElectorOptions> | undefined;
    if (!o || typeof o !== "object") throw new LeaderElectionError("options", "are required");
    const lease = positive("leaseDurationMs", o.leaseDurationMs);
    const renew = positive("renewDeadlineMs", o.renewDeadlineMs);
    const retry = positive("retryPeriodMs", o.retryPeriodMs);
    if (lease <= renew)
      throw new LeaderElectionError(
        "leaseDurationMs",
        `must be greater than renewDeadlineMs (${lease} <= ${renew})`,
      );
    if (renew <= JITTER_FACTOR * retry)
      throw new LeaderElectionError(
        "renewDeadlineMs",
        `must be greater than ${JITTER_FACTOR} × retryPeriodMs (${renew} <= ${JITTER_FACTOR * retry})`,
      );
    if (typeof o.identity !== "string" || o.identity === "")
      throw new LeaderElectionError("identity", "must be a non-empty string");
    if (typeof o.name !== "string" || o.name === "")
      throw new LeaderElectionError("name", "must be a non-empty string");
    if (typeof o.namespace !== "string" || o.namespace === "")
      throw new LeaderElectionError("namespace", "must be a non-empty string");
    if (!o.client) throw new LeaderElectionError("client", "is required");
    if (typeof o.callbacks?.onStartedLeading !== "function")
      throw new LeaderElectionError("callbacks.onStartedLeading", "must be a function");
    if (typeof o.callbacks.onStoppedLeading !== "function")
      throw new LeaderElectionError("callbacks.onStoppedLeading", "must be a function");
    if (o.requestTimeoutMs !== undefined) positive("requestTimeoutMs", o.requestTimeoutMs);

    this.identity = o.identity;
    this.namespace = o.namespace;
    this.name = o.name;
    this.leaseDurationMs = lease;
    this.renewDeadlineMs = renew;
    this.retryPeriodMs = retry;
    this.releaseOnCancel = o.releaseOnCancel ?? false;
    this.#leases = resolveLeases(o.client, o.namespace);
    this.#callbacks = o.callbacks;
    this.#clock = o.clock ?? realClock;
    this.#random = o.random ?? Math.random;
    this.#requestTimeoutMs = o.requestTimeoutMs ?? Math.max(1000, renew / 2);
    this.#onError = o.onError;
  }

  /** True from the moment this candidate acquires the Lease until its leading signal aborts. */
  isLeader(): boolean {
    return this.#leading !== undefined && !this.#leading.signal.aborted;
  }

  /** The holder this candidate last observed, or undefined when none (or the Lease is released). */
  getLeader(): string | undefined {
    return this.#lease?.spec?.holderIdentity || undefined;
  }

  /**
   * Tries to acquire the Lease every retry period (with jitter) until it succeeds, then leads:
   * calls `onStartedLeading` and renews every retry period until a renewal fails to succeed within
   * the renew deadline, another candidate is seen holding the Lease, or `signal` aborts. Resolves
   * once it has stopped (after `onStoppedLeading`); resolves at once, without leading, if `signal`
   * aborts while acquiring. May be called again after it resolved.
   */
  async run(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#running) throw new LeaderElectionError("run", "is already running");
    this.#running = true;
    this.#callbackError = undefined;
    const signal = options.signal;
    try {
      const acquired = await this.#acquire(signal);
      if (acquired && !signal?.aborted && !this.#failure()) {
        await this.#lead(signal);
        return;
      }
      if (acquired && this.releaseOnCancel) await this.#release();
      const failure = this.#failure();
      if (failure) throw failure.error;
    } finally {
      this.#running = false;
    }
  }

  /** A callback's failure, read through a method so control-flow narrowing does not cache it. */
  #failure(): { error: unknown } | undefined {
    return this.#callbackError;
  }

  #call(signal: AbortSignal | undefined): CallOptions {
    return signal
      ? { signal, timeoutMs: this.#requestTimeoutMs }
      : { timeoutMs: this.#requestTimeoutMs };
  }

  #report(error: unknown): void {
    try {
      this.#onError?.(error);
    } catch {
      // A logging hook that throws must not stop the election.
    }
  }

  /** Records a Lease read from or written to the server; a changed record restarts the clock. */
  #observe(lease: Lease): void {
    this.#lease = lease;
    const key = recordKey(lease.spec);
    if (key !== this.#observedKey) {
      this.#observedKey = key;
      this.#observedAt = this.#clock.now();
    }
  }

  #holdsRecord(): boolean {
    return this.#lease?.spec?.holderIdentity === this.identity;
  }

  #reportTransition(): void {
    const holder = this.#lease?.spec?.holderIdentity ?? "";
    if (holder === this.#reportedLeader) return;
    this.#reportedLeader = holder;
    if (holder === "" || !this.#callbacks.onNewLeader) return;
    try {
      this.#callbacks.onNewLeader(holder);
    } catch (error) {
      this.#fail(error);
    }
  }

  #fail(error: unknown): void {
    this.#callbackError ??= { error };
    this.#leading?.abort(error);
  }

  #desiredSpec(now: number): LeaseSpec {
    const stamp = microTime(now);
    return {
      ...this.#lease?.spec,
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: stamp,
      renewTime: stamp,
      leaseTransitions: 0,
    };
  }

  /** client-go's tryAcquireOrRenew. */
  async #attempt(signal: AbortSignal | undefined): Promise<Attempt> {
    const call = this.#call(signal);
    const now = this.#clock.now();

    // 1. The leader with a lease valid by its own observation updates optimistically, without a
    //    read: the cached resourceVersion makes a stale write a conflict.
    if (
      this.#lease &&
      this.#holdsRecord() &&
      this.#observedAt + this.leaseDurationMs > now &&
      this.#lease.metadata?.resourceVersion
    ) {
      const spec = this.#desiredSpec(now);
      spec.acquireTime = this.#lease.spec?.acquireTime ?? spec.acquireTime;
      spec.leaseTransitions = this.#lease.spec?.leaseTransitions ?? 0;
      try {
        this.#observe(await this.#leases.update({ ...this.#lease, spec }, call));
        return "acquired";
      } catch (error) {
        this.#report(error);
        if (signal?.aborted) return "failed";
        // Fall through to a fresh read.
      }
    }

    // 2. Read the record, or create it.
    let current: Lease;
    try {
      current = await this.#leases.get(this.name, call);
    } catch (error) {
      if (!isNotFound(error)) {
        this.#report(error);
        return "failed";
      }
      try {
        const created = await this.#leases.create(
          {
            apiVersion: "coordination.k8s.io/v1",
            kind: "Lease",
            metadata: { name: this.name, namespace: this.namespace },
            spec: { ...this.#desiredSpec(now), leaseTransitions: 0 },
          },
          call,
        );
        this.#observe(created);
        return "acquired";
      } catch (createError) {
        this.#report(createError);
        return "failed";
      }
    }
    this.#observe(current);

    // 3. Someone else holds it, and it has not been unchanged for its duration on our clock.
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? "";
    const validUntil = this.#observedAt + (spec.leaseDurationSeconds ?? 0) * 1000;
    if (holder !== "" && holder !== this.identity && validUntil > this.#clock.now()) return "held";

    // 4. Take it over (or renew our own), with the resourceVersion just read.
    const desired = this.#desiredSpec(now);
    if (holder === this.identity) {
      desired.acquireTime = spec.acquireTime ?? desired.acquireTime;
      desired.leaseTransitions = spec.leaseTransitions ?? 0;
    } else {
      desired.leaseTransitions = (spec.leaseTransitions ?? 0) + 1;
    }
    try {
      this.#observe(await this.#leases.update({ ...current, spec: desired }, call));
      return "acquired";
    } catch (error) {
      this.#report(error);
      return "failed";
    }
  }

  async #acquire(signal: AbortSignal | undefined): Promise<boolean> {
    for (;;) {
      if (signal?.aborted || this.#callbackError) return false;
      const started = this.#clock.now();
      const result = await this.#attempt(signal);
      this.#reportTransition();
      if (result === "acquired") {
        this.#lastRenewStart = started;
        return true;
      }
      if (this.#callbackError) return false;
      const wait = this.retryPeriodMs * (1 + this.#random() * JITTER_FACTOR);
      try {
        await this.#clock.sleep(wait, signal);
      } catch {
        return false;
      }
    }
  }

  async #lead(signal: AbortSignal | undefined): Promise<void> {
    const leading = new AbortController();
    this.#leading = leading;
    const stop = (reason: unknown) => {
      if (!leading.signal.aborted) leading.abort(reason);
    };
    const onRunAbort = () => stop(signal?.reason);
    signal?.addEventListener("abort", onRunAbort, { once: true });

    // Leadership ends at the deadline even while a renewal is still in flight.
    let deadlineTimer: AbortController | undefined;
    const armDeadline = () => {
      deadlineTimer?.abort();
      const timer = new AbortController();
      deadlineTimer = timer;
      const wait = this.#lastRenewStart + this.renewDeadlineMs - this.#clock.now();
      this.#clock.sleep(wait, timer.signal).then(
        () =>
          stop(
            new LeadershipLostError(
              "deadline",
              `${this.identity}: no renewal of ${this.namespace}/${this.name} succeeded within ${this.renewDeadlineMs} ms`,
            ),
          ),
        () => {},
      );
    };
    armDeadline();

    let work: Promise<void>;
    try {
      work = Promise.resolve(this.#callbacks.onStartedLeading({ signal: leading.signal }));
    } catch (error) {
      work = Promise.reject(error);
    }
    const workDone = work.then(
      () => {},
      (error) => this.#fail(error),
    );

    while (!leading.signal.aborted) {
      try {
        await this.#clock.sleep(this.retryPeriodMs, leading.signal);
      } catch {
        break;
      }
      const started = this.#clock.now();
      const result = await this.#attempt(leading.signal);
      this.#reportTransition();
      if (leading.signal.aborted) break;
      if (result === "acquired") {
        this.#lastRenewStart = started;
        armDeadline();
      } else if (result === "held") {
        stop(
          new LeadershipLostError(
            "taken",
            `${this.namespace}/${this.name} is held by ${this.#lease?.spec?.holderIdentity}`,
          ),
        );
      }
    }
    deadlineTimer?.abort();
    signal?.removeEventListener("abort", onRunAbort);

    await workDone;
    if (this.releaseOnCancel) await this.#release();
    this.#leading = undefined;
    try {
      await this.#callbacks.onStoppedLeading();
    } catch (error) {
      this.#callbackError ??= { error };
    }
    const failure = this.#failure();
    if (failure) throw failure.error;
  }

  /**
   * Gives the Lease up if the record still names this candidate: an empty holder with a one-second
   * duration. A conflict is answered with a fresh read and another try while the record is ours;
   * other failures are retried every retry period; at most 10 tries, and not past the renew
   * deadline.
   */
  async #release(): Promise<void> {
    const until = this.#clock.now() + this.renewDeadlineMs;
    for (let tries = 0; tries < 10 && this.#lease && this.#holdsRecord(); tries++) {
      const stamp = microTime(this.#clock.now());
      const spec: LeaseSpec = {
        ...this.#lease.spec,
        holderIdentity: "",
        leaseDurationSeconds: 1,
        acquireTime: stamp,
        renewTime: stamp,
        leaseTransitions: this.#lease.spec?.leaseTransitions ?? 0,
      };
      try {
        this.#observe(await this.#leases.update({ ...this.#lease, spec }, this.#call(undefined)));
        this.#reportTransition();
        return;
      } catch (error) {
        this.#report(error);
        if (this.#clock.now() >= until) return;
        if (!isConflict(error)) await this.#clock.sleep(this.retryPeriodMs);
        try {
          this.#observe(await this.#leases.get(this.name, this.#call(undefined)));
        } catch (readError) {
          this.#report(readError);
          if (isNotFound(readError)) return;
        }
      }
    }
  }
}
