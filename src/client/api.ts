/**
 * `Api<T>`: every verb and subresource for one resource type, as plain JSON in and out. The same
 * class serves typed descriptors (generated, `kubekit/api/...`) and runtime ones (the dynamic
 * client), so there is one implementation of request handling, not one per kind.
 */
import type { TokenRequest, TokenRequestSpec } from "../api/authentication/v1/index.ts";
import type { Scale } from "../api/autoscaling/v1/index.ts";
import type { Binding, Pod, ServiceAccount } from "../api/core/v1/index.ts";
import type { Eviction } from "../api/policy/v1/index.ts";
import { RequestBuildError } from "../core/errors.ts";
import type { KubernetesList, KubernetesObject, Status } from "../core/meta.ts";
import type {
  CreateOptions,
  DeleteCollectionOptions,
  DeleteOptions,
  GetOptions,
  ListOptions,
  PatchOptions,
  UpdateOptions,
  WatchOptions,
} from "../core/options.ts";
import { PatchType } from "../core/options.ts";
import { buildRequest, type RequestInput } from "../core/request.ts";
import { apiVersionOf, type ResourceRef, type ResourceType } from "../core/resource.ts";
import type { CallOptions, ListPage, RestClient, WatchCallOptions } from "../rest/client.ts";
import type { WatchEvent } from "../rest/watch.ts";

/** How `Api` reaches the server: the RestClient and the namespace for single-object calls. */
export interface ApiContext {
  rest: RestClient;
  /** The namespace used by single-object calls when none was chosen (the config's namespace). */
  defaultNamespace: string;
}

export type PatchKind = "json" | "merge" | "strategic";

export type { JsonPatchOperation } from "../core/patch.ts";

export interface PatchCallOptions extends PatchOptions, CallOptions {
  /** The patch format; required, because guessing one is how patches go wrong. */
  type: PatchKind;
}

export interface ApplyCallOptions extends CallOptions {
  fieldManager: string;
  force?: boolean;
  dryRun?: "All";
  fieldValidation?: "Ignore" | "Warn" | "Strict";
}

const patchContentTypes: Record<PatchKind, PatchType> = {
  json: PatchType.json,
  merge: PatchType.merge,
  strategic: PatchType.strategicMerge,
};

/** `Omit` applied to each member of a union, so a verb's own fields survive. */
type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type BuildInput = OmitEach<RequestInput, "resource" | "namespace"> & {
  namespace?: string | undefined;
};

/** Checks a patch against its type before any I/O and encodes it with the type's content type. */
function encodePatch(patch: unknown, type: PatchKind): { body: string; contentType: PatchType } {
  const contentType = patchContentTypes[type];
  if (!contentType) {
    throw new RequestBuildError(
      "options.type",
      `must be one of json, merge, strategic, not ${JSON.stringify(type)}`,
    );
  }
  if (type === "json" && !Array.isArray(patch))
    throw new RequestBuildError("patch", "a JSON patch is a list of operations");
  if (type !== "json" && (typeof patch !== "object" || patch === null || Array.isArray(patch))) {
    throw new RequestBuildError("patch", `a ${type} patch is an object`);
  }
  return { body: JSON.stringify(patch), contentType };
}

/** Splits a call's `signal` and `timeoutMs` from the options that go into the request. */
export function split<O extends object>(
  options: (O & CallOptions) | undefined,
): [O | undefined, CallOptions] {
  if (!options) return [undefined, {}];
  const { signal, timeoutMs, ...rest } = options as O & CallOptions;
  const call: CallOptions = {};
  if (signal !== undefined) call.signal = signal;
  if (timeoutMs !== undefined) call.timeoutMs = timeoutMs;
  return [rest as O, call];
}

function encodeBody(obj: unknown, field: string): string {
  if (typeof obj !== "object" || obj === null)
    throw new RequestBuildError(field, "must be an object");
  return JSON.stringify(obj);
}

/**
 * `obj` with the descriptor's `apiVersion` and `kind` where it has none, as client-go's typed
 * clients send them: built-in endpoints take an object without them, but a custom resource's
 * rejects it (400, "Object 'Kind' is missing"). Given values are kept; a mismatch is the server's
 * to refuse.
 */
function withTypeMeta(obj: unknown, resource: ResourceType | ResourceRef): unknown {
  if (typeof obj !== "object" || obj === null || !("kind" in resource)) return obj;
  const { apiVersion, kind, ...rest } = obj as { apiVersion?: unknown; kind?: unknown };
  if (apiVersion !== undefined && kind !== undefined) return obj;
  return { apiVersion: apiVersion ?? apiVersionOf(resource), kind: kind ?? resource.kind, ...rest };
}

