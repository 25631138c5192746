/**
 * `InMemoryApiServer`: kube-apiserver's REST semantics over an in-memory store, reachable through
 * an in-process `Transport` (no sockets) or plain HTTP on 127.0.0.1.
 *
 * What it promises is what the contract suite in test/contract/ checks against both this server
 * and a real kube-apiserver; where it deliberately differs, the difference is listed in
 * `KNOWN_DIFFERENCES` (index.ts) and the suite skips only that assertion.
 */
import { randomUUID } from "node:crypto";
import { parse as parseYaml } from "yaml";
import { jsonClone } from "../apply/json.ts";
import { applyJsonPatch, JsonPatchError } from "../apply/jsonpatch.ts";
import { applyMergePatch } from "../apply/merge.ts";
import { PatchMeta } from "../apply/patchmeta.ts";
import { applyStrategicMergePatch } from "../apply/strategic.ts";
import { type Clock, realClock } from "../core/clock.ts";
import { ApiError, KubekitError } from "../core/errors.ts";
import type { KubernetesObject, ObjectMeta, Status } from "../core/meta.ts";
import {
  matchesLabels,
  type ParsedFieldSelector,
  type ParsedLabelSelector,
  parseFieldSelector,
  parseLabelSelector,
} from "../core/selectors.ts";
import type { HttpRequest, HttpResponse, ResponseBody } from "../rest/http.ts";
import type { Transport } from "../rest/transport.ts";
import {
  AGGREGATED_TYPE,
  aggregated,
  apiGroupDocument,
  apiGroupList,
  apiResourceList,
  apiVersions,
  groupsOf,
  wantsAggregated,
} from "./discovery.ts";
import {
  apiVersionOf,
  fieldValue,
  generateName,
  getPath,
  mapSelectorString,
  type Obj,
  orderMetadata,
  render,
  rfc3339,
  sameObject,
  sameSpec,
  selectorString,
  setPath,
  validateName,
} from "./objects.ts";
import { documentPath, openApiDocument, openApiIndex } from "./openapi.ts";
import { builtinResources, type CrdLike, crdResources, type ServedResource } from "./registry.ts";
import { recordUpdate, serverSideApply } from "./ssa.ts";
import {
  type FieldError,
  fieldForbidden,
  fieldInvalid,
  fieldNotSupported,
  fieldRequired,
  newAlreadyExists,
  newBadRequest,
  newConflict,
  newForbidden,
  newInternalError,
  newInvalid,
  newMethodNotSupported,
  newNotFound,
  newResourceExpired,
  newTimeout,
  newUnsupportedMediaType,
  notFoundPath,
  statusError,
} from "./status.ts";
import { type Change, keyOf, Store } from "./store.ts";
import { PushStream } from "./stream.ts";

/**
 * Any object: a typed one (`ConfigMap`) or a literal with fields of its kind
 * (`{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" }, data: {} }`).
 */
export type AnyObject = KubernetesObject | (KubernetesObject & Record<string, unknown>);

export interface InMemoryApiServerOptions {
  /**
   * How many writes the history keeps (etcd's retained revisions): watches and continue tokens
   * older than that are answered 410. 10,000 by default; set it low to force a 410 in a test.
   */
  historySize?: number;
  /** How often a watch with `allowWatchBookmarks` gets a BOOKMARK; 60 s (as the real server). */
  bookmarkIntervalMs?: number;
  /** The source of time for timestamps, bookmarks and watch timeouts. */
  clock?: Clock;
  /** `gitVersion` of `/version`; `v1.37.2`, the version kubekit's API types come from. */
  gitVersion?: string;
  /** Objects to store at start (as `add()` does). */
  objects?: readonly AnyObject[];
}

/** The namespaces every cluster has from the start. */
export const INITIAL_NAMESPACES: readonly string[] = Object.freeze([
  "default",
  "kube-system",
  "kube-public",
  "kube-node-lease",
]);

/** Namespaces the NamespaceLifecycle admission plugin refuses to delete. */
const IMMORTAL_NAMESPACES = new Set(["default", "kube-system", "kube-public"]);

const ANNOTATION_INITIAL_EVENTS_END = "k8s.io/initial-events-end";
const NAMESPACES = "namespaces";
const CRDS = "customresourcedefinitions.apiextensions.k8s.io";
/** The finalizer kube-apiserver puts on a CRD being deleted until its instances are gone. */
const CRD_CLEANUP = "customresourcecleanup.apiextensions.k8s.io";

const CONTENT = {
  json: "application/json",
  jsonPatch: "application/json-patch+json",
  mergePatch: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
} as const;

/** A request as the server handles it, whichever way it came in. */
export interface ServerRequest {
  method: string;
  /** Path and query, e.g. `/api/v1/namespaces/a/pods?watch=true`. */
  path: string;
  /** Lower-case names. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body?: string | Uint8Array | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * A response: a whole body, or a stream of watch events. Ending the stream's iteration early
 * (`return()`, also while a `next()` is pending) closes the watch.
 */
export interface ServerResponse {
  status: number;
  headers: Record<string, string>;
  body: string | AsyncIterable<Uint8Array>;
}

interface WriteContext {
  manager: string;
  dryRun: boolean;
  now: string;
}

interface Target {
  resource: ServedResource;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

type Route =
  | { type: "version" }
  | { type: "api" }
  | { type: "apis" }
  | { type: "group"; group: string }
  | { type: "groupVersion"; group: string; version: string }
  | ({ type: "resource" } & Target);

interface ActiveWatch {
  storage: string;
  end(): void;
}

function header(req: ServerRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function bodyText(req: ServerRequest): string {
  const b = req.body;
  if (b === undefined) return "";
  return typeof b === "string" ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString();
}

function mediaType(value: string | undefined): string {
  return (value ?? "").split(";")[0]!.trim().toLowerCase();
}

function isTrue(v: string | null): boolean {
  return v === "true" || v === "1";
}

function metaOf(obj: KubernetesObject): ObjectMeta {
  return obj.metadata ?? {};
}

function withMeta<T extends KubernetesObject>(obj: T, meta: ObjectMeta): T {
  return { ...obj, metadata: orderMetadata(meta) };
}

function groupResourceOf(r: ServedResource) {
  return { group: r.group, resource: r.plural };
}

function groupKindOf(r: ServedResource) {
  return { group: r.group, kind: r.kind };
}

/**
 * Reads a JSON or YAML body. Another media type (protobuf, CBOR) is a 415, as on a server that
 * does not serve it; a body that does not parse is a 400.
 */
function decodeObject(req: ServerRequest, r: ServedResource): Obj {
  const type = mediaType(header(req, "content-type")) || CONTENT.json;
  const yaml = type === "application/yaml";
  if (type !== CONTENT.json && !yaml) {
    throw newUnsupportedMediaType(
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`,
    );
  }
  const text = bodyText(req);
  let value: unknown;
  try {
    value = yaml ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw newBadRequest(`the body of the request could not be decoded: ${(e as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw newBadRequest(`the body of the request is not a ${r.kind} object`);
  }
  return value as Obj;
}

/** An object's declared apiVersion and kind must be the resource's (or left out). */
function checkType(obj: Obj, r: ServedResource): void {
  const kind = obj.kind;
  const apiVersion = obj.apiVersion;
  if (kind !== undefined && kind !== r.kind) {
    throw newBadRequest(
      `${kind} in version "${r.version}" cannot be handled as a ${r.kind}: the kind does not match`,
    );
  }
  if (apiVersion !== undefined && apiVersion !== apiVersionOf(r)) {
    throw newBadRequest(
      `${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: no kind "${r.kind}" is registered for version "${String(apiVersion)}"`,
    );
  }
}

function listOptionsInvalid(errors: FieldError[]): ApiError {
  return newInvalid({ group: "meta.k8s.io", kind: "ListOptions" }, "", errors);
}

function tooLarge(rv: number, current: number): ApiError {
  const err = newTimeout(`Too large resource version: ${rv}, current: ${current}`, 1);
  err.status.details = {
    ...err.status.details,
    causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }],
  };
  return err;
}

function parseRv(text: string): number {
  if (!/^\d+$/.test(text)) {
    throw newBadRequest(`invalid resource version: ${JSON.stringify(text)}`);
  }
  return Number(text);
}

interface ContinueToken {
  rv: number;
  start: string;
}

function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: "meta.k8s.io/v1", rv: t.rv, start: t.start })).toString(
    "base64url",
  );
}

function decodeContinue(token: string): ContinueToken {
  let parsed: { v?: unknown; rv?: unknown; start?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw newBadRequest("invalid continue token: continue key is not valid");
  }
  if (
    parsed?.v !== "meta.k8s.io/v1" ||
    typeof parsed.rv !== "number" ||
    typeof parsed.start !== "string"
  ) {
    throw newBadRequest("invalid continue token: continue key is not valid");
  }
  return { rv: parsed.rv, start: parsed.start };
}

const INCONSISTENT_CONTINUE =
  "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

