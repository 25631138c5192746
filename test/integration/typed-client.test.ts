/**
 * The typed client against the real API server: `client.api(Descriptor)` with the generated types
 * and descriptors, through create, get, list (label selectors), update, watch and delete of
 * built-in kinds with and without controllers behind them, their subresources (status, scale,
 * token), the write options (dryRun, fieldValidation), deleteCollection, the errors' reasons, and
 * the generated Clientset as a facade over the same `Api`.
 *
 * Every test makes its own namespace (and its own cluster-scoped names), and the tests of this file
 * run concurrently: the slowest (a Namespace or CRD finalized by its controller) bounds the file.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CustomResourceDefinition } from "../../src/api/apiextensions/v1/index.ts";
import { Deployment } from "../../src/api/apps/v1/index.ts";
import { Job } from "../../src/api/batch/v1/index.ts";
import { Lease } from "../../src/api/coordination/v1/index.ts";
import {
  ConfigMap,
  Namespace,
  Secret,
  Service,
  ServiceAccount,
} from "../../src/api/core/v1/index.ts";
import type { Api, Client } from "../../src/client/index.ts";
import { Clientset } from "../../src/clientset/index.ts";
import {
  ApiError,
  isAlreadyExists,
  isBadRequest,
  isConflict,
  isInvalid,
  isNotFound,
} from "../../src/core/errors.ts";
import type { KubernetesObject } from "../../src/core/meta.ts";
import type { DeleteOptions } from "../../src/core/options.ts";
import type { LabelSelectorObject } from "../../src/core/selectors.ts";
import type { WatchEvent } from "../../src/rest/watch.ts";
import { testClient, testNamespace, uniqueName } from "../support/cluster.ts";

let client: Client;
let clientset: Clientset;

before(async () => {
  client = await testClient();
  clientset = new Clientset(client);
});

after(async () => {
  await client.close();
});

/** A namespace for one test, deleted (without waiting) when the test ends. */
async function namespaceFor(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const ns = await testNamespace(client, "kk-typed");
  t.after(() => ns.remove());
  return ns.name;
}

/** The labels every object of one lifecycle carries, so list selectors see only that test's. */
const SUITE = "kubekit.test/suite";

/**
 * get → change → update until no Conflict: controllers (deployment, job, namespace) write the
 * objects these tests write, so an update may lose a race that has nothing to do with the test.
 */
async function updateRetrying<T extends KubernetesObject>(
  api: Api<T, boolean>,
  name: string,
  change: (obj: T) => void,
  write: (obj: T) => Promise<T> = (obj) => api.update(obj),
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const obj = await api.get(name);
    change(obj);
    try {
      return await write(obj);
    } catch (err) {
      if (!isConflict(err) || attempt === 10) throw err;
    }
  }
}

interface Lifecycle<T> {
  /** Made on update besides the `step: "2"` label. */
  change?: (obj: T) => void;
  afterCreate?: (created: T) => Promise<void>;
  afterUpdate?: (updated: T) => Promise<void>;
  deleteOptions?: DeleteOptions;
}

/**
 * One object through create, get, list with label selectors, update, delete, watched from the
 * list's resourceVersion until its DELETED event. `obj` carries its name; the suite label is
 * added. Returns what the server answered and the events the watch delivered, in order.
 */
