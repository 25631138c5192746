/**
 * Container logs as a stream (`pods/log`), followed or not.
 */
import { RequestBuildError, TransportError } from "../core/errors.ts";
import { type PodTarget, resolveTarget } from "./target.ts";

export interface LogOptions {
  /** The container; the server picks the only one, or fails when there are several. */
  container?: string;
  /** Keep the stream open and receive lines as they are written, until the container stops. */
  follow?: boolean;
  /** Only the last n lines (an integer ≥ 0). */
  tailLines?: number;
  /** Only lines from the last n seconds (an integer ≥ 1); not together with `sinceTime`. */
  sinceSeconds?: number;
  /** Only lines from this time on (RFC 3339 or a Date); not together with `sinceSeconds`. */
  sinceTime?: string | Date;
  /** Prefix each line with its RFC 3339 timestamp (nanoseconds) and a space. */
  timestamps?: boolean;
  /** Stop after this many bytes (an integer ≥ 1); the last line may be cut. */
  limitBytes?: number;
  /** The log of the container's previous run. */
  previous?: boolean;
  /** Let the API server skip verifying the kubelet's certificate for this request. */
  insecureSkipTLSVerifyBackend?: boolean;
  /** The namespace when `pods` is a `Client`; default the config's. */
  namespace?: string;
  /** Milliseconds to wait for the response to start; default the client's timeout. */
  timeoutMs?: number;
  /** Ends the stream: the iteration throws the signal's reason and the connection closes. */
  signal?: AbortSignal;
}

/**
 * A container's log. Iterating it yields lines without their `\n` (a last line without one is
 * yielded too); `chunks()` yields the bytes as they arrive; `text()` reads everything. The request
 * is sent when reading starts, so errors (an `ApiError` with the server's Status: pod not found,
 * container not found, no previous run) are thrown from the first `next()`. `break` or `return`
 * closes the connection; the signal does too and makes the iteration throw its reason. A stream
 * can be read once.
 */
export interface LogStream extends AsyncIterable<string> {
  chunks(): AsyncIterable<Buffer>;
  text(): Promise<string>;
}

function nonNegativeInteger(field: string, v: unknown, min: number): void {
  if (v === undefined) return;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
    throw new RequestBuildError(field, `must be an integer ≥ ${min}, got ${String(v)}`);
  }
}

/** The query of a `pods/log` request; throws a `RequestBuildError` for what the server refuses. */
export function logQuery(options: LogOptions): URLSearchParams {
  nonNegativeInteger("options.tailLines", options.tailLines, 0);
  nonNegativeInteger("options.sinceSeconds", options.sinceSeconds, 1);
  nonNegativeInteger("options.limitBytes", options.limitBytes, 1);
  if (options.sinceSeconds !== undefined && options.sinceTime !== undefined) {
    throw new RequestBuildError("options.sinceTime", "cannot be used together with sinceSeconds");
  }
  const q = new URLSearchParams();
  if (options.container !== undefined) q.set("container", options.container);
  if (options.follow) q.set("follow", "true");
  if (options.previous) q.set("previous", "true");
  if (options.timestamps) q.set("timestamps", "true");
  if (options.insecureSkipTLSVerifyBackend) q.set("insecureSkipTLSVerifyBackend", "true");
  if (options.tailLines !== undefined) q.set("tailLines", String(options.tailLines));
  if (options.sinceSeconds !== undefined) q.set("sinceSeconds", String(options.sinceSeconds));
  if (options.limitBytes !== undefined) q.set("limitBytes", String(options.limitBytes));
  if (options.sinceTime !== undefined) {
    const t = options.sinceTime instanceof Date ? options.sinceTime : new Date(options.sinceTime);
    if (Number.isNaN(t.getTime())) {
      throw new RequestBuildError(
        "options.sinceTime",
        `is not a time: ${String(options.sinceTime)}`,
      );
    }
    q.set("sinceTime", t.toISOString());
  }
  return q;
}

/** Reads the log of a container of pod `name`; see `LogStream`. */
export function logs(pods: PodTarget, name: string, options: LogOptions = {}): LogStream {
  const target = resolveTarget(pods, options.namespace);
  const query = logQuery(options);
  const path = target.path(name, "log");
  let used = false;

  async function* chunks(): AsyncGenerator<Buffer, void, undefined> {
    if (used) throw new TypeError("a LogStream can be read only once");
    used = true;
    const outer = options.signal;
    if (outer?.aborted) throw outer.reason;
    const inner = new AbortController();
    const onAbort = () => inner.abort(outer!.reason);
    outer?.addEventListener("abort", onAbort, { once: true });
    try {
      const res = await target.rest.send(
        { method: "GET", path, query, accept: "*/*" },
        {
          signal: inner.signal,
          stream: true,
          ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        },
      );
      try {
        for await (const chunk of res.body) {
          yield Buffer.isBuffer(chunk)
            ? chunk
            : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        }
      } catch (err) {
        if (inner.signal.aborted) throw inner.signal.reason;
        throw new TransportError(`GET ${path}: the log stream was cut off`, {
          cause: err,
          method: "GET",
          url: path,
        });
      }
    } finally {
      outer?.removeEventListener("abort", onAbort);
      // Closes the connection when the body was not read to its end.
      if (!inner.signal.aborted) inner.abort(new Error("log stream closed"));
    }
  }

  return {
    [Symbol.asyncIterator]: () => splitLines(chunks())[Symbol.asyncIterator](),
    chunks,
    text: async () => {
      const parts: Buffer[] = [];
      for await (const c of chunks()) parts.push(c);
      return Buffer.concat(parts).toString("utf8");
    },
  };
}

/**
 * Lines of UTF-8 text from chunks that may split lines (and characters) anywhere: each line
 * without its `\n`, and at the end whatever followed the last `\n`, if anything did.
 */
export async function* splitLines(
  chunks: AsyncIterable<Uint8Array>,
): AsyncGenerator<string, void, undefined> {
  const decoder = new TextDecoder("utf-8");
  let pending = "";
  for await (const chunk of chunks) {
    pending += decoder.decode(chunk, { stream: true });
    const last = pending.lastIndexOf("\n");
    if (last < 0) continue;
    const complete = pending.slice(0, last);
    pending = pending.slice(last + 1);
    for (const line of complete.split("\n")) yield line;
  }
  pending += decoder.decode();
  if (pending !== "") yield pending;
}
