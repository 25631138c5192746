/**
 * An event recorder in the manner of client-go's `tools/events`: `event()` returns at once, and a
 * background writer sends the events to the API server, turning repeats into a series, limiting
 * what one source may say about one object, and retrying writes that failed for want of a server.
 */
import type { ObjectReference } from "../api/core/v1/index.ts";
import type { Event as EventsV1Event } from "../api/events/v1/index.ts";
import type { Client } from "../client/client.ts";
import { type Clock, realClock } from "../core/clock.ts";
import {
  ApiError,
  DecodeError,
  isAlreadyExists,
  isNotFound,
  RequestBuildError,
  TimeoutError,
  TransportError,
} from "../core/errors.ts";
import type { KubernetesObject } from "../core/meta.ts";
import { apiVersionOf } from "../core/resource.ts";
import { utf8Length, validateQualifiedName } from "../core/validation.ts";
import type { CallOptions } from "../rest/client.ts";
import { TokenBucket } from "../rest/ratelimit.ts";
import {
  coreV1Sink,
  type EventSink,
  type EventsApiVersion,
  eventsV1Sink,
  servesEventsV1,
} from "./sink.ts";

/** events.k8s.io/v1 limits (`k8s.io/kubernetes/pkg/apis/core/validation`). */
export const NOTE_LENGTH_LIMIT = 1024;
export const REASON_LENGTH_LIMIT = 128;
export const ACTION_LENGTH_LIMIT = 128;
export const REPORTING_INSTANCE_LENGTH_LIMIT = 128;

/** client-go's values. */
export const DEFAULT_BUFFER_SIZE = 1000;
export const DEFAULT_MAX_TRIES = 12;
export const DEFAULT_RETRY_INTERVAL_MS = 10_000;
export const DEFAULT_SPAM_BURST = 25;
export const DEFAULT_SPAM_REFILL_INTERVAL_MS = 5 * 60_000;
export const DEFAULT_SERIES_FINISH_MS = 6 * 60_000;
/** kubekit's: how often a growing series is written after its first update. */
export const DEFAULT_SERIES_UPDATE_INTERVAL_MS = 30_000;
/**
 * The longest series update interval allowed: client-go rewrites live series every 30 minutes so
 * that they outlive the API server's event TTL (1 hour by default).
 */
export const MAX_SERIES_UPDATE_INTERVAL_MS = 30 * 60_000;

const CACHE_SIZE = 4096;

export type EventType = "Normal" | "Warning";

export interface EventOptions {
  type: EventType;
  /** Why the action was taken, in UpperCamelCase (`FailedMount`); at most 128 characters. */
  reason: string;
  /** What was done or failed (`Scheduling`, `Update`); at most 128 characters. */
  action: string;
  /** For people; cut to 1 KiB (UTF-8). */
  note?: string;
  /** A second object the event is about (an object, or a reference to one). */
  related?: KubernetesObject | ObjectReference;
}

export interface EventRecorderOptions {
  /** The controller's name as a qualified name, e.g. `example.com/my-controller`. */
  reportingController: string;
  /** This instance of it (a pod name, `<controller>-<hostname>`); at most 128 characters. */
  reportingInstance: string;
  /** Which Events API to write; found once with a GET of `/apis/events.k8s.io/v1` when unset. */
  api?: EventsApiVersion;
  clock?: Clock;
  /** Randomness for the first retry delay; `Math.random` when unset. */
  random?: () => number;
  /** Distinct events waiting to be written; more are dropped (and counted). 1000 when unset. */
  bufferSize?: number;
  /** Tries per write before the event is given up; 12 when unset. */
  maxTries?: number;
  /** The wait between tries (the first wait is a random part of it); 10 s when unset. */
  retryIntervalMs?: number;
  /** Distinct events one source may emit about one object at once; 25 when unset. */
  spamBurst?: number;
  /** One more is allowed per this many milliseconds; 5 min when unset. */
  spamRefillIntervalMs?: number;
  /**
   * The least time between two writes of one growing series after its first (count 2), which is
   * written at once. 30 s when unset; at most 30 min (client-go's refresh period). A series is
   * written again only when its count changed. `close({ drain: true })` writes every count still
   * pending.
   */
  seriesUpdateIntervalMs?: number;
  /** A series not seen for this long is finished: a repeat then starts a new Event. 6 min. */
  seriesFinishMs?: number;
  /** Timeout of each write; the client's default when unset. */
  requestTimeoutMs?: number;
  /** Told about each event given up: rejected by the server, or out of tries. */
  onError?(error: unknown, event: EventsV1Event): void;
}

