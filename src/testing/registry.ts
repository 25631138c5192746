/**
 * What the in-memory server serves: every built-in resource of the generated descriptors, and the
 * custom resources of the CustomResourceDefinitions created on it, each with the per-kind facts
 * kube-apiserver's registry strategies encode (status and scale subresources, whether
 * `metadata.generation` is tracked, whether an update may omit `resourceVersion` or create, the
 * supported field selectors, the name rules).
 */
import * as admissionregistrationv1 from "../api/admissionregistration/v1/index.ts";
import * as admissionregistrationv1alpha1 from "../api/admissionregistration/v1alpha1/index.ts";
import * as admissionregistrationv1beta1 from "../api/admissionregistration/v1beta1/index.ts";
import * as apiextensionsv1 from "../api/apiextensions/v1/index.ts";
import * as apiregistrationv1 from "../api/apiregistration/v1/index.ts";
import * as apiserverinternalv1alpha1 from "../api/apiserverinternal/v1alpha1/index.ts";
import * as appsv1 from "../api/apps/v1/index.ts";
import * as authenticationv1 from "../api/authentication/v1/index.ts";
import * as authorizationv1 from "../api/authorization/v1/index.ts";
import * as autoscalingv1 from "../api/autoscaling/v1/index.ts";
import * as autoscalingv2 from "../api/autoscaling/v2/index.ts";
import * as batchv1 from "../api/batch/v1/index.ts";
import * as certificatesv1 from "../api/certificates/v1/index.ts";
import * as certificatesv1beta1 from "../api/certificates/v1beta1/index.ts";
import * as coordinationv1 from "../api/coordination/v1/index.ts";
import * as coordinationv1alpha2 from "../api/coordination/v1alpha2/index.ts";
import * as coordinationv1beta1 from "../api/coordination/v1beta1/index.ts";
import * as corev1 from "../api/core/v1/index.ts";
import * as discoveryv1 from "../api/discovery/v1/index.ts";
import * as eventsv1 from "../api/events/v1/index.ts";
import * as flowcontrolv1 from "../api/flowcontrol/v1/index.ts";
import * as networkingv1 from "../api/networking/v1/index.ts";
import * as nodev1 from "../api/node/v1/index.ts";
import * as policyv1 from "../api/policy/v1/index.ts";
import * as rbacv1 from "../api/rbac/v1/index.ts";
import * as resourcev1 from "../api/resource/v1/index.ts";
import * as resourcev1alpha3 from "../api/resource/v1alpha3/index.ts";
import * as resourcev1beta1 from "../api/resource/v1beta1/index.ts";
import * as resourcev1beta2 from "../api/resource/v1beta2/index.ts";
import * as schedulingv1 from "../api/scheduling/v1/index.ts";
import * as storagev1 from "../api/storage/v1/index.ts";
import * as storagemigrationv1 from "../api/storagemigration/v1/index.ts";
import * as storagemigrationv1beta1 from "../api/storagemigration/v1beta1/index.ts";
import { PatchMeta } from "../apply/patchmeta.ts";
import { buildPatchMetaTable } from "../apply/patchmeta-table.ts";
import type { SubresourceInfo } from "../core/resource.ts";

/** Every generated module that defines resources; a unit test keeps this list complete. */
export const BUILTIN_MODULES: readonly Record<string, unknown>[] = [
  admissionregistrationv1,
  admissionregistrationv1alpha1,
  admissionregistrationv1beta1,
  apiextensionsv1,
  apiregistrationv1,
  apiserverinternalv1alpha1,
  appsv1,
  authenticationv1,
  authorizationv1,
  autoscalingv1,
  autoscalingv2,
  batchv1,
  certificatesv1,
  certificatesv1beta1,
  coordinationv1,
  coordinationv1alpha2,
  coordinationv1beta1,
  corev1,
  discoveryv1,
  eventsv1,
  flowcontrolv1,
  networkingv1,
  nodev1,
  policyv1,
  rbacv1,
  resourcev1,
  resourcev1alpha3,
  resourcev1beta1,
  resourcev1beta2,
  schedulingv1,
  storagev1,
  storagemigrationv1,
  storagemigrationv1beta1,
];

