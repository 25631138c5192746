/**
 * Strategic merge patches computed on the client: apimachinery's `strategicpatch` (two-way and
 * three-way patches, the merge the server performs, and the conflict check), over plain JSON and
 * the patch metadata of `patchmeta.ts`.
 *
 * The algorithms follow apimachinery v0.37 step by step, including its orderings (lists of maps
 * are diffed sorted by the `%v` text of their merge key, primitive merge lists sorted by their
 * text, `$retainKeys` and deletion lists sorted), so the patches are the ones kubectl would send.
 * Two deliberate differences:
 * - A field the metadata does not describe takes the defaults (objects merge, lists are replaced)
 *   instead of failing: the table lists only what differs from the defaults.
 * - A list merged by a key that does not identify its items (`ports` is merged by `containerPort`
 *   but keyed by `containerPort` + `protocol`; kubernetes#108255) is, when two items share a merge
 *   key value, sent whole behind a `{"$patch": "replace"}` item: merging it by `containerPort`
 *   would fold `53/TCP` and `53/UDP` into one port on the server. Two-way and three-way patches
 *   then replace that list with `modified`'s, like a list without a merge strategy.
 */
import { PatchConflictError, PatchError } from "./errors.ts";
import {
  compareStrings,
  goString,
  isObject,
  type JsonObject,
  jsonClone,
  jsonEqual,
  jsonKind,
} from "./json.ts";
import type { FieldLookup, PatchMeta, PatchMetaInput } from "./patchmeta.ts";
import { resolvePatchMeta } from "./patchmeta.ts";
import type { StrategicMergePatch } from "./types.ts";

const DIRECTIVE = "$patch";
const DELETE = "delete";
const REPLACE = "replace";
const MERGE = "merge";
const RETAIN_KEYS = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER = "$setElementOrder";

interface DiffOptions {
  /** Emit `$setElementOrder` lists. */
  setElementOrder: boolean;
  /** Leave additions and changes out (only deletions). */
  ignoreChangesAndAdditions: boolean;
  /** Leave deletions out (only additions and changes). */
  ignoreDeletions: boolean;
  /** Emit `$retainKeys` for this map (set by the parent field's strategy, for one level). */
  buildRetainKeys: boolean;
}

interface MergeOptions {
  /** Applying a patch to an object (true), or merging two patches into one (false). */
  mergeParallelList: boolean;
  /** Drop nulls that delete nothing (applying) instead of keeping them (merging patches). */
  ignoreUnmatchedNulls: boolean;
}

const noDiffOptions: DiffOptions = {
  setElementOrder: false,
  ignoreChangesAndAdditions: false,
  ignoreDeletions: false,
  buildRetainKeys: false,
};

type ListKind = "object" | "string" | "number" | "boolean" | "null";

// ---------------------------------------------------------------------------------------------
// Public API

/**
 * The strategic merge patch that turns `original` into `modified` when the server applies it
 * (apimachinery's `CreateTwoWayMergePatch`). `schema` is a `PatchMeta`, a typed descriptor
 * (`Deployment`) or anything with the kind's `apiVersion` and `kind` (looked up among the built-in
 * kinds). An empty object means there is nothing to change.
 */
export function createTwoWayMergePatch<T>(
  original: T | null | undefined,
  modified: T | null | undefined,
  schema: PatchMetaInput,
): StrategicMergePatch<T> {
  const meta = resolvePatchMeta(schema);
  return diffMaps(rootObject(original, "original"), rootObject(modified, "modified"), meta, {
    ...noDiffOptions,
    setElementOrder: true,
  }) as StrategicMergePatch<T>;
}

export interface ThreeWayOptions {
  /**
   * Whether the patch may change fields that were changed differently since `original` (someone
   * else's edits). False (the default): such a patch is a `PatchConflictError`. kubectl's
   * client-side apply passes true.
   */
  overwrite?: boolean;
}

/**
 * The patch that takes `current` (the live object) to `modified` (the new desired state) while
 * keeping what others changed: additions and changes from `current` to `modified`, deletions from
 * `original` (the previous desired state) to `modified` (apimachinery's
 * `CreateThreeWayMergePatch`, what `kubectl apply` sends). Fields present in `current` but in
 * neither `original` nor `modified` are left alone.
 */
