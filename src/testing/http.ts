/**
 * The in-memory server over plain HTTP/1.1 on loopback, for clients that need a URL (kubectl,
 * client-go, other processes). Watch responses are streamed with chunked encoding and end when the
 * client goes away.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ServerResponse as Answer, ServerRequest } from "./server.ts";

interface Handler {
  handle(req: ServerRequest): Promise<Answer>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

async function serve(handler: Handler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const ac = new AbortController();
  res.on("close", () => ac.abort());
  const body = await readBody(req);
  const answer = await handler.handle({
    method: req.method ?? "GET",
    path: req.url ?? "/",
    headers: req.headers,
    body: body.length > 0 ? body : undefined,
    signal: ac.signal,
  });
  if (typeof answer.body === "string") {
    res.writeHead(answer.status, {
      ...answer.headers,
      "content-length": Buffer.byteLength(answer.body),
    });
    res.end(answer.body);
    return;
  }
  res.writeHead(answer.status, { ...answer.headers, "transfer-encoding": "chunked" });
  res.flushHeaders();
  const stream = answer.body;
  const it = stream[Symbol.asyncIterator]();
  const stop = () => void it.return?.();
  res.on("close", stop);
  try {
    for (;;) {
      const next = await it.next();
      if (next.done) break;
      res.write(next.value);
    }
  } finally {
    res.off("close", stop);
    res.end();
  }
}

/** Starts listening; resolves once the port is bound, with the server and its base URL. */
export async function listen(
  handler: Handler,
  host: string,
  port: number,
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    serve(handler, req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return { server, url: `http://${shown}:${addr.port}` };
}
