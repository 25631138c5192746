import assert from "node:assert/strict";
import { test } from "node:test";
import { RequestBuildError } from "./errors.ts";
import {
  escapeFieldValue,
  formatFieldSelector,
  formatLabelSelector,
  type LabelSelectorInput,
  labelSelectorFromMeta,
  matchesFields,
  matchesLabels,
  type ParsedLabelSelector,
  parseFieldSelector,
  parseLabelSelector,
  toFieldSelector,
  toLabelSelector,
  unescapeFieldValue,
} from "./selectors.ts";

function throwsBuild(fn: () => unknown, field: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RequestBuildError, `expected a RequestBuildError, got ${String(e)}`);
    assert.equal(e.field, field);
    if (message) assert.match(e.message, message);
    return true;
  });
}

// ------------------------------------------------------------------------------------------------
// Label selectors: building from objects

test("a label selector object formats as apimachinery writes it, sorted by key", () => {
  assert.equal(
    formatLabelSelector({
      app: "web",
      tier: { notIn: ["db"] },
      env: { in: ["b", "a"] },
      canary: { exists: false },
      release: { exists: true },
    }),
    "app=web,!canary,env in (a,b),release,tier notin (db)",
  );
});

test("object constraints: every operator, several per key, values sorted and deduplicated", () => {
  assert.equal(formatLabelSelector({ v: { gt: 1, lt: "10" } }), "v>1,v<10");
  assert.equal(formatLabelSelector({ a: { notEquals: "x" } }), "a!=x");
  assert.equal(formatLabelSelector({ a: { equals: "" } }), "a=");
  assert.equal(formatLabelSelector({ a: { in: ["c", "a", "c", "b"] } }), "a in (a,b,c)");
  assert.equal(formatLabelSelector({ "example.com/b": "1", a: "2" }), "a=2,example.com/b=1");
  assert.equal(formatLabelSelector({}), "");
  const sel = toLabelSelector({ b: { exists: true }, a: { notIn: ["y", "x"] } });
  assert.deepEqual(sel.requirements, [
    { key: "a", operator: "notin", values: ["x", "y"] },
    { key: "b", operator: "exists", values: [] },
  ]);
});

test("object selectors are validated, naming the selector and the key", () => {
  throwsBuild(
    () => toLabelSelector({ "bad key": "x" }),
    "labelSelector",
    /invalid label key "bad key"/,
  );
  throwsBuild(
    () => toLabelSelector({ app: "not valid!" }),
    "labelSelector",
    /value "not valid!".*"app"/,
  );
  throwsBuild(() => toLabelSelector({ a: { in: [] } }), "labelSelector", /at least one value/);
  throwsBuild(() => toLabelSelector({ a: { gt: 1.5 } }), "labelSelector", /integer/);
  throwsBuild(() => toLabelSelector({ a: { gt: "x" } }), "labelSelector", /integer/);
  throwsBuild(
    () => toLabelSelector({ a: { gt: "99999999999999999999" } }),
    "labelSelector",
    /integer/,
  );
  // A negative number is an integer, but not a valid label value, so the server refuses it too.
  throwsBuild(() => toLabelSelector({ a: { lt: -1 } }), "labelSelector", /invalid value "-1"/);
  throwsBuild(() => toLabelSelector({ a: {} }), "labelSelector", /empty/);
  throwsBuild(
    () => toLabelSelector({ a: { exists: "yes" } as never }),
    "labelSelector",
    /true or false/,
  );
  throwsBuild(
    () => toLabelSelector({ a: { notin: ["x"] } as never }),
    "labelSelector",
    /unknown constraint "notin"/,
  );
  throwsBuild(
    () => toLabelSelector({ matchLabels: { app: "x" } } as never),
    "labelSelector",
    /labelSelectorFromMeta/,
  );
  // Skipping an undefined value would widen the selector, so it is an error.
  throwsBuild(() => toLabelSelector({ a: undefined } as never), "labelSelector", /not undefined/);
  throwsBuild(
    () => toLabelSelector({ "a b": "x" }, "options.labelSelector"),
    "options.labelSelector",
  );
  assert.doesNotThrow(() => toLabelSelector({ a: "x" }, "options.labelSelector"));
  throwsBuild(() => toLabelSelector(42 as never), "labelSelector", /string or an object/);
});

