import { readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { ConfigError } from "../core/errors.ts";
import { RestConfig } from "./rest-config.ts";
import { isDNS1123Label, parseTimeout } from "./util.ts";

/** The `code` of the error `inClusterConfig` throws outside a cluster. */
export const ERR_NOT_IN_CLUSTER = "ERR_KUBEKIT_NOT_IN_CLUSTER";

/** Where Kubernetes mounts a pod's service account token, CA and namespace. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

export interface InClusterOptions {
  /** The service account directory (`token`, `ca.crt`, `namespace`). Default {@link SERVICE_ACCOUNT_DIR}. */
  dir?: string | undefined;
  /** Where `KUBERNETES_SERVICE_HOST`, `_PORT` and `POD_NAMESPACE` are read. Default `process.env`. */
  env?: NodeJS.ProcessEnv | undefined;
}

/** The subset of overrides clientcmd applies to an in-cluster config, plus client tuning. */
export interface InClusterOverrides {
  server?: string | undefined;
  token?: string | undefined;
  certificateAuthority?: string | undefined;
  namespace?: string | undefined;
  timeout?: string | undefined;
  qps?: number | undefined;
  burst?: number | undefined;
  userAgent?: string | undefined;
  cwd?: string | undefined;
}

/**
 * Whether {@link inClusterConfig} can work here: both service env vars are set and the token file
 * exists (clientcmd's test before it falls back to in-cluster).
 */
export async function inClusterPossible(options: InClusterOptions = {}): Promise<boolean> {
  const env = options.env ?? process.env;
  if (!env.KUBERNETES_SERVICE_HOST || !env.KUBERNETES_SERVICE_PORT) return false;
  try {
    return !(await stat(join(options.dir ?? SERVICE_ACCOUNT_DIR, "token"))).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The config of a pod's service account (client-go's `rest.InClusterConfig`):
 * `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT` (an IPv6 host in brackets), the
 * token read now and kept as `tokenFile` so the transport re-reads it (projected tokens
 * rotate), `ca.crt` as the CA, and the namespace from `POD_NAMESPACE`, else the `namespace` file,
 * else `default`.
 *
 * Outside a cluster (either env var unset) it throws a `ConfigError` with code
 * {@link ERR_NOT_IN_CLUSTER}. An unreadable token is an error; an unreadable `ca.crt` is not (as
 * in client-go): the config then has no CA and the system roots apply.
 */
export async function inClusterConfig(
  options: InClusterOptions & { overrides?: InClusterOverrides | undefined } = {},
): Promise<RestConfig> {
  const env = options.env ?? process.env;
  const dir = options.dir ?? SERVICE_ACCOUNT_DIR;
  const o = options.overrides ?? {};
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new ConfigError(
      "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set",
      { code: ERR_NOT_IN_CLUSTER },
    );
  }
  const tokenFile = join(dir, "token");
  let token: string;
  try {
    token = (await readFile(tokenFile, "utf8")).trim();
  } catch (err) {
    throw new ConfigError(`cannot read the service account token: ${(err as Error).message}`, {
      file: tokenFile,
      cause: err,
    });
  }
  const caFile = o.certificateAuthority
    ? resolve(o.cwd ?? process.cwd(), o.certificateAuthority)
    : join(dir, "ca.crt");
  let caData: Buffer | undefined;
  try {
    caData = await readFile(caFile);
  } catch (err) {
    if (o.certificateAuthority) {
      throw new ConfigError(`cannot read the certificate authority: ${(err as Error).message}`, {
        file: caFile,
        field: "certificateAuthority",
        cause: err,
      });
    }
  }

  let namespace = o.namespace || env.POD_NAMESPACE || "";
  if (namespace === "") {
    try {
      namespace = (await readFile(join(dir, "namespace"), "utf8")).trim();
    } catch {}
  }
  namespace ||= "default";
  if (!isDNS1123Label(namespace)) {
    throw new ConfigError(`the namespace ${JSON.stringify(namespace)} is not a valid name`, {
      field: o.namespace ? "namespace" : "POD_NAMESPACE",
    });
  }
  const timeoutMs = o.timeout === undefined ? undefined : parseTimeout(o.timeout);
  if (o.timeout !== undefined && (timeoutMs === undefined || timeoutMs < 0)) {
    throw new ConfigError(
      "invalid timeout: give whole seconds or a duration with a unit (1s, 2m, 3h)",
      { field: "timeout" },
    );
  }
  const bracketed = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return new RestConfig({
    source: "in-cluster",
    server: o.server || `https://${bracketed}:${port}`,
    namespace,
    bearerToken: o.token || token,
    tokenFile: o.token ? undefined : tokenFile,
    caData,
    caFile: caData ? caFile : undefined,
    timeoutMs,
    qps: o.qps,
    burst: o.burst,
    userAgent: o.userAgent,
  });
}