export function createThreeWayMergePatch<T>(
  original: T | null | undefined,
  modified: T | null | undefined,
  current: T | null | undefined,
  schema: PatchMetaInput,
  options: ThreeWayOptions = {},
): StrategicMergePatch<T> {
  const meta = resolvePatchMeta(schema);
  const o = rootObject(original, "original");
  const m = rootObject(modified, "modified");
  const c = rootObject(current, "current");
  // The patch is the difference from current to modified without deletions, plus the deletions
  // from original to modified: the second applied to the first as a patch of a patch.
  const delta = diffMaps(c, m, meta, {
    ...noDiffOptions,
    setElementOrder: true,
    ignoreDeletions: true,
  });
  const deletions = diffMaps(o, m, meta, {
    ...noDiffOptions,
    setElementOrder: true,
    ignoreChangesAndAdditions: true,
  });
  const patch = mergeMap(deletions, delta, meta, {
    mergeParallelList: false,
    ignoreUnmatchedNulls: false,
  });
  if (!options.overwrite) {
    const changed = diffMaps(o, c, meta, noDiffOptions);
    if (mapsHaveConflicts(patch, changed, meta)) throw new PatchConflictError(patch, changed);
  }
  return patch as StrategicMergePatch<T>;
}

/**
 * Applies a strategic merge patch as the API server does (apimachinery's `StrategicMergePatch`),
 * directives included, without the server's defaulting and validation. The inputs are not changed.
 */
export function applyStrategicMergePatch<T>(
  original: T | null | undefined,
  patch: StrategicMergePatch<T> | Record<string, unknown>,
  schema: PatchMetaInput,
): T {
  const meta = resolvePatchMeta(schema);
  return mergeMap(rootObject(original, "original"), rootObject(patch, "patch"), meta, {
    mergeParallelList: true,
    ignoreUnmatchedNulls: true,
  }) as T;
}

/**
 * Whether two patches (or a patch and a change) touch a field differently (apimachinery's
 * `MergingMapsHaveConflicts`).
 */
export function mergingMapsHaveConflicts(
  left: Record<string, unknown>,
  right: Record<string, unknown>,
  schema: PatchMetaInput,
): boolean {
  return mapsHaveConflicts(
    rootObject(left, "left"),
    rootObject(right, "right"),
    resolvePatchMeta(schema),
  );
}

function rootObject(v: unknown, what: string): JsonObject {
  if (v === null || v === undefined) return {};
  if (!isObject(v)) throw new PatchError(`${what} must be a JSON object`);
  return jsonClone(v);
}

// ---------------------------------------------------------------------------------------------
// Diff

function diffMaps(
  original: JsonObject,
  modified: JsonObject,
  meta: PatchMeta,
  o: DiffOptions,
): JsonObject {
  const patch: JsonObject = {};
  const retainKeys: string[] = [];
  for (const [key, mv] of Object.entries(modified)) {
    if (o.buildRetainKeys && mv !== null) retainKeys.push(key);
    if (!Object.hasOwn(original, key)) {
      if (!o.ignoreChangesAndAdditions) patch[key] = mv;
      continue;
    }
    const ov = original[key];
    if (key === DIRECTIVE) {
      if (typeof ov !== "string" || typeof mv !== "string") {
        throw new PatchError(`invalid value for special key: ${DIRECTIVE}`);
      }
      if (ov !== mv) patch[key] = mv;
      continue;
    }
    if (jsonKind(ov) !== jsonKind(mv)) {
      if (!o.ignoreChangesAndAdditions) patch[key] = mv;
      continue;
    }
    if (isObject(ov)) handleMapDiff(key, ov, mv as JsonObject, patch, meta, o);
    else if (Array.isArray(ov)) handleSliceDiff(key, ov, mv as unknown[], patch, meta, o);
    else replaceIfNotEqual(key, ov, mv, patch, o);
  }
  if (!o.ignoreDeletions) {
    for (const key of Object.keys(original)) {
      if (!Object.hasOwn(modified, key)) patch[key] = null;
    }
  }
  // $retainKeys goes in when the patch changes something or original has fields to clear.
  if (
    retainKeys.length > 0 &&
    (Object.keys(patch).length > 0 || hasAdditionalNewField(original, modified))
  ) {
    patch[RETAIN_KEYS] = sortScalars(retainKeys);
  }
  return patch;
}

function handleMapDiff(
  key: string,
  ov: JsonObject,
  mv: JsonObject,
  patch: JsonObject,
  meta: PatchMeta,
  o: DiffOptions,
): void {
  const f = meta.lookup(key);
  if (f.strategy === REPLACE) {
    // The whole object, even when unchanged: apimachinery does the same.
    if (!o.ignoreChangesAndAdditions) patch[key] = mv;
    return;
  }
  const pv = diffMaps(ov, mv, f.meta, { ...o, buildRetainKeys: f.retainKeys });
  if (Object.keys(pv).length > 0) patch[key] = pv;
}

