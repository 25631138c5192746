/**
 * `npm run codegen -- --fetch`: copies what a running kube-apiserver serves into
 * `codegen/openapi/<gitVersion>/` so that generation never needs the network.
 *
 * What is stored, each file named after the URL it came from:
 *
 *   openapi/v3.json                 GET /openapi/v3 (the index), trimmed to the documents below
 *   openapi/v3/api/v1.json          GET /openapi/v3/api/v1
 *   openapi/v3/apis/<g>/<v>.json    GET /openapi/v3/apis/<g>/<v>, one per built-in group version
 *   discovery/api.json              GET /api  } aggregated discovery (apidiscovery.k8s.io/v2
 *   discovery/apis.json             GET /apis } APIGroupDiscoveryList), trimmed the same way
 *
 * Only built-in group versions are kept. Every group version has an APIService except the
 * aggregator's own apiregistration.k8s.io; the apiserver registers those of built-in groups itself
 * at start-up (label `kube-aggregator.kubernetes.io/automanaged: onstart`). Those served for CRDs
 * (label value `true`) or by aggregated servers (no label) are dropped, so whatever a test happened
 * to install does not leak into the snapshot. The OpenAPI group documents (`apis/<g>` without a version)
 * and the non-API documents (`version`, `.well-known/...`) are not stored: nothing reads them.
 *
 * Files are `JSON.stringify(value, null, 2)` of the parsed body plus a newline: the server's key
 * order is already deterministic (Go sorts map keys; structs have a fixed order), so fetching twice
 * from the same server writes the same bytes.
 *
 * The connection is configured from a kubeconfig parsed with `yaml` (current context; CA, client
 * certificate and key inline or as files; bearer token), deliberately independent of kubekit's
 * own config loader so the generator keeps working while that evolves.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { dirname, join, resolve } from "node:path";
import { parse } from "yaml";

/** What a request needs to reach and authenticate to the server. */
export interface Connection {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  insecure?: boolean;
  serverName?: string;
}

type Yaml = Record<string, unknown>;

function obj(value: unknown, what: string, file: string): Yaml {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`${file}: ${what} is missing or not a mapping`);
  }
  return value as Yaml;
}

function named(list: unknown, name: string, what: string, file: string): Yaml {
  const entry = (Array.isArray(list) ? list : []).find(
    (e) => typeof e === "object" && e !== null && (e as Yaml).name === name,
  );
  return obj((entry as Yaml | undefined)?.[what], `${what} ${JSON.stringify(name)}`, file);
}

/** Reads the current context of a kubeconfig file into a `Connection`. */
export function connectionFromKubeconfig(file: string): Connection {
  const doc = obj(parse(readFileSync(file, "utf8")), "the document", file);
  const contextName = doc["current-context"];
  if (typeof contextName !== "string" || contextName === "") {
    throw new Error(`${file}: no current-context`);
  }
  const context = named(doc.contexts, contextName, "context", file);
  const cluster = named(doc.clusters, String(context.cluster), "cluster", file);
  const user =
    context.user === undefined ? {} : named(doc.users, String(context.user), "user", file);
  const base = dirname(resolve(file));
  // `x-data` is base64 PEM; `x` is a path relative to the kubeconfig's directory.
  const pem = (section: Yaml, key: string): Buffer | undefined => {
    const data = section[`${key}-data`];
    if (typeof data === "string") return Buffer.from(data, "base64");
    const path = section[key];
    return typeof path === "string" ? readFileSync(resolve(base, path)) : undefined;
  };
  if (typeof cluster.server !== "string") throw new Error(`${file}: cluster has no server`);
  const conn: Connection = { server: cluster.server.replace(/\/+$/, "") };
  const ca = pem(cluster, "certificate-authority");
  const cert = pem(user, "client-certificate");
  const key = pem(user, "client-key");
  if (ca) conn.ca = ca;
  if (cert) conn.cert = cert;
  if (key) conn.key = key;
  if (typeof user.token === "string") conn.token = user.token;
  if (cluster["insecure-skip-tls-verify"] === true) conn.insecure = true;
  if (typeof cluster["tls-server-name"] === "string") conn.serverName = cluster["tls-server-name"];
  return conn;
}

