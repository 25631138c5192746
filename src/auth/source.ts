import { ConfigError } from "../core/errors.ts";
import type { CredentialCache } from "./cache.ts";
import { CertificateSource, type CertificateSourceOptions, hasCertificate } from "./certificate.ts";
import {
  type CredentialSource,
  combineCredentialSources,
  type WarningHandler,
} from "./credentials.ts";
import {
  type ExecClusterInfo,
  type ExecConfig,
  type ExecOptions,
  execCredentialSource,
} from "./exec.ts";
import { type AuthProviderConfig, authProviderSource } from "./oidc.ts";
import { BasicAuthSource, StaticTokenSource } from "./static.ts";
import { TokenFileSource } from "./token-file.ts";

/**
 * The authentication settings of a resolved configuration, in the shape of client-go's
 * `rest.Config`. A `RestConfig` from `kubekit/config` can be passed as it is (structurally).
 */
export interface AuthConfig {
  bearerToken?: string | null;
  tokenFile?: string | null;
  username?: string | null;
  password?: string | null;
  certData?: string | Uint8Array | null;
  certFile?: string | null;
  keyData?: string | Uint8Array | null;
  keyFile?: string | null;
  exec?: ExecConfig | null;
  authProvider?: AuthProviderConfig | null;
}

export interface CredentialSourceOptions {
  /** The cluster: for exec plugins (`spec.cluster`, cache key) and the oidc cache key. */
  cluster?: ExecClusterInfo;
  now?: () => number;
  onWarning?: WarningHandler;
  /** Shared exec and oidc sources; default the process-wide cache. */
  cache?: CredentialCache;
  /** Exec plugin timeout (see `ExecOptions.timeoutMs`). */
  execTimeoutMs?: number;
  /**
   * How long a token read from `tokenFile` is used before the file is read again; 50 s by default
   * (client-go's 60 s period less its 10 s leeway).
   */
  tokenFileRefreshMs?: number;
  /** Client certificate file check interval (see `CertificateSourceOptions.checkIntervalMs`). */
  certCheckIntervalMs?: number;
}

/**
 * The one credential source for a configuration, or undefined when it has no credentials (an
 * anonymous client). client-go's precedence:
 *
 * - The `Authorization` header comes from, in order: `bearerToken`/`tokenFile` (the file refreshes
 *   the token); `username`/`password`; `exec`; `authProvider`.
 * - A client certificate (`certData`/`certFile` + key) is presented alongside whichever of those
 *   applies, and then the exec plugin is not run at all: client-go skips exec when the
 *   configuration already has a token, basic auth or a certificate.
 * - Errors, as in client-go: a token together with basic auth; exec together with an auth
 *   provider; a certificate without a key or the reverse.
 */
export function credentialSourceFor(
  config: AuthConfig,
  options: CredentialSourceOptions = {},
): CredentialSource | undefined {
  const token = config.bearerToken ?? "";
  const tokenFile = config.tokenFile ?? "";
  const username = config.username ?? "";
  const password = config.password ?? "";
  const hasToken = token !== "" || tokenFile !== "";
  const hasBasic = username !== "" || password !== "";
  const hasCert = hasCertificate(config);
  if (hasToken && hasBasic) {
    throw new ConfigError("username/password and a bearer token cannot both be set");
  }
  if (config.exec && config.authProvider) {
    throw new ConfigError("exec and auth-provider cannot both be set");
  }
  const common = {
    ...(options.now && { now: options.now }),
    ...(options.onWarning && { onWarning: options.onWarning }),
  };

  let header: CredentialSource | undefined;
  if (tokenFile !== "") {
    header = new TokenFileSource(tokenFile, {
      ...common,
      ...(token !== "" && { token }),
      ...(options.tokenFileRefreshMs !== undefined && {
        periodMs: options.tokenFileRefreshMs,
        leewayMs: 0,
      }),
    });
  } else if (token !== "") {
    header = new StaticTokenSource(token);
  } else if (hasBasic) {
    header = new BasicAuthSource(username, password);
  } else if (config.exec && !hasCert) {
    const execOptions: ExecOptions = {
      ...(options.now && { now: options.now }),
      ...(options.cluster && { cluster: options.cluster }),
      ...(options.cache && { cache: options.cache }),
      ...(options.execTimeoutMs !== undefined && { timeoutMs: options.execTimeoutMs }),
    };
    header = execCredentialSource(config.exec, execOptions);
  } else if (config.authProvider) {
    header = authProviderSource(config.authProvider, {
      ...(options.now && { now: options.now }),
      ...(options.cluster && { server: options.cluster.server }),
      ...(options.cache && { cache: options.cache }),
    });
  }

  let cert: CredentialSource | undefined;
  if (hasCert) {
    const certOptions: CertificateSourceOptions = {
      ...common,
      ...(options.certCheckIntervalMs !== undefined && {
        checkIntervalMs: options.certCheckIntervalMs,
      }),
    };
    cert = new CertificateSource(config, certOptions);
  }

  const parts = [header, cert].filter((s) => s !== undefined);
  return parts.length === 0 ? undefined : combineCredentialSources(parts);
}
