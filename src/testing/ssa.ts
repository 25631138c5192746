/**
 * Server-side apply and field management for the in-memory API server: what kube-apiserver's
 * fieldmanager (structured-merge-diff) does to an object and its `metadata.managedFields` on an
 * apply, and on every other write that names a field manager.
 *
 * The schema of the kind decides what is atomic, keyed, a set or granular: the built-in kinds of
 * kube-apiserver v1.37 come with kubekit (ssa-schema.generated.ts); for a custom resource pass
 * the CRD version's `openAPIV3Schema` (or, failing that, a `PatchMeta`, an approximation); a kind
 * with neither is deduced as the server deduces it (maps granular, lists atomic).
 *
 * What these functions do not do, because the server does it elsewhere: defaulting, admission,
 * validation of the result, the strategy's own resets (status on the main resource, spec on
 * /status), allocations (a Service's cluster IP), resourceVersion, uid, generation and
 * timestamps. The field manager runs between decoding (with defaults) and all of those, so the
 * fields they set belong to nobody: give `recordUpdate` the object before them, and apply them to
 * what `serverSideApply` returns.
 *
 * A stored object carries its `metadata.uid`: without one, `live` counts as not yet created.
 */

import { jsonClone } from "../apply/json.ts";
import type { PatchMeta } from "../apply/patchmeta.ts";
import type { KubernetesObject } from "../core/meta.ts";
import {
  badRequest,
  decodeManagedFields,
  type Endpoint,
  encodeManagedFields,
  fieldManagerApply,
  fieldManagerUpdate,
  gvkString,
  type Managed,
  type ManagedFieldsEntryJson,
  normalizeTime,
  resetFilter,
  scaleToParent,
  scaleToSubresource,
  validateApplyManager,
} from "./fieldmanager.ts";
import {
  compareGoStrings,
  fieldElement,
  isJsonObject,
  valuesEqual,
} from "./fieldmanager-fieldpath.ts";
import type { Typed } from "./fieldmanager-typed.ts";
import {
  builtinKind,
  DEDUCED_ROOT,
  DEDUCED_SCHEMA,
  schemaFromCrd,
  schemaFromPatchMeta,
  zeroObject,
} from "./ssa-schema.ts";

export interface FieldManagementContext {
  /** The field manager (`fieldManager` option, or the server's default from the User-Agent). */
  manager: string;
  /** `metadata.managedFields[].time`: the write's time as RFC 3339 (seconds). */
  now: string;
  /** The subresource written ("status", "scale"), or undefined for the main resource. */
  subresource?: string | undefined;
  /**
   * List and map semantics of the kind (x-kubernetes-list-type / list-map-keys / map-type, and
   * patch merge keys for built-ins); undefined for kinds without a schema (lists are atomic).
   * Built-in kinds need none (kubekit has their full schema); for a custom resource
   * `openAPIV3Schema` is exact where this is an approximation.
   */
  patchMeta?: PatchMeta | undefined;
  /**
   * A custom resource's schema: the CRD version's `schema.openAPIV3Schema`, as the CRD handler
   * gives it to the field manager. Wins over `patchMeta`.
   */
  openAPIV3Schema?: unknown;
  /**
   * A custom resource's CRD version has the status subresource: then the main resource does not
   * track `status`, and /status tracks nothing but it (built-in kinds are known).
   */
  statusSubresource?: boolean | undefined;
  /**
   * /scale of a custom resource: the CRD's `specReplicasPath` (`.spec.replicas` by default, and
   * for every built-in kind with /scale).
   */
  specReplicasPath?: string | undefined;
  /**
   * The kind the endpoint serves, as `apiVersion` + `kind`; by default the live object's (else,
   * for a create, the written object's). For /scale, the parent's.
   */
  kind?: { apiVersion: string; kind: string } | undefined;
}

