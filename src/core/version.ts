/** kubekit's version; a test keeps it equal to package.json's. */
export const KUBEKIT_VERSION = "0.1.0";

let userAgent: string | undefined;

/**
 * kubekit's default User-Agent, `kubekit/<version> (<os>/<arch>) node/<version>`. The API server
 * takes a request's default field manager from the part before the first `/`: `kubekit`.
 */
export function defaultUserAgent(): string {
  userAgent ??= `kubekit/${KUBEKIT_VERSION} (${process.platform}/${process.arch}) node/${process.version}`;
  return userAgent;
}