export interface EventRecorderStats {
  /** `event()` calls accepted, repeats included. */
  recorded: number;
  /** Events dropped because the buffer was full or the recorder closed. */
  dropped: number;
  /** Events dropped by the per-object spam filter. */
  spamFiltered: number;
  /** Successful writes (creates and series updates). */
  written: number;
  /** Failed tries that were retried. */
  retried: number;
  /** Events given up: rejected by the server or out of tries. */
  failed: number;
  /** Distinct events with a write pending (queued, waiting to retry, or in flight). */
  pending: number;
}

export interface CloseOptions {
  /**
   * true (the default): write everything pending (every series at its latest count), with the
   * usual retries, before resolving. false: abort writes in flight and drop what is pending.
   */
  drain?: boolean;
  /** With `drain`, give up on what is still pending after this long. */
  timeoutMs?: number;
}

interface Entry {
  key: string;
  /** The first occurrence, with the latest `series`. */
  event: EventsV1Event;
  lastAt: number;
  created: boolean;
  /** The series count the server has (0: none written). */
  writtenCount: number;
  lastWriteAt: number;
  queued: boolean;
  inFlight: boolean;
  timer: AbortController | undefined;
  tries: number;
  /** Finished: forget it once it is written. */
  finishing: boolean;
}

function refOf(obj: KubernetesObject | ObjectReference, field: string): ObjectReference {
  if (typeof obj !== "object" || obj === null)
    throw new RequestBuildError(field, "must be an object or an ObjectReference");
  return "metadata" in obj && obj.metadata !== undefined
    ? objectReference(obj as KubernetesObject)
    : { ...(obj as ObjectReference) };
}

/**
 * An ObjectReference to `obj` (as client-go's `reference.GetReference`: apiVersion, kind,
 * namespace, name, uid and resourceVersion). Objects listed from the API server carry no
 * `apiVersion` and `kind`; pass their resource type (`objectReference(ns, Namespace)`) to fill them.
 */
export function objectReference(
  obj: KubernetesObject,
  resource?: { group: string; version: string; kind: string },
): ObjectReference {
  const ref: ObjectReference = {};
  const apiVersion = resource ? apiVersionOf(resource) : obj.apiVersion;
  const kind = resource ? resource.kind : obj.kind;
  if (apiVersion) ref.apiVersion = apiVersion;
  if (kind) ref.kind = kind;
  const m = obj.metadata ?? {};
  if (m.namespace) ref.namespace = m.namespace;
  if (m.name) ref.name = m.name;
  if (m.uid) ref.uid = m.uid;
  if (m.resourceVersion) ref.resourceVersion = m.resourceVersion;
  return ref;
}

function refKey(ref: ObjectReference | undefined): unknown[] {
  if (!ref) return [];
  return [
    ref.apiVersion ?? "",
    ref.kind ?? "",
    ref.namespace ?? "",
    ref.name ?? "",
    ref.uid ?? "",
    ref.resourceVersion ?? "",
    ref.fieldPath ?? "",
  ];
}

/** `text` cut to at most `limit` bytes of UTF-8, on a character boundary. */
export function truncateUtf8(text: string, limit: number): string {
  if (utf8Length(text) <= limit) return text;
  let out = "";
  let length = 0;
  for (const ch of text) {
    length += utf8Length(ch);
    if (length > limit) break;
    out += ch;
  }
  return out;
}

function microTime(ms: number): string {
  return `${new Date(Math.floor(ms)).toISOString().slice(0, -1)}000Z`;
}

/** Whether a failed write may succeed if tried again (no server, or a server in trouble). */
function retryable(error: unknown): boolean {
  if (error instanceof ApiError) return error.statusCode >= 500 || error.statusCode === 429;
  return (
    error instanceof TransportError || error instanceof TimeoutError || error instanceof DecodeError
  );
}