// ------------------------------------------------------------------------------------------------
// Label selectors: parsing

test("parsing follows apimachinery's grammar and normalizes to the canonical string", () => {
  const cases: [string, string][] = [
    ["", ""],
    ["   ", ""],
    ["x", "x"],
    ["!x", "!x"],
    ["x=a", "x=a"],
    ["x==a", "x==a"],
    ["x!=a", "x!=a"],
    ["x=", "x="],
    ["x=,y", "x=,y"],
    ["x>1", "x>1"],
    ["x in (b,a)", "x in (a,b)"],
    ["x notin (a)", "x notin (a)"],
    ["x in (foo,,baz),y,z notin ()", "x in (,baz,foo),y,z notin ()"],
    ["x in (a,)", "x in (,a)"],
    ["x in (,a)", "x in (,a)"],
    ["x in (a,,,)", "x in (,a)"],
    ["x in (a,,)", "x in (,a)"],
    ["x in (,,)", "x in ()"],
    ["x in (a,a,b)", "x in (a,b)"],
    [" b = 2 ,\ta\tin\t( 1 , 2 )\n", "a in (1,2),b=2"],
    ["z,y,x", "x,y,z"],
    ["in in (in, notin)", "in in (in,notin)"],
    ["notin=notin", "notin=notin"],
    ["!in", "!in"],
    ["example.com/app=web", "example.com/app=web"],
    ["a=b,a!=c", "a=b,a!=c"],
  ];
  for (const [input, want] of cases) {
    assert.equal(formatLabelSelector(input), want, JSON.stringify(input));
    assert.equal(formatLabelSelector(want), want, `${JSON.stringify(want)} is canonical`);
  }
});

test("requirements on one key keep their written order after sorting by key", () => {
  const sel = parseLabelSelector("b,a!=2,c,a=1");
  assert.deepEqual(
    sel.requirements.map((r) => `${r.key}${r.operator}${r.values.join("|")}`),
    ["a!=2", "a=1", "bexists", "cexists"],
  );
});

test("parse errors say what was found where, and what was expected", () => {
  const bad: [string, RegExp][] = [
    ["a b", /found 'b' at offset 2, expected an operator/],
    ["!a=b", /found '=' at offset 2, expected ',' or end of input/],
    ["a in b", /found 'b' at offset 5, expected '\('/],
    ["a in (b", /found end of input at offset 7/],
    ["a in (b c)", /found 'c'.*expected ',' or '\)'/],
    ["a in (b=)", /found '='/],
    ["a,", /found end of input at offset 2, expected a key or '!key'/],
    [",a", /found ',' at offset 0/],
    ["a,,b", /found ','/],
    ["a=b=c", /found '='/],
    ["a=(b)", /found '\(' at offset 2, expected a value/],
    ["a>=1", /found '='/],
    ["!", /found end of input/],
    ["!!a", /found '!'/],
    ["(a)", /found '\('/],
    ["a in (!)", /found '!'/],
  ];
  for (const [input, re] of bad) {
    throwsBuild(() => parseLabelSelector(input), "labelSelector", re);
  }
});

test("parsed requirements are validated like built ones", () => {
  throwsBuild(() => parseLabelSelector("a>b"), "labelSelector", /integer/);
  throwsBuild(() => parseLabelSelector("a<-1"), "labelSelector", /invalid value "-1"/);
  throwsBuild(() => parseLabelSelector("Bad_Key_=x"), "labelSelector", /invalid label key/);
  throwsBuild(() => parseLabelSelector("a/b/c"), "labelSelector", /invalid label key "a\/b\/c"/);
  throwsBuild(() => parseLabelSelector("a=b c"), "labelSelector", /found 'c'/);
  throwsBuild(() => parseLabelSelector("a in (-x)"), "labelSelector", /invalid value "-x"/);
  throwsBuild(() => parseLabelSelector("a b", "options.labelSelector"), "options.labelSelector");
});

