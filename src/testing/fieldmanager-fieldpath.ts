/**
 * Field paths and field sets as structured-merge-diff (`sigs.k8s.io/structured-merge-diff/v6`
 * `fieldpath` and `value`) defines them, and their FieldsV1 form as kube-apiserver serialises them
 * in `metadata.managedFields`.
 *
 * Values are JSON as `JSON.parse` returns it; `undefined` stands for an absent value (Go's nil
 * `value.Value`), `null` for JSON null. An integral number is Go's int64, any other Go's float64.
 */

import { goString } from "../apply/json.ts";

/** One step of a path: a struct field or map key, a keyed list item, a set item, a list index. */
export type PathElement =
  | { readonly t: "f"; readonly name: string }
  | { readonly t: "k"; readonly keys: readonly (readonly [string, unknown])[] }
  | { readonly t: "v"; readonly value: unknown }
  | { readonly t: "i"; readonly index: number };

export type Path = readonly PathElement[];

export const fieldElement = (name: string): PathElement => ({ t: "f", name });

// ---------------------------------------------------------------------------------------------
// Values: smd's total order and equality

export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Go's byte-wise order of UTF-8 strings, which is the order of their code points. */
export function compareGoStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // UTF-16 puts surrogates (code points above U+FFFF) before U+E000..U+FFFF; UTF-8 after.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function rank(v: unknown): number {
  if (typeof v === "number") return 0;
  if (typeof v === "string") return 1;
  if (typeof v === "boolean") return 2;
  if (Array.isArray(v)) return 3;
  if (isJsonObject(v)) return 4;
  return 5; // null (and absent)
}

