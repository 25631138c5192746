/**
 * Label and field selectors with apimachinery's semantics (`pkg/labels`, `pkg/fields`): the same
 * grammar when parsing, the same canonical string when formatting (requirements sorted by key, set
 * values sorted), and the same matching rules, so an in-memory store or lister filters objects the
 * way the API server does.
 *
 * Every selector can be given in three forms: the string the API takes, an object
 * (`{ app: "web", tier: { notIn: ["db"] } }`), or an already parsed selector. Invalid selectors
 * throw a `RequestBuildError` naming the selector and the offending key or value.
 */
import { RequestBuildError } from "./errors.ts";
import { compareCodePoints, validateLabelValue, validateQualifiedName } from "./validation.ts";

// ---------------------------------------------------------------------------------------------
// Label selectors

/**
 * apimachinery's operators (`selection.Operator`): `exists` is a bare key, `!` a negated bare key,
 * `gt`/`lt` are written `>`/`<` and compare integers.
 */
export type LabelOperator = "=" | "==" | "!=" | "in" | "notin" | "exists" | "!" | "gt" | "lt";

export interface LabelRequirement {
  readonly key: string;
  readonly operator: LabelOperator;
  /** Sorted and without duplicates; one value for `=`, `==`, `!=`, `gt`, `lt`, none for `exists` and `!`. */
  readonly values: readonly string[];
}

/**
 * A validated label selector. Requirements are ANDed and sorted by key (stably, so two
 * requirements on one key keep their order). No requirements selects everything.
 */
export interface ParsedLabelSelector {
  readonly requirements: readonly LabelRequirement[];
  /**
   * True only for the selector of an absent meta/v1 LabelSelector (see `labelSelectorFromMeta`): it
   * matches no object and has no string form, so it cannot be sent to the server.
   */
  readonly matchesNothing: boolean;
}

/** What one key of a label selector object may require; several fields mean all of them. */
export interface LabelConstraint {
  readonly equals?: string;
  readonly notEquals?: string;
  readonly in?: readonly string[];
  readonly notIn?: readonly string[];
  /** `true`: the label is present (any value); `false`: it is absent. */
  readonly exists?: boolean;
  /** The label's value, read as an integer, is greater than this integer. */
  readonly gt?: number | string;
  readonly lt?: number | string;
}

/** `{ app: "web", tier: { notIn: ["db"] } }`: a string value means equals. */
export type LabelSelectorObject = { readonly [key: string]: string | LabelConstraint };

export type LabelSelectorInput = string | LabelSelectorObject | ParsedLabelSelector;

/** The meta/v1 LabelSelector wire type, as Deployments, Services' peers and others embed it. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface LabelSelectorRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist" | (string & {});
  values?: string[];
}

const everything: ParsedLabelSelector = Object.freeze({
  requirements: Object.freeze([]),
  matchesNothing: false,
});
const nothing: ParsedLabelSelector = Object.freeze({
  requirements: Object.freeze([]),
  matchesNothing: true,
});

/** Selectors this module built and validated; any other parsed selector is checked again. */
const validated = new WeakSet<object>([everything, nothing]);

function isParsedLabelSelector(input: object): input is ParsedLabelSelector {
  // No selector object has an array value, so an array under `requirements` identifies a parsed one.
  return Array.isArray((input as { requirements?: unknown }).requirements);
}

function revalidate(sel: ParsedLabelSelector, field: string): ParsedLabelSelector {
  if (validated.has(sel)) return sel;
  if (sel.matchesNothing === true) return nothing;
  return selectorOf(
    sel.requirements.map((r) => {
      if (!Array.isArray(r?.values)) {
        throw new RequestBuildError(field, "each requirement needs a values array");
      }
      return requirement(r.key, r.operator, r.values, field);
    }),
  );
}

function checkLabelKey(key: unknown, field: string): asserts key is string {
  if (typeof key !== "string") throw new RequestBuildError(field, "a label key must be a string");
  const errs = validateQualifiedName(key);
  if (errs.length > 0) {
    throw new RequestBuildError(
      field,
      `invalid label key ${JSON.stringify(key)}: ${errs.join("; ")}`,
    );
  }
}

