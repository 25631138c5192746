/**
 * Watch helpers of client-go's `tools/watch`: a RetryWatcher that resumes from a resourceVersion
 * across disconnects, and `waitFor` / `untilWithSync`, which wait for a condition on the cache of
 * a self-healing watch and so survive 410 Gone.
 */
import { type Clock, realClock } from "../core/clock.ts";
import { ApiError, isResourceExpired, RequestBuildError, TimeoutError } from "../core/errors.ts";
import type { KubernetesObject } from "../core/meta.ts";
import type { WatchOptions } from "../core/options.ts";
import type { WatchCallOptions } from "../rest/client.ts";
import type { WatchEvent } from "../rest/watch.ts";
import { Backoff } from "./backoff.ts";
import { Indexer, metaNamespaceKey } from "./store.ts";
import { type ListWatch, type WatcherOptions, watcher } from "./watcher.ts";

export interface RetryWatcherOptions {
  /** Where to start; must be a real resourceVersion, not "" or "0" (those replay everything). */
  resourceVersion: string;
  labelSelector?: WatchOptions["labelSelector"];
  fieldSelector?: WatchOptions["fieldSelector"];
  signal?: AbortSignal;
  /** Told of each failure the watcher recovers from. */
  onError?: (error: unknown) => void;
  stallTimeoutMs?: number;
  clock?: Clock;
}

/**
 * Events from `resourceVersion` on, re-watching after every disconnect from the last
 * resourceVersion seen (bookmarks move it too but are not yielded), at least a second apart. It
 * ends by throwing when resuming is impossible: 410 Gone (the history was compacted; relist
 * instead, or use `watcher()`), or 401/403 when (re)starting. Abort ends it quietly.
 */
export async function* retryWatcher<T extends KubernetesObject>(
  api: Pick<ListWatch<T>, "watch">,
  options: RetryWatcherOptions,
): AsyncGenerator<WatchEvent<T>, void, undefined> {
  if (options.resourceVersion === "" || options.resourceVersion === "0") {
    throw new RequestBuildError(
      "resourceVersion",
      'a RetryWatcher needs a real resourceVersion to start from, not "" or "0"',
    );
  }
  const clock = options.clock ?? realClock;
  const backoff = new Backoff({ initialMs: 1000, maxMs: 30_000, jitter: 0.1, clock });
  let rv = options.resourceVersion;
  const { signal } = options;
  while (!signal?.aborted) {
    const started = clock.now();
    let received = 0;
    try {
      const stream = api.watch({
        resourceVersion: rv,
        allowWatchBookmarks: true,
        ...(options.labelSelector === undefined ? {} : { labelSelector: options.labelSelector }),
        ...(options.fieldSelector === undefined ? {} : { fieldSelector: options.fieldSelector }),
        ...(signal ? { signal } : {}),
        ...(options.stallTimeoutMs ? { stallTimeoutMs: options.stallTimeoutMs } : {}),
      } as WatchOptions & WatchCallOptions);
      for await (const ev of stream) {
        received++;
        const next = ev.object.metadata?.resourceVersion;
        if (!next)
          throw new ApiError({
            kind: "Status",
            code: 500,
            reason: "InternalError",
            message: "a watch event has no resourceVersion",
          });
        rv = next;
        if (ev.type !== "BOOKMARK") yield ev;
      }
      backoff.reset();
    } catch (err) {
      if (signal?.aborted) return;
      if (isResourceExpired(err) || (err instanceof ApiError && err.statusCode === 410)) throw err;
      if (
        err instanceof ApiError &&
        received === 0 &&
        (err.statusCode === 401 || err.statusCode === 403)
      )
        throw err;
      options.onError?.(err);
      const retryAfter = err instanceof ApiError ? (err.retryAfterSeconds ?? 0) * 1000 : 0;
      const wait = Math.max(retryAfter, backoff.nextDelay());
      try {
        await clock.sleep(wait, signal);
      } catch {
        return;
      }
      continue;
    }
    // Closed cleanly: re-watch, but not more often than once a second.
    const elapsed = clock.now() - started;
    if (elapsed < 1000) {
      try {
        await clock.sleep(1000 - elapsed, signal);
      } catch {
        return;
      }
    }
  }
}