/**
 * One resource type, optionally narrowed to a namespace. `N` is the scope as a literal type, so
 * `namespace()` does not type-check on a cluster-scoped kind.
 *
 * Namespaces: `namespace(ns)` fixes one. Without it, a namespaced `Api` lists and watches across
 * all namespaces, and single-object calls use the object's own `metadata.namespace` (create,
 * update, apply) or else the config's default namespace.
 */
export class Api<T extends KubernetesObject = KubernetesObject, N extends boolean = boolean> {
  readonly resource: ResourceType<T, N> | (ResourceRef<N> & { kind?: string });
  /** The chosen namespace, or undefined when none was chosen. */
  readonly ns: string | undefined;
  readonly #ctx: ApiContext;

  constructor(ctx: ApiContext, resource: ResourceType<T, N> | ResourceRef<N>, namespace?: string) {
    this.#ctx = ctx;
    this.resource = resource;
    this.ns = namespace;
  }

  /**
   * The same resource in one namespace. Does not type-check on a cluster-scoped kind; on a kind
   * whose scope is known only at run time (`Api<T, boolean>`) it throws a `RequestBuildError`
   * when the resource turns out to be cluster-scoped.
   */
  namespace(this: Api<T, boolean extends N ? boolean : true>, namespace: string): Api<T, true> {
    if (!this.resource.namespaced) {
      throw new RequestBuildError(
        "namespace",
        `${this.resource.plural} is cluster-scoped and takes no namespace`,
      );
    }
    return new Api<T, true>(this.#ctx, this.resource as ResourceRef<true>, namespace);
  }

  get rest(): RestClient {
    return this.#ctx.rest;
  }

  #single(obj?: KubernetesObject): string | undefined {
    if (!this.resource.namespaced) return undefined;
    return this.ns ?? obj?.metadata?.namespace ?? this.#ctx.defaultNamespace;
  }

