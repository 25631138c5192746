/**
 * structured-merge-diff's `typed` package over JSON values: validation, the field set of a value,
 * comparison, merge, item removal and the schema reconciliation of field sets. Each walker follows
 * its Go counterpart step for step (including the quirks the server's results depend on: an
 * emptied map or list becomes null after a removal, a duplicated live item merges as null, the
 * first unknown field ends validation), so the sets and objects come out as the server's do.
 */

import {
  FieldSet,
  fieldElement,
  isJsonObject,
  keyElement,
  type PathElement,
  pathElementString,
  pathElementsEqual as peEquals,
  serializePathElement,
  valuesEqual,
} from "./fieldmanager-fieldpath.ts";
import {
  type Atom,
  findField,
  type ListAtom,
  type MapAtom,
  resolve,
  type ScalarType,
  type SsaSchema,
  type TypeRef,
  UNTYPED_DEDUCED,
} from "./ssa-schema.ts";

/** A schema and the type of the value at hand. */
export interface Typed {
  readonly schema: SsaSchema;
  readonly root: TypeRef;
}

export interface ValidationError {
  path: string;
  message: string;
}

/** smd's `ValidationErrors`: one error as `path: message`, several as an indented list. */
export class TypedValueError extends Error {
  readonly errors: readonly ValidationError[];

  constructor(errors: readonly ValidationError[]) {
    const one = (e: ValidationError) => (e.path ? `${e.path}: ${e.message}` : e.message);
    super(
      errors.length === 1
        ? one(errors[0]!)
        : ["errors:", ...errors.map((e) => `  ${one(e)}`)].join("\n"),
    );
    this.errors = errors;
  }
}

const err = (message: string): ValidationError[] => [{ path: "", message }];
const prefixed = (errs: ValidationError[], prefix: string): ValidationError[] => {
  for (const e of errs) e.path = prefix + e.path;
  return errs;
};

function refName(ref: TypeRef): string {
  return "named" in ref ? ref.named : "inlined type";
}

function isScalar(v: unknown): boolean {
  return typeof v === "number" || typeof v === "string" || typeof v === "boolean";
}

/** smd's `deduceAtom`: the part of a multi-part (untyped) atom the value is. */
function deduce(atom: Atom, v: unknown): Atom {
  if (v === undefined) return atom;
  if (isScalar(v)) {
    if (atom.scalar) return { scalar: atom.scalar };
  } else if (Array.isArray(v)) {
    if (atom.list) return { list: atom.list };
  } else if (isJsonObject(v)) {
    if (atom.map) return { map: atom.map };
  }
  return atom;
}

function atomsEqual(a: Atom, b: Atom): boolean {
  return a.scalar === b.scalar && a.list === b.list && a.map === b.map;
}

/** Which handler smd's `handleAtom` calls: a map first, then a scalar, then a list. */
function part(a: Atom): "map" | "scalar" | "list" | undefined {
  return a.map ? "map" : a.scalar ? "scalar" : a.list ? "list" : undefined;
}

function invalidAtom(ref: TypeRef): ValidationError[] {
  return err(
    `schema error: invalid atom: ${"named" in ref ? `named type: ${ref.named}` : "inlined"}`,
  );
}

/** The type of a struct field or map key (smd's `FindField`, else the element type). */
function fieldType(m: MapAtom, key: string): TypeRef | undefined {
  return findField(m, key)?.type ?? m.element;
}

function goValueString(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  if (isScalar(v)) return String(v);
  return JSON.stringify(v);
}

// ---------------------------------------------------------------------------------------------
// List items as path elements

function goStringList(keys: readonly string[]): string {
  return `[${keys.map((k) => JSON.stringify(k)).join(" ")}]`;
}

