import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { ConfigError } from "../core/errors.ts";
import { type KubeconfigFile, parseKubeconfigFile } from "./decode.ts";
import {
  type JsonValue,
  Kubeconfig,
  type KubeconfigCluster,
  type KubeconfigContext,
  type KubeconfigUser,
} from "./model.ts";

export interface LoadKubeconfigOptions {
  /**
   * An explicit kubeconfig file (kubectl's `--kubeconfig`). It is used alone, `KUBECONFIG` and
   * `~/.kube/config` are not read, and it must exist.
   */
  path?: string | undefined;
  /** Where `KUBECONFIG` (and `HOME`) are read from. Default: `process.env`. */
  env?: NodeJS.ProcessEnv | undefined;
  /** The home directory for `~/.kube/config`. Default: `env.HOME`, else `os.homedir()`. */
  home?: string | undefined;
  /** The directory relative `KUBECONFIG` entries and `path` resolve against. Default: `process.cwd()`. */
  cwd?: string | undefined;
}

/** The kubeconfig files clientcmd's loading rules name, highest precedence first. */
export interface KubeconfigSources {
  /** Absolute paths, de-duplicated, empty entries dropped. */
  readonly paths: readonly string[];
  /** True when `paths` is the one explicit file (which must exist). */
  readonly explicit: boolean;
}

/**
 * Which files to read: an explicit path alone; else `KUBECONFIG` split by the OS path-list
 * separator (`:`, or `;` on Windows), de-duplicated as written, empty entries ignored; else
 * `~/.kube/config`. A `KUBECONFIG` that is set but empty counts as unset; one made only of
 * separators names no file at all.
 */
export function kubeconfigSources(options: LoadKubeconfigOptions = {}): KubeconfigSources {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  if (options.path) return { paths: [resolve(cwd, options.path)], explicit: true };
  const list = env.KUBECONFIG;
  if (list) {
    const seen = new Set<string>();
    const paths: string[] = [];
    for (const entry of list.split(delimiter)) {
      if (entry === "" || seen.has(entry)) continue;
      seen.add(entry);
      paths.push(resolve(cwd, entry));
    }
    return { paths, explicit: false };
  }
  const home = options.home ?? env.HOME ?? env.USERPROFILE ?? homedir();
  return { paths: [join(home, ".kube", "config")], explicit: false };
}

/**
 * Loads and merges kubeconfig files by clientcmd's loading rules (see {@link kubeconfigSources}).
 *
 * Merging: for clusters, users, contexts and extensions, the first file that defines a name wins
 * the whole entry (fields are never mixed across files); `current-context` is the first non-empty
 * one; `preferences.colors` is true if any file sets it; preference extensions merge by name like
 * the rest. Files that do not exist are skipped (listed in `missingFiles`); any other read or parse
 * error fails the load with a `ConfigError` naming the file (and line).
 *
 * Relative paths are resolved against the directory of the file that wrote them; no file they
 * name is read here.
 */
export async function loadKubeconfig(options: LoadKubeconfigOptions = {}): Promise<Kubeconfig> {
  const { paths, explicit } = kubeconfigSources(options);
  const files: KubeconfigFile[] = [];
  const missing: string[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && !explicit) {
        missing.push(path);
        continue;
      }
      throw new ConfigError(
        code === "ENOENT"
          ? "the kubeconfig file does not exist"
          : `cannot read the kubeconfig file: ${(err as Error).message}`,
        { file: path, cause: err },
      );
    }
    files.push(parseKubeconfigFile(text, path));
  }
  return mergeKubeconfigFiles(files, missing);
}

/**
 * Parses one kubeconfig from text (for a kubeconfig kept in a Secret or an environment variable).
 * `file` is the path it stands for: errors name it and relative paths resolve against its
 * directory; it is not read.
 */
export function parseKubeconfig(text: string, file: string): Kubeconfig {
  return mergeKubeconfigFiles([parseKubeconfigFile(text, resolve(file))], []);
}

function firstWins<T>(maps: Iterable<ReadonlyMap<string, T>>): Map<string, T> {
  const out = new Map<string, T>();
  for (const m of maps) for (const [k, v] of m) if (!out.has(k)) out.set(k, v);
  return out;
}

/** Merges files given highest precedence first, by the rules described at {@link loadKubeconfig}. */
export function mergeKubeconfigFiles(
  files: readonly KubeconfigFile[],
  missing: readonly string[] = [],
): Kubeconfig {
  const current = files.find((f) => f.currentContext !== "");
  return new Kubeconfig({
    files: files.map((f) => f.file),
    missingFiles: missing,
    currentContext: current?.currentContext ?? "",
    currentContextSource: current?.file,
    preferences: {
      colors: files.some((f) => f.preferences.colors),
      extensions: firstWins<JsonValue>(files.map((f) => f.preferences.extensions)),
    },
    clusters: firstWins<KubeconfigCluster>(files.map((f) => f.clusters)),
    users: firstWins<KubeconfigUser>(files.map((f) => f.users)),
    contexts: firstWins<KubeconfigContext>(files.map((f) => f.contexts)),
    extensions: firstWins<JsonValue>(files.map((f) => f.extensions)),
  });
}
