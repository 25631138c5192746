import assert from "node:assert/strict";
import { test } from "node:test";
import { RequestBuildError } from "./errors.ts";
import type { KubernetesObject } from "./meta.ts";
import { PatchType } from "./options.ts";
import {
  buildRequest,
  pathAndQuery,
  type RequestInput,
  resourcePath,
  verbMethods,
} from "./request.ts";
import { defineResource } from "./resource.ts";

function throwsBuild(fn: () => unknown, field: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RequestBuildError, `expected a RequestBuildError, got ${String(e)}`);
    assert.equal(e.field, field);
    if (message) assert.match(e.message, message);
    return true;
  });
}

const Pod = defineResource<KubernetesObject>()({
  group: "",
  version: "v1",
  kind: "Pod",
  plural: "pods",
  namespaced: true,
});
const Deployment = defineResource<KubernetesObject>()({
  group: "apps",
  version: "v1",
  kind: "Deployment",
  plural: "deployments",
  namespaced: true,
});
const Node = defineResource<KubernetesObject>()({
  group: "",
  version: "v1",
  kind: "Node",
  plural: "nodes",
  namespaced: false,
});
const ClusterRole = defineResource<KubernetesObject>()({
  group: "rbac.authorization.k8s.io",
  version: "v1",
  kind: "ClusterRole",
  plural: "clusterroles",
  namespaced: false,
});

const body = '{"metadata":{"name":"x"}}';

test("paths: core group under /api, named groups under /apis", () => {
  const cases: [RequestInput, string][] = [
    [{ verb: "get", resource: Pod, namespace: "ns", name: "p" }, "/api/v1/namespaces/ns/pods/p"],
    [{ verb: "list", resource: Pod, namespace: "ns" }, "/api/v1/namespaces/ns/pods"],
    [{ verb: "list", resource: Pod }, "/api/v1/pods"],
    [{ verb: "watch", resource: Deployment }, "/apis/apps/v1/deployments"],
    [
      { verb: "get", resource: Deployment, namespace: "a", name: "b", subresource: "scale" },
      "/apis/apps/v1/namespaces/a/deployments/b/scale",
    ],
    [{ verb: "get", resource: Node, name: "n1" }, "/api/v1/nodes/n1"],
    [
      { verb: "update", resource: Pod, namespace: "ns", name: "p", subresource: "status", body },
      "/api/v1/namespaces/ns/pods/p/status",
    ],
    [
      { verb: "create", resource: Pod, namespace: "ns", name: "p", subresource: "eviction", body },
      "/api/v1/namespaces/ns/pods/p/eviction",
    ],
    [{ verb: "create", resource: Pod, namespace: "ns", body }, "/api/v1/namespaces/ns/pods"],
    [{ verb: "deletecollection", resource: Pod, namespace: "ns" }, "/api/v1/namespaces/ns/pods"],
    [
      { verb: "delete", resource: ClusterRole, name: "system:controller:job-controller" },
      "/apis/rbac.authorization.k8s.io/v1/clusterroles/system:controller:job-controller",
    ],
    [
      {
        verb: "list",
        resource: { group: "example.com", version: "v1", plural: "widgets", namespaced: true },
      },
      "/apis/example.com/v1/widgets",
    ],
  ];
  for (const [input, path] of cases)
    assert.equal(buildRequest(input).path, path, JSON.stringify(input));
});

test("each verb has its HTTP method", () => {
  assert.deepEqual(verbMethods, {
    get: "GET",
    list: "GET",
    watch: "GET",
    create: "POST",
    update: "PUT",
    patch: "PATCH",
    delete: "DELETE",
    deletecollection: "DELETE",
  });
  const target = { resource: Pod, namespace: "ns" };
  assert.equal(buildRequest({ ...target, verb: "get", name: "p" }).method, "GET");
  assert.equal(buildRequest({ ...target, verb: "watch" }).method, "GET");
  assert.equal(buildRequest({ ...target, verb: "create", body }).method, "POST");
  assert.equal(buildRequest({ ...target, verb: "update", name: "p", body }).method, "PUT");
  assert.equal(
    buildRequest({ ...target, verb: "patch", name: "p", body, contentType: PatchType.merge })
      .method,
    "PATCH",
  );
  assert.equal(buildRequest({ ...target, verb: "delete", name: "p" }).method, "DELETE");
  assert.equal(buildRequest({ ...target, verb: "deletecollection" }).method, "DELETE");
});

