/**
 * The replay server: a plain-HTTP stand-in for the API server that serves prepared bytes, so the
 * decode workloads measure the clients and not the API server.
 * - `GET /api/v1/pods`: the PodList (JSON, or protobuf when the client asks for it first), sent
 *   chunked as the API server streams lists; `?limit=N` (the clients' warm-up) gets a small list.
 * - `GET /api/v1/pods?watch=true` (or `/api/v1/watch/pods`): `watchEvents` MODIFIED events, the
 *   prepared block of distinct events repeated, written as fast as the client reads; then the
 *   response ends.
 * Responses are never compressed: the floor (node:http + JSON.parse) does not ask for gzip either.
 */
import { once } from "node:events";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReplayData {
  /** The full PodList as JSON. */
  list: Buffer;
  /** A small PodList (for `?limit=`). */
  smallList: Buffer;
  /** The same PodList as protobuf, when the Go peer could encode it. */
  listProto?: Buffer;
  /** Newline-delimited JSON events, `eventsPerBlock` of them. */
  watchBlock: Buffer;
  /** The same events as length-framed protobuf. */
  watchBlockProto?: Buffer;
  eventsPerBlock: number;
  /** How many events one watch response carries. */
  watchEvents: number;
}

const PROTOBUF = "application/vnd.kubernetes.protobuf";

function wantsProtobuf(accept: string | undefined): boolean {
  return (accept ?? "").split(",")[0]?.trim().startsWith(PROTOBUF) ?? false;
}

async function writeChunked(res: ServerResponse, body: Buffer, chunk = 64 * 1024): Promise<void> {
  for (let i = 0; i < body.length; i += chunk) {
    if (!res.write(body.subarray(i, i + chunk))) await once(res, "drain");
  }
}

export interface Replay {
  url: string;
  close(): Promise<void>;
}

export async function startReplay(data: ReplayData): Promise<Replay> {
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://replay");
      const isPods = url.pathname === "/api/v1/pods" || url.pathname === "/api/v1/watch/pods";
      if (!isPods) {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(
          '{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}',
        );
        return;
      }
      const proto = wantsProtobuf(req.headers.accept);
      const watch = url.searchParams.get("watch") === "true" || url.pathname.includes("/watch/");
      if (watch) {
        const block = proto && data.watchBlockProto ? data.watchBlockProto : data.watchBlock;
        res.writeHead(200, {
          "content-type":
            proto && data.watchBlockProto ? `${PROTOBUF};stream=watch` : "application/json",
        });
        const blocks = Math.ceil(data.watchEvents / data.eventsPerBlock);
        for (let b = 0; b < blocks && !res.destroyed; b++) {
          if (!res.write(block)) await once(res, "drain");
        }
        res.end();
        return;
      }
      if (url.searchParams.has("limit")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(data.smallList);
        return;
      }
      const body = proto && data.listProto ? data.listProto : data.list;
      res.writeHead(200, {
        "content-type": proto && data.listProto ? PROTOBUF : "application/json",
      });
      await writeChunked(res, body);
      res.end();
    })().catch(() => res.destroy());
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A kubeconfig for the replay server: plain HTTP, no credentials. */
export function replayKubeconfig(url: string): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: replay",
    "  cluster:",
    `    server: ${url}`,
    // client-node refuses plain http unless TLS verification is "skipped".
    "    insecure-skip-tls-verify: true",
    "users:",
    "- name: anonymous",
    "  user: {}",
    "contexts:",
    "- name: replay",
    "  context: {cluster: replay, user: anonymous, namespace: default}",
    "current-context: replay",
    "",
  ].join("\n");
}
