/**
 * kubekit: the Kubernetes client library for TypeScript.
 *
 * The root export holds the client, the errors and the core types; each capability has its own
 * subpath export (`kubekit/config`, `kubekit/rest`, `kubekit/api/core/v1`, ...).
 */
export * from "./client/index.ts";
export * from "./core/index.ts";
export type { CallOptions, ListPage, WatchCallOptions } from "./rest/client.ts";
export type { WatchEvent, WatchEventType } from "./rest/watch.ts";