/** Where a scale subresource reads and writes its numbers (JSON paths, `.spec.replicas`). */
export interface ScaleSpec {
  readonly specReplicasPath: string;
  readonly statusReplicasPath: string;
  /**
   * Where `status.selector` of the Scale comes from: a path to a selector string (custom
   * resources), or `spec.selector` as a meta/v1 LabelSelector (apps) or a map (core).
   */
  readonly selector:
    | { readonly path: string }
    | { readonly from: "labelSelector" | "map" }
    | undefined;
}

/** The rule `metadata.name` must follow. */
export type NameRule = "subdomain" | "label" | "label1035" | "path";

/** One resource in one group version, as the server serves it. */
export interface ServedResource {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly listKind: string;
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly verbs: readonly string[];
  readonly subresources: readonly SubresourceInfo[];
  /** `plural.group`: every version of a resource shares one store, as in etcd. */
  readonly storage: string;
  /** Served from a CustomResourceDefinition. */
  readonly custom: boolean;
  readonly hasStatus: boolean;
  readonly scale: ScaleSpec | undefined;
  /** `metadata.generation` is set on create and bumped when the spec changes. */
  readonly generation: boolean;
  /** An update without `metadata.resourceVersion` is accepted (and is unconditional). */
  readonly unconditionalUpdate: boolean;
  /** A PUT of an object that does not exist creates it. */
  readonly createOnUpdate: boolean;
  /** DELETE answers with the deleted object instead of a Success Status. */
  readonly returnDeletedObject: boolean;
  /** Nothing is stored: create answers with what was sent (TokenReview, SubjectAccessReview...). */
  readonly virtual: boolean;
  readonly nameRule: NameRule;
  /** The field selectors it supports. */
  readonly fieldSelector: FieldSelectorSpec;
  /** Patch metadata for strategic merge patches and field management; undefined when unknown. */
  patchMeta(): PatchMeta | undefined;
}

const gr = (plural: string, group: string) => (group ? `${plural}.${group}` : plural);

/** Kinds whose registry strategy sets `generation` (pkg/registry/.../strategy.go). */
const GENERATION = new Set([
  "mutatingadmissionpolicies.admissionregistration.k8s.io",
  "mutatingadmissionpolicybindings.admissionregistration.k8s.io",
  "mutatingwebhookconfigurations.admissionregistration.k8s.io",
  "validatingadmissionpolicies.admissionregistration.k8s.io",
  "validatingadmissionpolicybindings.admissionregistration.k8s.io",
  "validatingwebhookconfigurations.admissionregistration.k8s.io",
  "customresourcedefinitions.apiextensions.k8s.io",
  "daemonsets.apps",
  "deployments.apps",
  "replicasets.apps",
  "statefulsets.apps",
  "cronjobs.batch",
  "jobs.batch",
  "pods",
  "podtemplates",
  "replicationcontrollers",
  "endpointslices.discovery.k8s.io",
  "flowschemas.flowcontrol.apiserver.k8s.io",
  "prioritylevelconfigurations.flowcontrol.apiserver.k8s.io",
  "ingresses.networking.k8s.io",
  "ingressclasses.networking.k8s.io",
  "networkpolicies.networking.k8s.io",
  "poddisruptionbudgets.policy",
  "deviceclasses.resource.k8s.io",
  "devicetaintrules.resource.k8s.io",
  "resourceslices.resource.k8s.io",
  "priorityclasses.scheduling.k8s.io",
]);

