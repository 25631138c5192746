/**
 * Discovery, its caches, OpenAPI documents and the deferred mapper against a fake API server that
 * speaks both discovery formats from one model of the world.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ManualClock } from "../core/clock.ts";
import { ApiError, isServiceUnavailable } from "../core/errors.ts";
import { RestClient } from "../rest/client.ts";
import type { HttpRequest, HttpResponse } from "../rest/http.ts";
import { DeferredRestMapper } from "./deferred.ts";
import { Discovery } from "./discovery.ts";
import { DiskCache, serverDirName } from "./disk.ts";
import { GroupDiscoveryFailedError, NoMatchError, StaleGroupVersionError } from "./errors.ts";
import { ACCEPT_AGGREGATED, ACCEPT_LEGACY } from "./parse.ts";

interface FakeResource {
  name: string;
  kind: string;
  namespaced: boolean;
  short?: string[];
  cats?: string[];
  subs?: { name: string; group?: string; version?: string; kind: string; verbs?: string[] }[];
}
interface FakeVersion {
  version: string;
  resources: FakeResource[];
  /** Unavailable: Stale in aggregated discovery, 503 in legacy. */
  down?: boolean;
}
interface FakeGroup {
  name: string;
  versions: FakeVersion[];
}

const AGG_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/** A fake API server: one model of the world, served in either discovery format. */
class FakeServer {
  groups: FakeGroup[] = [
    {
      name: "",
      versions: [
        {
          version: "v1",
          resources: [
            {
              name: "pods",
              kind: "Pod",
              namespaced: true,
              short: ["po"],
              cats: ["all"],
              subs: [
                { name: "status", kind: "Pod" },
                {
                  name: "eviction",
                  group: "policy",
                  version: "v1",
                  kind: "Eviction",
                  verbs: ["create"],
                },
              ],
            },
            { name: "namespaces", kind: "Namespace", namespaced: false, short: ["ns"] },
          ],
        },
      ],
    },
    {
      name: "apps",
      versions: [
        {
          version: "v1",
          resources: [
            {
              name: "deployments",
              kind: "Deployment",
              namespaced: true,
              short: ["deploy"],
              cats: ["all"],
              subs: [
                { name: "scale", group: "autoscaling", version: "v1", kind: "Scale" },
                { name: "status", kind: "Deployment" },
              ],
            },
          ],
        },
      ],
    },
    {
      name: "autoscaling",
      versions: [
        {
          version: "v2",
          resources: [
            {
              name: "horizontalpodautoscalers",
              kind: "HorizontalPodAutoscaler",
              namespaced: true,
              short: ["hpa"],
            },
          ],
        },
        {
          version: "v1",
          resources: [
            {
              name: "horizontalpodautoscalers",
              kind: "HorizontalPodAutoscaler",
              namespaced: true,
              short: ["hpa"],
            },
          ],
        },
      ],
    },
    {
      name: "metrics.k8s.io",
      versions: [
        {
          version: "v1beta1",
          down: true,
          resources: [{ name: "nodes", kind: "NodeMetrics", namespaced: false }],
        },
      ],
    },
  ];
  aggregated = true;
  readonly log: HttpRequest[] = [];
  openapi = new Map<string, { hash: string; doc: unknown }>();

  paths(): string[] {
    return this.log.map((r) => r.path);
  }