function statusBody(err: ApiError): Status {
  const s = err.status;
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: s.metadata ?? {},
    status: "Failure",
    ...(s.message === undefined ? {} : { message: s.message }),
    ...(s.reason ? { reason: s.reason } : {}),
    ...(s.details === undefined ? {} : { details: s.details }),
    code: s.code ?? err.statusCode,
  };
}

function json(status: number, body: unknown, contentType: string = CONTENT.json): ServerResponse {
  return { status, headers: { "content-type": contentType }, body: JSON.stringify(body) };
}

/** What the label and field selectors of a list, watch or deletecollection select. */
interface Selection {
  label: ParsedLabelSelector | undefined;
  field: ParsedFieldSelector | undefined;
}

export class InMemoryApiServer {
  readonly #clock: Clock;
  readonly #store: Store;
  readonly #bookmarkIntervalMs: number;
  readonly #gitVersion: string;
  /** `group/version/plural` → resource. */
  readonly #resources = new Map<string, ServedResource>();
  /** `group/version/Kind` → resource. */
  readonly #kinds = new Map<string, ServedResource>();
  /** CRD name → the storage it serves. */
  readonly #crds = new Map<string, string>();
  readonly #watches = new Set<ActiveWatch>();
  /** Namespaces and CRDs whose contents are being deleted right now (no re-entry). */
  readonly #finishing = new Set<string>();
  #groupsCache: ReturnType<typeof groupsOf> | undefined;
  #http: import("node:http").Server | undefined;
  #url: string | undefined;
  #closed = false;

  /** The in-process transport: `new Client(config, { transport: server.transport })`. */
  readonly transport: Transport;

