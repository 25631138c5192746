/**
 * Type tests for the generated Clientset, checked by `tsc` (nothing here runs): each method's
 * type is exactly `client.api(Descriptor)`'s, scope included, so everything the typed client
 * refuses at compile time the Clientset refuses too.
 */
import type { CustomResourceDefinition } from "../api/apiextensions/v1/index.ts";
import type { Deployment } from "../api/apps/v1/index.ts";
import type { Scale } from "../api/autoscaling/v1/index.ts";
import type { Job } from "../api/batch/v1/index.ts";
import type { Lease } from "../api/coordination/v1/index.ts";
import { ConfigMap, type Namespace, type Node, type Pod } from "../api/core/v1/index.ts";
import type { ClusterRole } from "../api/rbac/v1/index.ts";
import type * as resourcev1alpha3 from "../api/resource/v1alpha3/index.ts";
import type { Api, Client } from "../client/index.ts";
import type { Clientset, CoreV1Client } from "./index.ts";

type Equal<A, B> =
  (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
function assertType<_T extends true>(): void {}

declare const client: Client;
declare const cs: Clientset;

assertType<Equal<Clientset["client"], Client>>();
assertType<Equal<Clientset["coreV1"], CoreV1Client>>();

// Namespaced kinds: an optional namespace, Api<T, true>.
assertType<Equal<ReturnType<CoreV1Client["pods"]>, Api<Pod, true>>>();
assertType<Equal<Parameters<CoreV1Client["pods"]>, [namespace?: string]>>();
assertType<Equal<ReturnType<Clientset["coreV1"]["configMaps"]>, Api<ConfigMap, true>>>();
assertType<Equal<ReturnType<Clientset["appsV1"]["deployments"]>, Api<Deployment, true>>>();
assertType<Equal<ReturnType<Clientset["batchV1"]["jobs"]>, Api<Job, true>>>();
assertType<Equal<ReturnType<Clientset["coordinationV1"]["leases"]>, Api<Lease, true>>>();

// Cluster-scoped kinds: no parameter, Api<T, false>.
assertType<Equal<ReturnType<CoreV1Client["namespaces"]>, Api<Namespace, false>>>();
assertType<Equal<Parameters<CoreV1Client["nodes"]>, []>>();
assertType<Equal<ReturnType<CoreV1Client["nodes"]>, Api<Node, false>>>();
assertType<Equal<ReturnType<Clientset["rbacV1"]["clusterRoles"]>, Api<ClusterRole, false>>>();
assertType<
  Equal<
    ReturnType<Clientset["apiextensionsV1"]["customResourceDefinitions"]>,
    Api<CustomResourceDefinition, false>
  >
>();
assertType<
  Equal<
    ReturnType<Clientset["resourceV1alpha3"]["deviceTaintRules"]>,
    Api<resourcev1alpha3.DeviceTaintRule, false>
  >
>();

// The same type as client.api gives for the descriptor.
assertType<Equal<ReturnType<CoreV1Client["pods"]>, ReturnType<typeof client.api<Pod, true>>>>();
export const same: Api<ConfigMap, true> = client.api(ConfigMap).namespace("x");
export const fromClientset: typeof same = cs.coreV1.configMaps("x");

export async function use(): Promise<void> {
  const first = (await cs.coreV1.pods().list()).items[0];
  assertType<Equal<typeof first, Pod | undefined>>();
  const scale = await cs.appsV1.deployments("web").scale.get("web");
  assertType<Equal<typeof scale, Scale>>();
  // @ts-expect-error Namespaces are cluster-scoped: no namespace parameter
  cs.coreV1.namespaces("x");
  // @ts-expect-error and no .namespace() on the Api either
  cs.coreV1.namespaces().namespace("x");
  // @ts-expect-error a Pod's apiVersion is "v1"
  await cs.coreV1.pods("web").create({ apiVersion: "v2", kind: "Pod" });
  // @ts-expect-error a namespace is a string
  cs.coreV1.pods(1);
  // @ts-expect-error client-go's names: Pods() is pods()
  cs.coreV1.Pods("web");
  // @ts-expect-error client-go's names: CoreV1() is coreV1
  cs.CoreV1.pods("web");
}
