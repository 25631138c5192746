/**
 * What the in-memory server does beyond the contract suite (test/contract/, which checks the
 * behaviour it shares with kube-apiserver): its own knobs (history size, bookmark interval, clock),
 * seeding, both ways in and `close()`, the registry's completeness, the documents it serves, and
 * the kinds with special handling.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { globSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { CustomResourceDefinition } from "../api/apiextensions/v1/index.ts";
import { TokenReview } from "../api/authentication/v1/index.ts";
import { ConfigMap, Namespace, Pod } from "../api/core/v1/index.ts";
import { PatchMeta } from "../apply/patchmeta.ts";
import { Client } from "../client/client.ts";
import { loadConfig } from "../config/load.ts";
import { RestConfig } from "../config/rest-config.ts";
import { ManualClock } from "../core/clock.ts";
import { ApiError } from "../core/errors.ts";
import type { KubernetesObject } from "../core/meta.ts";
import { defineResource } from "../core/resource.ts";
import { Discovery } from "../discovery/discovery.ts";
import { metadata, tables } from "../dynamic/index.ts";
import type { WatchEvent } from "../rest/watch.ts";
import { BUILTIN_MODULES, builtinResources, compareVersions } from "./registry.ts";
import { InMemoryApiServer, type InMemoryApiServerOptions } from "./server.ts";

const root = resolve(import.meta.dirname, "../..");

function setup(options: InMemoryApiServerOptions = {}) {
  const server = new InMemoryApiServer(options);
  const client = new Client(new RestConfig({ server: "http://in-memory.invalid" }), {
    transport: server.transport,
    qps: -1,
  });
  return {
    server,
    client,
    async [Symbol.asyncDispose]() {
      await client.close();
      await server.close();
    },
  };
}

async function failure(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  assert.fail("expected an ApiError");
}

/** Reads `n` events (or until the stream ends). */
async function take<T>(events: AsyncIterable<WatchEvent<T>>, n: number): Promise<WatchEvent<T>[]> {
  const out: WatchEvent<T>[] = [];
  if (n === 0) return out;
  for await (const ev of events) {
    out.push(ev);
    if (out.length >= n) break;
  }
  return out;
}

test("every generated module with resources is served, each resource at its path", async () => {
  const modules = globSync("src/api/*/*/index.ts", { cwd: root }).filter((f) =>
    readFileSync(join(root, f), "utf8").includes("defineResource<"),
  );
  assert.equal(BUILTIN_MODULES.length, modules.length, "registry.ts imports every module");
  const registry = readFileSync(join(root, "src/testing/registry.ts"), "utf8");
  for (const f of modules) {
    const dir = f.replace(/^src\/api\//, "").replace(/\/index\.ts$/, "");
    assert.ok(registry.includes(`"../api/${dir}/index.ts"`), `registry.ts imports ${f}`);
  }
  await using s = setup();
  const all = builtinResources();
  assert.ok(all.length >= 90, `${all.length} resources`);
  for (const r of all) {
    const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
    const path = r.namespaced ? `${base}/namespaces/x/${r.plural}/y` : `${base}/${r.plural}/y`;
    assert.deepEqual(s.server.resolvePath(path), {
      group: r.group,
      version: r.version,
      resource: r.plural,
      namespace: r.namespaced ? "x" : undefined,
      name: "y",
      subresource: undefined,
    });
  }
});

test("versions sort as kube-apiserver prefers them", () => {
  const sorted = ["v1alpha1", "v1", "v1beta2", "v2", "v1beta1", "foo", "v10"].sort(compareVersions);
  assert.deepEqual(sorted, ["v10", "v2", "v1", "v1beta2", "v1beta1", "v1alpha1", "foo"]);
});

test("add() stores objects as they are: status kept, system fields filled, namespaces and CRDs first", async () => {
  await using s = setup({
    objects: [
      {
        apiVersion: "example.com/v1",
        kind: "Gadget",
        metadata: { name: "g", namespace: "team" },
        spec: { size: 1 },
      } as KubernetesObject,
      {
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: "gadgets.example.com" },
        spec: {
          group: "example.com",
          scope: "Namespaced",
          names: { plural: "gadgets", kind: "Gadget" },
          versions: [{ name: "v1", served: true, storage: true }],
        },
      } as KubernetesObject,
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "p" },
        status: { phase: "Running" },
      } as Pod,
    ],
  });
  const pod = await s.client.api(Pod).namespace("default").get("p");
  assert.equal(pod.status?.phase, "Running", "status is stored as given");
  assert.ok(pod.metadata?.uid && pod.metadata.creationTimestamp && pod.metadata.resourceVersion);
  assert.equal((await s.client.api(Namespace).get("team")).status?.phase, "Active");
  const Gadget = defineResource()({
    group: "example.com",
    version: "v1",
    kind: "Gadget",
    plural: "gadgets",
    namespaced: true,
  });
  assert.deepEqual(
    ((await s.client.api(Gadget).namespace("team").get("g")) as { spec?: unknown }).spec,
    { size: 1 },
  );
  assert.throws(
    () => s.server.add({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" } }),
    (e: unknown) => e instanceof ApiError && e.statusCode === 409,
  );
  assert.throws(
    () => s.server.add({ apiVersion: "nope/v1", kind: "Thing", metadata: { name: "t" } }),
    (e: unknown) => e instanceof ApiError && e.statusCode === 404,
  );
});

