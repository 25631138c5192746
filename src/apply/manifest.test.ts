/**
 * Manifests: parsing multi-document YAML, JSON and JSON streams and List kinds, with errors that
 * name the document and line; and the order and bookkeeping of applyManifests / deleteManifests
 * against a fake client (Namespaces and CRDs first, waiting for a CRD before its objects, results
 * per object, unknown kinds, reverse deletion). The real thing is in test/integration/apply.test.ts.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Client } from "../client/client.ts";
import type { Clock } from "../core/clock.ts";
import { ApiError } from "../core/errors.ts";
import { defineResource } from "../core/resource.ts";
import { NoMatchError } from "../discovery/errors.ts";
import type { DiscoveredResource } from "../discovery/parse.ts";
import type { KindMapper } from "../dynamic/dynamic.ts";
import { ManifestError } from "./errors.ts";
import { jsonEqual } from "./json.ts";
import {
  applyManifests,
  deleteManifests,
  parseManifestDocuments,
  parseManifests,
} from "./manifest.ts";

describe("parsing", () => {
  test("YAML documents, comments and empty documents, a List with its items", () => {
    const docs = parseManifestDocuments(
      [
        "# a comment",
        "apiVersion: v1",
        "kind: ConfigMap",
        "metadata: {name: a}",
        "data:",
        "  mode: 0644", // YAML 1.1, as kubectl reads it: octal
        "---",
        "---",
        "apiVersion: v1",
        "kind: List",
        "items:",
        "- apiVersion: v1",
        "  kind: Secret",
        "  metadata: {name: b}",
        "- apiVersion: v1",
        "  kind: Service",
        "  metadata: {name: c}",
        "",
      ].join("\n"),
    );
    assert.deepEqual(
      docs.map((d) => [d.object.kind, d.object.metadata.name, d.index, d.line]),
      [
        ["ConfigMap", "a", 0, 2],
        ["Secret", "b", 2, 12],
        ["Service", "c", 2, 15],
      ],
    );
    assert.equal((docs[0]!.object.data as { mode: number }).mode, 0o644);
  });

  test("a typed list's items take their apiVersion and kind from it", () => {
    const [d] = parseManifests(
      JSON.stringify({
        apiVersion: "apps/v1",
        kind: "DeploymentList",
        items: [{ metadata: { name: "x" } }],
      }),
    );
    assert.deepEqual([d?.apiVersion, d?.kind, d?.metadata.name], ["apps/v1", "Deployment", "x"]);
  });

  test("JSON: one object, or a stream of them with their lines", () => {
    const docs = parseManifestDocuments(
      '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}\n\n' +
        '{\n  "apiVersion": "v1", "kind": "Secret",\n  "metadata": {"name": "b {not a brace}"}\n}\n',
    );
    assert.deepEqual(
      docs.map((d) => [d.object.kind, d.object.metadata.name, d.index, d.line]),
      [
        ["ConfigMap", "a", 0, 1],
        ["Secret", "b {not a brace}", 1, 3],
      ],
    );
  });

  test("a document that does not parse names its index and line", () => {
    const text = [
      "apiVersion: v1",
      "kind: ConfigMap",
      "metadata: {name: a}",
      "---",
      "apiVersion: v1",
      "kind: ConfigMap",
      "metadata: {name: b",
      "data: {}",
    ].join("\n");
    assert.throws(
      () => parseManifestDocuments(text, { source: "app.yaml" }),
      (e: unknown) =>
        e instanceof ManifestError &&
        e.index === 1 &&
        e.line !== undefined &&
        e.line >= 7 &&
        e.source === "app.yaml" &&
        e.message.startsWith(`app.yaml, document 1, line ${e.line}: invalid YAML`),
    );
    assert.throws(
      () => parseManifestDocuments("a: 1\na: 2\n"),
      (e: unknown) => e instanceof ManifestError && /unique/.test(e.message) && e.line === 2,
    );
    // Broken JSON is reported by the YAML parser, with its line.
    assert.throws(
      () => parseManifestDocuments('{"apiVersion": "v1",\n "kind": }'),
      (e: unknown) => e instanceof ManifestError && e.index === 0 && e.line !== undefined,
    );
  });

  test("objects must have apiVersion, kind and a name", () => {
    assert.throws(
      () => parseManifests("kind: ConfigMap\nmetadata: {name: a}\n"),
      (e: unknown) => e instanceof ManifestError && /apiVersion is required/.test(e.message),
    );
    assert.throws(
      () => parseManifests("apiVersion: v1\nkind: Pod\nmetadata: {generateName: a-}\n"),
      (e: unknown) =>
        e instanceof ManifestError &&
        e.kind === "Pod" &&
        /metadata.name is required/.test(e.message),
    );
    assert.throws(
      () => parseManifests("- a\n- b\n"),
      (e: unknown) =>
        e instanceof ManifestError && /expected an object, got a list/.test(e.message),
    );
    assert.throws(
      () => parseManifests("apiVersion: v1\nkind: List\nitems:\n- 1\n"),
      (e: unknown) => e instanceof ManifestError && /items\[0\]/.test(e.message) && e.line === 4,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// A fake client: objects in a map, resourceVersions that move only when an object changes.

const resources: Record<string, DiscoveredResource> = {
  Namespace: defineResource()({
    group: "",
    version: "v1",
    kind: "Namespace",
    plural: "namespaces",
    namespaced: false,
  }),
  ConfigMap: defineResource()({
    group: "",
    version: "v1",
    kind: "ConfigMap",
    plural: "configmaps",
    namespaced: true,
  }),
  CustomResourceDefinition: defineResource()({
    group: "apiextensions.k8s.io",
    version: "v1",
    kind: "CustomResourceDefinition",
    plural: "customresourcedefinitions",
    namespaced: false,
  }),
  Widget: defineResource()({
    group: "example.com",
    version: "v1",
    kind: "Widget",
    plural: "widgets",
    namespaced: true,
  }),
};

const notFound = () =>
  new ApiError({
    kind: "Status",
    apiVersion: "v1",
    status: "Failure",
    reason: "NotFound",
    code: 404,
  });

function fakeCluster() {
  const store = new Map<string, Record<string, unknown>>();
  const log: string[] = [];
  let rv = 1;
  let widgetsServed = false;
  let crdChecks = 0;
  const api = (plural: string, ns?: string) => {
    const key = (name: string) => `${plural}/${ns ?? ""}/${name}`;
    return {
      namespace: (n: string) => api(plural, n),
      async get(name: string) {
        const o = store.get(key(name));
        if (plural === "customresourcedefinitions" && o && !o.status && ++crdChecks >= 3) {
          // Established on the third look.
          widgetsServed = true;
          o.status = { conditions: [{ type: "Established", status: "True" }] };
        }
        if (!o) throw notFound();
        return structuredClone(o);
      },
      async apply(
        config: Record<string, unknown>,
        options: { fieldManager: string; dryRun?: string },
      ) {
        const name = (config.metadata as { name: string }).name;
        log.push(`apply ${plural} ${ns ?? "-"}/${name}${options.dryRun ? " (dry run)" : ""}`);
        const old = store.get(key(name));
        const { metadata: m, ...rest } = config;
        const next = {
          ...rest,
          ...(old?.status ? { status: old.status } : {}),
          metadata: { ...(m as object), resourceVersion: String(rv) },
        };
        const same = old && jsonEqual({ ...old, metadata: {} }, { ...next, metadata: {} });
        if (same) return structuredClone(old);
        if (options.dryRun) return next;
        next.metadata.resourceVersion = String(++rv);
        store.set(key(name), next);
        return structuredClone(next);
      },
      async delete(name: string) {
        log.push(`delete ${plural} ${ns ?? "-"}/${name}`);
        if (!store.delete(key(name))) throw notFound();
        return {};
      },
    };
  };
  const client = {
    api: (r: { plural: string }) => api(r.plural),
  } as unknown as Client;
  const mapper: KindMapper = {
    restMapping: (gk) => {
      const r = resources[gk.kind];
      if (!r || (gk.kind === "Widget" && !widgetsServed)) throw new NoMatchError({ kind: gk.kind });
      return r;
    },
  };
  return { client, mapper, store, log };
}

/** A clock whose sleeps return at once and move time on. */
function instantClock(): Clock {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
  };
}

