/**
 * Strategic merge patches: the tricky cases spelled out (containers by name, ports, $retainKeys on
 * volumes, deletions, primitive merge lists, $setElementOrder, maps, nulls, three-way patches and
 * their conflicts), then a corpus of cases answered by apimachinery v0.37.2 itself
 * (test/fixtures/apply/strategic-corpus.json), which the patches and the merged results must match.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Deployment } from "../api/apps/v1/index.ts";
import { PatchConflictError, PatchError } from "./errors.ts";
import { jsonEqual } from "./json.ts";
import { PatchMeta } from "./patchmeta.ts";
import {
  applyStrategicMergePatch,
  createThreeWayMergePatch,
  createTwoWayMergePatch,
  mergingMapsHaveConflicts,
} from "./strategic.ts";

type Obj = Record<string, unknown>;

const podSpec = (spec: Obj): Obj => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "d" },
  spec: { template: { spec } },
});
const patchOfPodSpec = (spec: Obj): Obj => ({ spec: { template: { spec } } });

/** The two-way patch, checked to turn original into modified. */
function twoWay(original: Obj, modified: Obj): Obj {
  const patch = createTwoWayMergePatch(original, modified, Deployment) as Obj;
  assert.deepEqual(applyStrategicMergePatch(original, patch, Deployment), modified);
  return patch;
}