/** smd's `listItemToPathElement`: a keyed item's key, a set item's value. */
export function listItemToPathElement(
  schema: SsaSchema,
  list: ListAtom,
  item: unknown,
): PathElement | string {
  if (list.relationship !== "associative") return "invalid indexing of non-associative list";
  if (list.keys.length > 0) {
    if (item === null) return "associative list with keys may not have a null element";
    if (!isJsonObject(item)) return "associative list with keys may not have non-map elements";
    const fields: [string, unknown][] = [];
    for (const key of list.keys) {
      if (Object.hasOwn(item, key) && item[key] !== undefined) {
        fields.push([key, item[key]]);
        continue;
      }
      const element = resolve(schema, list.element);
      if (!element) return `couldn't find default value for ${key}: invalid elementType for list`;
      if (!element.map) {
        return `couldn't find default value for ${key}: associative list may not have non-map types`;
      }
      const d = findField(element.map, key)?.default;
      if (d !== undefined && d !== null) fields.push([key, d]);
    }
    if (fields.length === 0) {
      return `associative list with keys has an element that omits all key fields ${goStringList(list.keys)} (and doesn't have default values for any key fields)`;
    }
    return keyElement(fields);
  }
  if (isJsonObject(item)) return "associative list without keys has an element that's a map type";
  if (Array.isArray(item)) return "not supported: associative list with lists as elements";
  if (item === null) return "associative list without keys has an element that's an explicit null";
  return { t: "v", value: item };
}

// ---------------------------------------------------------------------------------------------
// Validation

function validateScalar(t: ScalarType, v: unknown, prefix: string): ValidationError[] {
  if (v === undefined || v === null) return [];
  switch (t) {
    case "numeric":
      return typeof v === "number"
        ? []
        : err(`${prefix}expected numeric (int or float), got ${goTypeName(v)}`);
    case "string":
      return typeof v === "string" ? [] : err(`${prefix}expected string, got ${goValueString(v)}`);
    case "boolean":
      return typeof v === "boolean"
        ? []
        : err(`${prefix}expected boolean, got ${goValueString(v)}`);
    case "untyped":
      return isScalar(v) ? [] : err(`${prefix}expected any scalar, got ${goValueString(v)}`);
  }
}

function goTypeName(v: unknown): string {
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) return "[]interface {}";
  if (isJsonObject(v)) return "map[string]interface {}";
  return "<nil>";
}

/**
 * smd's `TypedValue.Validate`: the errors that make kube-apiserver refuse to type an object
 * (`field not declared in schema`, duplicate keys unless `allowDuplicates`, wrong scalar types).
 */
export function validate(
  typed: Typed,
  value: unknown,
  allowDuplicates: boolean,
): ValidationError[] {
  const { schema } = typed;
  const walk = (ref: TypeRef, v: unknown): ValidationError[] => {
    const atom = resolve(schema, ref);
    if (!atom) return err(`schema error: no type found matching: ${refName(ref)}`);
    const a = deduce(atom, v);
    switch (part(a)) {
      case "map": {
        if (v === null) return [];
        if (!isJsonObject(v)) return err(`expected map, got ${goValueString(v)}`);
        const out: ValidationError[] = [];
        for (const [key, child] of Object.entries(v)) {
          const f = findField(a.map!, key);
          const tr = f?.type ?? a.map!.element;
          if (!tr) {
            out.push(...prefixed(err("field not declared in schema"), `.${key}`));
            break;
          }
          out.push(...prefixed(walk(tr, child), `.${key}`));
        }
        return out;
      }
      case "scalar":
        return validateScalar(a.scalar!, v, "");
      case "list": {
        if (v === null || v === undefined) return [];
        if (!Array.isArray(v)) return err(`expected list, got ${goValueString(v)}`);
        const out: ValidationError[] = [];
        const seen = new Set<string>();
        for (let i = 0; i < v.length; i++) {
          let pe: PathElement;
          if (a.list!.relationship !== "associative") pe = { t: "i", index: i };
          else {
            const r = listItemToPathElement(schema, a.list!, v[i]);
            if (typeof r === "string") return [...out, ...err(`element ${i}: ${r}`)];
            pe = r;
            const key = serializePathElement(pe);
            if (seen.has(key) && !allowDuplicates) {
              out.push(...err(`duplicate entries for key ${pathElementString(pe)}`));
            }
            seen.add(key);
          }
          out.push(...prefixed(walk(a.list!.element, v[i]), pathElementString(pe)));
        }
        return out;
      }
      default:
        return invalidAtom(ref);
    }
  };
  return walk(typed.root, value);
}

