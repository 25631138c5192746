/**
 * The oracle for src/testing/ssa.ts: every scenario runs against the real kube-apiserver and
 * against `serverSideApply` / `recordUpdate`, step by step, and the two must agree on
 * `metadata.managedFields` (entries, order, times, FieldsV1 down to key order), on the applied
 * object (after the server's defaulting, obtained with a dry-run update of ours), and on refusals
 * (code, reason, message, causes).
 *
 * Each step starts both sides from the same state: the server's object with our managed fields
 * (the server's when a controller wrote in between), so a difference points at the step itself.
 * Adding a scenario is one entry in SCENARIOS.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Client } from "../../src/client/index.ts";
import { ApiError } from "../../src/core/errors.ts";
import type { KubernetesObject } from "../../src/core/meta.ts";
import { recordUpdate, serverSideApply } from "../../src/testing/ssa.ts";
import { testClient, testNamespace, uniqueName } from "../support/cluster.ts";

type Obj = Record<string, unknown>;

interface Kind {
  apiVersion: string;
  kind: string;
  plural: string;
  /** A custom resource of the oracle's CRD: its schema and status subresource go to ssa.ts. */
  custom?: boolean;
  /** Fields the strategy or the REST storage sets after field management (never owned). */
  unseen?: string[][];
  /** Managers of controllers that write the object in the background (compared no further). */
  background?: string[];
}

type Step =
  | {
      op: "apply";
      manager: string;
      body: Obj;
      force?: boolean;
      subresource?: string;
      /** The step is refused: compare the Status. */
      fails?: boolean;
      /** Send the configuration as is (no name or namespace filled in). */
      raw?: boolean;
      /**
       * The merge leaves null at this path (an emptied list of a custom resource): the server's
       * schema validation refuses it with a 422, ours returns the object with the null.
       */
      invalidNull?: string[];
    }
  | { op: "create"; manager: string; body: Obj; fails?: boolean }
  | {
      op: "update";
      manager: string;
      body: (live: Obj) => Obj;
      subresource?: string;
      fails?: boolean;
    }
  /** Let the clock move on, so that entries differ in time. */
  | { op: "sleep"; manager: string; ms: number }
  | {
      op: "merge" | "strategic" | "json";
      manager: string;
      patch: unknown;
      subresource?: string;
      fails?: boolean;
      /**
       * The object the field manager saw, from the stored one: what the strategy then reset
       * without telling the field manager (so the manager owns it though it is gone).
       */
      seen?: (stored: Obj) => Obj;
    };

interface Scenario {
  name: string;
  kind: Kind;
  steps: Step[];
}

const CM: Kind = { apiVersion: "v1", kind: "ConfigMap", plural: "configmaps" };
const DEPLOY: Kind = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  plural: "deployments",
  background: ["kube-controller-manager"],
};
const SVC: Kind = {
  apiVersion: "v1",
  kind: "Service",
  plural: "services",
  unseen: [
    ["spec", "clusterIP"],
    ["spec", "clusterIPs"],
    ["spec", "ipFamilies"],
    ["spec", "ipFamilyPolicy"],
  ],
};
const SECRET: Kind = { apiVersion: "v1", kind: "Secret", plural: "secrets" };
const POD: Kind = {
  apiVersion: "v1",
  kind: "Pod",
  plural: "pods",
  // Set by admission plugins, after field management.
  unseen: [
    ["spec", "serviceAccountName"],
    ["spec", "serviceAccount"],
    ["spec", "tolerations"],
    ["spec", "priority"],
    ["spec", "preemptionPolicy"],
  ],
};
const LEASE: Kind = { apiVersion: "coordination.k8s.io/v1", kind: "Lease", plural: "leases" };
const STS: Kind = {
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  plural: "statefulsets",
  background: ["kube-controller-manager"],
};

const CRD_GROUP = `${uniqueName("oracle")}.kubekit.test`;
const WIDGET: Kind = {
  apiVersion: `${CRD_GROUP}/v1`,
  kind: "Widget",
  plural: "widgets",
  custom: true,
};
const WIDGET_SCHEMA = {
  type: "object",
  properties: {
    spec: {
      type: "object",
      properties: {
        replicas: { type: "integer" },
        size: { type: "string" },
        tags: { type: "array", items: { type: "string" } },
        items: {
          type: "array",
          items: {
            type: "object",
            properties: { name: { type: "string" }, value: { type: "integer" } },
          },
        },
        ports: {
          type: "array",
          "x-kubernetes-list-type": "map",
          "x-kubernetes-list-map-keys": ["name"],
          items: {
            type: "object",
            required: ["name"],
            properties: { name: { type: "string" }, port: { type: "integer" } },
          },
        },
        owners: { type: "array", "x-kubernetes-list-type": "set", items: { type: "string" } },
        settings: { type: "object", additionalProperties: { type: "string" } },
        config: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        selector: {
          type: "object",
          "x-kubernetes-map-type": "atomic",
          properties: { app: { type: "string" }, tier: { type: "string" } },
        },
      },
    },
    status: {
      type: "object",
      properties: {
        phase: { type: "string" },
        replicas: { type: "integer" },
        conditions: {
          type: "array",
          "x-kubernetes-list-type": "map",
          "x-kubernetes-list-map-keys": ["type"],
          items: {
            type: "object",
            required: ["type"],
            properties: { type: { type: "string" }, status: { type: "string" } },
          },
        },
      },
    },
  },
};

