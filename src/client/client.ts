import type { RestConfig } from "../config/rest-config.ts";
import type { KubernetesObject } from "../core/meta.ts";
import type { ResourceRef, ResourceType } from "../core/resource.ts";
import type { CallOptions, RestClient, RestRequest } from "../rest/client.ts";
import { type RestClientExtras, restClientFromConfig } from "../rest/config.ts";
import { Api } from "./api.ts";

export type ClientOptions = RestClientExtras;

/** A request for anything the typed API does not cover. A `body` object is sent as JSON. */
export interface RawRequest extends Omit<RestRequest, "body"> {
  body?: unknown;
}

/**
 * The entry point: one connection pool, credential source and rate limiter per `Client`, shared
 * by every `Api` made from it.
 *
 * ```ts
 * const client = new Client(await loadConfig());
 * const pods = client.api(Pod).namespace("web");
 * ```
 */
export class Client {
  readonly config: RestConfig;
  readonly rest: RestClient;

  constructor(config: RestConfig, options: ClientOptions = {}) {
    this.config = config;
    this.rest = restClientFromConfig(config, options);
  }

  /** The typed (or, given a runtime descriptor, dynamic) API of one resource type. */
  api<T extends KubernetesObject, N extends boolean>(resource: ResourceType<T, N>): Api<T, N>;
  api<T extends KubernetesObject = KubernetesObject, N extends boolean = boolean>(
    resource: ResourceRef<N>,
  ): Api<T, N>;
  api<T extends KubernetesObject, N extends boolean>(
    resource: ResourceType<T, N> | ResourceRef<N>,
  ): Api<T, N> {
    return new Api<T, N>({ rest: this.rest, defaultNamespace: this.config.namespace }, resource);
  }

  /** A raw JSON request with the client's auth, limits, retries and errors. */
  async request<T = unknown>(req: RawRequest, options?: CallOptions): Promise<T> {
    const { body, ...rest } = req;
    const encoded =
      body === undefined || typeof body === "string" || body instanceof Uint8Array
        ? body
        : JSON.stringify(body);
    return this.rest.json<T>(
      { ...rest, ...(encoded === undefined ? {} : { body: encoded }) },
      options,
    );
  }

  /** Closes the connections; requests in flight finish first. */
  close(): Promise<void> {
    return this.rest.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