test("historySize bounds how far back watches and continue tokens reach", async () => {
  await using s = setup({ historySize: 3 });
  const cms = s.client.api(ConfigMap).namespace("default");
  const first = await cms.create({ metadata: { name: "a" } });
  await cms.create({ metadata: { name: "b" } });
  const page = await cms.list({ limit: 1 });
  assert.ok(page.metadata.continue);
  // Within the history: the watch replays.
  const replay = await take(cms.watch({ resourceVersion: first.metadata!.resourceVersion! }), 1);
  assert.deepEqual(
    replay.map((e) => `${e.type} ${e.object.metadata?.name}`),
    ["ADDED b"],
  );
  for (const n of ["c", "d", "e"]) await cms.create({ metadata: { name: n } });
  const err = await failure(
    take(cms.watch({ resourceVersion: first.metadata!.resourceVersion! }), 1),
  );
  assert.equal(err.statusCode, 410);
  assert.match(err.message, /too old resource version/);
  await cms.create({ metadata: { name: "f" } });
  const expired = await failure(cms.list({ limit: 1, continue: page.metadata.continue! }));
  assert.equal(expired.reason, "Expired");
  // The token in the 410 continues at the latest state, inconsistently.
  const rest = await cms.list({ limit: 10, continue: expired.status.metadata!.continue! });
  assert.deepEqual(
    rest.items.map((o) => o.metadata!.name),
    ["b", "c", "d", "e", "f"],
  );
});

test("bookmarks and watch timeouts follow the server's clock", async () => {
  const clock = new ManualClock(Date.parse("2030-01-01T00:00:00Z"));
  await using s = setup({ clock, bookmarkIntervalMs: 10_000 });
  const created = await s.client
    .api(ConfigMap)
    .namespace("default")
    .create({ metadata: { name: "a" } });
  assert.equal(created.metadata?.creationTimestamp, "2030-01-01T00:00:00Z");
  const events: string[] = [];
  const watching = (async () => {
    for await (const ev of s.client.api(ConfigMap).namespace("default").watch({
      allowWatchBookmarks: true,
      timeoutSeconds: 30,
      resourceVersion: created.metadata!.resourceVersion!,
    })) {
      events.push(`${ev.type}@${ev.object.metadata?.resourceVersion}`);
    }
  })();
  const rv = created.metadata!.resourceVersion!;
  await clock.advance(9_000);
  assert.deepEqual(events, []);
  await clock.advance(1_000);
  assert.deepEqual(events, [`BOOKMARK@${rv}`]);
  await clock.advance(18_000);
  assert.deepEqual(
    events,
    [`BOOKMARK@${rv}`, `BOOKMARK@${rv}`, `BOOKMARK@${rv}`],
    "and 2 s before the end",
  );
  await clock.advance(2_000);
  await watching;
});

test("close() ends watches, refuses later requests and frees the port", async () => {
  const server = new InMemoryApiServer();
  const url = await server.listen();
  const dir = mkdtempSync(join(tmpdir(), "kubekit-testing-"));
  writeFileSync(join(dir, "config"), server.kubeconfig({ namespace: "kube-system" }));
  const config = await loadConfig({ kubeconfig: join(dir, "config"), env: {}, inCluster: false });
  assert.equal(config.server, url);
  assert.equal(config.namespace, "kube-system");
  const http = new Client(config, { qps: -1, maxRetries: 0 });
  const local = new Client(new RestConfig({ server: "http://x.invalid" }), {
    transport: server.transport,
  });
  server.add({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } });
  // Each watch starts with the ADDED event of "a"; once both have it, both are open.
  const seen = [0, 0];
  const follow = async (c: Client, i: number) => {
    let n = 0;
    for await (const _ of c.api(ConfigMap).watch()) seen[i] = ++n;
    return n;
  };
  const overHttp = follow(http, 0);
  const inProcess = follow(local, 1);
  for (let i = 0; i < 500 && (seen[0] === 0 || seen[1] === 0); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  await server.close();
  assert.equal(await overHttp, 1, "the HTTP watch ended cleanly");
  assert.equal(await inProcess, 1, "the in-process watch ended cleanly");
  assert.equal((await failure(local.api(ConfigMap).list())).statusCode, 503);
  await assert.rejects(http.api(ConfigMap).list());
  await http.close();
  await local.close();
});

