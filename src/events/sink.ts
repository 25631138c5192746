/**
 * Where recorded events are written: `events.k8s.io/v1` Events, or core/v1 Events on servers that
 * lack the newer API. The recorder works in events.k8s.io/v1 terms; the core sink translates.
 */
import type { Event as CoreEvent } from "../api/core/v1/index.ts";
import { Event as CoreEventType } from "../api/core/v1/index.ts";
import type { Event as EventsV1Event } from "../api/events/v1/index.ts";
import { Event as EventsV1EventType } from "../api/events/v1/index.ts";
import type { Client } from "../client/client.ts";
import { isNotFound } from "../core/errors.ts";
import type { CallOptions } from "../rest/client.ts";

export type EventsApiVersion = "events.k8s.io/v1" | "v1";

/**
 * Writes events. `create` makes a new Event object (named and namespaced by `event.metadata`);
 * `updateSeries` writes the `series` of one created earlier and rejects with a NotFound `ApiError`
 * when it is gone, so the recorder can create it again.
 */
export interface EventSink {
  readonly apiVersion: EventsApiVersion;
  create(event: EventsV1Event, options: CallOptions): Promise<unknown>;
  updateSeries(event: EventsV1Event, options: CallOptions): Promise<unknown>;
}

function nameAndNamespace(event: EventsV1Event): { name: string; namespace: string } {
  return { name: event.metadata?.name ?? "", namespace: event.metadata?.namespace ?? "" };
}

/** A sink that writes `events.k8s.io/v1` Events; series updates are merge patches of `series`. */
export function eventsV1Sink(client: Client): EventSink {
  const api = client.api(EventsV1EventType);
  return {
    apiVersion: "events.k8s.io/v1",
    create: (event, options) => {
      const { namespace } = nameAndNamespace(event);
      return api.namespace(namespace).create(event, options);
    },
    updateSeries: (event, options) => {
      const { name, namespace } = nameAndNamespace(event);
      return api
        .namespace(namespace)
        .patch(name, { series: event.series }, { ...options, type: "merge" });
    },
  };
}

/** metav1.Time: RFC 3339 in whole seconds. */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function parseTime(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * The core/v1 Event for an events.k8s.io/v1 one, in the old style that `tools/record` writes (no
 * `eventTime`; `count`, `firstTimestamp` and `lastTimestamp` instead of a series), which every
 * server accepts.
 */
export function toCoreEvent(event: EventsV1Event): CoreEvent {
  const first = parseTime(event.eventTime) ?? 0;
  const last = parseTime(event.series?.lastObservedTime) ?? first;
  const core: CoreEvent = {
    apiVersion: "v1",
    kind: "Event",
    metadata: { ...nameAndNamespace(event) },
    involvedObject: event.regarding ?? {},
    count: event.series?.count ?? 1,
    firstTimestamp: rfc3339(first),
    lastTimestamp: rfc3339(last),
    source: { component: event.reportingController ?? "" },
  };
  if (event.related) core.related = event.related;
  if (event.type !== undefined) core.type = event.type;
  if (event.reason !== undefined) core.reason = event.reason;
  if (event.action !== undefined) core.action = event.action;
  if (event.note !== undefined) core.message = event.note;
  if (event.reportingController !== undefined) core.reportingComponent = event.reportingController;
  if (event.reportingInstance !== undefined) core.reportingInstance = event.reportingInstance;
  return core;
}

/** A sink that writes core/v1 Events; series updates are merge patches of `count` and `lastTimestamp`. */
export function coreV1Sink(client: Client): EventSink {
  const api = client.api(CoreEventType);
  return {
    apiVersion: "v1",
    create: (event, options) => {
      const { namespace } = nameAndNamespace(event);
      return api.namespace(namespace).create(toCoreEvent(event), options);
    },
    updateSeries: (event, options) => {
      const { name, namespace } = nameAndNamespace(event);
      const core = toCoreEvent(event);
      return api
        .namespace(namespace)
        .patch(
          name,
          { count: core.count, lastTimestamp: core.lastTimestamp },
          { ...options, type: "merge" },
        );
    },
  };
}

/**
 * Whether the server serves `events.k8s.io/v1`: one GET of `/apis/events.k8s.io/v1`. A 404 means
 * it does not; other failures are thrown (the answer is not known yet).
 */
export async function servesEventsV1(client: Client, options: CallOptions = {}): Promise<boolean> {
  try {
    await client.request({ method: "GET", path: "/apis/events.k8s.io/v1" }, options);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}