  #collection(): string | undefined {
    return this.resource.namespaced ? (this.ns ?? "") : undefined;
  }

  #build(input: BuildInput) {
    const { namespace, ...rest } = input;
    return buildRequest({
      ...(rest as RequestInput),
      resource: this.resource,
      ...(namespace === undefined ? {} : { namespace }),
    });
  }

  async get(name: string, options?: GetOptions & CallOptions): Promise<T> {
    const [opts, call] = split(options);
    return this.rest.json<T>(
      this.#build({ verb: "get", name, options: opts, namespace: this.#single() }),
      call,
    );
  }

  /** One list request (no pagination unless `limit` is set; then `metadata.continue` leads on). */
  async list(options?: ListOptions & CallOptions): Promise<KubernetesList<T>> {
    const [opts, call] = split(options);
    return this.rest.json<KubernetesList<T>>(
      this.#build({ verb: "list", options: opts, namespace: this.#collection() }),
      call,
    );
  }

  /** Pages of `limit` items (500 by default), following continue tokens; see `RestClient.listPages`. */
  listPages(options?: ListOptions & CallOptions): AsyncGenerator<ListPage<T>, void, undefined> {
    const [opts, call] = split(options);
    const { limit, continue: _c, ...rest } = opts ?? {};
    const req = this.#build({ verb: "list", options: rest, namespace: this.#collection() });
    return this.rest.listPages<T>(req, { ...call, ...(limit === undefined ? {} : { limit }) });
  }

  /** Every item, page by page. */
  listAll(options?: ListOptions & CallOptions): AsyncGenerator<T, void, undefined> {
    const [opts, call] = split(options);
    const { limit, continue: _c, ...rest } = opts ?? {};
    const req = this.#build({ verb: "list", options: rest, namespace: this.#collection() });
    return this.rest.listAll<T & { metadata?: { name?: string; namespace?: string } }>(req, {
      ...call,
      ...(limit === undefined ? {} : { limit }),
    });
  }

  async create(obj: T, options?: CreateOptions & CallOptions): Promise<T> {
    const [opts, call] = split(options);
    return this.rest.json<T>(
      this.#build({
        verb: "create",
        options: opts,
        body: encodeBody(withTypeMeta(obj, this.resource), "object"),
        namespace: this.#single(obj),
      }),
      call,
    );
  }

  /** Replaces the object named by `obj.metadata.name`; a stale `resourceVersion` is a 409 Conflict. */
  async update(obj: T, options?: UpdateOptions & CallOptions): Promise<T> {
    const [opts, call] = split(options);
    return this.rest.json<T>(
      this.#build({
        verb: "update",
        name: nameOf(obj),
        options: opts,
        body: encodeBody(withTypeMeta(obj, this.resource), "object"),
        namespace: this.#single(obj),
      }),
      call,
    );
  }

  /**
   * Deletes one object. The server answers with the object (when deletion waits for finalizers or
   * is graceful) or with a Success `Status`; both are returned as they came.
   */
  async delete(name: string, options?: DeleteOptions & CallOptions): Promise<T | Status> {
    const [opts, call] = split(options);
    return this.rest.json<T | Status>(
      this.#build({ verb: "delete", name, options: opts, namespace: this.#single() }),
      call,
    );
  }

  async deleteCollection(
    options?: DeleteCollectionOptions & CallOptions,
  ): Promise<KubernetesList<T> | Status> {
    const [opts, call] = split(options);
    // deletecollection always targets one namespace (or the cluster for cluster-scoped kinds).
    return this.rest.json<KubernetesList<T> | Status>(
      this.#build({ verb: "deletecollection", options: opts, namespace: this.#single() }),
      call,
    );
  }

  /** A raw watch: events as the server sends them; see `watcher()` in `kubekit/cache` for one that heals itself. */
  watch(options?: WatchOptions & WatchCallOptions): AsyncGenerator<WatchEvent<T>, void, undefined> {
    const { signal, timeoutMs, stallTimeoutMs, ...opts } = options ?? {};
    const req = this.#build({ verb: "watch", options: opts, namespace: this.#collection() });
    return this.rest.watch<T>(req, { signal, timeoutMs, stallTimeoutMs });
  }

  /** Patches the named object (or a subresource) with the given patch type's content type. */
  async patch(
    name: string,
    patch: unknown,
    options: PatchCallOptions & { subresource?: string },
  ): Promise<T> {
    const { type, subresource, ...rest } = options;
    const [opts, call] = split(rest);
    const { body, contentType } = encodePatch(patch, type);
    return this.rest.json<T>(
      this.#build({
        verb: "patch",
        name,
        ...(subresource === undefined ? {} : { subresource }),
        options: opts,
        body,
        contentType,
        namespace: this.#single(),
      }),
      call,
    );
  }

  /**
   * Server-side apply: sends `config` as an apply patch owned by `fieldManager`. `config` must name
   * the object and carry `apiVersion` and `kind`.
   */
  async apply(
    config: ApplyConfigurationLike,
    options: ApplyCallOptions & { subresource?: string },
  ): Promise<T> {
    const { subresource, ...rest } = options;
    const [opts, call] = split(rest);
    if (!opts?.fieldManager)
      throw new RequestBuildError(
        "options.fieldManager",
        "server-side apply needs a field manager",
      );
    return this.rest.json<T>(
      this.#build({
        verb: "patch",
        name: nameOf(config),
        ...(subresource === undefined ? {} : { subresource }),
        options: opts,
        body: encodeBody(config, "config"),
        contentType: PatchType.apply,
        namespace: this.#single(config),
      }),
      call,
    );
  }

  /** The `status` subresource: read, replace, patch or apply only the status. */
  get status(): StatusApi<T> {
    return new StatusApi<T>(
      this as Api<T, boolean>,
      (input) => this.#build(input),
      (o) => this.#single(o),
    );
  }

  /**
   * The `scale` subresource (Deployments, StatefulSets, ReplicaSets, ReplicationControllers, and
   * custom resources that declare one), as autoscaling/v1 `Scale`.
   */
  get scale(): ScaleApi {
    return new ScaleApi((name) => this.subresource<Scale>(name, "scale"));
  }

  /**
   * Evicts a pod through `pods/eviction`, honouring PodDisruptionBudgets (a 429 means a budget
   * forbids it now).
   */
  async evict(
    this: Api<Pod, true>,
    name: string,
    eviction: Partial<Eviction> = {},
    options?: CallOptions,
  ): Promise<unknown> {
    const body: Eviction = {
      apiVersion: "policy/v1",
      kind: "Eviction",
      ...eviction,
      metadata: {
        name,
        ...(this.ns === undefined ? {} : { namespace: this.ns }),
        ...eviction.metadata,
      },
    };
    return this.subresource(name, "eviction").create(body, options);
  }

  /** Binds a pod to a node (`pods/binding`), as a scheduler does. */
  async bind(
    this: Api<Pod, true>,
    name: string,
    target: Binding["target"],
    options?: CallOptions,
  ): Promise<unknown> {
    const body: Binding = { apiVersion: "v1", kind: "Binding", metadata: { name }, target };
    return this.subresource(name, "binding").create(body, options);
  }

  /** A container's log as text (`pods/log`); streaming with `follow` comes with kubekit/streams. */
  async logs(
    this: Api<Pod, true>,
    name: string,
    options: PodLogOptions & CallOptions = {},
  ): Promise<string> {
    const { signal, timeoutMs, ...params } = options;
    return this.subresource(name, "log").text({
      params: params as Record<string, string | number | boolean | undefined>,
      ...(signal ? { signal } : {}),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    });
  }

  /** Replaces a pod's ephemeral containers (`pods/ephemeralcontainers`), e.g. to add a debug container. */
  async updateEphemeralContainers(
    this: Api<Pod, true>,
    pod: Pod,
    options?: UpdateOptions & CallOptions,
  ): Promise<Pod> {
    return this.subresource<Pod>(nameOf(pod), "ephemeralcontainers").update(pod, options);
  }

  /** Changes a running pod's container resources in place (`pods/resize`). */
  async resize(
    this: Api<Pod, true>,
    pod: Pod,
    options?: UpdateOptions & CallOptions,
  ): Promise<Pod> {
    return this.subresource<Pod>(nameOf(pod), "resize").update(pod, options);
  }

  /** Requests a token for a ServiceAccount (`serviceaccounts/token`, the TokenRequest API). */
  async createToken(
    this: Api<ServiceAccount, true>,
    name: string,
    request: { spec?: Partial<TokenRequestSpec>; metadata?: TokenRequest["metadata"] } = {},
    options?: CreateOptions & CallOptions,
  ): Promise<TokenRequest> {
    const body = {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      metadata: request.metadata ?? {},
      spec: request.spec ?? {},
    };
    return this.subresource<TokenRequest>(name, "token").create(body, options);
  }

  /**
   * A request through the API server's proxy to a node, service or pod
   * (`nodes/<name>/proxy/<path>`); the answer is returned as text.
   */
  async proxy(
    name: string,
    path = "",
    options: CallOptions & { method?: "GET" | "POST" | "PUT" | "DELETE"; body?: string } = {},
  ): Promise<string> {
    const { method = "GET", body, ...call } = options;
    const base = buildRequest({
      verb: "get",
      resource: this.resource,
      name,
      subresource: "proxy",
      ...(this.#single() === undefined ? {} : { namespace: this.#single()! }),
    });
    const suffix = path.replace(/^\/+/, "");
    return this.rest.text(
      {
        method,
        path: suffix
          ? `${base.path}/${suffix.split("/").map(encodeURIComponent).join("/")}`
          : base.path,
        accept: "*/*",
        ...(body === undefined ? {} : { body, contentType: "application/json" }),
      },
      call,
    );
  }

  /**
   * A subresource the typed helpers do not cover, returning `R`: `api.subresource<Scale>("web", "scale").get()`.
   */
  subresource<R = unknown>(name: string, subresource: string): SubresourceApi<R> {
    return new SubresourceApi<R>(
      this.rest,
      (input) => this.#build({ ...input, name, subresource } as BuildInput),
      this.#single(),
    );
  }
}

