/**
 * Deterministic, realistic pods for the replay servers: a Deployment's pods as the API server
 * returns them (two containers with env, volume mounts, resources and probes; volumes; status
 * with conditions and containerStatuses; managedFields), about 2.5 KB of JSON each. The same seed
 * gives the same bytes on every machine, so runs are comparable.
 */

/** mulberry32: a small, fast, seedable PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALNUM = "bcdfghjklmnpqrstvwxz2456789";
const HEX = "0123456789abcdef";

function pick<T>(rand: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)]!;
}

function chars(rand: () => number, alphabet: string, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
  return s;
}

function uuid(rand: () => number): string {
  const h = chars(rand, HEX, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
}

function ts(base: number, offsetS: number): string {
  return new Date(base + offsetS * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

const APPS = ["checkout", "catalog", "payments", "search", "frontend", "inventory", "auth", "cart"];
const NAMESPACES = ["shop", "shop-staging", "platform", "payments", "search"];
const BASE_TIME = Date.UTC(2026, 9, 1, 8, 0, 0);

/** One pod; `i` makes it unique, the seed makes it reproducible. */
export function makePod(i: number, seed = 1): Record<string, unknown> {
  const rand = prng(seed * 1_000_003 + i);
  const app = pick(rand, APPS);
  const ns = pick(rand, NAMESPACES);
  const hash = chars(rand, ALNUM, 10);
  const name = `${app}-${hash}-${chars(rand, ALNUM, 5)}`;
  const created = Math.floor(rand() * 86_400 * 20);
  const node = `node-${String(Math.floor(rand() * 200)).padStart(3, "0")}`;
  const podIP = `10.${Math.floor(rand() * 250)}.${Math.floor(rand() * 250)}.${Math.floor(rand() * 250)}`;
  const hostIP = `172.16.${Math.floor(rand() * 250)}.${Math.floor(rand() * 250)}`;
  const rv = String(100_000 + i * 7);
  const version = `1.${Math.floor(rand() * 30)}.${Math.floor(rand() * 10)}`;
  const cpu = pick(rand, ["100m", "250m", "500m"]);
  const mem = pick(rand, ["128Mi", "256Mi", "512Mi"]);
  const started = ts(BASE_TIME, created + 4);
  // About half the pods carry a proxy sidecar, as in a partly meshed cluster.
  const withProxy = rand() < 0.5;
  const appContainer = (image: string, port: number) => ({
    name: app,
    image,
    ports: [{ name: "http", containerPort: port, protocol: "TCP" }],
    env: [
      { name: "APP_ENV", value: ns.endsWith("staging") ? "staging" : "production" },
      {
        name: "POD_NAME",
        valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.name" } },
      },
    ],
    resources: { limits: { memory: mem }, requests: { cpu, memory: mem } },
    volumeMounts: [
      { name: "config", mountPath: "/etc/app", readOnly: true },
      { name: "kube-api-access", mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" },
    ],
    readinessProbe: { httpGet: { path: "/ready", port, scheme: "HTTP" }, periodSeconds: 10 },
    imagePullPolicy: "IfNotPresent",
  });
  const sidecar = (image: string) => ({
    name: "proxy",
    image,
    env: [{ name: "LOG_LEVEL", value: "warn" }],
    resources: { requests: { cpu: "50m", memory: "64Mi" } },
    volumeMounts: [{ name: "config", mountPath: "/etc/proxy", readOnly: true }],
    imagePullPolicy: "IfNotPresent",
  });
  const status = (cname: string, image: string) => ({
    name: cname,
    state: { running: { startedAt: started } },
    ready: true,
    restartCount: Math.floor(rand() * 3),
    image,
    containerID: `containerd://${chars(rand, HEX, 64)}`,
  });
  const appImage = `registry.example.com/${app}:${version}`;
  const proxyImage = "registry.example.com/envoy:1.31.2";
  return {
    metadata: {
      name,
      generateName: `${app}-${hash}-`,
      namespace: ns,
      uid: uuid(rand),
      resourceVersion: rv,
      creationTimestamp: ts(BASE_TIME, created),
      labels: { app, "pod-template-hash": hash, tier: pick(rand, ["web", "api", "worker"]) },
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name: `${app}-${hash}`,
          uid: uuid(rand),
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      managedFields: [
        {
          manager: "kube-controller-manager",
          operation: "Update",
          apiVersion: "v1",
          time: ts(BASE_TIME, created),
          fieldsType: "FieldsV1",
          fieldsV1: {
            "f:metadata": {
              "f:generateName": {},
              "f:labels": { ".": {}, "f:app": {}, "f:pod-template-hash": {}, "f:tier": {} },
              "f:ownerReferences": { ".": {}, [`k:{"uid":"${hash}"}`]: {} },
            },
            "f:spec": { "f:containers": {}, "f:volumes": {} },
          },
        },
      ],
    },
    spec: {
      volumes: [
        { name: "config", configMap: { name: `${app}-config`, defaultMode: 420 } },
        {
          name: "kube-api-access",
          projected: {
            sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: "token" } }],
            defaultMode: 420,
          },
        },
      ],
      containers: withProxy
        ? [appContainer(appImage, 8080), sidecar(proxyImage)]
        : [appContainer(appImage, 8080)],
      restartPolicy: "Always",
      terminationGracePeriodSeconds: 30,
      dnsPolicy: "ClusterFirst",
      serviceAccountName: app,
      nodeName: node,
      securityContext: { runAsNonRoot: true },
      schedulerName: "default-scheduler",
      priority: 0,
      enableServiceLinks: true,
    },
    status: {
      phase: "Running",
      conditions: [
        ["Ready", 6],
        ["ContainersReady", 6],
        ["PodScheduled", 0],
      ].map(([type, at]) => ({
        type,
        status: "True",
        lastProbeTime: null,
        lastTransitionTime: ts(BASE_TIME, created + (at as number)),
      })),
      hostIP,
      podIP,
      podIPs: [{ ip: podIP }],
      startTime: ts(BASE_TIME, created),
      containerStatuses: withProxy
        ? [status(app, appImage), status("proxy", proxyImage)]
        : [status(app, appImage)],
      qosClass: "Burstable",
    },
  };
}

/** A PodList of `count` pods as `GET /api/v1/pods` returns it. */
export function makePodList(count: number, seed = 1): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(JSON.stringify(makePod(i, seed)));
  const head = `{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"${100_000 + count * 7}"},"items":[`;
  return Buffer.from(`${head}${parts.join(",")}]}\n`);
}

/** Newline-delimited MODIFIED watch events, one per pod, as a watch response body carries them. */
export function makeWatchEvents(count: number, seed = 1): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    // Unlike list items, a watch event's object carries its kind and apiVersion.
    const object = { kind: "Pod", apiVersion: "v1", ...makePod(i, seed) };
    lines.push(JSON.stringify({ type: "MODIFIED", object }));
  }
  return Buffer.from(`${lines.join("\n")}\n`);
}