test("an HTTP watch the client abandons is dropped by the server", async () => {
  await using s = setup();
  await s.server.listen();
  const dir = mkdtempSync(join(tmpdir(), "kubekit-testing-"));
  writeFileSync(join(dir, "config"), s.server.kubeconfig());
  const http = new Client(
    await loadConfig({ kubeconfig: join(dir, "config"), env: {}, inCluster: false }),
    { qps: -1 },
  );
  const cms = http.api(ConfigMap).namespace("default");
  const ac = new AbortController();
  const seen: string[] = [];
  const watching = (async () => {
    try {
      for await (const ev of cms.watch({ signal: ac.signal })) seen.push(ev.object.metadata!.name!);
    } catch {
      // aborted
    }
  })();
  await new Promise((r) => setTimeout(r, 50));
  await cms.create({ metadata: { name: "a" } });
  for (let i = 0; i < 50 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(seen, ["a"]);
  ac.abort();
  await watching;
  await http.close();
});

test("discovery documents: legacy, aggregated, and the group documents", async () => {
  await using s = setup();
  const v1 = await s.client.request<{
    resources: { name: string; kind: string; group?: string }[];
  }>({
    method: "GET",
    path: "/apis/apps/v1",
  });
  const scale = v1.resources.find((r) => r.name === "deployments/scale");
  assert.deepEqual([scale?.kind, scale?.group], ["Scale", "autoscaling"]);
  const autoscaling = await s.client.request<{ preferredVersion: { version: string } }>({
    method: "GET",
    path: "/apis/autoscaling",
  });
  assert.equal(autoscaling.preferredVersion.version, "v2");
  const res = await s.client.rest.send({
    method: "GET",
    path: "/apis",
    accept: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
  });
  assert.equal(
    res.headers["content-type"],
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
  );
  await res.body.dump();
  const err = await failure(s.client.request({ method: "GET", path: "/apis/nope.example.com/v1" }));
  assert.equal(err.statusCode, 404);
});

test("OpenAPI v3: a document per group version with PATCH parameters and CRD schemas", async () => {
  await using s = setup();
  await s.client.api(CustomResourceDefinition).create({
    metadata: { name: "boxes.example.com" },
    spec: {
      group: "example.com",
      scope: "Namespaced",
      names: { plural: "boxes", kind: "Box" },
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: "object",
              properties: {
                spec: {
                  type: "object",
                  properties: {
                    items: {
                      type: "array",
                      "x-kubernetes-list-type": "map",
                      "x-kubernetes-list-map-keys": ["name"],
                      items: { type: "object", properties: { name: { type: "string" } } },
                    },
                  },
                },
              },
            },
          },
        },
      ],
    },
  } as CustomResourceDefinition);
  const discovery = new Discovery(s.client);
  const paths = await discovery.openapi.paths();
  assert.ok(paths.get("api/v1")?.startsWith("/openapi/v3/api/v1?hash="));
  const core = await discovery.openapi.document("api/v1");
  const patch = (
    core.paths!["/api/v1/namespaces/{namespace}/configmaps/{name}"] as {
      patch: { parameters: { name: string }[] };
    }
  ).patch;
  assert.ok(patch.parameters.some((p) => p.name === "fieldValidation"));
  const meta = await PatchMeta.fromServer(discovery, {
    group: "example.com",
    version: "v1",
    kind: "Box",
  });
  assert.equal(meta.lookup("spec").meta.lookup("items").field?.listType, "map");
});