/** Kinds whose strategy refuses an update without `resourceVersion`. */
const CONDITIONAL_UPDATE = new Set([
  "podcertificaterequests.certificates.k8s.io",
  "clustertrustbundles.certificates.k8s.io",
  "runtimeclasses.node.k8s.io",
  "storageversionmigrations.storagemigration.k8s.io",
  "poddisruptionbudgets.policy",
  "resourcepoolstatusrequests.resource.k8s.io",
  "storageversions.internal.apiserver.k8s.io",
  "csidrivers.storage.k8s.io",
  "csistoragecapacities.storage.k8s.io",
  "volumeattachments.storage.k8s.io",
  "csinodes.storage.k8s.io",
  "leases.coordination.k8s.io",
  "leasecandidates.coordination.k8s.io",
  "validatingadmissionpolicies.admissionregistration.k8s.io",
  "mutatingadmissionpolicies.admissionregistration.k8s.io",
  "mutatingwebhookconfigurations.admissionregistration.k8s.io",
  "validatingwebhookconfigurations.admissionregistration.k8s.io",
  "mutatingadmissionpolicybindings.admissionregistration.k8s.io",
  "validatingadmissionpolicybindings.admissionregistration.k8s.io",
  "customresourcedefinitions.apiextensions.k8s.io",
]);

/** Kinds a PUT may create. */
const CREATE_ON_UPDATE = new Set([
  "runtimeclasses.node.k8s.io",
  "rolebindings.rbac.authorization.k8s.io",
  "clusterrolebindings.rbac.authorization.k8s.io",
  "roles.rbac.authorization.k8s.io",
  "clusterroles.rbac.authorization.k8s.io",
  "leases.coordination.k8s.io",
  "leasecandidates.coordination.k8s.io",
  "limitranges",
  "events",
  "events.events.k8s.io",
  "services",
  "endpoints",
]);

/** Kinds whose DELETE answers with the object (`ReturnDeletedObject`). */
const RETURN_DELETED = new Set([
  "resourceclaimtemplates.resource.k8s.io",
  "resourceslices.resource.k8s.io",
  "resourceclaims.resource.k8s.io",
  "deviceclasses.resource.k8s.io",
  "resourcepoolstatusrequests.resource.k8s.io",
  "csidrivers.storage.k8s.io",
  "storageclasses.storage.k8s.io",
  "volumeattachments.storage.k8s.io",
  "csinodes.storage.k8s.io",
  "volumeattributesclasses.storage.k8s.io",
  "resourcequotas",
  "persistentvolumes",
  "serviceaccounts",
  "persistentvolumeclaims",
  "namespaces",
  "pods",
  "services",
  "podtemplates",
]);

/**
 * The field selectors a kind supports: the field label and the path of its value, and the error
 * for any other label. Kinds with a field label conversion function (pkg/apis/<group>/<version>/conversion.go)
 * have their own lists and messages; every other kind takes `metadata.name` and
 * `metadata.namespace` (plus a CRD's selectable fields).
 */
export interface FieldSelectorSpec {
  readonly fields: Readonly<Record<string, string>>;
  unsupported(label: string): string;
}

const BASIC_FIELDS = {
  "metadata.name": "metadata.name",
  "metadata.namespace": "metadata.namespace",
};

function genericFields(fields: Readonly<Record<string, string>>): FieldSelectorSpec {
  return {
    fields,
    unsupported: (label) =>
      `"${label}" is not a known field selector: only ${Object.keys(fields)
        .map((k) => JSON.stringify(k))
        .join(", ")}`,
  };
}

function convertedFields(
  fields: Readonly<Record<string, string>>,
  message: (label: string) => string = (label) => `field label not supported: ${label}`,
): FieldSelectorSpec {
  return { fields, unsupported: message };
}

const same = (...labels: string[]) => Object.fromEntries(labels.map((l) => [l, l]));

