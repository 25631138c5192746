/**
 * `watcher()`: a list+watch that heals itself, as client-go's Reflector does, exposed as an async
 * iterable of events in the shape kube-rs's `watcher()` uses.
 *
 * Every (re)list is announced by `init`, followed by one `initApply` per object and `initDone`;
 * a consumer keeping state must replace everything it knew with what arrived between `init` and
 * `initDone` (objects it knew that did not arrive were deleted while it was not looking). After
 * `initDone` come `apply` (added or modified) and `delete` events. A new `init` may come at any
 * time: after a 410 Gone, or when a list failed half-way (the partial list is then discarded).
 *
 * Transient failures never end the iteration: they go to `onError` with the phase that failed and
 * the watcher retries with client-go's backoff. The iteration ends only when `signal` aborts or the
 * consumer stops iterating (`break`), and then it closes its connection.
 */
import { type Clock, realClock } from "../core/clock.ts";
import { ApiError, isResourceExpired, isTooManyRequests } from "../core/errors.ts";
import type { KubernetesList, KubernetesObject } from "../core/meta.ts";
import type { ListOptions, WatchOptions } from "../core/options.ts";
import type { CallOptions, WatchCallOptions } from "../rest/client.ts";
import type { WatchEvent } from "../rest/watch.ts";
import { Backoff, type BackoffOptions } from "./backoff.ts";

/** What a watcher needs of an `Api` (typed, dynamic or metadata-only). */
export interface ListWatch<T> {
  list(options?: ListOptions & CallOptions): Promise<KubernetesList<T>>;
  watch(options?: WatchOptions & WatchCallOptions): AsyncIterable<WatchEvent<T>>;
}

export type WatcherEvent<T> =
  | { type: "init" }
  | { type: "initApply"; object: T }
  | { type: "initDone"; resourceVersion: string }
  | { type: "apply"; object: T }
  | { type: "delete"; object: T };

/** Which step failed: the (initial or re-)list, opening a watch, or reading an open watch. */
export type WatcherPhase = "list" | "watchStart" | "watchStream";

export interface WatcherOptions {
  labelSelector?: ListOptions["labelSelector"];
  fieldSelector?: ListOptions["fieldSelector"];
  signal?: AbortSignal;
  /** Told of every transient failure; the watcher carries on regardless. */
  onError?: (error: unknown, phase: WatcherPhase) => void;
  /** Objects per list page; 500 as client-go's pager; 0 lists in one request. */
  pageSize?: number;
  /**
   * Streaming lists (`sendInitialEvents=true`): the initial state arrives over the watch itself,
   * so no large list response is ever held in memory. `"auto"` (the default) uses them and falls
   * back to list+watch for good if the server refuses.
   */
  streamingList?: "auto" | "never";
  /** A watch that receives nothing (not even a bookmark) for this long is restarted; 0: never. */
  stallTimeoutMs?: number;
  /** Watches are asked to end after a random time between this and twice this; 300 s by default. */
  minWatchTimeoutSeconds?: number;
  backoff?: Omit<BackoffOptions, "clock">;
  clock?: Clock;
  random?: () => number;
}

/** The annotation on the bookmark that ends a streaming list's initial events. */
export const INITIAL_EVENTS_END = "k8s.io/initial-events-end";

/** Bookmarks come about once a minute; this leaves room for two to be missed. */
export const DEFAULT_STALL_TIMEOUT_MS = 150_000;

interface Meta {
  metadata?: { resourceVersion?: string; annotations?: Record<string, string> };
}

function rvOf(obj: unknown): string | undefined {
  return (obj as Meta)?.metadata?.resourceVersion || undefined;
}

/** Whether an error says the server will not do streaming lists (as opposed to failing now). */
function refusesStreaming(err: unknown): boolean {
  return (
    err instanceof ApiError &&
    (err.statusCode === 400 ||
      err.statusCode === 422 ||
      err.statusCode === 403 ||
      err.statusCode === 501)
  );
}

class Aborted {}