test("path segments are percent-encoded", () => {
  const r = buildRequest({ verb: "get", resource: Node, name: "a b?#é" });
  assert.equal(r.path, "/api/v1/nodes/a%20b%3F%23%C3%A9");
  throwsBuild(
    () => buildRequest({ verb: "get", resource: Node, name: "a\uD800" }),
    "name",
    /Unicode/,
  );
});

test("namespaces: required except to list or watch, refused for cluster-scoped kinds", () => {
  assert.equal(buildRequest({ verb: "list", resource: Pod, namespace: "" }).path, "/api/v1/pods");
  assert.equal(buildRequest({ verb: "list", resource: Node, namespace: "" }).path, "/api/v1/nodes");
  throwsBuild(
    () => buildRequest({ verb: "get", resource: Node, namespace: "ns", name: "n" }),
    "namespace",
    /"nodes" is cluster-scoped/,
  );
  throwsBuild(() => buildRequest({ verb: "list", resource: Node, namespace: "ns" }), "namespace");
  for (const verb of ["get", "update", "patch", "delete"] as const) {
    throwsBuild(
      () =>
        buildRequest({
          verb,
          resource: Pod,
          name: "p",
          body,
          contentType: PatchType.merge,
        } as RequestInput),
      "namespace",
      new RegExp(`required to ${verb} "pods"`),
    );
  }
  throwsBuild(() => buildRequest({ verb: "create", resource: Pod, body }), "namespace", /required/);
  throwsBuild(
    () => buildRequest({ verb: "deletecollection", resource: Pod }),
    "namespace",
    /required/,
  );
});

test("namespaces must be DNS-1123 labels", () => {
  for (const ns of ["Bad", "a_b", "a.b", "-a", "x".repeat(64)]) {
    throwsBuild(() => buildRequest({ verb: "list", resource: Pod, namespace: ns }), "namespace");
  }
  throwsBuild(
    () => buildRequest({ verb: "list", resource: Pod, namespace: "Prod" }),
    "namespace",
    /"Prod" must consist of lower-case/,
  );
  throwsBuild(
    () => buildRequest({ verb: "list", resource: Pod, namespace: 5 as never }),
    "namespace",
  );
  assert.doesNotThrow(() =>
    buildRequest({ verb: "list", resource: Pod, namespace: "x".repeat(63) }),
  );
});

test("names are held only to the path-segment rules", () => {
  for (const name of ["UPPER", "a_b", "x".repeat(300), "system:node:n1", "with space"]) {
    assert.doesNotThrow(() => buildRequest({ verb: "get", resource: Node, name }), name);
  }
  throwsBuild(
    () => buildRequest({ verb: "get", resource: Node, name: "." }),
    "name",
    /may not be '\.'/,
  );
  throwsBuild(() => buildRequest({ verb: "get", resource: Node, name: ".." }), "name", /'\.\.'/);
  throwsBuild(() => buildRequest({ verb: "get", resource: Node, name: "a/b" }), "name", /'\/'/);
  throwsBuild(() => buildRequest({ verb: "get", resource: Node, name: "50%" }), "name", /'%'/);
  throwsBuild(() => buildRequest({ verb: "get", resource: Node, name: "" }), "name", /empty/);
  throwsBuild(
    () => buildRequest({ verb: "get", resource: Node, name: "n", subresource: "a/b" }),
    "subresource",
    /'\/'/,
  );
});

test("which verbs take a name", () => {
  for (const verb of ["get", "update", "patch", "delete"] as const) {
    throwsBuild(
      () =>
        buildRequest({ verb, resource: Node, body, contentType: PatchType.merge } as RequestInput),
      "name",
      new RegExp(`required to ${verb}`),
    );
  }
  for (const verb of ["list", "watch", "deletecollection"] as const) {
    throwsBuild(
      () => buildRequest({ verb, resource: Node, name: "n1" }),
      "name",
      /takes no name.*metadata\.name=n1/,
    );
  }
  throwsBuild(
    () => buildRequest({ verb: "create", resource: Node, name: "n1", body }),
    "name",
    /create posts to the collection/,
  );
  throwsBuild(
    () =>
      buildRequest({
        verb: "create",
        resource: Pod,
        namespace: "a",
        subresource: "eviction",
        body,
      }),
    "name",
    /eviction subresource/,
  );
  throwsBuild(
    () => buildRequest({ verb: "list", resource: Pod, subresource: "status" }),
    "subresource",
    /collection/,
  );
});