/**
 * Validates one requirement as apimachinery's `NewRequirement` does and returns it normalized
 * (values sorted, duplicates dropped).
 */
function requirement(
  key: string,
  operator: LabelOperator,
  values: readonly string[],
  field: string,
): LabelRequirement {
  checkLabelKey(key, field);
  const unique = [...new Set(values)].sort(compareCodePoints);
  switch (operator) {
    case "in":
    case "notin":
      if (unique.length === 0) {
        throw new RequestBuildError(field, `${key}: '${operator}' needs at least one value`);
      }
      break;
    case "=":
    case "==":
    case "!=":
      if (values.length !== 1) {
        throw new RequestBuildError(field, `${key}: '${operator}' needs exactly one value`);
      }
      break;
    case "exists":
    case "!":
      if (values.length !== 0) {
        throw new RequestBuildError(field, `${key}: an existence test takes no values`);
      }
      break;
    case "gt":
    case "lt":
      if (values.length !== 1) {
        throw new RequestBuildError(field, `${key}: '${operator}' needs exactly one value`);
      }
      if (parseInt64(values[0]!) === undefined) {
        throw new RequestBuildError(
          field,
          `${key}: '${operator}' needs an integer, not ${JSON.stringify(values[0])}`,
        );
      }
      break;
    default:
      throw new RequestBuildError(field, `${key}: unknown operator ${JSON.stringify(operator)}`);
  }
  for (const v of unique) {
    const errs = validateLabelValue(v);
    if (errs.length > 0) {
      throw new RequestBuildError(
        field,
        `invalid value ${JSON.stringify(v)} for label ${JSON.stringify(key)}: ${errs.join("; ")}`,
      );
    }
  }
  return Object.freeze({ key, operator, values: Object.freeze(unique) });
}

const int64Max = 9223372036854775807n;
const int64Min = -9223372036854775808n;

/** Go's `strconv.ParseInt(s, 10, 64)`: optional sign, decimal digits, within int64. */
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n > int64Max || n < int64Min ? undefined : n;
}

function selectorOf(requirements: LabelRequirement[]): ParsedLabelSelector {
  if (requirements.length === 0) return everything;
  // Array.prototype.sort is stable, as Go's sort is in practice for the short lists selectors have.
  requirements.sort((a, b) => compareCodePoints(a.key, b.key));
  const sel = Object.freeze({ requirements: Object.freeze(requirements), matchesNothing: false });
  validated.add(sel);
  return sel;
}

const constraintOrder = ["equals", "notEquals", "in", "notIn", "exists", "gt", "lt"] as const;

/** Builds a selector from the object form. */
function labelSelectorFromObject(obj: LabelSelectorObject, field: string): ParsedLabelSelector {
  const reqs: LabelRequirement[] = [];
  for (const [key, spec] of Object.entries(obj)) {
    if (typeof spec === "string") {
      reqs.push(requirement(key, "=", [spec], field));
      continue;
    }
    if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
      // An undefined value is an error rather than skipped: dropping it would widen the selector.
      throw new RequestBuildError(
        field,
        `${key}: must be a string or a constraint object, not ${describe(spec)}`,
      );
    }
    const unknown = Object.keys(spec).filter(
      (k) => !(constraintOrder as readonly string[]).includes(k),
    );
    if (unknown.length > 0) {
      const hint =
        key === "matchLabels" || key === "matchExpressions"
          ? " (to use a meta/v1 LabelSelector, convert it with labelSelectorFromMeta)"
          : "";
      throw new RequestBuildError(
        field,
        `${key}: unknown constraint ${JSON.stringify(unknown[0])}; expected ${constraintOrder.join(", ")}${hint}`,
      );
    }
    let any = false;
    for (const c of constraintOrder) {
      const v = (spec as Record<string, unknown>)[c];
      if (v === undefined) continue;
      any = true;
      reqs.push(constraintRequirement(key, c, v, field));
    }
    if (!any) throw new RequestBuildError(field, `${key}: the constraint object is empty`);
  }
  return selectorOf(reqs);
}