const labels = { app: "web" };
const deployment = (spec: Obj = {}, meta: Obj = {}): Obj => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { ...meta },
  spec: {
    replicas: 1,
    selector: { matchLabels: labels },
    template: {
      metadata: { labels },
      spec: { containers: [{ name: "web", image: "nginx:1.27" }] },
    },
    ...spec,
  },
});
const podSpec = (spec: Obj): Obj => ({ template: { metadata: { labels }, spec } });
/** A configuration of just these Deployment spec fields. */
const deploymentPart = (spec: Obj): Obj => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: {},
  spec,
});
const containers = (...list: Obj[]): Obj => ({ template: { spec: { containers: list } } });
const cm = (data?: Obj, meta: Obj = {}): Obj => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { ...meta },
  ...(data ? { data } : {}),
});
const svc = (spec: Obj, meta: Obj = {}): Obj => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { ...meta },
  spec,
});
const widget = (spec?: Obj, status?: Obj): Obj => ({
  apiVersion: WIDGET.apiVersion,
  kind: "Widget",
  metadata: {},
  ...(spec ? { spec } : {}),
  ...(status ? { status } : {}),
});

const SCENARIOS: Scenario[] = [
  {
    name: "ConfigMap: apply creates, the same apply again changes nothing",
    kind: CM,
    steps: [
      { op: "apply", manager: "a", body: cm({ k: "v" }, { labels: { x: "1" } }) },
      { op: "apply", manager: "a", body: cm({ k: "v" }, { labels: { x: "1" } }) },
    ],
  },
  {
    name: "ConfigMap: a field left out of the next apply goes away",
    kind: CM,
    steps: [
      {
        op: "apply",
        manager: "a",
        body: cm({ k: "v", j: "w" }, { labels: { x: "1" }, annotations: { n: "1" } }),
      },
      { op: "apply", manager: "a", body: cm({ k: "v" }, { annotations: { n: "1" } }) },
      { op: "apply", manager: "a", body: cm() },
    ],
  },
  {
    name: "ConfigMap: two managers share a value; it stays until both drop it",
    kind: CM,
    steps: [
      { op: "apply", manager: "a", body: cm({ own: "a" }, { labels: { shared: "x", mine: "1" } }) },
      { op: "apply", manager: "b", body: cm(undefined, { labels: { shared: "x" } }) },
      { op: "apply", manager: "a", body: cm({ own: "a" }) },
      { op: "apply", manager: "b", body: cm() },
    ],
  },
  {
    name: "ConfigMap: conflict, force, and the conflict the other way",
    kind: CM,
    steps: [
      { op: "apply", manager: "a", body: cm({ k: "1", j: "1" }) },
      { op: "apply", manager: "b", body: cm({ k: "2" }), fails: true },
      { op: "apply", manager: "b", body: cm({ k: "2" }), force: true },
      { op: "apply", manager: "a", body: cm({ k: "1", j: "1" }), fails: true },
      { op: "apply", manager: "a", body: cm({ j: "1" }) },
    ],
  },
  {
    name: "ConfigMap: conflicts with several managers, one message",
    kind: CM,
    steps: [
      { op: "apply", manager: "a", body: cm({ x: "1" }) },
      { op: "apply", manager: "b", body: cm({ y: "1" }, { labels: { l: "b" } }) },
      { op: "merge", manager: "editor", patch: { data: { z: "1" } } },
      {
        op: "apply",
        manager: "c",
        body: cm({ x: "2", y: "2", z: "2" }, { labels: { l: "c" } }),
        fails: true,
      },
      { op: "apply", manager: "c", body: cm({ x: "2", y: "2", z: "2" }), force: true },
    ],
  },
  {
    name: "ConfigMap: an Update takes the fields it changes from the applier",
    kind: CM,
    steps: [
      { op: "apply", manager: "a", body: cm({ k: "1", j: "1" }) },
      { op: "merge", manager: "editor", patch: { data: { k: "2" } } },
      { op: "apply", manager: "a", body: cm({ k: "1", j: "1" }), fails: true },
      { op: "apply", manager: "a", body: cm({ j: "1" }) },
      { op: "merge", manager: "editor", patch: { data: { k: null } } },
    ],
  },
  {
    name: "ConfigMap: apply after a create by another manager",
    kind: CM,
    steps: [
      { op: "create", manager: "creator", body: cm({ k: "1", j: "1" }, { labels: { a: "1" } }) },
      { op: "apply", manager: "a", body: cm({ k: "1" }) },
      { op: "apply", manager: "a", body: cm({ k: "1", j: "2" }), fails: true },
      { op: "apply", manager: "a", body: cm({ k: "1", j: "2" }), force: true },
      { op: "apply", manager: "a", body: cm() },
    ],
  },
  {
    name: "ConfigMap: empty maps are owned as values",
    kind: CM,
    steps: [
      { op: "apply", manager: "a", body: cm({}, { labels: {}, annotations: { x: "1" } }) },
      { op: "apply", manager: "b", body: cm({ k: "1" }, { labels: { l: "1" } }), fails: true },
      { op: "apply", manager: "b", body: cm({ k: "1" }, { labels: { l: "1" } }), force: true },
      { op: "apply", manager: "a", body: cm(undefined, { labels: {} }) },
      { op: "apply", manager: "a", body: cm(undefined, { annotations: {} }) },
    ],
  },
  {
    name: "ConfigMap: managedFields reset to [], updates stay unmanaged, the next apply starts before-first-apply",
    kind: CM,
    steps: [
      { op: "create", manager: "creator", body: cm({ k: "1" }, { labels: { a: "1" } }) },
      {
        op: "update",
        manager: "resetter",
        body: (live) => ({ ...live, metadata: { ...(live.metadata as Obj), managedFields: [] } }),
      },
      { op: "merge", manager: "patcher", patch: { data: { j: "2" } } },
      { op: "apply", manager: "a", body: cm({ k: "1", n: "3" }) },
      { op: "apply", manager: "a", body: cm({ n: "3" }) },
    ],
  },
  {
    name: "ConfigMap: JSON and strategic patches record their managers",
    kind: CM,
    steps: [
      { op: "apply", manager: "a", body: cm({ k: "1" }, { labels: { x: "1" } }) },
      { op: "json", manager: "jp", patch: [{ op: "add", path: "/data/j", value: "2" }] },
      { op: "strategic", manager: "sp", patch: { metadata: { labels: { x: "2", y: "1" } } } },
      { op: "json", manager: "jp", patch: [{ op: "remove", path: "/data/k" }] },
      { op: "apply", manager: "a", body: cm({ k: "1" }, { labels: { x: "1" } }), fails: true },
    ],
  },
  {
    name: "ConfigMap: eleven Update managers fold the oldest into ancient-changes",
    kind: CM,
    steps: [
      { op: "apply", manager: "applier", body: cm({ base: "1" }) },
      ...Array.from(
        { length: 12 },
        (_, i): Step => ({
          op: "merge",
          manager: `updater-${String(i).padStart(2, "0")}`,
          patch: { data: { [`k${i}`]: "1" } },
        }),
      ),
    ],
  },
  {
    name: "ConfigMap: a PUT of the object as read keeps the managers; a PUT changing data takes it",
    kind: CM,
    steps: [
      { op: "apply", manager: "a", body: cm({ k: "1", j: "1" }) },
      { op: "update", manager: "putter", body: (live) => live },
      {
        op: "update",
        manager: "putter",
        body: (live) => ({ ...live, data: { ...(live.data as Obj), j: "2", n: "3" } }),
      },
    ],
  },
  {
    name: "ConfigMap: finalizers are a set",
    kind: CM,
    steps: [
      {
        op: "apply",
        manager: "a",
        body: cm(undefined, { finalizers: ["example.com/a", "example.com/shared"] }),
      },
      {
        op: "apply",
        manager: "b",
        body: cm(undefined, { finalizers: ["example.com/shared", "example.com/b"] }),
      },
      { op: "apply", manager: "a", body: cm(undefined, { finalizers: ["example.com/a"] }) },
      { op: "merge", manager: "cleaner", patch: { metadata: { finalizers: null } } },
    ],
  },
  {
    name: "Apply refusals: wrong kind, wrong version, name, namespace, managedFields, unknown field",
    kind: CM,
    steps: [
      { op: "apply", manager: "a", body: cm({ k: "1" }) },
      { op: "apply", manager: "a", body: { ...cm({ k: "1" }), kind: "Secret" }, fails: true },
      { op: "apply", manager: "a", body: { ...cm({ k: "1" }), apiVersion: "v2" }, fails: true },
      {
        op: "apply",
        manager: "a",
        raw: true,
        body: { kind: "ConfigMap", metadata: { name: "obj" } },
        fails: true,
      },
      {
        op: "apply",
        manager: "a",
        raw: true,
        body: cm({ k: "1" }, { name: "other" }),
        fails: true,
      },
      {
        op: "apply",
        manager: "a",
        raw: true,
        body: cm({ k: "1" }, { name: "obj", namespace: "elsewhere" }),
        fails: true,
      },
      { op: "apply", manager: "a", body: cm({ k: "1" }, { managedFields: [] }), fails: true },
      { op: "apply", manager: "a", body: { ...cm({ k: "1" }), foo: "bar" }, fails: true },
      { op: "apply", manager: "", body: cm({ k: "1" }), fails: true },
      { op: "apply", manager: "m".repeat(129), body: cm({ k: "1" }), fails: true },
      { op: "apply", manager: "a", body: cm({ k: "1", j: "2" }) },
    ],
  },
  {
    name: "Secret: create by POST with stringData, then apply",
    kind: SECRET,
    steps: [
      {
        op: "create",
        manager: "creator",
        body: {
          apiVersion: "v1",
          kind: "Secret",
          metadata: {},
          type: "Opaque",
          data: { a: "MQ==" },
        },
      },
      {
        op: "apply",
        manager: "a",
        body: { apiVersion: "v1", kind: "Secret", metadata: {}, data: { a: "MQ==", b: "Mg==" } },
      },
      {
        op: "apply",
        manager: "a",
        body: { apiVersion: "v1", kind: "Secret", metadata: {}, type: "Opaque" },
      },
    ],
  },
  {
    name: "Deployment: apply creates; another manager adds an env var and a sidecar; the first re-applies",
    kind: DEPLOY,
    steps: [
      { op: "apply", manager: "a", body: deployment() },
      {
        op: "apply",
        manager: "b",
        body: deploymentPart(
          containers(
            { name: "web", env: [{ name: "B", value: "1" }] },
            { name: "sidecar", image: "busybox:1.36" },
          ),
        ),
      },
      {
        op: "apply",
        manager: "a",
        body: deployment({
          replicas: 2,
          ...podSpec({
            containers: [{ name: "web", image: "nginx:1.28", env: [{ name: "A", value: "1" }] }],
          }),
        }),
      },
      {
        op: "apply",
        manager: "b",
        body: deploymentPart(containers({ name: "sidecar", image: "busybox:1.36" })),
      },
    ],
  },
  {
    name: "Deployment: conflicts on replicas and image, force, and the new owner",
    kind: DEPLOY,
    steps: [
      { op: "apply", manager: "a", body: deployment() },
      {
        op: "apply",
        manager: "b",
        body: {
          ...deployment({
            replicas: 3,
            ...podSpec({ containers: [{ name: "web", image: "nginx:1.28" }] }),
          }),
        },
        fails: true,
      },
      {
        op: "apply",
        manager: "b",
        body: deployment({
          replicas: 3,
          ...podSpec({ containers: [{ name: "web", image: "nginx:1.28" }] }),
        }),
        force: true,
      },
      { op: "apply", manager: "a", body: deployment(), fails: true },
    ],
  },
  {
    name: "Deployment: ports keyed by containerPort and protocol (defaulted)",
    kind: DEPLOY,
    steps: [
      {
        op: "apply",
        manager: "a",
        body: deployment(
          podSpec({
            containers: [{ name: "web", image: "nginx", ports: [{ containerPort: 80 }] }],
          }),
        ),
      },
      {
        op: "apply",
        manager: "b",
        body: deployment(
          podSpec({
            containers: [
              {
                name: "web",
                ports: [
                  { containerPort: 53, protocol: "UDP" },
                  { containerPort: 53, protocol: "TCP" },
                ],
              },
            ],
          }),
        ),
      },
      {
        op: "apply",
        manager: "a",
        body: deployment(
          podSpec({
            containers: [
              { name: "web", image: "nginx", ports: [{ containerPort: 8080, name: "alt" }] },
            ],
          }),
        ),
      },
    ],
  },
  {
    name: "Deployment: atomic lists and the atomic selector are owned whole",
    kind: DEPLOY,
    steps: [
      {
        op: "apply",
        manager: "a",
        body: deployment(
          podSpec({
            containers: [{ name: "web", image: "nginx", args: ["-g", "daemon off;"] }],
            tolerations: [{ key: "k", operator: "Exists" }],
          }),
        ),
      },
      {
        op: "apply",
        manager: "b",
        body: deployment(podSpec({ containers: [{ name: "web", args: ["-g", "daemon off;"] }] })),
      },
      {
        op: "apply",
        manager: "b",
        body: deployment(podSpec({ containers: [{ name: "web", args: ["-v"] }], tolerations: [] })),
        fails: true,
      },
      {
        op: "apply",
        manager: "b",
        body: deployment(podSpec({ containers: [{ name: "web", args: ["-v"] }] })),
        force: true,
      },
    ],
  },
  {
    name: "Deployment: created by POST (defaults owned by the creator), then applied",
    kind: DEPLOY,
    steps: [
      { op: "create", manager: "kubectl-create", body: deployment({}, { labels: { app: "web" } }) },
      { op: "apply", manager: "a", body: deployment() },
      {
        op: "apply",
        manager: "a",
        body: deployment({ replicas: 2, revisionHistoryLimit: 5 }),
        fails: true,
      },
      {
        op: "apply",
        manager: "a",
        body: deployment({ replicas: 2, revisionHistoryLimit: 5 }),
        force: true,
      },
      {
        op: "strategic",
        manager: "kubectl-edit",
        patch: {
          spec: { template: { spec: { containers: [{ name: "web", image: "nginx:1.29" }] } } },
        },
      },
    ],
  },
  {
    name: "Deployment: /scale moves replicas to the scaler",
    kind: DEPLOY,
    steps: [
      { op: "apply", manager: "a", body: deployment({ replicas: 2 }) },
      {
        op: "update",
        manager: "scaler",
        subresource: "scale",
        body: (live) => ({
          apiVersion: "autoscaling/v1",
          kind: "Scale",
          metadata: {
            name: (live.metadata as Obj).name,
            namespace: (live.metadata as Obj).namespace,
          },
          spec: { replicas: 3 },
        }),
      },
      { op: "apply", manager: "a", body: deployment({ replicas: 2 }), fails: true },
      { op: "apply", manager: "a", body: deployment({ replicas: undefined }) },
      {
        op: "apply",
        manager: "hpa",
        subresource: "scale",
        raw: true,
        body: {
          apiVersion: "autoscaling/v1",
          kind: "Scale",
          metadata: { name: "obj" },
          spec: { replicas: 4 },
        },
        force: true,
      },
    ],
  },
  {
    name: "Deployment: /status writes are tracked per subresource; status on the main resource is not",
    kind: DEPLOY,
    steps: [
      { op: "apply", manager: "a", body: { ...deployment(), status: { replicas: 7 } } },
      {
        op: "merge",
        manager: "status-writer",
        subresource: "status",
        patch: {
          status: { observedGeneration: 5, collisionCount: 1 },
          metadata: { labels: { s: "1" } },
        },
      },
      {
        op: "apply",
        manager: "status-applier",
        subresource: "status",
        body: {
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: {},
          status: { collisionCount: 2 },
        },
        force: true,
      },
    ],
  },
  {
    name: "Deployment: a removed container goes with its fields; list order follows the configuration",
    kind: DEPLOY,
    steps: [
      {
        op: "apply",
        manager: "a",
        body: deployment(
          podSpec({
            containers: [
              { name: "one", image: "busybox" },
              { name: "two", image: "busybox" },
              { name: "three", image: "busybox" },
            ],
          }),
        ),
      },
      {
        op: "apply",
        manager: "b",
        body: deployment(
          podSpec({
            containers: [
              { name: "two", image: "busybox" },
              { name: "four", image: "busybox" },
            ],
          }),
        ),
      },
      {
        op: "apply",
        manager: "a",
        body: deployment(
          podSpec({
            containers: [
              { name: "zero", image: "busybox" },
              { name: "three", image: "busybox" },
              { name: "one", image: "busybox" },
            ],
          }),
        ),
      },
    ],
  },
  {
    name: "Deployment: an emptied struct and defaults the server puts back",
    kind: DEPLOY,
    steps: [
      {
        op: "apply",
        manager: "a",
        body: deployment({ strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 2 } } }),
      },
      {
        op: "apply",
        manager: "a",
        body: deployment({ strategy: { rollingUpdate: { maxUnavailable: 0 } } }),
      },
      { op: "apply", manager: "a", body: deployment() },
    ],
  },
  {
    name: "Service: ports by port and protocol; allocated addresses are nobody's",
    kind: SVC,
    steps: [
      {
        op: "create",
        manager: "creator",
        body: svc({ selector: labels, ports: [{ name: "http", port: 80, targetPort: 8080 }] }),
      },
      {
        op: "apply",
        manager: "a",
        body: svc({
          ports: [
            { name: "http", port: 80, targetPort: 8080 },
            { name: "dns", port: 53, protocol: "UDP" },
          ],
        }),
      },
      { op: "apply", manager: "b", body: svc({ selector: { app: "other" } }), fails: true },
      {
        op: "apply",
        manager: "b",
        body: svc({ selector: { app: "other" }, type: "NodePort" }),
        force: true,
      },
    ],
  },
  {
    name: "Service: applied from scratch, then a port is dropped",
    kind: SVC,
    steps: [
      {
        op: "apply",
        manager: "a",
        body: svc({
          selector: labels,
          ports: [
            { name: "a", port: 80 },
            { name: "b", port: 81 },
          ],
        }),
      },
      {
        op: "apply",
        manager: "a",
        body: svc({ selector: labels, ports: [{ name: "b", port: 81 }] }),
      },
      { op: "merge", manager: "labeler", patch: { metadata: { labels: { team: "x" } } } },
    ],
  },
  {
    name: "kubectl: a client-side applied object taken over by kubectl's server-side apply",
    kind: CM,
    steps: [
      {
        op: "create",
        manager: "kubectl-client-side-apply",
        body: cm(
          { k: "1" },
          {
            annotations: {
              "kubectl.kubernetes.io/last-applied-configuration":
                '{"apiVersion":"v1","data":{"k":"1"},"kind":"ConfigMap","metadata":{"annotations":{},"name":"obj"}}\n',
            },
          },
        ),
      },
      { op: "apply", manager: "kubectl", body: cm({ k: "2" }), fails: false },
      { op: "apply", manager: "kubectl", body: cm({ k: "3", j: "1" }) },
    ],
  },
  {
    name: "ConfigMap: entries sort by time; a no-op apply keeps its manager's time",
    kind: CM,
    steps: [
      { op: "apply", manager: "z-first", body: cm({ z: "1" }) },
      { op: "sleep", manager: "-", ms: 1100 },
      { op: "apply", manager: "a-second", body: cm({ a: "1" }) },
      { op: "merge", manager: "y-updater", patch: { data: { y: "1" } } },
      { op: "sleep", manager: "-", ms: 1100 },
      { op: "apply", manager: "z-first", body: cm({ z: "1" }) },
      { op: "merge", manager: "b-updater", patch: { data: { b: "1" } } },
      { op: "apply", manager: "z-first", body: cm({ z: "2" }) },
    ],
  },
  {
    name: "Deployment: kubectl's lifecycle: server-side apply, edit by PUT, re-apply conflicts, force",
    kind: DEPLOY,
    steps: [
      { op: "apply", manager: "kubectl", body: deployment({}, { labels: { app: "web" } }) },
      { op: "apply", manager: "kubectl", body: deployment({}, { labels: { app: "web" } }) },
      {
        op: "update",
        manager: "kubectl-edit",
        body: (live) => {
          const next = structuredClone(live) as {
            spec: { template: { spec: { containers: Obj[] } } };
          };
          next.spec.template.spec.containers[0]!.image = "nginx:1.29";
          next.spec.template.spec.containers[0]!.imagePullPolicy = "Always";
          return next as unknown as Obj;
        },
      },
      {
        op: "apply",
        manager: "kubectl",
        body: deployment({}, { labels: { app: "web" } }),
        fails: true,
      },
      {
        op: "apply",
        manager: "kubectl",
        body: deployment({}, { labels: { app: "web" } }),
        force: true,
      },
    ],
  },
  {
    name: "Deployment refusals: duplicate keys, a wrong scalar type",
    kind: DEPLOY,
    steps: [
      { op: "apply", manager: "a", body: deployment() },
      {
        op: "apply",
        manager: "a",
        body: deployment(containers({ name: "web", image: "x" }, { name: "web", image: "y" })),
        fails: true,
      },
      { op: "apply", manager: "a", body: deployment({ replicas: "three" }), fails: true },
      { op: "apply", manager: "a", body: deployment({ replicas: 2 }) },
    ],
  },
  {
    name: "StatefulSet: volume claim templates are an atomic list; another manager's update",
    kind: STS,
    steps: [
      {
        op: "apply",
        manager: "a",
        body: {
          apiVersion: "apps/v1",
          kind: "StatefulSet",
          metadata: {},
          spec: {
            serviceName: "web",
            replicas: 0,
            selector: { matchLabels: labels },
            template: {
              metadata: { labels },
              spec: { containers: [{ name: "web", image: "nginx" }] },
            },
            volumeClaimTemplates: [
              {
                metadata: { name: "data" },
                spec: {
                  accessModes: ["ReadWriteOnce"],
                  resources: { requests: { storage: "1Gi" } },
                },
              },
            ],
          },
        },
      },
      {
        op: "merge",
        manager: "tuner",
        patch: { spec: { updateStrategy: { type: "OnDelete", rollingUpdate: null }, replicas: 0 } },
      },
      {
        op: "strategic",
        manager: "annotator",
        patch: { spec: { template: { metadata: { annotations: { restartedAt: "now" } } } } },
      },
    ],
  },
  {
    name: "Pod: created by POST; status, ephemeral containers and resize through their subresources",
    kind: POD,
    steps: [
      {
        op: "create",
        manager: "creator",
        body: {
          apiVersion: "v1",
          kind: "Pod",
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            containers: [
              {
                name: "c",
                image: "busybox",
                resources: { requests: { cpu: "100m" }, limits: { cpu: "200m" } },
              },
            ],
          },
        },
      },
      {
        op: "merge",
        manager: "kubelet",
        subresource: "status",
        patch: {
          status: {
            phase: "Running",
            podIP: "10.0.0.7",
            podIPs: [{ ip: "10.0.0.7" }],
            conditions: [{ type: "Ready", status: "True" }],
          },
          metadata: { labels: { fromStatus: "1" } },
        },
      },
      {
        op: "apply",
        manager: "labeler",
        body: { apiVersion: "v1", kind: "Pod", metadata: { labels: { team: "x" } } },
      },
      {
        op: "strategic",
        manager: "kubectl-debug",
        subresource: "ephemeralcontainers",
        seen: (o) => ({
          ...o,
          metadata: { ...metaOf(o), labels: { ...(metaOf(o).labels as Obj), ignored: "1" } },
        }),
        patch: {
          metadata: { labels: { ignored: "1" } },
          spec: {
            ephemeralContainers: [{ name: "debugger", image: "busybox", targetContainerName: "c" }],
          },
        },
      },
      {
        op: "strategic",
        manager: "resizer",
        subresource: "resize",
        patch: {
          spec: {
            containers: [
              { name: "c", resources: { requests: { cpu: "150m" }, limits: { cpu: "300m" } } },
            ],
          },
        },
      },
      {
        op: "apply",
        manager: "status-applier",
        subresource: "status",
        body: {
          apiVersion: "v1",
          kind: "Pod",
          metadata: {},
          status: { conditions: [{ type: "Initialized", status: "True" }] },
        },
      },
    ],
  },
  {
    name: "Lease: a holder renewing by PUT, a second candidate applying",
    kind: LEASE,
    steps: [
      {
        op: "create",
        manager: "holder",
        body: {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: {},
          spec: {
            holderIdentity: "a",
            leaseDurationSeconds: 15,
            renewTime: "2026-01-01T00:00:00.000000Z",
          },
        },
      },
      {
        op: "update",
        manager: "holder",
        body: (live) => ({
          ...live,
          spec: { ...(live.spec as Obj), renewTime: "2026-01-01T00:00:10.000000Z" },
        }),
      },
      {
        op: "apply",
        manager: "candidate",
        body: {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: {},
          spec: { holderIdentity: "b", leaseTransitions: 1 },
        },
        fails: true,
      },
      {
        op: "apply",
        manager: "candidate",
        body: {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: {},
          spec: { holderIdentity: "b", leaseTransitions: 1 },
        },
        force: true,
      },
    ],
  },
  {
    name: "Widget (custom resource): lists without a list type are atomic",
    kind: WIDGET,
    steps: [
      {
        op: "apply",
        manager: "a",
        body: widget({ tags: ["x", "y"], items: [{ name: "i", value: 1 }] }),
      },
      { op: "apply", manager: "b", body: widget({ tags: ["x", "y"] }) },
      { op: "apply", manager: "b", body: widget({ tags: ["z"] }), fails: true },
      {
        op: "apply",
        manager: "b",
        body: widget({ tags: ["z"], items: [{ name: "i", value: 2 }] }),
        force: true,
      },
      { op: "apply", manager: "a", body: widget({ size: "m" }) },
    ],
  },
  {
    name: "Widget (custom resource): map and set lists, free maps, preserved fields, atomic struct",
    kind: WIDGET,
    steps: [
      {
        op: "apply",
        manager: "a",
        body: widget({
          ports: [{ name: "http", port: 80 }],
          owners: ["alice"],
          settings: { a: "1" },
          config: { deep: { x: 1 }, list: [1, 2] },
          selector: { app: "web" },
        }),
      },
      {
        op: "apply",
        manager: "b",
        body: widget({
          ports: [{ name: "dns", port: 53 }],
          owners: ["bob", "alice"],
          settings: { b: "1" },
          config: { deep: { y: 2 } },
        }),
      },
      {
        op: "apply",
        manager: "b",
        body: widget({ selector: { app: "web", tier: "x" } }),
        fails: true,
      },
      { op: "apply", manager: "b", body: widget({ ports: [{ port: 1 }] }), fails: true },
      { op: "apply", manager: "a", body: widget({ settings: { a: "1" } }) },
    ],
  },
  {
    name: "Widget (custom resource): status subresource, and status ignored on the main resource",
    kind: WIDGET,
    steps: [
      { op: "apply", manager: "a", body: widget({ size: "s" }, { phase: "ignored" }) },
      {
        op: "apply",
        manager: "ctrl",
        subresource: "status",
        body: widget(undefined, {
          phase: "Ready",
          conditions: [{ type: "Ready", status: "True" }],
        }),
      },
      {
        op: "merge",
        manager: "other-ctrl",
        subresource: "status",
        patch: { status: { conditions: [{ type: "Ready", status: "False" }] } },
      },
      {
        op: "apply",
        manager: "ctrl",
        subresource: "status",
        body: widget(undefined, { phase: "Ready" }),
        invalidNull: ["status", "conditions"],
      },
      {
        op: "apply",
        manager: "ctrl",
        subresource: "status",
        body: widget(undefined, {
          phase: "Ready",
          conditions: [{ type: "Synced", status: "True" }],
        }),
      },
      { op: "merge", manager: "editor", patch: { spec: { size: "l" } } },
      { op: "apply", manager: "a", body: widget({ size: "s" }), fails: true },
    ],
  },
  {
    name: "Widget (custom resource): created by POST, updated by PUT, then applied",
    kind: WIDGET,
    steps: [
      {
        op: "create",
        manager: "creator",
        body: widget({
          size: "s",
          tags: ["a"],
          ports: [{ name: "http", port: 80 }],
          settings: { x: "1" },
        }),
      },
      {
        op: "update",
        manager: "editor",
        body: (live) => ({
          ...live,
          spec: { ...(live.spec as Obj), size: "m", settings: { x: "1", y: "2" } },
        }),
      },
      {
        op: "apply",
        manager: "a",
        body: widget({
          ports: [
            { name: "http", port: 80 },
            { name: "https", port: 443 },
          ],
        }),
      },
      { op: "apply", manager: "a", body: widget({ size: "l" }), fails: true },
    ],
  },
  {
    name: "Widget (custom resource): /scale through the spec replicas path",
    kind: WIDGET,
    steps: [
      { op: "apply", manager: "a", body: widget({ replicas: 1, size: "s" }) },
      {
        op: "merge",
        manager: "scaler",
        subresource: "scale",
        patch: { spec: { replicas: 5 } },
      },
      { op: "apply", manager: "a", body: widget({ replicas: 1, size: "s" }), fails: true },
      { op: "apply", manager: "a", body: widget({ size: "s" }) },
    ],
  },
];