function handleSliceDiff(
  key: string,
  ov: unknown[],
  mv: unknown[],
  patch: JsonObject,
  meta: PatchMeta,
  o: DiffOptions,
): void {
  const f = meta.lookup(key);
  if (f.strategy !== MERGE) {
    replaceIfNotEqual(key, ov, mv, patch, o);
    return;
  }
  if (isAmbiguous(f, ov) || isAmbiguous(f, mv)) {
    // See the module comment: merged by a key that does not identify the items.
    if (!o.ignoreChangesAndAdditions && !jsonEqual(ov, mv)) {
      patch[key] = [{ [DIRECTIVE]: REPLACE }, ...mv];
    }
    return;
  }
  const [add, del, order] = diffLists(ov, mv, f.meta, f.mergeKey ?? "", {
    ...o,
    buildRetainKeys: f.retainKeys,
  });
  if (add.length > 0) patch[key] = add;
  if (del.length > 0) patch[`${DELETE_FROM_PRIMITIVE_LIST}/${key}`] = del;
  if (order.length > 0) patch[`${SET_ELEMENT_ORDER}/${key}`] = order;
}

/** A merge list of maps in which two items share a merge key value that does not identify them. */
function isAmbiguous(f: FieldLookup, list: unknown[]): boolean {
  const key = f.mergeKey;
  if (!f.field?.listMapKeys || key === undefined) return false;
  const seen = new Set<string>();
  for (const item of list) {
    if (!isObject(item) || !Object.hasOwn(item, key)) continue;
    const k = `${jsonKind(item[key])}:${goString(item[key])}`;
    if (seen.has(k)) return true;
    seen.add(k);
  }
  return false;
}

function replaceIfNotEqual(
  key: string,
  ov: unknown,
  mv: unknown,
  patch: JsonObject,
  o: DiffOptions,
): void {
  if (o.ignoreChangesAndAdditions || jsonEqual(ov, mv)) return;
  patch[key] = mv;
}

function hasAdditionalNewField(original: JsonObject, modified: JsonObject): boolean {
  return Object.entries(original).some(([k, v]) => v !== null && !Object.hasOwn(modified, k));
}

/** The JSON type all items of the lists share; lists of lists and mixed lists are errors. */
function elementKind(...lists: unknown[][]): ListKind {
  let kind: ListKind | undefined;
  for (const list of lists) {
    for (const v of list) {
      const k = jsonKind(v);
      if (k === "array") throw new PatchError("lists of lists are not supported");
      if (kind === undefined) kind = k;
      else if (kind !== k) {
        throw new PatchError(`list element types are not identical: ${JSON.stringify(lists)}`);
      }
    }
  }
  if (kind === undefined) throw new PatchError("no elements in any of the given slices");
  return kind;
}

/** [patch list, deletions of primitives, $setElementOrder list]; empty lists mean none. */
function diffLists(
  original: unknown[],
  modified: unknown[],
  meta: PatchMeta,
  mergeKey: string,
  o: DiffOptions,
): [unknown[], unknown[], unknown[]] {
  if (original.length === 0) {
    if (modified.length === 0 || o.ignoreChangesAndAdditions) return [[], [], []];
    return [modified, [], []];
  }
  const kind = elementKind(original, modified);
  if (kind === "object") {
    let [patchList, deleteList] = diffListsOfMaps(original, modified, meta, mergeKey, o);
    patchList = normalizeSliceOrder(patchList, modified, mergeKey, kind);
    const orderSame = isOrderSame(original, modified, mergeKey);
    patchList.push(...deleteList);
    let order: unknown[] = [];
    if (
      o.setElementOrder &&
      ((!o.ignoreChangesAndAdditions && (patchList.length > 0 || !orderSame)) ||
        (!o.ignoreDeletions && patchList.length > 0))
    ) {
      order = modified.map((v) => ({ [mergeKey]: (v as JsonObject)[mergeKey] }));
    }
    return [patchList, [], order];
  }
  // A primitive list: apimachinery sorts `original` in place here, and later steps see it sorted.
  const [add, del] = diffListsOfScalars(original, modified, o);
  const patchList = normalizeSliceOrder(add, modified, mergeKey, kind);
  const order =
    o.setElementOrder &&
    ((!o.ignoreDeletions && del.length > 0) ||
      (!o.ignoreChangesAndAdditions && !jsonEqual(original, modified)))
      ? modified
      : [];
  return [patchList, del, order];
}