/** smd's `value.Compare`: numbers < strings < booleans < lists < maps < null. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 0:
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case 1:
      return compareGoStrings(a as string, b as string);
    case 2:
      return a === b ? 0 : a ? 1 : -1;
    case 3: {
      const x = a as unknown[];
      const y = b as unknown[];
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = compareValues(x[i], y[i]);
        if (c !== 0) return c;
      }
      return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
    }
    case 4: {
      const x = a as Record<string, unknown>;
      const y = b as Record<string, unknown>;
      const kx = Object.keys(x).sort(compareGoStrings);
      const ky = Object.keys(y).sort(compareGoStrings);
      for (let i = 0; i < Math.min(kx.length, ky.length); i++) {
        const c = compareGoStrings(kx[i]!, ky[i]!) || compareValues(x[kx[i]!], y[ky[i]!]);
        if (c !== 0) return c;
      }
      return kx.length === ky.length ? 0 : kx.length < ky.length ? -1 : 1;
    }
    default:
      return 0;
  }
}

/** smd's `value.Equals`: deep equality, numbers by value, key order irrelevant. */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!valuesEqual(a[i], b[i])) return false;
    return true;
  }
  if (isJsonObject(a)) {
    if (!isJsonObject(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    for (const k of ka) if (!Object.hasOwn(b, k) || !valuesEqual(a[k], b[k])) return false;
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Go's text forms

/**
 * JSON as Go's `encoding/json` (and json-iterator's standard-library mode) writes it: object keys
 * sorted, `<`, `>`, `&`, U+2028 and U+2029 escaped.
 */
export function goJson(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return goJsonString(v);
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (Array.isArray(v)) return `[${v.map(goJson).join(",")}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort(compareGoStrings);
  return `{${keys.map((k) => `${goJsonString(k)}:${goJson(o[k])}`).join(",")}}`;
}

export function goJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) {
      out += `\\u${c.toString(16).padStart(4, "0")}`;
    } else out += s[i];
  }
  return `${out}"`;
}

/** Go's `%q` of a string (`strconv.Quote`), for the printable text Kubernetes names are made of. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (c === 0x07) out += "\\a";
    else if (c === 0x08) out += "\\b";
    else if (c === 0x0c) out += "\\f";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c === 0x0b) out += "\\v";
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

/** smd's `value.ToString`, used in path strings. */
export function valueToString(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : goString(v);
  if (typeof v === "string") return goQuote(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (Array.isArray(v)) return `[${v.map(valueToString).join(",")}]`;
  return Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `${k}=${valueToString(x)}`)
    .join("");
}

// ---------------------------------------------------------------------------------------------
// Path elements

const typeOrder = { f: 0, k: 1, v: 2, i: 3 } as const;

export function comparePathElements(a: PathElement, b: PathElement): number {
  if (a.t !== b.t) return typeOrder[a.t] < typeOrder[b.t] ? -1 : 1;
  switch (a.t) {
    case "f":
      return compareGoStrings(a.name, (b as typeof a).name);
    case "k": {
      const x = a.keys;
      const y = (b as typeof a).keys;
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = compareGoStrings(x[i]![0], y[i]![0]) || compareValues(x[i]![1], y[i]![1]);
        if (c !== 0) return c;
      }
      return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
    }
    case "v":
      return compareValues(a.value, (b as typeof a).value);
    case "i": {
      const y = (b as typeof a).index;
      return a.index < y ? -1 : a.index > y ? 1 : 0;
    }
  }
}

export function pathElementsEqual(a: PathElement, b: PathElement): boolean {
  if (a.t !== b.t) return false;
  switch (a.t) {
    case "f":
      return a.name === (b as typeof a).name;
    case "k": {
      const y = (b as typeof a).keys;
      return (
        a.keys.length === y.length &&
        a.keys.every(([k, v], i) => k === y[i]![0] && valuesEqual(v, y[i]![1]))
      );
    }
    case "v":
      return valuesEqual(a.value, (b as typeof a).value);
    case "i":
      return a.index === (b as typeof a).index;
  }
}

/** The element in conflict messages: `.name`, `[name="web",port=80]`, `[="x"]`, `[0]`. */
export function pathElementString(pe: PathElement): string {
  switch (pe.t) {
    case "f":
      return `.${pe.name}`;
    case "k":
      return `[${pe.keys.map(([k, v]) => `${k}=${valueToString(v)}`).join(",")}]`;
    case "v":
      return `[=${valueToString(pe.value)}]`;
    case "i":
      return `[${pe.index}]`;
  }
}

export function pathString(path: Path): string {
  return path.map(pathElementString).join("");
}

/** The FieldsV1 key of an element: `f:name`, `k:{"name":"web"}`, `v:"x"`, `i:0`. */
export function serializePathElement(pe: PathElement): string {
  switch (pe.t) {
    case "f":
      return `f:${pe.name}`;
    case "k":
      return `k:{${pe.keys.map(([k, v]) => `${goJsonString(k)}:${goJson(v)}`).join(",")}}`;
    case "v":
      return `v:${goJson(pe.value)}`;
    case "i":
      return `i:${pe.index}`;
  }
}

/** The inverse of `serializePathElement`; undefined for an unknown element type (skipped). */
export function deserializePathElement(s: string): PathElement | undefined {
  if (s.length < 2 || s[1] !== ":") throw new Error(`missing colon: ${s}`);
  const body = s.slice(2);
  switch (s[0]) {
    case "f":
      return { t: "f", name: body };
    case "v":
      return { t: "v", value: JSON.parse(body) as unknown };
    case "k": {
      const o = JSON.parse(body) as unknown;
      if (!isJsonObject(o)) throw new Error(`not a key: ${s}`);
      return keyElement(Object.entries(o));
    }
    case "i": {
      if (!/^[+-]?\d+$/.test(body)) throw new Error(`not an index: ${s}`);
      return { t: "i", index: Number(body) };
    }
    default:
      return undefined;
  }
}

/** A key element with its fields in smd's order (sorted by name). */
export function keyElement(fields: Iterable<readonly [string, unknown]>): PathElement {
  const keys = [...fields].sort((a, b) => compareGoStrings(a[0], b[0]));
  return { t: "k", keys };
}

// ---------------------------------------------------------------------------------------------
// Sets

interface SetNode {
  readonly pe: PathElement;
  readonly set: FieldSet;
}

function search<T>(items: readonly T[], pe: PathElement, at: (x: T) => PathElement): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (comparePathElements(at(items[mid]!), pe) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const self = (pe: PathElement) => pe;
const nodePe = (n: SetNode) => n.pe;

/**
 * smd's `fieldpath.Set`: the members (leaves owned here) and the children (subsets below an
 * element), both sorted by element. Operations return new sets; `insert` alone mutates, for
 * building.
 */
export class FieldSet {
  members: PathElement[];
  children: SetNode[];

  constructor(members: PathElement[] = [], children: SetNode[] = []) {
    this.members = members;
    this.children = children;
  }

  static of(...paths: Path[]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  insert(path: Path): void {
    if (path.length === 0) return;
    let s: FieldSet = this;
    for (let i = 0; i < path.length - 1; i++) s = s.descend(path[i]!);
    s.insertMember(path[path.length - 1]!);
  }

  insertMember(pe: PathElement): void {
    const i = search(this.members, pe, self);
    if (i < this.members.length && comparePathElements(this.members[i]!, pe) === 0) return;
    this.members.splice(i, 0, pe);
  }

  /** The child set below `pe`, created when missing. */
  descend(pe: PathElement): FieldSet {
    const i = search(this.children, pe, nodePe);
    const n = this.children[i];
    if (n && comparePathElements(n.pe, pe) === 0) return n.set;
    const set = new FieldSet();
    this.children.splice(i, 0, { pe, set });
    return set;
  }

  hasMember(pe: PathElement): boolean {
    const i = search(this.members, pe, self);
    return i < this.members.length && comparePathElements(this.members[i]!, pe) === 0;
  }

  child(pe: PathElement): FieldSet | undefined {
    const i = search(this.children, pe, nodePe);
    const n = this.children[i];
    return n && comparePathElements(n.pe, pe) === 0 ? n.set : undefined;
  }

  has(path: Path): boolean {
    if (path.length === 0) return false;
    let s: FieldSet | undefined = this;
    for (let i = 0; i < path.length - 1; i++) {
      s = s.child(path[i]!);
      if (!s) return false;
    }
    return s.hasMember(path[path.length - 1]!);
  }

  /** The subset below `pe`, or an empty set. */
  withPrefix(pe: PathElement): FieldSet {
    return this.child(pe) ?? new FieldSet();
  }

  empty(): boolean {
    return this.members.length === 0 && this.children.every((n) => n.set.empty());
  }

  size(): number {
    return this.members.length + this.children.reduce((a, n) => a + n.set.size(), 0);
  }

  equals(o: FieldSet): boolean {
    return (
      this.members.length === o.members.length &&
      this.members.every((m, i) => comparePathElements(m, o.members[i]!) === 0) &&
      this.children.length === o.children.length &&
      this.children.every(
        (n, i) =>
          comparePathElements(n.pe, o.children[i]!.pe) === 0 && n.set.equals(o.children[i]!.set),
      )
    );
  }

  union(o: FieldSet): FieldSet {
    return new FieldSet(
      mergeSorted(this.members, o.members, self, (a) => a),
      mergeSorted(this.children, o.children, nodePe, (a, b) => ({
        pe: a.pe,
        set: a.set.union(b.set),
      })),
    );
  }

  intersection(o: FieldSet): FieldSet {
    const members = this.members.filter((m) => o.hasMember(m));
    const children: SetNode[] = [];
    for (const n of this.children) {
      const other = o.child(n.pe);
      if (!other) continue;
      const r = n.set.intersection(other);
      if (!r.empty()) children.push({ pe: n.pe, set: r });
    }
    return new FieldSet(members, children);
  }

  /** Members of `o` remove members; children of `o` remove below (a member does not). */
  difference(o: FieldSet): FieldSet {
    const members = this.members.filter((m) => !o.hasMember(m));
    const children: SetNode[] = [];
    for (const n of this.children) {
      const other = o.child(n.pe);
      if (!other) {
        children.push(n);
        continue;
      }
      const d = n.set.difference(other);
      if (!d.empty()) children.push({ pe: n.pe, set: d });
    }
    return new FieldSet(members, children);
  }

  /** Like `difference`, but a member of `o` also removes everything below it. */
  recursiveDifference(o: FieldSet): FieldSet {
    const members = this.members.filter((m) => !o.hasMember(m));
    const children: SetNode[] = [];
    for (const n of this.children) {
      if (o.hasMember(n.pe)) continue;
      const other = o.child(n.pe);
      if (!other) {
        children.push(n);
        continue;
      }
      const d = n.set.recursiveDifference(other);
      if (!d.empty()) children.push({ pe: n.pe, set: d });
    }
    return new FieldSet(members, children);
  }

  /** Every path of the set, members of a node before its children (smd's `Iterate`). */
  paths(): Path[] {
    const out: Path[] = [];
    const walk = (s: FieldSet, prefix: PathElement[]) => {
      for (const m of s.members) out.push([...prefix, m]);
      for (const n of s.children) walk(n.set, [...prefix, n.pe]);
    };
    walk(this, []);
    return out;
  }

  toString(): string {
    return this.paths().map(pathString).join("\n");
  }

  /** The FieldsV1 object kube-apiserver writes, its keys in smd's order. */
  toFieldsV1(): FieldsV1 {
    return emit(this, false);
  }

  /** Parses FieldsV1 as kube-apiserver does; unknown element types are skipped. */
  static fromFieldsV1(fields: unknown): FieldSet {
    if (!isJsonObject(fields)) throw new Error("FieldsV1 must be a JSON object");
    return read(fields).children ?? new FieldSet();
  }
}

/** FieldsV1 (`metadata.managedFields[].fieldsV1`). */
export type FieldsV1 = { [pathElement: string]: FieldsV1 };

function mergeSorted<T>(
  a: readonly T[],
  b: readonly T[],
  at: (x: T) => PathElement,
  both: (x: T, y: T) => T,
): T[] {
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const c = comparePathElements(at(a[i]!), at(b[j]!));
    if (c < 0) out.push(a[i++]!);
    else if (c > 0) out.push(b[j++]!);
    else out.push(both(a[i++]!, b[j++]!));
  }
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

function emit(s: FieldSet, includeSelf: boolean): FieldsV1 {
  const out: FieldsV1 = {};
  if (includeSelf && (s.members.length > 0 || s.children.length > 0)) out["."] = {};
  let mi = 0;
  let ci = 0;
  while (mi < s.members.length || ci < s.children.length) {
    const m = s.members[mi];
    const n = s.children[ci];
    const c = m && n ? comparePathElements(m, n.pe) : m ? -1 : 1;
    if (c < 0) {
      out[serializePathElement(m!)] = {};
      mi++;
    } else if (c > 0) {
      out[serializePathElement(n!.pe)] = emit(n!.set, false);
      ci++;
    } else {
      out[serializePathElement(n!.pe)] = emit(n!.set, true);
      mi++;
      ci++;
    }
  }
  return out;
}

function read(o: Record<string, unknown>): { children: FieldSet | undefined; isMember: boolean } {
  let children: FieldSet | undefined;
  let isMember = false;
  for (const [key, sub] of Object.entries(o)) {
    if (key === ".") {
      isMember = true;
      continue;
    }
    const pe = deserializePathElement(key);
    if (pe === undefined) continue;
    if (!isJsonObject(sub)) throw new Error(`FieldsV1: the value of ${key} is not an object`);
    const r = read(sub);
    if (r.isMember) {
      children ??= new FieldSet();
      children.insertMember(pe);
    }
    if (r.children) {
      children ??= new FieldSet();
      const into = children.descend(pe);
      const merged = into.union(r.children);
      into.members = merged.members;
      into.children = merged.children;
    }
  }
  return { children, isMember: isMember || children === undefined };
}