// ---------------------------------------------------------------------------------------------
// The field set of a value

/** smd's `TypedValue.ToFieldSet`. */
export function toFieldSet(typed: Typed, value: unknown): FieldSet {
  const { schema } = typed;
  const root = new FieldSet();
  /** Where the walk is: the set of the parent (made on first use) and the element. */
  interface At {
    readonly up: At | undefined;
    readonly pe: PathElement | undefined;
    node: FieldSet | undefined;
  }
  const nodeOf = (at: At): FieldSet => {
    at.node ??= nodeOf(at.up!).descend(at.pe!);
    return at.node;
  };
  const insertSelf = (at: At) => {
    if (at.up) nodeOf(at.up).insertMember(at.pe!);
  };
  const walk = (ref: TypeRef, v: unknown, at: At): void => {
    const atom = resolve(schema, ref);
    if (!atom) return;
    const a = deduce(atom, v);
    switch (part(a)) {
      case "scalar":
        insertSelf(at);
        return;
      case "list": {
        const t = a.list!;
        if (t.relationship === "atomic") {
          insertSelf(at);
          return;
        }
        if (!Array.isArray(v)) return;
        const pes = v.map((item) => listItemToPathElement(schema, t, item));
        const seen = new Set<string>();
        const duplicates = new Set<string>();
        const keys = pes.map((pe) =>
          typeof pe === "string" ? undefined : serializePathElement(pe),
        );
        pes.forEach((pe, i) => {
          const key = keys[i];
          if (typeof pe === "string" || key === undefined) return;
          if (!seen.has(key)) seen.add(key);
          else if (!duplicates.has(key)) {
            nodeOf(at).insertMember(pe);
            duplicates.add(key);
          }
        });
        v.forEach((item, i) => {
          const pe = pes[i]!;
          if (typeof pe === "string" || duplicates.has(keys[i]!)) return;
          const child: At = { up: at, pe, node: undefined };
          walk(t.element, item, child);
          insertSelf(child);
        });
        return;
      }
      case "map": {
        const t = a.map!;
        if (t.relationship === "atomic") {
          insertSelf(at);
          return;
        }
        if (!isJsonObject(v)) return;
        for (const [key, val] of Object.entries(v)) {
          const tr = fieldType(t, key);
          const child: At = { up: at, pe: fieldElement(key), node: undefined };
          if (tr) walk(tr, val, child);
          if (val === null || (isJsonObject(val) && Object.keys(val).length === 0))
            insertSelf(child);
          else if (!findField(t, key)) insertSelf(child);
        }
        return;
      }
    }
  };
  walk(typed.root, value, { up: undefined, pe: undefined, node: root });
  return root;
}

// ---------------------------------------------------------------------------------------------
// Comparison

export interface Comparison {
  removed: FieldSet;
  modified: FieldSet;
  added: FieldSet;
}