function constraintRequirement(
  key: string,
  c: (typeof constraintOrder)[number],
  v: unknown,
  field: string,
): LabelRequirement {
  const str = (x: unknown): string => {
    if (typeof x !== "string") {
      throw new RequestBuildError(field, `${key}.${c}: must be a string, not ${describe(x)}`);
    }
    return x;
  };
  const strs = (x: unknown): string[] => {
    if (!Array.isArray(x)) {
      throw new RequestBuildError(field, `${key}.${c}: must be an array of strings`);
    }
    return x.map(str);
  };
  const int = (x: unknown): string => {
    if (typeof x === "number" && Number.isSafeInteger(x)) return String(x);
    if (typeof x === "string") return x;
    throw new RequestBuildError(field, `${key}.${c}: must be an integer, not ${describe(x)}`);
  };
  switch (c) {
    case "equals":
      return requirement(key, "=", [str(v)], field);
    case "notEquals":
      return requirement(key, "!=", [str(v)], field);
    case "in":
      return requirement(key, "in", strs(v), field);
    case "notIn":
      return requirement(key, "notin", strs(v), field);
    case "exists":
      if (typeof v !== "boolean") {
        throw new RequestBuildError(field, `${key}.exists: must be true or false`);
      }
      return requirement(key, v ? "exists" : "!", [], field);
    case "gt":
      return requirement(key, "gt", [int(v)], field);
    case "lt":
      return requirement(key, "lt", [int(v)], field);
  }
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "an array";
  return typeof x === "string" ? JSON.stringify(x) : typeof x;
}

// Lexer and parser for apimachinery's label selector grammar:
//
//   selector    := requirement ("," requirement)*  |  (empty)
//   requirement := ["!"] KEY [ ("in" | "notin") "(" values ")" | ("=" | "==" | "!=" | ">" | "<") VALUE ]
//
// The lexer splits on whitespace and the symbols = ! ( ) , > <; "in" and "notin" are keywords
// where an operator is expected and plain identifiers where a key or value is.

type TokenKind =
  | "end"
  | "id"
  | "in"
  | "notin"
  | "("
  | ")"
  | ","
  | "!"
  | "="
  | "=="
  | "!="
  | ">"
  | "<";

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly at: number;
}

const symbolChars = "=!(),><";
const isSpace = (c: string) => c === " " || c === "\t" || c === "\r" || c === "\n";

function lexLabelSelector(s: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  for (;;) {
    while (i < s.length && isSpace(s[i]!)) i++;
    // Like apimachinery's lexer, a NUL where a token starts ends the input.
    if (i >= s.length || s[i] === "\0") {
      tokens.push({ kind: "end", text: "", at: i });
      return tokens;
    }
    const at = i;
    const c = s[i]!;
    if (symbolChars.includes(c)) {
      const two = s.slice(i, i + 2);
      const text = two === "==" || two === "!=" ? two : c;
      i += text.length;
      tokens.push({ kind: text as TokenKind, text, at });
      continue;
    }
    let j = i;
    while (j < s.length && !symbolChars.includes(s[j]!) && !isSpace(s[j]!) && s[j] !== "\0") j++;
    const text = s.slice(i, j);
    // A NUL inside an identifier ends it and is consumed, as in apimachinery's lexer.
    i = s[j] === "\0" ? j + 1 : j;
    tokens.push({ kind: text === "in" || text === "notin" ? text : "id", text, at });
  }
}

class LabelParser {
  private pos = 0;
  private readonly tokens: Token[];
  private readonly text: string;
  private readonly field: string;

  constructor(text: string, field: string) {
    this.text = text;
    this.field = field;
    this.tokens = lexLabelSelector(text);
  }

  /** The next token; where a key or value is expected, the keywords are identifiers. */
  private peek(asValue: boolean): Token {
    const t = this.tokens[this.pos]!;
    return asValue && (t.kind === "in" || t.kind === "notin") ? { ...t, kind: "id" } : t;
  }

  private next(asValue: boolean): Token {
    const t = this.peek(asValue);
    if (t.kind !== "end") this.pos++;
    return t;
  }

  private fail(t: Token, expected: string): never {
    const found = t.kind === "end" ? "end of input" : `'${t.text}'`;
    throw new RequestBuildError(
      this.field,
      `cannot parse ${JSON.stringify(this.text)}: found ${found} at offset ${t.at}, expected ${expected}`,
    );
  }

