/**
 * One WebSocket to the API server with the client's TLS settings, credentials, impersonation
 * headers and proxy, carrying binary channel frames. undici's WebSocket is loaded from its own
 * file (as the transport loads its pool): its index would also load the rest of undici.
 */
import type { Duplex } from "node:stream";
import type { Dispatcher, WebSocket as UndiciWebSocket } from "undici";
import { type Credentials, raceSignal } from "../auth/credentials.ts";
import { ApiError, TimeoutError, TransportError } from "../core/errors.ts";
import type { Status } from "../core/meta.ts";
import { describeNetworkError } from "../rest/transport.ts";
import { type UpgradeSettings, upgradeDispatcher } from "../rest/upgrade.ts";
import { StreamError } from "./errors.ts";

/** undici's WebSocket, relative to the package; a test fails when an upgrade moves it. */
export const UNDICI_WEBSOCKET_FILE = "undici/lib/web/websocket/websocket.js";

type WebSocketClass = typeof UndiciWebSocket;
/** undici's `ping(ws, body?)`: sends a ping frame on an open WebSocket (the WHATWG API has none). */
type Ping = (ws: UndiciWebSocket, body?: Buffer) => void;
interface WebSocketParts {
  WebSocket: WebSocketClass;
  ping: Ping;
}
let loading: Promise<WebSocketParts> | undefined;

/** Loads undici's WebSocket (and `ping`) from `file`, or from undici's index when it is not there. */
export async function loadWebSocket(file: string = UNDICI_WEBSOCKET_FILE): Promise<WebSocketParts> {
  try {
    const mod = ((await import(file)) as { default: Partial<WebSocketParts> }).default;
    if (typeof mod.WebSocket !== "function" || typeof mod.ping !== "function")
      throw new Error("not undici's layout");
    return { WebSocket: mod.WebSocket, ping: mod.ping };
  } catch {
    const lib = await import("undici");
    return { WebSocket: lib.WebSocket, ping: lib.ping };
  }
}

/** The handshake's HTTP answer when it was not 101, and the socket when it was. */
interface Capture {
  status?: number;
  headers?: (Buffer | string)[];
  body: Buffer[];
  size: number;
  error?: Error;
  socket?: Duplex;
}

const MAX_ERROR_BODY = 64 * 1024;

type LegacyHandler = Required<
  Pick<
    Dispatcher.DispatchHandler,
    "onConnect" | "onError" | "onUpgrade" | "onHeaders" | "onData" | "onComplete"
  >
> &
  Pick<Dispatcher.DispatchHandler, "onResponseStarted" | "onBodySent">;

/**
 * A dispatcher in front of `inner` that keeps what the WebSocket API hides: a refused handshake's
 * status and body (where the API server puts its Status) and the upgraded socket (for
 * backpressure). A refusal reaches the WebSocket as a network error only after the whole body has
 * been read, so the capture is complete before the WebSocket reports its failure.
 */
function capturing(inner: Dispatcher, capture: Capture): Dispatcher {
  const wrapper = {
    dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      const h = handler as LegacyHandler;
      const own: LegacyHandler = {
        onConnect: (abort) => h.onConnect(abort),
        onResponseStarted: () => h.onResponseStarted?.(),
        onBodySent: (size, total) => h.onBodySent?.(size, total),
        onHeaders: (status, headers) => {
          if (status >= 200) {
            capture.status = status;
            capture.headers = headers;
          }
          return true;
        },
        onData: (chunk) => {
          if (capture.size < MAX_ERROR_BODY) {
            capture.body.push(Buffer.from(chunk));
            capture.size += chunk.length;
          }
          return true;
        },
        onComplete: () =>
          h.onError(new Error(`the server answered the upgrade with HTTP ${capture.status}`)),
        onError: (err) => {
          capture.error ??= err;
          h.onError(err);
        },
        onUpgrade: (status, headers, socket) => {
          capture.socket = socket;
          h.onUpgrade(status, headers, socket);
        },
      };
      return inner.dispatch(options, own);
    },
  };
  return wrapper as unknown as Dispatcher;
}

