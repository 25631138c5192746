import assert from "node:assert/strict";
import { test } from "node:test";
import { RequestBuildError } from "./errors.ts";
import type { KubernetesObject } from "./meta.ts";
import {
  apiVersionOf,
  checkResourceRef,
  defineResource,
  formatGroupVersion,
  gvkOf,
  gvkOfObject,
  gvrOf,
  parseApiVersion,
  parseGroupVersion,
} from "./resource.ts";

function throwsBuild(fn: () => unknown, field: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RequestBuildError, `expected a RequestBuildError, got ${String(e)}`);
    assert.equal(e.field, field);
    if (message) assert.match(e.message, message);
    return true;
  });
}

interface Deployment extends KubernetesObject {
  spec?: { replicas?: number };
}

test("defineResource fills defaults and freezes the descriptor and its lists", () => {
  const verbs = ["get", "list"];
  const Deployment = defineResource<Deployment>()({
    group: "apps",
    version: "v1",
    kind: "Deployment",
    plural: "deployments",
    namespaced: true,
    shortNames: ["deploy"],
    verbs,
    subresources: [
      { name: "scale", verbs: ["get"], responseKind: gvk("autoscaling", "v1", "Scale") },
    ],
  });
  assert.equal(Deployment.singular, "deployment");
  assert.deepEqual(Deployment.shortNames, ["deploy"]);
  assert.deepEqual(Deployment.categories, []);
  assert.equal(Deployment.subresources[0]?.responseKind?.kind, "Scale");
  assert.ok(Object.isFrozen(Deployment));
  assert.ok(Object.isFrozen(Deployment.verbs));
  assert.ok(Object.isFrozen(Deployment.subresources[0]));
  verbs.push("delete");
  assert.deepEqual(Deployment.verbs, ["get", "list"], "the descriptor holds a copy of its lists");
  assert.equal(
    defineResource()({
      group: "",
      version: "v1",
      kind: "X",
      plural: "xs",
      namespaced: false,
      singular: "ex",
    }).singular,
    "ex",
  );
});

function gvk(group: string, version: string, kind: string) {
  return { group, version, kind };
}

test("defineResource rejects what could never be part of a URL path", () => {
  const base = { group: "apps", version: "v1", kind: "D", plural: "ds", namespaced: true };
  const define = defineResource();
  throwsBuild(() => define({ ...base, plural: "a/b" }), "resource.plural", /may not contain '\/'/);
  throwsBuild(() => define({ ...base, plural: "" }), "resource.plural", /empty/);
  throwsBuild(() => define({ ...base, version: ".." }), "resource.version", /'\.\.'/);
  throwsBuild(() => define({ ...base, group: "a%b" }), "resource.group", /'%'/);
  throwsBuild(() => define({ ...base, kind: "" }), "resource.kind");
  throwsBuild(
    () => define({ ...base, namespaced: "yes" as unknown as boolean }),
    "resource.namespaced",
  );
  assert.doesNotThrow(() => define({ ...base, group: "" }), "the core group is empty");
});

test("checkResourceRef accepts a plain {group, version, plural, namespaced}", () => {
  checkResourceRef({ group: "", version: "v1", plural: "pods", namespaced: true }, "resource");
  throwsBuild(() => checkResourceRef(null, "resource"), "resource");
  throwsBuild(
    () => checkResourceRef({ version: "v1", plural: "p", namespaced: true }, "r"),
    "r.group",
  );
  throwsBuild(
    () => checkResourceRef({ group: "", plural: "p", namespaced: true }, "r"),
    "r.version",
  );
});

test("apiVersionOf, gvkOf and gvrOf", () => {
  const Pod = defineResource()({
    group: "",
    version: "v1",
    kind: "Pod",
    plural: "pods",
    namespaced: true,
  });
  assert.equal(apiVersionOf(Pod), "v1");
  assert.equal(apiVersionOf({ group: "apps", version: "v1" }), "apps/v1");
  assert.deepEqual(gvkOf(Pod), { group: "", version: "v1", kind: "Pod" });
  assert.deepEqual(gvrOf(Pod), { group: "", version: "v1", resource: "pods" });
});

test("parseGroupVersion and parseApiVersion", () => {
  assert.deepEqual(parseGroupVersion("v1"), { group: "", version: "v1" });
  assert.deepEqual(parseGroupVersion("apps/v1"), { group: "apps", version: "v1" });
  assert.deepEqual(parseApiVersion("rbac.authorization.k8s.io/v1"), {
    group: "rbac.authorization.k8s.io",
    version: "v1",
  });
  for (const bad of ["a/b/c", "/v1", "apps/", "/"]) {
    throwsBuild(() => parseGroupVersion(bad), "groupVersion", /not a group version/);
  }
  throwsBuild(() => parseGroupVersion(""), "groupVersion", /empty/);
  throwsBuild(() => parseApiVersion("a/b/c"), "apiVersion");
  for (const s of ["v1", "apps/v1"]) assert.equal(formatGroupVersion(parseGroupVersion(s)), s);
});

test("gvkOfObject reads apiVersion and kind", () => {
  assert.deepEqual(gvkOfObject({ apiVersion: "apps/v1", kind: "Deployment" }), {
    group: "apps",
    version: "v1",
    kind: "Deployment",
  });
  throwsBuild(() => gvkOfObject({ kind: "Pod" }), "apiVersion");
  throwsBuild(() => gvkOfObject({ apiVersion: "v1" }), "kind");
});
