import { ConfigError } from "../core/errors.ts";
import { defaultUserAgent } from "../core/version.ts";
import { type AuthProvider, ExecEnvVar, type JsonValue } from "./model.ts";
import { REDACTED, Redacting, redact, redactUrl } from "./secret.ts";

export type ExecInteractiveMode = "Never" | "IfAvailable" | "Always";

/** The exec credential plugin apiVersions client-go (v0.32) runs. */
export const EXEC_API_VERSIONS: readonly string[] = [
  "client.authentication.k8s.io/v1",
  "client.authentication.k8s.io/v1beta1",
];

/**
 * An exec credential plugin, ready to run (running it is the auth layer's job). Validated:
 * `command` and `apiVersion` are set, `interactiveMode` is one of the three modes.
 */
export interface ExecProviderConfig {
  /**
   * The program. A command written with a path separator was resolved against the directory of
   * the kubeconfig file that named it (so it is absolute); a bare name is to be looked up on PATH.
   */
  readonly command: string;
  readonly args: readonly string[];
  /** Added to the parent's environment. Values are secret: printing shows `[redacted]`. */
  readonly env: readonly ExecEnvVar[];
  /** `client.authentication.k8s.io/v1` or `/v1beta1`. */
  readonly apiVersion: string;
  /** Shown when the command is not found; control characters already replaced (see client-go). */
  readonly installHint: string | undefined;
  /** As written, or `IfAvailable` for v1beta1 when unset. */
  readonly interactiveMode: ExecInteractiveMode;
  /** Send {@link ExecClusterInfo} to the plugin in `KUBERNETES_EXEC_INFO`. */
  readonly provideClusterInfo: boolean;
}

/**
 * What an exec plugin is told about the cluster when `provideClusterInfo` is set: the `spec.cluster`
 * of the ExecCredential in `KUBERNETES_EXEC_INFO`. On the wire the fields are `server`,
 * `tls-server-name`, `insecure-skip-tls-verify`, `certificate-authority-data` (base64),
 * `proxy-url`, `disable-compression` and `config`.
 */
export interface ExecClusterInfo {
  readonly server: string;
  readonly tlsServerName: string | undefined;
  readonly insecureSkipTlsVerify: boolean;
  /** The CA bundle, from `certificate-authority-data` or read from `certificate-authority`. */
  readonly certificateAuthorityData: Buffer | undefined;
  /** May hold `user:password@`; send it, but do not log it. */
  readonly proxyUrl: string | undefined;
  readonly disableCompression: boolean;
  /** The cluster's `client.authentication.k8s.io/exec` extension, as parsed. */
  readonly config: JsonValue | undefined;
}

