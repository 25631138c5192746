/**
 * RFC 6902 JSON Patch: the operation shapes shared by `Api.patch` (kubekit/client) and the typed
 * patch helpers (kubekit/apply).
 */

/** Adds `value` at `path` (into an object member, or before an array index; `-` appends). */
export interface JsonPatchAdd {
  op: "add";
  path: string;
  value: unknown;
}
/** Removes the value at `path`, which must exist. */
export interface JsonPatchRemove {
  op: "remove";
  path: string;
}
/** Replaces the value at `path`, which must exist. */
export interface JsonPatchReplace {
  op: "replace";
  path: string;
  value: unknown;
}
/** Removes the value at `from` and adds it at `path`. */
export interface JsonPatchMove {
  op: "move";
  from: string;
  path: string;
}
/** Adds a copy of the value at `from` at `path`. */
export interface JsonPatchCopy {
  op: "copy";
  from: string;
  path: string;
}
/** Fails the whole patch unless the value at `path` equals `value`. */
export interface JsonPatchTest {
  op: "test";
  path: string;
  value: unknown;
}

/** One RFC 6902 operation; `path` and `from` are JSON Pointers (RFC 6901), see `jsonPointer`. */
export type JsonPatchOperation =
  | JsonPatchAdd
  | JsonPatchRemove
  | JsonPatchReplace
  | JsonPatchMove
  | JsonPatchCopy
  | JsonPatchTest;

/** A JSON Patch: operations applied in order, all or nothing. */
export type JsonPatch = readonly JsonPatchOperation[];

/**
 * A JSON Pointer from its reference tokens, escaped (`~` → `~0`, `/` → `~1`):
 * `jsonPointer("metadata", "labels", "app.kubernetes.io/name")` is
 * `/metadata/labels/app.kubernetes.io~1name`.
 */
export function jsonPointer(...tokens: (string | number)[]): string {
  return tokens.map((t) => `/${String(t).replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
}
