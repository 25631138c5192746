/**
 * client-go's leader-election example: candidates compete for a Lease; the leader does its work
 * until it loses the lease or is stopped, and with `releaseOnCancel` hands over at once on Ctrl-C.
 * Run it in two terminals with different ids and stop the leader to watch the other take over.
 *
 *   node --conditions=kubekit-source examples/leader-election.ts --id one [--duration 20]
 */
import { parseArgs } from "node:util";
import { Client } from "kubekit";
import { loadConfig } from "kubekit/config";
import { LeaderElector } from "kubekit/leaderelection";

const { values } = parseArgs({
  options: {
    id: { type: "string", default: `candidate-${process.pid}` },
    lease: { type: "string", default: "example" },
    namespace: { type: "string", default: "default" },
    duration: { type: "string" },
  },
});
const client = new Client(await loadConfig());
const ac = new AbortController();
process.once("SIGINT", () => ac.abort());
if (values.duration) setTimeout(() => ac.abort(), Number(values.duration) * 1000).unref();

const elector = new LeaderElector({
  client,
  namespace: values.namespace,
  name: values.lease,
  identity: values.id,
  leaseDurationMs: 60_000,
  renewDeadlineMs: 15_000,
  retryPeriodMs: 5_000,
  releaseOnCancel: true,
  callbacks: {
    onStartedLeading: async ({ signal }) => {
      console.log(`${values.id}: leading`);
      while (!signal.aborted) {
        console.log(`${values.id}: doing the leader's work`);
        await new Promise((r) => setTimeout(r, 2000));
      }
    },
    onStoppedLeading: () => console.log(`${values.id}: leader lost`),
    onNewLeader: (id) => {
      if (id !== values.id) console.log(`${values.id}: new leader elected: ${id}`);
    },
  },
});
await elector.run({ signal: ac.signal });
await client.close();