export interface OpenOptions {
  /** `/api/v1/namespaces/a/pods/b/exec`: the API path, appended to the server's base path. */
  path: string;
  query: URLSearchParams;
  protocols: readonly string[];
  signal?: AbortSignal | undefined;
  /** The limit for the handshake; 0 means none. */
  timeoutMs: number;
  /** Ping interval; see {@link KEEPALIVE_MS}. 0 disables pings and the dead-connection check. */
  keepAliveMs?: number | undefined;
}

/**
 * client-go's keep-alive for exec, attach and port-forward WebSockets: a ping every 5 s, and the
 * connection counts as lost when nothing (data or pong) has arrived for 12 intervals plus a
 * second — a peer or middlebox that vanished without a FIN is noticed in about a minute instead
 * of never. Time the reader spends paused (backpressure) does not count.
 */
export const KEEPALIVE_MS = 5000;

/** Called for every received message, in order, then once on close. */
export interface ConnectionHandlers {
  message(data: Buffer): void;
  /** `error` is set when the connection ended without a closing handshake. */
  close(error: StreamError | undefined): void;
}

/**
 * An open WebSocket. Messages and the close that arrive before `start` are kept and handed to
 * the handlers when it is called.
 */
export interface Connection {
  readonly protocol: string;
  readonly path: string;
  start(handlers: ConnectionHandlers): void;
  send(frame: Uint8Array): void;
  /** Resolves once the socket's write buffer has drained (at once if it need not, or is closed). */
  drained(): Promise<void>;
  /** Stops reading from the socket (the server's writes back up) until `resume`. */
  pause(): void;
  resume(): void;
  /** Starts the closing handshake; the socket is destroyed if it has not closed within a second. */
  close(): void;
  readonly closed: boolean;
}

const FORCE_CLOSE_MS = 1000;

/**
 * Opens a WebSocket to the API server. A refused handshake becomes an `ApiError` with the server's
 * Status (a 401 is retried once if the credential source then has other credentials), a network
 * failure a `TransportError`, a handshake that takes longer than `timeoutMs` a `TimeoutError`;
 * an abort rejects with the signal's reason. Every socket and timer it made is gone when it
 * rejects.
 */
export async function openConnection(
  settings: UpgradeSettings,
  options: OpenOptions,
): Promise<Connection> {
  const { signal } = options;
  if (signal?.aborted) throw signal.reason;
  const parts = await raceSignal(loadWebSocketOnce(), signal);
  const source = settings.credentials;
  let creds = source ? await raceSignal(source.credentials({ signal }), signal) : undefined;
  for (let attempt = 0; ; attempt++) {
    const result = await handshake(parts, settings, options, creds);
    if ("connection" in result) return result.connection;
    if (result.status === 401 && attempt === 0 && source?.onUnauthorized && creds) {
      source.onUnauthorized(creds);
      const fresh = await raceSignal(source.credentials({ signal }), signal);
      if (
        fresh.authorization !== creds.authorization ||
        fresh.clientCert?.version !== creds.clientCert?.version
      ) {
        creds = fresh;
        continue;
      }
    }
    throw result.error;
  }
}

function loadWebSocketOnce(): Promise<WebSocketParts> {
  loading ??= loadWebSocket();
  return loading;
}

type HandshakeResult = { connection: Connection } | { error: unknown; status?: number };

