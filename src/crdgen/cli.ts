#!/usr/bin/env node
/**
 * The `kubekit-crdgen` executable (package.json `bin`): runs main.ts's `runCli` on the process's
 * arguments and exits with its code. See `kubekit-crdgen --help`.
 */
import { runCli } from "./main.ts";

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
});