  parse(): LabelRequirement[] {
    const reqs: LabelRequirement[] = [];
    const first = this.peek(true);
    if (first.kind === "end") return reqs;
    for (;;) {
      const t = this.peek(true);
      if (t.kind !== "id" && t.kind !== "!") this.fail(t, "a key or '!key'");
      reqs.push(this.requirement());
      const sep = this.next(true);
      if (sep.kind === "end") return reqs;
      if (sep.kind !== ",") this.fail(sep, "',' or end of input");
    }
  }

  private requirement(): LabelRequirement {
    let t = this.next(true);
    const negated = t.kind === "!";
    if (negated) t = this.next(true);
    if (t.kind !== "id") this.fail(t, "a label key");
    const key = t.text;
    checkLabelKey(key, this.field);
    const after = this.peek(true);
    if (negated || after.kind === "end" || after.kind === ",") {
      // A bare key tests existence. After '!' nothing else may follow; the caller reports it.
      return requirement(key, negated ? "!" : "exists", [], this.field);
    }
    const op = this.next(false);
    switch (op.kind) {
      case "in":
      case "notin":
        return requirement(key, op.kind, this.setValues(), this.field);
      case "=":
      case "==":
      case "!=":
        return requirement(key, op.kind, [this.exactValue()], this.field);
      case ">":
        return requirement(key, "gt", [this.exactValue()], this.field);
      case "<":
        return requirement(key, "lt", [this.exactValue()], this.field);
      default:
        return this.fail(op, "an operator (=, ==, !=, in, notin, >, <)");
    }
  }

  /**
   * `( v1, v2, ... )`. Empty entries are the empty value: `()`, `(a,)`, `(,a)` and `(a,,b)` all
   * hold "".
   */
  private setValues(): string[] {
    const open = this.next(true);
    if (open.kind !== "(") this.fail(open, "'('");
    const first = this.peek(true);
    if (first.kind === ")") {
      this.pos++;
      return [""];
    }
    if (first.kind !== "id" && first.kind !== ",") this.fail(first, "a value, ',' or ')'");
    const values: string[] = [];
    for (;;) {
      const t = this.next(true);
      if (t.kind === "id") {
        values.push(t.text);
        const n = this.peek(true);
        if (n.kind === ")") break;
        if (n.kind !== ",") this.fail(n, "',' or ')'");
      } else if (t.kind === ",") {
        const n = this.peek(true);
        if (values.length === 0 || n.kind === ")" || n.kind === ",") values.push("");
        if (n.kind === ")") break;
      } else {
        this.fail(t, "a value or ','");
      }
    }
    const close = this.next(true);
    if (close.kind !== ")") this.fail(close, "')'");
    return values;
  }

  /** The value after `=`, `==`, `!=`, `>` or `<`; none before ',' or the end is the empty value. */
  private exactValue(): string {
    const t = this.peek(true);
    if (t.kind === "end" || t.kind === ",") return "";
    this.pos++;
    if (t.kind !== "id") this.fail(t, "a value");
    return t.text;
  }
}

/**
 * Parses a label selector string with apimachinery's grammar, e.g.
 * `app=web,tier notin (db),!canary,version>3`. The empty string selects everything. `field` names
 * the selector in errors.
 */
export function parseLabelSelector(text: string, field = "labelSelector"): ParsedLabelSelector {
  if (typeof text !== "string") throw new RequestBuildError(field, "must be a string");
  return selectorOf(new LabelParser(text, field).parse());
}

/** Normalizes any form of label selector to a validated `ParsedLabelSelector`. */
export function toLabelSelector(
  input: LabelSelectorInput,
  field = "labelSelector",
): ParsedLabelSelector {
  if (typeof input === "string") return parseLabelSelector(input, field);
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new RequestBuildError(field, `must be a string or an object, not ${describe(input)}`);
  }
  if (isParsedLabelSelector(input)) return revalidate(input, field);
  return labelSelectorFromObject(input as LabelSelectorObject, field);
}

