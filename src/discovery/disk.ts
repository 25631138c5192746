/**
 * The disk cache of discovery: one snapshot per API server, reused across processes for `ttlMs`.
 *
 * **Where.** `$XDG_CACHE_HOME/kubekit/discovery/<host_port>/` (`~/.cache/kubekit/discovery/...`
 * when `XDG_CACHE_HOME` is unset), not kubectl's `~/.kube/cache/discovery/<host_port>/`. Sharing
 * kubectl's directory would warm one cache from the other, but it would tie kubekit to a file
 * layout kubectl owns and changes without notice (one `servergroups.json` plus one
 * `serverresources.json` per group version), let either tool feed the other files it only half
 * understands, and make a kubekit bug able to break the user's kubectl. kubectl's layout also cannot
 * be replaced atomically as a whole: a reader can see new group files beside old resource files.
 * kubekit's own directory holds everything about one server in one file, `discovery.json`, so a
 * snapshot is always read as it was written.
 *
 * **Concurrent writers.** Every write goes to a uniquely named temporary file in the same
 * directory and is then renamed over the target, which POSIX makes atomic: readers see the old
 * file or the new one, never a mix, and the last writer wins. A file that does not parse, has
 * another format version, names another server or is past its TTL is ignored (and overwritten by
 * the next fetch), so a cache can never make discovery fail; neither can a cache that cannot be
 * written (a read-only home directory): `Discovery` ignores errors writing it.
 *
 * OpenAPI v3 documents are kept beside it, under `openapi/`, one file per path and hash. The hash
 * is the document's content hash as the server publishes it, so these files never go stale and
 * carry no TTL.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, unlink, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { type Clock, realClock } from "../core/clock.ts";
import { KubekitError } from "../core/errors.ts";
import { GroupDiscoveryFailedError } from "./errors.ts";
import {
  type ApiGroup,
  type DiscoveredResource,
  type DiscoveryFormat,
  resourceFromJson,
} from "./parse.ts";

/** Six hours: kubectl's default TTL for its discovery cache. */
export const DEFAULT_DISK_CACHE_TTL_MS = 6 * 60 * 60 * 1000;

const FORMAT = "kubekit.discovery/v1";

export interface DiskCacheOptions {
  /** The root directory; `$XDG_CACHE_HOME/kubekit/discovery` or `~/.cache/kubekit/discovery`. */
  dir?: string;
  /** How long a snapshot is used before discovery asks the server again; 6 hours by default. */
  ttlMs?: number;
  clock?: Clock;
  /** The environment to read `XDG_CACHE_HOME` and `HOME` from; `process.env` by default. */
  env?: NodeJS.ProcessEnv;
}

/** What the disk cache stores of a discovery snapshot. */
export interface StoredDiscovery {
  readonly groups: readonly ApiGroup[];
  readonly resources: ReadonlyMap<string, readonly DiscoveredResource[]>;
  readonly failed: GroupDiscoveryFailedError | undefined;
  readonly format: DiscoveryFormat;
  /** When the server was asked, in milliseconds since the epoch. */
  readonly fetchedAt: number;
}

interface FileShape {
  format: string;
  server: string;
  fetchedAt: number;
  discoveryFormat: DiscoveryFormat;
  groups: ApiGroup[];
  resources: Record<string, unknown[]>;
  failed: Record<string, { message: string; code: string }>;
}

/** The directory name of a server: kubectl's rule (scheme dropped, other characters to `_`). */
export function serverDirName(server: string): string {
  const noScheme = server.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").replace(/\/+$/, "");
  return noScheme.replace(/[^A-Za-z0-9.-]/g, "_") || "_";
}

export class DiskCache {
  readonly dir: string;
  readonly ttlMs: number;
  readonly #clock: Clock;

  constructor(options: DiskCacheOptions = {}) {
    const env = options.env ?? process.env;
    const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache");
    this.dir = options.dir ?? join(base, "kubekit", "discovery");
    this.ttlMs = options.ttlMs ?? DEFAULT_DISK_CACHE_TTL_MS;
    this.#clock = options.clock ?? realClock;
  }

  /** The directory of one server's files. */
  serverDir(server: string): string {
    return join(this.dir, serverDirName(server));
  }

