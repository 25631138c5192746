import { KubekitError } from "../core/errors.ts";

/**
 * The stable codes of a `StreamError`:
 * - `ERR_KUBEKIT_STREAM_PROTOCOL`: the server spoke the channel protocol wrongly (an unknown
 *   subprotocol, an unparseable status on the error channel, a bad port prefix).
 * - `ERR_KUBEKIT_STREAM_LOST`: the connection ended without the closing handshake.
 * - `ERR_KUBEKIT_STREAM_CLOSED`: `close()` ended the session before the remote side finished.
 * - `ERR_KUBEKIT_STREAM_NO_CONNECTION`: the client runs on a transport of its own (a test fake),
 *   which has no connection settings to open a WebSocket with.
 * - `ERR_KUBEKIT_STREAM_TAR`: a copy (`copyToPod`, `copyFromPod`) failed: a tar entry that is
 *   malformed, unsupported or would land outside the destination, or the remote tar's failure.
 */
export type StreamErrorCode =
  | "ERR_KUBEKIT_STREAM_PROTOCOL"
  | "ERR_KUBEKIT_STREAM_LOST"
  | "ERR_KUBEKIT_STREAM_CLOSED"
  | "ERR_KUBEKIT_STREAM_NO_CONNECTION"
  | "ERR_KUBEKIT_STREAM_TAR";

/** A stream (exec, attach, port-forward) that failed after, or apart from, the HTTP exchange. */
export class StreamError extends KubekitError {
  static override readonly brand: string = "StreamError";
  declare readonly code: StreamErrorCode;
  /** The request path of the stream, e.g. `/api/v1/namespaces/a/pods/b/exec`. */
  readonly path: string | undefined;

  constructor(
    code: StreamErrorCode,
    message: string,
    options: { path?: string; cause?: unknown } = {},
  ) {
    super(options.path ? `${options.path}: ${message}` : message, { code, cause: options.cause });
    this.path = options.path;
  }
}

/**
 * A port-forward the kubelet could not carry out, as it reported it on the port's error channel
 * (typically: nothing listens on the port in the pod). The message is the kubelet's.
 */
export class PortForwardError extends KubekitError {
  static override readonly brand: string = "PortForwardError";
  readonly port: number;

  constructor(port: number, message: string, options: { path?: string } = {}) {
    super(`${options.path ? `${options.path}: ` : ""}port ${port}: ${message}`, {
      code: "ERR_KUBEKIT_PORT_FORWARD",
    });
    this.port = port;
  }
}
