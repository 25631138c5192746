/**
 * Reading a stored snapshot (see fetch.ts for its layout): the OpenAPI v3 schemas of every group
 * version merged into one table, and the aggregated discovery documents. No network.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { DiscoveryResource, GVK, Schema } from "../src/crdgen/schema.ts";

export type { DiscoveryResource, GVK, Schema } from "../src/crdgen/schema.ts";

export interface DiscoveryGroup {
  /** `""` for the core group. */
  group: string;
  versions: { version: string; resources: DiscoveryResource[] }[];
}

export interface Snapshot {
  /** The server's gitVersion, e.g. `v1.37.2`: the name of the snapshot's directory. */
  version: string;
  /** Every schema of every stored document, by definition name (`io.k8s.api.core.v1.Pod`). */
  schemas: Map<string, Schema>;
  /** The groups of `/api` then `/apis`, in the server's order. */
  discovery: DiscoveryGroup[];
}

const readJson = (path: string): unknown => JSON.parse(readFileSync(path, "utf8"));

/** `v1.37.2` → [1, 37, 2]; anything after the patch number is ignored for ordering. */
function versionKey(v: string): number[] {
  return (/^v(\d+)\.(\d+)\.(\d+)/.exec(v) ?? []).slice(1).map(Number);
}

/**
 * The snapshot directory to generate from: `requested` if given, else the highest Kubernetes
 * version stored under `root`.
 */
export function pickSnapshot(root: string, requested?: string): string {
  if (requested !== undefined) return join(root, requested);
  const versions = readdirSync(root)
    .filter((d) => versionKey(d).length === 3)
    .sort((a, b) => {
      const [x, y] = [versionKey(a), versionKey(b)];
      return x[0]! - y[0]! || x[1]! - y[1]! || x[2]! - y[2]! || (a < b ? -1 : a > b ? 1 : 0);
    });
  const newest = versions.at(-1);
  if (newest === undefined) {
    throw new Error(`no snapshot under ${root}; run \`npm run codegen -- --fetch\` first`);
  }
  return join(root, newest);
}

const gvkKey = (g: GVK) => `${g.group}/${g.version}/${g.kind}`;

/**
 * Loads a snapshot directory. A definition appears in every document that uses it; the copies must
 * agree except for `x-kubernetes-group-version-kind`, which each document limits to its own group
 * version (meta/v1's DeleteOptions and WatchEvent are registered in every group), so those lists
 * are merged. Any other disagreement is an error: it would make the output depend on which
 * document was read first.
 */
export function loadSnapshot(dir: string): Snapshot {
  const version = dir.split(/[\\/]/).filter(Boolean).at(-1)!;
  const index = readJson(join(dir, "openapi/v3.json")) as { paths: Record<string, unknown> };
  const schemas = new Map<string, Schema>();
  const origin = new Map<string, string>();
  for (const key of Object.keys(index.paths).sort()) {
    const doc = readJson(join(dir, "openapi/v3", `${key}.json`)) as {
      components?: { schemas?: Record<string, Schema> };
    };
    for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) {
      const seen = schemas.get(name);
      if (seen === undefined) {
        schemas.set(name, schema);
        origin.set(name, key);
        continue;
      }
      const strip = (s: Schema) =>
        JSON.stringify({ ...s, "x-kubernetes-group-version-kind": undefined });
      if (strip(seen) !== strip(schema)) {
        throw new Error(`${name} differs between openapi/v3/${origin.get(name)} and ${key}`);
      }
      const gvks = new Map<string, GVK>();
      for (const g of [
        ...(seen["x-kubernetes-group-version-kind"] ?? []),
        ...(schema["x-kubernetes-group-version-kind"] ?? []),
      ]) {
        gvks.set(gvkKey(g), g);
      }
      if (gvks.size > 0) {
        const merged = [...gvks.values()].sort((a, b) => (gvkKey(a) < gvkKey(b) ? -1 : 1));
        schemas.set(name, { ...seen, "x-kubernetes-group-version-kind": merged });
      }
    }
  }

  const discovery: DiscoveryGroup[] = [];
  for (const file of ["api.json", "apis.json"]) {
    const list = readJson(join(dir, "discovery", file)) as {
      items: { metadata?: { name?: string }; versions: DiscoveryGroup["versions"] }[];
    };
    for (const item of list.items) {
      discovery.push({ group: item.metadata?.name ?? "", versions: item.versions });
    }
  }
  return { version, schemas, discovery };
}
