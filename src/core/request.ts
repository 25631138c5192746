/**
 * Request descriptions: everything about an API request except where it is sent and how. A pure
 * function turns a verb, a resource, a namespace, a name and options into `{method, path, query,
 * headers, body}`; the transport adds the server's URL and base path, credentials and retries.
 *
 * All validation happens here, before any I/O, and fails with a `RequestBuildError` naming the value
 * (`namespace`, `name`, `options.limit`, ...) and the reason. It rejects only what the API server
 * could never accept: names are held to the rules every URL path segment obeys, because which
 * further rules apply depends on the resource type and only the server knows them.
 */
import { RequestBuildError } from "./errors.ts";
import {
  type CreateOptions,
  type DeleteCollectionOptions,
  type DeleteOptions,
  encodeCreateOptions,
  encodeDeleteCollectionOptions,
  encodeDeleteOptions,
  encodeGetOptions,
  encodeListOptions,
  encodePatchOptions,
  encodeUpdateOptions,
  encodeWatchOptions,
  type GetOptions,
  type ListOptions,
  type PatchOptions,
  PatchType,
  type QueryParams,
  type UpdateOptions,
  type WatchOptions,
} from "./options.ts";
import { checkResourceRef, type ResourceRef, type Verb, verbs } from "./resource.ts";
import {
  compareCodePoints,
  encodePathSegment,
  validateDNS1123Label,
  validatePathSegmentName,
} from "./validation.ts";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** The HTTP method of each verb. A watch is a GET on the collection with `watch=true`. */
export const verbMethods: Readonly<Record<Verb, HttpMethod>> = Object.freeze({
  get: "GET",
  list: "GET",
  watch: "GET",
  create: "POST",
  update: "PUT",
  patch: "PATCH",
  delete: "DELETE",
  deletecollection: "DELETE",
});

/** A serialized body; the client layer encodes objects (JSON, or CBOR where negotiated). */
export type RequestBody = string | Uint8Array;

/** What every request names: the resource, and where in it. */
export interface RequestTarget {
  /** A descriptor, or just `{group, version, plural, namespaced}` for dynamic callers. */
  resource: ResourceRef;
  /**
   * Required for every verb on a namespaced resource except list and watch, which without one span
   * all namespaces. `""` means no namespace, as `metav1.NamespaceAll` does. Cluster-scoped resources
   * take none.
   */
  namespace?: string;
  /** The object's name: required for get, update, patch and delete; absent for collection verbs. */
  name?: string;
  /** A subresource of the named object, e.g. `status`, `scale`, `eviction`, `log`. */
  subresource?: string;
  /**
   * Extra query parameters for subresources that define their own (`pods/log`: `container`,
   * `follow`, ...). A name the options also set is an error.
   */
  params?: readonly (readonly [string, string])[];
  /** The Accept header; default `application/json`. */
  accept?: string;
}

interface Body {
  body: RequestBody;
}

export type RequestInput =
  | (RequestTarget & { verb: "get"; options?: GetOptions })
  | (RequestTarget & { verb: "list"; options?: ListOptions })
  | (RequestTarget & { verb: "watch"; options?: WatchOptions })
  | (RequestTarget & Body & { verb: "create"; options?: CreateOptions; contentType?: string })
  | (RequestTarget & Body & { verb: "update"; options?: UpdateOptions; contentType?: string })
  | (RequestTarget & Body & { verb: "patch"; options?: PatchOptions; contentType: PatchType })
  | (RequestTarget & { verb: "delete"; options?: DeleteOptions })
  | (RequestTarget & { verb: "deletecollection"; options?: DeleteCollectionOptions });

