/**
 * `npm run test:chaos`: informers under the full fault plan of issue 8 — kube-apiserver killed
 * with SIGKILL 20 times, etcd compacted 10 times, the connection silenced 10 times, and a handler
 * taking 100 ms per event through a burst of 5,000 changes — printing the figures after each.
 * Starts (or reuses) the test control plane like `npm test`.
 */
import { parseArgs } from "node:util";
import { runChaos } from "../test/chaos/harness.ts";
import { down, up } from "../test/controlplane/controlplane.ts";

const { values } = parseArgs({
  options: {
    kills: { type: "string", default: "20" },
    compactions: { type: "string", default: "10" },
    stalls: { type: "string", default: "10" },
    burst: { type: "string", default: "5000" },
    "handler-ms": { type: "string", default: "100" },
    "stall-ms": { type: "string", default: "5000" },
  },
});

const started = await up({ log: (l) => console.error(`[controlplane] ${l}`) });
process.env.KUBEKIT_TEST_KUBECONFIG = started.state.kubeconfig;
try {
  const report = await runChaos({
    kills: Number(values.kills),
    compactions: Number(values.compactions),
    stalls: Number(values.stalls),
    burst: Number(values.burst),
    handlerDelayMs: Number(values["handler-ms"]),
    stallTimeoutMs: Number(values["stall-ms"]),
    log: (l) => console.log(l),
  });
  console.log(
    `writes ${report.writes} (${report.writeErrors} failed during faults); events ${JSON.stringify(report.events)}; tombstones ${JSON.stringify(report.tombstones)}; leaked ${JSON.stringify(report.leaked)}`,
  );
  console.log(report.ok ? "chaos: all checks held" : "chaos: CHECKS FAILED");
  process.exitCode = report.ok ? 0 : 1;
} finally {
  if (started.started) await down({ log: () => {} });
}