function count(name: string, value: number | undefined, fallback: number, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < min)
    throw new RequestBuildError(`options.${name}`, `must be a number >= ${min}, got ${v}`);
  return v;
}

/**
 * Records events about objects, as client-go's `tools/events` recorder (with its broadcaster).
 *
 * ```ts
 * const recorder = new EventRecorder(client, {
 *   reportingController: "example.com/my-controller",
 *   reportingInstance: `my-controller-${hostname()}`,
 * });
 * recorder.event(pod, { type: "Warning", reason: "FailedSync", action: "Sync", note: err.message });
 * await recorder.close({ drain: true });
 * ```
 *
 * - `event()` never blocks: at most `bufferSize` distinct events wait to be written; beyond that
 *   they are dropped and counted in `stats.dropped`.
 * - Isomorphic events (same regarding and related objects, type, reason, action, reporting
 *   controller and instance) become one Event with a `series`: the second occurrence writes
 *   `{ count: 2 }` at once, later ones at most every `seriesUpdateIntervalMs`.
 * - A spam filter allows each source 25 new Events about one object, then one per 5 minutes (a
 *   token bucket per source and object, as client-go's); repeats of an Event cost nothing.
 * - A write that fails for want of a server (no connection, timeouts, 5xx, 429) is tried again,
 *   up to `maxTries` times, `retryIntervalMs` apart (the first wait random); a rejected one (403,
 *   422, 409 AlreadyExists, ...) is given up at once.
 */
export class EventRecorder {
  readonly reportingController: string;
  readonly reportingInstance: string;
  readonly #client: Client | undefined;
  #sink: EventSink | undefined;
  #detecting: Promise<EventSink> | undefined;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #bufferSize: number;
  readonly #maxTries: number;
  readonly #retryIntervalMs: number;
  readonly #spamBurst: number;
  readonly #spamQps: number;
  readonly #seriesUpdateIntervalMs: number;
  readonly #seriesFinishMs: number;
  readonly #requestTimeoutMs: number | undefined;
  readonly #onError: EventRecorderOptions["onError"];

  readonly #entries = new Map<string, Entry>();
  readonly #spam = new Map<string, TokenBucket>();
  readonly #queue: Entry[] = [];
  readonly #pending = new Set<Entry>();
  readonly #abort = new AbortController();
  #pumping = false;
  #lastTidy = 0;
  #closed = false;
  #draining = false;
  #closing: Promise<void> | undefined;
  #idle: (() => void)[] = [];
  #lastNanos = 0n;
  readonly #stats = { recorded: 0, dropped: 0, spamFiltered: 0, written: 0, retried: 0, failed: 0 };

