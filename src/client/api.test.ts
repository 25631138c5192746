/**
 * What `Api` sends for each verb, checked on a recording transport. The same verbs against the
 * real API server are in test/integration/.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { RequestBuildError } from "../core/errors.ts";
import type { KubernetesObject } from "../core/meta.ts";
import { defineResource } from "../core/resource.ts";
import { RestClient } from "../rest/client.ts";
import type { HttpRequest } from "../rest/http.ts";
import { Api } from "./api.ts";

interface Thing extends KubernetesObject {
  spec?: { size?: number };
}
const Thing = defineResource<Thing>()({
  group: "example.com",
  version: "v1",
  kind: "Thing",
  plural: "things",
  namespaced: true,
});
const Cluster = defineResource<Thing>()({
  group: "",
  version: "v1",
  kind: "Cluster",
  plural: "clusters",
  namespaced: false,
});

function recording(): {
  api: <T extends KubernetesObject, N extends boolean>(
    r: Parameters<typeof mk<T, N>>[1],
  ) => Api<T, N>;
  sent: HttpRequest[];
} {
  const sent: HttpRequest[] = [];
  const rest = new RestClient({
    server: "https://example.invalid",
    qps: -1,
    transport: {
      async dispatch(req) {
        sent.push(req);
        const body = Buffer.from('{"kind":"Thing"}');
        return {
          status: 200,
          headers: {},
          body: {
            async *[Symbol.asyncIterator]() {
              yield body;
            },
            bytes: async () => body,
            text: async () => body.toString(),
            dump: async () => {},
          },
        };
      },
      async close() {},
    },
  });
  return { api: (r) => mk(rest, r), sent };
}

function mk<T extends KubernetesObject, N extends boolean>(
  rest: RestClient,
  r: ConstructorParameters<typeof Api<T, N>>[1],
): Api<T, N> {
  return new Api<T, N>({ rest, defaultNamespace: "dflt" }, r);
}

test("single-object calls use the chosen namespace, else the object's, else the default", async () => {
  const { api, sent } = recording();
  const things = api(Thing);
  await things.get("a");
  await things.namespace("web").get("a");
  await things.create({ metadata: { name: "b", namespace: "mine" } });
  await things.update({ metadata: { name: "b" }, spec: { size: 2 } });
  assert.deepEqual(
    sent.map((r) => `${r.method} ${r.path}`),
    [
      "GET /apis/example.com/v1/namespaces/dflt/things/a",
      "GET /apis/example.com/v1/namespaces/web/things/a",
      "POST /apis/example.com/v1/namespaces/mine/things",
      "PUT /apis/example.com/v1/namespaces/dflt/things/b",
    ],
  );
  assert.equal(
    sent[3]!.body,
    '{"apiVersion":"example.com/v1","kind":"Thing","metadata":{"name":"b"},"spec":{"size":2}}',
  );
});

test("create, update and updateStatus send the descriptor's apiVersion and kind where the object has none", async () => {
  const { api, sent } = recording();
  const things = api(Thing).namespace("web");
  await things.create({ metadata: { name: "a" } });
  await things.update({ apiVersion: "example.com/v1", kind: "Thing", metadata: { name: "a" } });
  await things.status.update({ kind: "Other", metadata: { name: "a" } } as Thing);
  // A runtime reference without a kind (dynamic by GVR) sends the object as it is.
  const byGvr = api({ group: "example.com", version: "v1", plural: "things", namespaced: true });
  await byGvr.namespace("web").create({ metadata: { name: "b" } });
  assert.deepEqual(
    sent.map((r) => JSON.parse(String(r.body))),
    [
      { apiVersion: "example.com/v1", kind: "Thing", metadata: { name: "a" } },
      { apiVersion: "example.com/v1", kind: "Thing", metadata: { name: "a" } },
      { apiVersion: "example.com/v1", kind: "Other", metadata: { name: "a" } },
      { metadata: { name: "b" } },
    ],
  );
});

test("list and watch span all namespaces unless one was chosen; options become query parameters", async () => {
  const { api, sent } = recording();
  await api(Thing).list({ labelSelector: { app: "web" }, limit: 5 });
  await api(Thing).namespace("x").list();
  const it = api(Thing).watch({ resourceVersion: "7", allowWatchBookmarks: true });
  await it.next().catch(() => {});
  assert.deepEqual(
    sent.map((r) => r.path),
    [
      "/apis/example.com/v1/things?labelSelector=app%3Dweb&limit=5",
      "/apis/example.com/v1/namespaces/x/things",
      "/apis/example.com/v1/things?allowWatchBookmarks=true&resourceVersion=7&watch=true",
    ],
  );
  assert.equal(sent[2]!.stream, true);
});

test("cluster-scoped resources take no namespace, at compile time and at run time", async () => {
  const { api, sent } = recording();
  const clusters = api(Cluster);
  await clusters.get("c");
  assert.equal(sent[0]!.path, "/api/v1/clusters/c");
  // @ts-expect-error namespace() is only offered for namespaced resources
  assert.throws(() => clusters.namespace("x"), RequestBuildError);
});

test("patch needs an explicit type and sends its content type; apply needs a field manager", async () => {
  const { api, sent } = recording();
  const things = api(Thing).namespace("n");
  await things.patch("a", [{ op: "replace", path: "/spec/size", value: 3 }], { type: "json" });
  await things.patch("a", { metadata: { labels: { x: null } } }, { type: "merge" });
  await things.status.patch("a", { status: {} }, { type: "strategic" });
  await things.apply(
    { apiVersion: "example.com/v1", kind: "Thing", metadata: { name: "a" } },
    { fieldManager: "me", force: true },
  );
  assert.deepEqual(
    sent.map((r) => [r.path, r.headers["content-type"]]),
    [
      ["/apis/example.com/v1/namespaces/n/things/a", "application/json-patch+json"],
      ["/apis/example.com/v1/namespaces/n/things/a", "application/merge-patch+json"],
      [
        "/apis/example.com/v1/namespaces/n/things/a/status",
        "application/strategic-merge-patch+json",
      ],
      [
        "/apis/example.com/v1/namespaces/n/things/a?fieldManager=me&force=true",
        "application/apply-patch+yaml",
      ],
    ],
  );
  await assert.rejects(things.patch("a", { x: 1 }, { type: "json" }), RequestBuildError);
  await assert.rejects(
    things.apply(
      { apiVersion: "v1", kind: "Thing", metadata: { name: "a" } },
      { fieldManager: "" },
    ),
    (e) => e instanceof RequestBuildError && e.field === "options.fieldManager",
  );
  await assert.rejects(
    things.subresource("a", "scale").patch({}, { type: "bogus" as never }),
    RequestBuildError,
  );
  assert.equal(sent.length, 4, "rejected calls sent nothing");
});

test("subresources: POST with a name, plain-text GET with parameters", async () => {
  const { api, sent } = recording();
  const things = api(Thing).namespace("n");
  await things
    .subresource("a", "eviction")
    .create({ apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "a" } });
  await things.subresource("a", "log").text({ params: { container: "c", tailLines: 10 } });
  assert.deepEqual(
    sent.map((r) => `${r.method} ${r.path}`),
    [
      "POST /apis/example.com/v1/namespaces/n/things/a/eviction",
      "GET /apis/example.com/v1/namespaces/n/things/a/log?container=c&tailLines=10",
    ],
  );
});

test("delete sends DeleteOptions as the body", async () => {
  const { api, sent } = recording();
  await api(Thing)
    .namespace("n")
    .delete("a", { propagationPolicy: "Foreground", gracePeriodSeconds: 0 });
  assert.equal(sent[0]!.method, "DELETE");
  assert.deepEqual(JSON.parse(String(sent[0]!.body)), {
    kind: "DeleteOptions",
    apiVersion: "v1",
    gracePeriodSeconds: 0,
    propagationPolicy: "Foreground",
  });
});