async function lifecycle<T extends KubernetesObject>(
  api: Api<T, boolean>,
  obj: T,
  options: Lifecycle<T> = {},
): Promise<{ created: T; updated: T; events: WatchEvent<T>[] }> {
  const name = obj.metadata!.name!;
  const suite = uniqueName("suite");
  const labels = { ...obj.metadata?.labels, [SUITE]: suite };
  const body = { ...obj, metadata: { ...obj.metadata, labels } } as T;

  const before = await api.list({ labelSelector: { [SUITE]: suite } });
  assert.deepEqual(before.items, []);
  const stop = new AbortController();
  const signal = AbortSignal.any([stop.signal, AbortSignal.timeout(50_000)]);
  const events: WatchEvent<T>[] = [];
  const watching = (async () => {
    for await (const ev of api.watch({
      resourceVersion: before.metadata.resourceVersion,
      fieldSelector: { "metadata.name": name },
      signal,
    })) {
      events.push(ev);
      if (ev.type === "DELETED") return;
    }
    throw new Error(`the watch of ${name} ended before its DELETED event`);
  })();
  watching.catch(() => {}); // awaited below; a failure before that must not go unhandled

  try {
    const created = await api.create(body);
    assert.equal(created.metadata?.name, name);
    assert.ok(created.metadata?.uid, "the server assigned a uid");
    assert.ok(created.metadata?.resourceVersion);
    assert.equal(created.kind, api.resource.kind);
    await options.afterCreate?.(created);

    const got = await api.get(name);
    assert.equal(got.metadata?.uid, created.metadata?.uid);
    assert.equal(got.metadata?.labels?.[SUITE], suite);

    const names = async (labelSelector: LabelSelectorObject) =>
      (await api.list({ labelSelector })).items.map((i) => i.metadata?.name);
    assert.deepEqual(await names({ [SUITE]: suite }), [name]);
    assert.deepEqual(await names({ [SUITE]: suite, step: "2" }), []);

    const updated = await updateRetrying(api, name, (o) => {
      o.metadata = { ...o.metadata, labels: { ...o.metadata?.labels, step: "2" } };
      options.change?.(o);
    });
    assert.equal(updated.metadata?.labels?.step, "2");
    assert.notEqual(updated.metadata?.resourceVersion, created.metadata?.resourceVersion);
    assert.deepEqual(await names({ [SUITE]: suite, step: "2" }), [name]);
    assert.deepEqual(await names({ [SUITE]: suite, step: { notIn: ["2"] } }), []);
    await options.afterUpdate?.(updated);

    await api.delete(name, options.deleteOptions);
    await watching;
    await assert.rejects(api.get(name), isNotFound);

    const uid = created.metadata?.uid;
    assert.equal(events[0]?.type, "ADDED");
    assert.equal(events[0]?.object.metadata?.uid, uid);
    assert.ok(
      events.some((e) => e.type === "MODIFIED" && e.object.metadata?.labels?.step === "2"),
      `a MODIFIED event carries the update: ${events.map((e) => e.type)}`,
    );
    assert.equal(events.at(-1)?.type, "DELETED");
    assert.equal(events.at(-1)?.object.metadata?.uid, uid);
    assert.ok(events.every((e) => e.object.metadata?.name === name));
    return { created, updated, events };
  } finally {
    stop.abort();
  }
}

