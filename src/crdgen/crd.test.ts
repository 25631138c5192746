/**
 * What kube-apiserver makes of a CRD, offline: the served versions, the definitions it publishes
 * (checked against the real server by test/integration/crdgen.test.ts), the discovery facts of
 * the descriptor, the deprecation warnings, and the errors for CRDs the server would not serve.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { CustomResourceDefinition } from "../api/apiextensions/v1/index.ts";
import {
  CrdError,
  compareKubeAwareVersions,
  definitionName,
  LIST_META,
  OBJECT_META,
  servedVersions,
} from "./crd.ts";
import { fixture } from "./fixtures.test.ts";
import type { Schema } from "./schema.ts";

const widgets = () => fixture("widgets.yaml")[0]!;

test("only served versions, in the CRD's order, with the storage version known to each", () => {
  const vs = servedVersions(widgets());
  assert.deepEqual(
    vs.map((v) => [v.version, v.storage, v.storageVersion]),
    [
      ["v1beta1", false, "v1"],
      ["v1beta2", false, "v1"],
      ["v1", true, "v1"],
    ],
  );
  assert.deepEqual(
    vs.map((v) => v.definitions),
    ["v1beta1", "v1beta2", "v1"].map((v) => ({
      kind: `test.kubekit.crdgen.${v}.Widget`,
      list: `test.kubekit.crdgen.${v}.WidgetList`,
    })),
  );
  assert.equal(
    definitionName("cert-manager.io", "v1", "Certificate"),
    "io.cert-manager.v1.Certificate",
  );
});

test("the descriptor is what aggregated discovery lists for the version", () => {
  const [beta1, , v1] = servedVersions(widgets());
  assert.deepEqual(v1!.resource, {
    group: "crdgen.kubekit.test",
    version: "v1",
    kind: "Widget",
    plural: "widgets",
    singular: "widget",
    namespaced: true,
    shortNames: ["wd"],
    categories: ["all", "kubekit"],
    verbs: ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"],
    subresources: [
      { name: "status", verbs: ["get", "patch", "update"] },
      {
        name: "scale",
        responseKind: { group: "autoscaling", version: "v1", kind: "Scale" },
        verbs: ["get", "patch", "update"],
      },
    ],
  });
  assert.deepEqual(beta1!.resource.subresources, []);
  const [gadgetClass] = servedVersions(fixture("bundle.yaml")[0]!);
  assert.equal(gadgetClass!.resource.namespaced, false);
  assert.equal(gadgetClass!.listKind, "GadgetClassList");
});

describe("deprecation warnings", () => {
  test("the version's own, else the server's default pointing at a newer served version", () => {
    const [beta1, beta2, v1] = servedVersions(widgets());
    assert.equal(beta1!.deprecated, "crdgen.kubekit.test/v1beta1 Widget is going away; move to v1");
    assert.equal(
      beta2!.deprecated,
      "crdgen.kubekit.test/v1beta2 Widget is deprecated; use crdgen.kubekit.test/v1 Widget",
    );
    assert.equal(v1!.deprecated, undefined);
    // No newer served version that is not deprecated: the bare message.
    const crd = widgets();
    crd.spec.versions = crd.spec.versions.map((v) => ({
      ...v,
      deprecated: true,
      deprecationWarning: undefined,
    }));
    assert.deepEqual(
      servedVersions(crd).map((v) => v.deprecated),
      ["v1beta1", "v1beta2", "v1"].map((v) => `crdgen.kubekit.test/${v} Widget is deprecated`),
    );
  });

  test("versions rank as apimachinery ranks them", () => {
    // apimachinery's documented order, highest first.
    const order = [
      "v10",
      "v2",
      "v1",
      "v11beta2",
      "v10beta3",
      "v3beta1",
      "v12alpha1",
      "v11alpha2",
      "foo1",
      "foo10",
    ];
    const shuffled = [...order].reverse();
    assert.deepEqual(
      shuffled.sort((a, b) => compareKubeAwareVersions(b, a)),
      order,
    );
    assert.equal(compareKubeAwareVersions("v1", "v1"), 0);
    assert.ok(compareKubeAwareVersions("v1beta1", "v1") < 0);
  });
});

describe("published definitions", () => {
  const published = () => {
    const v1 = servedVersions(widgets()).at(-1)!;
    return {
      kind: v1.schemas.get(v1.definitions.kind)!,
      list: v1.schemas.get(v1.definitions.list)!,
    };
  };

  test("properties in name order at every depth; TypeMeta and ObjectMeta at the root", () => {
    const { kind } = published();
    assert.deepEqual(Object.keys(kind.properties!), [
      "apiVersion",
      "kind",
      "metadata",
      "spec",
      "status",
    ]);
    const spec = kind.properties!.spec!;
    const names = Object.keys(spec.properties!);
    assert.deepEqual(names, [...names].sort());
    assert.deepEqual(Object.keys(spec.properties!.ports!.items!.properties!), [
      "name",
      "number",
      "protocol",
    ]);
    assert.deepEqual(kind.properties!.metadata, {
      description:
        "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
      allOf: [{ $ref: `#/components/schemas/${OBJECT_META}` }],
    });
    assert.match(
      kind.properties!.apiVersion!.description!,
      /^APIVersion defines the versioned schema/,
    );
    assert.deepEqual(kind["x-kubernetes-group-version-kind"], [
      { group: "crdgen.kubekit.test", version: "v1", kind: "Widget" },
    ]);
    // The CRD object itself is not changed.
    assert.deepEqual(
      Object.keys(
        widgets().spec.versions.at(-1)!.schema!.openAPIV3Schema!.properties!.spec!.properties!,
      ).slice(0, 2),
      ["size", "replicas"],
    );
  });

  test("the list kind", () => {
    const { list } = published();
    assert.equal(list.description, "WidgetList is a list of Widget");
    assert.deepEqual(list.required, ["items"]);
    assert.deepEqual(list.properties!.items!.items, {
      $ref: "#/components/schemas/test.kubekit.crdgen.v1.Widget",
    });
    assert.deepEqual(list.properties!.metadata!.allOf, [
      { $ref: `#/components/schemas/${LIST_META}` },
    ]);
  });

  test("embedded resources get apiVersion, kind (required) and ObjectMeta, at any depth", () => {
    const [cls] = servedVersions(fixture("bundle.yaml")[0]!);
    const kind = cls!.schemas.get(cls!.definitions.kind)!;
    const template = kind.properties!.template as Schema;
    assert.deepEqual(Object.keys(template.properties!), ["apiVersion", "kind", "metadata"]);
    assert.deepEqual(template.required, ["kind", "apiVersion"]);
    assert.match(
      template.properties!.kind!.description!,
      /^kind is a string value representing the type/,
    );
    const defaults = kind.properties!.defaults as Schema;
    assert.deepEqual(defaults.required, ["spec", "kind", "apiVersion"]);
    assert.deepEqual(Object.keys(defaults.properties!), ["apiVersion", "kind", "metadata", "spec"]);
  });
});

describe("CRDs the server would not serve are errors that say why", () => {
  const bad = (change: (c: CustomResourceDefinition) => void, why: RegExp) => {
    const crd = widgets();
    change(crd);
    assert.throws(
      () => servedVersions(crd),
      (e) => e instanceof CrdError && why.test(e.message),
    );
  };

  test("each missing or wrong field", () => {
    bad((c) => {
      c.apiVersion = "apiextensions.k8s.io/v1beta1" as "apiextensions.k8s.io/v1";
    }, /widgets\.crdgen\.kubekit\.test: apiVersion is apiextensions\.k8s\.io\/v1beta1; only apiextensions\.k8s\.io\/v1/);
    bad((c) => {
      c.spec.group = "";
    }, /spec\.group is missing/);
    bad((c) => {
      c.spec.names.kind = "widget-thing";
    }, /spec\.names\.kind "widget-thing" is not a TypeScript type name/);
    bad((c) => {
      c.spec.names.plural = "";
    }, /spec\.names\.plural is missing/);
    bad((c) => {
      c.spec.scope = "Global";
    }, /spec\.scope must be Namespaced or Cluster, not "Global"/);
    bad((c) => {
      c.spec.versions = [];
    }, /spec\.versions is empty/);
    bad((c) => {
      delete c.spec.versions[3]!.schema;
    }, /spec\.versions\[3\]\.schema\.openAPIV3Schema is missing/);
    bad((c) => {
      const spec = c.spec.versions[3]!.schema!.openAPIV3Schema!.properties!.spec!;
      spec.properties!.tags!.items = [{ type: "string" }];
    }, /spec\.versions\[3\]\.schema\.openAPIV3Schema is not structural: \.properties\["spec"\]\.properties\["tags"\]\.items is a list of schemas/);
  });
});
