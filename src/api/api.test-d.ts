/**
 * Type tests for the generated API, checked by `tsc` (nothing here runs). They pin down what users
 * and the typed client rely on: literal `apiVersion`/`kind`, list items, descriptors that carry
 * their object type and scope, and assignability to core's `KubernetesObject`.
 */
import type { ObjectMeta as CoreObjectMeta, KubernetesObject } from "../core/meta.ts";
import type { ObjectOf, ResourceType, ScopeOf } from "../core/resource.ts";
import type * as apimachinery from "./apimachinery/index.ts";
import type { Deployment } from "./apps/v1/index.ts";
import type * as autoscalingv1 from "./autoscaling/v1/index.ts";
import { Namespace, type Pod, type PodList, type Service } from "./core/v1/index.ts";
import type * as metav1 from "./meta/v1/index.ts";

type Equal<A, B> =
  (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
function assertType<_T extends true>(): void {}

// An object literal for create needs neither apiVersion nor kind, but a wrong one does not compile.
export const created: Pod = {
  metadata: { name: "web-0", labels: { app: "web" } },
  spec: { containers: [{ name: "web", image: "nginx", ports: [{ containerPort: 80 }] }] },
};
export const explicit: Pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "web-0" } };
// @ts-expect-error apiVersion of a Pod is "v1"
export const wrongVersion: Pod = { apiVersion: "v2", kind: "Pod" };
// @ts-expect-error kind of a Pod is "Pod"
export const wrongKind: Pod = { apiVersion: "v1", kind: "Service" };

// Required fields are required: a container needs a name.
// @ts-expect-error name is required
export const nameless: Pod = { spec: { containers: [{ image: "nginx" }] } };

// A list's items are the kind itself.
assertType<Equal<PodList["items"], Pod[]>>();
assertType<Equal<PodList["kind"], "PodList" | undefined>>();

// Descriptors carry object type and scope; the value and the interface share a name.
assertType<Equal<typeof Pod, ResourceType<Pod, true>>>();
assertType<Equal<ObjectOf<typeof Pod>, Pod>>();
assertType<Equal<ScopeOf<typeof Pod>, true>>();
assertType<Equal<typeof Namespace, ResourceType<Namespace, false>>>();
export const namespaceDescriptor: ResourceType<Namespace, false> = Namespace;
// @ts-expect-error Namespace is cluster-scoped
export const namespaceAsNamespaced: ResourceType<Namespace, true> = Namespace;
assertType<Equal<typeof Deployment, ResourceType<Deployment, true>>>();

// IntOrString is a number or a string.
export const port: apimachinery.IntOrString = 80;
export const namedPort: apimachinery.IntOrString = "http";
// @ts-expect-error neither
export const badPort: apimachinery.IntOrString = true;
export const targetPort: Service = { spec: { ports: [{ port: 80, targetPort: "http" }] } };

// Quantity, Time and MicroTime stay strings: nothing is converted on decode.
assertType<Equal<apimachinery.Quantity, string>>();
assertType<Equal<metav1.Time, string>>();
assertType<Equal<metav1.MicroTime, string>>();

// Enums are open: the known values are suggested, any string is accepted.
export const policy: NonNullable<Pod["spec"]>["restartPolicy"] = "Always";
export const futurePolicy: NonNullable<Pod["spec"]>["restartPolicy"] = "SomethingNewer";

// Compatible with core's shapes, so generated kinds work wherever core takes a KubernetesObject.
assertType<metav1.ObjectMeta extends CoreObjectMeta ? true : false>();
assertType<Pod extends KubernetesObject ? true : false>();
assertType<Deployment extends KubernetesObject ? true : false>();
assertType<autoscalingv1.Scale extends KubernetesObject ? true : false>();

// The deployments/scale subresource is autoscaling/v1 Scale.
assertType<Equal<autoscalingv1.Scale["apiVersion"], "autoscaling/v1" | undefined>>();
