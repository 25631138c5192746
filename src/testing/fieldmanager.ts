/**
 * kube-apiserver's field manager (`k8s.io/apimachinery/pkg/util/managedfields/internal`) over
 * JSON objects: the chain of managers a write goes through (version check, kubectl's
 * last-applied-configuration, before-first-apply, the cap of ten Update managers, manager
 * identities, times, the metadata fields never tracked, structured merge), structured-merge-diff's
 * `merge.Updater` (ownership on update, merge, prune and conflicts on apply), the encoding of
 * `metadata.managedFields`, the reset fields of each built-in strategy, and the /scale handler.
 *
 * Objects never convert between versions here: a manager recorded at another apiVersion of the
 * kind is compared on the object as it is (kube-apiserver converts; for kinds whose versions share
 * a schema the result is the same).
 */

import type { ApiError } from "../core/errors.ts";
import type { StatusCause } from "../core/meta.ts";
import {
  compareGoStrings,
  FieldSet,
  fieldElement,
  goJson,
  goJsonString,
  goQuote,
  isJsonObject,
  type Path,
  pathString,
  valuesEqual,
} from "./fieldmanager-fieldpath.ts";
import {
  compare,
  ensureNamedFieldsAreMembers,
  merge,
  reconcileFieldSetWithSchema,
  removeItems,
  type Typed,
  TypedValueError,
  toFieldSet,
  validate,
} from "./fieldmanager-typed.ts";
import { statusError } from "./status.ts";

type JsonObject = Record<string, unknown>;

export interface VersionedSet {
  readonly set: FieldSet;
  readonly apiVersion: string;
  readonly applied: boolean;
}

/** smd's `ManagedFields` keyed by manager identifier, and each manager's time. */
export interface Managed {
  fields: Map<string, VersionedSet>;
  times: Map<string, string | undefined>;
}

export interface ManagerInfo {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion?: string;
  subresource?: string;
}

// ---------------------------------------------------------------------------------------------
// Status errors as the server writes them

function status(code: number, reason: string, message: string, causes?: StatusCause[]) {
  return statusError(code, reason, message, causes ? { causes } : undefined);
}

export const badRequest = (message: string): ApiError => status(400, "BadRequest", message);

/**
 * `ValidatePatchOptions` for an apply: the field manager is required, at most 128 bytes, and
 * printable (a 422 on `PatchOptions`).
 */
export function validateApplyManager(manager: string): ApiError | undefined {
  const causes: StatusCause[] = [];
  if (manager === "") {
    causes.push({
      reason: "FieldValueRequired",
      message: "Required value: is required for apply patch",
      field: "fieldManager",
    });
  }
  if (Buffer.byteLength(manager) > 128) {
    causes.push({
      reason: "FieldValueTooLong",
      message: "Too long: may not be more than 128 bytes",
      field: "fieldManager",
    });
  }
  let offset = 0;
  for (const ch of manager) {
    if (!/[\p{L}\p{M}\p{N}\p{P}\p{S} ]/u.test(ch)) {
      const code = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
      causes.push({
        reason: "FieldValueInvalid",
        message: `Invalid value: ${goQuote(manager)}: invalid character U+${code} (at position ${offset})`,
        field: "fieldManager",
      });
    }
    offset += Buffer.byteLength(ch);
  }
  if (causes.length === 0) return undefined;
  const list = causes.map((c) => `${c.field}: ${c.message}`);
  return statusError(
    422,
    "Invalid",
    `PatchOptions.meta.k8s.io "" is invalid: ${list.length === 1 ? list[0] : `[${list.join(", ")}]`}`,
    { group: "meta.k8s.io", kind: "PatchOptions", causes },
  );
}
/** An error that is not a Status on the server: a 500 without a reason. */
export const internalError = (message: string): ApiError => status(500, "", message);

// ---------------------------------------------------------------------------------------------
// Manager identities and the encoding of managedFields