test("a NUL where a token starts ends the input, as in apimachinery's lexer", () => {
  assert.equal(formatLabelSelector("a \0garbage ("), "a");
  // Inside an identifier a NUL only ends the identifier.
  throwsBuild(() => parseLabelSelector("a\0b"), "labelSelector", /found 'b'/);
});

test("parsed selectors pass through toLabelSelector; hand-made ones are checked again", () => {
  const sel = parseLabelSelector("a=1");
  assert.equal(toLabelSelector(sel), sel);
  const handMade: ParsedLabelSelector = {
    requirements: [
      { key: "b", operator: "in", values: ["y", "x"] },
      { key: "a", operator: "exists", values: [] },
    ],
    matchesNothing: false,
  };
  assert.equal(formatLabelSelector(handMade), "a,b in (x,y)");
  throwsBuild(
    () =>
      toLabelSelector({
        requirements: [{ key: "a b", operator: "exists", values: [] }],
        matchesNothing: false,
      }),
    "labelSelector",
    /invalid label key/,
  );
  throwsBuild(
    () =>
      toLabelSelector({
        requirements: [{ key: "a", operator: "~" as never, values: [] }],
        matchesNothing: false,
      }),
    "labelSelector",
    /unknown operator/,
  );
});

// ------------------------------------------------------------------------------------------------
// Label selectors: meta/v1 LabelSelector

test("labelSelectorFromMeta follows LabelSelectorAsSelector", () => {
  const none = labelSelectorFromMeta(undefined);
  assert.equal(none.matchesNothing, true);
  assert.equal(labelSelectorFromMeta(null).matchesNothing, true);
  assert.equal(matchesLabels(none, {}), false);
  throwsBuild(() => formatLabelSelector(none), "labelSelector", /matches nothing/);

  const all = labelSelectorFromMeta({});
  assert.equal(all.matchesNothing, false);
  assert.equal(formatLabelSelector(all), "");
  assert.equal(matchesLabels(all, undefined), true);
  assert.equal(
    formatLabelSelector(labelSelectorFromMeta({ matchLabels: {}, matchExpressions: [] })),
    "",
  );

  const sel = labelSelectorFromMeta({
    matchLabels: { tier: "web", app: "shop" },
    matchExpressions: [
      { key: "env", operator: "In", values: ["prod", "canary"] },
      { key: "track", operator: "NotIn", values: ["beta"] },
      { key: "owner", operator: "Exists" },
      { key: "legacy", operator: "DoesNotExist", values: [] },
    ],
  });
  assert.equal(
    formatLabelSelector(sel),
    "app=shop,env in (canary,prod),!legacy,owner,tier=web,track notin (beta)",
  );
});

test("labelSelectorFromMeta errors name the offending entry", () => {
  throwsBuild(
    () =>
      labelSelectorFromMeta({ matchExpressions: [{ key: "a", operator: "Gt", values: ["1"] }] }),
    "selector.matchExpressions[0].operator",
    /"Gt" is not one of In, NotIn, Exists, DoesNotExist/,
  );
  throwsBuild(
    () =>
      labelSelectorFromMeta(
        {
          matchExpressions: [
            { key: "a", operator: "In" },
            { key: "b", operator: "Exists", values: ["x"] },
          ],
        },
        "spec.selector",
      ),
    "spec.selector.matchExpressions[0]",
    /at least one value/,
  );
  throwsBuild(
    () =>
      labelSelectorFromMeta({
        matchExpressions: [{ key: "b", operator: "Exists", values: ["x"] }],
      }),
    "selector.matchExpressions[0]",
    /takes no values/,
  );
  throwsBuild(
    () => labelSelectorFromMeta({ matchLabels: { app: "a b" } }),
    "selector.matchLabels",
    /invalid value "a b"/,
  );
  throwsBuild(
    () => labelSelectorFromMeta({ matchExpressions: [{ key: "a", operator: "toString" }] }),
    "selector.matchExpressions[0].operator",
  );
});