export interface ApplyInput extends FieldManagementContext {
  /** The live object, or undefined when the apply creates it. */
  live: KubernetesObject | undefined;
  /** The applied configuration, as the client sent it (parsed YAML or JSON). */
  applied: KubernetesObject;
  /** `force=true`: take over conflicting fields instead of failing. */
  force: boolean;
  /** The name in the request's URL; by default the live object's (else the configuration's). */
  name?: string | undefined;
  /**
   * The namespace in the request's URL ("" for a cluster-scoped kind); by default the live
   * object's. A configuration without a namespace gets it.
   */
  namespace?: string | undefined;
}

export interface UpdateInput extends FieldManagementContext {
  /** The object before the write, or undefined for a create. */
  live: KubernetesObject | undefined;
  /**
   * The object the write produced (create, update, or any non-apply patch): decoded and
   * defaulted, before the strategy, admission and allocations change it. Its `managedFields` are
   * the request's (a patch's are the live ones, patched): a non-empty valid list replaces the
   * live one, `[]` resets it, anything else keeps the live one; subresource writes always keep the
   * live one. For /scale, the parent object with its new replicas.
   */
  updated: KubernetesObject;
}

type JsonObject = Record<string, unknown>;

/**
 * The object an apply produces, with `managedFields` updated (before defaulting and the
 * strategy); throws an `ApiError` with the server's Status when the real server would refuse it:
 * 422 for a missing or invalid field manager, 400 for a configuration of another kind, version,
 * name or namespace, 500 for one the schema rejects (unknown fields, duplicate keys, wrong types),
 * 409 Conflict with one cause per conflicting field.
 */
export function serverSideApply(input: ApplyInput): KubernetesObject {
  const invalidManager = validateApplyManager(input.manager);
  if (invalidManager) throw invalidManager;
  // JSON semantics: members holding undefined are absent.
  const applied = jsonClone(input.applied) as unknown;
  if (!isJsonObject(applied)) {
    throw badRequest(
      "error decoding patch: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type map[string]interface {}",
    );
  }
  const live = jsonClone(input.live) as JsonObject | undefined;
  const { apiVersion, kind } = input.kind ??
    kindOf(live) ??
    kindOf(applied) ?? { apiVersion: "", kind: "" };
  const subresource = input.subresource ?? "";
  const now = normalizeTime(input.now);
  if (subresource === "scale") return applyScale(input, live, applied, apiVersion, kind, now);

  // versionCheckManager: the configuration names the endpoint's kind.
  if (applied.apiVersion !== apiVersion || applied.kind !== kind) {
    throw badRequest(`invalid object type: ${gvkString(applied.apiVersion, applied.kind)}`);
  }
  const ep = endpoint(input, apiVersion, kind, subresource, now);
  const { object, managed } = fieldManagerApply(
    ep,
    live ?? {},
    applied,
    input.manager,
    input.force,
  );
  const out = (
    typedFor(input, apiVersion, kind).builtin ? dropNulls(object) : object
  ) as JsonObject;
  checkNamespaceAndName(out, input, live, applied);
  return finish(out, encodeFor(input, apiVersion, kind, managed), live);
}

/**
 * `updated` with `managedFields` recording `manager` as the owner (operation Update) of the
 * fields this write set or changed, as the real server records non-apply writes.
 */
export function recordUpdate(input: UpdateInput): KubernetesObject {
  const live = jsonClone(input.live) as JsonObject | undefined;
  const updated = jsonClone(input.updated) as unknown as JsonObject;
  const { apiVersion, kind } = input.kind ??
    kindOf(live) ??
    kindOf(updated) ?? { apiVersion: "", kind: "" };
  const subresource = input.subresource ?? "";
  const now = normalizeTime(input.now);
  if (subresource === "scale") return updateScale(input, live, updated, apiVersion, kind, now);
  const ep = endpoint(input, apiVersion, kind, subresource, now);
  const managed = decodeLiveOrNew(live, updated, subresource !== "");
  try {
    fieldManagerUpdate(ep, live ?? ep.zero, updated, managed, input.manager);
  } catch {
    // UpdateNoErrors: the write goes through with the managed fields it found.
    return withEntries(
      updated,
      metaOf(live)?.managedFields as ManagedFieldsEntryJson[] | undefined,
    );
  }
  return finish(updated, encodeFor(input, apiVersion, kind, managed), live);
}