export interface RequestDescription {
  readonly verb: Verb;
  readonly method: HttpMethod;
  /**
   * The API path with every segment percent-encoded, e.g. `/apis/apps/v1/namespaces/a/deployments/b`.
   * The transport prefixes the server's base path, if its URL has one.
   */
  readonly path: string;
  /** Sorted by name (stably), as client-go's `url.Values.Encode` sorts them. */
  readonly query: URLSearchParams;
  /** `accept`, and `content-type` when there is a body, with lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: RequestBody | undefined;
  readonly contentType: string | undefined;
  readonly accept: string;
}

const defaultAccept = "application/json";
const defaultContentType = "application/json";

/** Verbs that address one object by name. */
const namedVerbs: ReadonlySet<Verb> = new Set(["get", "update", "patch", "delete"]);
/** Verbs that address the collection and take no name. */
const collectionVerbs: ReadonlySet<Verb> = new Set(["list", "watch", "deletecollection"]);

/**
 * Builds the description of one API request. Throws a `RequestBuildError` for anything the server
 * could never accept: an unknown verb, a malformed resource, a namespace on a cluster-scoped
 * resource or a missing one where it is needed, an invalid namespace or name, a name where the verb
 * addresses the collection (or none where it addresses an object), a missing or unexpected body,
 * and any invalid option.
 */
export function buildRequest(input: RequestInput): RequestDescription {
  if (typeof input !== "object" || input === null) {
    throw new RequestBuildError("request", "must be an object");
  }
  const verb = input.verb;
  if (!verbs.includes(verb)) {
    throw new RequestBuildError(
      "verb",
      `must be one of ${verbs.join(", ")}, not ${JSON.stringify(verb)}`,
    );
  }
  const path = resourcePath(input, verb);

  let query: QueryParams;
  let body: RequestBody | undefined;
  let contentType: string | undefined;
  const raw = input as RequestInput & { body?: unknown; contentType?: unknown };
  switch (input.verb) {
    case "get":
      query = encodeGetOptions(input.options);
      break;
    case "list":
      query = encodeListOptions(input.options);
      break;
    case "watch":
      query = encodeWatchOptions(input.options);
      break;
    case "create":
      query = encodeCreateOptions(input.options);
      contentType = headerValue(input.contentType, "contentType") ?? defaultContentType;
      body = requestBody(input.body);
      break;
    case "update":
      query = encodeUpdateOptions(input.options);
      contentType = headerValue(input.contentType, "contentType") ?? defaultContentType;
      body = requestBody(input.body);
      break;
    case "patch": {
      const type = input.contentType as unknown;
      if (typeof type !== "string") {
        throw new RequestBuildError(
          "contentType",
          `a patch needs its patch type as content type, one of ${Object.values(PatchType).join(", ")}`,
        );
      }
      query = encodePatchOptions(input.options, type as PatchType);
      contentType = type;
      body = requestBody(input.body);
      break;
    }
    case "delete":
      query = [];
      contentType = defaultContentType;
      body = encodeDeleteOptions(input.options);
      break;
    case "deletecollection": {
      const encoded = encodeDeleteCollectionOptions(input.options);
      query = encoded.query;
      contentType = defaultContentType;
      body = encoded.body;
      break;
    }
  }
  if (body === undefined) {
    if (raw.body !== undefined) {
      throw new RequestBuildError("body", `${verb} sends no body`);
    }
    if (raw.contentType !== undefined) {
      throw new RequestBuildError("contentType", `${verb} sends no body, so takes no content type`);
    }
  } else if (verb === "delete" || verb === "deletecollection") {
    if (raw.body !== undefined || raw.contentType !== undefined) {
      throw new RequestBuildError(
        raw.body !== undefined ? "body" : "contentType",
        `${verb} sends its options as the body; set options instead`,
      );
    }
  }

  query = [...query, ...extraParams(input.params, query)];
  // Sort by name only; the sort is stable, so repeated names keep their order.
  query.sort((a, b) => compareCodePoints(a[0], b[0]));

  const accept = headerValue(input.accept, "accept") ?? defaultAccept;
  const headers: Record<string, string> = { accept };
  if (contentType !== undefined) headers["content-type"] = contentType;
  return Object.freeze({
    verb,
    method: verbMethods[verb],
    path,
    query: new URLSearchParams(query),
    headers: Object.freeze(headers),
    body,
    contentType,
    accept,
  });
}

/**
 * The validated, percent-encoded path of a target: `/api/v1/namespaces/a/pods/b/status` or
 * `/apis/apps/v1/deployments`. With `verb`, also checks that the verb fits the target: a name only
 * and always where it addresses one object, a namespace wherever a namespaced resource needs one.
 * Without it, checks the segments only, for callers building other requests (streams, proxies).
 */
export function resourcePath(target: RequestTarget, verb?: Verb): string {
  checkResourceRef(target.resource, "resource");
  const { group, version, plural, namespaced } = target.resource;
  const { name, subresource } = target;
  const namespace = target.namespace === "" ? undefined : target.namespace;

  if (namespace !== undefined) {
    if (typeof namespace !== "string") throw new RequestBuildError("namespace", "must be a string");
    if (!namespaced) {
      throw new RequestBuildError(
        "namespace",
        `${JSON.stringify(plural)} is cluster-scoped and takes no namespace (got ${JSON.stringify(namespace)})`,
      );
    }
    const errs = validateDNS1123Label(namespace);
    if (errs.length > 0) {
      throw new RequestBuildError("namespace", `${JSON.stringify(namespace)} ${errs.join("; ")}`);
    }
  }
  if (name !== undefined) checkSegment(name, "name");
  if (subresource !== undefined) checkSegment(subresource, "subresource");

  if (verb !== undefined) {
    if (namespaced && namespace === undefined && verb !== "list" && verb !== "watch") {
      throw new RequestBuildError(
        "namespace",
        `is required to ${verb} ${JSON.stringify(plural)}, which is namespaced; only list and watch span all namespaces`,
      );
    }
    if (collectionVerbs.has(verb)) {
      if (name !== undefined) {
        throw new RequestBuildError(
          "name",
          `${verb} addresses the whole collection and takes no name; to select one object, use the field selector metadata.name=${name}`,
        );
      }
      if (subresource !== undefined) {
        throw new RequestBuildError(
          "subresource",
          `${verb} addresses the collection, which has no subresources`,
        );
      }
    } else if (namedVerbs.has(verb) && name === undefined) {
      throw new RequestBuildError("name", `is required to ${verb} an object`);
    } else if (verb === "create") {
      if (subresource === undefined && name !== undefined) {
        throw new RequestBuildError(
          "name",
          "create posts to the collection and takes no name; the name goes in the object's metadata",
        );
      }
      if (subresource !== undefined && name === undefined) {
        throw new RequestBuildError(
          "name",
          `is required to create the ${subresource} subresource of an object`,
        );
      }
    }
  }
  if (subresource !== undefined && name === undefined) {
    throw new RequestBuildError("subresource", "needs a name: subresources belong to one object");
  }

  const segments = group === "" ? ["api", version] : ["apis", group, version];
  if (namespace !== undefined) segments.push("namespaces", namespace);
  segments.push(plural);
  if (name !== undefined) segments.push(name);
  if (subresource !== undefined) segments.push(subresource);
  return `/${segments.map((s) => encodePathSegment(s)).join("/")}`;
}

function checkSegment(value: unknown, field: string): asserts value is string {
  if (typeof value !== "string") throw new RequestBuildError(field, "must be a string");
  const errs = validatePathSegmentName(value);
  if (errs.length > 0) {
    throw new RequestBuildError(field, `${JSON.stringify(value)} ${errs.join("; ")}`);
  }
  if (encodePathSegment(value) === undefined) {
    throw new RequestBuildError(field, `${JSON.stringify(value)} is not well-formed Unicode`);
  }
}

function requestBody(body: unknown): RequestBody {
  if (body === undefined) throw new RequestBuildError("body", "is required");
  if (typeof body !== "string" && !(body instanceof Uint8Array)) {
    throw new RequestBuildError(
      "body",
      "must be a string or a Uint8Array; serialize the object first (e.g. JSON.stringify)",
    );
  }
  if (body.length === 0) throw new RequestBuildError("body", "must not be empty");
  return body;
}

/** A header value given by the caller: a non-empty string with no line breaks or NULs. */
function headerValue(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.trim() === "") {
    throw new RequestBuildError(field, "must be a non-empty string");
  }
  if (/[\r\n\0]/.test(value)) {
    throw new RequestBuildError(field, "must not contain line breaks or NUL characters");
  }
  return value;
}

function extraParams(params: unknown, fromOptions: QueryParams): QueryParams {
  if (params === undefined) return [];
  if (!Array.isArray(params)) {
    throw new RequestBuildError("params", "must be an array of [name, value] pairs");
  }
  const taken = new Set(fromOptions.map(([k]) => k));
  return params.map((p, i) => {
    if (
      !Array.isArray(p) ||
      p.length !== 2 ||
      typeof p[0] !== "string" ||
      typeof p[1] !== "string"
    ) {
      throw new RequestBuildError(`params[${i}]`, "must be a [name, value] pair of strings");
    }
    if (p[0] === "") throw new RequestBuildError(`params[${i}]`, "the name must not be empty");
    if (taken.has(p[0])) {
      throw new RequestBuildError(
        `params[${i}]`,
        `${JSON.stringify(p[0])} is already set from the options; set it there`,
      );
    }
    return [p[0], p[1]];
  });
}

/** The path with its query string, as it goes after the server's base URL. */
export function pathAndQuery(req: Pick<RequestDescription, "path" | "query">): string {
  const q = req.query.toString();
  return q === "" ? req.path : `${req.path}?${q}`;
}