/** Impersonation headers to send (`Impersonate-User`, `-Uid`, `-Group`, `-Extra-*`). */
export interface ImpersonationConfig {
  readonly user: string;
  readonly uid: string | undefined;
  readonly groups: readonly string[];
  /** Extra user attributes, e.g. `{ "scopes.example.com": ["view"] }`. */
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

/** The fields of a {@link RestConfig}; only `server` is required. */
export interface RestConfigInit {
  server: string;
  namespace?: string | undefined;
  contextName?: string | undefined;
  clusterName?: string | undefined;
  userName?: string | undefined;
  source?: RestConfigSource | undefined;
  kubeconfigFiles?: readonly string[] | undefined;
  insecureSkipTlsVerify?: boolean | undefined;
  tlsServerName?: string | undefined;
  caData?: Buffer | string | undefined;
  caFile?: string | undefined;
  certData?: Buffer | string | undefined;
  certFile?: string | undefined;
  keyData?: Buffer | string | undefined;
  keyFile?: string | undefined;
  bearerToken?: string | undefined;
  tokenFile?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  exec?:
    | {
        command: string;
        args?: readonly string[] | null | undefined;
        env?: readonly { name: string; value: string }[] | null | undefined;
        apiVersion: string;
        installHint?: string | undefined;
        interactiveMode?: ExecInteractiveMode | undefined;
        provideClusterInfo?: boolean | undefined;
      }
    | undefined;
  /** The cluster's `client.authentication.k8s.io/exec` extension, for {@link ExecClusterInfo}. */
  execClusterConfig?: JsonValue | undefined;
  authProvider?: AuthProvider | undefined;
  impersonate?:
    | {
        user: string;
        uid?: string | undefined;
        groups?: readonly string[] | undefined;
        extra?: ReadonlyMap<string, readonly string[]> | Record<string, readonly string[]>;
      }
    | undefined;
  proxyUrl?: string | undefined;
  disableCompression?: boolean | undefined;
  qps?: number | undefined;
  burst?: number | undefined;
  timeoutMs?: number | undefined;
  userAgent?: string | undefined;
}

/** Where a {@link RestConfig} came from. */
export type RestConfigSource = "kubeconfig" | "in-cluster" | "direct";

export { defaultUserAgent } from "../core/version.ts";

export const DEFAULT_QPS = 5;
export const DEFAULT_BURST = 10;

/**
 * Where an API server is reached: client-go's `rest.Config`, resolved and validated.
 *
 * Everything the transport needs is here and nothing needs re-resolving: paths are absolute,
 * defaults are applied, and clientcmd's rule that credentials, CA, `insecureSkipTlsVerify` and
 * `tlsServerName` apply only to `https` servers has been applied (for an `http` server they are
 * all unset). Impersonation, proxy and compression settings apply to both.
 *
 * Files are kept as paths so the transport can reload them: `tokenFile` (client-go re-reads
 * it about once a minute), `certFile`/`keyFile` (reloaded when they change), `caFile`. Where a
 * `*Data` field is set it wins over its file. `loadConfig` and `inClusterConfig` also read the CA
 * file into `caData` (and the token file into `bearerToken`), so both are ready without I/O; the
 * constructor itself reads nothing.
 *
 * Secrets (`bearerToken`, `password`, `keyData`, exec env values, auth-provider config, a proxy
 * URL's password) are plain properties to read but are shown as `[redacted]` by `JSON.stringify`,
 * `util.inspect`, `console.log` and `String()`.
 */
export class RestConfig extends Redacting {
  /**
   * The API server's base URL: `scheme://host[:port][/path-prefix]`, no query, no trailing slash.
   * A server written without a scheme (`host:port`) is `http://host:port`, as in client-go.
   */
  readonly server: string;
  /** The namespace to use when none is given: override > context > `default`. */
  readonly namespace: string;
  readonly source: RestConfigSource;
  /** The kubeconfig context, cluster and user names used, if any. */
  readonly contextName: string | undefined;
  readonly clusterName: string | undefined;
  readonly userName: string | undefined;
  /** The kubeconfig files that were read (empty for in-cluster). */
  readonly kubeconfigFiles: readonly string[];

  // TLS (https servers only)
  /** Skip server certificate verification. Never set together with a CA. */
  readonly insecureSkipTlsVerify: boolean;
  /** The name to verify the server certificate against (and send as SNI), if not the host's. */
  readonly tlsServerName: string | undefined;
  /** CA bundle (PEM) to trust; read from `caFile` at load when the kubeconfig gave a file. */
  readonly caData: Buffer | undefined;
  /** The CA file the bundle came from, for reloading (client-go re-reads it every 5 minutes). */
  readonly caFile: string | undefined;
  /** Client certificate (PEM) given inline; wins over `certFile`. */
  readonly certData: Buffer | undefined;
  /** Client certificate file, read (and reloaded) by the transport. */
  readonly certFile: string | undefined;
  readonly #keyData: Buffer | undefined;
  /** Client key file, read (and reloaded) by the transport. */
  readonly keyFile: string | undefined;

  // Credentials (https servers only)
  readonly #bearerToken: string | undefined;
  /**
   * A file holding the bearer token (client-go's `BearerTokenFile`), to re-read periodically; the
   * token read from it wins over `bearerToken` once the transport reads it.
   */
  readonly tokenFile: string | undefined;
  readonly username: string | undefined;
  readonly #password: string | undefined;
  readonly exec: ExecProviderConfig | undefined;
  /** A legacy auth-provider (`oidc`); its `config` values are secret. */
  readonly authProvider: AuthProvider | undefined;
  readonly #execClusterConfig: JsonValue | undefined;

  // Both schemes
  readonly impersonate: ImpersonationConfig | undefined;
  readonly #proxyUrl: string | undefined;
  /** Do not ask for gzip responses. */
  readonly disableCompression: boolean;

  // Client tuning
  /** Requests per second of the client-side rate limiter; 0 or less disables it. Default 5. */
  readonly qps: number;
  /** The rate limiter's burst. Default 10. */
  readonly burst: number;
  /** Per-request timeout in milliseconds; 0 means none. */
  readonly timeoutMs: number;
  readonly userAgent: string;

