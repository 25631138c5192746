/**
 * kubekit/streams: the pod subresources that stream — logs (followed or not), exec, attach and
 * port-forward — as client-go's `tools/remotecommand` and `tools/portforward` and kubectl do them.
 *
 * Every function takes the pods to talk to first: a namespaced pods `Api`
 * (`client.api(Pod).namespace("web")`) or the `Client` itself (with `options.namespace`, else the
 * config's namespace). A WebSocket connects as the client's requests do (its TLS settings, proxy,
 * credentials and impersonation, from `RestClient.upgradeSettings()`); a client built on a
 * transport of its own (a test fake) cannot open one (`ERR_KUBEKIT_STREAM_NO_CONNECTION`). Logs
 * need no WebSocket.
 *
 * Contracts shared by all of them:
 * - Every call takes `{ signal }`. Aborting closes the connection; the remote side sees its
 *   stdin and output close (exec, attach) or its connections end (port-forward), and what was
 *   waiting rejects with the signal's reason. `break` out of a log iteration closes it too.
 * - Nothing outlives the call: sockets and timers are gone once a stream has ended, however it
 *   ended.
 * - A refusal by the API server is an `ApiError` carrying its Status (pod not found: NotFound;
 *   container not found: BadRequest). Failures of the stream itself are a `StreamError` or a
 *   `PortForwardError`, each with a stable `code`. Credentials never appear in an error.
 * - WebSockets are undici's, over a connection of their own with the client's CA, client
 *   certificate, bearer token or exec-plugin credentials (refreshed once after a 401),
 *   impersonation headers, User-Agent and proxy.
 *
 * Protocols: exec and attach offer `v5.channel.k8s.io` (stdin can reach end-of-file) and fall back
 * to `v4.channel.k8s.io`; port-forward speaks `v4.channel.k8s.io` (kubectl tunnels SPDY through
 * the WebSocket instead; this protocol has no half-close, see `portForward`).
 *
 * ```ts
 * const pods = client.api(Pod).namespace("web");
 * for await (const line of logs(client, "web-0", { namespace: "web", follow: true, signal })) {
 *   console.log(line);
 * }
 * const { exitCode, stdout } = await exec(client, "web-0", ["cat", "/etc/hostname"], { namespace: "web" });
 * const fwd = await forward(pods, "web-0", { remotePort: 8080 }); // http://127.0.0.1:${fwd.port}
 * await fwd.close();
 * ```
 */
export { type CopyOptions, copyFromPod, copyToPod } from "./cp.ts";
export { PortForwardError, StreamError, type StreamErrorCode } from "./errors.ts";
export {
  type AttachOptions,
  attach,
  attachStream,
  type CommandResult,
  type ExecOptions,
  type ExecResult,
  type ExecSession,
  exec,
  execStream,
  type StdinSource,
} from "./exec.ts";
export { PROTOCOL_V4, PROTOCOL_V5 } from "./frames.ts";
export { type LogOptions, type LogStream, logs } from "./logs.ts";
export {
  type Forwarder,
  type ForwardOptions,
  forward,
  type PortForwardOptions,
  type PortForwardSession,
  type PortStream,
  portForward,
} from "./portforward.ts";
export type { PodTarget } from "./target.ts";