/** Polls `check` every 100 ms until it returns a value, or fails after `ms`. */
async function eventually<R>(what: string, check: () => Promise<R | undefined>, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await check();
    if (r !== undefined) return r;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("typed client", { concurrency: true }, () => {
  test("ConfigMap: create, get, list, update, watch, delete", async (t) => {
    const ns = await namespaceFor(t);
    const api = client.api(ConfigMap).namespace(ns);
    const { created, updated } = await lifecycle(
      api,
      { metadata: { name: "cm" }, data: { k: "1" } },
      { change: (cm) => (cm.data = { k: "2" }) },
    );
    assert.equal(created.apiVersion, "v1");
    assert.deepEqual(created.data, { k: "1" });
    assert.deepEqual(updated.data, { k: "2" });
    // The default User-Agent makes "kubekit" the field manager of writes that name none.
    assert.deepEqual(
      created.metadata?.managedFields?.map((f) => f.manager),
      ["kubekit"],
    );
  });

  test("Secret: stringData is written as base64 data; CRUD and watch", async (t) => {
    const ns = await namespaceFor(t);
    const api = client.api(Secret).namespace(ns);
    const { created, updated } = await lifecycle(
      api,
      { metadata: { name: "s" }, type: "Opaque", stringData: { password: "s3cret" } },
      { change: (s) => (s.data = { ...s.data, user: Buffer.from("me").toString("base64") }) },
    );
    assert.equal(created.stringData, undefined);
    assert.equal(Buffer.from(created.data?.password ?? "", "base64").toString(), "s3cret");
    assert.equal(created.type, "Opaque");
    assert.deepEqual(Object.keys(updated.data ?? {}).sort(), ["password", "user"]);
  });

  test("Namespace (cluster-scoped): deletion goes through Terminating", async () => {
    const api = client.api(Namespace);
    const name = uniqueName("kk-typed-ns");
    const { events } = await lifecycle(api, { metadata: { name } });
    // kube-controller-manager's namespace controller empties and finalizes it: the watch sees the
    // phase change before the object goes.
    assert.ok(
      events.some((e) => e.type === "MODIFIED" && e.object.status?.phase === "Terminating"),
      `${events.map((e) => `${e.type} ${e.object.status?.phase}`)}`,
    );
    assert.equal(events.at(-1)?.object.status?.phase, "Terminating");
    const conditions = events.at(-1)?.object.status?.conditions?.map((c) => c.type) ?? [];
    assert.ok(conditions.includes("NamespaceContentRemaining"), `${conditions}`);
  });

  test("Deployment: status subresource and scale subresource", async (t) => {
    const ns = await namespaceFor(t);
    const api = client.api(Deployment).namespace(ns);
    const app = { app: "web" };
    const name = "web";
    await lifecycle(
      api,
      {
        metadata: { name },
        spec: {
          replicas: 1,
          selector: { matchLabels: app },
          template: {
            metadata: { labels: app },
            spec: { containers: [{ name: "web", image: "registry.invalid/web:1" }] },
          },
        },
      },
      {
        afterCreate: async (created) => {
          assert.equal(created.spec?.replicas, 1);
          assert.equal(created.spec?.strategy?.type, "RollingUpdate", "defaulted by the server");

          // status.update writes the status only: a spec change in the same body is ignored.
          const condition = {
            type: "KubekitTest",
            status: "True",
            reason: "Testing",
            message: "written through the status subresource",
          };
          const written = await updateRetrying(
            api,
            name,
            (d) => {
              d.status = { ...d.status, conditions: [...(d.status?.conditions ?? []), condition] };
              d.spec = { ...d.spec!, replicas: 7 };
            },
            (d) => api.status.update(d),
          );
          assert.ok(written.status?.conditions?.some((c) => c.type === "KubekitTest"));
          assert.equal(written.spec?.replicas, 1, "the status subresource ignores spec");
          assert.equal((await api.status.get(name)).spec?.replicas, 1);

          // The scale subresource: autoscaling/v1 Scale.
          const scale = await api.scale.get(name);
          assert.equal(scale.kind, "Scale");
          assert.equal(scale.apiVersion, "autoscaling/v1");
          assert.equal(scale.spec?.replicas, 1);
          assert.equal(scale.status?.selector, "app=web");
          const scaled = await api.scale.update(name, { spec: { replicas: 3 } });
          assert.equal(scaled.spec?.replicas, 3);
          assert.equal((await api.get(name)).spec?.replicas, 3);
          const patched = await api.scale.patch(name, { spec: { replicas: 2 } }, { type: "merge" });
          assert.equal(patched.spec?.replicas, 2);
          // The Scale carries the Deployment's resourceVersion: the first one is stale by now.
          await assert.rejects(api.scale.update(name, { ...scale, spec: { replicas: 5 } }), (e) => {
            assert.ok(isConflict(e), String(e));
            return true;
          });
          // Through the Clientset: the same Api, so the same subresources.
          const viaClientset = await clientset.appsV1.deployments(ns).scale.get(name);
          assert.equal(viaClientset.spec?.replicas, 2);
        },
      },
    );
  });

  test("Service: a cluster IP is allocated and kept across updates", async (t) => {
    const ns = await namespaceFor(t);
    const api = client.api(Service).namespace(ns);
    const { created, updated } = await lifecycle(
      api,
      {
        metadata: { name: "svc" },
        spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http" }] },
      },
      { change: (s) => (s.spec!.ports![0]!.port = 8080) },
    );
    assert.ok(created.spec?.clusterIP, "a cluster IP was allocated");
    assert.equal(created.spec?.type, "ClusterIP");
    assert.equal(created.spec?.ports?.[0]?.targetPort, "http");
    assert.equal(updated.spec?.clusterIP, created.spec?.clusterIP);
    assert.equal(updated.spec?.ports?.[0]?.port, 8080);
  });

  test("ServiceAccount: CRUD, watch, and a TokenRequest the server then authenticates", async (t) => {
    const ns = await namespaceFor(t);
    const api = client.api(ServiceAccount).namespace(ns);
    const name = "robot";
    await lifecycle(
      api,
      { metadata: { name } },
      {
        change: (sa) => (sa.automountServiceAccountToken = false),
        afterCreate: async () => {
          const req = await api.createToken(name, { spec: { expirationSeconds: 600 } });
          assert.equal(req.kind, "TokenRequest");
          const token = req.status?.token;
          assert.ok(token && token.split(".").length === 3, "a JWT");
          const expires = Date.parse(req.status?.expirationTimestamp ?? "");
          assert.ok(expires > Date.now() + 500_000 && expires < Date.now() + 700_000);
          // The API server accepts the token as the service account.
          const review = await clientset.authenticationV1.tokenReviews().create({
            spec: { token },
          });
          assert.equal(review.status?.authenticated, true, JSON.stringify(review.status));
          assert.equal(review.status?.user?.username, `system:serviceaccount:${ns}:${name}`);
        },
        afterUpdate: async (sa) => assert.equal(sa.automountServiceAccountToken, false),
      },
    );
    await assert.rejects(api.createToken("nobody"), isNotFound);
  });

  test("Lease: MicroTime fields round-trip as strings", async (t) => {
    const ns = await namespaceFor(t);
    const api = client.api(Lease).namespace(ns);
    // MicroTime is RFC 3339 with six fractional digits.
    const renewTime = new Date().toISOString().replace(/\.(\d{3})Z$/, ".$1123Z");
    const { created, updated } = await lifecycle(
      api,
      {
        metadata: { name: "leader" },
        spec: { holderIdentity: "a", leaseDurationSeconds: 15, renewTime },
      },
      {
        change: (l) => {
          l.spec = { ...l.spec, holderIdentity: "b", leaseTransitions: 1 };
        },
      },
    );
    assert.equal(created.spec?.renewTime, renewTime);
    assert.equal(created.spec?.holderIdentity, "a");
    assert.equal(updated.spec?.holderIdentity, "b");
    assert.equal(updated.spec?.leaseTransitions, 1);
  });

  test("Job: defaulted selector, controller status, background deletion", async (t) => {
    const ns = await namespaceFor(t);
    const api = client.api(Job).namespace(ns);
    const { created, updated } = await lifecycle(
      api,
      {
        metadata: { name: "once" },
        spec: {
          // Suspended: the job controller creates no pods, but still manages status.
          suspend: true,
          template: {
            spec: {
              restartPolicy: "Never",
              containers: [{ name: "c", image: "registry.invalid/c:1", command: ["true"] }],
            },
          },
        },
      },
      {
        change: (j) => (j.spec!.parallelism = 2),
        afterCreate: async () => {
          const suspended = await eventually(
            "the job controller marks the job suspended",
            async () => {
              const j = await api.get("once");
              return j.status?.conditions?.find((c) => c.type === "Suspended");
            },
          );
          assert.equal(suspended.status, "True");
        },
        // batch/v1 Jobs default to orphaning their pods; Background deletes them with the job.
        deleteOptions: { propagationPolicy: "Background" },
      },
    );
    const uid = created.metadata!.uid!;
    assert.equal(created.spec?.selector?.matchLabels?.["batch.kubernetes.io/controller-uid"], uid);
    assert.equal(created.spec?.backoffLimit, 6, "defaulted by the server");
    assert.equal(updated.spec?.parallelism, 2);
  });

  test("CustomResourceDefinition: Established, served, then deleted with its objects", async (t) => {
    const ns = await namespaceFor(t);
    const api = clientset.apiextensionsV1.customResourceDefinitions();
    assert.equal(api.resource, CustomResourceDefinition);
    const group = `${uniqueName("t")}.kubekit.test`;
    const name = `widgets.${group}`;
    interface Widget extends KubernetesObject {
      spec?: { size?: number };
    }
    const widgets = client
      .api<Widget, true>({ group, version: "v1", plural: "widgets", namespaced: true })
      .namespace(ns);
    const { created, events } = await lifecycle(
      api,
      {
        metadata: { name },
        spec: {
          group,
          scope: "Namespaced",
          names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
          versions: [
            {
              name: "v1",
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: "object",
                  properties: {
                    spec: { type: "object", properties: { size: { type: "integer" } } },
                  },
                },
              },
            },
          ],
        },
      },
      {
        afterCreate: async () => {
          const established = await eventually("the CRD is Established", async () => {
            const crd = await api.get(name);
            return crd.status?.conditions?.find(
              (c) => c.type === "Established" && c.status === "True",
            );
          });
          assert.equal(established.reason, "InitialNamesAccepted");
          // Served: objects of the new kind can be made (the handler may trail Established).
          const widget = await eventually("widgets are served", async () => {
            try {
              return await widgets.create({
                apiVersion: `${group}/v1`,
                kind: "Widget",
                metadata: { name: "w" },
                spec: { size: 3 },
              });
            } catch (err) {
              if (isNotFound(err)) return undefined;
              throw err;
            }
          });
          assert.equal(widget.spec?.size, 3);
          // Strict field validation applies the CRD's schema.
          await assert.rejects(
            widgets.create(
              {
                apiVersion: `${group}/v1`,
                kind: "Widget",
                metadata: { name: "w2" },
                spec: { size: 1, colour: "red" },
              } as Widget,
              { fieldValidation: "Strict" },
            ),
            (e) => {
              assert.ok(e instanceof ApiError && isBadRequest(e), String(e));
              assert.match(e.message, /unknown field "spec\.colour"/);
              return true;
            },
          );
        },
      },
    );
    assert.equal(created.spec?.names.kind, "Widget");
    // Deleting a CRD waits for its finalizer, which removes the objects of the kind first.
    assert.ok(
      events.some(
        (e) => e.type === "MODIFIED" && e.object.metadata?.deletionTimestamp !== undefined,
      ),
    );
    await assert.rejects(widgets.get("w"), isNotFound);
  });

  test("deleteCollection deletes what the label selector selects, and nothing else", async (t) => {
    const ns = await namespaceFor(t);
    const api = client.api(ConfigMap).namespace(ns);
    for (const [name, tier] of [
      ["a1", "a"],
      ["a2", "a"],
      ["b1", "b"],
    ] as const) {
      await api.create({ metadata: { name, labels: { tier } } });
    }
    await api.deleteCollection({ labelSelector: { tier: "a" } });
    const left = (await api.list({ labelSelector: { tier: { exists: true } } })).items;
    assert.deepEqual(
      left.map((c) => c.metadata?.name),
      ["b1"],
    );
  });

  test("dryRun: All answers as a create would and stores nothing", async (t) => {
    const ns = await namespaceFor(t);
    const api = client.api(ConfigMap).namespace(ns);
    const answer = await api.create(
      { metadata: { name: "dry" }, data: { k: "v" } },
      { dryRun: "All" },
    );
    assert.equal(answer.metadata?.name, "dry");
    assert.equal(answer.metadata?.namespace, ns);
    assert.ok(answer.metadata?.creationTimestamp);
    await assert.rejects(api.get("dry"), isNotFound);
    const names = (await api.list()).items.map((c) => c.metadata?.name);
    assert.equal(names.includes("dry"), false, `${names}`);
  });

  test('fieldValidation: "Strict" rejects an unknown field with the server\'s message', async (t) => {
    const ns = await namespaceFor(t);
    const api = client.api(ConfigMap).namespace(ns);
    const bad = { metadata: { name: "strict" }, data: { k: "v" }, bogus: 1 } as ConfigMap;
    await assert.rejects(api.create(bad, { fieldValidation: "Strict" }), (e) => {
      assert.ok(e instanceof ApiError, String(e));
      assert.equal(e.statusCode, 400);
      assert.ok(isBadRequest(e));
      assert.match(e.status.message ?? "", /strict decoding error: unknown field "bogus"/);
      assert.match(e.message, /unknown field "bogus"/);
      return true;
    });
    await assert.rejects(api.get("strict"), isNotFound);
    // With "Ignore" the server drops the field silently.
    const lax = await api.create(bad, { fieldValidation: "Ignore" });
    assert.equal((lax as Record<string, unknown>).bogus, undefined);
  });

  test("errors: NotFound, AlreadyExists, Conflict and Invalid, by reason", async (t) => {
    const ns = await namespaceFor(t);
    const api = client.api(ConfigMap).namespace(ns);

    await assert.rejects(api.get("missing"), (e) => {
      assert.ok(e instanceof ApiError && isNotFound(e), String(e));
      assert.equal(e.statusCode, 404);
      assert.equal(e.reason, "NotFound");
      assert.equal(e.status.details?.name, "missing");
      assert.equal(e.status.details?.kind, "configmaps");
      return true;
    });

    const first = await api.create({ metadata: { name: "once" }, data: { v: "1" } });
    await assert.rejects(api.create({ metadata: { name: "once" } }), (e) => {
      assert.ok(e instanceof ApiError && isAlreadyExists(e), String(e));
      assert.equal(e.statusCode, 409);
      // The reason decides: a 409 AlreadyExists is not a Conflict.
      assert.equal(isConflict(e), false);
      return true;
    });

    await api.update({ ...first, data: { v: "2" } });
    await assert.rejects(api.update({ ...first, data: { v: "3" } }), (e) => {
      assert.ok(e instanceof ApiError && isConflict(e), String(e));
      assert.equal(e.statusCode, 409);
      assert.equal(e.reason, "Conflict");
      assert.match(e.message, /the object has been modified/);
      assert.equal(isAlreadyExists(e), false);
      return true;
    });
    assert.equal((await api.get("once")).data?.v, "2");

    await assert.rejects(
      api.create({ metadata: { name: "invalid" }, data: { "not a key!": "x" } }),
      (e) => {
        assert.ok(e instanceof ApiError && isInvalid(e), String(e));
        assert.equal(e.statusCode, 422);
        assert.equal(e.status.details?.kind, "ConfigMap");
        assert.ok(
          e.causes.some((c) => c.field === "data[not a key!]" && c.reason === "FieldValueInvalid"),
          JSON.stringify(e.causes),
        );
        return true;
      },
    );
  });

  test("the Clientset returns the same Api as client.api", async (t) => {
    const ns = await namespaceFor(t);
    const direct = client.api(ConfigMap).namespace(ns);
    await direct.create({ metadata: { name: "shared", labels: { via: "cs" } }, data: { k: "v" } });
    const viaClientset = clientset.coreV1.configMaps(ns);
    assert.equal(viaClientset.resource, ConfigMap);
    assert.deepEqual(await viaClientset.get("shared"), await direct.get("shared"));
    assert.deepEqual(
      (await viaClientset.list({ labelSelector: { via: "cs" } })).items,
      (await direct.list({ labelSelector: { via: "cs" } })).items,
    );
    // Without a namespace: list spans all namespaces, as Api does.
    const everywhere = await clientset.coreV1.configMaps().list({ labelSelector: { via: "cs" } });
    assert.ok(everywhere.items.some((c) => c.metadata?.namespace === ns));
    // Cluster-scoped kinds take no namespace.
    assert.equal((await clientset.coreV1.namespaces().get(ns)).metadata?.name, ns);
    // Writes go through the same client: a Lease made via the Clientset is read back directly.
    await clientset.coordinationV1.leases(ns).create({
      metadata: { name: "l" },
      spec: { holderIdentity: "cs" },
    });
    assert.equal((await client.api(Lease).namespace(ns).get("l")).spec?.holderIdentity, "cs");
  });
});
