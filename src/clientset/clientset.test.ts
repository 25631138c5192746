/**
 * The generated Clientset at run time: every method is `client.api(Descriptor)` (narrowed to the
 * namespace given), it reaches every descriptor src/api/ exports once, and the root `kubekit`
 * export does not load it. Nothing here talks to a server; test/integration/typed-client.test.ts
 * uses it against one.
 */
import assert from "node:assert/strict";
import { globSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { Namespace, Pod } from "../api/core/v1/index.ts";
import { Api, Client } from "../client/index.ts";
import { RestConfig } from "../config/rest-config.ts";
import type { ResourceType } from "../core/resource.ts";
import { Clientset } from "./index.ts";

const SRC = resolve(import.meta.dirname, "..");

function newClientset(): Clientset {
  return new Clientset(new Client(new RestConfig({ server: "https://example.invalid" })));
}

/** Every `[property, method, groupClient]` of a Clientset, from the classes themselves. */
function methodsOf(cs: Clientset): [string, string, object][] {
  const out: [string, string, object][] = [];
  for (const [property, groupClient] of Object.entries(cs)) {
    if (property === "client") continue;
    const proto = Object.getPrototypeOf(groupClient) as object;
    for (const method of Object.getOwnPropertyNames(proto)) {
      if (method !== "constructor") out.push([property, method, groupClient as object]);
    }
  }
  return out;
}

test("a method is client.api(descriptor), in the namespace given", () => {
  const cs = newClientset();
  const pods = cs.coreV1.pods("web");
  assert.ok(pods instanceof Api);
  assert.equal(pods.resource, Pod);
  assert.equal(pods.ns, "web");
  const everywhere = cs.coreV1.pods();
  assert.equal(everywhere.resource, Pod);
  assert.equal(everywhere.ns, undefined);
  assert.deepEqual(
    [everywhere.resource, everywhere.ns],
    [cs.client.api(Pod).resource, cs.client.api(Pod).ns],
  );
  const namespaces = cs.coreV1.namespaces();
  assert.equal(namespaces.resource, Namespace);
  assert.equal(namespaces.ns, undefined);
  // The Api shares the Clientset's client: same RestClient, no second connection pool.
  assert.equal(pods.rest, cs.client.rest);
  // Group clients are made once.
  assert.equal(cs.coreV1, cs.coreV1);
});

test("every descriptor under src/api is reached by exactly one method, named as client-go does", async () => {
  const descriptors = new Map<ResourceType, string>();
  for (const rel of globSync("api/**/index.ts", { cwd: SRC })) {
    const mod = (await import(join(SRC, rel))) as Record<string, unknown>;
    for (const [name, value] of Object.entries(mod)) {
      descriptors.set(value as ResourceType, `${dirname(rel)}.${name}`);
    }
  }
  assert.ok(descriptors.size > 90, `${descriptors.size} descriptors`);

  const cs = newClientset();
  const reached = new Map<ResourceType, string>();
  for (const [property, method, groupClient] of methodsOf(cs)) {
    const call = (groupClient as Record<string, (ns?: string) => Api>)[method]!;
    const api = call.call(groupClient, "ns-1");
    const where = `${property}.${method}`;
    const r = api.resource as ResourceType;
    assert.ok(descriptors.has(r), `${where} returns an Api of a generated descriptor`);
    assert.equal(reached.get(r), undefined, `${where}: ${descriptors.get(r)} reached twice`);
    reached.set(r, where);
    // Named after the group (first DNS label) and version, and the kind's plural.
    const group = r.group === "" ? "core" : r.group.split(".")[0]!;
    assert.equal(property.toLowerCase(), `${group}${r.version}`.toLowerCase(), where);
    assert.equal(method.toLowerCase(), r.plural, where);
    // Namespaced kinds take the namespace; cluster-scoped ones take none.
    assert.equal(api.ns, r.namespaced ? "ns-1" : undefined, where);
    assert.equal(call.length, r.namespaced ? 1 : 0, `${where} parameters`);
  }
  const missing = [...descriptors].filter(([r]) => !reached.has(r)).map(([, n]) => n);
  assert.deepEqual(missing, []);
});

/** Relative `.ts` files `file` imports at run time (type-only imports are erased). */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs = [
    ...text.matchAll(/^(?:import|export)\s+(?!type\s)[^;]*?from\s*"(\.[^"]+)"/gms),
    ...text.matchAll(/import\(\s*"(\.[^"]+)"\s*\)/g),
  ].map((m) => m[1]!);
  return specs.map((s) => resolve(dirname(file), s));
}

test("the root kubekit export does not load the clientset", () => {
  const seen = new Set<string>();
  const queue = [join(SRC, "index.ts")];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    queue.push(...runtimeImports(file));
  }
  assert.ok(seen.has(join(SRC, "client/client.ts")), "the walk follows the root's imports");
  const loaded = [...seen].map((f) => relative(SRC, f));
  assert.deepEqual(
    loaded.filter((f) => f.startsWith("clientset/")),
    [],
  );
});
