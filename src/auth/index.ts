/**
 * kubekit/auth: where a request's credentials come from. Static and file-backed bearer tokens,
 * basic auth, client certificates reloaded from disk, exec credential plugins, the `oidc` auth
 * provider, impersonation headers, and proxy selection from the environment.
 *
 * Nothing here speaks HTTP to the API server: the transport (kubekit/rest) asks a
 * `CredentialSource` for `Credentials` before each request and tells it about a 401.
 */
export { CredentialCache, sharedCredentialCache } from "./cache.ts";
export {
  type CertificateInput,
  CertificateSource,
  type CertificateSourceOptions,
  type FileStat,
  hasCertificate,
} from "./certificate.ts";
export {
  ClientCertificate,
  type CredentialSource,
  Credentials,
  type CredentialsRequest,
  combineCredentialSources,
  redactAuthorization,
  type WarningHandler,
} from "./credentials.ts";
export { CredentialError, CredentialErrorCode, type CredentialSourceKind } from "./errors.ts";
export {
  EXEC_API_V1,
  EXEC_API_V1BETA1,
  type ExecClusterInfo,
  type ExecConfig,
  ExecCredentialSource,
  type ExecInteractiveMode,
  type ExecOptions,
  execCredentialSource,
} from "./exec.ts";
export {
  type HeaderList,
  type ImpersonationConfig,
  impersonationHeaders,
} from "./impersonation.ts";
export {
  type AuthProviderConfig,
  type AuthProviderOptions,
  authProviderSource,
  jwtExpiry,
  OidcCredentialSource,
} from "./oidc.ts";
export { PROXY_URL_SCHEMES, ProxyResolver, parseProxyUrl, proxyForUrl } from "./proxy.ts";
export { type AuthConfig, type CredentialSourceOptions, credentialSourceFor } from "./source.ts";
export { BasicAuthSource, StaticTokenSource } from "./static.ts";
export { type TokenFileOptions, TokenFileSource } from "./token-file.ts";
