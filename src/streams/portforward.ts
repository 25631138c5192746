/**
 * Port-forwarding over WebSocket (`v4.channel.k8s.io`), and a local TCP listener that forwards
 * each accepted connection over a WebSocket of its own, as kubectl port-forward does.
 */
import { createServer, type Server, type Socket } from "node:net";
import { Duplex, pipeline } from "node:stream";
import { KubekitError, RequestBuildError } from "../core/errors.ts";
import { DEFAULT_TIMEOUT_MS } from "../rest/client.ts";
import { PortForwardError, StreamError } from "./errors.ts";
import { decodeFrame, encodeFrame, PortPrefix, PROTOCOL_V4, portChannels } from "./frames.ts";
import { type PodTarget, resolveTarget } from "./target.ts";
import { type Connection, openConnection } from "./websocket.ts";

export interface PortForwardOptions {
  /** The namespace when `pods` is a `Client`; default the config's. */
  namespace?: string;
  /** Milliseconds for the WebSocket handshake; default the client's timeout (30 s). 0: none. */
  timeoutMs?: number;
  /**
   * Ping interval in milliseconds (client-go: 5,000, the default); the session ends with
   * `ERR_KUBEKIT_STREAM_LOST` when nothing has arrived for 12 intervals plus a second. 0: no pings.
   */
  keepAliveMs?: number;
  /** Ends the forward: the WebSocket closes and the streams are destroyed with the reason. */
  signal?: AbortSignal;
}

/** The bytes of one forwarded port: write to reach the pod's port, read what it answers. */
export interface PortStream extends Duplex {
  readonly port: number;
}

export interface PortForwardSession {
  readonly protocol: string;
  /** One stream per requested port, in the order requested. */
  readonly streams: readonly PortStream[];
  /** Closes the WebSocket; the streams' readable sides end. */
  close(): void;
  /**
   * Settles when the WebSocket has closed: resolves after a clean close, rejects with the first
   * `PortForwardError` (the kubelet could not reach a port), a `StreamError`, or the signal's
   * reason. Never an unhandled rejection.
   */
  readonly done: Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Largest data frame sent. */
const MAX_FRAME = 32 * 1024;

function checkPort(field: string, port: unknown, min = 1): asserts port is number {
  if (typeof port !== "number" || !Number.isInteger(port) || port < min || port > 65535) {
    throw new RequestBuildError(field, `must be a port number (${min}–65535), got ${String(port)}`);
  }
}

/**
 * Opens one WebSocket that forwards `ports` of pod `name`. Each port's stream starts once the
 * server has confirmed the port. The protocol has no half-close: ending the writable side of
 * every stream closes the WebSocket once the written data has been sent, and with it the
 * connections in the pod. Rejects like `exec` when the server refuses (pod not found: NotFound).
 */
export async function portForward(
  pods: PodTarget,
  name: string,
  ports: readonly number[],
  options: PortForwardOptions = {},
): Promise<PortForwardSession> {
  if (!Array.isArray(ports) || ports.length === 0 || ports.length > 128) {
    throw new RequestBuildError("ports", "must list 1 to 128 ports");
  }
  ports.forEach((p, i) => {
    checkPort(`ports[${i}]`, p);
  });
  const target = resolveTarget(pods, options.namespace);
  const query = new URLSearchParams();
  for (const p of ports) query.append("ports", String(p));
  const connection = await openConnection(target.upgrade(), {
    path: target.path(name, "portforward"),
    query,
    protocols: [PROTOCOL_V4],
    signal: options.signal,
    timeoutMs: options.timeoutMs ?? target.rest.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    keepAliveMs: options.keepAliveMs,
  });
  return new ForwardSession(connection, ports, options.signal);
}

class PortStreamImpl extends Duplex implements PortStream {
  readonly port: number;
  readonly #onRead: () => void;
  readonly #onWrite: (chunk: Buffer) => Promise<void>;
  readonly #onFinal: () => void;