  /**
   * The stored snapshot of `server`, or undefined when there is none that can be used: missing,
   * unreadable, malformed, of another server, fetched at or before `notBefore` (ms since the epoch),
   * or older than the TTL.
   */
  async read(server: string, notBefore = 0): Promise<StoredDiscovery | undefined> {
    let data: FileShape;
    try {
      data = JSON.parse(await readFile(join(this.serverDir(server), "discovery.json"), "utf8"));
    } catch {
      return undefined;
    }
    if (
      data?.format !== FORMAT ||
      data.server !== server ||
      typeof data.fetchedAt !== "number" ||
      !Array.isArray(data.groups) ||
      typeof data.resources !== "object" ||
      data.resources === null
    ) {
      return undefined;
    }
    const now = this.#clock.now();
    if (data.fetchedAt <= notBefore || now - data.fetchedAt > this.ttlMs || data.fetchedAt > now) {
      return undefined;
    }
    const groups: ApiGroup[] = [];
    for (const g of data.groups) {
      if (
        typeof g?.name !== "string" ||
        !Array.isArray(g.versions) ||
        !g.versions.every((v) => typeof v === "string") ||
        typeof g.preferredVersion !== "string"
      ) {
        return undefined;
      }
      groups.push({
        name: g.name,
        versions: [...g.versions],
        preferredVersion: g.preferredVersion,
      });
    }
    const resources = new Map<string, DiscoveredResource[]>();
    for (const [gv, list] of Object.entries(data.resources)) {
      if (!Array.isArray(list)) return undefined;
      const rs: DiscoveredResource[] = [];
      for (const item of list) {
        const r = resourceFromJson(item);
        if (!r) return undefined;
        rs.push(r);
      }
      resources.set(gv, rs);
    }
    const failed = new Map<string, Error>();
    for (const [gv, f] of Object.entries(data.failed ?? {})) {
      failed.set(gv, new KubekitError(String(f?.message), { code: String(f?.code) }));
    }
    return {
      groups,
      resources,
      failed: failed.size > 0 ? new GroupDiscoveryFailedError(failed) : undefined,
      format: data.discoveryFormat,
      fetchedAt: data.fetchedAt,
    };
  }

  /** Stores a snapshot of `server`, atomically (see the module comment). */
  async write(server: string, snapshot: StoredDiscovery): Promise<void> {
    const failed: FileShape["failed"] = {};
    for (const [gv, err] of snapshot.failed?.groups ?? []) {
      failed[gv] = {
        message: err.message,
        code: err instanceof KubekitError ? err.code : "ERR_KUBEKIT",
      };
    }
    const file: FileShape = {
      format: FORMAT,
      server,
      fetchedAt: snapshot.fetchedAt,
      discoveryFormat: snapshot.format,
      groups: snapshot.groups.map((g) => ({ ...g, versions: [...g.versions] })),
      resources: Object.fromEntries(
        [...snapshot.resources].map(([gv, rs]) => [gv, rs as unknown[]]),
      ),
      failed,
    };
    await atomicWrite(this.serverDir(server), "discovery.json", JSON.stringify(file));
  }

  /** A cached OpenAPI v3 document (its JSON text) of `path` at `hash`, or undefined. */
  async readOpenApi(server: string, path: string, hash: string): Promise<string | undefined> {
    try {
      return await readFile(this.#openApiFile(server, path, hash), "utf8");
    } catch {
      return undefined;
    }
  }

  /** Stores an OpenAPI v3 document, removing the files of the same path at other hashes. */
  async writeOpenApi(server: string, path: string, hash: string, text: string): Promise<void> {
    const dir = join(this.serverDir(server), "openapi");
    const name = openApiName(path, hash);
    await atomicWrite(dir, name, text);
    const prefix = `${openApiName(path, "")}`;
    for (const f of await readdir(dir).catch(() => [] as string[])) {
      if (f !== name && f.startsWith(prefix) && f.endsWith(".json")) {
        await unlink(join(dir, f)).catch(() => {});
      }
    }
  }

  /** Removes everything stored for `server`. */
  async clear(server: string): Promise<void> {
    await rm(this.serverDir(server), { recursive: true, force: true });
  }

  #openApiFile(server: string, path: string, hash: string): string {
    return join(this.serverDir(server), "openapi", openApiName(path, hash));
  }
}

/** `apis/apps/v1` at hash `ABC` → `apis_apps_v1@ABC.json`; `@` never occurs in the escaped path. */
function openApiName(path: string, hash: string): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, "_");
  return `${safe(path)}@${hash === "" ? "" : `${safe(hash)}.json`}`;
}

async function atomicWrite(dir: string, name: string, text: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${name}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(tmp, text, { mode: 0o600 });
    await rename(tmp, join(dir, name));
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}
