/**
 * exec and attach over WebSocket: client-go's `tools/remotecommand` WebSocket executor, with
 * `v5.channel.k8s.io` preferred and `v4.channel.k8s.io` as the fallback an older server (or a
 * kubelet reached without translation) picks.
 */
import { Readable, Writable } from "node:stream";
import { ApiError, RequestBuildError } from "../core/errors.ts";
import type { Status } from "../core/meta.ts";
import { DEFAULT_TIMEOUT_MS } from "../rest/client.ts";
import { StreamError } from "./errors.ts";
import {
  decodeCommandOutcome,
  decodeFrame,
  ERROR,
  encodeCloseSignal,
  encodeFrame,
  encodeResize,
  PROTOCOL_V4,
  PROTOCOL_V5,
  RESIZE,
  STDERR,
  STDIN,
  STDOUT,
} from "./frames.ts";
import { type PodTarget, resolveTarget } from "./target.ts";
import { type Connection, openConnection } from "./websocket.ts";

/** What can be sent to a process's stdin: bytes, text, or a stream of either. */
export type StdinSource =
  | string
  | Uint8Array
  | AsyncIterable<Uint8Array | string>
  | Iterable<Uint8Array | string>;

export interface AttachOptions {
  /** The container; the server picks the only one, or fails when there are several. */
  container?: string;
  /**
   * What to send to stdin, which then reaches end-of-file (with `v5.channel.k8s.io`; the older
   * protocol has no way to end stdin). In the stream form, `true` gives a writable `stdin`.
   */
  stdin?: StdinSource | boolean;
  /** Default true. */
  stdout?: boolean;
  /** Default true without a terminal. A terminal merges stderr into stdout, so `tty` forbids it. */
  stderr?: boolean;
  /** Run with a terminal (stdout and stderr merged; `resize` works). */
  tty?: boolean;
  /** The terminal's size to set right after connecting (kubectl sends the local terminal's). */
  terminalSize?: { cols: number; rows: number };
  /** The namespace when `pods` is a `Client`; default the config's. */
  namespace?: string;
  /** Milliseconds for the WebSocket handshake; default the client's timeout (30 s). 0: none. */
  timeoutMs?: number;
  /**
   * Ping interval in milliseconds (client-go: 5,000, the default); the session ends with
   * `ERR_KUBEKIT_STREAM_LOST` when nothing has arrived for 12 intervals plus a second. 0: no pings.
   */
  keepAliveMs?: number;
  /** Ends the session: the WebSocket is closed, which ends the remote side's stdin. */
  signal?: AbortSignal;
  /** Subprotocols to offer, preferred first; default v5, then v4. */
  protocols?: readonly string[];
}

/** exec takes the same options as attach. */
export type ExecOptions = AttachOptions;

/** How the remote command ended. */
export interface CommandResult {
  /** 0–255; a failure that was not the command's own exit rejects instead. */
  exitCode: number;
  /** The Status from the error channel (`Success`, or `Failure` with reason `NonZeroExitCode`). */
  status: Status;
}

export interface ExecResult<T extends string | Buffer = string> extends CommandResult {
  /** Present when stdout was requested. */
  stdout?: T;
  /** Present when stderr was requested. */
  stderr?: T;
}

/**
 * A running exec or attach. Output streams apply backpressure: output nobody reads stops the
 * remote side once the buffers fill (pass `stdout: false` rather than leave it unread).
 */