/** GETs `path` (which may carry a query) and parses the JSON body; any non-200 answer throws. */
export function getJson(
  conn: Connection,
  path: string,
  accept = "application/json",
): Promise<unknown> {
  const url = new URL(conn.server + path);
  return new Promise((resolvePromise, reject) => {
    const req = request(
      url,
      {
        method: "GET",
        headers: {
          accept,
          "user-agent": "kubekit-codegen",
          ...(conn.token ? { authorization: `Bearer ${conn.token}` } : {}),
        },
        ...(conn.ca ? { ca: conn.ca } : {}),
        ...(conn.cert ? { cert: conn.cert } : {}),
        ...(conn.key ? { key: conn.key } : {}),
        ...(conn.serverName ? { servername: conn.serverName } : {}),
        rejectUnauthorized: conn.insecure !== true,
        timeout: 60_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          if (res.statusCode !== 200) {
            reject(new Error(`GET ${path}: HTTP ${res.statusCode}: ${body.slice(0, 300)}`));
            return;
          }
          try {
            resolvePromise(JSON.parse(body));
          } catch (err) {
            reject(new Error(`GET ${path}: the body is not JSON`, { cause: err }));
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET ${path}: timed out`)));
    req.on("error", reject);
    req.end();
  });
}

/** The Accept header that asks for aggregated discovery. */
export const AGGREGATED_DISCOVERY =
  "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/** The stable on-disk form of a stored document. */
export function stableJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

interface DiscoveryList {
  kind?: string;
  items: { metadata?: { name?: string }; versions: { version: string }[] }[];
}

/** `group/version`, or `version` for the core group, as in `apiVersion`. */
function gvKey(group: string, version: string): string {
  return group === "" ? version : `${group}/${version}`;
}

/**
 * Fetches the snapshot into `<root>/<gitVersion>/`, replacing what was there, and returns that
 * directory. `log` receives one line per step.
 */
export async function fetchSnapshot(
  conn: Connection,
  root: string,
  log: (line: string) => void = () => {},
): Promise<string> {
  const version = (await getJson(conn, "/version")) as { gitVersion?: unknown };
  if (typeof version.gitVersion !== "string" || !/^v\d+\.\d+\.\d+/.test(version.gitVersion)) {
    throw new Error(`GET /version: unexpected gitVersion ${JSON.stringify(version.gitVersion)}`);
  }
  const dir = join(root, version.gitVersion);
  log(`kube-apiserver ${version.gitVersion} at ${conn.server}`);

  const services = (await getJson(conn, "/apis/apiregistration.k8s.io/v1/apiservices")) as {
    items: {
      metadata: { labels?: Record<string, string> };
      spec: { group?: string; version: string };
    }[];
  };
  const foreign = new Set(
    services.items
      .filter((s) => s.metadata.labels?.["kube-aggregator.kubernetes.io/automanaged"] !== "onstart")
      .map((s) => gvKey(s.spec.group ?? "", s.spec.version)),
  );
  const builtIn = { has: (gv: string) => !foreign.has(gv) };

  const files = new Map<string, unknown>();
  for (const path of ["/api", "/apis"]) {
    const list = (await getJson(conn, path, AGGREGATED_DISCOVERY)) as DiscoveryList;
    if (list.kind !== "APIGroupDiscoveryList") {
      throw new Error(`GET ${path}: the server did not answer with aggregated discovery (v2)`);
    }
    list.items = list.items
      .map((g) => ({
        ...g,
        versions: g.versions.filter((v) => builtIn.has(gvKey(g.metadata?.name ?? "", v.version))),
      }))
      .filter((g) => g.versions.length > 0);
    files.set(`discovery${path}.json`, list);
  }

  const index = (await getJson(conn, "/openapi/v3")) as {
    paths: Record<string, { serverRelativeURL: string }>;
  };
  const paths: typeof index.paths = {};
  for (const [key, entry] of Object.entries(index.paths)) {
    const m = /^(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(key);
    if (!m) continue;
    const gv = m[1] !== undefined ? gvKey("", m[1]) : gvKey(m[2]!, m[3]!);
    if (!builtIn.has(gv)) continue;
    paths[key] = entry;
    files.set(`openapi/v3/${key}.json`, await getJson(conn, entry.serverRelativeURL));
    log(`fetched ${key}`);
  }
  files.set("openapi/v3.json", { ...index, paths });

  rmSync(dir, { recursive: true, force: true });
  for (const [rel, value] of files) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), stableJson(value));
  }
  log(`wrote ${files.size} files to ${dir}`);
  return dir;
}