// ---------------------------------------------------------------------------------------------

function kindOf(o: JsonObject | undefined): { apiVersion: string; kind: string } | undefined {
  return o && typeof o.apiVersion === "string" && typeof o.kind === "string"
    ? { apiVersion: o.apiVersion, kind: o.kind }
    : undefined;
}

function metaOf(o: JsonObject | undefined): JsonObject | undefined {
  return o && isJsonObject(o.metadata) ? o.metadata : undefined;
}

const crdSchemas = new WeakMap<object, Map<string, Typed>>();

/** The schema of the kind: the CRD schema given, the built-in table, the PatchMeta, or none. */
function typedFor(
  ctx: FieldManagementContext,
  apiVersion: string,
  kind: string,
): { typed: Typed; builtin: boolean } {
  const crd = ctx.openAPIV3Schema;
  if (typeof crd === "object" && crd !== null) {
    const byKind = crdSchemas.get(crd) ?? new Map<string, Typed>();
    crdSchemas.set(crd, byKind);
    const key = `${apiVersion}/${kind}`;
    const typed = byKind.get(key) ?? schemaFromCrd(crd, apiVersion, kind);
    byKind.set(key, typed);
    return { typed, builtin: false };
  }
  const builtin = builtinKind(apiVersion, kind);
  if (builtin) return { typed: builtin, builtin: true };
  if (ctx.patchMeta) return { typed: schemaFromPatchMeta(ctx.patchMeta), builtin: false };
  return { typed: { schema: DEDUCED_SCHEMA, root: DEDUCED_ROOT }, builtin: false };
}

function endpoint(
  ctx: FieldManagementContext,
  apiVersion: string,
  kind: string,
  subresource: string,
  now: string,
): Endpoint {
  const { typed, builtin } = typedFor(ctx, apiVersion, kind);
  return {
    typed,
    gv: apiVersion,
    subresource,
    filter: resetFilter(apiVersion, kind, subresource, builtin ? undefined : ctx.statusSubresource),
    zero: builtin
      ? zeroObject(typed.schema, typed.root, apiVersion, kind, true)
      : { apiVersion, kind },
    now,
  };
}

/**
 * The entries as the server serialises them for the kind: a built-in kind's in the Go struct's
 * field order, a custom resource's (an unstructured object) with every key sorted, FieldsV1 too.
 */
function encodeFor(
  ctx: FieldManagementContext,
  apiVersion: string,
  kind: string,
  managed: Managed,
): ManagedFieldsEntryJson[] | undefined {
  return orderFor(ctx, apiVersion, kind, encodeManagedFields(managed));
}

function orderFor(
  ctx: FieldManagementContext,
  apiVersion: string,
  kind: string,
  entries: ManagedFieldsEntryJson[] | undefined,
): ManagedFieldsEntryJson[] | undefined {
  if (!entries || typedFor(ctx, apiVersion, kind).builtin) return entries;
  return entries.map((e) => sortKeys(e) as ManagedFieldsEntryJson);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (!isJsonObject(v)) return v;
  const out: JsonObject = {};
  for (const k of Object.keys(v).sort(compareGoStrings)) out[k] = sortKeys(v[k]);
  return out;
}

/** `decodeLiveOrNew`: which managed fields an update starts from. */
function decodeLiveOrNew(
  live: JsonObject | undefined,
  updated: JsonObject,
  isSubresource: boolean,
): Managed {
  const fromLive = () => {
    try {
      return decodeManagedFields(metaOf(live)?.managedFields);
    } catch {
      return decodeManagedFields(undefined);
    }
  };
  if (isSubresource) return fromLive();
  const requested = metaOf(updated)?.managedFields;
  if (Array.isArray(requested)) {
    if (requested.length === 0) return decodeManagedFields(undefined);
    if (requested.length === 1 && isJsonObject(requested[0]) && isEmptyEntry(requested[0])) {
      return decodeManagedFields(undefined);
    }
  }
  try {
    const m = decodeManagedFields(requested);
    if (m.fields.size > 0) return m;
  } catch {
    // An invalid list from the request falls back to the live one.
  }
  return fromLive();
}