function isOrderSame(original: unknown[], modified: unknown[], mergeKey: string): boolean {
  if (original.length !== modified.length) return false;
  return modified.every((m, i) => mergeKeyValueEqual(original[i], m, mergeKey));
}

function diffListsOfScalars(
  original: unknown[],
  modified: unknown[],
  o: DiffOptions,
): [unknown[], unknown[]] {
  const orig = sortScalars(original); // in place, as apimachinery does
  const mod = sortScalars([...modified]);
  const add: unknown[] = [];
  const del: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < orig.length || j < mod.length) {
    const oIn = i < orig.length;
    const mIn = j < mod.length;
    const os = oIn ? goString(orig[i]) : "";
    const ms = mIn ? goString(mod[j]) : "";
    if (oIn && mIn && os === ms) {
      i++;
      j++;
    } else if (!oIn || (mIn && os > ms)) {
      if (!o.ignoreChangesAndAdditions) add.push(mod[j]);
      j++;
    } else {
      if (!o.ignoreDeletions) del.push(orig[i]);
      i++;
    }
  }
  return [add, dedupeScalars(del)];
}

function diffListsOfMaps(
  original: unknown[],
  modified: unknown[],
  meta: PatchMeta,
  mergeKey: string,
  o: DiffOptions,
): [unknown[], unknown[]] {
  const patch: unknown[] = [];
  const deletions: unknown[] = [];
  const os = sortMapsByField(original, mergeKey);
  const ms = sortMapsByField(modified, mergeKey);
  let i = 0;
  let j = 0;
  while (i < os.length || j < ms.length) {
    const oIn = i < os.length;
    const mIn = j < ms.length;
    const oe = oIn ? mapWithMergeKey(os[i], mergeKey) : undefined;
    const me = mIn ? mapWithMergeKey(ms[j], mergeKey) : undefined;
    const ok = oe ? goString(oe[mergeKey]) : "";
    const mk = me ? goString(me[mergeKey]) : "";
    if (oe && me && ok === mk) {
      const pv = diffMaps(oe, me, meta, o);
      if (Object.keys(pv).length > 0) {
        pv[mergeKey] = me[mergeKey];
        patch.push(pv);
      }
      i++;
      j++;
    } else if (me && (!oe || ok > mk)) {
      if (!o.ignoreChangesAndAdditions) patch.push(me);
      j++;
    } else if (oe) {
      if (!o.ignoreDeletions) deletions.push({ [mergeKey]: oe[mergeKey], [DIRECTIVE]: DELETE });
      i++;
    }
  }
  return [patch, deletions];
}