describe("two-way patches", () => {
  test("containers merge by name: an added container is sent alone, with the order", () => {
    const patch = twoWay(
      podSpec({ containers: [{ name: "a", image: "x" }] }),
      podSpec({
        containers: [
          { name: "a", image: "x" },
          { name: "b", image: "y" },
        ],
      }),
    );
    assert.deepEqual(
      patch,
      patchOfPodSpec({
        "$setElementOrder/containers": [{ name: "a" }, { name: "b" }],
        containers: [{ name: "b", image: "y" }],
      }),
    );
  });

  test("a changed container is sent as its changes and its merge key", () => {
    const patch = twoWay(
      podSpec({
        containers: [
          { name: "a", image: "x", env: [{ name: "A", value: "1" }] },
          { name: "b", image: "y" },
        ],
      }),
      podSpec({
        containers: [
          { name: "a", image: "z", env: [{ name: "A", value: "1" }] },
          { name: "b", image: "y" },
        ],
      }),
    );
    assert.deepEqual(
      patch,
      patchOfPodSpec({
        "$setElementOrder/containers": [{ name: "a" }, { name: "b" }],
        containers: [{ name: "a", image: "z" }],
      }),
    );
  });

  test("a removed container is a $patch: delete item; env changes nest", () => {
    const patch = twoWay(
      podSpec({
        containers: [
          {
            name: "a",
            image: "x",
            env: [
              { name: "A", value: "1" },
              { name: "B", value: "2" },
            ],
          },
          { name: "b", image: "y" },
        ],
      }),
      podSpec({ containers: [{ name: "a", image: "x", env: [{ name: "B", value: "3" }] }] }),
    );
    assert.deepEqual(
      patch,
      patchOfPodSpec({
        "$setElementOrder/containers": [{ name: "a" }],
        containers: [
          {
            name: "a",
            "$setElementOrder/env": [{ name: "B" }],
            env: [
              { name: "B", value: "3" },
              { name: "A", $patch: "delete" },
            ],
          },
          { name: "b", $patch: "delete" },
        ],
      }),
    );
  });

  test("a reordering alone sends only $setElementOrder", () => {
    const a = { name: "a", image: "x" };
    const b = { name: "b", image: "y" };
    const patch = twoWay(podSpec({ containers: [a, b] }), podSpec({ containers: [b, a] }));
    assert.deepEqual(
      patch,
      patchOfPodSpec({ "$setElementOrder/containers": [{ name: "b" }, { name: "a" }] }),
    );
  });

  test("volumes merge by name and carry $retainKeys, so a changed source clears the old one", () => {
    const original = podSpec({
      volumes: [
        { name: "v", emptyDir: {} },
        { name: "w", secret: { secretName: "s" } },
      ],
    });
    const modified = podSpec({
      volumes: [
        { name: "v", configMap: { name: "cm" } },
        { name: "w", secret: { secretName: "s" } },
      ],
    });
    const patch = twoWay(original, modified);
    assert.deepEqual(
      patch,
      patchOfPodSpec({
        "$setElementOrder/volumes": [{ name: "v" }, { name: "w" }],
        volumes: [
          {
            name: "v",
            $retainKeys: ["configMap", "name"],
            configMap: { name: "cm" },
            emptyDir: null,
          },
        ],
      }),
    );
    // Without the null, $retainKeys alone still clears emptyDir when the server applies it.
    const [volume] = (patch as { spec: { template: { spec: { volumes: Obj[] } } } }).spec.template
      .spec.volumes;
    delete volume!.emptyDir;
    assert.deepEqual(applyStrategicMergePatch(original, patch, Deployment), modified);
  });

  test("the retainKeys strategy of a struct (Deployment strategy)", () => {
    const original = {
      spec: { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1 } } },
    };
    const patch = twoWay(original, { spec: { strategy: { type: "Recreate" } } });
    assert.deepEqual(patch, {
      spec: { strategy: { $retainKeys: ["type"], type: "Recreate", rollingUpdate: null } },
    });
  });

  test("finalizers are a primitive merge list: additions, a deletion list, the order", () => {
    const patch = twoWay(
      { metadata: { finalizers: ["a", "b", "c"] } },
      { metadata: { finalizers: ["c", "d", "a"] } },
    );
    assert.deepEqual(patch, {
      metadata: {
        "$setElementOrder/finalizers": ["c", "d", "a"],
        "$deleteFromPrimitiveList/finalizers": ["b"],
        finalizers: ["d"],
      },
    });
  });

  test("lists without a merge strategy are replaced whole (args, tolerations)", () => {
    const patch = twoWay(
      podSpec({ containers: [{ name: "a", args: ["1", "2"] }], tolerations: [{ key: "k" }] }),
      podSpec({ containers: [{ name: "a", args: ["2"] }], tolerations: [{ key: "k" }] }),
    );
    assert.deepEqual(
      patch,
      patchOfPodSpec({
        "$setElementOrder/containers": [{ name: "a" }],
        containers: [{ name: "a", args: ["2"] }],
      }),
    );
  });

  test("maps merge by key; a removed map is null; an atomic map (nodeSelector) still merges", () => {
    assert.deepEqual(
      twoWay(
        {
          metadata: { labels: { a: "1", b: "2" } },
          spec: { template: { spec: { nodeSelector: { x: "1" } } } },
        },
        { metadata: { labels: { b: "3", c: "4" } }, spec: {} },
      ),
      {
        metadata: { labels: { a: null, b: "3", c: "4" } },
        spec: { template: null },
      },
    );
    // x-kubernetes-map-type: atomic is for server-side apply; strategic patches merge maps.
    assert.deepEqual(
      twoWay(podSpec({ nodeSelector: { x: "1", y: "2" } }), podSpec({ nodeSelector: { x: "1" } })),
      patchOfPodSpec({ nodeSelector: { y: null } }),
    );
  });

  test("nulls: a null in modified is sent, a changed type replaces, no change is {}", () => {
    assert.deepEqual(twoWay({ spec: { replicas: 1 } }, { spec: { replicas: 1 } }), {});
    assert.deepEqual(
      createTwoWayMergePatch({ spec: { replicas: 1 } }, { spec: { replicas: null } }, Deployment),
      { spec: { replicas: null } },
    );
    assert.deepEqual(createTwoWayMergePatch({ spec: "x" }, { spec: { a: 1 } }, Deployment), {
      spec: { a: 1 },
    });
    assert.deepEqual(createTwoWayMergePatch(null, { spec: { a: 1 } }, Deployment), {
      spec: { a: 1 },
    });
  });

  test("ports: merged by containerPort alone, so two protocols on one port replace the list", () => {
    const original = podSpec({
      containers: [{ name: "a", ports: [{ containerPort: 53, protocol: "TCP" }] }],
    });
    const modified = podSpec({
      containers: [
        {
          name: "a",
          ports: [
            { containerPort: 53, protocol: "TCP" },
            { containerPort: 53, protocol: "UDP" },
          ],
        },
      ],
    });
    const patch = twoWay(original, modified);
    assert.deepEqual(
      patch,
      patchOfPodSpec({
        "$setElementOrder/containers": [{ name: "a" }],
        containers: [
          {
            name: "a",
            ports: [
              { $patch: "replace" },
              { containerPort: 53, protocol: "TCP" },
              { containerPort: 53, protocol: "UDP" },
            ],
          },
        ],
      }),
    );
    // Distinct ports still merge by containerPort; a protocol change is a change of the item.
    assert.deepEqual(
      twoWay(
        podSpec({ containers: [{ name: "a", ports: [{ containerPort: 80, protocol: "TCP" }] }] }),
        podSpec({
          containers: [
            {
              name: "a",
              ports: [
                { containerPort: 80, protocol: "UDP" },
                { containerPort: 81, protocol: "TCP" },
              ],
            },
          ],
        }),
      ),
      patchOfPodSpec({
        "$setElementOrder/containers": [{ name: "a" }],
        containers: [
          {
            name: "a",
            "$setElementOrder/ports": [{ containerPort: 80 }, { containerPort: 81 }],
            ports: [
              { containerPort: 80, protocol: "UDP" },
              { containerPort: 81, protocol: "TCP" },
            ],
          },
        ],
      }),
    );
  });

  test("the replace strategy sends the whole object (PodDisruptionBudget selector)", () => {
    const pdb = { apiVersion: "policy/v1", kind: "PodDisruptionBudget" };
    const patch = createTwoWayMergePatch(
      { spec: { selector: { matchLabels: { a: "1" } }, minAvailable: 1 } },
      { spec: { selector: { matchLabels: { a: "1" } }, minAvailable: 2 } },
      pdb,
    );
    assert.deepEqual(patch, { spec: { selector: { matchLabels: { a: "1" } }, minAvailable: 2 } });
  });

  test("errors: a merge list item without its key, lists of lists, an unknown kind", () => {
    assert.throws(
      () =>
        createTwoWayMergePatch(
          podSpec({ containers: [{ name: "a" }] }),
          podSpec({ containers: [{ image: "x" }] }),
          Deployment,
        ),
      (e: unknown) => e instanceof PatchError && /merge key: name/.test(e.message),
    );
    assert.throws(
      () =>
        createTwoWayMergePatch(
          { metadata: { finalizers: [["a"]] } },
          { metadata: { finalizers: [["b"]] } },
          Deployment,
        ),
      /lists of lists/,
    );
    assert.throws(
      () => createTwoWayMergePatch({}, {}, { apiVersion: "example.com/v1", kind: "Widget" }),
      (e: unknown) => e instanceof PatchError && /PatchMeta.fromServer/.test(e.message),
    );
  });

  test("the inputs are not changed", () => {
    const original = { metadata: { finalizers: ["b", "a"] }, spec: { replicas: 1 } };
    const modified = { metadata: { finalizers: ["a"] }, spec: { replicas: 2 } };
    const copy = structuredClone({ original, modified });
    const patch = createTwoWayMergePatch(original, modified, Deployment);
    applyStrategicMergePatch(original, patch, Deployment);
    assert.deepEqual({ original, modified }, copy);
  });
});