  rest(): RestClient {
    return new RestClient({
      server: "https://fake.example:6443",
      qps: -1,
      maxRetries: 0,
      transport: { dispatch: async (req) => this.#dispatch(req), close: async () => {} },
    });
  }

  #dispatch(req: HttpRequest): HttpResponse {
    this.log.push(req);
    const [path, query = ""] = req.path.split("?") as [string, string?];
    const wantsAgg =
      this.aggregated && String(req.headers.accept).includes("as=APIGroupDiscoveryList");
    if (path === "/api") {
      const core = this.groups.filter((g) => g.name === "");
      return wantsAgg
        ? reply(this.#agg(core), AGG_TYPE)
        : reply({
            kind: "APIVersions",
            versions: core.flatMap((g) => g.versions.map((v) => v.version)),
          });
    }
    if (path === "/apis") {
      const named = this.groups.filter((g) => g.name !== "");
      return wantsAgg
        ? reply(this.#agg(named), AGG_TYPE)
        : reply({
            kind: "APIGroupList",
            groups: named.map((g) => ({
              name: g.name,
              versions: g.versions.map((v) => ({
                groupVersion: `${g.name}/${v.version}`,
                version: v.version,
              })),
              preferredVersion: {
                groupVersion: `${g.name}/${g.versions[0]!.version}`,
                version: g.versions[0]!.version,
              },
            })),
          });
    }
    if (path === "/version") return reply({ major: "1", minor: "37", gitVersion: "v1.37.2" });
    if (path === "/openapi/v3") {
      return reply({
        paths: Object.fromEntries(
          [...this.openapi].map(([p, { hash }]) => [
            p,
            { serverRelativeURL: `/openapi/v3/${p}?hash=${hash}` },
          ]),
        ),
      });
    }
    if (path.startsWith("/openapi/v3/")) {
      const doc = this.openapi.get(path.slice("/openapi/v3/".length));
      if (!doc) return status(404, "NotFound");
      if (new URLSearchParams(query).get("hash") !== doc.hash)
        return { ...status(301, ""), headers: { location: "x" } };
      return reply(doc.doc);
    }
    const m = /^\/(?:api\/([^/]+)|apis\/([^/]+)\/([^/]+))$/.exec(path);
    if (m) {
      const group = m[2] ?? "";
      const version = m[1] ?? m[3]!;
      const v = this.groups
        .find((g) => g.name === group)
        ?.versions.find((x) => x.version === version);
      if (!v) return status(404, "NotFound");
      if (v.down) return status(503, "ServiceUnavailable");
      const resources = v.resources.flatMap((r) => [
        {
          name: r.name,
          singularName: r.kind.toLowerCase(),
          namespaced: r.namespaced,
          kind: r.kind,
          verbs: ["get", "list", "watch"],
          ...(r.short ? { shortNames: r.short } : {}),
          ...(r.cats ? { categories: r.cats } : {}),
        },
        ...(r.subs ?? []).map((s) => ({
          name: `${r.name}/${s.name}`,
          singularName: "",
          namespaced: r.namespaced,
          ...(s.group === undefined ? {} : { group: s.group, version: s.version }),
          kind: s.kind,
          verbs: s.verbs ?? ["get", "patch", "update"],
        })),
      ]);
      return reply({
        kind: "APIResourceList",
        groupVersion: group ? `${group}/${version}` : version,
        resources,
      });
    }
    return status(404, "NotFound");
  }

  #agg(groups: FakeGroup[]) {
    return {
      kind: "APIGroupDiscoveryList",
      apiVersion: "apidiscovery.k8s.io/v2",
      items: groups.map((g) => ({
        metadata: g.name ? { name: g.name } : {},
        versions: g.versions.map((v) => ({
          version: v.version,
          freshness: v.down ? "Stale" : "Current",
          ...(v.down
            ? {}
            : {
                resources: v.resources.map((r) => ({
                  resource: r.name,
                  responseKind: { group: "", version: "", kind: r.kind },
                  scope: r.namespaced ? "Namespaced" : "Cluster",
                  singularResource: r.kind.toLowerCase(),
                  verbs: ["get", "list", "watch"],
                  ...(r.short ? { shortNames: r.short } : {}),
                  ...(r.cats ? { categories: r.cats } : {}),
                  ...(r.subs
                    ? {
                        subresources: r.subs.map((s) => ({
                          subresource: s.name,
                          responseKind: {
                            group: s.group ?? "",
                            version: s.version ?? "",
                            kind: s.kind,
                          },
                          verbs: s.verbs ?? ["get", "patch", "update"],
                        })),
                      }
                    : {}),
                })),
              }),
        })),
      })),
    };
  }
}

function reply(body: unknown, contentType = "application/json", code = 200): HttpResponse {
  const text = JSON.stringify(body);
  const bytes = Buffer.from(text);
  return {
    status: code,
    headers: { "content-type": contentType },
    body: {
      async *[Symbol.asyncIterator]() {
        yield bytes;
      },
      bytes: async () => bytes,
      text: async () => text,
      dump: async () => {},
    },
  };
}

function status(code: number, reason: string): HttpResponse {
  return reply(
    { kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message: reason },
    "application/json",
    code,
  );
}

const tmp = mkdtempSync(join(tmpdir(), "kubekit-discovery-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(tmp, `cache-${dirs++}`);

const summary = (d: Awaited<ReturnType<Discovery["snapshot"]>>) => ({
  groups: d.groups,
  resources: [...d.resources].map(([gv, rs]) => [gv, rs.map((r) => ({ ...r }))]),
  failed: [...(d.failed?.groups.keys() ?? [])],
});

test("aggregated discovery takes two requests and reports an unavailable group version as failed", async () => {
  const server = new FakeServer();
  const d = new Discovery(server.rest());
  const snap = await d.snapshot();
  assert.deepEqual(server.paths().sort(), ["/api", "/apis"]);
  assert.equal(server.log[0]!.headers.accept, ACCEPT_AGGREGATED);
  assert.equal(snap.format, "aggregated");
  assert.deepEqual(
    snap.groups.map((g) => `${g.name}:${g.versions.join(",")}:${g.preferredVersion}`),
    [":v1:v1", "apps:v1:v1", "autoscaling:v2,v1:v2", "metrics.k8s.io:v1beta1:v1beta1"],
  );
  assert.deepEqual(
    [...snap.resources.keys()],
    ["v1", "apps/v1", "autoscaling/v2", "autoscaling/v1"],
  );
  assert.ok(snap.failed instanceof GroupDiscoveryFailedError);
  assert.equal(snap.failed.code, "ERR_KUBEKIT_DISCOVERY_GROUP_FAILED");
  assert.ok(snap.failed.groups.get("metrics.k8s.io/v1beta1") instanceof StaleGroupVersionError);
  const deploy = (await d.resources("apps/v1"))[0]!;
  assert.equal(deploy.kind, "Deployment");
  assert.deepEqual(
    deploy.subresources.map(
      (s) =>
        `${s.name}:${s.responseKind?.group}/${s.responseKind?.version}/${s.responseKind?.kind}`,
    ),
    ["scale:autoscaling/v1/Scale", "status:apps/v1/Deployment"],
  );
  await assert.rejects(d.resources("metrics.k8s.io/v1beta1"), StaleGroupVersionError);
  await assert.rejects(d.resources({ group: "apps", version: "v2" }), NoMatchError);
  const preferred = await d.preferredResources();
  assert.deepEqual(
    preferred.resources.map((r) => `${r.plural}.${r.version}`),
    ["pods.v1", "namespaces.v1", "deployments.v1", "horizontalpodautoscalers.v2"],
  );
  assert.equal(preferred.failed, snap.failed);
  assert.equal(await d.preferredVersion("autoscaling"), "v2");
  assert.equal((await d.allResources()).resources.length, 5);
});

test("a server that answers in the legacy format gets one request per group version; the result is the same", async () => {
  const aggServer = new FakeServer();
  const aggregated = await new Discovery(aggServer.rest()).snapshot();
  const server = new FakeServer();
  server.aggregated = false;
  const snap = await new Discovery(server.rest()).snapshot();
  assert.equal(snap.format, "legacy");
  assert.deepEqual(server.paths().sort(), [
    "/api",
    "/api/v1",
    "/apis",
    "/apis/apps/v1",
    "/apis/autoscaling/v1",
    "/apis/autoscaling/v2",
    "/apis/metrics.k8s.io/v1beta1",
  ]);
  assert.deepEqual(summary(snap), summary(aggregated));
  const cause = snap.failed?.groups.get("metrics.k8s.io/v1beta1");
  assert.ok(cause instanceof ApiError && isServiceUnavailable(cause));
});

test("discovery has its own rate limiter with client-go's burst of 300, over the client's connections", async () => {
  const server = new FakeServer();
  server.aggregated = false;
  // A client allowed one request now and one a second later, on a clock that never moves: the
  // seven legacy requests complete only because discovery does not spend the client's tokens.
  const clock = new ManualClock();
  const base = server.rest();
  const rest = new RestClient({
    server: base.server,
    qps: 1,
    burst: 1,
    clock,
    maxRetries: 0,
    transport: {
      dispatch: async (req) => base.send({ method: req.method, path: req.path }),
      close: async () => {},
    },
  });
  const d = new Discovery(rest);
  assert.notEqual(d.rest, rest);
  assert.deepEqual([d.rest.rateLimiter?.qps, d.rest.rateLimiter?.burst], [1, 300]);
  assert.equal((await d.snapshot()).format, "legacy");
  assert.equal(server.paths().length, 7);
  assert.ok(rest.rateLimiter?.tryAcquire(), "the client's own token is still there");
  // A limiter that already allows more, or none at all, is kept as it is.
  assert.equal(new Discovery(d.rest).rest, d.rest);
  assert.equal(new Discovery(base).rest, base);
});

test("legacy: true asks for plain JSON only", async () => {
  const server = new FakeServer();
  const d = new Discovery(server.rest()).withLegacy();
  const snap = await d.snapshot();
  assert.equal(snap.format, "legacy");
  assert.ok(server.log.every((r) => r.headers.accept === ACCEPT_LEGACY));
  assert.deepEqual(summary(snap), summary(await new Discovery(new FakeServer().rest()).snapshot()));
});

test("the memory cache answers until invalidate(); concurrent callers share one fetch; fresh says where data came from", async () => {
  const server = new FakeServer();
  const d = new Discovery(server.rest());
  assert.equal(d.fresh, false);
  await Promise.all([d.snapshot(), d.groups(), d.resources("v1"), d.preferredResources()]);
  assert.equal(server.log.length, 2);
  assert.equal(d.fresh, true);
  await d.snapshot();
  assert.equal(server.log.length, 2);
  d.invalidate();
  assert.equal(d.fresh, false);
  server.groups.push({
    name: "example.com",
    versions: [
      { version: "v1", resources: [{ name: "widgets", kind: "Widget", namespaced: true }] },
    ],
  });
  assert.equal((await d.resources("example.com/v1"))[0]?.plural, "widgets");
  assert.equal(server.log.length, 4);
});

test("an aborted caller stops waiting; the shared fetch goes on for the others", async () => {
  const server = new FakeServer();
  const d = new Discovery(server.rest());
  const ac = new AbortController();
  const first = d.snapshot({ signal: ac.signal });
  const second = d.snapshot();
  ac.abort(new Error("stop"));
  await assert.rejects(first, /stop/);
  assert.equal((await second).groups.length, 4);
  assert.equal(server.log.length, 2);
});

test("/version is read as is, never cached", async () => {
  const server = new FakeServer();
  const d = new Discovery(server.rest());
  assert.equal((await d.serverVersion()).gitVersion, "v1.37.2");
  await d.serverVersion();
  assert.equal(server.paths().filter((p) => p === "/version").length, 2);
});

test("the disk cache serves a second process until its TTL, and never a file it cannot trust", async () => {
  const dir = freshDir();
  const clock = new ManualClock(1_000_000);
  const server = new FakeServer();
  const cache = new DiskCache({ dir, ttlMs: 60_000, clock });
  const first = new Discovery(server.rest(), { diskCache: cache, clock });
  const written = await first.snapshot();
  assert.equal(written.source, "server");
  const file = join(dir, serverDirName("https://fake.example:6443"), "discovery.json");
  assert.equal(JSON.parse(readFileSync(file, "utf8")).server, "https://fake.example:6443");

  // Another process (another Discovery) reads it without asking the server.
  const second = new Discovery(server.rest(), { diskCache: cache, clock });
  const read = await second.snapshot();
  assert.equal(server.log.length, 2);
  assert.equal(read.source, "disk");
  assert.equal(second.fresh, false);
  assert.deepEqual(summary(read), summary(written));
  assert.ok(read.failed?.groups.has("metrics.k8s.io/v1beta1"));

  // invalidate() ignores what was stored before it.
  second.invalidate();
  await second.snapshot();
  assert.equal(server.log.length, 4);
  assert.equal(second.fresh, true);

  // Past the TTL: asks the server.
  await clock.advance(61_000);
  await new Discovery(server.rest(), { diskCache: cache, clock }).snapshot();
  assert.equal(server.log.length, 6);

  // A damaged or foreign file is ignored and replaced.
  writeFileSync(file, "{not json");
  assert.equal(
    (await new Discovery(server.rest(), { diskCache: cache, clock }).snapshot()).source,
    "server",
  );
  const other = JSON.parse(readFileSync(file, "utf8"));
  writeFileSync(file, JSON.stringify({ ...other, server: "https://elsewhere:6443" }));
  assert.equal(
    (await new Discovery(server.rest(), { diskCache: cache, clock }).snapshot()).source,
    "server",
  );
  assert.equal(JSON.parse(readFileSync(file, "utf8")).server, "https://fake.example:6443");
});

test("concurrent writers of the disk cache leave one whole file and no temporary files", async () => {
  const dir = freshDir();
  const cache = new DiskCache({ dir });
  const server = new FakeServer();
  const snap = await new Discovery(server.rest()).snapshot();
  const variants = Array.from({ length: 20 }, (_, i) => ({ ...snap, fetchedAt: Date.now() - i }));
  await Promise.all(variants.map((v) => cache.write("https://fake.example:6443", v)));
  const serverDir = join(dir, serverDirName("https://fake.example:6443"));
  assert.deepEqual(readdirSync(serverDir), ["discovery.json"]);
  const read = await cache.read("https://fake.example:6443");
  assert.ok(read);
  assert.ok(variants.some((v) => v.fetchedAt === read.fetchedAt));
});

test("a disk cache that cannot be written does not fail discovery", async () => {
  const blocker = join(tmp, "not-a-dir");
  writeFileSync(blocker, "");
  const server = new FakeServer();
  const d = new Discovery(server.rest(), {
    diskCache: new DiskCache({ dir: join(blocker, "sub") }),
  });
  assert.equal((await d.snapshot()).groups.length, 4);
});

test("serverDirName follows kubectl's host_port rule", () => {
  assert.equal(serverDirName("https://127.0.0.1:6443"), "127.0.0.1_6443");
  assert.equal(serverDirName("https://k8s.example.com/prefix/"), "k8s.example.com_prefix");
});

test("OpenAPI v3 documents are fetched once per hash, from memory or disk, and a stale index is reread", async () => {
  const server = new FakeServer();
  server.openapi.set("apis/apps/v1", {
    hash: "AAA",
    doc: { openapi: "3.0.0", components: { schemas: { a: {} } } },
  });
  server.openapi.set("api/v1", {
    hash: "BBB",
    doc: { openapi: "3.0.0", components: { schemas: { b: {} } } },
  });
  const cache = new DiskCache({ dir: freshDir() });
  const d = new Discovery(server.rest(), { diskCache: cache });
  assert.deepEqual([...(await d.openapi.paths()).keys()].sort(), ["api/v1", "apis/apps/v1"]);
  const doc = await d.openapi.document("apis/apps/v1");
  assert.deepEqual(Object.keys(doc.components?.schemas ?? {}), ["a"]);
  await d.openapi.document("/openapi/v3/apis/apps/v1");
  d.invalidate();
  await d.openapi.document("apis/apps/v1");
  const docPaths = () => server.paths().filter((p) => p.startsWith("/openapi/v3/"));
  assert.deepEqual(docPaths(), ["/openapi/v3/apis/apps/v1?hash=AAA"]);
  assert.equal(d.openapi.downloads, 1);

  // Another Discovery with the same disk cache reads the document from disk.
  const again = new Discovery(server.rest(), { diskCache: cache });
  await again.openapi.document("apis/apps/v1");
  assert.equal(again.openapi.downloads, 0);

  // The document changes. An object that read the index before finds its hash gone (the server
  // redirects), reads the index again and fetches the new document.
  const third = new Discovery(server.rest());
  await third.openapi.paths();
  server.openapi.set("apis/apps/v1", {
    hash: "CCC",
    doc: { openapi: "3.0.0", components: { schemas: { c: {} } } },
  });
  const changed = await third.openapi.document("apis/apps/v1");
  assert.deepEqual(Object.keys(changed.components?.schemas ?? {}), ["c"]);
  assert.deepEqual(docPaths().slice(1), [
    "/openapi/v3/apis/apps/v1?hash=AAA",
    "/openapi/v3/apis/apps/v1?hash=CCC",
  ]);
  // One that holds the old document serves it until invalidated, then fetches the new one.
  assert.deepEqual(
    Object.keys((await d.openapi.document("apis/apps/v1")).components?.schemas ?? {}),
    ["a"],
  );
  d.invalidate();
  assert.deepEqual(
    Object.keys((await d.openapi.document("apis/apps/v1")).components?.schemas ?? {}),
    ["c"],
  );
  await assert.rejects(d.openapi.document("apis/nope/v1"), NoMatchError);
});

test("the deferred mapper refreshes discovery on a miss, once, and finds what appeared since", async () => {
  const server = new FakeServer();
  const clock = new ManualClock(1_000_000);
  const d = new Discovery(server.rest(), { clock });
  const mapper = new DeferredRestMapper(d, { minRefreshIntervalMs: 1000, clock });
  assert.equal((await mapper.resolve("deploy")).plural, "deployments");
  assert.equal(server.log.length, 2);
  await clock.advance(10);

  // The lookup misses in data older than itself: a refresh is due, but not before the interval.
  const lookup = mapper.resolve("widgets");
  const concurrent = [
    mapper.resolve("wd"),
    mapper.restMapping({ group: "example.com", kind: "Widget" }),
  ];
  await clock.advance(0);
  assert.equal(mapper.refreshes, 1);
  // The CRD appears before the refresh runs.
  server.groups.push({
    name: "example.com",
    versions: [
      {
        version: "v1",
        resources: [{ name: "widgets", kind: "Widget", namespaced: true, short: ["wd"] }],
      },
    ],
  });
  await clock.advance(500);
  assert.equal(server.log.length, 2);
  await clock.advance(500);
  assert.equal((await lookup).kind, "Widget");
  for (const r of await Promise.all(concurrent)) assert.equal(r.plural, "widgets");
  assert.equal(mapper.refreshes, 1);
  assert.equal(server.log.length, 4);

  // A typo: one refresh per interval, however often it is asked, and misses wait for it.
  await clock.advance(10);
  const typo1 = assert.rejects(mapper.resolve("nothings"), NoMatchError);
  await clock.advance(1000);
  await typo1;
  assert.equal(mapper.refreshes, 2);
  assert.equal(server.log.length, 6);
  await clock.advance(10);
  const typo2 = assert.rejects(mapper.resolve("nothings"), NoMatchError);
  const typo3 = assert.rejects(mapper.kindFor({ resource: "nothings" }), NoMatchError);
  await clock.advance(400);
  assert.equal(mapper.refreshes, 3);
  assert.equal(server.log.length, 6);
  // Lookups that hit are answered at once, from the data in memory.
  assert.equal((await mapper.kindFor({ resource: "po" })).kind, "Pod");
  await clock.advance(600);
  await typo2;
  await typo3;
  assert.equal(server.log.length, 8);
  assert.equal(mapper.refreshes, 3);
});

test("a miss in data fetched after the lookup began is final", async () => {
  const server = new FakeServer();
  const clock = new ManualClock(1_000_000);
  const mapper = new DeferredRestMapper(new Discovery(server.rest(), { clock }), { clock });
  await assert.rejects(mapper.resolve("widgets"), NoMatchError);
  assert.equal(mapper.refreshes, 0);
  assert.equal(server.log.length, 2);
});

test("the deferred mapper refreshes at once when its data came from the disk cache", async () => {
  const dir = freshDir();
  const server = new FakeServer();
  await new Discovery(server.rest(), { diskCache: new DiskCache({ dir }) }).snapshot();
  server.groups.push({
    name: "example.com",
    versions: [
      { version: "v1", resources: [{ name: "widgets", kind: "Widget", namespaced: true }] },
    ],
  });
  const d = new Discovery(server.rest(), { diskCache: new DiskCache({ dir }) });
  const mapper = new DeferredRestMapper(d, { minRefreshIntervalMs: 60_000 });
  const started = Date.now();
  assert.equal((await mapper.resourceFor({ resource: "widgets" })).group, "example.com");
  assert.ok(Date.now() - started < 5_000);
  assert.equal(mapper.refreshes, 1);
});