function mapWithMergeKey(v: unknown, mergeKey: string): JsonObject {
  if (!isObject(v)) throw new PatchError(`expected a map in the list, got ${JSON.stringify(v)}`);
  if (!Object.hasOwn(v, mergeKey)) {
    throw new PatchError(
      `map: ${JSON.stringify(v)} does not contain declared merge key: ${mergeKey}`,
    );
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Ordering

function sortScalars(list: unknown[]): unknown[] {
  return list.sort((a, b) => compareStrings(goString(a), goString(b)));
}

function sortMapsByField(list: unknown[], field: string): unknown[] {
  return [...list].sort((a, b) =>
    compareStrings(goString((a as JsonObject)?.[field]), goString((b as JsonObject)?.[field])),
  );
}

function dedupeScalars(list: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const v of list) if (!out.some((x) => x === v)) out.push(v);
  return out;
}

/** Go's `==` between two values decoded from JSON (missing and null are both nil). */
function goEqual(a: unknown, b: unknown): boolean {
  return (a ?? null) === (b ?? null);
}

function indexIn(list: unknown[], item: unknown, mergeKey: string, kind: ListKind): number {
  if (kind === "object") {
    const v = isObject(item) ? item[mergeKey] : undefined;
    return list.findIndex((x) => isObject(x) && goEqual(x[mergeKey], v));
  }
  return list.findIndex((x) => goEqual(x, item));
}

function validateMergeKeyInLists(mergeKey: string, ...lists: unknown[][]): void {
  for (const list of lists) for (const item of list) mapWithMergeKey(item, mergeKey);
}

function extractToDeleteItems(list: unknown[]): [unknown[], unknown[]] {
  const keep: unknown[] = [];
  const del: unknown[] = [];
  for (const v of list) {
    if (!isObject(v)) throw new PatchError(`expected a map in the list, got ${JSON.stringify(v)}`);
    if (v[DIRECTIVE] === DELETE) del.push(v);
    else keep.push(v);
  }
  return [keep, del];
}

/** `toSort` in the order of `order` (items it lacks keep their places), deletions last. */
function normalizeSliceOrder(
  toSort: unknown[],
  order: unknown[],
  mergeKey: string,
  kind: ListKind,
): unknown[] {
  let del: unknown[] = [];
  let list = toSort;
  if (kind === "object") {
    validateMergeKeyInLists(mergeKey, list, order);
    [list, del] = extractToDeleteItems(list);
  }
  const ranked = list.map((v, i) => ({ v, i, at: indexIn(order, v, mergeKey, kind) }));
  ranked.sort((a, b) => (a.at >= 0 && b.at >= 0 ? a.at - b.at : a.i - b.i));
  return [...ranked.map((r) => r.v), ...del];
}

/**
 * Merges `left` (items only the server has) into `right` (the patch's items), keeping the order
 * within each; an item of `left` goes before the first `right` item that comes after it in
 * `serverOrder`.
 */
function mergeSortedSlice(
  left: unknown[],
  right: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
  kind: ListKind,
): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey, kind);
      const ri = indexIn(serverOrder, right[j], mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

function normalizeElementOrder(
  patch: unknown[],
  serverOnly: unknown[],
  patchOrder: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
  kind: ListKind,
): unknown[] {
  const p = normalizeSliceOrder(patch, patchOrder, mergeKey, kind);
  const s = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  return mergeSortedSlice(s, p, serverOrder, mergeKey, kind);
}

// ---------------------------------------------------------------------------------------------
// Merge (applying a patch, or merging two patches)

function mergeMap(
  original: JsonObject | null,
  patch: JsonObject,
  meta: PatchMeta,
  mo: MergeOptions,
): JsonObject {
  if (Object.hasOwn(patch, DIRECTIVE)) return handleDirectiveInMergeMap(patch[DIRECTIVE], patch);
  const out = original ?? {};
  applyRetainKeysDirective(out, patch, mo);
  mergePatchIntoOriginal(out, patch, meta, mo);

  // Deletions from primitive lists after everything else, so the result does not depend on the
  // order of the patch's keys (apimachinery's depends on Go's map order).
  const keys = Object.keys(patch).sort(
    (a, b) =>
      Number(a.startsWith(DELETE_FROM_PRIMITIVE_LIST)) -
      Number(b.startsWith(DELETE_FROM_PRIMITIVE_LIST)),
  );
  for (const k of keys) {
    const pv = patch[k];
    let key = k;
    let isDeleteList = false;
    if (k.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      if (!mo.mergeParallelList) {
        out[k] = pv;
        continue;
      }
      key = extractKey(k, DELETE_FROM_PRIMITIVE_LIST);
      isDeleteList = true;
    }
    if (pv === null) {
      delete out[key];
      if (mo.ignoreUnmatchedNulls) continue;
    }
    if (!Object.hasOwn(out, key) || jsonKind(out[key]) !== jsonKind(pv)) {
      if (!isDeleteList) takePatchValue(out, key, pv, mo);
      continue;
    }
    const ov = out[key];
    if (isObject(ov)) {
      const f = meta.lookup(key);
      out[key] = f.strategy === REPLACE ? pv : mergeMap(ov, pv as JsonObject, f.meta, mo);
    } else if (Array.isArray(ov)) {
      const f = meta.lookup(key);
      if (!mo.mergeParallelList && hasReplaceItem(pv as unknown[])) {
        // Merging two patches where one replaces the list: the result replaces it too.
        out[key] = pv;
        delete out[`${SET_ELEMENT_ORDER}/${key}`];
        continue;
      }
      out[key] =
        f.strategy === MERGE || isDeleteList
          ? mergeSlice(ov, pv as unknown[], f.meta, f.mergeKey ?? "", mo, isDeleteList)
          : pv;
    } else {
      out[key] = pv;
    }
  }
  return out;
}

/** Sets a value the original lacks (or has with another type), minus directives when applying. */
function takePatchValue(out: JsonObject, key: string, pv: unknown, mo: MergeOptions): void {
  if (!mo.mergeParallelList) {
    // Merging patches: keep directives, the server needs them.
    out[key] = pv;
    return;
  }
  if (mo.ignoreUnmatchedNulls) discardNullValues(pv);
  const [v, keep] = removeDirectives(pv);
  if (keep) out[key] = v;
  else delete out[key];
}

function hasReplaceItem(list: unknown[]): boolean {
  return list.some((x) => isObject(x) && x[DIRECTIVE] === REPLACE);
}

function handleDirectiveInMergeMap(directive: unknown, patch: JsonObject): JsonObject {
  if (directive === REPLACE) {
    delete patch[DIRECTIVE];
    return patch;
  }
  if (directive === DELETE) return {};
  throw new PatchError(
    `unknown patch type: ${goString(directive)} in map: ${JSON.stringify(patch)}`,
  );
}

function extractKey(s: string, prefix: string): string {
  const slash = s.indexOf("/");
  if (slash < 0 || s.slice(0, slash) !== prefix) {
    throw new PatchError(`invalid patch key ${JSON.stringify(s)}: expected ${prefix}/<field>`);
  }
  return s.slice(slash + 1);
}

function applyRetainKeysDirective(original: JsonObject, patch: JsonObject, mo: MergeOptions): void {
  if (!Object.hasOwn(patch, RETAIN_KEYS)) return;
  const retain = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!mo.mergeParallelList) {
    if (Object.hasOwn(original, RETAIN_KEYS)) {
      if (!jsonEqual(original[RETAIN_KEYS], retain)) {
        throw new PatchError(
          `${JSON.stringify(original[RETAIN_KEYS])} and ${JSON.stringify(retain)} are not deep equal: this may happen when calculating the 3-way diff patch`,
        );
      }
    } else {
      original[RETAIN_KEYS] = retain;
    }
    return;
  }
  if (!Array.isArray(retain)) {
    throw new PatchError("invalid patch format for $retainKeys: it must be a list");
  }
  const keep = new Set(retain);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ELEMENT_ORDER))
      continue;
    if (!keep.has(k)) {
      throw new PatchError(`invalid patch: ${JSON.stringify(k)} is set but not in $retainKeys`);
    }
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