/** smd's `TypedValue.Compare(rhs)`: what changed from `lhs` to `rhs`. */
export function compare(typed: Typed, lhs: unknown, rhs: unknown): Comparison {
  const { schema } = typed;
  const c: Comparison = {
    removed: new FieldSet(),
    modified: new FieldSet(),
    added: new FieldSet(),
  };
  const errors: ValidationError[] = [];
  const path: PathElement[] = [];

  interface W {
    lhs: unknown;
    rhs: unknown;
    inLeaf: boolean;
  }

  const doLeaf = (w: W) => {
    if (w.inLeaf) return;
    w.inLeaf = true;
    if (w.lhs === undefined) c.added.insert(path);
    else if (w.rhs === undefined) c.removed.insert(path);
    else if (!valuesEqual(w.rhs, w.lhs)) c.modified.insert(path);
  };

  const handle = (a: Atom, ref: TypeRef, w: W): void => {
    switch (part(a)) {
      case "map": {
        const l = isJsonObject(w.lhs) ? w.lhs : undefined;
        const r = isJsonObject(w.rhs) ? w.rhs : undefined;
        const emptyPromote =
          (!l || Object.keys(l).length === 0) && (!r || Object.keys(r).length === 0);
        if (a.map!.relationship === "atomic" || emptyPromote) {
          doLeaf(w);
          return;
        }
        for (const key of zipKeys(l, r)) {
          const tr = fieldType(a.map!, key);
          path.push(fieldElement(key));
          if (tr) walk(tr, l?.[key], r?.[key]);
          else errors.push(...err(`schema error: no type found for ${key}`));
          path.pop();
        }
        return;
      }
      case "scalar": {
        const le = validateScalar(a.scalar!, w.lhs, "lhs: ");
        const re = validateScalar(a.scalar!, w.rhs, "rhs: ");
        if (le.length > 0 && re.length > 0) {
          errors.push(...le, ...re);
          return;
        }
        doLeaf(w);
        return;
      }
      case "list": {
        const l = Array.isArray(w.lhs) ? w.lhs : undefined;
        const r = Array.isArray(w.rhs) ? w.rhs : undefined;
        const emptyPromote = (!l || l.length === 0) && (!r || r.length === 0);
        if (a.list!.relationship === "atomic" || emptyPromote) {
          doLeaf(w);
          return;
        }
        compareListItems(a.list!, l, r);
        return;
      }
      default:
        errors.push(...invalidAtom(ref));
    }
  };

  const compareListItems = (t: ListAtom, l: unknown[] | undefined, r: unknown[] | undefined) => {
    const all: PathElement[] = [];
    const lValues = new ObservedMap();
    const rValues = new ObservedMap();
    const collect = (list: unknown[] | undefined, into: ObservedMap, isLeft: boolean) => {
      for (const [i, item] of (list ?? []).entries()) {
        const pe = listItemToPathElement(schema, t, item);
        if (typeof pe === "string") {
          errors.push(...err(`element ${i}: ${pe}`));
          continue;
        }
        const seen = into.get(pe) as unknown[] | undefined;
        if (seen) seen.push(item);
        else {
          into.set(pe, [item]);
          if (isLeft || !lValues.has(pe)) all.push(pe);
        }
      }
    };
    collect(l, lValues, true);
    collect(r, rValues, false);
    for (const pe of all) {
      const ll = (lValues.get(pe) as unknown[] | undefined) ?? [];
      const rl = (rValues.get(pe) as unknown[] | undefined) ?? [];
      path.push(pe);
      if (ll.length <= 1 && rl.length <= 1) walk(t.element, ll[0], rl[0]);
      else if (ll.length >= 2 && rl.length >= 2) {
        if (ll.length !== rl.length || ll.some((x, i) => !valuesEqual(x, rl[i]))) {
          c.modified.insert(path);
        }
      } else if (ll.length >= 2) {
        if (rl.length !== 0) walk(t.element, undefined, rl[0]);
        c.removed.insert(path);
      } else {
        if (ll.length !== 0) walk(t.element, ll[0], undefined);
        c.added.insert(path);
      }
      path.pop();
    }
  };

  const walk = (ref: TypeRef, lhs: unknown, rhs: unknown): void => {
    const atom = resolve(schema, ref);
    if (!atom) {
      errors.push(...err(`schema error: no type found matching: ${refName(ref)}`));
      return;
    }
    const al = deduce(atom, lhs);
    const ar = deduce(atom, rhs);
    const w: W = { lhs, rhs, inLeaf: false };
    if (rhs === undefined) handle(al, ref, w);
    else if (lhs === undefined || atomsEqual(al, ar)) handle(ar, ref, w);
    else {
      handle(al, ref, { ...w });
      handle(ar, ref, w);
    }
    if (!w.inLeaf) {
      if (lhs === undefined) c.added.insert(path);
      else if (rhs === undefined) c.removed.insert(path);
    }
  };

  walk(typed.root, lhs, rhs);
  if (errors.length > 0) throw new TypedValueError(errors);
  return c;
}