export interface WaitOptions extends Pick<WatcherOptions, "onError" | "stallTimeoutMs" | "clock"> {
  signal?: AbortSignal;
  /** Give up with a `TimeoutError` after this long; no limit when unset. */
  timeoutMs?: number;
}

function deadlineSignal(options: WaitOptions): { signal: AbortSignal; done(): void } {
  const ac = new AbortController();
  const outer = options.signal;
  const onAbort = () => ac.abort(outer!.reason);
  if (outer?.aborted) ac.abort(outer.reason);
  outer?.addEventListener("abort", onAbort, { once: true });
  const timer = options.timeoutMs
    ? setTimeout(
        () =>
          ac.abort(
            new TimeoutError(`the condition was not met within ${options.timeoutMs} ms`, {
              timeoutMs: options.timeoutMs!,
            }),
          ),
        options.timeoutMs,
      )
    : undefined;
  return {
    signal: ac.signal,
    done: () => {
      if (timer) clearTimeout(timer);
      outer?.removeEventListener("abort", onAbort);
      ac.abort();
    },
  };
}

/**
 * Waits until `condition` holds for the object named `name` and returns it. The condition sees
 * `undefined` while the object does not exist, so waiting for a deletion is
 * `waitFor(api, name, (o) => o === undefined)`. Backed by a self-healing watch on that one
 * object, so a 410 or a dropped connection only delays the answer. Rejects with the signal's
 * reason on abort, or a `TimeoutError` after `timeoutMs`.
 */
export async function waitFor<T extends KubernetesObject>(
  api: ListWatch<T>,
  name: string,
  condition: (obj: T | undefined) => boolean,
  options: WaitOptions = {},
): Promise<T | undefined> {
  const dl = deadlineSignal(options);
  let current: T | undefined;
  let pending: T | undefined;
  try {
    for await (const ev of watcher(api, {
      ...options,
      fieldSelector: { "metadata.name": name },
      signal: dl.signal,
    })) {
      switch (ev.type) {
        case "init":
          pending = undefined;
          continue;
        case "initApply":
          pending = ev.object;
          continue;
        case "initDone":
          current = pending;
          break;
        case "apply":
          current = ev.object;
          break;
        case "delete":
          current = undefined;
          break;
      }
      if (condition(current)) return current;
    }
    throw dl.signal.reason;
  } finally {
    dl.done();
  }
}

/**
 * Waits until `condition` holds for the whole set of objects a watch sees (a cache kept by a
 * self-healing watch, as client-go's `UntilWithSync`), checked after the initial list and after
 * each change; returns the cache's objects at that moment.
 */
export async function untilWithSync<T extends KubernetesObject>(
  api: ListWatch<T>,
  condition: (objects: T[], event: { type: "synced" | "apply" | "delete"; object?: T }) => boolean,
  options: WaitOptions & Pick<WatcherOptions, "labelSelector" | "fieldSelector"> = {},
): Promise<T[]> {
  const dl = deadlineSignal(options);
  const store = new Indexer<T>();
  let pending: T[] = [];
  try {
    for await (const ev of watcher(api, { ...options, signal: dl.signal })) {
      let event: { type: "synced" | "apply" | "delete"; object?: T };
      if (ev.type === "init") {
        pending = [];
        continue;
      }
      if (ev.type === "initApply") {
        pending.push(ev.object);
        continue;
      }
      if (ev.type === "initDone") {
        store.replace(pending);
        event = { type: "synced" };
      } else if (ev.type === "apply") {
        store.set(ev.object);
        event = { type: "apply", object: ev.object };
      } else {
        store.deleteKey(metaNamespaceKey(ev.object));
        event = { type: "delete", object: ev.object };
      }
      const objects = store.list();
      if (condition(objects, event)) return objects;
    }
    throw dl.signal.reason;
  } finally {
    dl.done();
  }
}
