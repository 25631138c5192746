/**
 * The typed options of each verb and their wire encoding. List, watch, get, create, update and
 * patch options become query parameters with the names the API server takes; delete options become
 * a meta/v1 DeleteOptions JSON body, as client-go sends them.
 *
 * Every encoder validates first and throws a `RequestBuildError` naming `options.<field>` for a value
 * the server could never accept, including a known option given to a verb it does not apply to
 * (`limit` on a watch). Keys this layer does not know, such as a call's `signal`, are ignored, so a
 * client may pass its call options through unchanged. An option set to `undefined` is absent.
 */
import { RequestBuildError } from "./errors.ts";
import {
  type FieldSelectorInput,
  formatFieldSelector,
  formatLabelSelector,
  type LabelSelectorInput,
} from "./selectors.ts";
import { utf8Length } from "./validation.ts";

/** `All` is the only dry-run mode the API defines. */
export type DryRun = "All";
export type FieldValidation = "Ignore" | "Warn" | "Strict";
export type PropagationPolicy = "Orphan" | "Background" | "Foreground";
export type ResourceVersionMatch = "Exact" | "NotOlderThan";

/** The content type of a patch body selects the patch strategy. */
export const PatchType = Object.freeze({
  /** RFC 6902 JSON Patch: a list of operations. */
  json: "application/json-patch+json",
  /** RFC 7386 JSON Merge Patch. */
  merge: "application/merge-patch+json",
  /** Kubernetes' strategic merge patch (built-in types only, not CRDs). */
  strategicMerge: "application/strategic-merge-patch+json",
  /** Server-side apply; the body is YAML or JSON (JSON is YAML). */
  apply: "application/apply-patch+yaml",
  /** Server-side apply with a CBOR body, on servers that serve CBOR. */
  applyCbor: "application/apply-patch+cbor",
} as const);
export type PatchType = (typeof PatchType)[keyof typeof PatchType];

const patchTypes: ReadonlySet<string> = new Set(Object.values(PatchType));

export function isApplyPatch(type: string): boolean {
  return type === PatchType.apply || type === PatchType.applyCbor;
}

/** Selector options shared by list, watch and deletecollection. */
export interface SelectorOptions {
  /** A label selector string, object or parsed selector; see selectors.ts. */
  labelSelector?: LabelSelectorInput;
  fieldSelector?: FieldSelectorInput;
}

export interface ListOptions extends SelectorOptions {
  /** At most this many items per page (0 or absent: no limit); continue with `continue`. */
  limit?: number;
  /** The `metadata.continue` token of the previous page. */
  continue?: string;
  /**
   * Absent: the latest state, read from etcd. `"0"`: any state the server has cached. Other values
   * are interpreted according to `resourceVersionMatch`.
   */
  resourceVersion?: string;
  resourceVersionMatch?: ResourceVersionMatch;
  timeoutSeconds?: number;
}

export interface WatchOptions extends SelectorOptions {
  /** Start after this version; absent or `"0"` starts with synthetic ADDED events for the current state. */
  resourceVersion?: string;
  /** Only with `sendInitialEvents`, and then only `NotOlderThan`. */
  resourceVersionMatch?: "NotOlderThan";
  /** The server ends the watch after this many seconds. */
  timeoutSeconds?: number;
  allowWatchBookmarks?: boolean;
  /**
   * Streaming list: send the current state as ADDED events, then a bookmark annotated
   * `k8s.io/initial-events-end`. Requires `resourceVersionMatch: "NotOlderThan"`.
   */
  sendInitialEvents?: boolean;
}

/** List and watch options together, for callers such as a reflector that build both from one object. */
export type ListWatchOptions = ListOptions & WatchOptions;

export interface GetOptions {
  /** Absent: the latest state; `"0"`: any cached state. */
  resourceVersion?: string;
}

interface WriteOptions {
  dryRun?: DryRun;
  /** Who makes the change, for managed fields: at most 128 bytes, printable characters only. */
  fieldManager?: string;
  fieldValidation?: FieldValidation;
}

export type CreateOptions = WriteOptions;
export type UpdateOptions = WriteOptions;

export interface PatchOptions extends WriteOptions {
  /** Apply patches only: take ownership of fields other managers own instead of failing. */
  force?: boolean;
}

export interface Preconditions {
  uid?: string;
  resourceVersion?: string;
}

export interface DeleteOptions {
  /** Seconds before the object is deleted; 0 deletes at once. Absent: the type's default. */
  gracePeriodSeconds?: number;
  propagationPolicy?: PropagationPolicy;
  /** Delete only if the object still has this uid and/or resourceVersion. */
  preconditions?: Preconditions;
  dryRun?: DryRun;
  /** Delete an object the server cannot decrypt or decode. Needs a separate permission; dangerous. */
  ignoreStoreReadErrorWithClusterBreakingPotential?: boolean;
}