  constructor(options: InMemoryApiServerOptions = {}) {
    this.#clock = options.clock ?? realClock;
    this.#store = new Store({ historySize: options.historySize ?? 10_000 });
    this.#bookmarkIntervalMs = options.bookmarkIntervalMs ?? 60_000;
    this.#gitVersion = options.gitVersion ?? "v1.37.2";
    for (const r of builtinResources()) this.#serve(r);
    for (const ns of INITIAL_NAMESPACES) {
      this.#commitCreate(this.#resource("", "v1", "namespaces")!, undefined, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: ns },
      });
    }
    if (options.objects) this.add(...options.objects);
    this.transport = {
      dispatch: (req) => this.#dispatch(req),
      close: async () => {},
    };
  }

  /** The current resourceVersion: the revision of the last write, as a list reports it. */
  get resourceVersion(): string {
    return String(this.#store.revision);
  }

  /** The base URL while `listen()` is serving, e.g. `http://127.0.0.1:40123`. */
  get url(): string | undefined {
    return this.#url;
  }

  /**
   * Stores objects as they are, as client-go's object tracker adds them: no admission, no
   * strategy, status kept. Missing `uid`, `creationTimestamp` and `namespace` (`default` for a
   * namespaced kind) are filled in and each gets a new resourceVersion; missing namespaces are
   * created first; CustomResourceDefinitions, then Namespaces, are stored before other objects. Throws
   * an `ApiError` for a kind the server does not serve or an object that already exists.
   */
  add(...objects: AnyObject[]): void {
    const rank = (o: AnyObject) =>
      o.kind === "CustomResourceDefinition" ? 0 : o.kind === "Namespace" ? 1 : 2;
    const ordered = [...objects].sort((a, b) => rank(a) - rank(b));
    for (const obj of ordered) {
      const { apiVersion, kind } = obj;
      if (typeof apiVersion !== "string" || typeof kind !== "string") {
        throw newBadRequest("an object to add needs apiVersion and kind");
      }
      const slash = apiVersion.lastIndexOf("/");
      const group = slash < 0 ? "" : apiVersion.slice(0, slash);
      const version = apiVersion.slice(slash + 1);
      const r = this.#kinds.get(`${group}/${version}/${kind}`);
      if (!r) throw newNotFound({ group, resource: kind }, obj.metadata?.name ?? "");
      const name = obj.metadata?.name;
      if (!name) throw newBadRequest("an object to add needs metadata.name");
      const namespace = r.namespaced ? obj.metadata?.namespace || "default" : undefined;
      if (namespace !== undefined && !this.#store.get("namespaces", namespace)) {
        this.#commitCreate(this.#resource("", "v1", "namespaces")!, undefined, {
          apiVersion: "v1",
          kind: "Namespace",
          metadata: { name: namespace },
        });
      }
      if (this.#store.get(r.storage, keyOf(namespace, name))) {
        throw newAlreadyExists(groupResourceOf(r), name);
      }
      const meta: ObjectMeta = { ...jsonClone(obj.metadata ?? {}), name };
      if (namespace === undefined) delete meta.namespace;
      else meta.namespace = namespace;
      meta.uid ??= randomUUID();
      meta.creationTimestamp ??= this.#now();
      delete meta.resourceVersion;
      const stored = withMeta({ ...jsonClone(obj), apiVersion, kind }, meta);
      if (r.storage === "namespaces") this.#prepareNamespace(stored, undefined);
      if (r.storage === CRDS) {
        Object.assign(stored, this.#establishCrd(stored as CrdLike & Obj));
      }
      this.#commit("ADDED", r, namespace, name, stored, undefined);
    }
  }

  /**
   * What a request path addresses, or undefined for discovery and paths the server does not
   * serve: the resource's group, version and plural, the namespace, name and subresource.
   */
  resolvePath(path: string):
    | {
        group: string;
        version: string;
        resource: string;
        namespace: string | undefined;
        name: string | undefined;
        subresource: string | undefined;
      }
    | undefined {
    let route: Route;
    try {
      route = this.#parsePath(new URL(path, "http://in-memory").pathname);
    } catch {
      return undefined;
    }
    if (route.type !== "resource") return undefined;
    const r = route.resource;
    return {
      group: r.group,
      version: r.version,
      resource: r.plural,
      namespace: route.namespace,
      name: route.name,
      subresource: route.subresource,
    };
  }

  /**
   * Forgets the history, as an etcd compaction at the current revision: every watch or continue
   * token from an earlier resourceVersion is now answered 410.
   */
  compact(): void {
    this.#store.compact();
  }

  /** Handles one request, whichever way it arrived. Never throws: failures are Status answers. */
  async handle(req: ServerRequest): Promise<ServerResponse> {
    if (this.#closed) {
      return json(503, statusBody(statusError(503, "ServiceUnavailable", "the server is closed")));
    }
    try {
      return this.#route(req);
    } catch (err) {
      if (err instanceof ApiError) {
        return json(err.statusCode, statusBody(err));
      }
      const message = err instanceof Error ? err.message : String(err);
      return json(500, statusBody(newInternalError(message)));
    }
  }

  // -------------------------------------------------------------------------------------------
  // Ways in

  async #dispatch(req: HttpRequest): Promise<HttpResponse> {
    if (req.signal?.aborted) throw req.signal.reason;
    const res = await this.handle({
      method: req.method,
      path: req.path,
      headers: req.headers,
      body: req.body,
      signal: req.signal,
    });
    return { status: res.status, headers: res.headers, body: responseBody(res.body, req.signal) };
  }

  /**
   * Serves plain HTTP on `host` (127.0.0.1) and `port` (a free one by default) until `close()`;
   * resolves with the base URL. No authentication: any client may use it.
   */
  async listen(options: { port?: number; host?: string } = {}): Promise<string> {
    if (this.#url) return this.#url;
    const { listen } = await import("./http.ts");
    const { server, url } = await listen(this, options.host ?? "127.0.0.1", options.port ?? 0);
    this.#http = server;
    this.#url = url;
    return url;
  }

  /**
   * A kubeconfig (YAML) for the listening server, for kubectl and other clients: one cluster,
   * user and context named `in-memory`, namespace `default` unless another is given.
   */
  kubeconfig(options: { namespace?: string } = {}): string {
    if (!this.#url) throw new KubekitError("kubeconfig(): call listen() first");
    return [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "- name: in-memory",
      "  cluster:",
      `    server: ${this.#url}`,
      "users:",
      "- name: in-memory",
      "  user: {}",
      "contexts:",
      "- name: in-memory",
      "  context:",
      "    cluster: in-memory",
      "    user: in-memory",
      `    namespace: ${options.namespace ?? "default"}`,
      "current-context: in-memory",
      "",
    ].join("\n");
  }

  /** Ends every watch, stops listening and drops connections; later requests get a 503. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const w of [...this.#watches]) w.end();
    const http = this.#http;
    this.#http = undefined;
    this.#url = undefined;
    if (http) {
      // Ended watches finish their responses first, so clients see a clean end of stream.
      await new Promise((r) => setImmediate(r));
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => http.closeAllConnections(), 1000);
        http.close(() => {
          clearTimeout(force);
          resolve();
        });
        http.closeIdleConnections();
      });
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // -------------------------------------------------------------------------------------------
  // The registry

  #serve(r: ServedResource): void {
    this.#groupsCache = undefined;
    this.#resources.set(`${r.group}/${r.version}/${r.plural}`, r);
    this.#kinds.set(`${r.group}/${r.version}/${r.kind}`, r);
  }

  #resource(group: string, version: string, plural: string): ServedResource | undefined {
    return this.#resources.get(`${group}/${version}/${plural}`);
  }

  #servedGroups(): ReturnType<typeof groupsOf> {
    this.#groupsCache ??= groupsOf(this.#resources.values());
    return this.#groupsCache;
  }

  #now(): string {
    return rfc3339(this.#clock.now());
  }

  // -------------------------------------------------------------------------------------------
  // Routing

  #parsePath(pathname: string): Route {
    const pageNotFound = statusError(404, "NotFound", "404 page not found");
    let segs: string[];
    try {
      segs = pathname
        .split("/")
        .filter((s) => s !== "")
        .map(decodeURIComponent);
    } catch {
      throw pageNotFound;
    }
    if (segs.length === 1 && segs[0] === "version") return { type: "version" };
    let group: string;
    let version: string;
    let rest: string[];
    if (segs[0] === "api") {
      if (segs.length === 1) return { type: "api" };
      group = "";
      version = segs[1]!;
      rest = segs.slice(2);
    } else if (segs[0] === "apis") {
      if (segs.length === 1) return { type: "apis" };
      group = segs[1]!;
      if (segs.length === 2) {
        if (!this.#servedGroups().some((g) => g.name === group)) throw pageNotFound;
        return { type: "group", group };
      }
      version = segs[2]!;
      rest = segs.slice(3);
    } else {
      throw pageNotFound;
    }
    const served = this.#servedGroups()
      .find((g) => g.name === group)
      ?.versions.some((v) => v.version === version);
    if (!served) throw pageNotFound;
    if (rest.length === 0) return { type: "groupVersion", group, version };
    let namespace: string | undefined;
    if (rest[0] === "namespaces" && rest.length >= 3) {
      const r = this.#resource(group, version, rest[2]!);
      if (r?.namespaced) {
        namespace = rest[1]!;
        rest = rest.slice(2);
      }
    }
    const r = this.#resource(group, version, rest[0]!);
    if (!r || rest.length > 3) throw notFoundPath();
    const name = rest[1];
    if (r.namespaced && namespace === undefined && name !== undefined) throw notFoundPath();
    return { type: "resource", resource: r, namespace, name, subresource: rest[2] };
  }

  #route(req: ServerRequest): ServerResponse {
    const url = new URL(req.path, "http://in-memory");
    if (url.pathname === "/openapi/v3" || url.pathname.startsWith("/openapi/v3/")) {
      if (req.method !== "GET") throw newMethodNotSupported();
      return this.#openApi(url.pathname.slice("/openapi/v3".length).replace(/^\//, ""));
    }
    const route = this.#parsePath(url.pathname);
    const q = url.searchParams;
    const accept = header(req, "accept");
    if (req.method !== "GET" && route.type !== "resource") throw newMethodNotSupported();
    switch (route.type) {
      case "version":
        return json(200, this.#version());
      case "api": {
        const groups = this.#servedGroups().filter((g) => g.name === "");
        if (wantsAggregated(accept)) return json(200, aggregated(groups), AGGREGATED_TYPE);
        return json(
          200,
          apiVersions(groups, this.#url?.replace(/^https?:\/\//, "") ?? "in-memory"),
        );
      }
      case "apis": {
        const groups = this.#servedGroups().filter((g) => g.name !== "");
        if (wantsAggregated(accept)) return json(200, aggregated(groups), AGGREGATED_TYPE);
        return json(200, apiGroupList(groups));
      }
      case "group": {
        const g = this.#servedGroups().find((x) => x.name === route.group)!;
        return json(200, apiGroupDocument(g));
      }
      case "groupVersion": {
        const g = this.#servedGroups().find((x) => x.name === route.group)!;
        const v = g.versions.find((x) => x.version === route.version)!;
        return json(200, apiResourceList(route.group, route.version, v.resources));
      }
      case "resource":
        return this.#resourceRequest(req, route, q, accept);
    }
  }

  #openApiDocument(group: string, version: string): Record<string, unknown> {
    const g = this.#servedGroups().find((x) => x.name === group);
    const v = g?.versions.find((x) => x.version === version);
    return openApiDocument(
      group,
      version,
      v?.resources ?? [],
      (r) => {
        if (!r.custom) return undefined;
        const crd = this.#store.get(CRDS, r.storage) as CrdLike | undefined;
        return crd?.spec?.versions?.find((x) => x.name === r.version)?.schema?.openAPIV3Schema;
      },
      this.#gitVersion,
    );
  }

  #openApi(path: string): ServerResponse {
    const groups = this.#servedGroups();
    if (path === "") {
      return json(
        200,
        openApiIndex(groups, (g, v) => this.#openApiDocument(g, v)),
      );
    }
    for (const g of groups) {
      for (const v of g.versions) {
        if (documentPath(g.name, v.version) === path) {
          return json(200, this.#openApiDocument(g.name, v.version));
        }
      }
    }
    throw statusError(404, "NotFound", "404 page not found");
  }

  #version() {
    const m = /^v(\d+)\.(\d+)/.exec(this.#gitVersion);
    return {
      major: m?.[1] ?? "1",
      minor: m?.[2] ?? "37",
      gitVersion: this.#gitVersion,
      gitCommit: "in-memory",
      gitTreeState: "clean",
      buildDate: "1970-01-01T00:00:00Z",
      goVersion: "kubekit",
      compiler: "kubekit",
      platform: `${process.platform}/${process.arch}`,
    };
  }

  #allow(r: ServedResource, verb: string): void {
    if (!r.verbs.includes(verb)) throw newMethodNotSupported();
  }

  #writeContext(req: ServerRequest, q: URLSearchParams): WriteContext {
    const dryRun = q.getAll("dryRun");
    for (const d of dryRun) {
      if (d !== "All") {
        throw newBadRequest(`Invalid dryRun: ${JSON.stringify(d)}; only "All" is supported`);
      }
    }
    const ua = header(req, "user-agent") ?? "";
    return {
      manager: q.get("fieldManager") ?? ua.split("/")[0]!,
      dryRun: dryRun.length > 0,
      now: this.#now(),
    };
  }

  #resourceRequest(
    req: ServerRequest,
    t: Target,
    q: URLSearchParams,
    accept: string | undefined,
  ): ServerResponse {
    const r = t.resource;
    const sub = t.subresource;
    if (sub !== undefined) {
      const served = r.subresources.some((s) => s.name === sub);
      if (!served) throw notFoundPath();
      return this.#subresourceRequest(req, t, sub, q);
    }
    switch (req.method) {
      case "GET":
        if (t.name !== undefined) {
          if (isTrue(q.get("watch"))) {
            this.#allow(r, "watch");
            return this.#watch(req, r, t.namespace, q, t.name);
          }
          this.#allow(r, "get");
          const obj = this.#mustGet(r, t.namespace, t.name);
          return this.#respondObject(200, r, obj, accept, q.get("includeObject"));
        }
        if (isTrue(q.get("watch"))) {
          this.#allow(r, "watch");
          return this.#watch(req, r, t.namespace, q, undefined);
        }
        this.#allow(r, "list");
        return this.#list(r, t.namespace, q, accept);
      case "POST": {
        if (t.name !== undefined) throw newMethodNotSupported();
        this.#allow(r, "create");
        if (r.namespaced && t.namespace === undefined) throw notFoundPath();
        const obj = decodeObject(req, r);
        checkType(obj, r);
        const ctx = this.#writeContext(req, q);
        if (r.virtual) return json(201, render({ ...obj, status: obj.status ?? {} } as Obj, r));
        if (obj.metadata?.resourceVersion) {
          throw statusError(500, "", "resourceVersion should not be set on objects to be created");
        }
        return this.#respondObject(201, r, this.#create(r, t.namespace, obj, ctx), accept);
      }
      case "PUT": {
        if (t.name === undefined) throw newMethodNotSupported();
        this.#allow(r, "update");
        const obj = decodeObject(req, r);
        checkType(obj, r);
        const ctx = this.#writeContext(req, q);
        this.#checkIdentity(obj, t);
        const old = this.#store.get(r.storage, keyOf(t.namespace, t.name));
        if (!old) {
          if (!r.createOnUpdate) throw newNotFound(groupResourceOf(r), t.name);
          const { resourceVersion: _rv, ...meta } = obj.metadata ?? {};
          return this.#respondObject(
            201,
            r,
            this.#create(r, t.namespace, { ...obj, metadata: meta }, ctx),
            accept,
          );
        }
        return this.#respondObject(200, r, this.#update(r, old, obj, ctx, undefined), accept);
      }
      case "PATCH": {
        if (t.name === undefined) throw newMethodNotSupported();
        this.#allow(r, "patch");
        const { status, obj } = this.#patch(req, t, t.name, q);
        return this.#respondObject(status, r, obj, accept);
      }
      case "DELETE": {
        const ctx = this.#writeContext(req, q);
        const options = this.#deleteOptions(req, q);
        if (t.name === undefined) {
          this.#allow(r, "deletecollection");
          return this.#deleteCollection(r, t.namespace, q, options, ctx);
        }
        this.#allow(r, "delete");
        const old = this.#mustGet(r, t.namespace, t.name);
        const { obj, deleted } = this.#delete(r, old, options, ctx);
        if (deleted && !r.returnDeletedObject) {
          const uid = old.metadata?.uid;
          return json(200, {
            kind: "Status",
            apiVersion: "v1",
            metadata: {},
            status: "Success",
            details: {
              name: t.name,
              ...(r.group ? { group: r.group } : {}),
              kind: r.plural,
              ...(uid ? { uid } : {}),
            },
          });
        }
        return json(200, render(obj, r));
      }
      default:
        throw newMethodNotSupported();
    }
  }

  #respondObject(
    status: number,
    r: ServedResource,
    obj: KubernetesObject,
    accept: string | undefined,
    includeObject: string | null = null,
  ): ServerResponse {
    if (accept?.includes("as=PartialObjectMetadata;")) {
      return json(status, {
        kind: "PartialObjectMetadata",
        apiVersion: "meta.k8s.io/v1",
        metadata: obj.metadata,
      });
    }
    if (accept?.includes("as=Table")) {
      return json(status, this.#table(r, [obj], {}, includeObject));
    }
    return json(status, render(obj, r));
  }

  /**
   * The default table of the real server for kinds without printers of their own (custom
   * resources without printer columns): Name and Created At.
   */
  #table(
    r: ServedResource,
    items: KubernetesObject[],
    metadata: object,
    includeObject: string | null,
  ): unknown {
    const objectOf = (o: KubernetesObject) =>
      includeObject === "None"
        ? undefined
        : includeObject === "Object"
          ? render(o, r)
          : { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata };
    return {
      kind: "Table",
      apiVersion: "meta.k8s.io/v1",
      metadata,
      columnDefinitions: [
        {
          name: "Name",
          type: "string",
          format: "name",
          description: "Name must be unique within a namespace.",
          priority: 0,
        },
        {
          name: "Created At",
          type: "date",
          format: "",
          description:
            "CreationTimestamp is a timestamp representing the server time when this object was created.",
          priority: 0,
        },
      ],
      rows: items.map((o) => {
        const object = objectOf(o);
        return {
          cells: [o.metadata?.name ?? "", o.metadata?.creationTimestamp ?? ""],
          ...(object === undefined ? {} : { object }),
        };
      }),
    };
  }

  #checkIdentity(obj: Obj, t: Target): void {
    const name = obj.metadata?.name;
    if (name !== undefined && name !== t.name) {
      throw newBadRequest(
        `the name of the object (${name}) does not match the name on the URL (${t.name})`,
      );
    }
    const ns = obj.metadata?.namespace;
    if (t.resource.namespaced && ns !== undefined && ns !== "" && ns !== t.namespace) {
      throw newBadRequest(
        "the namespace of the provided object does not match the namespace sent on the request",
      );
    }
  }

  #mustGet(r: ServedResource, namespace: string | undefined, name: string): KubernetesObject {
    const obj = this.#store.get(r.storage, keyOf(namespace, name));
    if (!obj) throw newNotFound(groupResourceOf(r), name);
    return obj;
  }

  // -------------------------------------------------------------------------------------------
  // Writes

  /** Create: admission (namespace lifecycle), the strategy, field management, then the store. */
  #create(
    r: ServedResource,
    namespace: string | undefined,
    input: Obj,
    ctx: WriteContext,
    managedAlready = false,
  ): KubernetesObject {
    const meta: ObjectMeta = jsonClone(input.metadata ?? {});
    if (r.namespaced) {
      if (meta.namespace && meta.namespace !== namespace) {
        throw newBadRequest(
          "the namespace of the provided object does not match the namespace sent on the request",
        );
      }
      meta.namespace = namespace;
    } else {
      delete meta.namespace;
    }
    let nameField = "metadata.name";
    if (!meta.name) {
      if (!meta.generateName) {
        throw newInvalid(groupKindOf(r), "", [
          fieldRequired("metadata.name", "name or generateName is required"),
        ]);
      }
      nameField = "metadata.generateName";
      do meta.name = generateName(meta.generateName);
      while (this.#store.get(r.storage, keyOf(namespace, meta.name)));
    }
    const name = meta.name;
    const errs = validateName(name, r.nameRule, nameField);
    if (errs.length > 0) throw newInvalid(groupKindOf(r), name, errs);
    if (r.namespaced) this.#admitNamespace(r, namespace!, name);
    if (r.custom && this.#store.get(CRDS, r.storage)?.metadata?.deletionTimestamp) {
      throw newForbidden(
        groupResourceOf(r),
        name,
        "create not allowed while custom resource definition is terminating",
      );
    }
    if (this.#store.get(r.storage, keyOf(namespace, name))) {
      throw newAlreadyExists(groupResourceOf(r), name);
    }
    meta.uid = randomUUID();
    meta.creationTimestamp = ctx.now;
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (r.generation) meta.generation = 1;
    else delete meta.generation;
    // Field management sees the object as decoded (with its name and namespace), before the
    // strategy below; the fields the strategy sets belong to nobody, as on the real server.
    const decoded = {
      ...jsonClone(input),
      apiVersion: apiVersionOf(r),
      kind: r.kind,
      metadata: { ...jsonClone(input.metadata ?? {}), name, namespace },
    } as Obj;
    const managedFields = managedAlready
      ? input.metadata?.managedFields
      : this.#manage(r, undefined, decoded, ctx, undefined);
    let obj: Obj = withMeta(
      { ...jsonClone(input), apiVersion: apiVersionOf(r), kind: r.kind },
      { ...meta, managedFields },
    );
    if (r.hasStatus) {
      if (r.custom) delete obj.status;
      else obj.status = r.storage === "pods" ? { phase: "Pending" } : {};
    }
    if (r.storage === "namespaces") this.#prepareNamespace(obj, undefined);
    if (r.storage === CRDS) {
      obj = { ...obj, ...this.#establishCrd(obj as CrdLike & Obj) };
    }
    if (ctx.dryRun) return obj;
    return this.#commit("ADDED", r, namespace, name, obj, undefined).object;
  }

  /** The object as stored on create, without admission or a strategy (initial objects, seeds). */
  #commitCreate(r: ServedResource, namespace: string | undefined, obj: Obj): void {
    const meta = { ...metaOf(obj), uid: randomUUID(), creationTimestamp: this.#now() };
    const stored = withMeta(obj, meta);
    if (r.storage === "namespaces") this.#prepareNamespace(stored, undefined);
    this.#commit("ADDED", r, namespace, meta.name!, stored, undefined);
  }

  /** NamespaceLifecycle: no new objects in a namespace that is missing or being deleted. */
  #admitNamespace(r: ServedResource, namespace: string, name: string): void {
    const ns = this.#store.get("namespaces", namespace);
    if (!ns) throw newNotFound({ group: "", resource: "namespaces" }, namespace);
    if (ns.metadata?.deletionTimestamp) {
      const why = `unable to create new content in namespace ${namespace} because it is being terminated`;
      const err = newForbidden(groupResourceOf(r), name, why);
      err.status.details = {
        ...err.status.details,
        causes: [{ reason: "NamespaceTerminating", message: why, field: "metadata.namespace" }],
      };
      throw err;
    }
  }

  /** Field management: the apply helper's record of who set what. */
  #manage(
    r: ServedResource,
    live: KubernetesObject | undefined,
    updated: Obj,
    ctx: WriteContext,
    subresource: string | undefined,
  ): ObjectMeta["managedFields"] {
    const out = recordUpdate({
      ...this.#fieldContext(r, ctx, subresource),
      live: live === undefined ? undefined : render(live, r),
      updated,
    });
    return out.metadata?.managedFields;
  }

  /** What the field-management helper needs to know of a resource (ssa.ts). */
  #fieldContext(r: ServedResource, ctx: WriteContext, subresource: string | undefined) {
    const crd = r.custom ? (this.#store.get(CRDS, r.storage) as CrdLike | undefined) : undefined;
    const version = crd?.spec?.versions?.find((v) => v.name === r.version);
    return {
      manager: ctx.manager,
      now: ctx.now,
      subresource,
      patchMeta: r.patchMeta(),
      openAPIV3Schema: version?.schema?.openAPIV3Schema,
      statusSubresource: r.custom ? r.hasStatus : undefined,
      specReplicasPath: r.scale?.specReplicasPath,
      kind: { apiVersion: apiVersionOf(r), kind: r.kind },
    };
  }

  /**
   * Update of the main resource or the status subresource: the resourceVersion precondition,
   * the strategy (status kept or taken alone, system metadata kept, generation), field
   * management, and the store; a write that changes nothing is not a write.
   */
  #update(
    r: ServedResource,
    old: KubernetesObject,
    input: Obj,
    ctx: WriteContext,
    subresource: "status" | "scale" | undefined,
    managed?: boolean,
  ): KubernetesObject {
    const name = old.metadata!.name!;
    const rvIn = input.metadata?.resourceVersion;
    if (rvIn) {
      if (rvIn !== old.metadata?.resourceVersion) throw newConflict(groupResourceOf(r), name);
    } else if (!r.unconditionalUpdate) {
      const custom = r.custom
        ? { group: r.group, kind: r.plural }
        : { group: r.group, kind: r.kind };
      throw newInvalid(custom, name, [
        fieldInvalid("metadata.resourceVersion", 0, "must be specified for an update"),
      ]);
    }
    const oldMeta = metaOf(old);
    const uidIn = input.metadata?.uid;
    if (uidIn && subresource !== "scale" && uidIn !== oldMeta.uid) {
      const key = r.custom
        ? `/registry/${r.group}/${r.plural}/${keyOf(oldMeta.namespace, name)}`
        : `/registry/${r.plural}/${keyOf(oldMeta.namespace, name)}`;
      throw newConflict(
        groupResourceOf(r),
        name,
        `StorageError: invalid object, Code: 4, Key: ${key}, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: ${uidIn}, UID in object meta: ${oldMeta.uid}`,
      );
    }
    // Field management sees the object as written, before the strategy below.
    const managedFields = managed
      ? input.metadata?.managedFields
      : this.#manage(
          r,
          old,
          { ...input, apiVersion: apiVersionOf(r), kind: r.kind },
          ctx,
          subresource,
        );
    let obj: Obj;
    if (subresource === "status") {
      obj = jsonClone(old) as Obj;
      if (input.status === undefined) delete obj.status;
      else obj.status = jsonClone(input.status);
    } else {
      obj = { ...jsonClone(input), apiVersion: apiVersionOf(r), kind: r.kind };
      if (r.hasStatus) {
        if ((old as Obj).status === undefined) delete obj.status;
        else obj.status = jsonClone((old as Obj).status);
      }
      const meta: ObjectMeta = { ...jsonClone(input.metadata ?? {}) };
      meta.name = oldMeta.name;
      if (r.namespaced) meta.namespace = oldMeta.namespace;
      else delete meta.namespace;
      meta.uid = oldMeta.uid;
      meta.creationTimestamp = oldMeta.creationTimestamp;
      meta.deletionTimestamp = oldMeta.deletionTimestamp;
      meta.deletionGracePeriodSeconds = oldMeta.deletionGracePeriodSeconds;
      meta.generation = oldMeta.generation;
      if (oldMeta.generateName !== undefined && meta.generateName === undefined) {
        meta.generateName = oldMeta.generateName;
      }
      obj.metadata = meta;
      if (r.storage === "namespaces") this.#prepareNamespace(obj, old);
    }
    obj.metadata = { ...obj.metadata, resourceVersion: oldMeta.resourceVersion, managedFields };
    if (oldMeta.deletionTimestamp) {
      const before = new Set(oldMeta.finalizers ?? []);
      const added = (obj.metadata.finalizers ?? []).filter((f) => !before.has(f));
      if (added.length > 0) {
        throw newInvalid(groupKindOf(r), name, [
          fieldForbidden(
            "metadata.finalizers",
            `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(", ")}}`,
          ),
        ]);
      }
    }
    if (r.generation && !sameSpec(old, obj)) {
      obj.metadata = { ...obj.metadata, generation: (oldMeta.generation ?? 0) + 1 };
    }
    obj = withMeta(obj, metaOf(obj));
    if (sameObject(old, obj)) return old;
    if (ctx.dryRun) return obj;
    const namespace = oldMeta.namespace;
    if (
      obj.metadata?.deletionTimestamp &&
      (obj.metadata.finalizers ?? []).length === 0 &&
      r.storage !== NAMESPACES
    ) {
      return this.#remove(r, namespace, name, obj);
    }
    const change = this.#commit("MODIFIED", r, namespace, name, obj, old);
    if (r.storage === NAMESPACES) this.#finishNamespace(name);
    return change.object;
  }

  /** Stamps the next revision on `obj` and commits the write; runs what follows some kinds. */
  #commit(
    type: "ADDED" | "MODIFIED" | "DELETED",
    r: ServedResource,
    namespace: string | undefined,
    name: string,
    obj: KubernetesObject,
    prev: KubernetesObject | undefined,
  ): Change {
    const rv = this.#store.nextRevision();
    const stored = withMeta(obj, { ...metaOf(obj), resourceVersion: String(rv) });
    const change = this.#store.commit(
      type,
      r.storage,
      keyOf(namespace, name),
      namespace,
      stored,
      prev,
    );
    if (r.storage === CRDS) {
      if (type === "DELETED") this.#unserveCrd(name);
      else this.#serveCrd(stored as CrdLike);
    }
    return change;
  }

  /**
   * Removes an object for good (no finalizers left), then lets a terminating namespace or CRD
   * that was waiting for it finish.
   */
  #remove(
    r: ServedResource,
    namespace: string | undefined,
    name: string,
    last: KubernetesObject,
  ): KubernetesObject {
    const prev = this.#store.get(r.storage, keyOf(namespace, name));
    const change = this.#commit("DELETED", r, namespace, name, last, prev);
    if (namespace !== undefined) this.#finishNamespace(namespace);
    if (r.custom) this.#finishCrd(r.storage);
    return change.object;
  }

  // -------------------------------------------------------------------------------------------
  // Delete

  #deleteOptions(req: ServerRequest, q: URLSearchParams) {
    const text = bodyText(req);
    let body: {
      preconditions?: { uid?: string; resourceVersion?: string };
      propagationPolicy?: string;
      dryRun?: string[];
    } = {};
    if (text.trim() !== "") {
      try {
        body = JSON.parse(text);
      } catch {
        throw newBadRequest("the body of the request was in an unknown format");
      }
    }
    const dryRun = [...(body.dryRun ?? []), ...q.getAll("dryRun")];
    return { preconditions: body.preconditions, dryRun: dryRun.length > 0 };
  }

  /** Delete: preconditions, then finalizers (mark and keep) or removal. */
  #delete(
    r: ServedResource,
    old: KubernetesObject,
    options: {
      preconditions?: { uid?: string; resourceVersion?: string } | undefined;
      dryRun: boolean;
    },
    ctx: WriteContext,
  ): { obj: KubernetesObject; deleted: boolean } {
    const meta = metaOf(old);
    const name = meta.name!;
    const p = options.preconditions;
    const byKind = { group: r.group, resource: r.kind };
    if (p?.uid && p.uid !== meta.uid) {
      throw newConflict(
        byKind,
        name,
        `the UID in the precondition (${p.uid}) does not match the UID in record (${meta.uid}). The object might have been deleted and then recreated`,
      );
    }
    if (p?.resourceVersion && p.resourceVersion !== meta.resourceVersion) {
      throw newConflict(
        byKind,
        name,
        `the ResourceVersion in the precondition (${p.resourceVersion}) does not match the ResourceVersion in record (${meta.resourceVersion}). The object might have been modified`,
      );
    }
    if (r.storage === "namespaces" && IMMORTAL_NAMESPACES.has(name)) {
      throw newForbidden(groupResourceOf(r), name, "this namespace may not be deleted");
    }
    const dry = options.dryRun || ctx.dryRun;
    const finalizers = meta.finalizers ?? [];
    // Namespaces and CRDs are always deleted in two steps: marked, then emptied, then removed.
    const staged = r.storage === NAMESPACES || r.storage === CRDS;
    if (finalizers.length > 0 || staged) {
      if (meta.deletionTimestamp) return { obj: old, deleted: false };
      const marked: Obj = jsonClone(old) as Obj;
      marked.metadata = {
        ...marked.metadata,
        deletionTimestamp: ctx.now,
        deletionGracePeriodSeconds: 0,
        ...(meta.generation && meta.generation > 0 ? { generation: meta.generation + 1 } : {}),
      };
      if (r.storage === NAMESPACES) {
        delete marked.metadata.deletionGracePeriodSeconds;
        marked.status = { ...(marked.status as object), phase: "Terminating" };
      }
      if (r.storage === CRDS) {
        delete marked.metadata.deletionGracePeriodSeconds;
        if (!finalizers.includes(CRD_CLEANUP)) {
          marked.metadata.finalizers = [...finalizers, CRD_CLEANUP];
        }
        const status = (marked.status ?? {}) as { conditions?: { type?: string }[] };
        marked.status = {
          ...status,
          conditions: [
            ...(status.conditions ?? []).filter((c) => c.type !== "Terminating"),
            {
              type: "Terminating",
              status: "True",
              lastTransitionTime: ctx.now,
              reason: "InstanceDeletionPending",
              message:
                "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon",
            },
          ],
        };
      }
      if (dry) return { obj: withMeta(marked, metaOf(marked)), deleted: false };
      const change = this.#commit("MODIFIED", r, meta.namespace, name, marked, old);
      if (r.storage === NAMESPACES) this.#finishNamespace(name);
      if (r.storage === CRDS) this.#finishCrd(name);
      return { obj: change.object, deleted: false };
    }
    if (dry) return { obj: old, deleted: true };
    return { obj: this.#remove(r, meta.namespace, name, old), deleted: true };
  }

  #deleteCollection(
    r: ServedResource,
    namespace: string | undefined,
    q: URLSearchParams,
    options: { dryRun: boolean },
    ctx: WriteContext,
  ): ServerResponse {
    const sel = this.#selection(r, q);
    const items: KubernetesObject[] = [];
    for (const [, obj] of this.#store.list(r.storage, namespace)) {
      if (!this.#selected(r, obj, sel)) continue;
      const { obj: out } = this.#delete(r, obj, options, ctx);
      items.push(out);
    }
    return json(200, {
      kind: r.listKind,
      apiVersion: apiVersionOf(r),
      metadata: { resourceVersion: this.resourceVersion },
      items: items.map((o) => render(o, r, false)),
    });
  }

  // -------------------------------------------------------------------------------------------
  // Namespaces and CRDs

  /** The namespace strategy: its name label, the `kubernetes` finalizer, phase Active. */
  #prepareNamespace(obj: Obj, old: KubernetesObject | undefined): void {
    const name = obj.metadata?.name ?? "";
    obj.metadata = orderMetadata({
      ...obj.metadata,
      labels: { ...obj.metadata?.labels, "kubernetes.io/metadata.name": name },
    });
    if (!old) {
      const spec = (obj.spec ?? {}) as { finalizers?: string[] };
      obj.spec = { ...spec, finalizers: spec.finalizers ?? ["kubernetes"] };
      obj.status = { phase: "Active" };
    }
  }

  /**
   * The namespace controller: deletes what is left in a terminating namespace (objects with
   * finalizers are marked and stay) and removes the namespace once it is empty and has no
   * finalizers of its own.
   */
  #finishNamespace(namespace: string): void {
    const ns = this.#store.get(NAMESPACES, namespace);
    if (!ns?.metadata?.deletionTimestamp || this.#finishing.has(namespace)) return;
    this.#finishing.add(namespace);
    let remaining = 0;
    try {
      const ctx: WriteContext = {
        manager: "namespace-controller",
        dryRun: false,
        now: this.#now(),
      };
      for (const storage of this.#store.storages()) {
        const r = this.#byStorage(storage);
        if (!r?.namespaced) continue;
        for (const [key] of this.#store.list(storage, namespace)) {
          const obj = this.#store.get(storage, key);
          if (obj && !obj.metadata?.deletionTimestamp) this.#delete(r, obj, { dryRun: false }, ctx);
          if (this.#store.get(storage, key)) remaining++;
        }
      }
    } finally {
      this.#finishing.delete(namespace);
    }
    const current = this.#store.get(NAMESPACES, namespace);
    if (remaining === 0 && current && (current.metadata?.finalizers ?? []).length === 0) {
      const r = this.#resource("", "v1", NAMESPACES)!;
      this.#commit("DELETED", r, undefined, namespace, current, current);
    }
  }

  /**
   * The CRD finalizer controller: deletes the instances of a terminating CRD and, once none is
   * left, takes away its cleanup finalizer (which removes it unless others remain).
   */
  #finishCrd(name: string): void {
    const crd = this.#store.get(CRDS, name);
    if (!crd?.metadata?.deletionTimestamp || this.#finishing.has(name)) return;
    const finalizers = crd.metadata.finalizers ?? [];
    if (!finalizers.includes(CRD_CLEANUP)) return;
    this.#finishing.add(name);
    let remaining = 0;
    try {
      const r = this.#byStorage(name);
      const ctx: WriteContext = { manager: "crd-finalizer", dryRun: false, now: this.#now() };
      for (const [key] of r ? this.#store.list(name) : []) {
        const obj = this.#store.get(name, key);
        if (obj && !obj.metadata?.deletionTimestamp) this.#delete(r!, obj, { dryRun: false }, ctx);
        if (this.#store.get(name, key)) remaining++;
      }
    } finally {
      this.#finishing.delete(name);
    }
    if (remaining > 0) return;
    const current = this.#store.get(CRDS, name)!;
    const next = withMeta(current, {
      ...metaOf(current),
      finalizers: finalizers.filter((f) => f !== CRD_CLEANUP),
    });
    const r = this.#resource("apiextensions.k8s.io", "v1", "customresourcedefinitions")!;
    if ((next.metadata?.finalizers ?? []).length === 0) this.#remove(r, undefined, name, next);
    else this.#commit("MODIFIED", r, undefined, name, next, current);
  }

  #byStorage(storage: string): ServedResource | undefined {
    for (const r of this.#resources.values()) if (r.storage === storage) return r;
    return undefined;
  }

  /** What the CRD controllers write: accepted names, stored versions, the two conditions. */
  #establishCrd(crd: CrdLike & Obj): Partial<Obj> {
    const now = this.#now();
    const names = crd.spec?.names ?? {};
    const storageVersion = crd.spec?.versions?.find((v) => v.storage)?.name;
    const prev = (crd.status ?? {}) as { storedVersions?: string[] };
    const stored = new Set(prev.storedVersions ?? []);
    if (storageVersion) stored.add(storageVersion);
    return {
      status: {
        conditions: [
          {
            type: "NamesAccepted",
            status: "True",
            lastTransitionTime: now,
            reason: "NoConflicts",
            message: "no conflicts found",
          },
          {
            type: "Established",
            status: "True",
            lastTransitionTime: now,
            reason: "InitialNamesAccepted",
            message: "the initial names have been accepted",
          },
        ],
        acceptedNames: {
          plural: names.plural,
          singular: names.singular ?? names.kind?.toLowerCase(),
          ...(names.shortNames ? { shortNames: names.shortNames } : {}),
          kind: names.kind,
          listKind: names.listKind ?? `${names.kind}List`,
          ...(names.categories ? { categories: names.categories } : {}),
        },
        storedVersions: [...stored],
      },
    };
  }

  #serveCrd(crd: CrdLike): void {
    const name = crd.metadata?.name;
    if (!name) return;
    this.#unserveCrd(name, false);
    const rs = crdResources(crd);
    for (const r of rs) this.#serve(r);
    if (rs[0]) this.#crds.set(name, rs[0].storage);
  }

  /** Stops serving a CRD's resources; with `drop`, its objects go too and its watches end. */
  #unserveCrd(name: string, drop = true): void {
    const storage = this.#crds.get(name);
    if (storage === undefined) return;
    this.#crds.delete(name);
    this.#groupsCache = undefined;
    for (const [k, r] of this.#resources) {
      if (r.storage === storage) {
        this.#resources.delete(k);
        this.#kinds.delete(`${r.group}/${r.version}/${r.kind}`);
      }
    }
    if (!drop) return;
    for (const w of [...this.#watches]) if (w.storage === storage) w.end();
    this.#store.drop(storage);
  }

  // -------------------------------------------------------------------------------------------
  // Patch

  #patch(
    req: ServerRequest,
    t: Target,
    name: string,
    q: URLSearchParams,
  ): { status: number; obj: KubernetesObject } {
    const r = t.resource;
    const type = mediaType(header(req, "content-type"));
    const ctx = this.#writeContext(req, q);
    const text = bodyText(req);
    const old = this.#store.get(r.storage, keyOf(t.namespace, name));
    if (type === CONTENT.apply) {
      const result = this.#serverSideApply(r, t, old, text, q, ctx);
      if (!old) {
        if (t.subresource !== undefined) throw newNotFound(groupResourceOf(r), name);
        const { resourceVersion: _rv, ...meta } = result.metadata ?? {};
        const created = this.#create(r, t.namespace, { ...result, metadata: meta }, ctx, true);
        return { status: 201, obj: created };
      }
      this.#checkIdentity(result, t);
      const sub = t.subresource === "status" ? "status" : undefined;
      return { status: 200, obj: this.#update(r, old, result, ctx, sub, true) };
    }
    if (!old) throw newNotFound(groupResourceOf(r), name);
    const patched = this.#applyPatch(type, text, render(old, r), r) as Obj;
    this.#checkIdentity(patched, t);
    const sub = t.subresource === "status" ? "status" : undefined;
    return { status: 200, obj: this.#update(r, old, patched, ctx, sub) };
  }

  /**
   * An apply patch through the field-management helper: the object it produces (for /scale, the
   * parent with its new replicas), with `managedFields` set, before the strategy.
   */
  #serverSideApply(
    r: ServedResource,
    t: Target,
    old: KubernetesObject | undefined,
    text: string,
    q: URLSearchParams,
    ctx: WriteContext,
  ): Obj {
    if (!q.get("fieldManager")) {
      throw newInvalid({ group: "meta.k8s.io", kind: "PatchOptions" }, "", [
        fieldRequired("fieldManager", "is required for apply patch"),
      ]);
    }
    let applied: unknown;
    try {
      applied = parseYaml(text);
    } catch (e) {
      throw newBadRequest(`error decoding YAML: ${(e as Error).message}`);
    }
    if (typeof applied !== "object" || applied === null || Array.isArray(applied)) {
      throw newBadRequest("the apply configuration must be an object");
    }
    return serverSideApply({
      ...this.#fieldContext(r, ctx, t.subresource),
      live: old === undefined ? undefined : render(old, r),
      applied: applied as KubernetesObject,
      force: isTrue(q.get("force")),
      name: t.name,
      namespace: t.namespace ?? "",
    }) as Obj;
  }

  /** JSON, merge or strategic merge patch applied to `target`, with the server's errors. */
  #applyPatch(type: string, text: string, target: Obj, r: ServedResource | "Scale"): unknown {
    switch (type) {
      case CONTENT.jsonPatch: {
        let ops: unknown;
        try {
          ops = JSON.parse(text);
        } catch (e) {
          throw newBadRequest(`error decoding patch: ${(e as Error).message}`);
        }
        if (!Array.isArray(ops)) {
          throw newBadRequest(
            "error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp",
          );
        }
        try {
          return applyJsonPatch(target, ops);
        } catch (e) {
          if (e instanceof JsonPatchError) {
            if (e.reason === "decode") throw newBadRequest(`error decoding patch: ${e.message}`);
            throw statusError(
              422,
              "Invalid",
              "the server rejected our request due to an error in our request",
              {},
            );
          }
          throw e;
        }
      }
      case CONTENT.mergePatch: {
        const patch = parsePatchObject(text);
        return applyMergePatch(target, patch);
      }
      case CONTENT.strategic: {
        if (r !== "Scale" && r.custom) {
          throw newUnsupportedMediaType(
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
          );
        }
        const patch = parsePatchObject(text);
        const meta =
          r === "Scale"
            ? PatchMeta.builtin({ group: "autoscaling", version: "v1", kind: "Scale" })
            : r.patchMeta();
        try {
          return applyStrategicMergePatch(target, patch, meta ?? PatchMeta.unknown());
        } catch (e) {
          if (e instanceof KubekitError && !(e instanceof ApiError)) {
            throw statusError(422, "Invalid", e.message, {});
          }
          throw e;
        }
      }
      default:
        throw newUnsupportedMediaType("415: Unsupported Media Type");
    }
  }

  // -------------------------------------------------------------------------------------------
  // Subresources

  #subresourceRequest(
    req: ServerRequest,
    t: Target,
    sub: string,
    q: URLSearchParams,
  ): ServerResponse {
    const r = t.resource;
    const name = t.name!;
    const verbs = r.subresources.find((s) => s.name === sub)?.verbs ?? [];
    const verb = { GET: "get", PUT: "update", PATCH: "patch", POST: "create" }[req.method];
    if (verb === undefined || !verbs.includes(verb)) throw newMethodNotSupported();
    if (sub === "status") {
      if (verb === "get") return json(200, render(this.#mustGet(r, t.namespace, name), r));
      if (verb === "update") {
        const obj = decodeObject(req, r);
        checkType(obj, r);
        this.#checkIdentity(obj, t);
        const old = this.#mustGet(r, t.namespace, name);
        return json(
          200,
          render(this.#update(r, old, obj, this.#writeContext(req, q), "status"), r),
        );
      }
      return json(200, render(this.#patch(req, t, name, q).obj, r));
    }
    if (sub === "scale" && r.scale) return this.#scaleRequest(req, t, q, verb);
    // Subresources served by kubelets, controllers or webhooks (log, exec, token, ...) are not.
    this.#mustGet(r, t.namespace, name);
    if (sub === "eviction" && r.storage === "pods" && verb === "create") {
      const old = this.#mustGet(r, t.namespace, name);
      this.#delete(r, old, { dryRun: false }, this.#writeContext(req, q));
      return json(201, {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Success",
        code: 201,
      });
    }
    if (sub === "binding" && r.storage === "pods" && verb === "create") {
      const body = decodeObject(req, r) as { target?: { name?: string } };
      const old = this.#mustGet(r, t.namespace, name);
      const next = setPath(old, ".spec.nodeName", body.target?.name ?? "") as Obj;
      this.#update(r, old, next, this.#writeContext(req, q), undefined);
      return json(201, {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Success",
        code: 201,
      });
    }
    throw newMethodNotSupported();
  }

  #scaleOf(r: ServedResource, obj: KubernetesObject): Obj {
    const s = r.scale!;
    const meta = metaOf(obj);
    const spec = getPath(obj, s.specReplicasPath);
    const status = getPath(obj, s.statusReplicasPath);
    let selector: string | undefined;
    if (s.selector && "path" in s.selector) {
      const v = getPath(obj, s.selector.path);
      selector = typeof v === "string" ? v : undefined;
    } else if (s.selector?.from === "labelSelector") {
      selector = selectorString(getPath(obj, ".spec.selector") as never);
    } else if (s.selector?.from === "map") {
      selector = mapSelectorString(getPath(obj, ".spec.selector") as never);
    }
    return {
      kind: "Scale",
      apiVersion: "autoscaling/v1",
      metadata: orderMetadata({
        name: meta.name,
        namespace: meta.namespace,
        uid: meta.uid,
        resourceVersion: meta.resourceVersion,
        creationTimestamp: meta.creationTimestamp,
      }),
      spec: { replicas: typeof spec === "number" ? spec : r.custom ? 0 : 1 },
      status: {
        replicas: typeof status === "number" ? status : 0,
        ...(selector === undefined ? {} : { selector }),
      },
    };
  }

  #scaleRequest(req: ServerRequest, t: Target, q: URLSearchParams, verb: string): ServerResponse {
    const r = t.resource;
    const name = t.name!;
    const old = this.#mustGet(r, t.namespace, name);
    const current = this.#scaleOf(r, old);
    if (verb === "get") return json(200, current);
    const ctx = this.#writeContext(req, q);
    if (verb === "patch" && mediaType(header(req, "content-type")) === CONTENT.apply) {
      const parent = this.#serverSideApply(r, t, old, bodyText(req), q, ctx);
      return json(200, this.#scaleOf(r, this.#update(r, old, parent, ctx, "scale", true)));
    }
    let scale: Obj;
    if (verb === "update") {
      scale = JSON.parse(bodyText(req) || "{}") as Obj;
      this.#checkIdentity(scale, t);
    } else {
      scale = this.#applyPatch(
        mediaType(header(req, "content-type")),
        bodyText(req),
        current,
        "Scale",
      ) as Obj;
    }
    const rvIn = scale.metadata?.resourceVersion;
    if (rvIn && rvIn !== old.metadata?.resourceVersion) throw newConflict(groupResourceOf(r), name);
    const replicas = (scale.spec as { replicas?: unknown } | undefined)?.replicas;
    if (replicas !== undefined && (typeof replicas !== "number" || replicas < 0)) {
      throw newInvalid({ group: "autoscaling", kind: "Scale" }, name, [
        fieldInvalid("spec.replicas", replicas, "must be greater than or equal to 0"),
      ]);
    }
    const next = setPath(old, r.scale!.specReplicasPath, replicas ?? 0) as Obj;
    next.metadata = { ...next.metadata, resourceVersion: old.metadata?.resourceVersion };
    const updated = this.#update(r, old, next, ctx, "scale");
    return json(200, this.#scaleOf(r, updated));
  }

  // -------------------------------------------------------------------------------------------
  // Reads: list and watch

  #selection(r: ServedResource, q: URLSearchParams): Selection {
    const labelText = q.get("labelSelector") ?? "";
    const fieldText = q.get("fieldSelector") ?? "";
    let label: ParsedLabelSelector | undefined;
    let field: ParsedFieldSelector | undefined;
    try {
      label = labelText ? parseLabelSelector(labelText) : undefined;
    } catch (e) {
      throw newBadRequest(`unable to parse requirement: ${(e as Error).message}`);
    }
    try {
      field = fieldText ? parseFieldSelector(fieldText) : undefined;
    } catch (e) {
      throw newBadRequest((e as Error).message);
    }
    for (const req of field?.requirements ?? []) {
      if (!Object.hasOwn(r.fieldSelector.fields, req.field)) {
        throw newBadRequest(r.fieldSelector.unsupported(req.field));
      }
    }
    return { label, field };
  }

  #selected(r: ServedResource, obj: KubernetesObject, sel: Selection): boolean {
    if (sel.label && !matchesLabels(sel.label, obj.metadata?.labels)) return false;
    if (sel.field) {
      for (const req of sel.field.requirements) {
        const value = fieldValue(obj, r.fieldSelector.fields[req.field]!);
        if ((value === req.value) !== (req.operator === "=")) return false;
      }
    }
    return true;
  }

  #list(
    r: ServedResource,
    namespace: string | undefined,
    q: URLSearchParams,
    accept: string | undefined,
  ): ServerResponse {
    const rvText = q.get("resourceVersion") ?? "";
    const match = q.get("resourceVersionMatch") ?? "";
    const cont = q.get("continue") ?? "";
    const errors: FieldError[] = [];
    if (match) {
      if (!rvText) {
        errors.push(
          fieldForbidden(
            "resourceVersionMatch",
            "resourceVersionMatch is forbidden unless resourceVersion is provided",
          ),
        );
      }
      if (cont) {
        errors.push(
          fieldForbidden(
            "resourceVersionMatch",
            "resourceVersionMatch is forbidden when continue is provided",
          ),
        );
      }
      if (match !== "Exact" && match !== "NotOlderThan") {
        errors.push(
          fieldNotSupported("resourceVersionMatch", match, ["Exact", "NotOlderThan", ""]),
        );
      }
      if (match === "Exact" && rvText === "0") {
        errors.push(
          fieldForbidden(
            "resourceVersionMatch",
            'resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
          ),
        );
      }
    }
    if (q.has("sendInitialEvents")) {
      errors.push(fieldForbidden("sendInitialEvents", "sendInitialEvents is forbidden for list"));
    }
    if (errors.length > 0) throw listOptionsInvalid(errors);
    const sel = this.#selection(r, q);
    const limitText = q.get("limit");
    const limit = limitText ? Number.parseInt(limitText, 10) : 0;
    const current = this.#store.revision;
    let listRv = current;
    let start = "";
    let items: [string, KubernetesObject][];
    if (cont) {
      const token = decodeContinue(cont);
      const snap =
        token.rv < 0
          ? this.#store.list(r.storage, namespace)
          : this.#store.snapshot(r.storage, token.rv, namespace);
      if (!snap) {
        const err = newResourceExpired(INCONSISTENT_CONTINUE);
        err.status.metadata = { continue: encodeContinue({ rv: -1, start: token.start }) };
        throw err;
      }
      items = snap;
      listRv = token.rv < 0 ? current : token.rv;
      start = token.start;
    } else if (rvText && rvText !== "0") {
      const rv = parseRv(rvText);
      if (rv > current) throw tooLarge(rv, current);
      if (match === "Exact") {
        const snap = this.#store.snapshot(r.storage, rv, namespace);
        if (!snap)
          throw newResourceExpired("The resourceVersion for the provided list is too old.");
        items = snap;
        listRv = rv;
      } else {
        items = this.#store.list(r.storage, namespace);
      }
    } else {
      items = this.#store.list(r.storage, namespace);
    }
    const selected = items.filter(([k, o]) => k >= start && this.#selected(r, o, sel));
    let page = selected;
    const metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number } = {
      resourceVersion: String(listRv),
    };
    if (limit > 0 && selected.length > limit) {
      page = selected.slice(0, limit);
      metadata.continue = encodeContinue({
        rv: listRv,
        start: `${page[page.length - 1]![0]}\u0000`,
      });
      if (!sel.label && !sel.field) metadata.remainingItemCount = selected.length - limit;
    }
    if (accept?.includes("as=Table")) {
      return json(
        200,
        this.#table(
          r,
          page.map(([, o]) => o),
          metadata,
          q.get("includeObject"),
        ),
      );
    }
    if (accept?.includes("as=PartialObjectMetadataList")) {
      return json(200, {
        kind: "PartialObjectMetadataList",
        apiVersion: "meta.k8s.io/v1",
        metadata,
        items: page.map(([, o]) => ({
          kind: "PartialObjectMetadata",
          apiVersion: "meta.k8s.io/v1",
          metadata: o.metadata,
        })),
      });
    }
    return json(200, {
      kind: r.listKind,
      apiVersion: apiVersionOf(r),
      metadata,
      items: page.map(([, o]) => render(o, r, false)),
    });
  }

  #watch(
    req: ServerRequest,
    r: ServedResource,
    namespace: string | undefined,
    q: URLSearchParams,
    name: string | undefined,
  ): ServerResponse {
    const match = q.get("resourceVersionMatch") ?? "";
    const sendInitialText = q.get("sendInitialEvents");
    const sendInitial = sendInitialText === null ? undefined : isTrue(sendInitialText);
    const errors: FieldError[] = [];
    if (sendInitial !== undefined && match !== "NotOlderThan") {
      errors.push(
        fieldForbidden(
          "resourceVersionMatch",
          "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
        ),
      );
    }
    if (match) {
      if (sendInitial === undefined) {
        errors.push(
          fieldForbidden(
            "resourceVersionMatch",
            "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
          ),
        );
      }
      if (match !== "NotOlderThan") {
        errors.push(fieldNotSupported("resourceVersionMatch", match, ["NotOlderThan"]));
      }
    }
    if (errors.length > 0) throw listOptionsInvalid(errors);
    const sel = this.#selection(r, q);
    const rvText = q.get("resourceVersion") ?? "";
    const bookmarks = isTrue(q.get("allowWatchBookmarks"));
    const timeoutText = q.get("timeoutSeconds");
    const timeoutMs = timeoutText ? Number(timeoutText) * 1000 : 0;
    const current = this.#store.revision;
    const matches = (obj: KubernetesObject) =>
      (namespace === undefined || obj.metadata?.namespace === namespace) &&
      (name === undefined || obj.metadata?.name === name) &&
      this.#selected(r, obj, sel);

    let initial: KubernetesObject[] = [];
    let replay: Change[] = [];
    if (rvText && rvText !== "0") {
      const rv = parseRv(rvText);
      if (rv > current) throw tooLarge(rv, current);
      if (sendInitial === true) {
        initial = this.#store
          .list(r.storage, namespace)
          .map(([, o]) => o)
          .filter(matches);
      } else {
        const changes = this.#store.changesSince(rv);
        if (!changes) {
          const expired = newResourceExpired(
            `too old resource version: ${rv} (${this.#store.compacted})`,
          );
          const stream = new PushStream(() => {});
          stream.push(`${JSON.stringify({ type: "ERROR", object: statusBody(expired) })}\n`);
          stream.end();
          return { status: 200, headers: { "content-type": CONTENT.json }, body: stream };
        }
        replay = changes;
      }
    } else if (sendInitial !== false) {
      initial = this.#store
        .list(r.storage, namespace)
        .map(([, o]) => o)
        .filter(matches);
    }

    const ac = new AbortController();
    let unsubscribe = () => {};
    const active: ActiveWatch = { storage: r.storage, end: () => stream.end() };
    const stream = new PushStream(() => {
      ac.abort();
      unsubscribe();
      this.#watches.delete(active);
      req.signal?.removeEventListener("abort", onAbort);
    });
    const onAbort = () => stream.end();
    const send = (type: string, obj: KubernetesObject) =>
      stream.push(`${JSON.stringify({ type, object: render(obj, r) })}\n`);
    const bookmark = (annotations?: Record<string, string>) =>
      stream.push(
        `${JSON.stringify({
          type: "BOOKMARK",
          object: {
            kind: r.kind,
            apiVersion: apiVersionOf(r),
            metadata: {
              resourceVersion: String(this.#store.revision),
              ...(annotations ? { annotations } : {}),
            },
          },
        })}\n`,
      );
    const deliver = (c: Change) => {
      if (c.storage !== r.storage) return;
      if (c.type === "DELETED") {
        if (matches(c.object)) send("DELETED", c.object);
        return;
      }
      const now = matches(c.object);
      const before = c.prev !== undefined && matches(c.prev);
      if (now) send(before ? "MODIFIED" : "ADDED", c.object);
      else if (before) {
        send("DELETED", withMeta(c.prev!, { ...metaOf(c.prev!), resourceVersion: String(c.rv) }));
      }
    };
    for (const o of initial) send("ADDED", o);
    if (sendInitial === true && bookmarks) bookmark({ [ANNOTATION_INITIAL_EVENTS_END]: "true" });
    for (const c of replay) deliver(c);
    unsubscribe = this.#store.subscribe(deliver);
    this.#watches.add(active);
    req.signal?.addEventListener("abort", onAbort, { once: true });
    if (timeoutMs > 0) {
      this.#clock.sleep(timeoutMs, ac.signal).then(
        () => stream.end(),
        () => {},
      );
      if (bookmarks && timeoutMs > 2000) {
        this.#clock.sleep(timeoutMs - 2000, ac.signal).then(
          () => bookmark(),
          () => {},
        );
      }
    }
    if (bookmarks) {
      void (async () => {
        for (;;) {
          await this.#clock.sleep(this.#bookmarkIntervalMs, ac.signal);
          bookmark();
        }
      })().catch(() => {});
    }
    return { status: 200, headers: { "content-type": CONTENT.json }, body: stream };
  }
}

