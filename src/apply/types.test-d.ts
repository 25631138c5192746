/**
 * Type tests for kubekit/apply, checked by `tsc` (nothing here runs): apply configurations require
 * exactly apiVersion, kind and metadata.name and fit `Api.apply`; merge and strategic merge patches
 * accept partial objects, nulls and the directives, and reject wrong field types; the typed patch
 * calls pass them on.
 */
import { Deployment } from "../api/apps/v1/index.ts";
import { ConfigMap, type Container, type Pod } from "../api/core/v1/index.ts";
import type { Api, JsonPatchOperation as ClientJsonPatchOperation } from "../client/api.ts";
import type { Client } from "../client/client.ts";
import type { Unstructured } from "../dynamic/unstructured.ts";
import { extract } from "./extract.ts";
import {
  type ApplyConfiguration,
  type JsonPatch,
  type JsonPatchOperation,
  jsonPatch,
  type MergePatch,
  mergePatch,
  type StrategicMergePatch,
  strategicMergePatch,
} from "./types.ts";

declare const client: Client;
const deployments = client.api(Deployment).namespace("web");

// An apply configuration: apiVersion, kind and name required, every other field optional.
export const config: ApplyConfiguration<Deployment> = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", labels: { app: "web" } },
  spec: { replicas: 2, template: { spec: { containers: [{ name: "web", image: "nginx" }] } } },
};
export const noName: ApplyConfiguration<Deployment> = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  // @ts-expect-error the name is required
  metadata: {},
};
// @ts-expect-error apiVersion is required
export const noApiVersion: ApplyConfiguration<Deployment> = {
  kind: "Deployment",
  metadata: { name: "x" },
};
export const wrongKind: ApplyConfiguration<Deployment> = {
  apiVersion: "apps/v1",
  // @ts-expect-error the kind is the literal "Deployment"
  kind: "StatefulSet",
  metadata: { name: "x" },
};
export const wrongType: ApplyConfiguration<Deployment> = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "x" },
  // @ts-expect-error replicas is a number
  spec: { replicas: "2" },
};

// It is what Api.apply takes, typed and dynamic; and what extract returns.
export async function applies(): Promise<void> {
  await deployments.apply(config, { fieldManager: "me" });
  const live = await deployments.get("web");
  const mine: ApplyConfiguration<Deployment> = extract(live, "me");
  await deployments.apply(mine, { fieldManager: "me" });
  const u: ApplyConfiguration<Unstructured> = {
    apiVersion: "example.com/v1",
    kind: "Widget",
    metadata: { name: "w" },
    spec: { anything: true },
  };
  await client
    .api<Unstructured, true>({
      group: "example.com",
      version: "v1",
      plural: "widgets",
      namespaced: true,
    })
    .apply(u, { fieldManager: "me" });
}

// Merge patches: partial, null deletes, lists whole.
export const merge: MergePatch<Deployment> = {
  metadata: { labels: { gone: null, app: "web" } },
  spec: { replicas: null, template: { spec: { containers: [{ name: "a", image: "b" }] } } },
};
export const partialItem: MergePatch<Deployment> = {
  // @ts-expect-error a list item in a merge patch is a whole item (name is required)
  spec: { template: { spec: { containers: [{ image: "b" }] } } },
};
// @ts-expect-error replicas is a number
export const badMerge: MergePatch<Deployment> = { spec: { replicas: "3" } };

// Strategic merge patches: partial list items, directives.
export const smp: StrategicMergePatch<Deployment> = {
  metadata: { "$deleteFromPrimitiveList/finalizers": ["example.com/x"], labels: { a: null } },
  spec: {
    strategy: { $retainKeys: ["type"], type: "Recreate" },
    template: {
      spec: {
        "$setElementOrder/containers": [{ name: "b" }, { name: "a" }],
        containers: [
          { name: "b", image: "x" },
          { name: "gone", $patch: "delete" },
        ],
        volumes: [{ $patch: "replace" }],
      },
    },
  },
};
export const containerPatch: StrategicMergePatch<Container> = { name: "a", env: [{ name: "X" }] };
export const badOrder: StrategicMergePatch<Deployment> = {
  // @ts-expect-error no such directive list: replicas is not a list
  spec: { "$setElementOrder/replicas": [] },
};
export const badDelete: StrategicMergePatch<Deployment> = {
  // @ts-expect-error $deleteFromPrimitiveList is for primitive lists only
  spec: { template: { spec: { "$deleteFromPrimitiveList/containers": [] } } },
};

// JSON patches: RFC 6902 operations, the same shape Api.patch documents.
export const ops: JsonPatch = [
  { op: "test", path: "/metadata/labels/app", value: "web" },
  { op: "remove", path: "/metadata/labels/app" },
  { op: "move", from: "/a", path: "/b" },
];
export const asClient: readonly ClientJsonPatchOperation[] = ops;
// @ts-expect-error move needs from
export const badOp: JsonPatchOperation = { op: "move", path: "/b" };

// The typed calls.
export async function patches(pods: Api<Pod, true>): Promise<void> {
  const d: Deployment = await mergePatch(deployments, "web", { spec: { replicas: 3 } });
  const p: Pod = await strategicMergePatch(pods, "p", {
    spec: { containers: [{ name: "c", image: "x" }] },
  });
  await jsonPatch(client.api(ConfigMap).namespace("x"), "c", ops);
  // @ts-expect-error the patch is checked against the Api's type
  await mergePatch(deployments, "web", { spec: { replicas: "3" } });
  void d;
  void p;
}