describe("applying patches (the server's merge)", () => {
  const meta = PatchMeta.builtin(Deployment)!;

  test("$patch: replace on a list and on a map, $patch: delete on a map", () => {
    const original = podSpec({ containers: [{ name: "a" }, { name: "b" }] });
    assert.deepEqual(
      applyStrategicMergePatch(
        original,
        patchOfPodSpec({ containers: [{ name: "c" }, { $patch: "replace" }] }),
        meta,
      ),
      podSpec({ containers: [{ name: "c" }] }),
    );
    assert.deepEqual(
      applyStrategicMergePatch(
        { spec: { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1 } } } },
        { spec: { strategy: { $patch: "replace", type: "Recreate" } } },
        meta,
      ),
      { spec: { strategy: { type: "Recreate" } } },
    );
    assert.deepEqual(
      applyStrategicMergePatch(
        { spec: { strategy: { type: "Recreate" } } },
        { spec: { strategy: { $patch: "delete" } } },
        meta,
      ),
      { spec: { strategy: {} } },
    );
  });

  test("$setElementOrder orders the patch's items; server-only items go by the live order", () => {
    const result = applyStrategicMergePatch(
      podSpec({ containers: [{ name: "a" }, { name: "b" }, { name: "s" }, { name: "c" }] }),
      patchOfPodSpec({
        "$setElementOrder/containers": [{ name: "c" }, { name: "a" }],
        containers: [
          { name: "c", image: "n" },
          { name: "b", $patch: "delete" },
        ],
      }),
      meta,
    );
    // apimachinery's answer: "s" comes first, because the live order it compares against is the
    // list after deleting "b" in place ([a, s, c, c]), where "s" precedes "c".
    assert.deepEqual(
      result,
      podSpec({ containers: [{ name: "s" }, { name: "c", image: "n" }, { name: "a" }] }),
    );
  });

  test("$retainKeys must list every field the patch sets", () => {
    assert.throws(
      () =>
        applyStrategicMergePatch(
          { spec: { strategy: { type: "RollingUpdate" } } },
          { spec: { strategy: { $retainKeys: ["type"], rollingUpdate: { maxSurge: 1 } } } },
          meta,
        ),
      PatchError,
    );
  });

  test("the server folds two ports with one containerPort into one (kubernetes#108255)", () => {
    const result = applyStrategicMergePatch(
      podSpec({ containers: [{ name: "a", ports: [{ containerPort: 53, protocol: "TCP" }] }] }),
      patchOfPodSpec({
        containers: [
          {
            name: "a",
            ports: [
              { containerPort: 53, protocol: "UDP" },
              { containerPort: 53, protocol: "TCP" },
            ],
          },
        ],
      }),
      meta,
    );
    assert.deepEqual(
      result,
      podSpec({ containers: [{ name: "a", ports: [{ containerPort: 53, protocol: "TCP" }] }] }),
    );
  });
});

