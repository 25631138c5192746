/**
 * RFC 7386 JSON merge patches: computing one from two objects, and applying one. The patch type
 * every resource accepts, custom resources included (lists are replaced whole).
 */
import { isObject, type JsonObject, jsonClone, jsonEqual } from "./json.ts";
import type { MergePatch } from "./types.ts";

/**
 * The merge patch that turns `original` into `modified`: changed and added fields, `null` for
 * removed ones, nested objects diffed, everything else (lists included) replaced when it differs.
 * An empty object means no change.
 */
export function createMergePatch<T>(original: T, modified: T): MergePatch<T> {
  return diff(original, modified) as MergePatch<T>;
}

function diff(original: unknown, modified: unknown): unknown {
  if (!isObject(original) || !isObject(modified)) return jsonClone(modified);
  const patch: JsonObject = {};
  for (const [k, mv] of Object.entries(modified)) {
    if (mv === undefined) continue;
    const ov = original[k];
    if (ov === undefined) patch[k] = jsonClone(mv);
    else if (isObject(ov) && isObject(mv)) {
      const d = diff(ov, mv) as JsonObject;
      if (Object.keys(d).length > 0) patch[k] = d;
    } else if (!jsonEqual(ov, mv)) patch[k] = jsonClone(mv);
  }
  for (const [k, ov] of Object.entries(original)) {
    if (ov !== undefined && modified[k] === undefined) patch[k] = null;
  }
  return patch;
}

/** `target` with `patch` merged in, as RFC 7386 defines it; the inputs are not changed. */
export function applyMergePatch<T>(target: T, patch: MergePatch<T>): T;
export function applyMergePatch(target: unknown, patch: unknown): unknown;
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  return merge(target, patch);
}

function merge(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return jsonClone(patch);
  const out: JsonObject = isObject(target) ? jsonClone(target) : {};
  for (const [k, pv] of Object.entries(patch)) {
    if (pv === null) delete out[k];
    else if (pv !== undefined) out[k] = merge(out[k], pv);
  }
  return out;
}
