/**
 * The event recorder against the real API server: series through events.k8s.io/v1, the core/v1
 * fallback, cluster-scoped objects, and events the server rejects.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { ConfigMap, Event as CoreEvent, Namespace } from "../../src/api/core/v1/index.ts";
import { Event } from "../../src/api/events/v1/index.ts";
import type { Client } from "../../src/client/index.ts";
import { isNotFound } from "../../src/core/errors.ts";
import { EventRecorder, objectReference, servesEventsV1 } from "../../src/events/index.ts";
import { testClient, testNamespace, uniqueName } from "../support/cluster.ts";

let client: Client;
let ns: { name: string; remove(): Promise<void> };

before(async () => {
  client = await testClient();
  ns = await testNamespace(client, "kk-events");
});

after(async () => {
  await ns.remove();
  await client.close();
});

async function configMap(name: string) {
  return client
    .api(ConfigMap)
    .namespace(ns.name)
    .create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name },
      data: { k: "v" },
    });
}

async function eventsAbout(name: string) {
  const list = await client.api(Event).namespace(ns.name).list();
  return list.items.filter((e) => e.regarding?.name === name);
}

test("100 identical events on one object become one events.k8s.io/v1 Event with series.count 100", async () => {
  assert.equal(await servesEventsV1(client), true);
  const cm = await configMap(uniqueName("series"));
  const recorder = new EventRecorder(client, {
    reportingController: "kubekit.dev/events-test",
    reportingInstance: "events-test-1",
  });
  for (let i = 0; i < 100; i++) {
    recorder.event(cm, { type: "Normal", reason: "Tested", action: "Test", note: "same again" });
    if (i % 10 === 0) await delay(5); // let some writes happen in between
  }
  await recorder.close({ drain: true });
  assert.deepEqual(
    { ...recorder.stats },
    {
      recorded: 100,
      dropped: 0,
      spamFiltered: 0,
      written: recorder.stats.written,
      retried: 0,
      failed: 0,
      pending: 0,
    },
  );

  const events = await eventsAbout(cm.metadata!.name!);
  assert.equal(events.length, 1, "one Event object");
  const [ev] = events;
  assert.equal(ev?.series?.count, 100);
  assert.match(ev?.series?.lastObservedTime ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.equal(ev?.reason, "Tested");
  assert.equal(ev?.action, "Test");
  assert.equal(ev?.note, "same again");
  assert.equal(ev?.type, "Normal");
  assert.equal(ev?.reportingController, "kubekit.dev/events-test");
  assert.equal(ev?.reportingInstance, "events-test-1");
  assert.equal(ev?.regarding?.kind, "ConfigMap");
  assert.equal(ev?.regarding?.uid, cm.metadata?.uid);
  assert.match(ev?.metadata?.name ?? "", new RegExp(`^${cm.metadata!.name}\\.[0-9a-f]+$`));
  // Fewer writes than events: the series is coalesced.
  assert.ok(recorder.stats.written < 100, `${recorder.stats.written} writes`);
});

test("a growing series reaches the server without close when the update interval is short", async () => {
  const cm = await configMap(uniqueName("live"));
  const recorder = new EventRecorder(client, {
    reportingController: "kubekit.dev/events-test",
    reportingInstance: "events-test-2",
    api: "events.k8s.io/v1",
    seriesUpdateIntervalMs: 100,
  });
  for (let i = 0; i < 100; i++) {
    recorder.event(cm, { type: "Warning", reason: "Flapping", action: "Probe" });
    if (i % 25 === 0) await delay(20);
  }
  let count: number | undefined;
  for (let i = 0; i < 100 && count !== 100; i++) {
    await delay(50);
    count = (await eventsAbout(cm.metadata!.name!))[0]?.series?.count;
  }
  assert.equal(count, 100);
  assert.equal((await eventsAbout(cm.metadata!.name!)).length, 1);
  await recorder.close({ drain: false });
});

test("the core/v1 fallback writes an old-style core Event whose count follows the series", async () => {
  const cm = await configMap(uniqueName("core"));
  const recorder = new EventRecorder(client, {
    reportingController: "kubekit.dev/events-test",
    reportingInstance: "events-test-3",
    api: "v1",
  });
  for (let i = 0; i < 7; i++)
    recorder.event(cm, { type: "Warning", reason: "Old", action: "Fallback", note: "core" });
  await recorder.close({ drain: true });
  const list = await client.api(CoreEvent).namespace(ns.name).list();
  const events = list.items.filter((e) => e.involvedObject.name === cm.metadata?.name);
  assert.equal(events.length, 1);
  const [ev] = events;
  assert.equal(ev?.count, 7);
  assert.equal(ev?.message, "core");
  assert.equal(ev?.reason, "Old");
  assert.equal(ev?.type, "Warning");
  assert.equal(ev?.source?.component, "kubekit.dev/events-test");
  assert.equal(ev?.reportingComponent, "kubekit.dev/events-test");
  assert.equal(ev?.involvedObject.uid, cm.metadata?.uid);
  assert.equal(ev?.eventTime ?? undefined, undefined, "old style: no eventTime");
  assert.match(ev?.firstTimestamp ?? "", /Z$/);
  assert.match(ev?.lastTimestamp ?? "", /Z$/);
});

test("an event about a cluster-scoped object goes to the default namespace", async () => {
  const namespace = await client.api(Namespace).get(ns.name);
  const recorder = new EventRecorder(client, {
    reportingController: "kubekit.dev/events-test",
    reportingInstance: uniqueName("events-test"),
  });
  recorder.event(objectReference(namespace, Namespace), {
    type: "Normal",
    reason: "Noticed",
    action: "Look",
  });
  await recorder.close({ drain: true });
  const list = await client.api(Event).namespace("default").list();
  const ev = list.items.find(
    (e) => e.regarding?.name === ns.name && e.reportingInstance === recorder.reportingInstance,
  );
  assert.ok(ev, "the Event is in default");
  assert.equal(ev.regarding?.kind, "Namespace");
  assert.equal(ev.regarding?.apiVersion, "v1");
  await client
    .api(Event)
    .namespace("default")
    .delete(ev.metadata!.name!)
    .catch((e) => {
      if (!isNotFound(e)) throw e;
    });
});

test("an event the server rejects is given up at once, not retried", async () => {
  const errors: unknown[] = [];
  const recorder = new EventRecorder(client, {
    reportingController: "kubekit.dev/events-test",
    reportingInstance: "events-test-5",
    api: "events.k8s.io/v1",
    retryIntervalMs: 50,
    onError: (e) => errors.push(e),
  });
  // The namespace does not exist: the create is a 404.
  recorder.event(
    { apiVersion: "v1", kind: "ConfigMap", name: "x", namespace: uniqueName("missing") },
    { type: "Normal", reason: "Nowhere", action: "Test" },
  );
  await recorder.close({ drain: true });
  assert.equal(recorder.stats.failed, 1);
  assert.equal(recorder.stats.retried, 0);
  assert.equal(errors.length, 1);
  assert.ok(isNotFound(errors[0]));
});
