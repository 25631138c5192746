/**
 * Applying RFC 6902 JSON patches the way kube-apiserver applies them (it uses
 * `gopkg.in/evanphx/json-patch.v4`), so a patch applied here gives what the server would store.
 *
 * Where that library departs from the RFC, this follows the library:
 * - `replace` of an object member that does not exist adds it (the RFC requires it to exist);
 * - a negative array index counts from the end (`-1` is the last item) for every operation;
 * - `test` of a member that does not exist passes when the expected value is `null`;
 * - `add` at the root (`""`) is an error; `replace` at the root replaces the whole document with
 *   an object or an array.
 * Array indices are read as Go's `strconv.Atoi` reads them (an optional sign, then digits).
 */
import { PatchError } from "./errors.ts";
import { isObject, jsonClone, jsonEqual } from "./json.ts";
import type { JsonPatch } from "./types.ts";

/**
 * Why a JSON patch failed, as the library's sentinel errors name it:
 * - `decode`: the patch is not a list of operation objects (the server answers 400);
 * - `missing`: a path, `from` or value that the operation needs is absent, or the location it
 *   names does not exist;
 * - `invalidIndex`: an array index out of range or not a number;
 * - `unknownOperation`: an `op` other than the six the RFC defines;
 * - `testFailed`: a `test` operation did not match.
 * Every reason but `decode` is a 422 Invalid on the server.
 */
export type JsonPatchErrorReason =
  | "decode"
  | "missing"
  | "invalidIndex"
  | "unknownOperation"
  | "testFailed";

/** A JSON patch that cannot be applied; `operation` is the 0-based index of the failing one. */
export class JsonPatchError extends PatchError {
  static override readonly brand: string = "JsonPatchError";
  readonly reason: JsonPatchErrorReason;
  readonly operation: number | undefined;

  constructor(reason: JsonPatchErrorReason, message: string, operation?: number) {
    super(operation === undefined ? message : `operation ${operation}: ${message}`, {
      code: "ERR_KUBEKIT_JSON_PATCH",
    });
    this.reason = reason;
    this.operation = operation;
  }
}

type Container = Record<string, unknown> | unknown[];

/** Decodes one reference token of a JSON Pointer (`~1` → `/`, `~0` → `~`). */
function unescapeToken(token: string): string {
  return token.replaceAll("~1", "/").replaceAll("~0", "~");
}

/**
 * The container holding the location `path` names, and the last token: the library's
 * `findObject`. Undefined when `path` has fewer than one token or a parent is missing or scalar.
 */
function parentOf(doc: unknown, path: string): { con: Container; key: string } | undefined {
  if (!path.startsWith("/")) return undefined;
  const tokens = path.slice(1).split("/").map(unescapeToken);
  let cur: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    cur = Array.isArray(cur) ? arrayGet(cur, t, true) : isObject(cur) ? cur[t] : undefined;
    if (!Array.isArray(cur) && !isObject(cur)) return undefined;
  }
  return { con: cur as Container, key: tokens[tokens.length - 1]! };
}

function atoi(key: string): number | undefined {
  return /^[+-]?\d+$/.test(key) ? Number.parseInt(key, 10) : undefined;
}

/** The item at `key`; out of range or not a number is an `invalidIndex` error unless `quiet`. */
function arrayGet(arr: unknown[], key: string, quiet = false): unknown {
  let i = atoi(key);
  if (i !== undefined && i < 0) i = i >= -arr.length ? i + arr.length : undefined;
  if (i === undefined || i >= arr.length) {
    if (quiet) return undefined;
    throw new JsonPatchError("invalidIndex", `unable to access invalid index: ${key}`);
  }
  return arr[i];
}

function arrayIndex(key: string, size: number): number {
  const i = atoi(key);
  if (i === undefined) {
    throw new JsonPatchError("invalidIndex", `value was not a proper array index: '${key}'`);
  }
  if (i >= size || i < -size) {
    throw new JsonPatchError("invalidIndex", `unable to access invalid index: ${key}`);
  }
  return i < 0 ? i + size : i;
}

function add(con: Container, key: string, value: unknown): void {
  if (!Array.isArray(con)) {
    con[key] = value;
    return;
  }
  if (key === "-") {
    con.push(value);
    return;
  }
  con.splice(arrayIndex(key, con.length + 1), 0, value);
}

function remove(con: Container, key: string, path: string): unknown {
  if (!Array.isArray(con)) {
    if (!Object.hasOwn(con, key)) {
      throw new JsonPatchError("missing", `unable to remove nonexistent key: ${key} (${path})`);
    }
    const v = con[key];
    delete con[key];
    return v;
  }
  return con.splice(arrayIndex(key, con.length), 1)[0];
}