export type DeleteCollectionOptions = DeleteOptions & ListOptions;

/** Query parameters as name/value pairs. */
export type QueryParams = [name: string, value: string][];

type Options = Readonly<Record<string, unknown>>;

const listKeys = [
  "labelSelector",
  "fieldSelector",
  "limit",
  "continue",
  "resourceVersion",
  "resourceVersionMatch",
  "timeoutSeconds",
] as const;
const watchKeys = [
  "labelSelector",
  "fieldSelector",
  "resourceVersion",
  "resourceVersionMatch",
  "timeoutSeconds",
  "allowWatchBookmarks",
  "sendInitialEvents",
] as const;
const writeKeys = ["dryRun", "fieldManager", "fieldValidation"] as const;
const deleteKeys = [
  "gracePeriodSeconds",
  "propagationPolicy",
  "preconditions",
  "dryRun",
  "ignoreStoreReadErrorWithClusterBreakingPotential",
] as const;

/** Every option key some verb takes; one of these given to a verb that does not take it is an error. */
const knownKeys: ReadonlySet<string> = new Set<string>([
  ...listKeys,
  ...watchKeys,
  ...writeKeys,
  ...deleteKeys,
  "force",
]);

const onlyFor: Readonly<Record<string, string>> = {
  limit: "list and deletecollection",
  continue: "list and deletecollection",
  allowWatchBookmarks: "watch",
  sendInitialEvents: "watch",
  force: "apply patches",
  fieldManager: "create, update and patch",
  fieldValidation: "create, update and patch",
  gracePeriodSeconds: "delete and deletecollection",
  propagationPolicy: "delete and deletecollection",
  preconditions: "delete and deletecollection",
  ignoreStoreReadErrorWithClusterBreakingPotential: "delete and deletecollection",
};

/**
 * Whether an option holds its zero value, which the API treats as not set: the empty string, and
 * for the two options that are plain values rather than pointers in Go, `limit: 0` and
 * `allowWatchBookmarks: false`. (`false` for `force` or `sendInitialEvents` is a real value.)
 */
function unset(key: string, value: unknown): boolean {
  return (
    value === undefined ||
    value === "" ||
    (key === "limit" && value === 0) ||
    (key === "allowWatchBookmarks" && value === false)
  );
}

/** Returns the options as a record after rejecting known keys the verb does not take. */
function accept(
  options: unknown,
  allowed: readonly string[],
  what: string,
  field: string,
): Options {
  if (options === undefined || options === null) return {};
  if (typeof options !== "object" || Array.isArray(options)) {
    throw new RequestBuildError(field, "must be an object");
  }
  for (const [key, value] of Object.entries(options)) {
    if (unset(key, value) || !knownKeys.has(key) || allowed.includes(key)) continue;
    const hint = onlyFor[key] ? `; it applies to ${onlyFor[key]}` : "";
    throw new RequestBuildError(`${field}.${key}`, `does not apply to ${what}${hint}`);
  }
  return options as Options;
}

function str(o: Options, key: string, field: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw new RequestBuildError(`${field}.${key}`, "must be a string");
  return v;
}

function bool(o: Options, key: string, field: string): boolean | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== "boolean")
    throw new RequestBuildError(`${field}.${key}`, "must be true or false");
  return v;
}

function nonNegativeInt(o: Options, key: string, field: string, note = ""): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    throw new RequestBuildError(
      `${field}.${key}`,
      `must be a non-negative integer, not ${typeof v === "number" ? v : typeof v}${note}`,
    );
  }
  return v;
}

function oneOf<T extends string>(
  o: Options,
  key: string,
  values: readonly T[],
  field: string,
): T | undefined {
  const v = o[key];
  if (v === undefined || v === "") return undefined;
  if (typeof v !== "string" || !(values as readonly string[]).includes(v)) {
    throw new RequestBuildError(
      `${field}.${key}`,
      `must be ${values.map((x) => `"${x}"`).join(" or ")}, not ${JSON.stringify(v) ?? typeof v}`,
    );
  }
  return v as T;
}

function selectors(o: Options, field: string, out: QueryParams): void {
  if (o.labelSelector !== undefined) {
    const input = o.labelSelector as LabelSelectorInput;
    const s = formatOrPass(input, `${field}.labelSelector`, formatLabelSelector);
    if (s !== "") out.push(["labelSelector", s]);
  }
  if (o.fieldSelector !== undefined) {
    const input = o.fieldSelector as FieldSelectorInput;
    const s = formatOrPass(input, `${field}.fieldSelector`, formatFieldSelector);
    if (s !== "") out.push(["fieldSelector", s]);
  }
}

/**
 * A selector string is validated and then sent as written (as client-go sends it); objects and
 * parsed selectors are sent in canonical form.
 */
