/**
 * fakeClient: seeded objects behind a typed client, recorded actions, and reactors that answer
 * before the server does, as client-go's fake Clientset.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Deployment } from "../api/apps/v1/index.ts";
import { ConfigMap, Secret } from "../api/core/v1/index.ts";
import { ApiError, isConflict, isNotFound, TransportError } from "../core/errors.ts";
import { fakeClient } from "./fake.ts";
import { fieldRequired, newConflict, newInvalid, newNotFound } from "./status.ts";

async function apiError(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => assert.fail("expected an ApiError"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ApiError, String(err));
  return err;
}

const seed = (name: string, namespace?: string): ConfigMap => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, ...(namespace ? { namespace } : {}) },
  data: { seeded: "yes" },
});

test("a typed client over the seeded objects, in the configured namespace", async () => {
  await using fake = fakeClient({ objects: [seed("a"), seed("b", "team")], namespace: "team" });
  const cms = fake.client.api(ConfigMap);
  assert.equal((await cms.namespace("default").get("a")).data?.seeded, "yes");
  assert.equal((await cms.get("b")).metadata?.namespace, "team", "the client's namespace");
  const created = await cms.create({ metadata: { name: "c" } });
  assert.equal(created.metadata?.namespace, "team");
  assert.deepEqual(
    (await cms.list()).items.map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`),
    ["default/a", "team/b", "team/c"],
  );
});

test("every request is recorded as an action; clearActions forgets them", async () => {
  await using fake = fakeClient({ objects: [seed("a")] });
  const cms = fake.client.api(ConfigMap).namespace("default");
  await cms.get("a");
  await cms.list({ labelSelector: "x=1" });
  await cms.create({ metadata: { name: "b" }, data: { k: "v" } });
  await cms.update({ metadata: { name: "b" }, data: { k: "w" } });
  await cms.patch("b", { data: { k: "z" } }, { type: "merge", fieldManager: "me" });
  await cms
    .apply({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "b" } }, { fieldManager: "me" })
    .catch(() => {});
  await fake.client
    .api(Deployment)
    .namespace("default")
    .scale.get("missing")
    .catch(() => {});
  await cms.delete("b");
  await cms.deleteCollection({ labelSelector: "gone=yes" });
  const actions = fake.actions;
  assert.deepEqual(
    actions.map((a) => [a.verb, a.resource, a.namespace, a.name, a.subresource]),
    [
      ["get", "configmaps", "default", "a", undefined],
      ["list", "configmaps", "default", undefined, undefined],
      ["create", "configmaps", "default", undefined, undefined],
      ["update", "configmaps", "default", "b", undefined],
      ["patch", "configmaps", "default", "b", undefined],
      ["patch", "configmaps", "default", "b", undefined],
      ["get", "deployments", "default", "missing", "scale"],
      ["delete", "configmaps", "default", "b", undefined],
      ["deletecollection", "configmaps", "default", undefined, undefined],
    ],
  );
  assert.equal(actions[1]!.query.labelSelector, "x=1");
  assert.deepEqual((actions[2]!.object as ConfigMap).data, { k: "v" });
  assert.deepEqual(actions[4]!.patch, { data: { k: "z" } });
  assert.equal(actions[4]!.patchType, "application/merge-patch+json");
  assert.equal(actions[4]!.query.fieldManager, "me");
  assert.equal(actions[5]!.patchType, "application/apply-patch+yaml");
  assert.deepEqual(actions[5]!.patch, {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "b" },
  });
  assert.equal(actions[6]!.group, "apps");
  fake.clearActions();
  assert.deepEqual(fake.actions, []);
  await cms.get("a");
  assert.equal(fake.actions.length, 1);
});

test("reactors answer before the server: objects, Status errors, or pass", async () => {
  await using fake = fakeClient({ objects: [seed("a")] });
  const cms = fake.client.api(ConfigMap).namespace("default");
  const seen: string[] = [];
  fake.addReactor("*", "*", (a) => {
    seen.push(`last ${a.verb}`);
    return undefined;
  });
  fake.prependReactor("get", "configmaps", (a) => {
    seen.push(`first ${a.verb}`);
    return a.name === "fixed" ? { ...seed("fixed"), data: { from: "reactor" } } : undefined;
  });
  fake.prependReactor("update", "configmaps", () => {
    throw newConflict({ group: "", resource: "configmaps" }, "a");
  });
  assert.deepEqual((await cms.get("fixed")).data, { from: "reactor" });
  assert.equal((await cms.get("a")).data?.seeded, "yes", "passed on to the server");
  assert.deepEqual(seen, ["first get", "first get", "last get"]);
  const err = await cms.update(seed("a")).then(
    () => assert.fail("the reactor should have refused"),
    (e: unknown) => e,
  );
  assert.ok(isConflict(err));
  assert.ok(err instanceof ApiError);
  assert.equal(
    err.status.message,
    'Operation cannot be fulfilled on configmaps "a": the object has been modified; please apply your changes to the latest version and try again',
  );
  const created = await cms.create({ metadata: { name: "new" } });
  assert.equal(created.metadata?.name, "new", "other verbs reach the server");
});

test("a reactor for a resource also sees its subresources; one for a subresource only those", async () => {
  await using fake = fakeClient();
  const deps = fake.client.api(Deployment).namespace("default");
  const verbs: string[] = [];
  fake.prependReactor("*", "deployments", (a) => {
    verbs.push(`${a.verb} ${a.subresource ?? "-"}`);
    return undefined;
  });
  fake.prependReactor("get", "deployments/scale", () => ({
    apiVersion: "autoscaling/v1",
    kind: "Scale",
    metadata: { name: "web" },
    spec: { replicas: 7 },
  }));
  assert.equal((await deps.scale.get("web")).spec?.replicas, 7);
  assert.ok(isNotFound(await deps.get("web").catch((e: unknown) => e)));
  assert.deepEqual(verbs, ["get -"]);
});

test("reactor errors that are not ApiErrors fail the call as a lost connection would", async () => {
  await using fake = fakeClient();
  fake.prependReactor("list", "secrets", () => {
    throw new TransportError("connection reset", {});
  });
  await assert.rejects(fake.client.api(Secret).namespace("default").list(), TransportError);
});

test("status helpers build the real server's Status shapes", async () => {
  await using fake = fakeClient();
  fake.prependReactor("create", "configmaps", () => {
    throw newInvalid({ group: "", kind: "ConfigMap" }, "", [
      fieldRequired("metadata.name", "name or generateName is required"),
    ]);
  });
  fake.prependReactor("delete", "*", (a) => {
    throw newNotFound({ group: a.group, resource: a.resource }, a.name ?? "");
  });
  const invalid = await apiError(
    fake.client
      .api(ConfigMap)
      .namespace("default")
      .create({ metadata: { name: "x" } }),
  );
  assert.equal(invalid.statusCode, 422);
  assert.equal(
    invalid.status.message,
    'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required',
  );
  const missing = await apiError(fake.client.api(Deployment).namespace("default").delete("web"));
  assert.equal(missing.status.message, 'deployments.apps "web" not found');
  assert.deepEqual(missing.status.details, { name: "web", group: "apps", kind: "deployments" });
});

test("a watch reactor may stream its own events", async () => {
  await using fake = fakeClient();
  fake.prependReactor("watch", "configmaps", async function* () {
    yield { type: "ADDED", object: seed("from-reactor") };
  });
  const names: string[] = [];
  for await (const ev of fake.client.api(ConfigMap).namespace("default").watch()) {
    names.push(`${ev.type} ${ev.object.metadata?.name}`);
  }
  assert.deepEqual(names, ["ADDED from-reactor"]);
});