/** Anything with `apiVersion`, `kind` and `metadata.name`: the least an apply configuration has. */
export interface ApplyConfigurationLike {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
}

function nameOf(obj: KubernetesObject | ApplyConfigurationLike): string {
  const name = obj?.metadata?.name;
  if (typeof name !== "string" || name === "")
    throw new RequestBuildError("object.metadata.name", "is required");
  return name;
}

type Build = (input: BuildInput) => ReturnType<typeof buildRequest>;

export class StatusApi<T extends KubernetesObject> {
  readonly #api: Api<T, boolean>;
  readonly #build: Build;
  readonly #ns: (o?: KubernetesObject) => string | undefined;

  constructor(
    api: Api<T, boolean>,
    build: Build,
    ns: (o?: KubernetesObject) => string | undefined,
  ) {
    this.#api = api;
    this.#build = build;
    this.#ns = ns;
  }

  async get(name: string, options?: GetOptions & CallOptions): Promise<T> {
    const [opts, call] = split(options);
    return this.#api.rest.json<T>(
      this.#build({
        verb: "get",
        name,
        subresource: "status",
        options: opts,
        namespace: this.#ns(),
      }),
      call,
    );
  }

  async update(obj: T, options?: UpdateOptions & CallOptions): Promise<T> {
    const [opts, call] = split(options);
    return this.#api.rest.json<T>(
      this.#build({
        verb: "update",
        name: nameOf(obj),
        subresource: "status",
        options: opts,
        body: encodeBody(withTypeMeta(obj, this.#api.resource), "object"),
        namespace: this.#ns(obj),
      }),
      call,
    );
  }

  patch(name: string, patch: unknown, options: PatchCallOptions): Promise<T> {
    return this.#api.patch(name, patch, { ...options, subresource: "status" });
  }

  apply(config: ApplyConfigurationLike, options: ApplyCallOptions): Promise<T> {
    return this.#api.apply(config, { ...options, subresource: "status" });
  }
}