export async function* watcher<T extends KubernetesObject>(
  api: ListWatch<T>,
  options: WatcherOptions = {},
): AsyncGenerator<WatcherEvent<T>, void, undefined> {
  const { signal, onError } = options;
  const clock = options.clock ?? realClock;
  const random = options.random ?? Math.random;
  const backoff = new Backoff({ ...options.backoff, clock, random });
  const pageSize = options.pageSize ?? 500;
  const stallTimeoutMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  const minTimeout = options.minWatchTimeoutSeconds ?? 300;
  const selectors = {
    ...(options.labelSelector === undefined ? {} : { labelSelector: options.labelSelector }),
    ...(options.fieldSelector === undefined ? {} : { fieldSelector: options.fieldSelector }),
  };
  let streaming = options.streamingList !== "never";
  let rv: string | undefined;
  let needList = true;

  const report = (err: unknown, phase: WatcherPhase) => {
    if (signal?.aborted) throw new Aborted();
    try {
      onError?.(err, phase);
    } catch {
      // A throwing error handler must not stop the watcher it observes.
    }
  };
  const pause = async () => {
    try {
      await backoff.wait(signal);
    } catch {
      throw new Aborted();
    }
  };
  const watchTimeout = () => Math.floor(minTimeout * (1 + random()));

  try {
    while (!signal?.aborted) {
      if (needList && streaming) {
        // Streaming list: the initial state, then live events, on one watch.
        let synced = false;
        let sawInit = false;
        try {
          const stream = api.watch({
            ...selectors,
            sendInitialEvents: true,
            resourceVersionMatch: "NotOlderThan",
            resourceVersion: "",
            allowWatchBookmarks: true,
            timeoutSeconds: watchTimeout(),
            ...(signal ? { signal } : {}),
            stallTimeoutMs,
          } as WatchOptions & WatchCallOptions);
          const started = clock.now();
          let events = 0;
          for await (const ev of stream) {
            events++;
            if (!sawInit) {
              sawInit = true;
              yield { type: "init" };
            }
            if (!synced) {
              if (ev.type === "BOOKMARK") {
                if ((ev.object as Meta).metadata?.annotations?.[INITIAL_EVENTS_END] === "true") {
                  rv = rvOf(ev.object) ?? rv ?? "";
                  synced = true;
                  needList = false;
                  yield { type: "initDone", resourceVersion: rv };
                }
              } else if (ev.type !== "DELETED") {
                yield { type: "initApply", object: ev.object };
              }
              continue;
            }
            rv = rvOf(ev.object) ?? rv;
            if (ev.type === "ADDED" || ev.type === "MODIFIED")
              yield { type: "apply", object: ev.object };
            else if (ev.type === "DELETED") yield { type: "delete", object: ev.object };
          }
          if (!synced && !sawInit && events === 0 && clock.now() - started < 1000) {
            throw new Error("the streaming list ended at once without any event");
          }
          // Ended: a synced stream resumes as a plain watch from `rv`; an unsynced one relists.
        } catch (err) {
          if (signal?.aborted) return;
          if (!sawInit && refusesStreaming(err)) {
            // This server (or this resource) does not do streaming lists: list+watch from now on.
            streaming = false;
            continue;
          }
          report(err, synced ? "watchStream" : "list");
          if (!synced) needList = true;
          if (!isResourceExpired(err) && !(err instanceof ApiError && err.statusCode === 410))
            await pause();
        }
        continue;
      }

      if (needList) {
        yield { type: "init" };
        try {
          let token: string | undefined;
          let limit = pageSize;
          let listRv = "";
          for (;;) {
            let page: KubernetesList<T>;
            try {
              page = await api.list({
                ...selectors,
                ...(limit > 0 ? { limit } : {}),
                ...(token ? { continue: token } : {}),
                ...(signal ? { signal } : {}),
              });
            } catch (err) {
              if (token && isResourceExpired(err)) {
                // The snapshot behind the continue token is gone: list everything in one go.
                yield { type: "init" };
                token = undefined;
                limit = 0;
                continue;
              }
              throw err;
            }
            if (!token) listRv = page.metadata?.resourceVersion ?? "";
            for (const item of page.items ?? []) yield { type: "initApply", object: item };
            token = page.metadata?.continue || undefined;
            if (!token) break;
          }
          rv = listRv;
          needList = false;
          yield { type: "initDone", resourceVersion: rv };
        } catch (err) {
          if (signal?.aborted) return;
          report(err, "list");
          await pause();
        }
        continue;
      }

      // Watch from the last resourceVersion seen.
      let opened = false;
      const started = clock.now();
      let events = 0;
      try {
        const stream = api.watch({
          ...selectors,
          resourceVersion: rv ?? "",
          allowWatchBookmarks: true,
          timeoutSeconds: watchTimeout(),
          ...(signal ? { signal } : {}),
          stallTimeoutMs,
        } as WatchOptions & WatchCallOptions);
        for await (const ev of stream) {
          opened = true;
          events++;
          rv = rvOf(ev.object) ?? rv;
          if (ev.type === "ADDED" || ev.type === "MODIFIED")
            yield { type: "apply", object: ev.object };
          else if (ev.type === "DELETED") yield { type: "delete", object: ev.object };
        }
        if (events === 0 && clock.now() - started < 1000) {
          // client-go treats a watch that closes at once with nothing as a failure, so a server
          // that keeps doing that is not hammered.
          report(new Error("the watch closed at once without any event"), "watchStart");
          await pause();
        }
      } catch (err) {
        if (signal?.aborted) return;
        if (err instanceof Aborted) throw err;
        const expired =
          isResourceExpired(err) || (err instanceof ApiError && err.statusCode === 410);
        report(err, opened ? "watchStream" : "watchStart");
        if (expired) {
          // The resourceVersion is too old to resume from: relist (at once, as client-go does).
          needList = true;
          continue;
        }
        if (
          !opened &&
          err instanceof ApiError &&
          !isTooManyRequests(err) &&
          err.statusCode < 500 &&
          err.statusCode !== 401
        ) {
          // The server refused this watch for a reason a retry will not fix at the same
          // resourceVersion (client-go relists on any such error at watch start).
          needList = true;
        }
        await pause();
      }
    }
  } catch (err) {
    if (err instanceof Aborted) return;
    throw err;
  }
}