// ---------------------------------------------------------------------------------------------
// The runner

let client: Client;

before(async () => {
  client = await testClient();
  await installCrd();
});

after(async () => {
  await client
    .request({
      method: "DELETE",
      path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.${CRD_GROUP}`,
    })
    .catch(() => {});
  await client.close();
});

async function installCrd(): Promise<void> {
  await client.request({
    method: "POST",
    path: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
    body: {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: `widgets.${CRD_GROUP}` },
      spec: {
        group: CRD_GROUP,
        scope: "Namespaced",
        names: { plural: "widgets", singular: "widget", kind: "Widget" },
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            schema: { openAPIV3Schema: WIDGET_SCHEMA },
            subresources: {
              status: {},
              scale: { specReplicasPath: ".spec.replicas", statusReplicasPath: ".status.replicas" },
            },
          },
        ],
      },
    },
  });
  for (let i = 0; i < 100; i++) {
    const crd = await client.request<Obj>({
      method: "GET",
      path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.${CRD_GROUP}`,
    });
    const conditions = ((crd.status as Obj | undefined)?.conditions ?? []) as Obj[];
    if (conditions.some((c) => c.type === "Established" && c.status === "True")) {
      // Discovery and the handler need a moment after Established.
      await new Promise((r) => setTimeout(r, 500));
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the oracle CRD did not become established");
}

function basePath(kind: Kind, ns: string): string {
  const [group, version] = kind.apiVersion.includes("/")
    ? kind.apiVersion.split("/")
    : ["", kind.apiVersion];
  const root = group ? `/apis/${group}/${version}` : `/api/${version}`;
  return `${root}/namespaces/${ns}/${kind.plural}`;
}

type Outcome = { ok: Obj } | { err: ApiError };

async function attempt<T>(f: () => Promise<T>): Promise<{ ok: T } | { err: ApiError }> {
  try {
    return { ok: await f() };
  } catch (e) {
    if (e instanceof ApiError) return { err: e };
    throw e;
  }
}

function ours(f: () => KubernetesObject): Outcome {
  try {
    return { ok: f() as unknown as Obj };
  } catch (e) {
    if (e instanceof ApiError) return { err: e };
    throw e;
  }
}

const metaOf = (o: Obj): Obj => (o.metadata ?? {}) as Obj;
const entriesOf = (o: Obj): Obj[] => (metaOf(o).managedFields ?? []) as Obj[];

function withEntries(o: Obj, entries: unknown): Obj {
  const { managedFields: _, ...meta } = metaOf(o);
  return { ...o, metadata: entries === undefined ? meta : { ...meta, managedFields: entries } };
}

function withoutPaths(o: Obj, paths: string[][] | undefined): Obj {
  const out = structuredClone(o);
  for (const p of paths ?? []) {
    let node: unknown = out;
    for (const key of p.slice(0, -1)) node = (node as Obj | undefined)?.[key];
    if (node && typeof node === "object") delete (node as Obj)[p[p.length - 1]!];
  }
  return out;
}

/** The time the server gave this step: the acting manager's entry, else the newest. */
function stepTime(o: Obj | undefined, manager: string): string {
  const entries = o ? entriesOf(o) : [];
  const own = entries.find((e) => e.manager === manager && typeof e.time === "string");
  if (own) return own.time as string;
  const times = entries
    .map((e) => e.time)
    .filter((t): t is string => typeof t === "string")
    .sort();
  return times.at(-1) ?? new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

function fill(body: Obj, ns: string): Obj {
  return { ...body, metadata: { ...metaOf(body), name: "obj", namespace: ns } };
}

function stripServerAssigned(o: Obj, kind: Kind): Obj {
  const {
    managedFields: _m,
    resourceVersion: _r,
    generation: _g,
    uid: _u,
    creationTimestamp: _c,
    annotations,
    ...meta
  } = metaOf(o);
  const kept = { ...((annotations ?? {}) as Obj) };
  delete kept["deployment.kubernetes.io/revision"];
  const out: Obj = {
    ...o,
    metadata: { ...meta, ...(Object.keys(kept).length > 0 ? { annotations: kept } : {}) },
  };
  if (kind.background) delete out.status;
  return out;
}

/** The entries compared: those of background controllers are not ours to predict. */
function comparable(o: Obj, kind: Kind): string {
  return JSON.stringify(
    entriesOf(o).filter((e) => !kind.background?.includes(e.manager as string)),
  );
}

async function runScenario(sc: Scenario): Promise<void> {
  const ns = await testNamespace(client, "kk-ssa");
  try {
    const base = basePath(sc.kind, ns.name);
    const objPath = `${base}/obj`;
    let real: Obj | undefined; // the server's object
    let mine: Obj | undefined; // the server's object with our managed fields
    const ctx = {
      kind: { apiVersion: sc.kind.apiVersion, kind: sc.kind.kind },
      ...(sc.kind.custom ? { openAPIV3Schema: WIDGET_SCHEMA, statusSubresource: true } : {}),
    };
    for (const [i, step] of sc.steps.entries()) {
      const where = `${sc.name}, step ${i + 1} (${step.op} by ${step.manager})`;
      if (step.op === "sleep") {
        await new Promise((r) => setTimeout(r, step.ms));
        continue;
      }
      // A controller may have written since the last step: start from what is there.
      if (real) {
        const now = await client.request<Obj>({ method: "GET", path: objPath });
        if (metaOf(now).resourceVersion !== metaOf(real).resourceVersion) {
          real = now;
          mine = now;
        }
      }
      const sub = "subresource" in step && step.subresource ? `/${step.subresource}` : "";
      // The write's own answer (a controller may write right after); a Scale means the parent.
      const objectAfter = async (answer: Obj): Promise<Obj> =>
        answer.kind === sc.kind.kind
          ? answer
          : client.request<Obj>({ method: "GET", path: objPath });
      const query = { fieldManager: step.manager };
      let theirs: Outcome;
      let oursOut: Outcome;
      if (step.op === "apply") {
        const body = step.raw ? step.body : fill(step.body, ns.name);
        const r = await attempt(() =>
          client.request<Obj>({
            method: "PATCH",
            path: objPath + sub,
            query: { ...query, ...(step.force ? { force: "true" } : {}) },
            body: JSON.stringify(body),
            contentType: "application/apply-patch+yaml",
          }),
        );
        theirs = "ok" in r ? { ok: await objectAfter(r.ok) } : r;
        const now = stepTime("ok" in theirs ? theirs.ok : undefined, step.manager);
        oursOut = ours(() =>
          serverSideApply({
            ...ctx,
            live: mine as KubernetesObject | undefined,
            applied: body as KubernetesObject,
            manager: step.manager,
            force: step.force ?? false,
            now,
            subresource: step.subresource,
            name: "obj",
            namespace: ns.name,
          }),
        );
      } else if (step.op === "create") {
        const body = fill(step.body, ns.name);
        theirs = await attempt(() =>
          client.request<Obj>({ method: "POST", path: base, query, body }),
        );
        oursOut =
          "ok" in theirs
            ? ours(() =>
                recordUpdate({
                  ...ctx,
                  live: undefined,
                  updated: withEntries(
                    withoutPaths((theirs as { ok: Obj }).ok, sc.kind.unseen),
                    metaOf(body).managedFields,
                  ) as KubernetesObject,
                  manager: step.manager,
                  now: stepTime((theirs as { ok: Obj }).ok, step.manager),
                }),
              )
            : theirs;
      } else {
        let requestEntries: unknown = entriesOf(mine ?? {});
        if (step.op === "update") {
          const put = () => {
            const body = step.body(structuredClone(real ?? {}));
            const sent = metaOf(body).managedFields;
            // A body carrying the entries it read is, on our side, a body carrying ours.
            requestEntries =
              JSON.stringify(sent) === JSON.stringify(metaOf(real ?? {}).managedFields)
                ? entriesOf(mine ?? {})
                : sent;
            return attempt(() =>
              client.request<Obj>({ method: "PUT", path: objPath + sub, query, body }),
            );
          };
          theirs = await put();
          // A controller wrote between our read and the update: read again, as a client would.
          for (let n = 0; n < 5 && "err" in theirs && theirs.err.reason === "Conflict"; n++) {
            real = await client.request<Obj>({ method: "GET", path: objPath });
            mine = real;
            theirs = await put();
          }
        } else {
          const contentType = {
            merge: "application/merge-patch+json",
            strategic: "application/strategic-merge-patch+json",
            json: "application/json-patch+json",
          }[step.op];
          theirs = await attempt(() =>
            client.request<Obj>({
              method: "PATCH",
              path: objPath + sub,
              query,
              body: JSON.stringify(step.patch),
              contentType,
            }),
          );
        }
        if ("ok" in theirs) theirs = { ok: await objectAfter(theirs.ok) };
        const result = theirs;
        oursOut =
          "ok" in result
            ? ours(() =>
                recordUpdate({
                  ...ctx,
                  live: mine as KubernetesObject,
                  updated: withEntries(
                    "seen" in step && step.seen ? step.seen(result.ok) : result.ok,
                    requestEntries,
                  ) as KubernetesObject,
                  manager: step.manager,
                  now: stepTime(result.ok, step.manager),
                  subresource: "subresource" in step ? step.subresource : undefined,
                }),
              )
            : result;
      }

      if (step.op === "apply" && step.invalidNull) {
        assert.ok(
          "err" in theirs && theirs.err.status.code === 422,
          `${where}: the server should refuse the null`,
        );
        assert.ok("ok" in oursOut, `${where}: ours should return the object`);
        let v: unknown = oursOut.ok;
        for (const key of step.invalidNull) v = (v as Obj)[key];
        assert.equal(v, null, `${where}: ours should hold null at ${step.invalidNull.join(".")}`);
        continue;
      }
      if ("err" in theirs) {
        assert.ok(step.fails, `${where}: the server refused: ${theirs.err.message}`);
        assert.ok(
          "err" in oursOut,
          `${where}: the server refused (${theirs.err.message}), ours did not`,
        );
        const s = (e: ApiError) => ({
          code: e.status.code,
          reason: e.status.reason,
          message: e.status.message,
          causes: [...(e.status.details?.causes ?? [])].sort((a, b) =>
            JSON.stringify(a) < JSON.stringify(b) ? -1 : 1,
          ),
        });
        assert.deepEqual(s(oursOut.err), s(theirs.err), where);
        continue;
      }
      assert.ok(!step.fails, `${where}: the server accepted a step meant to fail`);
      if ("err" in oursOut) assert.fail(`${where}: ours refused: ${oursOut.err.message}`);
      assert.equal(
        comparable(oursOut.ok, sc.kind),
        comparable(theirs.ok, sc.kind),
        `${where}: managedFields`,
      );
      if (step.op === "apply" && step.subresource !== "scale") {
        // Our object, through the server's defaulting and strategy, is the server's object.
        const ourObject = oursOut.ok;
        const dryRun = async () => {
          const current = await client.request<Obj>({ method: "GET", path: objPath });
          const rv = metaOf(current).resourceVersion;
          return client.request<Obj>({
            method: "PUT",
            path: objPath + sub,
            query: { dryRun: "All", fieldManager: "oracle-dry-run" },
            body: withEntries(
              { ...ourObject, metadata: { ...metaOf(ourObject), resourceVersion: rv } },
              undefined,
            ),
          });
        };
        // A controller writing in between makes the update a conflict: read again.
        let dry = await attempt(dryRun);
        for (let n = 0; n < 5 && "err" in dry && dry.err.statusCode === 409; n++)
          dry = await attempt(dryRun);
        if ("err" in dry) throw dry.err;
        assert.deepEqual(
          stripServerAssigned(dry.ok, sc.kind),
          stripServerAssigned(theirs.ok, sc.kind),
          `${where}: object`,
        );
      }
      real = theirs.ok;
      mine = withEntries(theirs.ok, metaOf(oursOut.ok).managedFields);
    }
  } finally {
    await ns.remove();
  }
}

describe("server-side apply and field management: ssa.ts against kube-apiserver", () => {
  for (const sc of SCENARIOS) test(sc.name, () => runScenario(sc));
});