/** Query parameters of `pods/log`. */
export interface PodLogOptions {
  container?: string;
  previous?: boolean;
  sinceSeconds?: number;
  sinceTime?: string;
  timestamps?: boolean;
  tailLines?: number;
  limitBytes?: number;
  insecureSkipTLSVerifyBackend?: boolean;
}

/** `scale` of a named object. */
export class ScaleApi {
  readonly #of: (name: string) => SubresourceApi<Scale>;

  constructor(of: (name: string) => SubresourceApi<Scale>) {
    this.#of = of;
  }

  get(name: string, options?: GetOptions & CallOptions): Promise<Scale> {
    return this.#of(name).get(options);
  }

  /** Sets the replica count (and checks `metadata.resourceVersion` if the Scale carries one). */
  update(name: string, scale: Scale, options?: UpdateOptions & CallOptions): Promise<Scale> {
    return this.#of(name).update(
      {
        apiVersion: "autoscaling/v1",
        kind: "Scale",
        ...scale,
        metadata: { name, ...scale.metadata },
      },
      options,
    );
  }

  patch(name: string, patch: unknown, options: PatchCallOptions): Promise<Scale> {
    return this.#of(name).patch(patch, options);
  }
}

/** get / create / update / patch on one named object's subresource. */
export class SubresourceApi<R> {
  readonly #rest: RestClient;
  readonly #build: Build;
  readonly #namespace: string | undefined;

  constructor(rest: RestClient, build: Build, namespace: string | undefined) {
    this.#rest = rest;
    this.#build = build;
    this.#namespace = namespace;
  }

  async get(
    options?: GetOptions &
      CallOptions & { params?: Record<string, string | number | boolean | undefined> },
  ): Promise<R> {
    const { params, ...rest } = options ?? {};
    const [opts, call] = split(rest);
    return this.#rest.json<R>(
      this.#build({
        verb: "get",
        options: opts,
        params: toParams(params),
        namespace: this.#namespace,
      }),
      call,
    );
  }

  /** A plain-text GET, e.g. `pods/log`. */
  async text(
    options?: CallOptions & { params?: Record<string, string | number | boolean | undefined> },
  ): Promise<string> {
    const { params, ...call } = options ?? {};
    return this.#rest.text(
      this.#build({
        verb: "get",
        params: toParams(params),
        accept: "*/*",
        namespace: this.#namespace,
      }),
      call,
    );
  }

  /** POST to the subresource, e.g. `pods/eviction`, `pods/binding`, `serviceaccounts/token`. */
  async create<B = unknown>(body: B, options?: CreateOptions & CallOptions): Promise<R> {
    const [opts, call] = split(options);
    return this.#rest.json<R>(
      this.#build({
        verb: "create",
        options: opts,
        body: encodeBody(body, "body"),
        namespace: this.#namespace,
      }),
      call,
    );
  }

  async update<B = R>(body: B, options?: UpdateOptions & CallOptions): Promise<R> {
    const [opts, call] = split(options);
    return this.#rest.json<R>(
      this.#build({
        verb: "update",
        options: opts,
        body: encodeBody(body, "body"),
        namespace: this.#namespace,
      }),
      call,
    );
  }

  async patch(patch: unknown, options: PatchCallOptions): Promise<R> {
    const { type, ...rest } = options;
    const [opts, call] = split(rest);
    const { body, contentType } = encodePatch(patch, type);
    return this.#rest.json<R>(
      this.#build({
        verb: "patch",
        options: opts,
        body,
        contentType,
        namespace: this.#namespace,
      }),
      call,
    );
  }
}

function toParams(
  params: Record<string, string | number | boolean | undefined> | undefined,
): [string, string][] | undefined {
  if (!params) return undefined;
  return Object.entries(params)
    .filter((e): e is [string, string | number | boolean] => e[1] !== undefined)
    .map(([k, v]) => [k, String(v)]);
}