function mergePatchIntoOriginal(
  original: JsonObject,
  patch: JsonObject,
  meta: PatchMeta,
  mo: MergeOptions,
): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER)) continue;
    const setOrder = patch[key];
    if (!mo.mergeParallelList) {
      if (Object.hasOwn(original, key)) {
        if (!jsonEqual(original[key], setOrder)) {
          throw new PatchError(
            `invalid patch: the ${key} lists of the two patches differ, so they cannot be merged`,
          );
        }
      } else {
        original[key] = setOrder;
      }
    }
    delete patch[key];
    if (!Array.isArray(setOrder)) throw new PatchError(`${key} must be a list`);
    const field = extractKey(key, SET_ELEMENT_ORDER);
    const foundOriginal = Object.hasOwn(original, field);
    const foundPatch = Object.hasOwn(patch, field);
    const originalList = foundOriginal ? asList(original[field], field) : [];
    const patchList = foundPatch ? asList(patch[field], field) : [];
    const f = meta.lookup(field);
    const mergeKey = f.mergeKey ?? "";
    validatePatchWithSetOrderList(patchList, setOrder, mergeKey);
    let merged: unknown[];
    if (foundOriginal && !foundPatch) merged = originalList;
    else if (!foundOriginal && foundPatch) {
      merged = mo.mergeParallelList ? (removeDirectives(patchList)[0] as unknown[]) : patchList;
    } else if (foundOriginal && foundPatch) {
      merged =
        f.strategy === MERGE
          ? mergeSlice(originalList, patchList, f.meta, mergeKey, mo, false)
          : patchList;
    } else continue;
    const [patchItems, serverOnly] =
      mergeKey === ""
        ? partitionPrimitives(merged, setOrder)
        : partitionMaps(merged, setOrder, mergeKey);
    const kind = elementKind(originalList, patchList);
    original[field] = normalizeElementOrder(
      patchItems,
      serverOnly,
      setOrder,
      originalList,
      mergeKey,
      kind,
    );
    delete patch[field];
  }
}

function asList(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) throw new PatchError(`${field} must be a list`);
  return v;
}

function mergeKeyValueEqual(left: unknown, right: unknown, mergeKey: string): boolean {
  if (mergeKey === "") return goEqual(left, right);
  const l = mapWithMergeKey(left, mergeKey);
  const r = mapWithMergeKey(right, mergeKey);
  return goEqual(l[mergeKey], r[mergeKey]);
}