  /** `client` is a Client (the API is chosen per `options.api`), or an `EventSink` of one's own. */
  constructor(client: Client | EventSink, options: EventRecorderOptions) {
    const controller = options?.reportingController;
    if (typeof controller !== "string" || controller === "")
      throw new RequestBuildError("options.reportingController", "is required");
    const problems = validateQualifiedName(controller);
    if (problems.length > 0)
      throw new RequestBuildError("options.reportingController", problems.join("; "));
    const instance = options.reportingInstance;
    if (typeof instance !== "string" || instance === "")
      throw new RequestBuildError("options.reportingInstance", "is required");
    if (instance.length > REPORTING_INSTANCE_LENGTH_LIMIT)
      throw new RequestBuildError(
        "options.reportingInstance",
        `must be at most ${REPORTING_INSTANCE_LENGTH_LIMIT} characters`,
      );
    this.reportingController = controller;
    this.reportingInstance = instance;
    if (typeof (client as Client).api === "function") {
      this.#client = client as Client;
      if (options.api === "events.k8s.io/v1") this.#sink = eventsV1Sink(this.#client);
      else if (options.api === "v1") this.#sink = coreV1Sink(this.#client);
      else if (options.api !== undefined)
        throw new RequestBuildError("options.api", `must be "events.k8s.io/v1" or "v1"`);
    } else {
      this.#sink = client as EventSink;
    }
    this.#clock = options.clock ?? realClock;
    this.#random = options.random ?? Math.random;
    this.#bufferSize = count("bufferSize", options.bufferSize, DEFAULT_BUFFER_SIZE);
    this.#maxTries = count("maxTries", options.maxTries, DEFAULT_MAX_TRIES);
    this.#retryIntervalMs = count(
      "retryIntervalMs",
      options.retryIntervalMs,
      DEFAULT_RETRY_INTERVAL_MS,
      0,
    );
    this.#spamBurst = count("spamBurst", options.spamBurst, DEFAULT_SPAM_BURST);
    this.#spamQps =
      1000 /
      count("spamRefillIntervalMs", options.spamRefillIntervalMs, DEFAULT_SPAM_REFILL_INTERVAL_MS);
    this.#seriesUpdateIntervalMs = count(
      "seriesUpdateIntervalMs",
      options.seriesUpdateIntervalMs,
      DEFAULT_SERIES_UPDATE_INTERVAL_MS,
      0,
    );
    this.#seriesFinishMs = count(
      "seriesFinishMs",
      options.seriesFinishMs,
      DEFAULT_SERIES_FINISH_MS,
    );
    if (this.#seriesUpdateIntervalMs > MAX_SERIES_UPDATE_INTERVAL_MS)
      throw new RequestBuildError(
        "options.seriesUpdateIntervalMs",
        `must be at most ${MAX_SERIES_UPDATE_INTERVAL_MS} ms`,
      );
    this.#lastTidy = this.#clock.now();
    this.#requestTimeoutMs = options.requestTimeoutMs;
    this.#onError = options.onError;
  }

  get stats(): EventRecorderStats {
    return { ...this.#stats, pending: this.#pending.size };
  }

  /**
   * Records an event about `regarding` (an object, or a reference to one) and returns at once. The
   * Event goes to the regarding object's namespace, or `default` for a cluster-scoped object.
   * Throws only for arguments no server would accept (an unknown type, an empty reason or action).
   */
  event(regarding: KubernetesObject | ObjectReference, options: EventOptions): void {
    if (options?.type !== "Normal" && options?.type !== "Warning")
      throw new RequestBuildError("type", `must be "Normal" or "Warning", not ${options?.type}`);
    for (const [field, value, limit] of [
      ["reason", options.reason, REASON_LENGTH_LIMIT],
      ["action", options.action, ACTION_LENGTH_LIMIT],
    ] as const) {
      if (typeof value !== "string" || value === "")
        throw new RequestBuildError(field, "must be a non-empty string");
      if (value.length > limit)
        throw new RequestBuildError(field, `must be at most ${limit} characters`);
    }
    const ref = refOf(regarding, "regarding");
    if (!ref.name) throw new RequestBuildError("regarding", "must name an object");
    const related = options.related === undefined ? undefined : refOf(options.related, "related");

    if (this.#closed) {
      this.#stats.dropped++;
      return;
    }
    const now = this.#clock.now();
    const key = JSON.stringify([
      options.type,
      options.action,
      options.reason,
      this.reportingController,
      this.reportingInstance,
      refKey(ref),
      refKey(related),
    ]);

    if (now - this.#lastTidy >= this.#seriesFinishMs) this.#tidy(now);
    const existing = this.#entries.get(key);
    if (existing && !existing.finishing && now - existing.lastAt < this.#seriesFinishMs) {
      this.#stats.recorded++;
      existing.lastAt = now;
      const series = existing.event.series;
      existing.event.series = {
        count: (series?.count ?? 1) + 1,
        lastObservedTime: microTime(now),
      };
      this.#entries.delete(key); // most recently used last
      this.#entries.set(key, existing);
      this.#schedule(existing);
      return;
    }

    if (this.#pending.size >= this.#bufferSize) {
      this.#stats.dropped++;
      return;
    }
    if (!this.#allow(ref)) {
      this.#stats.spamFiltered++;
      return;
    }
    this.#stats.recorded++;
    const event: EventsV1Event = {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: {
        name: `${ref.name}.${this.#nanos(now).toString(16)}`,
        namespace: ref.namespace || "default",
      },
      eventTime: microTime(now),
      reportingController: this.reportingController,
      reportingInstance: this.reportingInstance,
      action: options.action,
      reason: options.reason,
      regarding: ref,
      type: options.type,
    };
    if (related) event.related = related;
    if (options.note !== undefined)
      event.note = truncateUtf8(String(options.note), NOTE_LENGTH_LIMIT);
    const entry: Entry = {
      key,
      event,
      lastAt: now,
      created: false,
      writtenCount: 0,
      lastWriteAt: now,
      queued: false,
      inFlight: false,
      timer: undefined,
      tries: 0,
      finishing: false,
    };
    if (existing) this.#entries.delete(key);
    this.#entries.set(key, entry);
    this.#evict();
    this.#schedule(entry);
  }

  /**
   * Stops accepting events, then writes what is pending (`drain`, the default) or drops it.
   * Later `event()` calls are dropped. Calling it again returns the same promise.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options.drain ?? true, options.timeoutMs);
    return this.#closing;
  }

  async #close(drain: boolean, timeoutMs: number | undefined): Promise<void> {
    this.#closed = true;
    if (drain) {
      this.#draining = true;
      for (const entry of this.#pending) {
        if (entry.timer) {
          entry.timer.abort();
          entry.timer = undefined;
          this.#enqueue(entry);
        }
      }
      if (this.#pending.size > 0) {
        const idle = new Promise<void>((resolve) => this.#idle.push(resolve));
        if (timeoutMs === undefined) await idle;
        else {
          const timer = new AbortController();
          await Promise.race([idle, this.#clock.sleep(timeoutMs, timer.signal).catch(() => {})]);
          timer.abort();
        }
      }
    }
    this.#stats.dropped += this.#pending.size;
    for (const entry of this.#pending) entry.timer?.abort();
    this.#pending.clear();
    this.#queue.length = 0;
    this.#abort.abort();
    this.#entries.clear();
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close({ drain: true });
  }

  /** Unique-ish unix nanoseconds for names: the clock's milliseconds, then a counter. */
  #nanos(now: number): bigint {
    let nanos =
      BigInt(Math.floor(now)) * 1_000_000n + BigInt(Math.floor(this.#random() * 1000)) * 1000n;
    if (nanos <= this.#lastNanos) nanos = this.#lastNanos + 1n;
    this.#lastNanos = nanos;
    return nanos;
  }

  #allow(ref: ObjectReference): boolean {
    const key = JSON.stringify([
      this.reportingController,
      this.reportingInstance,
      ref.apiVersion ?? "",
      ref.kind ?? "",
      ref.namespace ?? "",
      ref.name ?? "",
      ref.uid ?? "",
    ]);
    let bucket = this.#spam.get(key);
    if (bucket) this.#spam.delete(key);
    else
      bucket = new TokenBucket({ qps: this.#spamQps, burst: this.#spamBurst, clock: this.#clock });
    this.#spam.set(key, bucket);
    if (this.#spam.size > CACHE_SIZE) this.#spam.delete(this.#spam.keys().next().value!);
    return bucket.tryAcquire();
  }

  /** Forgets the least recently used entries with nothing to write, beyond the cache size. */
  #evict(): void {
    if (this.#entries.size <= CACHE_SIZE) return;
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= CACHE_SIZE) break;
      if (!this.#pending.has(entry)) this.#entries.delete(key);
    }
  }

  #dirty(entry: Entry): boolean {
    return (
      !entry.created ||
      (entry.event.series !== undefined && entry.event.series.count !== entry.writtenCount)
    );
  }

  /** Puts a dirty entry on its way: now, or when its series may be written again. */
  #schedule(entry: Entry): void {
    if (this.#abort.signal.aborted) return;
    if (!this.#dirty(entry) || entry.queued || entry.inFlight || entry.timer) return;
    this.#pending.add(entry);
    const wait =
      !entry.created || entry.writtenCount === 0 || this.#draining
        ? 0
        : entry.lastWriteAt + this.#seriesUpdateIntervalMs - this.#clock.now();
    this.#after(entry, wait);
  }

  #after(entry: Entry, wait: number): void {
    if (wait <= 0) {
      this.#enqueue(entry);
      return;
    }
    const timer = new AbortController();
    entry.timer = timer;
    this.#clock.sleep(wait, timer.signal).then(
      () => {
        entry.timer = undefined;
        this.#enqueue(entry);
      },
      () => {},
    );
  }

  #enqueue(entry: Entry): void {
    if (entry.queued || this.#abort.signal.aborted) return;
    entry.queued = true;
    this.#queue.push(entry);
    if (!this.#pumping) void this.#pump();
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      for (;;) {
        const entry = this.#queue.shift();
        if (!entry || this.#abort.signal.aborted) break;
        entry.queued = false;
        entry.inFlight = true;
        try {
          await this.#write(entry);
        } finally {
          entry.inFlight = false;
        }
        this.#settle(entry);
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** After a write: more to write, or done (and maybe forgotten). */
  #settle(entry: Entry): void {
    if (this.#abort.signal.aborted) return;
    if (!this.#pending.has(entry) || entry.timer || entry.queued) return;
    if (this.#dirty(entry)) {
      this.#pending.delete(entry);
      this.#schedule(entry);
      return;
    }
    this.#done(entry);
  }

  #done(entry: Entry): void {
    this.#pending.delete(entry);
    if (entry.finishing && this.#entries.get(entry.key) === entry) this.#entries.delete(entry.key);
    if (this.#pending.size === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  #giveUp(entry: Entry, error: unknown): void {
    this.#stats.failed++;
    if (this.#entries.get(entry.key) === entry) this.#entries.delete(entry.key);
    this.#done(entry);
    try {
      this.#onError?.(error, structuredClone(entry.event));
    } catch {
      // A reporting hook that throws must not stop the writer.
    }
  }

  async #resolveSink(): Promise<EventSink> {
    if (this.#sink) return this.#sink;
    const client = this.#client!;
    this.#detecting ??= servesEventsV1(client, this.#call()).then(
      (v1) => {
        this.#sink = v1 ? eventsV1Sink(client) : coreV1Sink(client);
        return this.#sink;
      },
      (error: unknown) => {
        this.#detecting = undefined;
        throw error;
      },
    );
    return this.#detecting;
  }

  #call(): CallOptions {
    return this.#requestTimeoutMs === undefined
      ? { signal: this.#abort.signal }
      : { signal: this.#abort.signal, timeoutMs: this.#requestTimeoutMs };
  }

  async #write(entry: Entry): Promise<void> {
    if (!this.#dirty(entry)) return;
    const snapshot = structuredClone(entry.event);
    const now = this.#clock.now();
    try {
      const sink = await this.#resolveSink();
      if (!entry.created) {
        // The first occurrence; a series follows as an update. After a NotFound of the series
        // update the Event is created again with its series.
        if (entry.writtenCount === 0) delete snapshot.series;
        await sink.create(snapshot, this.#call());
        entry.created = true;
      } else {
        try {
          await sink.updateSeries(snapshot, this.#call());
        } catch (error) {
          if (!isNotFound(error)) throw error;
          entry.created = false;
          await sink.create(snapshot, this.#call());
          entry.created = true;
        }
      }
    } catch (error) {
      if (this.#abort.signal.aborted) return;
      // AlreadyExists for an Event with a series: it was created meanwhile; update it next time.
      const again = retryable(error) || (isAlreadyExists(error) && snapshot.series !== undefined);
      if (isAlreadyExists(error) && snapshot.series !== undefined) entry.created = true;
      entry.tries++;
      if (!again || entry.tries >= this.#maxTries) {
        this.#giveUp(entry, error);
        return;
      }
      this.#stats.retried++;
      const wait =
        entry.tries === 1 ? this.#random() * this.#retryIntervalMs : this.#retryIntervalMs;
      this.#after(entry, wait);
      return;
    }
    this.#stats.written++;
    entry.tries = 0;
    entry.lastWriteAt = now;
    if (snapshot.series) entry.writtenCount = snapshot.series.count;
  }

  /**
   * client-go's finishSeries, done lazily (no timer keeps the process alive): entries not seen
   * for `seriesFinishMs` are forgotten once written.
   */
  #tidy(now: number): void {
    this.#lastTidy = now;
    for (const entry of [...this.#entries.values()]) {
      if (now - entry.lastAt < this.#seriesFinishMs) continue;
      entry.finishing = true;
      if (!this.#pending.has(entry)) this.#entries.delete(entry.key);
    }
  }
}
