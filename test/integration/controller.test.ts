/**
 * A real controller against the real API server: it keeps a copy of every ConfigMap labelled
 * `copy=on`, owned by the original, recreates a copy that is deleted, and cleans up behind a
 * finalizer when the original goes.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ConfigMap } from "../../src/api/core/v1/index.ts";
import { SharedInformerFactory } from "../../src/cache/index.ts";
import type { Client } from "../../src/client/index.ts";
import { Controller, finalizer } from "../../src/controller/index.ts";
import { isNotFound } from "../../src/core/errors.ts";
import { testClient, testNamespace } from "../support/cluster.ts";

let client: Client;
let ns: { name: string; remove(): Promise<void> };

before(async () => {
  client = await testClient();
  ns = await testNamespace(client, "kk-ctl");
});

after(async () => {
  await ns.remove();
  await client.close();
});

async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test("a controller with owned objects and a finalizer", async () => {
  const cms = client.api(ConfigMap).namespace(ns.name);
  const factory = new SharedInformerFactory(client, { namespace: ns.name });
  const informer = factory.informerFor(ConfigMap);
  const cleanedUp: string[] = [];
  let concurrent = 0;
  let maxConcurrent = 0;
  const controller = new Controller({
    for: informer,
    owns: [{ informer: informer as never, ownerKind: "ConfigMap" }],
    workers: 3,
    reconcile: async ({ name }) => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      try {
        const original = factory.lister(ConfigMap).namespace(ns.name).get(name);
        if (original?.metadata?.labels?.copy !== "on") return;
        await finalizer(cms, "kubekit.dev/copies", original, async (ev) => {
          if (ev.type === "cleanup") {
            cleanedUp.push(name);
            return;
          }
          try {
            await cms.get(`${name}-copy`);
          } catch (e) {
            if (!isNotFound(e)) throw e;
            await cms.create({
              metadata: {
                name: `${name}-copy`,
                ownerReferences: [
                  {
                    apiVersion: "v1",
                    kind: "ConfigMap",
                    name,
                    uid: original.metadata!.uid!,
                    controller: true,
                  },
                ],
              },
              data: original.data ?? {},
            });
          }
        });
      } finally {
        concurrent--;
      }
    },
  });
  factory.start();
  const ac = new AbortController();
  const running = controller.run({ signal: ac.signal });
  try {
    for (const n of ["one", "two", "three"])
      await cms.create({ metadata: { name: n, labels: { copy: "on" } }, data: { n } });
    await until(
      "three copies",
      async () =>
        (await cms.list({ labelSelector: {} })).items.filter((c) =>
          c.metadata?.name?.endsWith("-copy"),
        ).length === 3,
    );
    assert.deepEqual((await cms.get("one")).metadata?.finalizers, ["kubekit.dev/copies"]);
    // A deleted copy is noticed through the owned informer and made again.
    await cms.delete("two-copy");
    await until("two-copy again", async () => Boolean(await cms.get("two-copy")));
    // Deleting an original runs the cleanup, then releases the finalizer.
    await cms.delete("three");
    await until("three gone", async () => {
      try {
        await cms.get("three");
        return false;
      } catch (e) {
        return isNotFound(e);
      }
    });
    assert.deepEqual(cleanedUp, ["three"]);
    assert.ok(maxConcurrent <= 3);
  } finally {
    ac.abort();
    await running;
    await factory.shutdown();
  }
});
