import assert from "node:assert/strict";
import { test } from "node:test";
import { StaleGroupVersionError } from "./errors.ts";
import {
  discoveryFormat,
  fromAggregated,
  groupFromVersions,
  groupsFromList,
  preferredResources,
  resourceFromJson,
  resourcesFromList,
} from "./parse.ts";

test("discoveryFormat tells aggregated from legacy by the Content-Type parameters", () => {
  const agg = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
  assert.equal(discoveryFormat(agg), "aggregated");
  assert.equal(
    discoveryFormat("application/json; as=APIGroupDiscoveryList; V=v2beta1; g=apidiscovery.k8s.io"),
    "aggregated",
  );
  assert.equal(discoveryFormat("application/json"), "legacy");
  assert.equal(discoveryFormat("Application/JSON; charset=utf-8"), "legacy");
  assert.equal(
    discoveryFormat("application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList"),
    undefined,
  );
  assert.equal(discoveryFormat("application/json;as=Table;g=meta.k8s.io;v=v1"), undefined);
  assert.equal(discoveryFormat("text/html"), undefined);
  assert.equal(discoveryFormat(undefined), undefined);
});

test("legacy resource lists fold subresources into their parent with full response kinds", () => {
  const rs = resourcesFromList("apps", "v1", {
    resources: [
      {
        name: "deployments",
        singularName: "deployment",
        namespaced: true,
        kind: "Deployment",
        verbs: ["get", "list"],
        shortNames: ["deploy"],
        categories: ["all"],
      },
      {
        name: "deployments/scale",
        singularName: "",
        namespaced: true,
        group: "autoscaling",
        version: "v1",
        kind: "Scale",
        verbs: ["get", "patch", "update"],
      },
      {
        name: "deployments/status",
        singularName: "",
        namespaced: true,
        kind: "Deployment",
        verbs: ["get"],
      },
      {
        name: "orphans/status",
        singularName: "",
        namespaced: true,
        kind: "Orphan",
        verbs: ["get"],
      },
      { name: "nokind", singularName: "", namespaced: false, kind: "", verbs: [] },
      { name: "..", singularName: "", namespaced: false, kind: "Bad", verbs: [] },
    ],
  });
  assert.equal(rs.length, 1);
  const d = rs[0]!;
  assert.deepEqual(
    { ...d },
    {
      group: "apps",
      version: "v1",
      kind: "Deployment",
      plural: "deployments",
      namespaced: true,
      singular: "deployment",
      shortNames: ["deploy"],
      categories: ["all"],
      verbs: ["get", "list"],
      subresources: [
        {
          name: "scale",
          responseKind: { group: "autoscaling", version: "v1", kind: "Scale" },
          verbs: ["get", "patch", "update"],
        },
        {
          name: "status",
          responseKind: { group: "apps", version: "v1", kind: "Deployment" },
          verbs: ["get"],
        },
      ],
    },
  );
  assert.ok(Object.isFrozen(d));
});

test("a missing singular name falls back to the lower-case kind", () => {
  const [r] = resourcesFromList("", "v1", {
    resources: [{ name: "things", singularName: "", namespaced: false, kind: "Thing", verbs: [] }],
  });
  assert.equal(r?.singular, "thing");
});

test("aggregated discovery: first version preferred, Stale versions failed, empty kinds mean the containing version", () => {
  const parsed = fromAggregated({
    kind: "APIGroupDiscoveryList",
    items: [
      {
        metadata: { name: "example.com" },
        versions: [
          {
            version: "v2",
            freshness: "Current",
            resources: [
              {
                resource: "widgets",
                responseKind: { group: "", version: "", kind: "Widget" },
                scope: "Namespaced",
                singularResource: "widget",
                verbs: ["get"],
                shortNames: ["wd"],
                subresources: [
                  {
                    subresource: "status",
                    responseKind: { group: "", version: "", kind: "Widget" },
                    verbs: ["get"],
                  },
                  {
                    subresource: "scale",
                    responseKind: { group: "autoscaling", version: "v1", kind: "Scale" },
                    verbs: ["get"],
                  },
                  { subresource: "exec", verbs: ["create"] },
                ],
              },
              { resource: "kindless", scope: "Cluster", verbs: [] },
            ],
          },
          { version: "v1", freshness: "Stale" },
        ],
      },
    ],
  });
  assert.deepEqual(parsed.groups, [
    { name: "example.com", versions: ["v2", "v1"], preferredVersion: "v2" },
  ]);
  assert.deepEqual([...parsed.resources.keys()], ["example.com/v2"]);
  const w = parsed.resources.get("example.com/v2")![0]!;
  assert.equal(w.kind, "Widget");
  assert.equal(w.namespaced, true);
  assert.deepEqual(w.subresources, [
    {
      name: "status",
      responseKind: { group: "example.com", version: "v2", kind: "Widget" },
      verbs: ["get"],
    },
    {
      name: "scale",
      responseKind: { group: "autoscaling", version: "v1", kind: "Scale" },
      verbs: ["get"],
    },
    { name: "exec", verbs: ["create"] },
  ]);
  assert.equal(parsed.failed.size, 1);
  assert.ok(parsed.failed.get("example.com/v1") instanceof StaleGroupVersionError);
});

test("legacy group lists: the core group from /api, preferred versions from /apis", () => {
  assert.deepEqual(groupFromVersions({ versions: ["v1"] }), {
    name: "",
    versions: ["v1"],
    preferredVersion: "v1",
  });
  assert.equal(groupFromVersions({ versions: [] }), undefined);
  assert.deepEqual(
    groupsFromList({
      groups: [
        {
          name: "autoscaling",
          versions: [
            { groupVersion: "autoscaling/v1", version: "v1" },
            { groupVersion: "autoscaling/v2", version: "v2" },
          ],
          preferredVersion: { groupVersion: "autoscaling/v2", version: "v2" },
        },
        { name: "empty", versions: [] },
      ],
    }),
    [{ name: "autoscaling", versions: ["v1", "v2"], preferredVersion: "v2" }],
  );
});

test("preferred resources: the preferred version wins, other versions fill in what it lacks", () => {
  const mk = (group: string, version: string, ...names: string[]) =>
    resourcesFromList(group, version, {
      resources: names.map((n) => ({
        name: n,
        singularName: "",
        namespaced: true,
        kind: n.toUpperCase(),
        verbs: [],
      })),
    });
  const groups = [{ name: "g", versions: ["v1", "v2", "v3"], preferredVersion: "v2" }];
  const resources = new Map([
    ["g/v1", mk("g", "v1", "a", "b", "c")],
    ["g/v2", mk("g", "v2", "a")],
    ["g/v3", mk("g", "v3", "b", "d")],
  ]);
  assert.deepEqual(
    preferredResources(groups, resources).map((r) => `${r.plural}@${r.version}`),
    ["a@v2", "b@v1", "c@v1", "d@v3"],
  );
});

test("a descriptor survives a JSON round trip; junk does not pass", () => {
  const [d] = resourcesFromList("apps", "v1", {
    resources: [
      {
        name: "deployments",
        singularName: "deployment",
        namespaced: true,
        kind: "Deployment",
        verbs: ["get"],
      },
      {
        name: "deployments/scale",
        singularName: "",
        namespaced: true,
        group: "autoscaling",
        version: "v1",
        kind: "Scale",
        verbs: ["get"],
      },
    ],
  });
  assert.deepEqual(resourceFromJson(JSON.parse(JSON.stringify(d))), d);
  assert.equal(resourceFromJson({ group: "apps" }), undefined);
  assert.equal(resourceFromJson(null), undefined);
});