  constructor(
    port: number,
    hooks: { read(): void; write(chunk: Buffer): Promise<void>; final(): void },
  ) {
    super();
    this.port = port;
    this.#onRead = hooks.read;
    this.#onWrite = hooks.write;
    this.#onFinal = hooks.final;
  }

  override _read(): void {
    this.#onRead();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#onWrite(chunk).then(() => cb(), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#onFinal();
    cb();
  }
}

class ForwardSession implements PortForwardSession {
  readonly protocol: string;
  readonly streams: readonly PortStreamImpl[];
  readonly done: Promise<void>;
  readonly #conn: Connection;
  readonly #signal: AbortSignal | undefined;
  readonly #data: PortPrefix[];
  readonly #errors: PortPrefix[];
  readonly #full = new Set<Duplex>();
  readonly #ended = new Set<Duplex>();
  #failure: unknown;
  #settle!: { resolve(): void; reject(e: unknown): void };
  #onAbort = () => this.#conn.close();

  constructor(conn: Connection, ports: readonly number[], signal: AbortSignal | undefined) {
    this.#conn = conn;
    this.protocol = conn.protocol;
    this.#signal = signal;
    this.done = new Promise<void>((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    this.done.catch(() => {});
    this.#data = ports.map((p) => new PortPrefix(p));
    this.#errors = ports.map((p) => new PortPrefix(p));
    this.streams = ports.map((port, i) => {
      const s: PortStreamImpl = new PortStreamImpl(port, {
        read: () => {
          this.#full.delete(s);
          if (this.#full.size === 0) conn.resume();
        },
        write: (chunk) => this.#send(i, chunk),
        final: () => {
          this.#ended.add(s);
          this.#maybeClose();
        },
      });
      // Failures also settle `done`; a stream nobody listens to must not crash the process.
      s.on("error", () => {});
      s.on("close", () => {
        this.#ended.add(s);
        this.#maybeClose();
      });
      return s;
    });
    conn.start({ message: (m) => this.#message(m), close: (err) => this.#finish(err) });
    if (signal) {
      if (signal.aborted) conn.close();
      else signal.addEventListener("abort", this.#onAbort, { once: true });
    }
  }

  close(): void {
    this.#conn.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.done.catch(() => {});
  }

  async #send(index: number, chunk: Buffer): Promise<void> {
    const { data } = portChannels(index);
    for (let i = 0; i < chunk.length; i += MAX_FRAME) {
      if (this.#conn.closed) throw this.#writeAfterClose();
      this.#conn.send(encodeFrame(data, chunk.subarray(i, i + MAX_FRAME)));
      await this.#conn.drained();
    }
  }

  #writeAfterClose(): StreamError {
    return new StreamError("ERR_KUBEKIT_STREAM_CLOSED", "the port-forward connection is closed", {
      path: this.#conn.path,
    });
  }

  /** Once no stream will write again, the connection has nothing left to carry. */
  #maybeClose(): void {
    if (this.#ended.size < this.streams.length || this.#conn.closed) return;
    void this.#conn.drained().then(() => this.#conn.close());
  }

  #message(m: Buffer): void {
    let channel: number;
    let data: Buffer;
    try {
      ({ channel, data } = decodeFrame(m));
      const index = channel >> 1;
      const stream = this.streams[index];
      if (!stream) return;
      if ((channel & 1) === 0) {
        const bytes = this.#data[index]!.push(data);
        if (bytes.length === 0 || stream.destroyed) return;
        if (!stream.push(bytes)) {
          this.#full.add(stream);
          this.#conn.pause();
        }
      } else {
        const bytes = this.#errors[index]!.push(data);
        if (bytes.length === 0) return;
        const err = new PortForwardError(stream.port, bytes.toString("utf8").trim(), {
          path: this.#conn.path,
        });
        this.#failure ??= err;
        stream.destroy(err);
      }
    } catch (err) {
      this.#failure ??=
        err instanceof StreamError && !err.path ? withPath(err, this.#conn.path) : err;
      this.#conn.close();
    }
  }

  #finish(lost: StreamError | undefined): void {
    this.#signal?.removeEventListener("abort", this.#onAbort);
    let failure: unknown;
    if (this.#signal?.aborted) failure = this.#signal.reason;
    else if (this.#failure !== undefined) failure = this.#failure;
    else if (lost) failure = lost;
    for (const s of this.streams) {
      if (s.destroyed) continue;
      if (failure !== undefined) s.destroy(failure as Error);
      else {
        s.push(null);
        // Nothing written later can be delivered.
        if (!s.writableEnded) s.end();
      }
    }
    this.#full.clear();
    if (failure === undefined) this.#settle.resolve();
    else this.#settle.reject(failure);
  }
}

function withPath(err: StreamError, path: string): StreamError {
  return new StreamError(err.code, err.message, { path, cause: err.cause });
}

export interface ForwardOptions extends PortForwardOptions {
  /** The pod's port to reach. */
  remotePort: number;
  /** The local port to listen on; 0 or unset: a free one (see `Forwarder.port`). */
  localPort?: number;
  /** The local address to listen on; default 127.0.0.1. */
  address?: string;
  /**
   * Told about a connection that failed (the pod's port refused it, the pod is gone, the
   * connection was lost); that local connection is closed. Default: `process.emitWarning`.
   */
  onError?: (error: unknown) => void;
}

/** A local listener forwarding to a pod's port. */
export interface Forwarder {
  readonly address: string;
  /** The bound local port. */
  readonly port: number;
  /** Stops listening and closes every forwarded connection. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Listens on `address:localPort` and forwards every accepted connection to `remotePort` of pod
 * `name`, over a WebSocket per connection. Resolves once listening; the signal closes it as
 * `close()` does.
 */
export async function forward(
  pods: PodTarget,
  name: string,
  options: ForwardOptions,
): Promise<Forwarder> {
  checkPort("options.remotePort", options.remotePort);
  if (options.localPort !== undefined) checkPort("options.localPort", options.localPort, 0);
  resolveTarget(pods, options.namespace);
  const { signal } = options;
  if (signal?.aborted) throw signal.reason;
  const address = options.address ?? "127.0.0.1";
  const report =
    options.onError ??
    ((err: unknown) => process.emitWarning(err instanceof Error ? err : String(err)));
  const live = new Set<{ socket: Socket; abort: AbortController }>();
  let closing = false;

  const server: Server = createServer((socket) => {
    const entry = { socket, abort: new AbortController() };
    live.add(entry);
    let reported = false;
    // Each connection's failure is told once. Its own ending is none: the local side closing or
    // failing (Node's stream errors), or close().
    const fail = (err: unknown) => {
      const ours = err instanceof KubekitError && err !== entry.abort.signal.reason;
      if (!reported && !closing && ours) {
        reported = true;
        report(err);
      }
      socket.destroy();
    };
    socket.on("close", () => {
      entry.abort.abort(new Error("the local connection closed"));
      live.delete(entry);
    });
    socket.on("error", () => {});
    socket.pause();
    portForward(pods, name, [options.remotePort], {
      ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      signal: entry.abort.signal,
    }).then((session) => {
      const stream = session.streams[0]!;
      stream.on("error", fail);
      pipeline(socket, stream, socket, () => {});
      session.done.catch(fail);
    }, fail);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.localPort ?? 0, address, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address();
  const port = typeof bound === "object" && bound ? bound.port : 0;

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      closing = true;
      signal?.removeEventListener("abort", onAbort);
      server.close(() => resolve());
      for (const { socket, abort } of live) {
        abort.abort(new Error("the forwarder closed"));
        socket.destroy();
      }
    });
    return closed;
  };
  const onAbort = () => void close();
  signal?.addEventListener("abort", onAbort, { once: true });

  return { address, port, close, [Symbol.asyncDispose]: close };
}