const FIELDS: Readonly<Record<string, FieldSelectorSpec>> = {
  pods: convertedFields({
    ...same(
      "metadata.name",
      "metadata.namespace",
      "spec.nodeName",
      "spec.restartPolicy",
      "spec.schedulerName",
      "spec.serviceAccountName",
      "spec.hostNetwork",
      "status.phase",
      "status.podIP",
      "status.nominatedNodeName",
    ),
    "status.podIPs": "status.podIP",
    "spec.host": "spec.nodeName",
  }),
  nodes: convertedFields(same("metadata.name", "spec.unschedulable")),
  replicationcontrollers: convertedFields(
    same("metadata.name", "metadata.namespace", "status.replicas"),
  ),
  events: convertedFields({
    ...same(
      "involvedObject.kind",
      "involvedObject.namespace",
      "involvedObject.name",
      "involvedObject.uid",
      "involvedObject.apiVersion",
      "involvedObject.resourceVersion",
      "involvedObject.fieldPath",
      "reason",
      "reportingComponent",
      "type",
      "metadata.namespace",
      "metadata.name",
    ),
    source: "source.component",
  }),
  namespaces: convertedFields(same("status.phase", "metadata.name")),
  secrets: convertedFields(same("type", "metadata.namespace", "metadata.name")),
  services: convertedFields(
    same("metadata.namespace", "metadata.name", "spec.clusterIP", "spec.type"),
  ),
  "jobs.batch": convertedFields(
    same("metadata.name", "metadata.namespace", "status.successful"),
    (label) => `field label "${label}" not supported for Job`,
  ),
  "certificatesigningrequests.certificates.k8s.io": convertedFields(
    same("metadata.name", "spec.signerName"),
  ),
  "clustertrustbundles.certificates.k8s.io": convertedFields(
    same("metadata.name", "spec.signerName"),
  ),
  "podcertificaterequests.certificates.k8s.io": convertedFields(
    same("metadata.name", "spec.signerName", "spec.podName", "spec.nodeName"),
  ),
  "events.events.k8s.io": convertedFields(
    same(
      "regarding.kind",
      "regarding.namespace",
      "regarding.name",
      "regarding.uid",
      "regarding.apiVersion",
      "regarding.resourceVersion",
      "regarding.fieldPath",
      "reason",
      "reportingController",
      "type",
      "metadata.namespace",
      "metadata.name",
    ),
  ),
};

const SCALE: Readonly<Record<string, ScaleSpec>> = {
  "deployments.apps": appsScale(),
  "replicasets.apps": appsScale(),
  "statefulsets.apps": appsScale(),
  replicationcontrollers: {
    specReplicasPath: ".spec.replicas",
    statusReplicasPath: ".status.replicas",
    selector: { from: "map" },
  },
};

function appsScale(): ScaleSpec {
  return {
    specReplicasPath: ".spec.replicas",
    statusReplicasPath: ".status.replicas",
    selector: { from: "labelSelector" },
  };
}

function nameRuleOf(storage: string): NameRule {
  if (storage === "namespaces") return "label";
  if (storage === "services") return "label1035";
  if (storage.endsWith(".rbac.authorization.k8s.io")) return "path";
  return "subdomain";
}

interface DescriptorLike {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: readonly string[];
  categories: readonly string[];
  verbs: readonly string[];
  subresources: readonly SubresourceInfo[];
}

function isDescriptor(v: unknown): v is DescriptorLike {
  const d = v as Partial<DescriptorLike> | null;
  return (
    typeof d === "object" &&
    d !== null &&
    typeof d.group === "string" &&
    typeof d.version === "string" &&
    typeof d.kind === "string" &&
    typeof d.plural === "string" &&
    typeof d.namespaced === "boolean" &&
    Array.isArray(d.verbs)
  );
}