test("bodies: required to create, update and patch; refused elsewhere", () => {
  const r = buildRequest({ verb: "create", resource: Pod, namespace: "a", body });
  assert.equal(r.body, body);
  assert.equal(r.contentType, "application/json");
  const bytes = new TextEncoder().encode(body);
  assert.equal(
    buildRequest({ verb: "update", resource: Node, name: "n", body: bytes }).body,
    bytes,
  );
  throwsBuild(() => buildRequest({ verb: "create", resource: Node } as never), "body", /required/);
  throwsBuild(() => buildRequest({ verb: "create", resource: Node, body: "" }), "body", /empty/);
  throwsBuild(
    () => buildRequest({ verb: "create", resource: Node, body: { a: 1 } as never }),
    "body",
    /JSON\.stringify/,
  );
  throwsBuild(
    () => buildRequest({ verb: "get", resource: Node, name: "n", body } as never),
    "body",
    /no body/,
  );
  throwsBuild(
    () => buildRequest({ verb: "list", resource: Node, contentType: "application/json" } as never),
    "contentType",
  );
  throwsBuild(
    () => buildRequest({ verb: "delete", resource: Node, name: "n", body } as never),
    "body",
    /set options instead/,
  );
});

test("patches need a patch type as content type", () => {
  const r = buildRequest({
    verb: "patch",
    resource: Deployment,
    namespace: "a",
    name: "d",
    body: '{"spec":{"replicas":2}}',
    contentType: PatchType.merge,
  });
  assert.equal(r.contentType, "application/merge-patch+json");
  assert.equal(r.headers["content-type"], "application/merge-patch+json");
  throwsBuild(
    () => buildRequest({ verb: "patch", resource: Node, name: "n", body } as never),
    "contentType",
    /patch type/,
  );
  throwsBuild(
    () =>
      buildRequest({
        verb: "patch",
        resource: Node,
        name: "n",
        body,
        contentType: "application/json" as never,
      }),
    "contentType",
    /not a patch type/,
  );
  throwsBuild(
    () =>
      buildRequest({
        verb: "patch",
        resource: Node,
        name: "n",
        body,
        contentType: PatchType.apply,
      }),
    "options.fieldManager",
    /required for apply/,
  );
  const apply = buildRequest({
    verb: "patch",
    resource: Node,
    name: "n",
    body,
    contentType: PatchType.apply,
    options: { fieldManager: "me", force: true },
  });
  assert.equal(pathAndQuery(apply), "/api/v1/nodes/n?fieldManager=me&force=true");
});

test("options become a query sorted by name; delete options the body", () => {
  const r = buildRequest({
    verb: "list",
    resource: Pod,
    namespace: "web",
    options: {
      timeoutSeconds: 10,
      labelSelector: { app: "web", tier: { notIn: ["db"] } },
      limit: 50,
      fieldSelector: { "status.phase": { notEquals: "Running" } },
    },
  });
  assert.equal(
    pathAndQuery(r),
    "/api/v1/namespaces/web/pods?fieldSelector=status.phase%21%3DRunning&labelSelector=app%3Dweb%2Ctier+notin+%28db%29&limit=50&timeoutSeconds=10",
  );
  assert.equal(r.query.get("labelSelector"), "app=web,tier notin (db)");
  assert.equal(r.body, undefined);
  assert.equal(r.contentType, undefined);
  assert.deepEqual(r.headers, { accept: "application/json" });

  const w = buildRequest({
    verb: "watch",
    resource: Pod,
    options: { resourceVersion: "5", allowWatchBookmarks: true },
  });
  assert.equal(w.query.toString(), "allowWatchBookmarks=true&resourceVersion=5&watch=true");

  const d = buildRequest({
    verb: "delete",
    resource: Pod,
    namespace: "a",
    name: "p",
    options: { propagationPolicy: "Background", gracePeriodSeconds: 0 },
  });
  assert.equal(d.query.toString(), "");
  assert.deepEqual(JSON.parse(d.body as string), {
    kind: "DeleteOptions",
    apiVersion: "v1",
    gracePeriodSeconds: 0,
    propagationPolicy: "Background",
  });
  assert.equal(d.headers["content-type"], "application/json");

  const dc = buildRequest({
    verb: "deletecollection",
    resource: Pod,
    namespace: "a",
    options: { labelSelector: "app" },
  });
  assert.equal(dc.query.toString(), "labelSelector=app");
  assert.equal(JSON.parse(dc.body as string).kind, "DeleteOptions");

  throwsBuild(
    () => buildRequest({ verb: "get", resource: Node, name: "n", options: { limit: 1 } as never }),
    "options.limit",
  );
  throwsBuild(
    () => buildRequest({ verb: "list", resource: Node, options: { labelSelector: "a in b" } }),
    "options.labelSelector",
  );
});

