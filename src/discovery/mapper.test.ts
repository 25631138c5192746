import assert from "node:assert/strict";
import { test } from "node:test";
import { AmbiguousResourceError, NoMatchError } from "./errors.ts";
import { parseKindArg, parseResourceArg, RestMapper } from "./mapper.ts";
import { type APIResourceDiscovery, fromAggregated } from "./parse.ts";

/** name:Kind[:short,short][:cat,cat], namespaced unless the kind starts with "!". */
function r(spec: string): APIResourceDiscovery {
  const [name, kind, shorts, cats] = spec.split(":");
  const cluster = kind!.startsWith("!");
  return {
    resource: name!,
    responseKind: { group: "", version: "", kind: cluster ? kind!.slice(1) : kind! },
    scope: cluster ? "Cluster" : "Namespaced",
    singularResource: kind!.replace("!", "").toLowerCase(),
    verbs: ["get", "list"],
    ...(shorts ? { shortNames: shorts.split(",") } : {}),
    ...(cats ? { categories: cats.split(",") } : {}),
  };
}

const source = fromAggregated({
  items: [
    {
      metadata: {},
      versions: [
        {
          version: "v1",
          resources: [
            r("pods:Pod:po:all"),
            r("events:Event:ev"),
            r("configmaps:ConfigMap:cm"),
            r("namespaces:!Namespace:ns"),
            r("services:Service:svc:all"),
          ],
        },
      ],
    },
    {
      metadata: { name: "apps" },
      versions: [{ version: "v1", resources: [r("deployments:Deployment:deploy:all")] }],
    },
    {
      metadata: { name: "events.k8s.io" },
      versions: [{ version: "v1", resources: [r("events:Event")] }],
    },
    {
      metadata: { name: "autoscaling" },
      versions: [
        {
          version: "v2",
          resources: [r("horizontalpodautoscalers:HorizontalPodAutoscaler:hpa:all")],
        },
        {
          version: "v1",
          resources: [r("horizontalpodautoscalers:HorizontalPodAutoscaler:hpa:all")],
        },
      ],
    },
    {
      metadata: { name: "apiextensions.k8s.io" },
      versions: [
        {
          version: "v1",
          resources: [
            r("customresourcedefinitions:!CustomResourceDefinition:crd,crds:api-extensions"),
          ],
        },
      ],
    },
    {
      metadata: { name: "example.com" },
      versions: [
        { version: "v1", resources: [r("widgets:Widget:wd"), r("gadgets:Gadget:po")] },
        { version: "v1alpha1", resources: [r("widgets:Widget:wd"), r("oldies:Oldie")] },
      ],
    },
    {
      metadata: { name: "other.example.com" },
      versions: [{ version: "v1", resources: [r("widgets:Widget")] }],
    },
    {
      metadata: { name: "twins.example.com" },
      versions: [{ version: "v1", resources: [r("twins:Twin"), r("twinsets:Twin")] }],
    },
  ],
});
const m = new RestMapper(source);
const id = (x: { group: string; version: string; plural: string }) =>
  `${x.plural}.${x.version}${x.group ? `.${x.group}` : ""}`;

test("parseResourceArg and parseKindArg read kubectl arguments as apimachinery does", () => {
  assert.deepEqual(parseResourceArg("pods"), { gr: { group: "", resource: "pods" } });
  assert.deepEqual(parseResourceArg("deploy.apps"), { gr: { group: "apps", resource: "deploy" } });
  assert.deepEqual(parseResourceArg("deployments.v1.apps"), {
    gvr: { group: "apps", version: "v1", resource: "deployments" },
    gr: { group: "v1.apps", resource: "deployments" },
  });
  assert.deepEqual(parseResourceArg("widgets.v1.example.com").gvr, {
    group: "example.com",
    version: "v1",
    resource: "widgets",
  });
  assert.deepEqual(parseKindArg("Deployment.v1.apps"), {
    gvk: { group: "apps", version: "v1", kind: "Deployment" },
    gk: { group: "v1.apps", kind: "Deployment" },
  });
});