function formatRequirement(r: LabelRequirement): string {
  switch (r.operator) {
    case "exists":
      return r.key;
    case "!":
      return `!${r.key}`;
    case "in":
    case "notin":
      return `${r.key} ${r.operator} (${r.values.join(",")})`;
    case "gt":
      return `${r.key}>${r.values[0]}`;
    case "lt":
      return `${r.key}<${r.values[0]}`;
    default:
      return `${r.key}${r.operator}${r.values[0]}`;
  }
}

/**
 * The canonical string of a label selector, as apimachinery's `Selector.String()` writes it:
 * `app=web,env in (a,b),!canary,release,tier notin (db)`. Throws for a selector that matches
 * nothing, which has no string form (an empty string would select everything).
 */
export function formatLabelSelector(input: LabelSelectorInput, field = "labelSelector"): string {
  const sel = toLabelSelector(input, field);
  if (sel.matchesNothing) {
    throw new RequestBuildError(
      field,
      "the selector matches nothing (it came from an absent meta/v1 LabelSelector) and has no string form; skip the request instead",
    );
  }
  return sel.requirements.map(formatRequirement).join(",");
}

/**
 * Converts a meta/v1 LabelSelector as apimachinery's `LabelSelectorAsSelector` does: `null` or
 * `undefined` matches nothing, `{}` matches everything, `matchLabels` entries are equality tests and
 * `matchExpressions` use In, NotIn, Exists and DoesNotExist. `field` names the value in errors.
 */
export function labelSelectorFromMeta(
  selector: LabelSelector | null | undefined,
  field = "selector",
): ParsedLabelSelector {
  if (selector === null || selector === undefined) return nothing;
  const reqs: LabelRequirement[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (typeof value !== "string") {
      throw new RequestBuildError(`${field}.matchLabels`, `${key}: must be a string`);
    }
    reqs.push(requirement(key, "=", [value], `${field}.matchLabels`));
  }
  const ops: Record<string, LabelOperator> = {
    In: "in",
    NotIn: "notin",
    Exists: "exists",
    DoesNotExist: "!",
  };
  (selector.matchExpressions ?? []).forEach((expr, i) => {
    const where = `${field}.matchExpressions[${i}]`;
    const op = Object.hasOwn(ops, expr.operator) ? ops[expr.operator] : undefined;
    if (op === undefined) {
      throw new RequestBuildError(
        `${where}.operator`,
        `${JSON.stringify(expr.operator)} is not one of In, NotIn, Exists, DoesNotExist`,
      );
    }
    reqs.push(requirement(expr.key, op, expr.values ?? [], where));
  });
  return selectorOf(reqs);
}

/**
 * Whether an object's labels satisfy a selector, by apimachinery's rules: `!=` and `notin` also
 * match when the label is absent; `gt`/`lt` never match a label that is absent or not an integer.
 */
export function matchesLabels(
  selector: LabelSelectorInput,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  const sel = toLabelSelector(selector);
  if (sel.matchesNothing) return false;
  const ls = labels ?? {};
  // Own properties only: "constructor" is a valid label key.
  const has = (k: string) => Object.hasOwn(ls, k);
  for (const r of sel.requirements) {
    const present = has(r.key);
    const value = present ? ls[r.key]! : undefined;
    let ok: boolean;
    switch (r.operator) {
      case "=":
      case "==":
      case "in":
        ok = present && r.values.includes(value!);
        break;
      case "!=":
      case "notin":
        ok = !present || !r.values.includes(value!);
        break;
      case "exists":
        ok = present;
        break;
      case "!":
        ok = !present;
        break;
      case "gt":
      case "lt": {
        const have = present ? parseInt64(value!) : undefined;
        const want = parseInt64(r.values[0] ?? "");
        ok =
          have !== undefined &&
          want !== undefined &&
          (r.operator === "gt" ? have > want : have < want);
        break;
      }
    }
    if (!ok) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Field selectors

/** Field selectors have only equality tests; `==` is read as `=`. */
export type FieldOperator = "=" | "!=";

export interface FieldRequirement {
  readonly field: string;
  readonly operator: FieldOperator;
  /** The literal value, unescaped. */
  readonly value: string;
}

/**
 * A validated field selector: requirements ANDed, ordered as apimachinery orders them (by the
 * written term when parsed, by the formatted term otherwise).
 */
export interface ParsedFieldSelector {
  readonly requirements: readonly FieldRequirement[];
}

/** `{ "metadata.name": "x", "status.phase": { notEquals: "Running" } }`: a string means equals. */
export type FieldSelectorObject = {
  readonly [field: string]:
    | string
    | { readonly equals?: string; readonly notEquals?: string | readonly string[] };
};

export type FieldSelectorInput = string | FieldSelectorObject | ParsedFieldSelector;

/** Escapes `\`, `,` and `=` in a field selector value with a backslash, as apimachinery does. */
export function escapeFieldValue(value: string): string {
  return value.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/**
 * Undoes `escapeFieldValue`. Only `\\`, `\,` and `\=` are escapes; any other backslash sequence, a
 * trailing backslash, or an unescaped `,` or `=` is an error.
 */
export function unescapeFieldValue(text: string, field = "fieldSelector"): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\\") {
      const n = text[i + 1];
      if (n === undefined) {
        throw new RequestBuildError(field, `value ${JSON.stringify(text)} ends in a lone '\\'`);
      }
      if (n !== "\\" && n !== "," && n !== "=") {
        throw new RequestBuildError(
          field,
          `value ${JSON.stringify(text)} has the invalid escape '\\${n}'; only \\\\, \\, and \\= are escapes`,
        );
      }
      out += n;
      i++;
    } else if (c === "," || c === "=") {
      throw new RequestBuildError(
        field,
        `value ${JSON.stringify(text)} has an unescaped '${c}'; write '\\${c}'`,
      );
    } else {
      out += c;
    }
  }
  return out;
}