test("extra params for subresources join the query; clashes with options are errors", () => {
  const r = buildRequest({
    verb: "get",
    resource: Pod,
    namespace: "a",
    name: "p",
    subresource: "log",
    params: [
      ["follow", "true"],
      ["container", "app"],
      ["container", "sidecar"],
    ],
    accept: "*/*",
  });
  assert.equal(
    pathAndQuery(r),
    "/api/v1/namespaces/a/pods/p/log?container=app&container=sidecar&follow=true",
  );
  assert.equal(r.accept, "*/*");
  throwsBuild(
    () =>
      buildRequest({
        verb: "get",
        resource: Node,
        name: "n",
        options: { resourceVersion: "1" },
        params: [["resourceVersion", "2"]],
      }),
    "params[0]",
    /already set from the options/,
  );
  throwsBuild(
    () => buildRequest({ verb: "get", resource: Node, name: "n", params: [["a"]] as never }),
    "params[0]",
  );
  throwsBuild(
    () => buildRequest({ verb: "get", resource: Node, name: "n", params: "a=b" as never }),
    "params",
  );
});

test("accept and content-type headers", () => {
  const r = buildRequest({ verb: "get", resource: Node, name: "n" });
  assert.equal(r.accept, "application/json");
  const table = buildRequest({
    verb: "list",
    resource: Node,
    accept: "application/json;as=Table;v=v1;g=meta.k8s.io",
  });
  assert.equal(table.headers.accept, "application/json;as=Table;v=v1;g=meta.k8s.io");
  const yaml = buildRequest({
    verb: "create",
    resource: Node,
    body: "kind: Node",
    contentType: "application/yaml",
  });
  assert.deepEqual(yaml.headers, {
    accept: "application/json",
    "content-type": "application/yaml",
  });
  throwsBuild(
    () => buildRequest({ verb: "get", resource: Node, name: "n", accept: "a\r\nX-Evil: 1" }),
    "accept",
    /line breaks/,
  );
  throwsBuild(
    () => buildRequest({ verb: "get", resource: Node, name: "n", accept: " " }),
    "accept",
  );
  throwsBuild(
    () => buildRequest({ verb: "create", resource: Node, body, contentType: "" }),
    "contentType",
  );
});

test("bad verbs and resources are reported before anything else", () => {
  throwsBuild(
    () => buildRequest({ verb: "proxy", resource: Node } as never),
    "verb",
    /must be one of/,
  );
  throwsBuild(() => buildRequest(null as never), "request");
  throwsBuild(
    () =>
      buildRequest({
        verb: "list",
        resource: { group: "", version: "v1", plural: "a/b", namespaced: true },
      }),
    "resource.plural",
  );
  throwsBuild(
    () => buildRequest({ verb: "list", resource: { group: "", version: "v1" } as never }),
    "resource.plural",
  );
});

test("the description is frozen", () => {
  const r = buildRequest({ verb: "get", resource: Node, name: "n" });
  assert.ok(Object.isFrozen(r));
  assert.ok(Object.isFrozen(r.headers));
  assert.equal(r.verb, "get");
});

test("resourcePath without a verb checks segments only", () => {
  assert.equal(
    resourcePath({ resource: Pod, namespace: "a", name: "p", subresource: "exec" }),
    "/api/v1/namespaces/a/pods/p/exec",
  );
  assert.equal(resourcePath({ resource: Pod, name: "p" }), "/api/v1/pods/p");
  throwsBuild(
    () => resourcePath({ resource: Pod, subresource: "exec" }),
    "subresource",
    /needs a name/,
  );
  throwsBuild(() => resourcePath({ resource: Node, namespace: "a" }), "namespace");
});