function get(con: Container, key: string): unknown {
  return Array.isArray(con) ? arrayGet(con, key) : con[key];
}

function pathOf(op: Record<string, unknown>, field: "path" | "from"): string {
  const p = op[field];
  if (typeof p !== "string") {
    throw new JsonPatchError("missing", `operation has no ${field} field`);
  }
  return p;
}

function operationValue(op: Record<string, unknown>): unknown {
  if (!Object.hasOwn(op, "value")) throw new JsonPatchError("missing", "operation has no value");
  return jsonClone(op.value);
}

function locate(doc: unknown, path: string, what: string): { con: Container; key: string } {
  const at = parentOf(doc, path);
  if (!at) {
    throw new JsonPatchError("missing", `${what} does not apply: doc is missing path: ${path}`);
  }
  return at;
}

/**
 * `target` with the JSON patch applied, operations in order, all or nothing: a failing operation
 * throws a `JsonPatchError` and nothing is changed (the inputs are never modified). `patch` may be
 * a typed `JsonPatch` or any parsed JSON; anything that is not a list of objects is a `decode`
 * error.
 */
export function applyJsonPatch<T>(target: T, patch: JsonPatch | readonly unknown[]): T;
export function applyJsonPatch(target: unknown, patch: unknown): unknown;
export function applyJsonPatch(target: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) {
    throw new JsonPatchError("decode", "a JSON patch must be a list of operations");
  }
  // The root is held in a box so that `replace ""` can swap it.
  const box = { doc: jsonClone(target) };
  patch.forEach((raw, index) => {
    if (!isObject(raw)) {
      throw new JsonPatchError("decode", `operation ${index} is not an object`);
    }
    try {
      applyOne(box, raw);
    } catch (err) {
      if (err instanceof JsonPatchError && err.operation === undefined) {
        throw new JsonPatchError(err.reason, err.message, index);
      }
      throw err;
    }
  });
  return box.doc;
}

function applyOne(box: { doc: unknown }, op: Record<string, unknown>): void {
  switch (op.op) {
    case "add": {
      const path = pathOf(op, "path");
      const { con, key } = locate(box.doc, path, "add operation");
      add(con, key, operationValue(op));
      return;
    }
    case "remove": {
      const path = pathOf(op, "path");
      const { con, key } = locate(box.doc, path, "remove operation");
      remove(con, key, path);
      return;
    }
    case "replace": {
      const path = pathOf(op, "path");
      const value = operationValue(op);
      if (path === "") {
        if (!isObject(value) && !Array.isArray(value)) {
          throw new JsonPatchError("missing", "replace of the root needs an object or an array");
        }
        box.doc = value;
        return;
      }
      const { con, key } = locate(box.doc, path, "replace operation");
      if (Array.isArray(con)) con[arrayIndex(key, con.length)] = value;
      else con[key] = value;
      return;
    }
    case "move": {
      const from = pathOf(op, "from");
      const src = locate(box.doc, from, "move operation");
      const value = get(src.con, src.key);
      remove(src.con, src.key, from);
      const path = pathOf(op, "path");
      const dst = locate(box.doc, path, "move operation");
      add(dst.con, dst.key, value);
      return;
    }
    case "copy": {
      const from = pathOf(op, "from");
      const src = locate(box.doc, from, "copy operation");
      if (!Array.isArray(src.con) && !Object.hasOwn(src.con, src.key)) {
        throw new JsonPatchError("missing", `copy operation does not apply: missing ${from}`);
      }
      const value = jsonClone(get(src.con, src.key));
      const path = pathOf(op, "path");
      const dst = locate(box.doc, path, "copy operation");
      add(dst.con, dst.key, value);
      return;
    }
    case "test": {
      const path = pathOf(op, "path");
      const expected = Object.hasOwn(op, "value") ? op.value : null;
      let actual: unknown;
      if (path === "") actual = box.doc;
      else {
        const { con, key } = locate(box.doc, path, "test operation");
        actual = get(con, key);
      }
      const same =
        actual === undefined || actual === null
          ? expected === null || expected === undefined
          : jsonEqual(actual, expected);
      if (!same) throw new JsonPatchError("testFailed", `testing value ${path} failed`);
      return;
    }
    default:
      throw new JsonPatchError(
        "unknownOperation",
        `unexpected kind: ${typeof op.op === "string" ? op.op : "unknown"}`,
      );
  }
}
