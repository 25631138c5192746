import { open, readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { ConfigError } from "../core/errors.ts";
import {
  type InClusterOptions,
  inClusterConfig,
  inClusterPossible,
  SERVICE_ACCOUNT_DIR,
} from "./in-cluster.ts";
import { type LoadKubeconfigOptions, loadKubeconfig } from "./kubeconfig.ts";
import type { JsonValue, Kubeconfig, KubeconfigCluster, KubeconfigUser } from "./model.ts";
import {
  EXEC_API_VERSIONS,
  type ExecInteractiveMode,
  normalizeServer,
  proxyUrlProblem,
  RestConfig,
  type RestConfigInit,
} from "./rest-config.ts";
import { cleanInstallHint, isDNS1123Label, parseTimeout } from "./util.ts";

/** The `code` of the error thrown when there is no configuration at all to use. */
export const ERR_NO_CONFIG = "ERR_KUBEKIT_NO_CONFIG";

/** The cluster extension whose value is passed to exec plugins as `spec.cluster.config`. */
export const EXEC_CLUSTER_EXTENSION = "client.authentication.k8s.io/exec";

/**
 * What kubectl's global flags override (clientcmd's `ConfigOverrides`). Empty strings count as
 * unset. Paths are relative to `cwd`, not to a kubeconfig file.
 */
export interface ConfigOverrides {
  /** `--context`: must exist. */
  context?: string | undefined;
  /** `--cluster`: must exist. */
  cluster?: string | undefined;
  /** `--user`: must exist. */
  user?: string | undefined;
  /** `--namespace`. */
  namespace?: string | undefined;
  /** `--server`; also replaces the kubeconfig's `tls-server-name` with `tlsServerName` (or none). */
  server?: string | undefined;
  /** `--tls-server-name`. */
  tlsServerName?: string | undefined;
  /** `--insecure-skip-tls-verify`: true also drops the kubeconfig's CA. */
  insecureSkipTlsVerify?: boolean | undefined;
  /** `--certificate-authority`: replaces the kubeconfig's CA (file and data) and insecure flag. */
  certificateAuthority?: string | undefined;
  /** `--client-certificate`: replaces the user's certificate (file and data). */
  clientCertificate?: string | undefined;
  /** `--client-key`: replaces the user's key (file and data). */
  clientKey?: string | undefined;
  /** `--token`. */
  token?: string | undefined;
  /** `--username` / `--password`. */
  username?: string | undefined;
  password?: string | undefined;
  /** `--as`, `--as-uid`, `--as-group` (and user-extra, which has no flag). */
  impersonate?:
    | {
        user?: string | undefined;
        uid?: string | undefined;
        groups?: readonly string[] | undefined;
        extra?: Readonly<Record<string, readonly string[]>> | undefined;
      }
    | undefined;
  /** `--disable-compression` (can only turn it on, as in kubectl). */
  disableCompression?: boolean | undefined;
  /** A proxy for this cluster (`proxy-url`). */
  proxyUrl?: string | undefined;
  /** `--request-timeout`: whole seconds ("30") or a Go duration ("1m30s"); "0" means none. */
  timeout?: string | undefined;
}

/** Client settings that do not come from a kubeconfig. */
export interface ClientTuning {
  /** Requests per second (default 5); 0 or less turns client-side rate limiting off. */
  qps?: number | undefined;
  /** Burst for the rate limiter (default 10). */
  burst?: number | undefined;
  userAgent?: string | undefined;
}

export interface RestConfigFromKubeconfigOptions extends ConfigOverrides, ClientTuning {
  /** The directory override paths are relative to. Default `process.cwd()`. */
  cwd?: string | undefined;
}

export interface LoadConfigOptions extends RestConfigFromKubeconfigOptions {
  /** An explicit kubeconfig file (`--kubeconfig`), used alone; must exist. */
  kubeconfig?: string | undefined;
  /** Where `KUBECONFIG`, `HOME` and the in-cluster variables are read. Default `process.env`. */
  env?: NodeJS.ProcessEnv | undefined;
  /** The home directory for `~/.kube/config`. */
  home?: string | undefined;
  /**
   * In-cluster fallback: where the service account files are (default
   * `/var/run/secrets/kubernetes.io/serviceaccount`), or `false` to never fall back.
   */
  inCluster?: Pick<InClusterOptions, "dir"> | false | undefined;
}

/**
 * The connection for one context, by clientcmd's deferred-loading rules (what kubectl and
 * `clientcmd.BuildConfigFromFlags` do): the explicit `kubeconfig` file, else the `KUBECONFIG`
 * files, else `~/.kube/config`; then the context chosen by `context` or `current-context`, with
 * the overrides applied (see {@link ConfigOverrides}).
 *
 * When the kubeconfig gives nothing to connect to (no files, no current context, or a context that
 * names no cluster) and no `server` override is given, it falls back to the in-cluster config if
 * the process runs in a pod, and otherwise fails with code {@link ERR_NO_CONFIG}. Any other
 * problem is a `ConfigError` naming the kubeconfig file and entry (see
 * {@link restConfigFromKubeconfig}).
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<RestConfig> {
  const env = options.env ?? process.env;
  const loadOptions: LoadKubeconfigOptions = {
    path: options.kubeconfig,
    env,
    home: options.home,
    cwd: options.cwd,
  };
  const kubeconfig = await loadKubeconfig(loadOptions);
  const result = await resolveKubeconfig(kubeconfig, options);
  if (result instanceof RestConfig) return result;
  const inCluster = options.inCluster === false ? undefined : { env, dir: options.inCluster?.dir };
  if (inCluster && (await inClusterPossible(inCluster))) {
    return inClusterConfig({ ...inCluster, overrides: options });
  }
  const looked =
    kubeconfig.files.length > 0
      ? `read ${kubeconfig.files.join(", ")}`
      : `found no kubeconfig file (looked for ${[...kubeconfig.missingFiles].join(", ") || "none"})`;
  throw new ConfigError(
    `no configuration: ${result.why}; ${looked}; not running in a cluster (${SERVICE_ACCOUNT_DIR} and KUBERNETES_SERVICE_HOST)`,
    { code: ERR_NO_CONFIG, file: result.file, field: result.field },
  );
}

/**
 * The connection for one context of an already loaded kubeconfig (clientcmd's
 * `DirectClientConfig.ClientConfig`), with the overrides applied. No in-cluster fallback: when
 * there is nothing to connect to, it fails with code {@link ERR_NO_CONFIG}.
 *
 * Validation follows clientcmd and fails with a `ConfigError` naming the file and entry: a context,
 * cluster or user that does not exist; a cluster without server; an invalid proxy-url; a CA given
 * both as file and data; a certificate without key (or a key without certificate), or either given
 * twice; a file that cannot be read; an exec plugin without command, apiVersion or a valid
 * interactiveMode; exec together with an auth-provider; token together with basic auth;
 * `as-uid`/`as-groups`/`as-user-extra` without `as`; a namespace that is not a DNS-1123 label.
 * For https servers also what client-go's transport rejects: insecure together with a CA, a token
 * file together with basic auth, an exec apiVersion it does not run. When several problems exist,
 * the error names the first and lists all.
 */
export async function restConfigFromKubeconfig(
  kubeconfig: Kubeconfig,
  options: RestConfigFromKubeconfigOptions = {},
): Promise<RestConfig> {
  const result = await resolveKubeconfig(kubeconfig, options);
  if (result instanceof RestConfig) return result;
  throw new ConfigError(`no configuration: ${result.why}`, {
    code: ERR_NO_CONFIG,
    file: result.file,
    field: result.field,
  });
}

/** Nothing to connect to: clientcmd's `ErrEmptyConfig`, which is when it tries in-cluster. */
interface Empty {
  why: string;
  file?: string | undefined;
  field?: string | undefined;
}

/** A value and where it came from: a kubeconfig entry (file + field) or an override (field). */
interface From {
  file: string | undefined;
  field: string;
}

const q = JSON.stringify;

/** Validation problems, collected so that one error can report them all (as clientcmd does). */
class Problems {
  readonly #list: { message: string; where: From; cause: unknown }[] = [];

  add(message: string, where: From, cause?: unknown): void {
    this.#list.push({ message, where, cause });
  }

  /** Throws the problem as a ConfigError; with several, names the first and lists all. */
  throwIfAny(): void {
    const errors = this.#list.map(
      (p) =>
        new ConfigError(p.message, { file: p.where.file, field: p.where.field, cause: p.cause }),
    );
    const [first] = this.#list;
    if (first === undefined) return;
    if (errors.length === 1) throw errors[0];
    throw new ConfigError(`${first.message}\n${errors.map((e) => `  - ${e.message}`).join("\n")}`, {
      file: first.where.file,
      field: first.where.field,
      cause: new AggregateError(errors),
    });
  }
}

