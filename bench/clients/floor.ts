/**
 * The floor: what the same work costs with nothing but Node itself, in its own process.
 * - list-pods: node:http GET, Buffer.concat of the chunks, one JSON.parse.
 * - watch: node:http GET, split on newlines, JSON.parse per line.
 * Plain HTTP against the replay server, no gzip; a client can approach this, not beat it.
 */
import { type IncomingMessage, request } from "node:http";
import { main, memory, params } from "./common.ts";

const { workload, p } = params();

function get(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: "application/json" } }, resolve);
    req.on("error", reject);
    req.end();
  });
}

async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

main(async () => {
  const server = /server:\s*(\S+)/.exec(
    (await import("node:fs")).readFileSync(p.kubeconfig, "utf8"),
  )?.[1];
  if (!server) throw new Error(`no server in ${p.kubeconfig}`);
  switch (workload) {
    case "list-pods": {
      JSON.parse((await readAll(await get(`${server}/api/v1/pods?limit=1`))).toString());
      const start = performance.now();
      const list = JSON.parse((await readAll(await get(`${server}/api/v1/pods`))).toString()) as {
        items: unknown[];
      };
      const ms = performance.now() - start;
      return { ms, items: list.items.length, ...memory() };
    }
    case "watch": {
      JSON.parse((await readAll(await get(`${server}/api/v1/pods?limit=1`))).toString());
      const start = performance.now();
      const res = await get(`${server}/api/v1/pods?watch=true`);
      let events = 0;
      let rest: Buffer | undefined;
      outer: for await (const chunk of res) {
        let buf = chunk as Buffer;
        if (rest) {
          buf = Buffer.concat([rest, buf]);
          rest = undefined;
        }
        let pos = 0;
        for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10, pos)) {
          const ev = JSON.parse(buf.toString("utf8", pos, nl)) as { object?: unknown };
          if (!ev.object) throw new Error("an event without an object");
          pos = nl + 1;
          if (++events >= p.n) break outer;
        }
        if (pos < buf.length) rest = buf.subarray(pos);
      }
      const ms = performance.now() - start;
      res.destroy();
      if (events < p.n) throw new Error(`the watch ended after ${events} of ${p.n} events`);
      return { ms, events, eventsPerSec: events / (ms / 1000), ...memory() };
    }
    default:
      return { unsupported: "the floor exists for the replay workloads only" };
  }
});