test("kubectl-style arguments resolve to the resource kubectl would pick", () => {
  const cases: Record<string, string> = {
    pods: "pods.v1",
    pod: "pods.v1",
    po: "pods.v1",
    Pods: "pods.v1",
    Pod: "pods.v1",
    deploy: "deployments.v1.apps",
    "deploy.apps": "deployments.v1.apps",
    "deployments.apps": "deployments.v1.apps",
    "deployments.v1.apps": "deployments.v1.apps",
    "Deployment.v1.apps": "deployments.v1.apps",
    events: "events.v1",
    "events.events.k8s.io": "events.v1.events.k8s.io",
    ev: "events.v1",
    hpa: "horizontalpodautoscalers.v2.autoscaling",
    "hpa.autoscal": "horizontalpodautoscalers.v2.autoscaling",
    "horizontalpodautoscalers.v1.autoscaling": "horizontalpodautoscalers.v1.autoscaling",
    crd: "customresourcedefinitions.v1.apiextensions.k8s.io",
    crds: "customresourcedefinitions.v1.apiextensions.k8s.io",
    widgets: "widgets.v1.example.com",
    "widgets.example.com": "widgets.v1.example.com",
    "widgets.other.example.com": "widgets.v1.other.example.com",
    "widgets.v1alpha1.example.com": "widgets.v1alpha1.example.com",
    oldies: "oldies.v1alpha1.example.com",
    ns: "namespaces.v1",
  };
  for (const [arg, want] of Object.entries(cases)) {
    assert.equal(id(m.resolve(arg)), want, arg);
  }
});

test("an exact resource name wins over someone else's short name", () => {
  // gadgets.example.com has the short name "po", but "pods" and "po" of the core group come first
  // in priority, and "gadgets" itself is a plural.
  assert.equal(id(m.resolve("po")), "pods.v1");
  assert.equal(id(m.resolve("po.example.com")), "gadgets.v1.example.com");
  assert.equal(id(m.resolve("gadgets")), "gadgets.v1.example.com");
});

test("unknown names and versions are NoMatchErrors naming the argument", () => {
  assert.throws(
    () => m.resolve("nothings"),
    (e) => e instanceof NoMatchError && /"nothings"/.test(e.message),
  );
  assert.throws(() => m.resolve("deployments.v2.apps"), NoMatchError);
  assert.throws(() => m.resourceFor({ resource: "pods", version: "v2" }), NoMatchError);
  assert.throws(() => m.restMapping({ group: "apps", kind: "Deployment" }, ["v9"]), NoMatchError);
});

test("two resources of one group version with the same singular are ambiguous", () => {
  assert.throws(
    () => m.resourceFor({ resource: "twin" }),
    (e) => e instanceof AmbiguousResourceError && e.matches.length === 2,
  );
  assert.equal(id(m.resourceFor({ resource: "twins" })), "twins.v1.twins.example.com");
});

test("resourcesFor lists every match, most preferred first", () => {
  assert.deepEqual(m.resourcesFor({ resource: "events" }).map(id), [
    "events.v1",
    "events.v1.events.k8s.io",
  ]);
  assert.deepEqual(m.resourcesFor({ resource: "widgets" }).map(id), [
    "widgets.v1.example.com",
    "widgets.v1alpha1.example.com",
    "widgets.v1.other.example.com",
  ]);
  assert.deepEqual(m.kindFor({ resource: "hpa" }), {
    group: "autoscaling",
    version: "v2",
    kind: "HorizontalPodAutoscaler",
  });
});

test("restMapping: preferred version by default, the first listed version that has the kind otherwise", () => {
  assert.equal(
    id(m.restMapping({ group: "autoscaling", kind: "HorizontalPodAutoscaler" })),
    "horizontalpodautoscalers.v2.autoscaling",
  );
  assert.equal(
    id(m.restMapping({ group: "autoscaling", kind: "HorizontalPodAutoscaler" }, ["v9", "v1"])),
    "horizontalpodautoscalers.v1.autoscaling",
  );
  assert.equal(id(m.restMapping({ group: "", kind: "pod" })), "pods.v1");
  assert.throws(() => m.restMapping({ group: "", kind: "Deployment" }), NoMatchError);
  assert.equal(m.restMappings({ group: "example.com", kind: "Widget" }).length, 2);
});

test("categories expand to each resource once, at its preferred version", () => {
  assert.deepEqual(m.expandCategory("all").map(id), [
    "pods.v1",
    "services.v1",
    "deployments.v1.apps",
    "horizontalpodautoscalers.v2.autoscaling",
  ]);
  assert.deepEqual(m.expandCategory("api-extensions").map(id), [
    "customresourcedefinitions.v1.apiextensions.k8s.io",
  ]);
  assert.deepEqual(m.expandCategory("nope"), []);
});

test("the core group's v1 comes first even when a source lists it later", () => {
  const later = new RestMapper({
    groups: [
      ...source.groups.filter((g) => g.name !== ""),
      ...source.groups.filter((g) => g.name === ""),
    ],
    resources: source.resources,
  });
  assert.equal(id(later.resolve("events")), "events.v1");
  assert.equal(later.rankOf({ group: "", version: "v1" }), 0);
});