describe("three-way patches", () => {
  test("keeps what others added, applies the new desired state, deletes what I removed", () => {
    const original = podSpec({
      containers: [
        { name: "a", image: "x" },
        { name: "gone", image: "g" },
      ],
    });
    const current = podSpec({
      containers: [
        { name: "a", image: "x", imagePullPolicy: "Always" },
        { name: "gone", image: "g" },
        { name: "sidecar", image: "s" },
      ],
    });
    const modified = podSpec({ containers: [{ name: "a", image: "y" }] });
    const patch = createThreeWayMergePatch(original, modified, current, Deployment, {
      overwrite: true,
    });
    const result = applyStrategicMergePatch(current, patch, Deployment);
    assert.deepEqual(
      result,
      podSpec({
        containers: [
          { name: "a", image: "y", imagePullPolicy: "Always" },
          { name: "sidecar", image: "s" },
        ],
      }),
    );
  });

  test("without overwrite, a field changed differently by someone else is a conflict", () => {
    const dep = (replicas: number) => ({ spec: { replicas } });
    assert.throws(
      () => createThreeWayMergePatch(dep(1), dep(3), dep(2), Deployment),
      (e: unknown) =>
        e instanceof PatchConflictError &&
        jsonEqual(e.patch, { spec: { replicas: 3 } }) &&
        jsonEqual(e.changed, { spec: { replicas: 2 } }),
    );
    // The same change on both sides is no conflict; overwrite ignores conflicts.
    assert.deepEqual(createThreeWayMergePatch(dep(1), dep(3), dep(3), Deployment), {});
    assert.deepEqual(
      createThreeWayMergePatch(dep(1), dep(3), dep(2), Deployment, { overwrite: true }),
      { spec: { replicas: 3 } },
    );
  });

  test("a list with a replace item stays replaced when merged with deletions", () => {
    const ports = (...p: [number, string][]) =>
      podSpec({
        containers: [
          { name: "a", ports: p.map(([containerPort, protocol]) => ({ containerPort, protocol })) },
        ],
      });
    const original = ports([53, "TCP"], [80, "TCP"]);
    const current = ports([53, "TCP"], [53, "UDP"], [80, "TCP"]);
    const modified = ports([53, "TCP"], [53, "UDP"]);
    const patch = createThreeWayMergePatch(original, modified, current, Deployment, {
      overwrite: true,
    });
    assert.deepEqual(applyStrategicMergePatch(current, patch, Deployment), modified);
    assert.equal(mergingMapsHaveConflicts(patch as Obj, patch as Obj, Deployment), false);
  });
});