function formatOrPass<I>(input: I, field: string, format: (i: I, field: string) => string): string {
  const canonical = format(input, field);
  return typeof input === "string" ? input : canonical;
}

function resourceVersionMatch(
  o: Options,
  field: string,
  values: readonly ResourceVersionMatch[],
): ResourceVersionMatch | undefined {
  return oneOf(o, "resourceVersionMatch", values, field);
}

/**
 * Encodes list options, with the API server's checks: `resourceVersionMatch` needs a
 * `resourceVersion`, is not allowed with `continue`, and `Exact` cannot ask for version `"0"`;
 * `continue` cannot be combined with a `resourceVersion` other than `"0"`.
 */
export function encodeListOptions(
  options: ListOptions | undefined,
  field = "options",
): QueryParams {
  const o = accept(options, listKeys, "list", field);
  return listParams(o, field);
}

function listParams(o: Options, field: string): QueryParams {
  const out: QueryParams = [];
  selectors(o, field, out);
  const limit = nonNegativeInt(o, "limit", field);
  const cont = str(o, "continue", field);
  const rv = str(o, "resourceVersion", field);
  const match = resourceVersionMatch(o, field, ["Exact", "NotOlderThan"]);
  const timeout = nonNegativeInt(o, "timeoutSeconds", field);
  if (match !== undefined) {
    if (!rv) {
      throw new RequestBuildError(
        `${field}.resourceVersionMatch`,
        "needs resourceVersion to be set",
      );
    }
    if (cont) {
      throw new RequestBuildError(
        `${field}.resourceVersionMatch`,
        "cannot be combined with continue",
      );
    }
    if (match === "Exact" && rv === "0") {
      throw new RequestBuildError(
        `${field}.resourceVersionMatch`,
        '"Exact" cannot be used with resourceVersion "0"; use "NotOlderThan" or a real version',
      );
    }
  }
  if (cont && rv && rv !== "0") {
    throw new RequestBuildError(
      `${field}.resourceVersion`,
      "cannot be combined with continue: the continue token fixes the version of every page",
    );
  }
  if (limit) out.push(["limit", String(limit)]);
  if (cont) out.push(["continue", cont]);
  if (rv) out.push(["resourceVersion", rv]);
  if (match) out.push(["resourceVersionMatch", match]);
  if (timeout !== undefined) out.push(["timeoutSeconds", String(timeout)]);
  return out;
}

/**
 * Encodes watch options, `watch=true` included, with the API server's checks: `sendInitialEvents`
 * requires `resourceVersionMatch: "NotOlderThan"`, and `resourceVersionMatch` is allowed on a watch
 * only together with `sendInitialEvents`.
 */
export function encodeWatchOptions(
  options: WatchOptions | undefined,
  field = "options",
): QueryParams {
  const o = accept(options, watchKeys, "watch", field);
  const out: QueryParams = [["watch", "true"]];
  selectors(o, field, out);
  const rv = str(o, "resourceVersion", field);
  const match = resourceVersionMatch(o, field, ["NotOlderThan"]);
  const timeout = nonNegativeInt(o, "timeoutSeconds", field);
  const bookmarks = bool(o, "allowWatchBookmarks", field);
  const initial = bool(o, "sendInitialEvents", field);
  if (initial !== undefined && match !== "NotOlderThan") {
    throw new RequestBuildError(
      `${field}.resourceVersionMatch`,
      'must be "NotOlderThan" when sendInitialEvents is set',
    );
  }
  if (match !== undefined && initial === undefined) {
    throw new RequestBuildError(
      `${field}.resourceVersionMatch`,
      "applies to a watch only together with sendInitialEvents",
    );
  }
  if (rv) out.push(["resourceVersion", rv]);
  if (match) out.push(["resourceVersionMatch", match]);
  if (timeout !== undefined) out.push(["timeoutSeconds", String(timeout)]);
  if (bookmarks) out.push(["allowWatchBookmarks", "true"]);
  if (initial !== undefined) out.push(["sendInitialEvents", String(initial)]);
  return out;
}

export function encodeGetOptions(options: GetOptions | undefined, field = "options"): QueryParams {
  const o = accept(options, ["resourceVersion"], "get", field);
  const rv = str(o, "resourceVersion", field);
  return rv ? [["resourceVersion", rv]] : [];
}

function writeParams(o: Options, field: string): QueryParams {
  const out: QueryParams = [];
  const dryRun = oneOf(o, "dryRun", ["All"] as const, field);
  const manager = str(o, "fieldManager", field);
  const validation = oneOf(o, "fieldValidation", ["Ignore", "Warn", "Strict"] as const, field);
  if (manager !== undefined) checkFieldManager(manager, `${field}.fieldManager`);
  if (dryRun) out.push(["dryRun", dryRun]);
  if (manager) out.push(["fieldManager", manager]);
  if (validation) out.push(["fieldValidation", validation]);
  return out;
}

