import { ApiError, DecodeError, TransportError } from "../core/errors.ts";
import type { Status } from "../core/meta.ts";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";

/**
 * One event of a watch. An `ERROR` event never appears here: it is thrown as an `ApiError` carrying
 * the event's Status (for example 410 Gone when the resourceVersion is too old).
 */
export interface WatchEvent<T> {
  type: WatchEventType;
  object: T;
}

const EVENT_TYPES = new Set<string>(["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]);
const NEWLINE = 0x0a;

/** The most bytes one event may take before the stream is judged broken (far above etcd's limit). */
export const MAX_EVENT_BYTES = 128 * 1024 * 1024;

function excerpt(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

function toEvent<T>(line: string): WatchEvent<T> {
  let parsed: { type?: unknown; object?: unknown };
  try {
    parsed = JSON.parse(line);
  } catch (cause) {
    throw new DecodeError("a watch event is not valid JSON", { excerpt: excerpt(line), cause });
  }
  const type = parsed?.type;
  if (type === "ERROR") {
    const status = (parsed.object ?? {}) as Status;
    throw new ApiError(
      status.kind === "Status" ? status : { kind: "Status", code: 500, message: excerpt(line) },
    );
  }
  if (
    typeof type !== "string" ||
    !EVENT_TYPES.has(type) ||
    typeof parsed.object !== "object" ||
    parsed.object === null
  ) {
    throw new DecodeError(`a watch event has an unknown type or no object`, {
      excerpt: excerpt(line),
    });
  }
  return parsed as WatchEvent<T>;
}

/**
 * Decodes the newline-delimited JSON of a watch response as it arrives. Memory is bounded by one
 * event, not by the stream. Ending the iteration early (`break`, `return`, an exception in the
 * consumer) ends the iteration of `body`, which closes the connection.
 *
 * A stream that ends in the middle of an event is a `TransportError`; a line that is not an event
 * is a `DecodeError`; an ERROR event is an `ApiError`.
 */
export async function* decodeWatchEvents<T>(
  body: AsyncIterable<Uint8Array>,
  options: { maxEventBytes?: number } = {},
): AsyncGenerator<WatchEvent<T>, void, undefined> {
  const max = options.maxEventBytes ?? MAX_EVENT_BYTES;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (let nl = buf.indexOf(NEWLINE, start); nl >= 0; nl = buf.indexOf(NEWLINE, start)) {
      let line: string;
      if (pendingBytes > 0) {
        pending.push(buf.subarray(start, nl));
        line = Buffer.concat(pending).toString("utf8");
        pending = [];
        pendingBytes = 0;
      } else {
        line = buf.toString("utf8", start, nl);
      }
      start = nl + 1;
      if (line.length > 0 && line.trim().length > 0) yield toEvent<T>(line);
    }
    if (start < buf.length) {
      pending.push(start === 0 ? buf : buf.subarray(start));
      pendingBytes += buf.length - start;
      if (pendingBytes > max) {
        throw new DecodeError(`a watch event is larger than ${max} bytes`, {
          excerpt: excerpt(Buffer.concat(pending).subarray(0, 256).toString("utf8")),
        });
      }
    }
  }
  if (pendingBytes > 0) {
    const rest = Buffer.concat(pending).toString("utf8");
    if (rest.trim().length > 0) {
      // The server ends every event with a newline; a tail without one is an event cut off.
      let complete = false;
      try {
        JSON.parse(rest);
        complete = true;
      } catch {
        complete = false;
      }
      if (complete) yield toEvent<T>(rest);
      else
        throw new TransportError("the watch stream ended in the middle of an event", {
          code: "ERR_KUBEKIT_TRUNCATED",
        });
    }
  }
}
