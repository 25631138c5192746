/**
 * Type tests for the typed client, checked by `tsc` (nothing here runs): `client.api(Descriptor)`
 * infers the object type and scope from a generated descriptor alone, so scope mistakes, wrong
 * `apiVersion`/`kind` literals and wrongly typed results do not compile. The Clientset's types
 * are pinned in src/clientset/clientset.test-d.ts (this layer may not import it).
 */
import { CustomResourceDefinition } from "../api/apiextensions/v1/index.ts";
import { Deployment } from "../api/apps/v1/index.ts";
import type { TokenRequest } from "../api/authentication/v1/index.ts";
import type { Scale } from "../api/autoscaling/v1/index.ts";
import { ConfigMap, Namespace, Node, Pod, ServiceAccount } from "../api/core/v1/index.ts";
import type { KubernetesList, KubernetesObject, Status } from "../core/meta.ts";
import type { WatchEvent } from "../rest/watch.ts";
import type { Api } from "./api.ts";
import type { Client } from "./client.ts";

type Equal<A, B> =
  (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
function assertType<_T extends true>(): void {}

declare const client: Client;

// The descriptor alone gives the object type and the scope.
export const pods = client.api(Pod);
assertType<Equal<typeof pods, Api<Pod, true>>>();
export const namespaces = client.api(Namespace);
assertType<Equal<typeof namespaces, Api<Namespace, false>>>();
assertType<Equal<ReturnType<typeof pods.namespace>, Api<Pod, true>>>();
export const crds = client.api(CustomResourceDefinition);
assertType<Equal<typeof crds, Api<CustomResourceDefinition, false>>>();

// A cluster-scoped kind takes no namespace.
// @ts-expect-error Namespace is cluster-scoped
client.api(Namespace).namespace("x");
// @ts-expect-error Node is cluster-scoped
client.api(Node).namespace("x");
// A scope known only at run time (dynamic, discovered) takes one, checked when called.
declare const someKind: Api<KubernetesObject, boolean>;
assertType<Equal<ReturnType<typeof someKind.namespace>, Api<KubernetesObject, true>>>();
someKind.namespace("x");

export async function verbs(): Promise<void> {
  const web = client.api(Pod).namespace("web");

  // List items are the kind; indexing one may miss (noUncheckedIndexedAccess).
  const list = await client.api(Pod).list();
  assertType<Equal<typeof list, KubernetesList<Pod>>>();
  const first = list.items[0];
  assertType<Equal<typeof first, Pod | undefined>>();

  assertType<Equal<Awaited<ReturnType<typeof web.get>>, Pod>>();
  assertType<Equal<Awaited<ReturnType<typeof web.create>>, Pod>>();
  assertType<Equal<Awaited<ReturnType<typeof web.update>>, Pod>>();
  assertType<Equal<Awaited<ReturnType<typeof web.delete>>, Pod | Status>>();
  assertType<Equal<Awaited<ReturnType<typeof web.status.update>>, Pod>>();
  for await (const ev of web.watch()) {
    assertType<Equal<typeof ev, WatchEvent<Pod>>>();
  }
  for await (const pod of web.listAll()) assertType<Equal<typeof pod, Pod>>();

  // The object literal is checked against the kind: apiVersion and kind are literals.
  await web.create({ metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "i" }] } });
  await web.create({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" } });
  // @ts-expect-error a Pod's apiVersion is "v1"
  await client.api(Pod).create({ apiVersion: "v2", kind: "Pod" });
  // @ts-expect-error a ConfigMap is not a Pod
  await web.create({ apiVersion: "v1", kind: "ConfigMap" });
  // @ts-expect-error required fields stay required: a container needs a name
  await web.create({ spec: { containers: [{ image: "nginx" }] } });
  const configMaps = client.api(ConfigMap).namespace("web");
  // @ts-expect-error data values are strings
  await configMaps.create({ data: { n: 1 } });
  // @ts-expect-error a Namespace Api takes Namespaces
  await client.api(Namespace).create({ kind: "Pod" });

  // Typed subresources.
  const deployments = client.api(Deployment).namespace("web");
  assertType<Equal<Awaited<ReturnType<typeof deployments.scale.get>>, Scale>>();
  assertType<Equal<Awaited<ReturnType<typeof deployments.scale.update>>, Scale>>();
  const token = await client
    .api(ServiceAccount)
    .namespace("web")
    .createToken("default", {
      spec: { expirationSeconds: 600 },
    });
  assertType<Equal<typeof token, TokenRequest>>();
  // @ts-expect-error createToken is a ServiceAccount subresource
  await configMaps.createToken("x");
  // @ts-expect-error evict is a Pod subresource
  await deployments.evict("x");
  assertType<Equal<Awaited<ReturnType<typeof web.logs>>, string>>();
}
