/**
 * kubekit: the Kubernetes client library for TypeScript.
 *
 * The root export holds the client, the errors and the core types; each capability has its own
 * subpath export (`kubekit/config`, `kubekit/cache`, ...).
 */
export * from "./core/index.ts";