function isEmptyEntry(e: JsonObject): boolean {
  return Object.values(e).every((v) => v === undefined || v === "" || v === null);
}

function withEntries(
  o: JsonObject,
  entries: ManagedFieldsEntryJson[] | undefined,
): KubernetesObject {
  const { managedFields: _, ...meta } = metaOf(o) ?? {};
  const metadata = entries ? { ...meta, managedFields: entries } : meta;
  return { ...o, metadata } as KubernetesObject;
}

/**
 * The result with its managed fields encoded. When the write changed nothing but managers'
 * times, the old times stay (kube-apiserver's IgnoreManagedFieldsTimestampsTransformer), so the
 * write is a no-op.
 */
function finish(
  o: JsonObject,
  entries: ManagedFieldsEntryJson[] | undefined,
  live: JsonObject | undefined,
): KubernetesObject {
  const out = withEntries(o, entries) as unknown as JsonObject;
  const old = metaOf(live)?.managedFields;
  if (!live || !entries || !Array.isArray(old) || old.length !== entries.length)
    return out as KubernetesObject;
  const untimed = (e: unknown) => {
    const { time: _, ...rest } = (isJsonObject(e) ? e : {}) as JsonObject;
    return rest;
  };
  if (entries.every((e, i) => e.time === (old[i] as JsonObject | undefined)?.time))
    return out as KubernetesObject;
  if (!entries.every((e, i) => valuesEqual(untimed(e), untimed(old[i]))))
    return out as KubernetesObject;
  const comparable = (x: JsonObject) => {
    const { managedFields: _m, resourceVersion: _r, ...meta } = metaOf(x) ?? {};
    return { ...x, metadata: meta };
  };
  if (!valuesEqual(comparable(out), comparable(live))) return out as KubernetesObject;
  return withEntries(
    out,
    entries.map((e, i) => {
      const t = (old[i] as JsonObject).time;
      const { time: _, ...rest } = e;
      return typeof t === "string" ? ({ ...rest, time: t } as ManagedFieldsEntryJson) : rest;
    }),
  );
}

/**
 * Null members go for built-in kinds: the server stores the apply's result through its Go types.
 * A custom resource keeps them (a list or map the apply emptied comes out of the merge as null),
 * as the server does; its schema validation then refuses a null where the schema has no
 * `nullable: true`, which is the caller's to check.
 */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (!isJsonObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = dropNulls(x);
  return out;
}