  constructor(init: RestConfigInit) {
    super();
    const server = normalizeServer(init.server);
    if (typeof server !== "string") throw new ConfigError(server.error, { field: "server" });
    this.server = server;
    this.namespace = init.namespace || "default";
    this.source = init.source ?? "direct";
    this.contextName = init.contextName || undefined;
    this.clusterName = init.clusterName || undefined;
    this.userName = init.userName || undefined;
    this.kubeconfigFiles = Object.freeze([...(init.kubeconfigFiles ?? [])]);

    this.insecureSkipTlsVerify = init.insecureSkipTlsVerify ?? false;
    this.tlsServerName = init.tlsServerName || undefined;
    this.caData = toBuffer(init.caData);
    this.caFile = init.caFile || undefined;
    this.certData = toBuffer(init.certData);
    this.certFile = init.certFile || undefined;
    this.#keyData = toBuffer(init.keyData);
    this.keyFile = init.keyFile || undefined;
    if (this.insecureSkipTlsVerify && (this.caData || this.caFile)) {
      throw new ConfigError(
        "specifying a root certificates file with the insecure flag is not allowed",
        { field: "insecureSkipTlsVerify" },
      );
    }

    this.#bearerToken = init.bearerToken || undefined;
    this.tokenFile = init.tokenFile || undefined;
    this.username = init.username || undefined;
    this.#password = init.password || undefined;
    if ((this.#bearerToken || this.tokenFile) && (this.username || this.#password)) {
      throw new ConfigError("username/password or bearer token may be set, but not both", {
        field: "bearerToken",
      });
    }
    if (init.exec && init.authProvider) {
      throw new ConfigError("an exec plugin and an auth-provider cannot both be set", {
        field: "exec",
      });
    }
    this.exec = init.exec && execProvider(init.exec);
    this.authProvider = init.authProvider;
    this.#execClusterConfig = init.execClusterConfig;

    const imp = init.impersonate;
    this.impersonate = imp?.user
      ? Object.freeze({
          user: imp.user,
          uid: imp.uid || undefined,
          groups: Object.freeze([...(imp.groups ?? [])]),
          extra: Object.freeze(
            Object.fromEntries(
              [...(imp.extra instanceof Map ? imp.extra : Object.entries(imp.extra ?? {}))].map(
                ([k, v]) => [k, Object.freeze([...v])] as const,
              ),
            ),
          ),
        })
      : undefined;
    if (!imp?.user && (imp?.uid || imp?.groups?.length || sizeOf(imp?.extra) > 0)) {
      throw new ConfigError("impersonating a uid, groups or extra needs a user to impersonate", {
        field: "impersonate.user",
      });
    }
    const proxy = init.proxyUrl || undefined;
    if (proxy !== undefined) {
      const problem = proxyUrlProblem(proxy);
      if (problem) throw new ConfigError(problem, { field: "proxyUrl" });
    }
    this.#proxyUrl = proxy;
    this.disableCompression = init.disableCompression ?? false;

    this.qps = init.qps ?? DEFAULT_QPS;
    this.burst = init.burst ?? DEFAULT_BURST;
    if (!Number.isFinite(this.qps) || !Number.isFinite(this.burst)) {
      throw new ConfigError("qps and burst must be finite numbers", { field: "qps" });
    }
    if (this.qps > 0 && this.burst <= 0) {
      throw new ConfigError("burst must be greater than 0 when qps is greater than 0", {
        field: "burst",
      });
    }
    this.timeoutMs = init.timeoutMs ?? 0;
    if (!(this.timeoutMs >= 0) || !Number.isFinite(this.timeoutMs)) {
      throw new ConfigError("the timeout must be a non-negative number of milliseconds", {
        field: "timeoutMs",
      });
    }
    this.userAgent = init.userAgent || defaultUserAgent();
    Object.freeze(this);
  }

  /** Client key (PEM) given inline; wins over `keyFile`. */
  get keyData(): Buffer | undefined {
    return this.#keyData;
  }

  get bearerToken(): string | undefined {
    return this.#bearerToken;
  }

  get password(): string | undefined {
    return this.#password;
  }

  /** The proxy for all requests (http, https or socks5; may carry `user:password@`). */
  get proxyUrl(): string | undefined {
    return this.#proxyUrl;
  }

  /** True when the server is `https` (credentials and TLS settings apply only then). */
  get isTls(): boolean {
    return this.server.startsWith("https:");
  }

  /** The cluster as an exec plugin sees it in `KUBERNETES_EXEC_INFO` (see {@link ExecClusterInfo}). */
  get execCluster(): ExecClusterInfo {
    return {
      server: this.server,
      tlsServerName: this.tlsServerName,
      insecureSkipTlsVerify: this.insecureSkipTlsVerify,
      certificateAuthorityData: this.caData,
      proxyUrl: this.#proxyUrl,
      disableCompression: this.disableCompression,
      config: this.#execClusterConfig,
    };
  }

  toJSON(): Record<string, unknown> {
    const o: Record<string, unknown> = {
      server: this.server,
      namespace: this.namespace,
      source: this.source,
      contextName: this.contextName,
      clusterName: this.clusterName,
      userName: this.userName,
      kubeconfigFiles: this.kubeconfigFiles,
      insecureSkipTlsVerify: this.insecureSkipTlsVerify,
      tlsServerName: this.tlsServerName,
      caData: this.caData && `<${this.caData.length} bytes>`,
      caFile: this.caFile,
      certData: this.certData && `<${this.certData.length} bytes>`,
      certFile: this.certFile,
      keyData: this.#keyData && REDACTED,
      keyFile: this.keyFile,
      bearerToken: redact(this.#bearerToken),
      tokenFile: this.tokenFile,
      username: this.username,
      password: redact(this.#password),
      exec: this.exec,
      authProvider: this.authProvider,
      execClusterConfig: this.#execClusterConfig,
      impersonate: this.impersonate,
      proxyUrl: this.#proxyUrl && redactUrl(this.#proxyUrl),
      disableCompression: this.disableCompression,
      qps: this.qps,
      burst: this.burst,
      timeoutMs: this.timeoutMs,
      userAgent: this.userAgent,
    };
    for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
    return o;
  }
}

function toBuffer(v: Buffer | string | undefined): Buffer | undefined {
  if (v === undefined || v.length === 0) return undefined;
  return typeof v === "string" ? Buffer.from(v) : v;
}

function sizeOf(m: ReadonlyMap<string, unknown> | Record<string, unknown> | undefined): number {
  if (m === undefined) return 0;
  return m instanceof Map ? m.size : Object.keys(m).length;
}

function execProvider(e: NonNullable<RestConfigInit["exec"]>): ExecProviderConfig {
  if (!e.command)
    throw new ConfigError("an exec plugin needs a command", { field: "exec.command" });
  if (!EXEC_API_VERSIONS.includes(e.apiVersion)) {
    throw new ConfigError(
      `exec plugin apiVersion must be one of ${EXEC_API_VERSIONS.join(", ")}, got ${JSON.stringify(e.apiVersion)}`,
      { field: "exec.apiVersion" },
    );
  }
  const mode =
    e.interactiveMode ||
    (e.apiVersion === "client.authentication.k8s.io/v1beta1" ? "IfAvailable" : undefined);
  if (mode !== "Never" && mode !== "IfAvailable" && mode !== "Always") {
    throw new ConfigError("exec plugin interactiveMode must be Never, IfAvailable or Always", {
      field: "exec.interactiveMode",
    });
  }
  return Object.freeze({
    command: e.command,
    args: Object.freeze([...(e.args ?? [])]),
    env: Object.freeze(
      (e.env ?? []).map((v) => (v instanceof ExecEnvVar ? v : new ExecEnvVar(v.name, v.value))),
    ),
    apiVersion: e.apiVersion,
    installHint: e.installHint || undefined,
    interactiveMode: mode,
    provideClusterInfo: e.provideClusterInfo ?? false,
  });
}

/**
 * client-go's reading of a server address: a URL, or `host[:port]` (taken as `http://`). Returns
 * the base URL without query, fragment or trailing slash, or why it is unusable.
 */
export function normalizeServer(server: string): string | { error: string } {
  if (server === "") return { error: "no server given" };
  const written = /^[a-z][a-z0-9+.-]*:\/\//i.test(server) ? server : `http://${server}`;
  let u: URL;
  try {
    u = new URL(written);
  } catch {
    return { error: `the server ${JSON.stringify(redactUrl(server))} is not a valid URL` };
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    return { error: `the server URL must be http or https, got ${JSON.stringify(u.protocol)}` };
  }
  if (u.host === "")
    return { error: `the server ${JSON.stringify(redactUrl(server))} has no host` };
  // Keep what was written (URL would drop a default port and re-case the host).
  return written.replace(/[?#].*$/s, "").replace(/\/+$/, "");
}

/** Why a proxy URL is unusable (clientcmd accepts http, https and socks5), or undefined. */
export function proxyUrlProblem(proxy: string): string | undefined {
  let u: URL;
  try {
    u = new URL(proxy);
  } catch {
    return `invalid proxy-url ${JSON.stringify(redactUrl(proxy))}: not a URL`;
  }
  const scheme = u.protocol.slice(0, -1);
  if (scheme !== "http" && scheme !== "https" && scheme !== "socks5") {
    return `invalid proxy-url ${JSON.stringify(redactUrl(proxy))}: unsupported scheme ${JSON.stringify(scheme)}, must be http, https, or socks5`;
  }
  return undefined;
}
