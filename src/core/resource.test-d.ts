/**
 * Type tests for resource descriptors, checked by `tsc` (nothing here runs). They pin down what the
 * typed client relies on: a descriptor infers its object type and scope, an interface and a
 * descriptor share a name, and scope-dependent methods can be refused at compile time.
 */
import type { KubernetesObject, ObjectMeta } from "./meta.ts";
import {
  type ClusterResourceType,
  defineResource,
  type NamespacedResourceType,
  type ObjectOf,
  type ResourceRef,
  type ResourceType,
  type ScopeOf,
} from "./resource.ts";

type Equal<A, B> =
  (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
function assertType<_T extends true>(): void {}

// What a generated module emits: an interface and a descriptor of the same name.
export interface Pod extends KubernetesObject {
  apiVersion?: "v1";
  kind?: "Pod";
  metadata?: ObjectMeta;
  spec?: { nodeName?: string };
}
export const Pod = defineResource<Pod>()({
  group: "",
  version: "v1",
  kind: "Pod",
  plural: "pods",
  namespaced: true,
});

export interface Node extends KubernetesObject {
  kind?: "Node";
  spec?: { unschedulable?: boolean };
}
export const Node: ResourceType<Node, false> = defineResource<Node>()({
  group: "",
  version: "v1",
  kind: "Node",
  plural: "nodes",
  namespaced: false,
});

assertType<Equal<typeof Pod, ResourceType<Pod, true>>>();
assertType<Equal<ObjectOf<typeof Pod>, Pod>>();
assertType<Equal<ScopeOf<typeof Pod>, true>>();
assertType<Equal<ScopeOf<typeof Node>, false>>();
assertType<Equal<NamespacedResourceType<Pod>, ResourceType<Pod, true>>>();

// A sketch of the typed client: `api()` infers both parameters from the descriptor, and
// `namespace()` exists only where the scope is `true`.
interface Api<T extends KubernetesObject, N extends boolean> {
  get(name: string): Promise<T>;
  namespace: N extends true ? (ns: string) => Api<T, N> : never;
}
declare function api<T extends KubernetesObject, N extends boolean>(
  rt: ResourceType<T, N>,
): Api<T, N>;

export function typedClientSketch(): void {
  const pods = api(Pod);
  assertType<Equal<typeof pods, Api<Pod, true>>>();
  pods.namespace("web");
  const nodes = api(Node);
  // @ts-expect-error: nodes are cluster-scoped, so there is no namespace() to call
  nodes.namespace("web");
  assertType<Equal<Awaited<ReturnType<typeof nodes.get>>, Node>>();
}

// Descriptors of different object types are not interchangeable.
// @ts-expect-error: a Node descriptor is not a Pod descriptor
export const wrong: ResourceType<Pod, false> = Node;
// @ts-expect-error: the scope literal is checked too
export const wrongScope: ClusterResourceType<Pod> = Pod;

// Every descriptor is a ResourceRef, and a plain ref is enough where only the URL matters.
export const ref: ResourceRef = Pod;
export const plain: ResourceRef<true> = {
  group: "apps",
  version: "v1",
  plural: "deployments",
  namespaced: true,
};
