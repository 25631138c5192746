/**
 * `kubekit/events`: an event recorder for `events.k8s.io/v1`, as client-go's `tools/events`, with
 * a fallback to core/v1 Events (written as `tools/record` writes them) when the server lacks the
 * newer API. `event()` never blocks; a background writer turns repeats into a series, applies a
 * per-object spam filter and retries writes that failed for want of a server. Time comes from an
 * injectable `Clock`, and the writer can be replaced by an `EventSink` of one's own.
 *
 * ```ts
 * const recorder = new EventRecorder(client, {
 *   reportingController: "example.com/my-controller",
 *   reportingInstance: `my-controller-${hostname()}`,
 * });
 * recorder.event(pod, { type: "Normal", reason: "Synced", action: "Sync", note: "all good" });
 * await recorder.close({ drain: true });
 * ```
 */
export {
  ACTION_LENGTH_LIMIT,
  type CloseOptions,
  DEFAULT_BUFFER_SIZE,
  DEFAULT_MAX_TRIES,
  DEFAULT_RETRY_INTERVAL_MS,
  DEFAULT_SERIES_FINISH_MS,
  DEFAULT_SERIES_UPDATE_INTERVAL_MS,
  DEFAULT_SPAM_BURST,
  DEFAULT_SPAM_REFILL_INTERVAL_MS,
  type EventOptions,
  EventRecorder,
  type EventRecorderOptions,
  type EventRecorderStats,
  type EventType,
  MAX_SERIES_UPDATE_INTERVAL_MS,
  NOTE_LENGTH_LIMIT,
  objectReference,
  REASON_LENGTH_LIMIT,
  REPORTING_INSTANCE_LENGTH_LIMIT,
  truncateUtf8,
} from "./recorder.ts";
export {
  coreV1Sink,
  type EventSink,
  type EventsApiVersion,
  eventsV1Sink,
  rfc3339,
  servesEventsV1,
  toCoreEvent,
} from "./sink.ts";
