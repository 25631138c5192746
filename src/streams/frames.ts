/**
 * The channel protocols of exec, attach and port-forward over WebSocket, as pure codecs.
 *
 * Every binary message is one frame: a channel byte, then that channel's bytes. For exec and
 * attach (`v4.channel.k8s.io`, `v5.channel.k8s.io`) the channels are stdin 0, stdout 1, stderr 2,
 * the error channel 3 (one JSON Status when the command ends) and resize 4 (JSON terminal sizes).
 * v5 adds the close signal: the message `[255, channel]` ends that channel's input, which is how
 * stdin reaches end-of-file. For port-forward (`v4.channel.k8s.io`) the n-th requested port has
 * data channel 2n and error channel 2n+1, and the server starts each channel with the port
 * number (two bytes, little-endian).
 */
import type { Status } from "../core/meta.ts";
import { StreamError } from "./errors.ts";

export const PROTOCOL_V4 = "v4.channel.k8s.io";
export const PROTOCOL_V5 = "v5.channel.k8s.io";

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const ERROR = 3;
export const RESIZE = 4;
/** v5: a message `[CLOSE_SIGNAL, channel]` closes `channel` for writing. */
export const CLOSE_SIGNAL = 255;

/** One message for `channel` carrying `data`. */
export function encodeFrame(
  channel: number,
  data: Uint8Array | string = new Uint8Array(0),
): Buffer {
  checkChannel(channel);
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const frame = Buffer.allocUnsafe(bytes.byteLength + 1);
  frame[0] = channel;
  frame.set(bytes, 1);
  return frame;
}

/**
 * Splits a received message into its channel and data (a view, not a copy). An empty message is
 * a protocol error: every frame has at least its channel byte.
 */
export function decodeFrame(message: Uint8Array): { channel: number; data: Buffer } {
  if (message.byteLength === 0) {
    throw new StreamError(
      "ERR_KUBEKIT_STREAM_PROTOCOL",
      "received an empty frame (no channel byte)",
    );
  }
  const buf = Buffer.isBuffer(message)
    ? message
    : Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  return { channel: buf[0]!, data: buf.subarray(1) };
}

/** The v5 message that ends `channel`'s input (stdin's end-of-file). */
export function encodeCloseSignal(channel: number): Buffer {
  checkChannel(channel);
  return Buffer.from([CLOSE_SIGNAL, channel]);
}

/**
 * A resize message's payload: the JSON client-go's TerminalSize encodes to, which the server's
 * decoder reads as a stream (the trailing newline separates sizes).
 */
export function encodeResize(cols: number, rows: number): Buffer {
  for (const [name, v] of [
    ["cols", cols],
    ["rows", rows],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) {
      throw new RangeError(`${name} must be an integer from 0 to 65535, got ${v}`);
    }
  }
  return Buffer.from(`${JSON.stringify({ Width: cols, Height: rows })}\n`, "utf8");
}

/** How a command ended, read from the error channel. */
export type CommandOutcome =
  | { ok: true; exitCode: number; status: Status }
  | { ok: false; status: Status };

/**
 * Decodes the error channel as client-go's v4 decoder does. Nothing at all means success. A
 * Status of `Success` is exit code 0; a `Failure` with reason `NonZeroExitCode` carries the exit
 * code (0–255) in its `ExitCode` cause; any other `Failure` is the server's error (`ok: false`).
 * Anything else is a protocol error.
 */
export function decodeCommandOutcome(bytes: Uint8Array): CommandOutcome {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  if (text.trim() === "") return { ok: true, exitCode: 0, status: { status: "Success" } };
  let status: Status;
  try {
    status = JSON.parse(text) as Status;
  } catch {
    throw protocolError(`the error channel holds no JSON Status: ${excerpt(text)}`);
  }
  if (typeof status !== "object" || status === null || Array.isArray(status)) {
    throw protocolError(`the error channel holds no JSON Status: ${excerpt(text)}`);
  }
  if (status.status === "Success") return { ok: true, exitCode: 0, status };
  if (status.status !== "Failure") {
    throw protocolError(`unknown status ${JSON.stringify(status.status)} on the error channel`);
  }
  if (status.reason !== "NonZeroExitCode") return { ok: false, status };
  if (!status.details) throw protocolError("a NonZeroExitCode status without details");
  const cause = (status.details.causes ?? []).find((c) => c.reason === "ExitCode");
  if (!cause) throw protocolError("a NonZeroExitCode status without an ExitCode cause");
  const code = /^\d{1,3}$/.test(cause.message ?? "") ? Number(cause.message) : Number.NaN;
  if (!(code <= 255)) {
    throw protocolError(`invalid exit code ${JSON.stringify(cause.message)}`);
  }
  return { ok: true, exitCode: code, status };
}

/** The data and error channels of the `index`-th port of a port-forward. */
export function portChannels(index: number): { data: number; error: number } {
  if (!Number.isInteger(index) || index < 0 || index > 127) {
    throw new RangeError(`a port-forward carries at most 128 ports, got index ${index}`);
  }
  return { data: index * 2, error: index * 2 + 1 };
}

/**
 * Strips the two-byte port number the server puts at the start of a port-forward channel, which
 * may arrive split over frames or joined with data. `push` returns the bytes that follow it.
 */
export class PortPrefix {
  readonly port: number;
  #seen: number[] = [];

  constructor(port: number) {
    this.port = port;
  }

  /** Whether the whole prefix has been read. */
  get done(): boolean {
    return this.#seen.length === 2;
  }

  push(data: Buffer): Buffer {
    let i = 0;
    while (this.#seen.length < 2 && i < data.length) this.#seen.push(data[i++]!);
    if (i > 0 && this.#seen.length === 2) {
      const got = this.#seen[0]! | (this.#seen[1]! << 8);
      if (got !== this.port) {
        throw protocolError(`the server opened port ${got} where port ${this.port} was requested`);
      }
    }
    return i === 0 ? data : data.subarray(i);
  }
}

function checkChannel(channel: number): void {
  if (!Number.isInteger(channel) || channel < 0 || channel > 255) {
    throw new RangeError(`a channel is a byte, got ${channel}`);
  }
}

function protocolError(message: string): StreamError {
  return new StreamError("ERR_KUBEKIT_STREAM_PROTOCOL", message);
}

function excerpt(text: string): string {
  const t = text.replace(/\s+/g, " ").trim();
  return JSON.stringify(t.length > 200 ? `${t.slice(0, 200)}...` : t);
}