export interface ExecSession {
  /** The negotiated subprotocol. */
  readonly protocol: string;
  /** With `stdin: true`: write to it, `end()` it for end-of-file (v5 only). */
  readonly stdin: Writable | undefined;
  readonly stdout: Readable | undefined;
  readonly stderr: Readable | undefined;
  /** Resizes the terminal (only with `tty`; without one there is nothing to resize). */
  resize(cols: number, rows: number): void;
  /**
   * Closes the WebSocket, which the remote side sees as the end of its stdin and output. `done`
   * then rejects with a `StreamError` `ERR_KUBEKIT_STREAM_CLOSED` unless it had settled.
   */
  close(): void;
  /**
   * Settles when the session ends: the command's exit code, or an `ApiError` with the server's
   * Status (e.g. InternalError for a command that does not exist), a `StreamError`, or the
   * signal's reason. Never an unhandled rejection: awaiting it is optional.
   */
  readonly done: Promise<CommandResult>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Largest stdin frame; kubectl copies in 32 KiB pieces too. */
const MAX_FRAME = 32 * 1024;

/**
 * Runs `command` in a container of pod `name` and returns its output and exit code once it ends.
 * A non-zero exit is a result, not an error. Rejects with an `ApiError` when the server refuses
 * (pod or container not found: NotFound / BadRequest) or reports a failure on the error channel,
 * and with the signal's reason on abort (the remote process then sees its stdin and output close).
 */
export function exec(
  pods: PodTarget,
  name: string,
  command: readonly string[],
  options?: ExecOptions & { encoding?: "utf8" },
): Promise<ExecResult<string>>;
export function exec(
  pods: PodTarget,
  name: string,
  command: readonly string[],
  options: ExecOptions & { encoding: "buffer" },
): Promise<ExecResult<Buffer>>;
export async function exec(
  pods: PodTarget,
  name: string,
  command: readonly string[],
  options: ExecOptions & { encoding?: "utf8" | "buffer" } = {},
): Promise<ExecResult<string | Buffer>> {
  checkCommand(command);
  const session = await openSession(pods, name, "exec", command, bufferedOptions(options));
  return collect(session, options.encoding);
}

/** `exec` with the process's streams: see `ExecSession`. Resolves once connected. */
export async function execStream(
  pods: PodTarget,
  name: string,
  command: readonly string[],
  options: ExecOptions = {},
): Promise<ExecSession> {
  checkCommand(command);
  return openSession(pods, name, "exec", command, options);
}

/**
 * Attaches to the main process of a container and returns what it wrote until it ended (output
 * from before the attach is only in the logs). Same errors as `exec`.
 */
export function attach(
  pods: PodTarget,
  name: string,
  options?: AttachOptions & { encoding?: "utf8" },
): Promise<ExecResult<string>>;
export function attach(
  pods: PodTarget,
  name: string,
  options: AttachOptions & { encoding: "buffer" },
): Promise<ExecResult<Buffer>>;
export async function attach(
  pods: PodTarget,
  name: string,
  options: AttachOptions & { encoding?: "utf8" | "buffer" } = {},
): Promise<ExecResult<string | Buffer>> {
  const session = await openSession(pods, name, "attach", undefined, bufferedOptions(options));
  return collect(session, options.encoding);
}

/** `attach` with the process's streams: see `ExecSession`. Resolves once connected. */
export async function attachStream(
  pods: PodTarget,
  name: string,
  options: AttachOptions = {},
): Promise<ExecSession> {
  return openSession(pods, name, "attach", undefined, options);
}

function checkCommand(command: readonly string[]): void {
  if (
    !Array.isArray(command) ||
    command.length === 0 ||
    !command.every((c) => typeof c === "string")
  ) {
    throw new RequestBuildError("command", "must be a non-empty array of strings");
  }
}

function bufferedOptions(options: AttachOptions): AttachOptions {
  if (options.stdin === true) {
    throw new RequestBuildError(
      "options.stdin",
      "true asks for a writable stdin, which only the stream form (execStream, attachStream) returns",
    );
  }
  return options;
}

async function collect(
  session: ExecSession,
  encoding: "utf8" | "buffer" | undefined,
): Promise<ExecResult<string | Buffer>> {
  const read = async (r: Readable | undefined): Promise<Buffer | undefined> => {
    if (!r) return undefined;
    const parts: Buffer[] = [];
    for await (const chunk of r) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  };
  const [out, err, result] = await Promise.all([
    read(session.stdout),
    read(session.stderr),
    session.done,
  ]);
  const as = (b: Buffer) => (encoding === "buffer" ? b : b.toString("utf8"));
  return {
    ...result,
    ...(out ? { stdout: as(out) } : {}),
    ...(err ? { stderr: as(err) } : {}),
  };
}

async function openSession(
  pods: PodTarget,
  name: string,
  subresource: "exec" | "attach",
  command: readonly string[] | undefined,
  options: AttachOptions,
): Promise<ExecSession> {
  const target = resolveTarget(pods, options.namespace);
  const tty = options.tty === true;
  const wantStdout = options.stdout ?? true;
  const wantStderr = options.stderr ?? !tty;
  if (tty && wantStderr) {
    throw new RequestBuildError("options.stderr", "a terminal merges stderr into stdout");
  }
  const stdinInput = options.stdin;
  const wantStdin = stdinInput !== undefined && stdinInput !== false;
  const query = new URLSearchParams();
  for (const c of command ?? []) query.append("command", c);
  if (options.container !== undefined) query.set("container", options.container);
  if (wantStdin) query.set("stdin", "true");
  if (wantStdout) query.set("stdout", "true");
  if (wantStderr) query.set("stderr", "true");
  if (tty) query.set("tty", "true");
  if (options.terminalSize) encodeResize(options.terminalSize.cols, options.terminalSize.rows);
  const protocols = options.protocols ?? [PROTOCOL_V5, PROTOCOL_V4];
  const path = target.path(name, subresource);
  const connection = await openConnection(target.upgrade(), {
    path,
    query,
    protocols,
    signal: options.signal,
    timeoutMs: options.timeoutMs ?? target.rest.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    keepAliveMs: options.keepAliveMs,
  });
  return new Session(connection, {
    tty,
    stdin: wantStdin ? stdinInput : undefined,
    stdout: wantStdout,
    stderr: wantStderr,
    terminalSize: options.terminalSize,
    signal: options.signal,
  });
}

class Session implements ExecSession {
  readonly protocol: string;
  readonly stdin: Writable | undefined;
  readonly stdout: Readable | undefined;
  readonly stderr: Readable | undefined;
  readonly done: Promise<CommandResult>;
  readonly #conn: Connection;
  readonly #tty: boolean;
  readonly #signal: AbortSignal | undefined;
  readonly #errorChannel: Buffer[] = [];
  /** Output streams whose buffers are full; reading resumes when none is. */
  readonly #full = new Set<Readable>();
  #closedByClient = false;
  /** The first failure found on this side (bad frame, failed stdin source). */
  #failure: unknown;
  #settle!: { resolve(r: CommandResult): void; reject(e: unknown): void };
  #onAbort = () => this.#conn.close();