function parsePatchObject(text: string): Record<string, unknown> {
  let patch: unknown;
  try {
    patch = JSON.parse(text);
  } catch {
    throw newBadRequest("invalid JSON patch");
  }
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
    throw newBadRequest("invalid JSON patch");
  }
  return patch as Record<string, unknown>;
}

/** A response body over a whole string or a watch stream; the signal ends a stream. */
function responseBody(
  body: string | AsyncIterable<Uint8Array>,
  signal: AbortSignal | undefined,
): ResponseBody {
  if (typeof body === "string") {
    const bytes = Buffer.from(body, "utf8");
    return {
      async *[Symbol.asyncIterator]() {
        yield bytes;
      },
      bytes: async () => bytes,
      text: async () => body,
      dump: async () => {},
    };
  }
  const it = body[Symbol.asyncIterator]();
  const iterate = async function* (): AsyncGenerator<Uint8Array> {
    const onAbort = () => void it.return?.();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        const next = await it.next();
        if (next.done) return;
        if (signal?.aborted) throw signal.reason;
        yield next.value;
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      await it.return?.();
    }
  };
  const read = async () => {
    const parts: Uint8Array[] = [];
    for await (const c of iterate()) parts.push(c);
    return Buffer.concat(parts);
  };
  return {
    [Symbol.asyncIterator]: iterate,
    bytes: read,
    text: async () => (await read()).toString("utf8"),
    dump: async () => {
      await it.return?.();
    },
  };
}
