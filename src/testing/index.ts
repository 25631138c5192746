/**
 * kubekit/testing: test code that talks to Kubernetes without a cluster.
 *
 * - `InMemoryApiServer` implements kube-apiserver's REST semantics in memory: every built-in
 *   resource of kubekit's generated API types, custom resources from the CustomResourceDefinitions
 *   created on it, watches (resume, 410, bookmarks, streaming lists), every patch type, status and
 *   scale subresources, discovery and OpenAPI v3. Reach it through `server.transport` (in-process,
 *   no sockets) or `await server.listen()` (plain HTTP on 127.0.0.1, `server.kubeconfig()` for
 *   kubectl and other clients).
 * - `fakeClient()` is client-go's fake Clientset: a `Client` on a fresh server seeded with objects,
 *   every request recorded as an `Action`, and reactors that may answer first.
 * - `newNotFound`, `newConflict`, ... build the Status errors the real server sends.
 *
 * The server's behaviour is pinned by a contract suite (test/contract/) that runs against it and
 * against a real kube-apiserver; what it deliberately does differently is `KNOWN_DIFFERENCES`.
 *
 * ```ts
 * const fake = fakeClient({ objects: [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } }] });
 * await reconcile(fake.client);                                  // the code under test
 * assert.deepEqual(fake.actions.map((a) => a.verb), ["get", "update"]);
 * await fake.close();
 * ```
 */
export {
  type Action,
  type ActionVerb,
  type FakeClient,
  type FakeClientOptions,
  fakeClient,
  type Reactor,
  type ReactorVerb,
} from "./fake.ts";
export {
  type AnyObject,
  INITIAL_NAMESPACES,
  InMemoryApiServer,
  type InMemoryApiServerOptions,
  type ServerRequest,
  type ServerResponse,
} from "./server.ts";
export {
  type FieldError,
  fieldForbidden,
  fieldInvalid,
  fieldNotSupported,
  fieldRequired,
  type GroupKind,
  type GroupResource,
  newAlreadyExists,
  newBadRequest,
  newConflict,
  newForbidden,
  newGone,
  newInternalError,
  newInvalid,
  newMethodNotSupported,
  newNotFound,
  newResourceExpired,
  newServiceUnavailable,
  newTimeout,
  newTooManyRequests,
  newUnsupportedMediaType,
  OPTIMISTIC_LOCK_ERROR,
  statusError,
} from "./status.ts";

/**
 * Where `InMemoryApiServer` deliberately differs from kube-apiserver, by id. The contract suite
 * skips exactly the assertions these name; everything else it checks holds on both servers.
 */
export const KNOWN_DIFFERENCES: Readonly<Record<string, string>> = Object.freeze({
  "no-controllers":
    "No controllers run: nothing is created for you (no ReplicaSets or Pods for Deployments, no kube-root-ca.crt ConfigMaps or default ServiceAccounts), status is only what clients write, and ownerReferences are not followed (no garbage collection). A CRD is Established (and served) as soon as it is created; namespace and CRD deletion (their contents, then themselves) happen at once, inside the DELETE.",
  "no-defaulting-or-validation":
    "Objects are stored as sent: no defaulting (Deployment strategy, imagePullPolicy, ...) and no validation beyond names, generateName, finalizers on deleting objects and resourceVersions; CRD schemas are served but not enforced (no pruning, no fieldValidation). An unset spec.replicas reads as 1 through /scale, as defaulting would make it.",
  "no-conversion":
    "The versions of a resource share one store but objects are not converted: reading through another version only changes apiVersion (as a CRD with conversion strategy None does). core/v1 and events.k8s.io/v1 Events are separate.",
  "status-on-create":
    "Built-in kinds with a status subresource start with an empty status (Pods with phase Pending, Namespaces Active); the real strategies may set more.",
  "json-only":
    "Bodies are JSON (or YAML); protobuf and CBOR are answered 415, so kubectl's typed generators (kubectl create configmap/deployment/...) do not work; kubectl get/apply/patch/label/scale/delete/edit do.",
  "no-auth":
    "No authentication, authorization or admission beyond NamespaceLifecycle; reviews (TokenReview, SubjectAccessReview, ...) are answered with what was sent and an empty status.",
  subresources:
    "Only status, scale, pods/eviction (no PodDisruptionBudget check) and pods/binding are served; log, exec, attach, portforward, proxy and serviceaccounts/token answer 405.",
  "immediate-deletion":
    "Pods and other graceful kinds are deleted at once (as the real server does for pods that are not scheduled); propagationPolicy is accepted and ignored.",
  "label-selector-parse-message":
    "A label selector that does not parse is a 400 BadRequest as on the real server, but the message is kubekit's parser's.",
  "too-large-resource-version":
    "A resourceVersion newer than the server's is answered at once with the 504 'Too large resource version' the real server sends only after waiting 3 s for it.",
  "watch-lifetime":
    "Watches without timeoutSeconds last until the client or close() ends them (the real server ends them after 30-60 minutes); bookmarks come every bookmarkIntervalMs and 2 s before a timeout.",
  tables: "Table answers have the default columns (Name, Created At) for every kind.",
  history:
    "One history of bounded size (historySize writes, like etcd's compaction window) serves watch resumption, continue tokens and resourceVersionMatch=Exact for every resource; the real watch cache keeps a window per resource.",
});