async function handshake(
  { WebSocket, ping }: WebSocketParts,
  settings: UpgradeSettings,
  options: OpenOptions,
  creds: Credentials | undefined,
): Promise<HandshakeResult> {
  const { signal, path } = options;
  if (signal?.aborted) return { error: signal.reason };
  const url = new URL(settings.server);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.pathname = url.pathname.replace(/\/+$/, "") + path;
  url.search = options.query.toString();
  const headers: [string, string][] = [];
  for (const [name, value] of Object.entries(settings.headers)) {
    for (const v of Array.isArray(value) ? value : [value]) headers.push([name, v]);
  }
  if (creds?.authorization !== undefined && !("authorization" in settings.headers)) {
    headers.push(["authorization", creds.authorization]);
  }

  const capture: Capture = { body: [], size: 0 };
  const inner = await upgradeDispatcher(settings, creds?.clientCert);
  let ws: UndiciWebSocket;
  try {
    ws = new WebSocket(url.href, {
      protocols: [...options.protocols],
      dispatcher: capturing(inner, capture),
      headers,
    });
  } catch (err) {
    void inner.destroy().catch(() => {});
    throw err;
  }
  ws.binaryType = "arraybuffer";

  // Messages can follow the 101 in the same packet: collect from the start.
  const early: Buffer[] = [];
  let earlyClose: CloseInfo | undefined;
  let handlers: ConnectionHandlers | undefined;
  const onMessage = (ev: MessageEvent) => {
    const data = Buffer.from(ev.data as ArrayBuffer);
    if (handlers) handlers.message(data);
    else early.push(data);
  };
  ws.addEventListener("message", onMessage as (ev: Event) => void);

  let timedOut = false;
  const opened = await new Promise<boolean>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (ok: boolean) => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      ws.removeEventListener("open", onOpen);
      ws.removeEventListener("close", onFail);
      resolve(ok);
    };
    const onOpen = () => finish(true);
    const onFail = () => finish(false);
    const onAbort = () => {
      ws.close();
      finish(false);
    };
    ws.addEventListener("open", onOpen);
    ws.addEventListener("close", onFail);
    signal?.addEventListener("abort", onAbort, { once: true });
    if (options.timeoutMs > 0) {
      timer = setTimeout(() => {
        timedOut = true;
        ws.close();
        finish(false);
      }, options.timeoutMs);
    }
  });
  // The upgraded socket (if any) is detached from the dispatcher: nothing else of it is needed.
  void inner.destroy().catch(() => {});

  if (!opened) {
    capture.socket?.destroy();
    if (signal?.aborted) return { error: signal.reason };
    if (timedOut) {
      return {
        error: new TimeoutError(
          `GET ${path}: no WebSocket handshake within ${options.timeoutMs} ms`,
          {
            timeoutMs: options.timeoutMs,
          },
        ),
      };
    }
    if (capture.status !== undefined) {
      return { error: refusal(capture, path), status: capture.status };
    }
    return { error: networkError(capture.error, path) };
  }

  const protocol = ws.protocol;
  if (!options.protocols.includes(protocol)) {
    ws.close();
    capture.socket?.destroy();
    return {
      error: new StreamError(
        "ERR_KUBEKIT_STREAM_PROTOCOL",
        `the server chose subprotocol ${JSON.stringify(protocol)}, not one of ${options.protocols.join(", ")}`,
        { path },
      ),
    };
  }

  const socket = capture.socket;
  let closed = false;
  let forceTimer: NodeJS.Timeout | undefined;
  let paused = false;
  const repause = () => {
    if (paused) socket?.pause();
  };
  socket?.on("resume", repause);

  const keepAliveMs = options.keepAliveMs ?? KEEPALIVE_MS;
  let lastRead = Date.now();
  let silentFor: number | undefined;
  const onData = () => {
    lastRead = Date.now();
  };
  socket?.on("data", onData);
  const keepAlive =
    keepAliveMs > 0 && socket
      ? setInterval(() => {
          if (paused) lastRead = Date.now();
          const silent = Date.now() - lastRead;
          if (silent > keepAliveMs * 12 + 1000) {
            silentFor = silent;
            socket.destroy();
            return;
          }
          ping(ws);
        }, keepAliveMs)
      : undefined;

  ws.addEventListener("close", (ev) => {
    closed = true;
    if (forceTimer) clearTimeout(forceTimer);
    if (keepAlive) clearInterval(keepAlive);
    socket?.off("resume", repause);
    socket?.off("data", onData);
    ws.removeEventListener("message", onMessage as (ev: Event) => void);
    const info = { code: ev.code, wasClean: ev.wasClean, reason: ev.reason, silentFor };
    if (handlers) handlers.close(closeError(info, path));
    else earlyClose = info;
  });

  const connection: Connection = {
    protocol,
    path,
    get closed() {
      return closed;
    },
    start(h) {
      handlers = h;
      for (const m of early.splice(0)) h.message(m);
      if (earlyClose) h.close(closeError(earlyClose, path));
    },
    send(frame) {
      if (!closed) ws.send(frame);
    },
    drained() {
      if (closed || !socket?.writableNeedDrain) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const done = () => {
          socket.off("drain", done);
          socket.off("close", done);
          resolve();
        };
        socket.on("drain", done);
        socket.on("close", done);
      });
    },
    pause() {
      paused = true;
      socket?.pause();
    },
    resume() {
      paused = false;
      socket?.resume();
    },
    close() {
      if (closed) return;
      paused = false;
      socket?.resume();
      ws.close(1000);
      forceTimer ??= setTimeout(() => socket?.destroy(), FORCE_CLOSE_MS);
    },
  };
  return { connection };
}