/** The API server's rule for a field manager: at most 128 bytes, every character printable. */
function checkFieldManager(manager: string, field: string): void {
  if (utf8Length(manager) > 128) {
    throw new RequestBuildError(field, "must be no more than 128 bytes");
  }
  // Printable as Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols, ASCII space.
  const bad = /[^\p{L}\p{M}\p{N}\p{P}\p{S} ]/u.exec(manager);
  if (bad) {
    const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
    throw new RequestBuildError(
      field,
      `must be printable; U+${code} at offset ${bad.index} is not`,
    );
  }
}

export function encodeCreateOptions(
  options: CreateOptions | undefined,
  field = "options",
): QueryParams {
  return writeParams(accept(options, writeKeys, "create", field), field);
}

export function encodeUpdateOptions(
  options: UpdateOptions | undefined,
  field = "options",
): QueryParams {
  return writeParams(accept(options, writeKeys, "update", field), field);
}

/**
 * Encodes patch options for a patch of the given content type: `force` applies to apply patches
 * only, and apply patches require a `fieldManager`.
 */
export function encodePatchOptions(
  options: PatchOptions | undefined,
  patchType: PatchType,
  field = "options",
): QueryParams {
  if (!patchTypes.has(patchType)) {
    throw new RequestBuildError(
      "contentType",
      `${JSON.stringify(patchType)} is not a patch type; use one of ${[...patchTypes].join(", ")}`,
    );
  }
  const apply = isApplyPatch(patchType);
  const o = accept(
    options,
    apply ? [...writeKeys, "force"] : writeKeys,
    `a patch of type ${patchType}`,
    field,
  );
  const out = writeParams(o, field);
  const force = bool(o, "force", field);
  if (apply && !o.fieldManager) {
    throw new RequestBuildError(`${field}.fieldManager`, "is required for apply patches");
  }
  if (force !== undefined) out.push(["force", String(force)]);
  return out;
}

/**
 * Encodes delete options as the meta/v1 DeleteOptions JSON body client-go sends:
 * `{"kind":"DeleteOptions","apiVersion":"v1",...}` (the server reads that version for every group).
 */
export function encodeDeleteOptions(options: DeleteOptions | undefined, field = "options"): string {
  return deleteBody(accept(options, deleteKeys, "delete", field), field);
}

function deleteBody(o: Options, field: string): string {
  const body: Record<string, unknown> = { kind: "DeleteOptions", apiVersion: "v1" };
  const grace = nonNegativeInt(
    o,
    "gracePeriodSeconds",
    field,
    " (the server would quietly use 1 for a negative value)",
  );
  const policy = oneOf(
    o,
    "propagationPolicy",
    ["Orphan", "Background", "Foreground"] as const,
    field,
  );
  const dryRun = oneOf(o, "dryRun", ["All"] as const, field);
  const ignoreReadErrors = bool(o, "ignoreStoreReadErrorWithClusterBreakingPotential", field);
  if (ignoreReadErrors) {
    const clash = ["gracePeriodSeconds", "propagationPolicy", "preconditions"].find(
      (k) => o[k] !== undefined && o[k] !== "",
    );
    if (clash) {
      throw new RequestBuildError(
        `${field}.ignoreStoreReadErrorWithClusterBreakingPotential`,
        `cannot be combined with ${clash}`,
      );
    }
  }
  if (grace !== undefined) body.gracePeriodSeconds = grace;
  if (o.preconditions !== undefined) {
    const where = `${field}.preconditions`;
    if (typeof o.preconditions !== "object" || o.preconditions === null) {
      throw new RequestBuildError(where, "must be an object {uid?, resourceVersion?}");
    }
    const p = o.preconditions as Options;
    const uid = str(p, "uid", where);
    const rv = str(p, "resourceVersion", where);
    const pre: Record<string, string> = {};
    if (uid !== undefined) pre.uid = uid;
    if (rv !== undefined) pre.resourceVersion = rv;
    body.preconditions = pre;
  }
  if (policy) body.propagationPolicy = policy;
  if (dryRun) body.dryRun = [dryRun];
  if (ignoreReadErrors !== undefined) {
    body.ignoreStoreReadErrorWithClusterBreakingPotential = ignoreReadErrors;
  }
  return JSON.stringify(body);
}

/** Deletecollection takes list options as query parameters and delete options as the body. */
export function encodeDeleteCollectionOptions(
  options: DeleteCollectionOptions | undefined,
  field = "options",
): { query: QueryParams; body: string } {
  const o = accept(options, [...listKeys, ...deleteKeys], "deletecollection", field);
  return { query: listParams(o, field), body: deleteBody(o, field) };
}