const manifest = `
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: app}
data: {a: "1"}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: app}
spec: {size: 1}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
---
apiVersion: v1
kind: Namespace
metadata: {name: app}
`;

describe("applyManifests and deleteManifests (fake client)", () => {
  test("Namespaces, then CRDs, then the rest in file order, waiting for the CRD", async () => {
    const { client, mapper, log } = fakeCluster();
    const results = await applyManifests(client, manifest, {
      fieldManager: "me",
      mapper,
      clock: instantClock(),
    });
    assert.deepEqual(log, [
      "apply namespaces -/app",
      "apply customresourcedefinitions -/widgets.example.com",
      "apply configmaps app/settings",
      "apply widgets app/w",
    ]);
    assert.deepEqual(
      results.map((r) => [r.object.kind, r.action, r.resource?.plural, r.index, r.error]),
      [
        ["Namespace", "created", "namespaces", 3, undefined],
        ["CustomResourceDefinition", "created", "customresourcedefinitions", 2, undefined],
        ["ConfigMap", "created", "configmaps", 0, undefined],
        ["Widget", "created", "widgets", 1, undefined],
      ],
    );
    // Again: nothing moves; then one change.
    const again = await applyManifests(client, manifest, {
      fieldManager: "me",
      mapper,
      clock: instantClock(),
    });
    assert.deepEqual(
      again.map((r) => r.action),
      ["unchanged", "unchanged", "unchanged", "unchanged"],
    );
    const changed = await applyManifests(client, manifest.replace('a: "1"', 'a: "2"'), {
      fieldManager: "me",
      mapper,
      clock: instantClock(),
    });
    assert.deepEqual(
      changed.map((r) => r.action),
      ["unchanged", "unchanged", "configured", "unchanged"],
    );
    // A dry run tells what would change, and changes nothing.
    const dry = await applyManifests(client, manifest.replace('a: "1"', 'a: "3"'), {
      fieldManager: "me",
      mapper,
      dryRun: true,
      clock: instantClock(),
    });
    assert.deepEqual(
      dry.map((r) => r.action),
      ["unchanged", "unchanged", "configured", "unchanged"],
    );
    assert.ok(log.at(-1)?.endsWith("(dry run)"));
  });

  test("an unknown kind is an error result naming it; the other objects still apply", async () => {
    const { client, mapper } = fakeCluster();
    const results = await applyManifests(
      client,
      "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
      { fieldManager: "me", mapper, source: "m.yaml" },
    );
    const [gadget, cm] = results;
    assert.ok(gadget?.error instanceof ManifestError);
    assert.equal(gadget.error.kind, "Gadget");
    assert.match(
      gadget.error.message,
      /^m\.yaml, document 0, line 1: unknown kind "Gadget" in "example\.com\/v1"/,
    );
    assert.equal(cm?.action, "created");
  });

  test("a CRD that never becomes Established fails its objects after the timeout", async () => {
    const { client, mapper } = fakeCluster();
    const crdOnly = manifest.replace("kind: Namespace", "kind: Namespace");
    const results = await applyManifests(client, crdOnly, {
      fieldManager: "me",
      mapper: {
        restMapping: (gk) => {
          if (gk.kind === "Widget") throw new NoMatchError({ kind: "Widget" });
          return mapper.restMapping(gk);
        },
      },
      clock: instantClock(),
      crdTimeoutMs: 1000,
    });
    const widget = results.find((r) => r.object.kind === "Widget");
    assert.ok(widget?.error instanceof ManifestError);
    assert.match(widget.error.message, /unknown kind "Widget"/);
  });

  test("deleteManifests goes in reverse order and takes NotFound as done", async () => {
    const { client, mapper, log } = fakeCluster();
    await applyManifests(client, manifest, { fieldManager: "me", mapper, clock: instantClock() });
    log.length = 0;
    const results = await deleteManifests(client, manifest, { mapper });
    assert.deepEqual(log, [
      "delete widgets app/w",
      "delete configmaps app/settings",
      "delete customresourcedefinitions -/widgets.example.com",
      "delete namespaces -/app",
    ]);
    assert.deepEqual(
      results.map((r) => r.action),
      ["deleted", "deleted", "deleted", "deleted"],
    );
    const again = await deleteManifests(client, manifest, { mapper });
    assert.deepEqual(
      again.map((r) => r.action),
      ["notFound", "notFound", "notFound", "notFound"],
    );
    // Once the CRD is not served, its objects are gone too; a kind from nowhere is still an error.
    const gone = await deleteManifests(
      client,
      `${manifest}---\napiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g}\n`,
      {
        mapper: {
          restMapping: (gk) => {
            if (gk.kind === "Widget" || gk.kind === "Gadget")
              throw new NoMatchError({ kind: gk.kind });
            return mapper.restMapping(gk);
          },
        },
      },
    );
    assert.deepEqual(
      gone.map((r) => [r.object.kind, r.action, r.error?.name]),
      [
        ["Gadget", undefined, "ManifestError"],
        ["Widget", "notFound", undefined],
        ["ConfigMap", "notFound", undefined],
        ["CustomResourceDefinition", "notFound", undefined],
        ["Namespace", "notFound", undefined],
      ],
    );
  });

  test("a manifest that does not parse applies nothing", async () => {
    const { client, mapper, log } = fakeCluster();
    await assert.rejects(
      applyManifests(client, `${manifest}---\nkind: [`, { fieldManager: "me", mapper }),
      (e: unknown) => e instanceof ManifestError && e.index === 4,
    );
    assert.deepEqual(log, []);
  });
});