// ------------------------------------------------------------------------------------------------
// Label selectors: matching

test("matchesLabels follows apimachinery's rules for every operator", () => {
  const labels = { app: "web", tier: "fe", n: "5", zero: "007", word: "x" };
  const cases: [LabelSelectorInput, boolean][] = [
    ["", true],
    ["app=web", true],
    ["app==web", true],
    ["app=db", false],
    ["missing=", false],
    ["app!=db", true],
    ["app!=web", false],
    ["missing!=x", true],
    ["app in (db,web)", true],
    ["app in (db)", false],
    ["missing in (x)", false],
    ["app notin (db)", true],
    ["app notin (web)", false],
    ["missing notin (x)", true],
    ["app", true],
    ["missing", false],
    ["!missing", true],
    ["!app", false],
    ["n>4", true],
    ["n>5", false],
    ["n<6", true],
    ["n<5", false],
    ["zero>6", true],
    ["word>1", false],
    ["word<1", false],
    ["missing<1", false],
    ["app=web,tier=fe", true],
    ["app=web,tier=be", false],
    [{ app: "web", n: { gt: 1, lt: 9 } }, true],
  ];
  for (const [sel, want] of cases) {
    assert.equal(matchesLabels(sel, labels), want, JSON.stringify(sel));
  }
  assert.equal(matchesLabels("!a", undefined), true);
  assert.equal(matchesLabels("a!=x", undefined), true);
  assert.equal(matchesLabels("a", undefined), false);
});

test("matchesLabels looks at own properties only", () => {
  assert.equal(matchesLabels("constructor", {}), false);
  assert.equal(matchesLabels("!constructor", {}), true);
  assert.equal(matchesLabels("constructor=x", { constructor: "x" }), true);
});

test("gt and lt compare 64-bit integers exactly", () => {
  const big = { n: "9007199254740993" }; // 2^53 + 1, which a double cannot hold
  assert.equal(matchesLabels("n>9007199254740992", big), true);
  assert.equal(matchesLabels("n<9007199254740993", big), false);
  assert.equal(matchesLabels("n>1", { n: "99999999999999999999" }), false, "beyond int64");
});

// ------------------------------------------------------------------------------------------------
// Field selectors

test("a field selector object formats as apimachinery writes it", () => {
  assert.equal(
    formatFieldSelector({ "status.phase": { notEquals: "Running" }, "metadata.name": "x" }),
    "metadata.name=x,status.phase!=Running",
  );
  assert.equal(
    formatFieldSelector({ "status.phase": { notEquals: ["Running", "Pending"] } }),
    "status.phase!=Pending,status.phase!=Running",
  );
  assert.equal(formatFieldSelector({ "spec.nodeName": "" }), "spec.nodeName=");
  assert.equal(formatFieldSelector({ a: { equals: "1", notEquals: "2" } }), "a!=2,a=1");
  assert.equal(
    formatFieldSelector({ "metadata.name": "a,b=c\\d" }),
    "metadata.name=a\\,b\\=c\\\\d",
  );
  assert.equal(formatFieldSelector({}), "");
});

test("field selector objects are validated", () => {
  throwsBuild(() => toFieldSelector({ "": "x" }), "fieldSelector", /must not be empty/);
  throwsBuild(() => toFieldSelector({ "a,b": "x" }), "fieldSelector", /may not contain/);
  throwsBuild(() => toFieldSelector({ "a=b": "x" }), "fieldSelector", /may not contain/);
  throwsBuild(() => toFieldSelector({ "a\\": "x" }), "fieldSelector", /may not contain/);
  throwsBuild(() => toFieldSelector({ "a!": "x" }), "fieldSelector", /end in '!'/);
  throwsBuild(() => toFieldSelector({ a: { notEquals: [] } }), "fieldSelector", /non-empty array/);
  throwsBuild(
    () => toFieldSelector({ a: { in: ["x"] } as never }),
    "fieldSelector",
    /unknown constraint "in"/,
  );
  throwsBuild(() => toFieldSelector({ a: {} }), "fieldSelector", /empty/);
  throwsBuild(() => toFieldSelector({ a: undefined } as never), "fieldSelector", /not undefined/);
  throwsBuild(
    () => toFieldSelector({ a: 1 } as never, "options.fieldSelector"),
    "options.fieldSelector",
  );
  assert.doesNotThrow(() => toFieldSelector({ "a!b": "x" }), "'!' inside a name is harmless");
});