function builtin(d: DescriptorLike): ServedResource {
  const storage = gr(d.plural, d.group);
  const virtual = !d.verbs.includes("get") && d.verbs.includes("create");
  let meta: PatchMeta | null | undefined;
  return Object.freeze({
    group: d.group,
    version: d.version,
    kind: d.kind,
    listKind: `${d.kind}List`,
    plural: d.plural,
    singular: d.singular,
    namespaced: d.namespaced,
    shortNames: d.shortNames,
    categories: d.categories,
    verbs: d.verbs,
    subresources: d.subresources,
    storage,
    custom: false,
    hasStatus: d.subresources.some((s) => s.name === "status"),
    scale: d.subresources.some((s) => s.name === "scale") ? SCALE[storage] : undefined,
    generation: GENERATION.has(storage),
    unconditionalUpdate: !CONDITIONAL_UPDATE.has(storage),
    createOnUpdate: CREATE_ON_UPDATE.has(storage),
    returnDeletedObject: RETURN_DELETED.has(storage),
    virtual,
    nameRule: nameRuleOf(storage),
    fieldSelector: FIELDS[storage] ?? genericFields(BASIC_FIELDS),
    patchMeta() {
      if (meta === undefined) {
        meta = PatchMeta.builtin({ group: d.group, version: d.version, kind: d.kind }) ?? null;
      }
      return meta ?? undefined;
    },
  });
}

let builtins: readonly ServedResource[] | undefined;

/** The built-in resources, one per group version and plural. */
export function builtinResources(): readonly ServedResource[] {
  builtins ??= Object.freeze(
    BUILTIN_MODULES.flatMap((m) => Object.values(m).filter(isDescriptor)).map(builtin),
  );
  return builtins;
}

// ---------------------------------------------------------------------------------------------
// Custom resources

/** The parts of a CustomResourceDefinition (apiextensions.k8s.io/v1) the server reads. */
export interface CrdLike {
  metadata?: { name?: string };
  spec?: {
    group?: string;
    scope?: string;
    names?: {
      plural?: string;
      singular?: string;
      kind?: string;
      listKind?: string;
      shortNames?: string[];
      categories?: string[];
    };
    versions?: {
      name?: string;
      served?: boolean;
      storage?: boolean;
      schema?: { openAPIV3Schema?: Record<string, unknown> };
      subresources?: {
        status?: unknown;
        scale?: {
          specReplicasPath?: string;
          statusReplicasPath?: string;
          labelSelectorPath?: string;
        };
      };
      selectableFields?: { jsonPath?: string }[];
    }[];
  };
}

const CR_VERBS = Object.freeze([
  "delete",
  "deletecollection",
  "get",
  "list",
  "patch",
  "create",
  "update",
  "watch",
]);
const SUB_VERBS = Object.freeze(["get", "patch", "update"]);

/** The served versions of a CRD as resources; empty when the CRD lacks a group, names or kind. */
export function crdResources(crd: CrdLike): ServedResource[] {
  const spec = crd.spec;
  const group = spec?.group;
  const names = spec?.names;
  if (!group || !names?.plural || !names.kind) return [];
  const plural = names.plural;
  const kind = names.kind;
  const storage = gr(plural, group);
  const out: ServedResource[] = [];
  for (const v of spec.versions ?? []) {
    if (!v?.name || v.served === false) continue;
    const version = v.name;
    const subs: SubresourceInfo[] = [];
    const hasStatus = v.subresources?.status !== undefined && v.subresources.status !== null;
    if (hasStatus) subs.push({ name: "status", verbs: SUB_VERBS });
    const sc = v.subresources?.scale;
    let scale: ScaleSpec | undefined;
    if (sc?.specReplicasPath && sc.statusReplicasPath) {
      scale = {
        specReplicasPath: sc.specReplicasPath,
        statusReplicasPath: sc.statusReplicasPath,
        selector: sc.labelSelectorPath ? { path: sc.labelSelectorPath } : undefined,
      };
      subs.push({
        name: "scale",
        responseKind: { group: "autoscaling", version: "v1", kind: "Scale" },
        verbs: SUB_VERBS,
      });
    }
    const fields: Record<string, string> = { ...BASIC_FIELDS };
    for (const f of v.selectableFields ?? []) {
      if (typeof f?.jsonPath === "string" && f.jsonPath.startsWith(".")) {
        fields[f.jsonPath.slice(1)] = f.jsonPath.slice(1);
      }
    }
    const schema = v.schema?.openAPIV3Schema;
    let meta: PatchMeta | null | undefined;
    out.push(
      Object.freeze({
        group,
        version,
        kind,
        listKind: names.listKind || `${kind}List`,
        plural,
        singular: names.singular || kind.toLowerCase(),
        namespaced: spec.scope !== "Cluster",
        shortNames: Object.freeze([...(names.shortNames ?? [])]),
        categories: Object.freeze([...(names.categories ?? [])]),
        verbs: CR_VERBS,
        subresources: Object.freeze(subs),
        storage,
        custom: true,
        hasStatus,
        scale,
        generation: true,
        unconditionalUpdate: false,
        createOnUpdate: false,
        returnDeletedObject: false,
        virtual: false,
        nameRule: "subdomain",
        fieldSelector: genericFields(fields),
        patchMeta() {
          if (meta === undefined) {
            meta = schema ? schemaPatchMeta(group, version, kind, schema) : null;
          }
          return meta ?? undefined;
        },
      }),
    );
  }
  return out;
}