function zipKeys(
  l: Record<string, unknown> | undefined,
  r: Record<string, unknown> | undefined,
): string[] {
  const keys = Object.keys(l ?? {});
  for (const k of Object.keys(r ?? {})) if (!l || !Object.hasOwn(l, k)) keys.push(k);
  return keys;
}

// ---------------------------------------------------------------------------------------------
// Merge

/**
 * smd's `TypedValue.Merge(rhs)` with the apply rule (the right side wins at every leaf): the
 * applied configuration merged into the live object. Lists keep the live order, with new items
 * placed after the items they follow in the configuration.
 */
export function merge(typed: Typed, lhs: unknown, rhs: unknown): unknown {
  const { schema } = typed;
  const errors: ValidationError[] = [];

  /** undefined: no output (smd's nil `out`). */
  const walk = (ref: TypeRef, l: unknown, r: unknown): unknown => {
    const atom = resolve(schema, ref);
    if (!atom) {
      errors.push(...err(`schema error: no type found matching: ${refName(ref)}`));
      return undefined;
    }
    const al = deduce(atom, l);
    const ar = deduce(atom, r);
    if (r === undefined) return handle(al, ref, l, r);
    if (l === undefined || atomsEqual(al, ar)) return handle(ar, ref, l, r);
    handle(al, ref, l, r);
    return handle(ar, ref, l, r);
  };

  const leaf = (l: unknown, r: unknown): unknown => (r !== undefined ? r : l);

  const handle = (a: Atom, ref: TypeRef, l: unknown, r: unknown): unknown => {
    switch (part(a)) {
      case "map": {
        const lm = isJsonObject(l) ? l : undefined;
        const rm = isJsonObject(r) ? r : undefined;
        const emptyPromote =
          (!lm || Object.keys(lm).length === 0) && (!rm || Object.keys(rm).length === 0);
        if (a.map!.relationship === "atomic" || emptyPromote) return leaf(l, r);
        const out: Record<string, unknown> = {};
        for (const key of zipKeys(lm, rm)) {
          const tr = fieldType(a.map!, key);
          if (!tr) {
            errors.push(...err(`.${key}: schema error: no type found`));
            continue;
          }
          const v = walk(tr, lm?.[key], rm?.[key]);
          if (v !== undefined) out[key] = v;
        }
        return Object.keys(out).length > 0 ? out : undefined;
      }
      case "scalar": {
        const le = validateScalar(a.scalar!, l, "lhs: ");
        const re = validateScalar(a.scalar!, r, "rhs: ");
        if (le.length > 0 && re.length > 0) {
          errors.push(...le, ...re);
          return undefined;
        }
        return leaf(l, r);
      }
      case "list": {
        const ll = Array.isArray(l) ? l : undefined;
        const rl = Array.isArray(r) ? r : undefined;
        const emptyPromote = (!ll || ll.length === 0) && (!rl || rl.length === 0);
        if (a.list!.relationship === "atomic" || emptyPromote) return leaf(l, r);
        return mergeListItems(a.list!, ll, rl);
      }
      default:
        errors.push(...invalidAtom(ref));
        return undefined;
    }
  };

  const index = (
    t: ListAtom,
    list: unknown[] | undefined,
    allowDuplicates: boolean,
  ): { pes: PathElement[]; observed: ObservedMap } | undefined => {
    const pes: PathElement[] = [];
    const observed = new ObservedMap();
    let ok = true;
    (list ?? []).forEach((child, i) => {
      const pe = listItemToPathElement(schema, t, child);
      if (typeof pe === "string") {
        errors.push(...err(`element ${i}: ${pe}`));
        ok = false;
        return;
      }
      if (observed.has(pe)) {
        if (!allowDuplicates) {
          errors.push(...err(`duplicate entries for key ${pathElementString(pe)}`));
          ok = false;
          return;
        }
        observed.set(pe, null);
      } else observed.set(pe, child);
      pes.push(pe);
    });
    return ok ? { pes, observed } : undefined;
  };

  const mergeListItems = (
    t: ListAtom,
    lhs: unknown[] | undefined,
    rhs: unknown[] | undefined,
  ): unknown => {
    const r = index(t, rhs, false);
    const l = index(t, lhs, true);
    if (!r || !l) return undefined;
    const out: unknown[] = [];
    const sharedOrder = r.pes.filter((pe) => l.observed.has(pe));
    let nextShared = sharedOrder.shift();
    const mergedRHS = new ObservedMap();
    const item = (lc: unknown, rc: unknown) => {
      const v = walk(t.element, lc, rc);
      if (v !== undefined) out.push(v);
    };
    let li = 0;
    let ri = 0;
    while (li < l.pes.length || ri < r.pes.length) {
      if (li < l.pes.length && ri < r.pes.length) {
        const pe = l.pes[li]!;
        if (peEquals(pe, r.pes[ri]!)) {
          mergedRHS.set(pe, true);
          item(l.observed.get(pe), r.observed.get(pe));
          li++;
          ri++;
          nextShared = sharedOrder.shift();
          continue;
        }
        if (r.observed.has(pe) && nextShared !== undefined && !peEquals(nextShared, pe)) {
          li++;
          continue;
        }
      }
      if (li < l.pes.length) {
        const pe = l.pes[li]!;
        if (!r.observed.has(pe)) {
          item(lhs![li], undefined);
          li++;
          continue;
        }
        if (mergedRHS.has(pe)) li++;
      }
      if (ri < r.pes.length) {
        const pe = r.pes[ri]!;
        mergedRHS.set(pe, true);
        item(l.observed.get(pe), r.observed.get(pe));
        ri++;
        if (nextShared !== undefined && peEquals(nextShared, pe)) nextShared = sharedOrder.shift();
      }
    }
    return out.length > 0 ? out : undefined;
  };

  const out = walk(typed.root, lhs, rhs);
  if (errors.length > 0) throw new TypedValueError(errors);
  return out;
}

