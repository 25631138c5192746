/**
 * Where CustomResourceDefinitions come from: manifest text (YAML or JSON, multi-document, `List`s
 * included, read as kubectl reads it), files and directories of manifests, or a cluster.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  type CustomResourceDefinition as Crd,
  CustomResourceDefinition,
} from "../api/apiextensions/v1/index.ts";
import { parseManifestDocuments } from "../apply/manifest.ts";
import type { Client } from "../client/index.ts";

/**
 * The CustomResourceDefinitions in a manifest, in document order. Other objects are skipped (a
 * chart's rendered output can be read whole); text that does not parse is a `ManifestError` naming
 * `source` and the line.
 */
export function crdsFromText(text: string, source?: string): Crd[] {
  return parseManifestDocuments(text, source === undefined ? {} : { source })
    .map((d) => d.object)
    .filter((o) => o.kind === "CustomResourceDefinition")
    .map((o) => o as unknown as Crd);
}

const MANIFEST = /\.(ya?ml|json)$/;

/**
 * The CustomResourceDefinitions of files and directories (every `.yaml`, `.yml` and `.json` below
 * one, in path order). `-` reads `stdin` (default: the process's standard input).
 */
export async function crdsFromFiles(
  paths: readonly string[],
  stdin: () => Promise<string> = readStdin,
): Promise<Crd[]> {
  const out: Crd[] = [];
  for (const path of paths) {
    if (path === "-") {
      out.push(...crdsFromText(await stdin(), "<stdin>"));
      continue;
    }
    const files = (await stat(path)).isDirectory()
      ? (await readdir(path, { recursive: true }))
          .filter((f) => MANIFEST.test(f))
          .sort()
          .map((f) => join(path, f))
      : [path];
    for (const file of files) out.push(...crdsFromText(await readFile(file, "utf8"), file));
  }
  return out;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export interface FromClusterOptions {
  /** CRD names (`widgets.example.com`); every CRD on the cluster when empty or absent. */
  names?: readonly string[] | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * The CustomResourceDefinitions of a cluster, in name order: the named ones (a missing one is the
 * server's NotFound `ApiError`), or all.
 */
export async function crdsFromCluster(
  client: Client,
  options: FromClusterOptions = {},
): Promise<Crd[]> {
  const api = client.api(CustomResourceDefinition);
  const call = options.signal ? { signal: options.signal } : {};
  const crds =
    options.names && options.names.length > 0
      ? await Promise.all(options.names.map((n) => api.get(n, call)))
      : (await api.list(call)).items;
  return crds.sort((a, b) => {
    const [x, y] = [a.metadata?.name ?? "", b.metadata?.name ?? ""];
    return x < y ? -1 : x > y ? 1 : 0;
  });
}
