/**
 * From a resolved `RestConfig` (kubekit/config) to a `RestClient`: credentials, TLS, proxy,
 * impersonation and client tuning, wired as client-go's `rest.RESTClientFor` wires them.
 */

import { impersonationHeaders } from "../auth/impersonation.ts";
import { ProxyResolver } from "../auth/proxy.ts";
import { type CredentialSourceOptions, credentialSourceFor } from "../auth/source.ts";
import type { RestConfig } from "../config/rest-config.ts";
import { RestClient, type RestClientOptions } from "./client.ts";
import type { HeaderMap } from "./http.ts";

/** What a caller may add to or override in what the config says. */
export type RestClientExtras = Omit<
  RestClientOptions,
  | "server"
  | "ca"
  | "clientCertificate"
  | "insecureSkipTlsVerify"
  | "tlsServerName"
  | "proxyUrl"
  | "credentials"
> & {
  /** The environment to read `HTTPS_PROXY`/`NO_PROXY` from; `process.env` by default. */
  env?: NodeJS.ProcessEnv;
  /** Tuning of the credential sources (token file refresh, exec timeout, ...). */
  credentialOptions?: Omit<CredentialSourceOptions, "cluster">;
};

export function restClientFromConfig(
  config: RestConfig,
  extras: RestClientExtras = {},
): RestClient {
  const { env, headers: extraHeaders, credentialOptions, ...rest } = extras;
  const credentials = credentialSourceFor(
    {
      bearerToken: config.bearerToken ?? null,
      tokenFile: config.tokenFile ?? null,
      username: config.username ?? null,
      password: config.password ?? null,
      certData: config.certData ?? null,
      certFile: config.certFile ?? null,
      keyData: config.keyData ?? null,
      keyFile: config.keyFile ?? null,
      exec: config.exec ?? null,
      authProvider: config.authProvider ?? null,
    },
    { ...credentialOptions, cluster: config.execCluster },
  );
  const headers: HeaderMap = {};
  if (config.impersonate) {
    const list = impersonationHeaders({
      user: config.impersonate.user,
      uid: config.impersonate.uid ?? null,
      groups: config.impersonate.groups,
      extra: config.impersonate.extra,
    });
    for (const [name, value] of list) {
      const key = name.toLowerCase();
      const prev = headers[key];
      headers[key] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
    }
  }
  // client-go: an explicit proxy-url is used for every request; otherwise the environment decides.
  const proxyUrl =
    config.proxyUrl ?? new ProxyResolver(env ?? process.env).proxyFor(new URL(config.server))?.href;
  return new RestClient({
    server: config.server,
    ...(config.caData ? { ca: config.caData } : {}),
    insecureSkipTlsVerify: config.insecureSkipTlsVerify,
    ...(config.tlsServerName ? { tlsServerName: config.tlsServerName } : {}),
    ...(proxyUrl ? { proxyUrl } : {}),
    ...(credentials ? { credentials } : {}),
    qps: config.qps > 0 ? config.qps : -1,
    burst: config.burst,
    ...(config.timeoutMs > 0 ? { timeoutMs: config.timeoutMs } : {}),
    userAgent: config.userAgent,
    compression: !config.disableCompression,
    ...rest,
    headers: { ...headers, ...(extraHeaders ?? {}) },
  });
}