/** A map keyed by path element, by its serialised form (canonical: keys sorted, Go's JSON). */
class ObservedMap {
  readonly entries = new Map<string, unknown>();

  has(pe: PathElement): boolean {
    return this.entries.has(serializePathElement(pe));
  }

  get(pe: PathElement): unknown {
    return this.entries.get(serializePathElement(pe));
  }

  set(pe: PathElement, v: unknown): void {
    this.entries.set(serializePathElement(pe), v);
  }
}

// ---------------------------------------------------------------------------------------------
// Removal

/** smd's `TypedValue.RemoveItems`: the value without the paths of `toRemove`. */
export function removeItems(typed: Typed, value: unknown, toRemove: FieldSet): unknown {
  const { schema } = typed;
  /** undefined: smd's nil `out`, which becomes null. */
  const walk = (ref: TypeRef, v: unknown, rm: FieldSet): unknown => {
    const atom = resolve(schema, ref);
    if (!atom) return undefined;
    const a = deduce(atom, v);
    switch (part(a)) {
      case "scalar":
        return v;
      case "list": {
        if (!Array.isArray(v) || v.length === 0) return undefined;
        if (a.list!.relationship === "atomic") return undefined;
        const items: unknown[] = [];
        for (const item of v) {
          const pe = listItemToPathElement(schema, a.list!, item);
          if (typeof pe === "string") {
            items.push(item);
            continue;
          }
          if (rm.hasMember(pe)) continue;
          const sub = rm.child(pe);
          items.push(sub && !sub.empty() ? nullIfAbsent(walk(a.list!.element, item, sub)) : item);
        }
        return items.length > 0 ? items : undefined;
      }
      case "map": {
        if (!isJsonObject(v) || Object.keys(v).length === 0) return undefined;
        if (a.map!.relationship === "atomic") return undefined;
        const out: Record<string, unknown> = {};
        for (const [k, child] of Object.entries(v)) {
          const pe = fieldElement(k);
          if (rm.hasMember(pe)) continue;
          const sub = rm.child(pe);
          const tr = fieldType(a.map!, k);
          out[k] = sub && !sub.empty() && tr ? nullIfAbsent(walk(tr, child, sub)) : child;
        }
        return Object.keys(out).length > 0 ? out : undefined;
      }
      default:
        return undefined;
    }
  };
  return nullIfAbsent(walk(typed.root, value, toRemove));
}