function validatePatchWithSetOrderList(
  patchList: unknown[],
  setOrder: unknown[],
  mergeKey: string,
): void {
  if (setOrder.length === 0 || patchList.length === 0) return;
  const nonDelete = mergeKey ? extractToDeleteItems(patchList)[0] : patchList;
  let pi = 0;
  let si = 0;
  while (pi < nonDelete.length && si < setOrder.length) {
    const item = nonDelete[pi];
    if (isObject(item) && Object.hasOwn(item, DIRECTIVE)) {
      pi++;
      continue;
    }
    if (mergeKeyValueEqual(item, setOrder[si], mergeKey)) pi++;
    si++;
  }
  if (pi < nonDelete.length && si >= setOrder.length) {
    throw new PatchError(
      `the order in the patch list ${JSON.stringify(patchList)} doesn't match the $setElementOrder list ${JSON.stringify(setOrder)}`,
    );
  }
}

function partitionPrimitives(list: unknown[], by: unknown[]): [unknown[], unknown[]] {
  const inPatch = new Set(by);
  const patch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of list) (inPatch.has(v) ? patch : serverOnly).push(v);
  return [patch, serverOnly];
}

function partitionMaps(list: unknown[], by: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const patch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of list) {
    const m = mapWithMergeKey(v, mergeKey);
    const found = findMapByKey(by, mergeKey, m[mergeKey]) >= 0;
    (found ? patch : serverOnly).push(v);
  }
  return [patch, serverOnly];
}

function findMapByKey(list: unknown[], key: string, value: unknown): number {
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (!isObject(item)) throw new PatchError(`value for key ${i} is not a map`);
    if (Object.hasOwn(item, key) && goEqual(item[key], value)) return i;
  }
  return -1;
}

/** Removes maps that carry `$patch` (and the directive maps inside lists); [value, keep]. */
function removeDirectives(v: unknown): [unknown, boolean] {
  if (isObject(v)) {
    if (Object.hasOwn(v, DIRECTIVE)) return [null, false];
    for (const [k, x] of Object.entries(v)) {
      const [nv, keep] = removeDirectives(x);
      if (keep) v[k] = nv;
      else delete v[k];
    }
    return [v, true];
  }
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const x of v) {
      const [nv, keep] = removeDirectives(x);
      if (keep) out.push(nv);
    }
    return [out, true];
  }
  return [v, true];
}

function discardNullValues(v: unknown): void {
  if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (x === null) delete v[k];
      else discardNullValues(x);
    }
  } else if (Array.isArray(v)) {
    for (const x of v) discardNullValues(x);
  }
}

/**
 * Merges a patch list into a list. For lists of maps this emulates Go's slices, because the
 * server's result depends on them: the items are deleted and appended in place, in the array of
 * `original` (whose capacity, as the server builds it, is its length), so that the caller's view
 * of `original`, which `mergePatchIntoOriginal` orders the server-only items by, sees the same
 * shifted and overwritten items apimachinery's does.
 */
function mergeSlice(
  original: unknown[],
  patch: unknown[],
  meta: PatchMeta,
  mergeKey: string,
  mo: MergeOptions,
  isDeleteList: boolean,
): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = elementKind(original, patch);
  if (kind !== "object") {
    if (mo.mergeParallelList && isDeleteList) {
      const drop = new Set(patch);
      return original.filter((v) => !drop.has(v));
    }
    const merged = dedupeScalars([...original, ...patch]);
    const [patchItems, serverOnly] = partitionPrimitives(merged, patch);
    return normalizeElementOrder(patchItems, serverOnly, patch, original, mergeKey, kind);
  }
  if (mergeKey === "") {
    throw new PatchError(
      `cannot merge lists without merge key for ${meta.definition ?? "an unknown type"}`,
    );
  }
  // The special items: deletions (in place), and a replacement of the whole list.
  const plain: unknown[] = [];
  let replace = false;
  const slice = { arr: original, len: original.length, shared: true };
  for (const v of patch) {
    const item = v as JsonObject;
    if (!Object.hasOwn(item, DIRECTIVE)) {
      plain.push(v);
      continue;
    }
    const directive = item[DIRECTIVE];
    if (directive === DELETE) {
      if (!Object.hasOwn(item, mergeKey)) {
        throw new PatchError(
          `map: ${JSON.stringify(item)} does not contain declared merge key: ${mergeKey}`,
        );
      }
      for (;;) {
        const i = findMapByKey(slice.arr.slice(0, slice.len), mergeKey, item[mergeKey]);
        if (i < 0) break;
        // append(s[:i], s[i+1:]...): a shift left in the same array.
        for (let k = i; k < slice.len - 1; k++) slice.arr[k] = slice.arr[k + 1];
        slice.len--;
      }
    } else if (directive === REPLACE) {
      replace = true;
    } else if (directive === MERGE) {
      throw new PatchError("merging lists cannot yet be specified in the patch");
    } else {
      throw new PatchError(
        `unknown patch type: ${goString(directive)} in map: ${JSON.stringify(item)}`,
      );
    }
  }
  if (replace) {
    // The patch's items are the list; nothing is merged into (or changed in) the original.
    const [patchItems, serverOnly] = partitionMaps(plain, [], mergeKey);
    return normalizeElementOrder(patchItems, serverOnly, [], plain, mergeKey, kind);
  }
  const orig = slice.arr.slice(0, slice.len);
  for (const v of plain) {
    const item = mapWithMergeKey(v, mergeKey);
    const i = findMapByKey(slice.arr.slice(0, slice.len), mergeKey, item[mergeKey]);
    if (i >= 0) {
      slice.arr[i] = mergeMap(slice.arr[i] as JsonObject, item, meta, mo);
    } else if (slice.shared && slice.len < slice.arr.length) {
      slice.arr[slice.len++] = v; // within capacity: written into the original's array
    } else {
      slice.arr = [...slice.arr.slice(0, slice.len), v]; // grown: a new array
      slice.len++;
      slice.shared = false;
    }
  }
  const merged = slice.arr.slice(0, slice.len);
  const [patchItems, serverOnly] = partitionMaps(merged, plain, mergeKey);
  return normalizeElementOrder(patchItems, serverOnly, plain, orig, mergeKey, kind);
}