/**
 * A field name has no escaping, so the characters that delimit terms and operators cannot appear in
 * it: `,`, `=`, `\`, and a trailing `!` (which would turn `=` into `!=`). An empty name is never a
 * field the server supports.
 */
function checkFieldName(name: unknown, field: string): asserts name is string {
  let why: string | undefined;
  if (typeof name !== "string") throw new RequestBuildError(field, "a field name must be a string");
  if (name === "") why = "must not be empty";
  else if (/[,=\\]/.test(name)) why = "may not contain ',', '=' or '\\'";
  else if (name.endsWith("!")) why = "may not end in '!'";
  if (why) throw new RequestBuildError(field, `field name ${JSON.stringify(name)} ${why}`);
}

function formatTerm(r: FieldRequirement): string {
  return `${r.field}${r.operator}${escapeFieldValue(r.value)}`;
}

const validatedFields = new WeakSet<object>();

/**
 * Sorts requirements by their formatted terms, the order a parse of the canonical string gives.
 * `ordered` is for the parser, whose requirements are already in the order of the written terms.
 */
function fieldSelectorOf(reqs: FieldRequirement[], ordered = false): ParsedFieldSelector {
  const sorted = ordered
    ? reqs.map((r) => Object.freeze(r))
    : reqs
        .map((r) => ({ r, term: formatTerm(r) }))
        .sort((a, b) => compareCodePoints(a.term, b.term))
        .map((x) => Object.freeze(x.r));
  const sel = Object.freeze({ requirements: Object.freeze(sorted) });
  validatedFields.add(sel);
  return sel;
}

/** Splits on commas that no backslash escapes; the backslashes stay in the terms. */
function splitFieldTerms(text: string): string[] {
  const terms: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === ",") {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(text.slice(start));
  return terms;
}

/**
 * Parses a field selector with apimachinery's rules, e.g. `metadata.name=x,status.phase!=Running`:
 * terms split on unescaped commas, each at its first `!=`, `==` or `=`, and values unescaped.
 * Empty terms are skipped; the empty string selects everything.
 */
export function parseFieldSelector(text: string, field = "fieldSelector"): ParsedFieldSelector {
  if (typeof text !== "string") throw new RequestBuildError(field, "must be a string");
  if (text === "") return fieldSelectorOf([]);
  // apimachinery sorts the written terms before parsing them; the canonical order follows from that.
  const terms = splitFieldTerms(text)
    .filter((t) => t !== "")
    .sort(compareCodePoints);
  const reqs: FieldRequirement[] = [];
  for (const term of terms) {
    const m = /!=|==|=/.exec(term);
    if (!m) {
      throw new RequestBuildError(
        field,
        `cannot parse ${JSON.stringify(text)}: term ${JSON.stringify(term)} has no '=', '==' or '!='`,
      );
    }
    const name = term.slice(0, m.index);
    checkFieldName(name, field);
    const value = unescapeFieldValue(term.slice(m.index + m[0].length), field);
    reqs.push({ field: name, operator: m[0] === "!=" ? "!=" : "=", value });
  }
  // The written order, not the formatted one: `a==z,a=b` stays `a=z,a=b`, as in apimachinery.
  return fieldSelectorOf(reqs, true);
}

