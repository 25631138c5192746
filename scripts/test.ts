/**
 * The test command behind `npm test` (after lint and type check): unit tests, then integration
 * tests against a real kube-apiserver, in one `node --test` run so one summary counts them all.
 *
 * The control plane (test/controlplane) is started once for the run, or reused when one is already
 * up, and stopped afterwards only if this run started it. `KUBEKIT_TEST_KUBECONFIG=path` points the
 * integration tests at any other cluster instead. Without Go the integration tests are skipped with
 * a message, except under `CI=true`, where that is a failure.
 *
 *   node scripts/test.ts [--unit | --integration] [files...]
 */
import { spawn } from "node:child_process";
import { globSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  DEFAULT_VERSION,
  down,
  goAvailable,
  repoRoot,
  up,
} from "../test/controlplane/controlplane.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    unit: { type: "boolean", default: false },
    integration: { type: "boolean", default: false },
  },
});

const ci = process.env.CI === "true" || process.env.CI === "1";
const wantUnit = !values.integration || values.unit;
const wantIntegration = !values.unit || values.integration;

function find(patterns: string[]): string[] {
  return patterns
    .flatMap((p) => globSync(p, { cwd: repoRoot, exclude: (f) => f.includes("node_modules") }))
    .sort();
}

const selected = positionals.length > 0 ? positionals : undefined;
const unitFiles = wantUnit
  ? find(["src/**/*.test.ts", "test/unit/**/*.test.ts", "codegen/**/*.test.ts"])
  : [];
let integrationFiles = wantIntegration ? find(["test/integration/**/*.test.ts"]) : [];
const pick = (files: string[]) =>
  selected ? files.filter((f) => selected.some((s) => f.includes(s))) : files;

async function main(): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  let startedHere = false;
  const files = pick(unitFiles);
  integrationFiles = pick(integrationFiles);

  if (integrationFiles.length > 0) {
    if (process.env.KUBEKIT_TEST_KUBECONFIG) {
      console.error(
        `integration tests run against KUBEKIT_TEST_KUBECONFIG=${process.env.KUBEKIT_TEST_KUBECONFIG}`,
      );
      files.push(...integrationFiles);
    } else if (!(await goAvailable())) {
      const why = "Go was not found on PATH, so the test control plane cannot be built";
      if (ci) {
        console.error(`integration tests cannot run: ${why} (CI=true makes this a failure)`);
        return 1;
      }
      console.error(`SKIPPING ${integrationFiles.length} integration test files: ${why}.`);
      console.error(
        "Install Go >= 1.26, or set KUBEKIT_TEST_KUBECONFIG to a cluster's kubeconfig.",
      );
    } else {
      const t0 = Date.now();
      const r = await up({ log: (l) => console.error(`[controlplane] ${l}`) });
      startedHere = r.started;
      console.error(
        r.started
          ? `[controlplane] Kubernetes v${r.state.version}: binaries ready in ${r.buildSeconds.toFixed(1)}s, started in ${r.startSeconds.toFixed(1)}s`
          : `[controlplane] reusing the running v${r.state.version} cluster (${((Date.now() - t0) / 1000).toFixed(1)}s)`,
      );
      env.KUBEKIT_TEST_KUBECONFIG = r.state.kubeconfig;
      env.KUBEKIT_TEST_K8S_VERSION = r.state.version;
      files.push(...integrationFiles);
    }
  }
  if (files.length === 0) {
    console.error("no test files matched");
    return 1;
  }

  const stop = async () => {
    if (startedHere) {
      startedHere = false;
      await down({ log: (l) => console.error(`[controlplane] ${l}`) });
    }
  };
  const onSignal = (sig: NodeJS.Signals) => {
    void stop().finally(() => process.exit(sig === "SIGINT" ? 130 : 143));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    // Fault tests kill kube-apiserver, which would break tests running beside them: they run
    // on their own, after everything else. One closing line counts both runs.
    const exclusive = files.filter((f) => f.endsWith("-faults.test.ts"));
    const shared = files.filter((f) => !exclusive.includes(f));
    const tally = { pass: 0, fail: 0 };
    let code = 0;
    for (const group of [shared, exclusive]) {
      if (group.length === 0) continue;
      const tap = join(mkdtempSync(join(tmpdir(), "kubekit-test-")), "results.tap");
      const c = await new Promise<number>((resolve) => {
        const child = spawn(
          process.execPath,
          [
            "--test",
            "--test-concurrency=4",
            "--test-timeout=600000",
            "--test-reporter=spec",
            "--test-reporter-destination=stdout",
            "--test-reporter=tap",
            `--test-reporter-destination=${tap}`,
            ...group,
          ],
          { cwd: repoRoot, env, stdio: "inherit" },
        );
        child.on("close", (x) => resolve(x ?? 1));
      });
      const text = readFileSync(tap, "utf8");
      tally.pass += Number(/^# pass (\d+)$/m.exec(text)?.[1] ?? 0);
      tally.fail += Number(/^# fail (\d+)$/m.exec(text)?.[1] ?? 0);
      if (c !== 0) code = c;
    }
    console.log(`${tally.pass} passed, ${tally.fail} failed`);
    return code;
  } finally {
    await stop();
  }
}

console.error(
  `kubekit tests on Node ${process.version}${ci ? " (CI)" : ""}; default Kubernetes v${DEFAULT_VERSION}`,
);
main().then(
  (code) => {
    process.exitCode = code;
  },
  async (err: unknown) => {
    console.error(`test run failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exitCode = 1;
  },
);