/** apimachinery's `BuildManagerIdentifier`: the entry without fields and time, as JSON. */
export function managerIdentifier(e: ManagerInfo): string {
  // Go's omitempty: an empty manager is left out.
  const parts = e.manager ? [`"manager":${goJsonString(e.manager)}`] : [];
  parts.push(`"operation":${goJsonString(e.operation)}`);
  if (e.operation !== "Apply" && e.apiVersion)
    parts.push(`"apiVersion":${goJsonString(e.apiVersion)}`);
  if (e.subresource) parts.push(`"subresource":${goJsonString(e.subresource)}`);
  return `{${parts.join(",")}}`;
}

function parseIdentifier(id: string): ManagerInfo {
  return JSON.parse(id) as ManagerInfo;
}

/** How the server names a manager in conflict messages. */
export function printManager(id: string): string {
  let e: ManagerInfo;
  try {
    e = parseIdentifier(id);
  } catch {
    return goQuote(id);
  }
  let s = goQuote(e.manager ?? "");
  if (e.subresource) s += ` with subresource ${goQuote(e.subresource)}`;
  if (e.operation === "Update") s += ` using ${e.apiVersion ?? ""}`;
  return s;
}

/** RFC 3339 in UTC to the second, as `metav1.Time` marshals. */
export function normalizeTime(t: string): string {
  const ms = Date.parse(t);
  if (Number.isNaN(ms)) throw new Error(`not an RFC 3339 time: ${JSON.stringify(t)}`);
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

const seconds = (t: string | undefined): number =>
  t === undefined ? 0 : Math.floor(Date.parse(t) / 1000);

/** apimachinery's `DecodeManagedFields`; throws with the server's message on an invalid entry. */
export function decodeManagedFields(entries: unknown): Managed {
  const managed: Managed = { fields: new Map(), times: new Map() };
  if (entries === undefined || entries === null) return managed;
  if (!Array.isArray(entries)) throw new Error("managedFields must be a list");
  entries.forEach((raw, i) => {
    const e = (isJsonObject(raw) ? raw : {}) as JsonObject;
    if (e.operation !== "Apply" && e.operation !== "Update") {
      throw new Error("operation must be `Apply` or `Update`");
    }
    if (typeof e.apiVersion !== "string" || e.apiVersion.length < 1) {
      throw new Error("apiVersion must not be empty");
    }
    if (e.fieldsType === undefined || e.fieldsType === "") {
      throw new Error(`missing fieldsType in managed fields entry ${i}`);
    }
    if (e.fieldsType !== "FieldsV1") {
      throw new Error(
        `invalid fieldsType ${goQuote(String(e.fieldsType))} in managed fields entry ${i}`,
      );
    }
    const id = managerIdentifier({
      manager: typeof e.manager === "string" ? e.manager : "",
      operation: e.operation,
      apiVersion: e.apiVersion,
      subresource: typeof e.subresource === "string" ? e.subresource : "",
    });
    managed.fields.set(id, {
      set: FieldSet.fromFieldsV1(e.fieldsV1 ?? {}),
      apiVersion: e.apiVersion,
      applied: e.operation === "Apply",
    });
    managed.times.set(id, typeof e.time === "string" && e.time ? normalizeTime(e.time) : undefined);
  });
  return managed;
}

/**
 * A managedFields entry as the server serialises it (its keys in the server's order; `manager`,
 * `time` and `subresource` omitted when empty).
 */
export interface ManagedFieldsEntryJson {
  manager?: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  time?: string;
  fieldsType: "FieldsV1";
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

/** apimachinery's `encodeManagedFields`: undefined when empty, else sorted as the server sorts. */
export function encodeManagedFields(managed: Managed): ManagedFieldsEntryJson[] | undefined {
  if (managed.fields.size === 0) return undefined;
  const out: ManagedFieldsEntryJson[] = [];
  for (const [id, vs] of managed.fields) {
    const info = parseIdentifier(id);
    const time = managed.times.get(id);
    out.push({
      ...(info.manager ? { manager: info.manager } : {}),
      operation: vs.applied ? "Apply" : info.operation,
      apiVersion: vs.apiVersion,
      ...(time !== undefined ? { time } : {}),
      fieldsType: "FieldsV1",
      fieldsV1: vs.set.toFieldsV1(),
      ...(info.subresource ? { subresource: info.subresource } : {}),
    });
  }
  const cmp = compareGoStrings;
  out.sort(
    (p, q) =>
      cmp(p.operation, q.operation) ||
      seconds(p.time) - seconds(q.time) ||
      cmp(p.manager ?? "", q.manager ?? "") ||
      cmp(p.apiVersion, q.apiVersion) ||
      cmp(p.subresource ?? "", q.subresource ?? ""),
  );
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reset fields: what each built-in strategy wipes, so no manager owns it through that endpoint

/** A filter of field sets (smd's `fieldpath.Filter`). */
export type Filter = (set: FieldSet) => FieldSet;

/** The paths a strategy resets (`GetResetFields`), as exposed by the endpoint's REST storage. */
type Reset = { exclude: string[][] };
const ex = (...paths: string[][]): Reset => ({ exclude: paths });
const STATUS = ex(["status"]);
const SPEC = ex(["spec"]);
const META_SPEC = ex(["metadata"], ["spec"]);

/** By `group/Kind` ("" group for core), then subresource ("" for the object itself). */
const RESET_FIELDS: Record<string, Record<string, Reset>> = {
  "admissionregistration.k8s.io/ValidatingAdmissionPolicy": { "": STATUS, status: META_SPEC },
  "internal.apiserver.k8s.io/StorageVersion": { "": STATUS, status: META_SPEC },
  "apps/DaemonSet": { "": STATUS, status: SPEC },
  "apps/StatefulSet": { "": STATUS, status: SPEC },
  "apps/ReplicaSet": { "": STATUS, status: SPEC },
  "apps/Deployment": { "": STATUS, status: ex(["spec"], ["metadata", "labels"]) },
  "autoscaling/HorizontalPodAutoscaler": { "": STATUS, status: SPEC },
  "batch/CronJob": { "": STATUS, status: SPEC },
  "batch/Job": { "": STATUS, status: SPEC },
  "certificates.k8s.io/CertificateSigningRequest": {
    "": ex(["spec"], ["status"]),
    status: ex(["spec"], ["status", "conditions"]),
    approval: ex(["spec"], ["status", "certificate"]),
  },
  "certificates.k8s.io/PodCertificateRequest": { "": STATUS, status: META_SPEC },
  "/Namespace": { "": STATUS, status: SPEC, finalize: STATUS },
  "/Node": { "": STATUS, status: SPEC },
  "/PersistentVolume": { "": STATUS, status: SPEC },
  "/PersistentVolumeClaim": { "": STATUS, status: SPEC },
  "/Pod": {
    "": STATUS,
    // /ephemeralcontainers and /resize have reset filters in their strategies, but their REST
    // storage does not expose them, so kube-apiserver's field manager uses none.
    status: ex(["spec"], ["metadata", "deletionTimestamp"], ["metadata", "ownerReferences"]),
  },
  "/ReplicationController": { "": STATUS, status: SPEC },
  "/ResourceQuota": { "": STATUS, status: SPEC },
  "/Service": { "": STATUS, status: SPEC },
  "flowcontrol.apiserver.k8s.io/FlowSchema": { "": STATUS, status: META_SPEC },
  "flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration": { "": STATUS, status: META_SPEC },
  "lifecycle.k8s.io/Eviction": { "": STATUS, status: META_SPEC },
  "lifecycle.k8s.io/EvictionRequest": { "": STATUS, status: META_SPEC },
  "networking.k8s.io/Ingress": { "": STATUS, status: SPEC },
  "networking.k8s.io/ServiceCIDR": { "": STATUS, status: META_SPEC },
  "policy/PodDisruptionBudget": { "": STATUS, status: SPEC },
  "resource.k8s.io/ResourceClaim": { "": STATUS, status: META_SPEC },
  "resource.k8s.io/DeviceTaintRule": { "": STATUS, status: META_SPEC },
  "resource.k8s.io/ResourcePoolStatusRequest": { "": STATUS, status: META_SPEC },
  "scheduling.k8s.io/PodGroup": { "": STATUS, status: META_SPEC },
  "scheduling.k8s.io/CompositePodGroup": { "": STATUS, status: META_SPEC },
  "storage.k8s.io/VolumeAttachment": { "": STATUS, status: META_SPEC },
  "storage.k8s.io/CSINode": { "": STATUS, status: META_SPEC },
  "storagemigration.k8s.io/StorageVersionMigration": { "": STATUS, status: META_SPEC },
  "apiextensions.k8s.io/CustomResourceDefinition": { "": STATUS, status: SPEC },
  "apiregistration.k8s.io/APIService": { "": STATUS, status: META_SPEC },
};

/** A custom resource with a status subresource: the CRD handler's strategies. */
const CUSTOM_WITH_STATUS: Record<string, Reset> = { "": STATUS, status: META_SPEC };

export function groupOf(apiVersion: string): string {
  const slash = apiVersion.lastIndexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

/**
 * The reset-fields filter of the endpoint: the built-in table for built-in kinds, the custom
 * resource strategies when `statusSubresource` says the kind has one, else none.
 */
export function resetFilter(
  apiVersion: string,
  kind: string,
  subresource: string,
  statusSubresource: boolean | undefined,
): Filter | undefined {
  const table =
    RESET_FIELDS[`${groupOf(apiVersion)}/${kind}`] ??
    (statusSubresource ? CUSTOM_WITH_STATUS : undefined);
  const reset = table?.[subresource];
  if (!reset) return undefined;
  const set = FieldSet.of(...reset.exclude.map((p) => p.map(fieldElement)));
  return (s) => s.recursiveDifference(set);
}

// ---------------------------------------------------------------------------------------------
// smd's merge.Updater

export interface Endpoint {
  readonly typed: Typed;
  /** The endpoint's group/version: the apiVersion of the entries this write records. */
  readonly gv: string;
  readonly subresource: string;
  readonly filter: Filter | undefined;
  /** `New()` of the kind: what a create is compared against. */
  readonly zero: JsonObject;
  /** The write's time, normalized. */
  readonly now: string;
}

/** Apply conflicts: the managers and the paths they own that the apply would change. */
export class Conflicts extends Error {
  readonly conflicts: readonly { manager: string; path: Path }[];

  constructor(conflicts: readonly { manager: string; path: Path }[]) {
    super(conflictMessage(conflicts));
    this.conflicts = conflicts;
  }
}

function conflictMessage(conflicts: readonly { manager: string; path: Path }[]): string {
  if (conflicts.length === 1) {
    const c = conflicts[0]!;
    return `Apply failed with 1 conflict: conflict with ${printManager(c.manager)}: ${pathString(c.path)}`;
  }
  const byManager = new Map<string, Path[]>();
  for (const c of conflicts)
    byManager.set(c.manager, [...(byManager.get(c.manager) ?? []), c.path]);
  const lines: string[] = [];
  for (const m of [...byManager.keys()].sort(compareGoStrings)) {
    lines.push(`conflicts with ${printManager(m)}:`);
    for (const p of byManager.get(m)!) lines.push(`- ${pathString(p)}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join("\n")}`;
}

/** The 409 the server answers for apply conflicts. */
export function conflictError(c: Conflicts): ApiError {
  const causes: StatusCause[] = c.conflicts.map((x) => ({
    reason: "FieldManagerConflict",
    message: `conflict with ${printManager(x.manager)}`,
    field: pathString(x.path),
  }));
  return status(409, "Conflict", c.message, causes);
}

const filtered = (ep: Endpoint, s: FieldSet): FieldSet => (ep.filter ? ep.filter(s) : s);

function reconcileWithSchema(ep: Endpoint, managers: Map<string, VersionedSet>): void {
  for (const [m, vs] of managers) {
    const r = reconcileFieldSetWithSchema(vs.set, ep.typed);
    if (r) managers.set(m, { ...vs, set: r });
  }
}

function updateOwners(
  ep: Endpoint,
  oldObj: unknown,
  newObj: unknown,
  managers: Map<string, VersionedSet>,
  workflow: string,
  force: boolean,
) {
  const cmp = compare(ep.typed, oldObj, newObj);
  const c = {
    removed: filtered(ep, cmp.removed),
    modified: filtered(ep, cmp.modified),
    added: filtered(ep, cmp.added),
  };
  const changed = c.modified.union(c.added);
  const conflicts = new Map<string, FieldSet>();
  const removed = new Map<string, FieldSet>();
  for (const [m, vs] of managers) {
    if (m === workflow) continue;
    const conflictSet = vs.set.intersection(changed);
    if (!conflictSet.empty()) conflicts.set(m, conflictSet);
    if (!c.removed.empty()) removed.set(m, c.removed);
  }
  if (!force && conflicts.size > 0) {
    const list: { manager: string; path: Path }[] = [];
    for (const [m, s] of conflicts) for (const p of s.paths()) list.push({ manager: m, path: p });
    throw new Conflicts(list);
  }
  for (const [m, s] of [...conflicts, ...removed]) {
    const vs = managers.get(m)!;
    managers.set(m, { ...vs, set: vs.set.difference(s) });
  }
  for (const [m, vs] of [...managers]) if (vs.set.empty()) managers.delete(m);
  return c;
}

/** smd's `Updater.Update`: ownership after a non-apply write. */
function updaterUpdate(
  ep: Endpoint,
  live: unknown,
  next: unknown,
  managers: Map<string, VersionedSet>,
  manager: string,
): void {
  reconcileWithSchema(ep, managers);
  const c = updateOwners(ep, live, next, managers, manager, true);
  const previous = managers.get(manager)?.set ?? new FieldSet();
  const set = filtered(ep, previous.difference(c.removed).union(c.modified).union(c.added));
  if (set.empty()) managers.delete(manager);
  else managers.set(manager, { set, apiVersion: ep.gv, applied: false });
}

/** smd's `Updater.Apply`: the merged object (undefined when it equals live) and ownership. */
function updaterApply(
  ep: Endpoint,
  live: unknown,
  config: unknown,
  managers: Map<string, VersionedSet>,
  manager: string,
  force: boolean,
): unknown {
  reconcileWithSchema(ep, managers);
  let merged: unknown;
  try {
    merged = merge(ep.typed, live, config);
  } catch (e) {
    throw internalError(`failed to merge config: ${(e as Error).message}`);
  }
  const lastSet = managers.get(manager);
  managers.set(manager, {
    set: filtered(ep, toFieldSet(ep.typed, config)),
    apiVersion: ep.gv,
    applied: true,
  });
  merged = prune(ep, merged, managers, lastSet);
  updateOwners(ep, live, merged, managers, manager, force);
  return valuesEqual(live, merged) ? undefined : merged;
}

function prune(
  ep: Endpoint,
  merged: unknown,
  managers: Map<string, VersionedSet>,
  lastSet: VersionedSet | undefined,
): unknown {
  if (!lastSet || lastSet.set.empty()) return merged;
  const enf = (s: FieldSet) => ensureNamedFieldsAreMembers(s, ep.typed);
  let pruned = removeItems(ep.typed, merged, enf(lastSet.set));
  // Add back what any manager owns, version by version (the last applied version first).
  const byVersion = new Map<string, FieldSet>();
  for (const vs of managers.values()) {
    byVersion.set(vs.apiVersion, (byVersion.get(vs.apiVersion) ?? new FieldSet()).union(vs.set));
  }
  const versions = [...byVersion.keys()].sort((a, b) =>
    a === lastSet.apiVersion ? -1 : b === lastSet.apiVersion ? 1 : 0,
  );
  for (const version of versions) {
    const mergedSet = enf(toFieldSet(ep.typed, merged));
    const prunedSet = enf(toFieldSet(ep.typed, pruned));
    const owned = enf(byVersion.get(version)!);
    pruned = removeItems(ep.typed, merged, mergedSet.difference(prunedSet.union(owned)));
  }
  // Remove only what was applied last time and is gone now.
  const prunedSet = enf(toFieldSet(ep.typed, pruned));
  const mergedSet = enf(toFieldSet(ep.typed, merged));
  const last = enf(lastSet.set);
  return removeItems(ep.typed, merged, mergedSet.difference(prunedSet).intersection(last));
}

// ---------------------------------------------------------------------------------------------
// The chain of managers

/** The metadata fields no manager ever owns (`stripMetaManager`). */
const STRIP = FieldSet.of(
  [fieldElement("apiVersion")],
  [fieldElement("kind")],
  [fieldElement("metadata")],
  ...["name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName", "generation"].map(
    (f) => [fieldElement("metadata"), fieldElement(f)],
  ),
  [fieldElement("metadata"), fieldElement("managedFields")],
  [fieldElement("metadata"), fieldElement("resourceVersion")],
);

function strip(managed: Managed, manager: string): void {
  const vs = managed.fields.get(manager);
  if (!vs) return;
  const set = vs.set.difference(STRIP);
  if (set.empty()) managed.fields.delete(manager);
  else managed.fields.set(manager, { ...vs, set });
}

const MAX_UPDATE_MANAGERS = 10;
const ANCIENT = "ancient-changes";

/** `capManagersManager`: the oldest Update managers beyond ten merge into "ancient-changes". */
function capUpdateManagers(managed: Managed): void {
  const updaters = [...managed.fields].filter(([, vs]) => !vs.applied).map(([m]) => m);
  if (updaters.length <= MAX_UPDATE_MANAGERS) return;
  updaters.sort(
    (a, b) =>
      seconds(managed.times.get(a)) - seconds(managed.times.get(b)) || compareGoStrings(a, b),
  );
  const firstOfVersion = new Map<string, string>();
  let length = updaters.length;
  for (let i = 0; i < updaters.length && length > MAX_UPDATE_MANAGERS; i++) {
    const m = updaters[i]!;
    const vs = managed.fields.get(m)!;
    const time = managed.times.get(m);
    const bucket = managerIdentifier({
      manager: ANCIENT,
      operation: "Update",
      apiVersion: vs.apiVersion,
    });
    const first = firstOfVersion.get(vs.apiVersion);
    if (first === undefined) {
      firstOfVersion.set(vs.apiVersion, m);
      continue;
    }
    if (!managed.fields.has(bucket)) {
      const s = managed.fields.get(first)!;
      managed.fields.delete(first);
      managed.fields.set(bucket, s);
    }
    managed.fields.set(bucket, {
      set: vs.set.union(managed.fields.get(bucket)!.set),
      apiVersion: vs.apiVersion,
      applied: vs.applied,
    });
    managed.fields.delete(m);
    length--;
    managed.times.set(bucket, time);
  }
}

function withoutManagedFields(o: unknown): unknown {
  if (!isJsonObject(o) || !isJsonObject(o.metadata) || !("managedFields" in o.metadata)) return o;
  const { managedFields: _, ...metadata } = o.metadata;
  return { ...o, metadata };
}

const hasUid = (o: unknown): boolean =>
  isJsonObject(o) &&
  isJsonObject(o.metadata) &&
  typeof o.metadata.uid === "string" &&
  o.metadata.uid !== "";

/**
 * The Update chain below the skip-non-applied manager: cap, manager identity, time, strip,
 * structured update. Mutates `managed`.
 */
function updateChain(
  ep: Endpoint,
  live: unknown,
  next: unknown,
  managed: Managed,
  manager: string,
): void {
  const id = managerIdentifier({
    manager: manager || "unknown",
    operation: "Update",
    apiVersion: ep.gv,
    subresource: ep.subresource,
  });
  const self = "current-operation";
  try {
    updaterUpdate(ep, withoutManagedFields(live), withoutManagedFields(next), managed.fields, self);
  } catch (e) {
    if (e instanceof TypedValueError)
      throw internalError(`failed to update ManagedFields: ${e.message}`);
    throw e;
  }
  strip(managed, self);
  const vs = managed.fields.get(self);
  if (vs) {
    managed.fields.delete(self);
    const previous = managed.fields.get(id);
    managed.fields.set(id, previous ? { ...vs, set: vs.set.union(previous.set) } : vs);
    managed.times.set(id, ep.now);
  }
  capUpdateManagers(managed);
}

/**
 * `FieldManager.Update` for a create, update or non-apply patch: `next` with the managedFields
 * the server records. `managed` is what `decodeLiveOrNew` picked.
 */
export function fieldManagerUpdate(
  ep: Endpoint,
  live: unknown,
  next: JsonObject,
  managed: Managed,
  manager: string,
): Managed {
  // skipNonAppliedManager: an existing object nobody manages stays unmanaged until an apply.
  if (managed.fields.size === 0 && hasUid(live)) return managed;
  updateChain(ep, live, next, managed, manager);
  return managed;
}

export const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

/**
 * `FieldManager.Apply`: the applied object (live when nothing changed) and its managed fields.
 * Throws the server's errors (conflicts as a 409, invalid configurations as a 400 or 500).
 */
export function fieldManagerApply(
  ep: Endpoint,
  live: JsonObject,
  applied: JsonObject,
  manager: string,
  force: boolean,
): { object: JsonObject; managed: Managed } {
  let managed: Managed;
  try {
    managed = decodeManagedFields((live.metadata as JsonObject | undefined)?.managedFields);
  } catch (e) {
    throw internalError(`failed to decode managed fields: ${(e as Error).message}`);
  }
  const attempt = (f: boolean) => applyChain(ep, live, applied, cloneManaged(managed), manager, f);
  let result: { object: JsonObject; managed: Managed };
  try {
    result = attempt(force);
  } catch (e) {
    if (!(e instanceof Conflicts) || manager !== "kubectl")
      throw e instanceof Conflicts ? conflictError(e) : e;
    // lastAppliedManager: kubectl may take over what its client-side apply set before.
    const allowed = allowedConflictsFromLastApplied(ep, live);
    if (!allowed) throw conflictError(e);
    const rest = e.conflicts.filter((c) => !allowed.has(c.path));
    if (rest.length > 0) throw conflictError(new Conflicts(rest));
    result = attempt(true);
  }
  // lastAppliedUpdater: kubectl's annotation follows its server-side applies once it exists.
  if (manager === "kubectl" && lastAppliedOf(result.object)) {
    result.object = withLastApplied(result.object, buildLastApplied(applied));
  }
  return result;
}

function cloneManaged(m: Managed): Managed {
  return { fields: new Map(m.fields), times: new Map(m.times) };
}

function applyChain(
  ep: Endpoint,
  live: JsonObject,
  applied: JsonObject,
  managed: Managed,
  manager: string,
  force: boolean,
): { object: JsonObject; managed: Managed } {
  // skipNonAppliedManager: the first apply to an unmanaged object gives what is there to
  // "before-first-apply".
  if (managed.fields.size === 0) updateChain(ep, ep.zero, live, managed, "before-first-apply");
  const id = managerIdentifier({ manager, operation: "Apply", subresource: ep.subresource });
  const meta = applied.metadata;
  if (isJsonObject(meta) && meta.managedFields !== undefined && meta.managedFields !== null) {
    throw badRequest("metadata.managedFields must be nil");
  }
  const errors = validate(ep.typed, applied, false);
  if (errors.length > 0) {
    throw internalError(
      `failed to create typed patch object (${objectGVKNN(applied)}): ${new TypedValueError(errors).message}`,
    );
  }
  let merged: unknown;
  try {
    merged = updaterApply(ep, withoutManagedFields(live), applied, managed.fields, id, force);
  } catch (e) {
    if (e instanceof TypedValueError) throw internalError(e.message);
    throw e;
  }
  strip(managed, id);
  if (merged === undefined) {
    return { object: withoutManagedFields(live) as JsonObject, managed };
  }
  managed.times.set(id, ep.now);
  return { object: (isJsonObject(merged) ? merged : {}) as JsonObject, managed };
}

/** `namespace/name; group/version, Kind=kind`, as the server names an object in errors. */
export function objectGVKNN(o: JsonObject): string {
  const meta = isJsonObject(o.metadata) ? o.metadata : {};
  const ns = typeof meta.namespace === "string" ? meta.namespace : "";
  const name = typeof meta.name === "string" ? meta.name : "";
  return `${ns}/${name}; ${gvkString(o.apiVersion, o.kind)}`;
}

/** Go's `GroupVersionKind.String()`: `apps/v1, Kind=Deployment`, `/v1, Kind=Pod`. */
export function gvkString(apiVersion: unknown, kind: unknown): string {
  const av = typeof apiVersion === "string" ? apiVersion : "";
  const slash = av.indexOf("/");
  const [group, version] = slash < 0 ? ["", av] : [av.slice(0, slash), av.slice(slash + 1)];
  return `${group}/${version}, Kind=${typeof kind === "string" ? kind : ""}`;
}

// ---------------------------------------------------------------------------------------------
// kubectl's last-applied-configuration

function lastAppliedOf(o: JsonObject): string | undefined {
  const a = isJsonObject(o.metadata) ? o.metadata.annotations : undefined;
  const v = isJsonObject(a) ? a[LAST_APPLIED] : undefined;
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** What kubectl's previous client-side apply set and still holds: conflicts kubectl may take. */
function allowedConflictsFromLastApplied(ep: Endpoint, live: JsonObject): FieldSet | undefined {
  const text = lastAppliedOf(live);
  if (text === undefined) return undefined;
  let last: unknown;
  try {
    last = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isJsonObject(last) || last.apiVersion !== ep.gv) return undefined;
  if (validate(ep.typed, last, false).length > 0) return undefined;
  const set = toFieldSet(ep.typed, last);
  const c = compare(ep.typed, last, withoutManagedFields(live));
  return set.difference(c.modified).difference(c.added).difference(c.removed);
}

function buildLastApplied(applied: JsonObject): string {
  const copy = structuredClone(applied);
  const meta = isJsonObject(copy.metadata) ? copy.metadata : undefined;
  if (meta && isJsonObject(meta.annotations)) delete meta.annotations[LAST_APPLIED];
  return `${goJson(copy)}\n`;
}

/** `SetLastApplied`: dropped again when the annotations would exceed 256 KiB. */
function withLastApplied(o: JsonObject, value: string): JsonObject {
  const meta = isJsonObject(o.metadata) ? o.metadata : {};
  const annotations = {
    ...((isJsonObject(meta.annotations) ? meta.annotations : {}) as JsonObject),
  };
  annotations[LAST_APPLIED] = value;
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) {
    size += Buffer.byteLength(k) + Buffer.byteLength(String(v));
  }
  if (size > 256 * 1024) delete annotations[LAST_APPLIED];
  return { ...o, metadata: { ...meta, annotations } };
}

// ---------------------------------------------------------------------------------------------
// The /scale subresource (apimachinery's ScaleHandler)

const SCALE_GV = "autoscaling/v1";
const REPLICAS_IN_SCALE: Path = [fieldElement("spec"), fieldElement("replicas")];

/** The parent's managers that own its replicas, as managers of the Scale's `spec.replicas`. */
export function scaleToSubresource(parent: Managed, replicasPath: Path): Managed {
  const out: Managed = { fields: new Map(), times: new Map() };
  for (const [m, vs] of parent.fields) {
    if (!vs.set.has(replicasPath)) continue;
    out.fields.set(m, {
      set: FieldSet.of(REPLICAS_IN_SCALE),
      apiVersion: SCALE_GV,
      applied: vs.applied,
    });
    out.times.set(m, parent.times.get(m));
  }
  // Re-keyed as the Scale's field manager decodes them (Update identities carry the apiVersion).
  return decodeManagedFields(encodeManagedFields(out) ?? []);
}

/**
 * The Scale's managers mapped back onto the parent (`ScaleHandler.ToParent`), as the entries the
 * parent gets: not decoded again, since a re-keyed Update manager can meet its old identity.
 */
export function scaleToParent(
  parent: Managed,
  scale: Managed,
  replicasPath: Path,
  parentGv: string,
): ManagedFieldsEntryJson[] | undefined {
  const scaleFields = new Map(scale.fields);
  const out: Managed = { fields: new Map(), times: new Map() };
  for (const [m, vs] of parent.fields) {
    if (!vs.set.has(replicasPath)) {
      out.fields.set(m, vs);
      out.times.set(m, parent.times.get(m));
      continue;
    }
    if (!scaleFields.has(m)) {
      const set = vs.set.difference(FieldSet.of(replicasPath));
      if (!set.empty()) {
        out.fields.set(m, { ...vs, set });
        out.times.set(m, parent.times.get(m));
      }
    } else {
      out.fields.set(m, vs);
      out.times.set(m, parent.times.get(m));
      scaleFields.delete(m);
    }
  }
  for (const [m, vs] of scaleFields) {
    if (!vs.set.has(REPLICAS_IN_SCALE)) continue;
    out.fields.set(m, {
      set: FieldSet.of(replicasPath),
      apiVersion: parentGv,
      applied: vs.applied,
    });
    out.times.set(m, parent.times.get(m));
  }
  return encodeManagedFields(out);
}