async function checkReadable(path: string, what: string, where: From, problems: Problems) {
  try {
    await (await open(path, "r")).close();
  } catch (err) {
    problems.add(
      `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      where,
      err,
    );
  }
}

async function resolveKubeconfig(
  kc: Kubeconfig,
  o: RestConfigFromKubeconfigOptions,
): Promise<RestConfig | Empty> {
  const cwd = o.cwd ?? process.cwd();
  const problems = new Problems();
  const override = (field: string): From => ({ file: undefined, field });

  // Context: the override must exist; so must a current-context that names one.
  const contextName = o.context || kc.currentContext;
  const context = kc.contexts.get(contextName);
  if (contextName !== "" && context === undefined) {
    throw o.context
      ? new ConfigError(`context ${q(contextName)} does not exist`, {
          field: `contexts[${q(contextName)}]`,
        })
      : new ConfigError(`current-context names context ${q(contextName)}, which does not exist`, {
          file: kc.currentContextSource,
          field: "current-context",
        });
  }
  const ctxLabel = context && `contexts[${q(context.name)}]`;

  // Cluster and user: an override must exist. kubekit also fails when the context names one that
  // does not exist, where clientcmd quietly uses an empty entry (no server, or no credentials).
  const clusterName = o.cluster || context?.cluster || "";
  const cluster = kc.clusters.get(clusterName);
  if (clusterName !== "" && cluster === undefined) {
    throw o.cluster
      ? new ConfigError(`cluster ${q(clusterName)} does not exist`, {
          field: `clusters[${q(clusterName)}]`,
        })
      : new ConfigError(`the context names cluster ${q(clusterName)}, which does not exist`, {
          file: context?.source,
          field: `${ctxLabel}.cluster`,
        });
  }
  const userName = o.user || context?.user || "";
  const user = kc.users.get(userName);
  if (userName !== "" && user === undefined) {
    throw o.user
      ? new ConfigError(`user ${q(userName)} does not exist`, { field: `users[${q(userName)}]` })
      : new ConfigError(`the context names user ${q(userName)}, which does not exist`, {
          file: context?.source,
          field: `${ctxLabel}.user`,
        });
  }

  const c = mergeCluster(cluster, o, cwd);
  const u = mergeUser(user, o, cwd);

  await validateUser(u, problems);
  problems.throwIfAny();
  const clusterOverridden =
    o.server ||
    o.tlsServerName ||
    o.insecureSkipTlsVerify ||
    o.certificateAuthority ||
    o.proxyUrl ||
    o.disableCompression;
  if (cluster === undefined && !clusterOverridden) {
    // clientcmd's "empty config": the only thing missing is a cluster; in-cluster may fill in.
    if (contextName === "") return { why: "no context is selected (current-context is not set)" };
    return {
      why: `context ${q(contextName)} names no cluster`,
      file: context?.source,
      field: `${ctxLabel}.cluster`,
    };
  }
  await validateCluster(c, problems);

  const ns = o.namespace
    ? { value: o.namespace, from: override("namespace") }
    : context?.namespace
      ? { value: context.namespace, from: { file: context.source, field: `${ctxLabel}.namespace` } }
      : { value: "default", from: override("namespace") };
  if (!isDNS1123Label(ns.value)) {
    problems.add(
      `the namespace ${q(ns.value)} is not a valid namespace name (lower-case letters, digits and '-', at most 63)`,
      ns.from,
    );
  }
  let timeoutMs: number | undefined;
  if (o.timeout) {
    timeoutMs = parseTimeout(o.timeout);
    if (timeoutMs === undefined || timeoutMs < 0) {
      problems.add(
        "invalid timeout: give whole seconds or a duration with a unit (e.g. 1s, 2m, 3h)",
        override("timeout"),
      );
    }
  }
  problems.throwIfAny();

  const server = normalizeServer(c.server.value);
  if (typeof server !== "string") throw new ConfigError(server.error, c.server.from);
  const https = server.startsWith("https:");
  const init: RestConfigInit = {
    source: "kubeconfig",
    server,
    namespace: ns.value,
    contextName: context?.name,
    clusterName: cluster?.name,
    userName: user?.name,
    kubeconfigFiles: kc.files,
    proxyUrl: c.proxyUrl?.value,
    disableCompression: c.disableCompression,
    timeoutMs,
    qps: o.qps,
    burst: o.burst,
    userAgent: o.userAgent,
  };
  if (u.as) {
    init.impersonate = { user: u.as, uid: u.asUid, groups: u.asGroups, extra: u.asUserExtra };
  }
  if (https) await applyTls(init, c, u, problems);
  problems.throwIfAny();
  return new RestConfig(init);
}

/** A cluster after overrides, each value with where it came from. */
interface MergedCluster {
  name: string;
  source: string | undefined;
  server: { value: string; from: From };
  tlsServerName: string | undefined;
  insecure: { value: boolean; from: From };
  caFile: { value: string; from: From } | undefined;
  caData: { value: Buffer; from: From } | undefined;
  proxyUrl: { value: string; from: From } | undefined;
  disableCompression: boolean;
  extensions: ReadonlyMap<string, JsonValue>;
}

function mergeCluster(
  cluster: KubeconfigCluster | undefined,
  o: RestConfigFromKubeconfigOptions,
  cwd: string,
): MergedCluster {
  const file = cluster?.source;
  const label = `clusters[${q(cluster?.name ?? "")}]`;
  const kc = (field: string): From => ({ file, field: `${label}.${field}` });
  const ov = (field: string): From => ({ file: undefined, field });
  const m: MergedCluster = {
    name: cluster?.name ?? "",
    source: file,
    server: o.server
      ? { value: o.server, from: ov("server") }
      : { value: cluster?.server ?? "", from: kc("server") },
    tlsServerName: cluster?.tlsServerName,
    insecure: {
      value: cluster?.insecureSkipTlsVerify ?? false,
      from: kc("insecure-skip-tls-verify"),
    },
    caFile: cluster?.certificateAuthority && {
      value: cluster.certificateAuthority.path,
      from: kc("certificate-authority"),
    },
    caData: cluster?.certificateAuthorityData && {
      value: cluster.certificateAuthorityData,
      from: kc("certificate-authority-data"),
    },
    proxyUrl: o.proxyUrl
      ? { value: o.proxyUrl, from: ov("proxyUrl") }
      : cluster?.proxyUrl
        ? { value: cluster.proxyUrl, from: kc("proxy-url") }
        : undefined,
    disableCompression: Boolean(o.disableCompression || cluster?.disableCompression),
    extensions: cluster?.extensions ?? new Map(),
  };
  // clientcmd: overriding insecure or the CA replaces all three CA settings; overriding the server
  // or the TLS server name replaces the TLS server name (so a new server drops the old name).
  if (o.insecureSkipTlsVerify || o.certificateAuthority) {
    m.insecure = { value: Boolean(o.insecureSkipTlsVerify), from: ov("insecureSkipTlsVerify") };
    m.caFile = o.certificateAuthority
      ? { value: resolve(cwd, o.certificateAuthority), from: ov("certificateAuthority") }
      : undefined;
    m.caData = undefined;
  }
  if (o.tlsServerName || o.server) m.tlsServerName = o.tlsServerName || undefined;
  return m;
}

async function validateCluster(c: MergedCluster, problems: Problems): Promise<void> {
  if (c.server.value === "") {
    problems.add(`no server found for cluster ${q(c.name)}`, c.server.from);
  }
  if (c.proxyUrl) {
    const problem = proxyUrlProblem(c.proxyUrl.value);
    if (problem) problems.add(problem, c.proxyUrl.from);
  }
  if (c.caFile && c.caData) {
    problems.add(
      "certificate-authority and certificate-authority-data are both set; give only one",
      c.caData.from,
    );
  }
  if (c.caFile) {
    await checkReadable(c.caFile.value, "the certificate authority", c.caFile.from, problems);
  }
}

/** A user after overrides, each credential with where it came from. */
interface MergedUser {
  name: string;
  label: string;
  source: string | undefined;
  token: { value: string; from: From } | undefined;
  tokenFile: { value: string; from: From } | undefined;
  certFile: { value: string; from: From } | undefined;
  certData: { value: Buffer; from: From } | undefined;
  keyFile: { value: string; from: From } | undefined;
  keyData: { value: Buffer; from: From } | undefined;
  username: string | undefined;
  password: string | undefined;
  basicFrom: From;
  as: string | undefined;
  asUid: string | undefined;
  asGroups: readonly string[];
  asUserExtra: Map<string, readonly string[]>;
  asFrom: From;
  exec: KubeconfigUser["exec"];
  authProvider: KubeconfigUser["authProvider"];
}

function mergeUser(
  user: KubeconfigUser | undefined,
  o: RestConfigFromKubeconfigOptions,
  cwd: string,
): MergedUser {
  const file = user?.source;
  const label = `users[${q(user?.name ?? "")}]`;
  const kc = (field: string): From => ({ file, field: `${label}.${field}` });
  const ov = (field: string): From => ({ file: undefined, field });
  const imp = o.impersonate ?? {};
  const extra = new Map<string, readonly string[]>();
  for (const [k, v] of user?.asUserExtra ?? []) extra.set(k, v ?? []);
  for (const [k, v] of Object.entries(imp.extra ?? {})) extra.set(k, v);
  const m: MergedUser = {
    name: user?.name ?? "",
    label,
    source: file,
    token: o.token
      ? { value: o.token, from: ov("token") }
      : user?.token
        ? { value: user.token, from: kc("token") }
        : undefined,
    tokenFile: user?.tokenFile && { value: user.tokenFile.path, from: kc("tokenFile") },
    certFile: user?.clientCertificate && {
      value: user.clientCertificate.path,
      from: kc("client-certificate"),
    },
    certData: user?.clientCertificateData && {
      value: user.clientCertificateData,
      from: kc("client-certificate-data"),
    },
    keyFile: user?.clientKey && { value: user.clientKey.path, from: kc("client-key") },
    keyData: user?.clientKeyData && { value: user.clientKeyData, from: kc("client-key-data") },
    username: o.username || user?.username,
    password: o.password || user?.password,
    basicFrom: o.username || o.password ? ov("username") : kc("username"),
    as: imp.user || user?.as,
    asUid: imp.uid || user?.asUid,
    asGroups: imp.groups?.length ? imp.groups : (user?.asGroups ?? []),
    asUserExtra: extra,
    asFrom: imp.user || imp.uid || imp.groups?.length ? ov("impersonate") : kc("as"),
    exec: user?.exec,
    authProvider: user?.authProvider,
  };
  // Overriding a certificate or key file also drops the kubeconfig's inline twin.
  if (o.clientCertificate) {
    m.certFile = { value: resolve(cwd, o.clientCertificate), from: ov("clientCertificate") };
    m.certData = undefined;
  }
  if (o.clientKey) {
    m.keyFile = { value: resolve(cwd, o.clientKey), from: ov("clientKey") };
    m.keyData = undefined;
  }
  return m;
}

async function validateUser(u: MergedUser, problems: Problems): Promise<void> {
  const at = (field: string): From => ({ file: u.source, field: `${u.label}.${field}` });
  if (u.token && (u.username || u.password)) {
    problems.add(
      `more than one authentication method found for ${q(u.name)}: token and basic auth (username/password); only one is allowed`,
      u.token.from,
    );
  }
  if (u.certFile && u.certData) {
    problems.add(
      "client-certificate and client-certificate-data are both set; give only one",
      u.certData.from,
    );
  }
  if (u.keyFile && u.keyData) {
    problems.add("client-key and client-key-data are both set; give only one", u.keyData.from);
  }
  if ((u.certFile || u.certData) && !u.keyFile && !u.keyData) {
    problems.add(
      "a client certificate needs a key: set client-key or client-key-data",
      (u.certFile ?? u.certData)!.from,
    );
  }
  if ((u.keyFile || u.keyData) && !u.certFile && !u.certData) {
    problems.add(
      "a client key needs a certificate: set client-certificate or client-certificate-data",
      (u.keyFile ?? u.keyData)!.from,
    );
  }
  if (u.certFile) {
    await checkReadable(u.certFile.value, "the client certificate", u.certFile.from, problems);
  }
  if (u.keyFile) await checkReadable(u.keyFile.value, "the client key", u.keyFile.from, problems);
  if (u.exec) {
    if (u.authProvider) {
      problems.add("exec and auth-provider cannot both be set; choose one", at("exec"));
    }
    if (u.exec.command.asWritten === "") {
      problems.add("an exec plugin needs a command", at("exec.command"));
    }
    if (!u.exec.apiVersion)
      problems.add("an exec plugin needs an apiVersion", at("exec.apiVersion"));
    u.exec.env?.forEach((e, i) => {
      if (e.name === "")
        problems.add("an exec env variable needs a name", at(`exec.env[${i}].name`));
    });
    const mode = u.exec.interactiveMode;
    if (mode === undefined) {
      problems.add(
        "an exec plugin needs an interactiveMode (Never, IfAvailable or Always) with this apiVersion",
        at("exec.interactiveMode"),
      );
    } else if (mode !== "Never" && mode !== "IfAvailable" && mode !== "Always") {
      problems.add(
        `invalid interactiveMode ${q(mode)}: must be Never, IfAvailable or Always`,
        at("exec.interactiveMode"),
      );
    }
  }
  if (!u.as && (u.asUid || u.asGroups.length > 0 || u.asUserExtra.size > 0)) {
    problems.add(
      "as-uid, as-groups and as-user-extra need a user to impersonate: set as",
      u.asFrom,
    );
  }
}

/** Credentials and TLS settings, which clientcmd applies only to https servers. */
async function applyTls(
  init: RestConfigInit,
  c: MergedCluster,
  u: MergedUser,
  problems: Problems,
): Promise<void> {
  init.insecureSkipTlsVerify = c.insecure.value;
  init.tlsServerName = c.tlsServerName;
  if (c.caData) init.caData = c.caData.value;
  else if (c.caFile) {
    init.caFile = c.caFile.value;
    try {
      init.caData = await readFile(c.caFile.value);
    } catch (err) {
      problems.add(`cannot read the certificate authority ${c.caFile.value}`, c.caFile.from, err);
    }
  }
  if (init.insecureSkipTlsVerify && (c.caData || c.caFile)) {
    problems.add(
      "insecure-skip-tls-verify cannot be used together with a certificate authority",
      c.insecure.from,
    );
  }

  if (u.token) {
    init.bearerToken = u.token.value;
    init.tokenFile = u.tokenFile?.value;
  } else if (u.tokenFile) {
    init.tokenFile = u.tokenFile.value;
    try {
      init.bearerToken = (await readFile(u.tokenFile.value, "utf8")).trim();
    } catch (err) {
      problems.add(
        `cannot read the token file ${u.tokenFile.value}: ${(err as NodeJS.ErrnoException).code ?? err}`,
        u.tokenFile.from,
        err,
      );
    }
  }
  if (u.tokenFile && (u.username || u.password)) {
    problems.add(
      `more than one authentication method found for ${q(u.name)}: tokenFile and basic auth (username/password); only one is allowed`,
      u.tokenFile.from,
    );
  }
  if (u.certFile || u.certData) {
    init.certFile = u.certFile?.value;
    init.certData = u.certData?.value;
    init.keyFile = u.keyFile?.value;
    init.keyData = u.keyData?.value;
  }
  if (u.username || u.password) {
    init.username = u.username;
    init.password = u.password;
  }
  if (u.authProvider) init.authProvider = u.authProvider;
  if (u.exec) {
    const apiVersion = u.exec.apiVersion ?? "";
    if (!EXEC_API_VERSIONS.includes(apiVersion)) {
      problems.add(
        `exec plugin apiVersion ${q(apiVersion)} is not supported (use ${EXEC_API_VERSIONS.join(" or ")})`,
        { file: u.source, field: `${u.label}.exec.apiVersion` },
      );
      return;
    }
    init.exec = {
      command: u.exec.command.path,
      args: u.exec.args,
      env: u.exec.env,
      apiVersion,
      installHint: u.exec.installHint && cleanInstallHint(u.exec.installHint),
      interactiveMode: u.exec.interactiveMode as ExecInteractiveMode,
      provideClusterInfo: u.exec.provideClusterInfo,
    };
    init.execClusterConfig = c.extensions.get(EXEC_CLUSTER_EXTENSION);
  }
}