// ---------------------------------------------------------------------------------------------
// Conflicts

function fieldsHaveConflicts(
  left: unknown,
  right: unknown,
  meta: PatchMeta,
  strategy: string | undefined,
  mergeKey: string | undefined,
): boolean {
  if (isObject(left)) {
    if (!isObject(right)) return true;
    const l = Object.hasOwn(left, DIRECTIVE);
    const r = Object.hasOwn(right, DIRECTIVE);
    if ((l || r) && (l !== r || left[DIRECTIVE] !== right[DIRECTIVE])) return true;
    if (strategy === REPLACE) return false;
    return mapsHaveConflicts(left, right, meta);
  }
  if (Array.isArray(left)) {
    if (!Array.isArray(right)) return true;
    return slicesHaveConflicts(left, right, meta, strategy, mergeKey);
  }
  return !jsonEqual(left, right);
}

function mapsHaveConflicts(left: JsonObject, right: JsonObject, meta: PatchMeta): boolean {
  for (const [key, lv] of Object.entries(left)) {
    if (key === DIRECTIVE || key === RETAIN_KEYS || !Object.hasOwn(right, key)) continue;
    // Parallel lists ($setElementOrder, $deleteFromPrimitiveList) order or delete; apimachinery
    // fails to look them up as fields, and neither changes a value another change could contradict.
    if (key.startsWith("$")) continue;
    const f = meta.lookup(key);
    if (fieldsHaveConflicts(lv, right[key], f.meta, f.strategy, f.mergeKey)) return true;
  }
  return false;
}

function slicesHaveConflicts(
  left: unknown[],
  right: unknown[],
  meta: PatchMeta,
  strategy: string | undefined,
  mergeKey: string | undefined,
): boolean {
  if (left.length === 0 && right.length === 0) return false;
  const kind = elementKind(left, right);
  const replaced = hasReplaceItem(left) || hasReplaceItem(right);
  if (strategy === MERGE && !replaced) {
    if (kind !== "object") return false;
    const key = mergeKey ?? "";
    const byKey = (list: unknown[]) => {
      const out = new Map<string, unknown>();
      for (const v of list) {
        const item = mapWithMergeKey(v, key);
        out.set(`${jsonKind(item[key])}:${goString(item[key])}`, item);
      }
      return out;
    };
    const l = byKey(left);
    const r = byKey(right);
    for (const [k, lv] of l) {
      if (r.has(k) && fieldsHaveConflicts(lv, r.get(k), meta, undefined, undefined)) return true;
    }
    return false;
  }
  const strip = (list: unknown[]) => list.filter((x) => !(isObject(x) && x[DIRECTIVE] === REPLACE));
  let l = strip(left);
  let r = strip(right);
  if (l.length !== r.length) return true;
  if (kind !== "object") {
    l = sortScalars(dedupeScalars(l));
    r = sortScalars(dedupeScalars(r));
  }
  return l.some((x, i) => fieldsHaveConflicts(x, r[i], meta, undefined, undefined));
}