const nullIfAbsent = (v: unknown): unknown => (v === undefined ? null : v);

// ---------------------------------------------------------------------------------------------
// Sets and the schema

/** smd's `Set.EnsureNamedFieldsAreMembers`: struct fields with children become members too. */
export function ensureNamedFieldsAreMembers(set: FieldSet, typed: Typed): FieldSet {
  const walk = (s: FieldSet, ref: TypeRef | undefined): FieldSet => {
    const atom = resolve(typed.schema, ref);
    const out = new FieldSet([...s.members], []);
    for (const n of s.children) {
      let tr: TypeRef | undefined;
      if (n.pe.t === "f" && atom?.map) {
        const f = findField(atom.map, n.pe.name);
        if (f) out.insertMember(n.pe);
        tr = f?.type ?? atom.map.element;
      } else if (n.pe.t === "k" && atom?.list) tr = atom.list.element;
      out.children.push({ pe: n.pe, set: walk(n.set, tr) });
    }
    return out;
  };
  return walk(set, typed.root);
}

/**
 * smd's `ReconcileFieldSetWithSchema`: a set recorded when a value was granular, where the schema
 * now makes it atomic, owns the atomic value itself instead. Undefined when nothing changes.
 */
export function reconcileFieldSetWithSchema(set: FieldSet, typed: Typed): FieldSet | undefined {
  let toRemove: FieldSet | undefined;
  let toAdd: FieldSet | undefined;
  const path: PathElement[] = [];
  const mark = () => {
    toRemove ??= new FieldSet();
    toAdd ??= new FieldSet();
    toRemove.insert(path);
    toAdd.insert(path);
  };
  const walk = (ref: TypeRef, s: FieldSet | undefined, isAtomic: boolean): void => {
    const atom = resolve(typed.schema, ref);
    if (!atom) return;
    const p = part(atom);
    if (p === "map") {
      const m = atom.map!;
      if (isUntypedDeducedRef(m.element) && m.fields.size === 0) return;
      if (!isAtomic && m.relationship === "atomic") {
        if (s && s.size() > 0) mark();
        return;
      }
      if (s) {
        visit(s, (pe) => {
          if (pe.t !== "f") return m.element;
          return findField(m, pe.name)?.type ?? m.element;
        });
      }
    } else if (p === "list") {
      if (!isAtomic && atom.list!.relationship === "atomic") {
        mark();
        return;
      }
      if (s) visit(s, () => atom.list!.element);
    }
  };
  const visit = (s: FieldSet, typeOf: (pe: PathElement) => TypeRef | undefined) => {
    const handle = (pe: PathElement, isMember: boolean) => {
      const tr = typeOf(pe);
      if (!tr) return;
      const child = s.child(pe);
      path.push(pe);
      walk(tr, child, isMember && child === undefined);
      path.pop();
    };
    for (const n of s.children) if (!s.hasMember(n.pe)) handle(n.pe, false);
    for (const m of s.members) handle(m, true);
  };
  walk(typed.root, set, false);
  if (!toAdd && !toRemove) return undefined;
  let out = set;
  if (toRemove) out = out.recursiveDifference(toRemove);
  if (toAdd) out = out.union(toAdd);
  return out;
}

function isUntypedDeducedRef(r: TypeRef | undefined): boolean {
  if (r === undefined) return false;
  if ("named" in r) return r.named === UNTYPED_DEDUCED;
  return r.inline.scalar === "untyped";
}