test("kinds with special handling: virtual reviews, pods, eviction, binding", async () => {
  await using s = setup();
  const review = await s.client.api(TokenReview).create({
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenReview",
    spec: { token: "t" },
  } as TokenReview);
  assert.deepEqual(review.spec, { token: "t" });
  assert.deepEqual(review.status, {});
  assert.equal(
    (
      await failure(
        s.client.request({ method: "GET", path: "/apis/authentication.k8s.io/v1/tokenreviews" }),
      )
    ).statusCode,
    405,
  );
  const pods = s.client.api(Pod).namespace("default");
  const pod = await pods.create({
    metadata: { name: "p" },
    spec: { containers: [{ name: "c", image: "i" }] },
  });
  assert.equal(pod.status?.phase, "Pending");
  await pods.bind("p", { apiVersion: "v1", kind: "Node", name: "node-1" });
  assert.deepEqual(
    (await pods.list({ fieldSelector: "spec.nodeName=node-1" })).items.map((p) => p.metadata?.name),
    ["p"],
  );
  await pods.evict("p");
  assert.equal((await failure(pods.get("p"))).statusCode, 404);
  const log = await failure(pods.logs("p"));
  assert.equal(log.statusCode, 404);
});

test("Table and metadata-only answers for kubectl and the dynamic clients", async () => {
  await using s = setup();
  const cms = s.client.api(ConfigMap).namespace("default");
  await cms.create({ metadata: { name: "a", labels: { x: "1" } }, data: { big: "x" } });
  const t = await tables(s.client, ConfigMap).namespace("default").list();
  assert.deepEqual(
    t.columnDefinitions.map((c) => c.name),
    ["Name", "Created At"],
  );
  assert.equal(t.rows[0]?.cells[0], "a");
  const full = await tables(s.client, ConfigMap)
    .namespace("default")
    .get("a", { includeObject: "Object" });
  assert.equal((full.rows[0]!.object as ConfigMap).data?.big, "x");
  const m = await metadata(s.client, ConfigMap).namespace("default").list();
  assert.equal(m.kind, "PartialObjectMetadataList");
  assert.deepEqual(m.items[0]?.metadata.labels, { x: "1" });
  assert.equal((m.items[0] as { data?: unknown }).data, undefined);
});

test("requests the server does not take: other media types, too large resourceVersions", async () => {
  await using s = setup();
  const proto = await failure(
    s.client.request({
      method: "POST",
      path: "/api/v1/namespaces/default/configmaps",
      body: "k8s\u0000...",
      contentType: "application/vnd.kubernetes.protobuf",
    }),
  );
  assert.equal(proto.statusCode, 415);
  const yaml = await s.client.request<ConfigMap>({
    method: "POST",
    path: "/api/v1/namespaces/default/configmaps",
    body: "metadata:\n  name: from-yaml\ndata:\n  a: '1'\n",
    contentType: "application/yaml",
  });
  assert.deepEqual(yaml.data, { a: "1" });
  const future = String(Number(s.server.resourceVersion) + 100);
  const err = await failure(s.client.api(ConfigMap).list({ resourceVersion: future }));
  assert.equal(err.statusCode, 504);
  assert.equal(
    err.status.message,
    `Timeout: Too large resource version: ${future}, current: ${s.server.resourceVersion}`,
  );
});

test("deleting a namespace deletes every kind in it, each once, then the namespace", async () => {
  await using s = setup();
  await s.client.api(Namespace).create({ metadata: { name: "gone" } });
  const cms = s.client.api(ConfigMap).namespace("gone");
  for (const n of ["a", "b", "c"]) await cms.create({ metadata: { name: n } });
  await s.client
    .api(Pod)
    .namespace("gone")
    .create({ metadata: { name: "p" }, spec: { containers: [] } });
  const start = s.server.resourceVersion;
  await s.client.api(Namespace).delete("gone");
  const events = await take(
    s.client.api(ConfigMap).watch({ resourceVersion: start, timeoutSeconds: 1 }),
    10,
  );
  assert.deepEqual(
    events.map((e) => `${e.type} ${e.object.metadata?.name}`),
    ["DELETED a", "DELETED b", "DELETED c"],
  );
  assert.equal((await failure(s.client.api(Namespace).get("gone"))).statusCode, 404);
  const nsEvents = await take(
    s.client.api(Namespace).watch({ resourceVersion: start, timeoutSeconds: 1 }),
    10,
  );
  assert.deepEqual(
    nsEvents.map((e) => e.type),
    ["MODIFIED", "DELETED"],
  );
});

