/**
 * `npm run cluster -- up|down|status [--version 1.37.2]`: a local, real Kubernetes control plane.
 */
import { parseArgs } from "node:util";
import {
  DEFAULT_VERSION,
  down,
  ensureBinaries,
  logsFolder,
  relativeToRepo,
  status,
  up,
} from "./controlplane.ts";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    version: { type: "string", default: DEFAULT_VERSION },
    help: { type: "boolean", short: "h" },
  },
});
const command = positionals[0] ?? "status";
const usage = `usage: npm run cluster -- <up|down|status|build> [--version ${DEFAULT_VERSION}]

  up       build the binaries if needed, start etcd, kube-apiserver and kube-controller-manager on
           loopback, and print the admin kubeconfig's path (a no-op if the cluster is up)
  down     stop the cluster and delete its data (logs are kept)
  status   say whether the cluster is up, its version and its kubeconfig
  build    only build (or find in the cache) the binaries for --version`;

async function main(): Promise<number> {
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const version = values.version!.replace(/^v/, "");
  switch (command) {
    case "up": {
      const r = await up({ version, log: (l) => console.error(l) });
      if (r.started) {
        console.error(
          `control plane v${r.state.version} up at ${r.state.server} (built/cached in ${r.buildSeconds.toFixed(1)}s, started in ${r.startSeconds.toFixed(1)}s); logs in ${relativeToRepo(logsFolder())}`,
        );
      }
      console.log(relativeToRepo(r.state.kubeconfig));
      return 0;
    }
    case "down":
      await down({ log: (l) => console.error(l) });
      return 0;
    case "status": {
      const s = await status();
      if (s.up && s.state) {
        console.log(
          `up: Kubernetes ${s.serverVersion} at ${s.state.server} since ${s.state.startedAt}`,
        );
        console.log(`kubeconfig: ${relativeToRepo(s.state.kubeconfig)}`);
        console.log(`logs: ${relativeToRepo(logsFolder())}`);
        return 0;
      }
      console.log(`down${s.problems.length ? `: ${s.problems.join("; ")}` : ""}`);
      return 3;
    }
    case "build": {
      const b = await ensureBinaries(version, (l) => console.error(l));
      console.log(b.dir);
      return 0;
    }
    default:
      console.error(usage);
      return 2;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`cluster: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