interface CloseInfo {
  code: number;
  wasClean: boolean;
  reason: string;
  /** Set when the keep-alive gave up: how long nothing had arrived, in milliseconds. */
  silentFor?: number | undefined;
}

function closeError(info: CloseInfo, path: string): StreamError | undefined {
  if (info.silentFor !== undefined) {
    return new StreamError(
      "ERR_KUBEKIT_STREAM_LOST",
      `the connection was lost: nothing arrived for ${info.silentFor} ms, not even an answer to a ping`,
      { path },
    );
  }
  if (info.wasClean) return undefined;
  return new StreamError(
    "ERR_KUBEKIT_STREAM_LOST",
    `the connection was lost (WebSocket close code ${info.code}${info.reason ? `: ${info.reason}` : ""})`,
    { path },
  );
}

/** The API server's reasons for statuses that came without a Status body. */
const REASONS: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
  504: "Timeout",
};

/** A refused handshake as an `ApiError`, with the server's Status when the body is one. */
function refusal(capture: Capture, path: string): ApiError {
  const code = capture.status ?? 0;
  let body = Buffer.concat(capture.body);
  const headers = capture.headers ?? [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (
      String(headers[i]).toLowerCase() === "content-encoding" &&
      /gzip/i.test(String(headers[i + 1]))
    ) {
      try {
        body = process.getBuiltinModule("node:zlib").gunzipSync(body);
      } catch {
        // Keep the raw bytes: the status code alone still makes a useful error.
      }
    }
  }
  const text = body.toString("utf8");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed === "object" && parsed !== null && (parsed as Status).kind === "Status") {
    const status = parsed as Status;
    return new ApiError({ ...status, code: status.code || code }, { method: "GET", url: path });
  }
  const excerpt = text.replace(/\s+/g, " ").trim().slice(0, 300);
  const reason = REASONS[code] ?? "";
  return new ApiError(
    {
      kind: "Status",
      apiVersion: "v1",
      status: "Failure",
      code,
      reason,
      message: `the server refused the WebSocket upgrade with HTTP ${code}${excerpt ? `: ${excerpt}` : ""}`,
    },
    { method: "GET", url: path, ...(excerpt ? { body: excerpt } : {}) },
  );
}

function networkError(err: Error | undefined, path: string): TransportError {
  const what = "the WebSocket connection failed";
  return err
    ? describeNetworkError(err, "GET", path, what)
    : new TransportError(`GET ${path}: ${what}`, { method: "GET", url: path });
}