  constructor(
    conn: Connection,
    o: {
      tty: boolean;
      stdin: StdinSource | boolean | undefined;
      stdout: boolean;
      stderr: boolean;
      terminalSize: { cols: number; rows: number } | undefined;
      signal: AbortSignal | undefined;
    },
  ) {
    this.#conn = conn;
    this.protocol = conn.protocol;
    this.#tty = o.tty;
    this.#signal = o.signal;
    this.done = new Promise<CommandResult>((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    this.done.catch(() => {});
    this.stdout = o.stdout ? this.#output() : undefined;
    this.stderr = o.stderr ? this.#output() : undefined;
    this.stdin = o.stdin === true ? this.#input() : undefined;
    conn.start({
      message: (m) => this.#message(m),
      close: (err) => this.#finish(err),
    });
    if (o.terminalSize) this.resize(o.terminalSize.cols, o.terminalSize.rows);
    if (o.stdin !== undefined && typeof o.stdin !== "boolean") void this.#feed(o.stdin);
    if (o.signal) {
      if (o.signal.aborted) this.#conn.close();
      else o.signal.addEventListener("abort", this.#onAbort, { once: true });
    }
  }

  resize(cols: number, rows: number): void {
    const payload = encodeResize(cols, rows);
    if (this.#tty) this.#conn.send(encodeFrame(RESIZE, payload));
  }

  close(): void {
    if (this.#conn.closed) return;
    this.#closedByClient = true;
    this.#conn.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.done.catch(() => {});
  }

  #output(): Readable {
    const r: Readable = new Readable({
      read: () => {
        this.#full.delete(r);
        if (this.#full.size === 0) this.#conn.resume();
      },
    });
    // Failures also settle `done`; a stream nobody listens to must not crash the process.
    r.on("error", () => {});
    return r;
  }

  #input(): Writable {
    const w = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        this.#sendStdin(chunk).then(() => cb(), cb);
      },
      final: (cb) => {
        this.#endStdin();
        cb();
      },
    });
    w.on("error", () => {});
    return w;
  }

  async #sendStdin(chunk: Uint8Array): Promise<void> {
    for (let i = 0; i < chunk.byteLength; i += MAX_FRAME) {
      if (this.#conn.closed) return;
      this.#conn.send(encodeFrame(STDIN, chunk.subarray(i, i + MAX_FRAME)));
      await this.#conn.drained();
    }
  }

  #endStdin(): void {
    if (this.protocol === PROTOCOL_V5) this.#conn.send(encodeCloseSignal(STDIN));
  }