/** The request handler's checks after the patch: namespace, then name. */
function checkNamespaceAndName(
  out: JsonObject,
  input: ApplyInput,
  live: JsonObject | undefined,
  applied: JsonObject,
): void {
  const meta = (isJsonObject(out.metadata) ? out.metadata : {}) as JsonObject;
  out.metadata = meta;
  const liveMeta = metaOf(live);
  const requestNs =
    input.namespace ??
    (liveMeta ? (typeof liveMeta.namespace === "string" ? liveMeta.namespace : "") : undefined);
  if (requestNs !== undefined) {
    const objNs = typeof meta.namespace === "string" ? meta.namespace : "";
    if (objNs !== requestNs) {
      if (objNs === "") meta.namespace = requestNs;
      else if (requestNs === "") delete meta.namespace;
      else {
        throw badRequest(
          "the namespace of the provided object does not match the namespace sent on the request",
        );
      }
    }
  }
  const appliedName = metaOf(applied)?.name;
  const urlName =
    input.name ??
    (typeof liveMeta?.name === "string"
      ? liveMeta.name
      : typeof appliedName === "string"
        ? appliedName
        : "");
  const name = typeof meta.name === "string" ? meta.name : "";
  if (name === "") {
    throw badRequest(
      `the name of the object (${urlName} based on URL) was undeterminable: name must be provided`,
    );
  }
  if (name !== urlName) {
    throw badRequest(
      `the name of the object (${name}) does not match the name on the URL (${urlName})`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// /scale

function replicasPath(ctx: FieldManagementContext): string[] {
  const p = ctx.specReplicasPath ?? ".spec.replicas";
  return p.replace(/^\./, "").split(".");
}

function getPath(o: unknown, path: readonly string[]): unknown {
  let v = o;
  for (const p of path) v = isJsonObject(v) ? v[p] : undefined;
  return v;
}

function setPath(o: JsonObject, path: readonly string[], value: unknown): JsonObject {
  const [head, ...rest] = path;
  if (head === undefined) return o;
  const child = isJsonObject(o[head]) ? (o[head] as JsonObject) : {};
  return { ...o, [head]: rest.length === 0 ? value : setPath(child, rest, value) };
}

/** The autoscaling/v1 Scale the server builds from the parent, as far as field management sees it. */
function scaleOf(
  parent: JsonObject | undefined,
  path: readonly string[],
  entries?: unknown,
): JsonObject {
  const meta = metaOf(parent) ?? {};
  const replicas = getPath(parent, path);
  return {
    apiVersion: "autoscaling/v1",
    kind: "Scale",
    metadata: {
      ...(meta.name !== undefined ? { name: meta.name } : {}),
      ...(meta.namespace !== undefined ? { namespace: meta.namespace } : {}),
      ...(meta.uid !== undefined ? { uid: meta.uid } : {}),
      ...(entries ? { managedFields: entries } : {}),
    },
    // ScaleSpec.replicas is `omitempty`: a scale to zero is the field's removal.
    spec: typeof replicas === "number" && replicas !== 0 ? { replicas } : {},
  };
}

function scaleEndpoint(now: string): Endpoint {
  const typed = builtinKind("autoscaling/v1", "Scale")!;
  return {
    typed,
    gv: "autoscaling/v1",
    subresource: "scale",
    filter: undefined,
    zero: zeroObject(typed.schema, typed.root, "autoscaling/v1", "Scale", true),
    now,
  };
}

function parentManaged(live: JsonObject | undefined): Managed {
  try {
    return decodeManagedFields(metaOf(live)?.managedFields);
  } catch {
    return decodeManagedFields(undefined);
  }
}

function updateScale(
  input: UpdateInput,
  live: JsonObject | undefined,
  updated: JsonObject,
  apiVersion: string,
  kind: string,
  now: string,
): KubernetesObject {
  const path = replicasPath(input);
  const pe = path.map(fieldElement);
  const parent = parentManaged(live);
  const scale = scaleToSubresource(parent, pe);
  const ep = scaleEndpoint(now);
  try {
    fieldManagerUpdate(ep, scaleOf(live, path), scaleOf(updated, path), scale, input.manager);
  } catch {
    return withEntries(
      updated,
      metaOf(live)?.managedFields as ManagedFieldsEntryJson[] | undefined,
    );
  }
  return withEntries(
    updated,
    orderFor(input, apiVersion, kind, scaleToParent(parent, scale, pe, apiVersion)),
  );
}

function applyScale(
  input: ApplyInput,
  live: JsonObject | undefined,
  applied: JsonObject,
  apiVersion: string,
  kind: string,
  now: string,
): KubernetesObject {
  if (applied.apiVersion !== "autoscaling/v1" || applied.kind !== "Scale") {
    throw badRequest(`invalid object type: ${gvkString(applied.apiVersion, applied.kind)}`);
  }
  const path = replicasPath(input);
  const pe = path.map(fieldElement);
  const parent = parentManaged(live);
  const scaleManaged = scaleToSubresource(parent, pe);
  const liveScale = scaleOf(live, path, encodeManagedFields(scaleManaged));
  const { object, managed } = fieldManagerApply(
    scaleEndpoint(now),
    liveScale,
    applied,
    input.manager,
    input.force,
  );
  const replicas = getPath(object, ["spec", "replicas"]);
  const next = setPath(live ?? {}, path, typeof replicas === "number" ? replicas : 0);
  return withEntries(
    next,
    orderFor(input, apiVersion, kind, scaleToParent(parent, managed, pe, apiVersion)),
  );
}
