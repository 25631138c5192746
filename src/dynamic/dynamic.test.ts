/**
 * The dynamic, metadata and Table clients against a fake transport that records each request.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Client } from "../client/client.ts";
import { RestConfig } from "../config/rest-config.ts";
import { DecodeError, RequestBuildError } from "../core/errors.ts";
import { RestMapper } from "../discovery/mapper.ts";
import { fromAggregated } from "../discovery/parse.ts";
import type { HttpRequest, HttpResponse } from "../rest/http.ts";
import { dynamic, dynamicFor, dynamicForKind } from "./dynamic.ts";
import { ACCEPT_PARTIAL_METADATA, ACCEPT_PARTIAL_METADATA_LIST, metadata } from "./metadata.ts";
import { ACCEPT_TABLE, formatTable, humanDuration, type Table, tables } from "./table.ts";
import { isUnstructured, nestedField, type Unstructured } from "./unstructured.ts";

type Answer = (req: HttpRequest) => { status?: number; body: unknown; stream?: string[] };

function fake(
  answer: Answer = (req) =>
    req.path.includes("watch=true")
      ? { body: null, stream: [`${JSON.stringify({ type: "ADDED", object: obj("x") })}\n`] }
      : { body: obj("x") },
) {
  const log: HttpRequest[] = [];
  const client = new Client(
    new RestConfig({ server: "https://fake.example:6443", namespace: "def" }),
    {
      qps: -1,
      maxRetries: 0,
      transport: {
        dispatch: async (req): Promise<HttpResponse> => {
          log.push(req);
          const a = answer(req);
          const chunks = a.stream ?? [JSON.stringify(a.body)];
          const text = chunks.join("");
          return {
            status: a.status ?? 200,
            headers: { "content-type": "application/json" },
            body: {
              async *[Symbol.asyncIterator]() {
                for (const c of chunks) yield Buffer.from(c);
              },
              bytes: async () => Buffer.from(text),
              text: async () => text,
              dump: async () => {},
            },
          };
        },
        close: async () => {},
      },
    },
  );
  const line = (i: number) => {
    const r = log[i]!;
    return `${r.method} ${r.path}`;
  };
  return { client, log, line };
}

function obj(name: string, extra: Record<string, unknown> = {}): Unstructured {
  return {
    apiVersion: "example.com/v1",
    kind: "Widget",
    metadata: { name, namespace: "a" },
    ...extra,
  };
}

const widgets = {
  group: "example.com",
  version: "v1",
  resource: "widgets",
  namespaced: true,
} as const;

test("dynamic() is the typed client's Api over a GVR: every verb and subresource", async () => {
  const { client, log, line } = fake();
  const api = dynamic(client, widgets);
  const a = api.namespace("a");
  await a.get("w");
  await api.list();
  await a.list({ labelSelector: { app: "x" } });
  await a.create(obj("w"));
  await a.update(obj("w"));
  await a.patch("w", { spec: { size: 2 } }, { type: "merge" });
  await a.apply(
    { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } },
    { fieldManager: "me", force: true },
  );
  await a.delete("w");
  await a.status.get("w");
  await a.status.update(obj("w", { status: { ok: true } }));
  await a.scale.get("w");
  await a.scale.update("w", { spec: { replicas: 3 } });
  await api.get("w");
  for await (const _ of a.watch({ resourceVersion: "5" })) break;
  assert.deepEqual(
    log.map((_, i) => line(i)),
    [
      "GET /apis/example.com/v1/namespaces/a/widgets/w",
      "GET /apis/example.com/v1/widgets",
      "GET /apis/example.com/v1/namespaces/a/widgets?labelSelector=app%3Dx",
      "POST /apis/example.com/v1/namespaces/a/widgets",
      "PUT /apis/example.com/v1/namespaces/a/widgets/w",
      "PATCH /apis/example.com/v1/namespaces/a/widgets/w",
      "PATCH /apis/example.com/v1/namespaces/a/widgets/w?fieldManager=me&force=true",
      "DELETE /apis/example.com/v1/namespaces/a/widgets/w",
      "GET /apis/example.com/v1/namespaces/a/widgets/w/status",
      "PUT /apis/example.com/v1/namespaces/a/widgets/w/status",
      "GET /apis/example.com/v1/namespaces/a/widgets/w/scale",
      "PUT /apis/example.com/v1/namespaces/a/widgets/w/scale",
      "GET /apis/example.com/v1/namespaces/def/widgets/w",
      "GET /apis/example.com/v1/namespaces/a/widgets?resourceVersion=5&watch=true",
    ],
  );
  assert.equal(log[5]!.headers["content-type"], "application/merge-patch+json");
  assert.equal(log[6]!.headers["content-type"], "application/apply-patch+yaml");
  assert.deepEqual(JSON.parse(String(log[11]!.body)), {
    apiVersion: "autoscaling/v1",
    kind: "Scale",
    spec: { replicas: 3 },
    metadata: { name: "w" },
  });
});

test("the scope decides the URL: cluster-scoped resources take no namespace, and the scope is required", async () => {
  const { client, line } = fake();
  const nodes = dynamic(client, { group: "", version: "v1", resource: "nodes", namespaced: false });
  await nodes.get("n1");
  assert.equal(line(0), "GET /api/v1/nodes/n1");
  assert.throws(
    () => (nodes as never as { namespace(ns: string): unknown }).namespace("a"),
    RequestBuildError,
  );
  assert.throws(
    () => dynamic(client, { group: "", version: "v1", resource: "nodes" } as never),
    (e) => e instanceof RequestBuildError && e.field === "resource.namespaced",
  );
});

const mapper = new RestMapper(
  fromAggregated({
    items: [
      {
        metadata: { name: "apps" },
        versions: [
          {
            version: "v1",
            resources: [
              {
                resource: "deployments",
                responseKind: { group: "", version: "", kind: "Deployment" },
                scope: "Namespaced",
                singularResource: "deployment",
                shortNames: ["deploy"],
                verbs: ["get"],
              },
            ],
          },
        ],
      },
    ],
  }),
);

test("dynamicForKind and dynamicFor resolve through a mapper", async () => {
  const { client, line } = fake();
  const byKind = await dynamicForKind(client, mapper, { group: "apps", kind: "Deployment" });
  assert.equal(byKind.resource.plural, "deployments");
  assert.equal(byKind.resource.namespaced, true);
  await byKind.get("web");
  assert.equal(line(0), "GET /apis/apps/v1/namespaces/def/deployments/web");
  assert.equal((await dynamicFor(client, mapper, "deploy")).resource.plural, "deployments");
  await assert.rejects(
    dynamicForKind(client, mapper, { group: "apps", version: "v2", kind: "Deployment" }),
  );
});

test("the metadata client asks for PartialObjectMetadata and cuts full objects down if it gets them", async () => {
  const full = obj("w", { data: { big: "x".repeat(100) } });
  const { client, log } = fake((req) => {
    if (String(req.path).includes("watch=true")) {
      return {
        body: null,
        stream: [
          `${JSON.stringify({ type: "ADDED", object: full })}\n`,
          `${JSON.stringify({ type: "DELETED", object: { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: { name: "v" } } })}\n`,
        ],
      };
    }
    if (req.method === "GET" && req.path.endsWith("/widgets")) {
      return {
        body: {
          kind: "WidgetList",
          apiVersion: "example.com/v1",
          metadata: { resourceVersion: "9" },
          items: [full],
        },
      };
    }
    return { body: full };
  });
  const m = metadata(client, widgets).namespace("a");
  const one = await m.get("w");
  assert.deepEqual(one, {
    apiVersion: "meta.k8s.io/v1",
    kind: "PartialObjectMetadata",
    metadata: full.metadata,
  });
  const list = await m.list();
  assert.equal(list.kind, "PartialObjectMetadataList");
  assert.equal(list.metadata.resourceVersion, "9");
  assert.deepEqual(list.items, [one]);
  const events: string[] = [];
  for await (const ev of m.watch()) {
    events.push(`${ev.type} ${ev.object.kind} ${ev.object.metadata.name}`);
    assert.equal("data" in ev.object, false);
  }
  assert.deepEqual(events, ["ADDED PartialObjectMetadata w", "DELETED PartialObjectMetadata v"]);
  await m.patch("w", { metadata: { labels: { a: "b" } } }, { type: "merge" });
  assert.deepEqual(
    log.map((r) => [r.method, r.path, r.headers.accept]),
    [
      ["GET", "/apis/example.com/v1/namespaces/a/widgets/w", ACCEPT_PARTIAL_METADATA],
      ["GET", "/apis/example.com/v1/namespaces/a/widgets", ACCEPT_PARTIAL_METADATA_LIST],
      ["GET", "/apis/example.com/v1/namespaces/a/widgets?watch=true", ACCEPT_PARTIAL_METADATA],
      ["PATCH", "/apis/example.com/v1/namespaces/a/widgets/w", ACCEPT_PARTIAL_METADATA],
    ],
  );
  assert.equal(
    ACCEPT_PARTIAL_METADATA,
    "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json",
  );
});

const sampleTable: Table = {
  apiVersion: "meta.k8s.io/v1",
  kind: "Table",
  metadata: {},
  columnDefinitions: [
    { name: "Name", type: "string", format: "name", description: "", priority: 0 },
    { name: "Ready", type: "string", format: "", description: "", priority: 0 },
    { name: "Restarts", type: "integer", format: "", description: "", priority: 0 },
    { name: "Age", type: "date", format: "", description: "", priority: 0 },
    { name: "IP", type: "string", format: "", description: "", priority: 1 },
  ],
  rows: [
    {
      cells: ["web-0", "1/1", 0, "2026-01-01T00:00:00Z", "10.0.0.1"],
      object: { metadata: { name: "web-0", namespace: "prod" } },
    },
    {
      cells: ["a", "line one\nline two", null, "2025-12-31T21:00:00Z", null],
      object: { metadata: { name: "a", namespace: "x" } },
    },
  ],
};

test("formatTable prints as kubectl get does", () => {
  const now = Date.parse("2026-01-01T00:05:00Z");
  assert.equal(
    formatTable(sampleTable, { now }),
    [
      "NAME    READY         RESTARTS   AGE",
      "web-0   1/1           0          5m",
      "a       line one...   <none>     3h5m",
      "",
    ].join("\n"),
  );
  assert.equal(
    formatTable(sampleTable, { now, wide: true, withNamespace: true, noHeaders: true }),
    [
      "prod   web-0   1/1           0        5m     10.0.0.1",
      "x      a       line one...   <none>   3h5m   <none>",
      "",
    ].join("\n"),
  );
  assert.equal(formatTable({ ...sampleTable, rows: [] }), "");
});

test("humanDuration matches apimachinery's HumanDuration", () => {
  const s = 1000;
  const cases: [number, string][] = [
    [-3 * s, "<invalid>"],
    [-1 * s, "0s"],
    [0, "0s"],
    [119 * s, "119s"],
    [120 * s, "2m"],
    [9 * 60 * s + 59 * s, "9m59s"],
    [10 * 60 * s + 30 * s, "10m"],
    [179 * 60 * s, "179m"],
    [3 * 3600 * s, "3h"],
    [7 * 3600 * s + 59 * 60 * s, "7h59m"],
    [8 * 3600 * s + 30 * 60 * s, "8h"],
    [47 * 3600 * s, "47h"],
    [48 * 3600 * s, "2d"],
    [7 * 86400 * s + 23 * 3600 * s, "7d23h"],
    [8 * 86400 * s + 5 * 3600 * s, "8d"],
    [729 * 86400 * s, "729d"],
    [730 * 86400 * s, "2y"],
    [(3 * 365 + 10) * 86400 * s, "3y10d"],
    [(9 * 365 + 10) * 86400 * s, "9y"],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms}`);
});

test("the Table client sends the Table Accept header and includeObject, and rejects other answers", async () => {
  const { client, log } = fake((req) =>
    req.path.includes("/x/") ? { body: { kind: "Widget" } } : { body: sampleTable },
  );
  const t = tables(client, widgets);
  assert.equal((await t.list({ includeObject: "None", limit: 5 })).rows.length, 2);
  await t.namespace("a").get("w");
  assert.deepEqual(
    log.map((r) => [r.path, r.headers.accept]),
    [
      ["/apis/example.com/v1/widgets?includeObject=None&limit=5", ACCEPT_TABLE],
      ["/apis/example.com/v1/namespaces/a/widgets/w", ACCEPT_TABLE],
    ],
  );
  await assert.rejects(t.namespace("x").get("w"), DecodeError);
});

test("unstructured helpers", () => {
  const u = obj("w", { spec: { replicas: 3, list: [1] } });
  assert.equal(isUnstructured(u), true);
  assert.equal(isUnstructured({ kind: "X" }), false);
  assert.equal(nestedField(u, "spec", "replicas"), 3);
  assert.equal(nestedField(u, "spec", "list", "0"), undefined);
  assert.equal(nestedField(u, "spec", "missing", "deeper"), undefined);
  assert.equal(nestedField(u, "toString"), undefined);
});

test("namespace() type-checks for runtime scopes and not for cluster-scoped ones", async () => {
  const { client, line } = fake();
  const nodes = { group: "", version: "v1", resource: "nodes", namespaced: false } as const;
  // @ts-expect-error: a cluster-scoped resource has no namespace()
  assert.throws(() => metadata(client, nodes).namespace("a"), RequestBuildError);
  // @ts-expect-error: a cluster-scoped resource has no namespace()
  assert.throws(() => tables(client, nodes).namespace("a"), RequestBuildError);
  const unknownScope = mapper.resolve("deploy");
  await metadata(client, unknownScope).namespace("a").get("web");
  await assert.rejects(tables(client, unknownScope).namespace("a").get("web"), DecodeError);
  await dynamic(client, unknownScope).namespace("a").get("web");
  assert.deepEqual(
    [line(0), line(1), line(2)],
    [
      "GET /apis/apps/v1/namespaces/a/deployments/web",
      "GET /apis/apps/v1/namespaces/a/deployments/web",
      "GET /apis/apps/v1/namespaces/a/deployments/web",
    ],
  );
  // @ts-expect-error: a cluster-scoped resource has no namespace()
  assert.throws(() => dynamic(client, nodes).namespace("a"), RequestBuildError);
});