/** Normalizes any form of field selector to a validated `ParsedFieldSelector`. */
export function toFieldSelector(
  input: FieldSelectorInput,
  field = "fieldSelector",
): ParsedFieldSelector {
  if (typeof input === "string") return parseFieldSelector(input, field);
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new RequestBuildError(field, `must be a string or an object, not ${describe(input)}`);
  }
  if (Array.isArray((input as { requirements?: unknown }).requirements)) {
    if (validatedFields.has(input)) return input as ParsedFieldSelector;
    return fieldSelectorOf(
      (input as ParsedFieldSelector).requirements.map((r) => {
        checkFieldName(r?.field, field);
        if (r.operator !== "=" && r.operator !== "!=") {
          throw new RequestBuildError(field, `${r.field}: operator must be '=' or '!='`);
        }
        if (typeof r.value !== "string") {
          throw new RequestBuildError(field, `${r.field}: value must be a string`);
        }
        return { field: r.field, operator: r.operator, value: r.value };
      }),
    );
  }
  const reqs: FieldRequirement[] = [];
  for (const [name, spec] of Object.entries(input as FieldSelectorObject)) {
    checkFieldName(name, field);
    if (typeof spec === "string") {
      reqs.push({ field: name, operator: "=", value: spec });
      continue;
    }
    if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
      throw new RequestBuildError(
        field,
        `${name}: must be a string or {equals, notEquals}, not ${describe(spec)}`,
      );
    }
    const unknown = Object.keys(spec).filter((k) => k !== "equals" && k !== "notEquals");
    if (unknown.length > 0) {
      throw new RequestBuildError(
        field,
        `${name}: unknown constraint ${JSON.stringify(unknown[0])}; expected equals or notEquals`,
      );
    }
    const { equals, notEquals } = spec as { equals?: unknown; notEquals?: unknown };
    if (equals === undefined && notEquals === undefined) {
      throw new RequestBuildError(field, `${name}: the constraint object is empty`);
    }
    if (equals !== undefined) {
      if (typeof equals !== "string") {
        throw new RequestBuildError(field, `${name}.equals: must be a string`);
      }
      reqs.push({ field: name, operator: "=", value: equals });
    }
    if (notEquals !== undefined) {
      const list = typeof notEquals === "string" ? [notEquals] : notEquals;
      if (!Array.isArray(list) || list.length === 0 || list.some((v) => typeof v !== "string")) {
        throw new RequestBuildError(
          field,
          `${name}.notEquals: must be a string or a non-empty array of strings`,
        );
      }
      for (const v of list as string[]) reqs.push({ field: name, operator: "!=", value: v });
    }
  }
  return fieldSelectorOf(reqs);
}

/**
 * The canonical string of a field selector, as apimachinery's `Selector.String()` writes a parsed
 * one: terms in sorted order, `==` written as `=`, values escaped.
 */
export function formatFieldSelector(input: FieldSelectorInput, field = "fieldSelector"): string {
  return toFieldSelector(input, field).requirements.map(formatTerm).join(",");
}

/**
 * Whether an object's field values satisfy a field selector. As in apimachinery, a field missing
 * from `fields` reads as the empty string, so `spec.nodeName=` matches an unscheduled pod. Which
 * fields a resource supports, and their values, is the caller's business (the server has a list
 * per resource type).
 */
export function matchesFields(
  selector: FieldSelectorInput,
  fields: Readonly<Record<string, string>>,
): boolean {
  for (const r of toFieldSelector(selector).requirements) {
    const value = Object.hasOwn(fields, r.field) ? fields[r.field] : "";
    if ((value === r.value) !== (r.operator === "=")) return false;
  }
  return true;
}
