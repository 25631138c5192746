/**
 * The `kubekit-crdgen` command, as a function of its arguments (cli.ts runs it as the package's
 * bin). Exit codes: 0 done, 1 a failure (or `--check` found differences), 2 a usage error.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { CustomResourceDefinition } from "../api/apiextensions/v1/index.ts";
import { Client } from "../client/index.ts";
import { loadConfig } from "../config/index.ts";
import { generate } from "./generate.ts";
import { crdsFromCluster, crdsFromFiles } from "./input.ts";
import { writeModules } from "./output.ts";

export const USAGE = `Usage:
  kubekit-crdgen [options] -o <dir> <file|dir|->...
  kubekit-crdgen [options] -o <dir> --from-cluster [<crd-name>...]

Generates one TypeScript module per group version (<dir>/<group>/<version>.ts) from
CustomResourceDefinitions: typed interfaces and a descriptor per kind, for client.api(Kind).

Options:
  -o, --out <dir>        where modules are written (stale ones of the same CRDs are removed)
      --stdout           print the module instead (only when there is exactly one)
      --group <group>    only the CRDs of this group (repeatable)
      --check            write nothing; exit 1 when <dir> differs from what would be written
      --from-cluster     read the CRDs from a cluster (all, or the named ones)
      --kubeconfig <f>   the kubeconfig for --from-cluster (default: kubectl's rules)
      --context <name>   its context
  -h, --help             this text
`;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Standard input, for `-`. */
  stdin?: () => Promise<string>;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Runs `kubekit-crdgen` with `argv` (the arguments after the command); resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let values: ReturnType<typeof parse>["values"];
  let positionals: string[];
  try {
    ({ values, positionals } = parse(argv));
  } catch (err) {
    io.stderr(`kubekit-crdgen: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  const usage = (why: string) => {
    io.stderr(`kubekit-crdgen: ${why}\n\n${USAGE}`);
    return 2;
  };
  if (values.out === undefined && !values.stdout) return usage("--out <dir> or --stdout is needed");
  if (values.out !== undefined && values.stdout)
    return usage("--out and --stdout exclude each other");
  if (values.check && values.out === undefined) return usage("--check needs --out");
  if (!values["from-cluster"] && positionals.length === 0) {
    return usage("no input: give files, directories or -, or --from-cluster");
  }
  if (!values["from-cluster"] && (values.kubeconfig || values.context)) {
    return usage("--kubeconfig and --context go with --from-cluster");
  }
  const cwd = io.cwd ?? process.cwd();
  try {
    let crds: CustomResourceDefinition[];
    if (values["from-cluster"]) {
      const config = await loadConfig({
        kubeconfig: values.kubeconfig && resolve(cwd, values.kubeconfig),
        context: values.context,
        env: io.env ?? process.env,
        cwd,
      });
      const client = new Client(config);
      try {
        crds = await crdsFromCluster(client, { names: positionals });
      } finally {
        await client.close();
      }
    } else {
      crds = await crdsFromFiles(
        positionals.map((p) => (p === "-" ? p : resolve(cwd, p))),
        io.stdin,
      );
    }
    const files = generate(crds, { groups: values.group });
    const names = crds
      .filter((c) => !values.group?.length || values.group.includes(c.spec?.group))
      .map((c) => c.metadata?.name ?? "");
    if (files.size === 0) {
      io.stderr(
        "kubekit-crdgen: the input has no CustomResourceDefinition with a served version\n",
      );
      return 1;
    }
    if (values.stdout) {
      if (files.size > 1) {
        return usage(`${files.size} modules (${[...files.keys()].join(", ")}): use --out`);
      }
      io.stdout([...files.values()][0]!);
      return 0;
    }
    const out = resolve(cwd, values.out!);
    const r = await writeModules(out, files, names, { check: values.check ?? false });
    const summary =
      `${names.length} CustomResourceDefinition${names.length === 1 ? "" : "s"}, ` +
      `${files.size} module${files.size === 1 ? "" : "s"} in ${values.out}`;
    if (values.check) {
      const stale = [
        ...r.written.map((f) => `${f} differs`),
        ...r.removed.map((f) => `${f} is stale`),
      ];
      for (const s of stale) io.stderr(`kubekit-crdgen: ${s}\n`);
      io.stderr(
        `kubekit-crdgen: ${summary}: ${stale.length === 0 ? "up to date" : "not up to date"}\n`,
      );
      return stale.length === 0 ? 0 : 1;
    }
    io.stderr(
      `kubekit-crdgen: ${summary} (${r.written.length} written, ${r.removed.length} removed)\n`,
    );
    return 0;
  } catch (err) {
    io.stderr(`kubekit-crdgen: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      out: { type: "string", short: "o" },
      stdout: { type: "boolean" },
      group: { type: "string", multiple: true },
      check: { type: "boolean" },
      "from-cluster": { type: "boolean" },
      kubeconfig: { type: "string" },
      context: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}