interface CorpusCase {
  name: string;
  kind: string;
  original: unknown;
  modified?: unknown;
  current?: unknown;
  overwrite?: boolean;
  patch?: unknown;
  want: { patch?: unknown; result?: unknown; error?: string; applyError?: string };
}

const apiVersions: Record<string, string> = {
  Deployment: "apps/v1",
  Pod: "v1",
  Service: "v1",
  Node: "v1",
  ConfigMap: "v1",
  PodDisruptionBudget: "policy/v1",
};

test("apimachinery's own answers (test/fixtures/apply/strategic-corpus.json)", () => {
  const path = join(import.meta.dirname, "../../test/fixtures/apply/strategic-corpus.json");
  const { cases } = JSON.parse(readFileSync(path, "utf8")) as { cases: CorpusCase[] };
  assert.ok(cases.length > 150, `${cases.length} cases`);
  const failures: string[] = [];
  for (const c of cases) {
    const schema = { apiVersion: apiVersions[c.kind]!, kind: c.kind };
    const got: { patch?: unknown; result?: unknown; error?: string; applyError?: string } = {};
    try {
      if (c.patch !== undefined) {
        got.result = applyStrategicMergePatch(c.original, c.patch as Obj, schema);
      } else if (c.current !== undefined) {
        got.patch = createThreeWayMergePatch(c.original, c.modified, c.current, schema, {
          overwrite: c.overwrite === true,
        });
        got.result = applyStrategicMergePatch(c.current, got.patch as Obj, schema);
      } else {
        got.patch = createTwoWayMergePatch(c.original, c.modified, schema);
        got.result = applyStrategicMergePatch(c.original, got.patch as Obj, schema);
      }
    } catch (err) {
      if (got.patch === undefined && c.patch === undefined) got.error = String(err);
      else got.applyError = String(err);
    }
    const ok =
      (c.want.error === undefined) === (got.error === undefined) &&
      (c.want.applyError === undefined) === (got.applyError === undefined) &&
      (c.want.patch === undefined || jsonEqual(c.want.patch, got.patch)) &&
      (c.want.result === undefined || jsonEqual(c.want.result, got.result));
    if (!ok) {
      failures.push(`${c.name}\n  want ${JSON.stringify(c.want)}\n  got  ${JSON.stringify(got)}`);
    }
  }
  assert.deepEqual(failures, []);
});