test("parsing field selectors: terms sorted as written, '==' read as '=', values unescaped", () => {
  const sel = parseFieldSelector("status.phase!=Running,metadata.name==a\\,b,,spec.nodeName=");
  assert.deepEqual(sel.requirements, [
    { field: "metadata.name", operator: "=", value: "a,b" },
    { field: "spec.nodeName", operator: "=", value: "" },
    { field: "status.phase", operator: "!=", value: "Running" },
  ]);
  assert.equal(
    formatFieldSelector(sel),
    "metadata.name=a\\,b,spec.nodeName=,status.phase!=Running",
  );
  // The order is that of the written terms, even where '==' then formats differently.
  assert.equal(formatFieldSelector("a==z,a=b"), "a=z,a=b");
  assert.equal(formatFieldSelector({ a: { notEquals: ["z", "b"] } }), "a!=b,a!=z");
  // The split is at the first operator; '!' alone is part of the name.
  assert.deepEqual(parseFieldSelector("a!b=c").requirements, [
    { field: "a!b", operator: "=", value: "c" },
  ]);
  throwsBuild(() => parseFieldSelector("a=!=b"), "fieldSelector", /unescaped '='/);
});

test("field selector parse errors", () => {
  throwsBuild(() => parseFieldSelector("a"), "fieldSelector", /term "a" has no '=', '==' or '!='/);
  throwsBuild(() => parseFieldSelector("a=b=c"), "fieldSelector", /unescaped '='/);
  throwsBuild(() => parseFieldSelector("a=b\\"), "fieldSelector", /lone '\\'/);
  throwsBuild(() => parseFieldSelector("a=b\\n"), "fieldSelector", /invalid escape '\\n'/);
  throwsBuild(() => parseFieldSelector("=x"), "fieldSelector", /must not be empty/);
  throwsBuild(() => parseFieldSelector("a\\,b=c"), "fieldSelector", /may not contain/);
  assert.deepEqual(parseFieldSelector("").requirements, []);
});

test("field values survive escaping and parsing", () => {
  const values = ["", "plain", "a,b", "a=b", "a\\b", "\\,=", "\\\\", "ü\u{1F600}", "x!=y", " sp "];
  for (const v of values) {
    assert.equal(unescapeFieldValue(escapeFieldValue(v)), v);
    const text = formatFieldSelector({ "metadata.name": v });
    assert.deepEqual(parseFieldSelector(text).requirements, [
      { field: "metadata.name", operator: "=", value: v },
    ]);
  }
});

test("matchesFields: missing fields read as empty", () => {
  const fields = { "metadata.name": "a,b", "status.phase": "Running" };
  assert.equal(matchesFields("metadata.name=a\\,b", fields), true);
  assert.equal(matchesFields({ "status.phase": { notEquals: "Running" } }, fields), false);
  assert.equal(matchesFields("status.phase!=Pending", fields), true);
  assert.equal(matchesFields("spec.nodeName=", fields), true);
  assert.equal(matchesFields("spec.nodeName!=", fields), false);
  assert.equal(matchesFields("spec.nodeName=n1", fields), false);
  assert.equal(matchesFields("", fields), true);
  assert.equal(matchesFields("constructor=", {}), true, "own properties only");
});

test("hand-made parsed field selectors are checked again", () => {
  assert.equal(
    formatFieldSelector({
      requirements: [
        { field: "b", operator: "=", value: "1" },
        { field: "a", operator: "!=", value: "," },
      ],
    }),
    "a!=\\,,b=1",
  );
  throwsBuild(
    () => toFieldSelector({ requirements: [{ field: "a", operator: "==" as never, value: "1" }] }),
    "fieldSelector",
    /operator/,
  );
});