test("a CRD update serves its new versions; deleting it deletes its objects and ends its watches", async () => {
  await using s = setup();
  const crds = s.client.api(CustomResourceDefinition);
  const schema = {
    openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
  };
  const crd = await crds.create({
    metadata: { name: "cogs.example.com" },
    spec: {
      group: "example.com",
      scope: "Cluster",
      names: { plural: "cogs", kind: "Cog" },
      versions: [{ name: "v1", served: true, storage: true, schema }],
    },
  } as CustomResourceDefinition);
  const ref = (version: string) =>
    defineResource()({
      group: "example.com",
      version,
      kind: "Cog",
      plural: "cogs",
      namespaced: false,
    });
  await s.client
    .api(ref("v1"))
    .create({ apiVersion: "example.com/v1", kind: "Cog", metadata: { name: "c" } });
  assert.equal((await failure(s.client.api(ref("v2")).get("c"))).statusCode, 404);
  await crds.update({
    ...crd,
    spec: {
      ...crd.spec,
      versions: [...crd.spec.versions, { name: "v2", served: true, storage: false, schema }],
    },
  });
  assert.equal((await s.client.api(ref("v2")).get("c")).apiVersion, "example.com/v2");
  const watching = take(
    s.client.api(ref("v1")).watch({ resourceVersion: s.server.resourceVersion }),
    10,
  );
  await new Promise((r) => setTimeout(r, 10));
  await crds.delete("cogs.example.com");
  assert.deepEqual(
    (await watching).map((e) => `${e.type} ${e.object.metadata?.name}`),
    ["DELETED c"],
  );
  assert.equal((await failure(crds.get("cogs.example.com"))).statusCode, 404);
});

test("kubectl works against a listening server", async (t) => {
  const kubectl = await promisify(execFile)("kubectl", ["version", "--client"]).catch(
    () => undefined,
  );
  if (!kubectl) {
    t.skip("kubectl is not installed");
    return;
  }
  await using s = setup();
  await s.server.listen();
  const dir = mkdtempSync(join(tmpdir(), "kubekit-kubectl-"));
  const config = join(dir, "config");
  writeFileSync(config, s.server.kubeconfig());
  writeFileSync(
    join(dir, "cm.yaml"),
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-kubectl\ndata:\n  a: '1'\n",
  );
  const run = (...args: string[]) =>
    promisify(execFile)("kubectl", [
      "--kubeconfig",
      config,
      "--cache-dir",
      join(dir, "cache"),
      ...args,
    ]);
  assert.match(
    (await run("apply", "-f", join(dir, "cm.yaml"))).stdout,
    /configmap\/from-kubectl created/,
  );
  assert.match(
    (await run("apply", "--server-side", "-f", join(dir, "cm.yaml"))).stdout,
    /serverside-applied/,
  );
  assert.match((await run("get", "configmaps")).stdout, /from-kubectl/);
  await run("label", "configmap", "from-kubectl", "team=a");
  assert.equal(
    (await run("get", "cm", "-l", "team=a", "-o", "name")).stdout.trim(),
    "configmap/from-kubectl",
  );
  assert.match((await run("delete", "cm", "from-kubectl")).stdout, /deleted/);
  assert.match((await run("get", "ns", "-o", "name")).stdout, /namespace\/kube-system/);
});

test("close() leaves nothing behind: a process that used the server exits by itself", async () => {
  // Watches with bookmarks and timeouts over both ways in, then close(): if any timer, socket or
  // listener were left, the child would not exit and the call would time out.
  const script = `
    import { Client } from ${JSON.stringify(join(root, "src/client/client.ts"))};
    import { RestConfig } from ${JSON.stringify(join(root, "src/config/rest-config.ts"))};
    import { InMemoryApiServer } from ${JSON.stringify(join(root, "src/testing/server.ts"))};
    const server = new InMemoryApiServer({ bookmarkIntervalMs: 50 });
    const url = await server.listen();
    const clients = [
      new Client(new RestConfig({ server: "http://x.invalid" }), { transport: server.transport }),
      new Client(new RestConfig({ server: url }), { qps: -1 }),
    ];
    const path = "/api/v1/namespaces/default/configmaps";
    const watches = clients.map((c) =>
      (async () => {
        let n = 0;
        for await (const _ of c.rest.watch({ method: "GET", path, query: { watch: "true", allowWatchBookmarks: "true", timeoutSeconds: "600" } })) n++;
        return n;
      })(),
    );
    await new Promise((r) => setTimeout(r, 200));
    await server.close();
    const counts = await Promise.all(watches);
    for (const c of clients) await c.close();
    console.log(counts.every((n) => n > 0) ? "bookmarks seen, closed" : "no bookmarks");
  `;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--input-type=module", "--conditions=kubekit-source", "-e", script],
    { cwd: root, timeout: 15_000 },
  );
  assert.equal(stdout.trim(), "bookmarks seen, closed");
});