  async #feed(source: StdinSource): Promise<void> {
    try {
      if (typeof source === "string" || source instanceof Uint8Array) {
        await this.#sendStdin(typeof source === "string" ? Buffer.from(source) : source);
      } else {
        for await (const piece of source as AsyncIterable<Uint8Array | string>) {
          if (this.#conn.closed) return;
          await this.#sendStdin(typeof piece === "string" ? Buffer.from(piece) : piece);
        }
      }
      this.#endStdin();
    } catch (err) {
      // The input failed: end the session with its error rather than signal a clean end-of-file.
      this.#fail(err);
    }
  }

  #message(m: Buffer): void {
    let frame: { channel: number; data: Buffer };
    try {
      frame = decodeFrame(m);
    } catch (err) {
      this.#fail(err);
      return;
    }
    const { channel, data } = frame;
    if (data.length === 0) return;
    if (channel === STDOUT || channel === STDERR) {
      const r = channel === STDOUT ? this.stdout : this.stderr;
      // `data` is a view of a message nothing else holds: no copy needed.
      if (r && !r.destroyed && !r.push(data)) {
        this.#full.add(r);
        this.#conn.pause();
      }
    } else if (channel === ERROR) {
      this.#errorChannel.push(data);
    }
  }

  #fail(err: unknown): void {
    this.#failure ??= err;
    this.#conn.close();
  }

  #finish(lost: StreamError | undefined): void {
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.stdin?.destroy();
    let failure: unknown;
    let result: CommandResult | undefined;
    if (this.#signal?.aborted) failure = this.#signal.reason;
    else if (this.#failure !== undefined) failure = this.#failure;
    else if (this.#closedByClient) {
      failure = new StreamError(
        "ERR_KUBEKIT_STREAM_CLOSED",
        "the session was closed before the remote process ended",
        { path: this.#conn.path },
      );
    } else if (lost) failure = lost;
    else {
      try {
        const outcome = decodeCommandOutcome(Buffer.concat(this.#errorChannel));
        if (outcome.ok) result = { exitCode: outcome.exitCode, status: outcome.status };
        else {
          failure = new ApiError(
            {
              kind: "Status",
              apiVersion: "v1",
              ...outcome.status,
              code: outcome.status.code ?? 500,
            },
            { method: "GET", url: this.#conn.path },
          );
        }
      } catch (err) {
        failure = err instanceof StreamError ? withPath(err, this.#conn.path) : err;
      }
    }
    // Output that arrived is complete unless the session was cut off.
    const cut = failure !== undefined && !(failure instanceof ApiError) && !this.#closedByClient;
    for (const r of [this.stdout, this.stderr]) {
      if (!r || r.destroyed) continue;
      if (cut) r.destroy(failure as Error);
      else r.push(null);
    }
    this.#full.clear();
    if (result) this.#settle.resolve(result);
    else this.#settle.reject(failure);
  }
}

function withPath(err: StreamError, path: string): StreamError {
  return err.path ? err : new StreamError(err.code, err.message, { path, cause: err.cause });
}