/** A custom resource's list and map semantics, from its OpenAPI v3 schema. */
function schemaPatchMeta(
  group: string,
  version: string,
  kind: string,
  schema: Record<string, unknown>,
): PatchMeta | undefined {
  const name = `${group}.${version}.${kind}`;
  const table = buildPatchMetaTable({
    [name]: { ...schema, "x-kubernetes-group-version-kind": [{ group, version, kind }] },
  });
  return PatchMeta.fromTable(table, { group, version, kind });
}

// ---------------------------------------------------------------------------------------------
// Ordering, as discovery lists groups and versions

/** The group order of kube-apiserver v1.37's discovery; later groups (CRDs) sort by name. */
const GROUP_ORDER = [
  "",
  "apiregistration.k8s.io",
  "apps",
  "events.k8s.io",
  "authentication.k8s.io",
  "authorization.k8s.io",
  "autoscaling",
  "batch",
  "certificates.k8s.io",
  "networking.k8s.io",
  "policy",
  "rbac.authorization.k8s.io",
  "storage.k8s.io",
  "admissionregistration.k8s.io",
  "apiextensions.k8s.io",
  "scheduling.k8s.io",
  "coordination.k8s.io",
  "node.k8s.io",
  "discovery.k8s.io",
  "resource.k8s.io",
  "flowcontrol.apiserver.k8s.io",
  "internal.apiserver.k8s.io",
  "storagemigration.k8s.io",
];

export function compareGroups(a: string, b: string): number {
  const ia = GROUP_ORDER.indexOf(a);
  const ib = GROUP_ORDER.indexOf(b);
  if (ia >= 0 || ib >= 0) return (ia < 0 ? 1e6 : ia) - (ib < 0 ? 1e6 : ib);
  return a < b ? -1 : a > b ? 1 : 0;
}

const KUBE_VERSION = /^v(\d+)(?:(alpha|beta)(\d+))?$/;

/**
 * apimachinery's `CompareKubeAwareVersionStrings` as an ascending sort key: GA before beta before
 * alpha, higher numbers first, versions that are not Kubernetes-like last in alphabetical order.
 */
export function compareVersions(a: string, b: string): number {
  const ma = KUBE_VERSION.exec(a);
  const mb = KUBE_VERSION.exec(b);
  if (!ma || !mb) {
    if (ma) return -1;
    if (mb) return 1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  const rank = (m: RegExpExecArray) => (m[2] === undefined ? 2 : m[2] === "beta" ? 1 : 0);
  if (rank(ma) !== rank(mb)) return rank(mb) - rank(ma);
  if (ma[1] !== mb[1]) return Number(mb[1]) - Number(ma[1]);
  return Number(mb[3] ?? 0) - Number(ma[3] ?? 0);
}
