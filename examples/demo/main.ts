/**
 * `npm run demo`: a small but real controller. It keeps a ConfigMap named `kubekit-demo` in every
 * namespace labelled `demo=on` (and puts it back if someone deletes or edits it), records an Event
 * for what it does, and runs only while it holds a leader-election Lease, so several copies can run
 * at once and exactly one acts.
 *
 * It talks to the cluster of the current kubeconfig (as kubectl would); if that cannot be reached
 * it starts kubekit's local control plane (see `npm run cluster`) and uses that. Stop it with
 * Ctrl-C. `--duration <seconds>` stops it by itself (the integration tests use that).
 */
import { parseArgs } from "node:util";
import { Client, isAlreadyExists, isNotFound } from "kubekit";
import { ConfigMap, Namespace } from "kubekit/api/core/v1";
import { SharedIndexInformer } from "kubekit/cache";
import { loadConfig, type RestConfig } from "kubekit/config";
import { Controller } from "kubekit/controller";
import { EventRecorder, objectReference } from "kubekit/events";
import { LeaderElector } from "kubekit/leaderelection";

const { values } = parseArgs({
  options: {
    duration: { type: "string" },
    identity: { type: "string", default: `demo-${process.pid}` },
    kubeconfig: { type: "string" },
    "no-local": { type: "boolean", default: false },
  },
});

const say = (line: string) => console.log(`${new Date().toISOString().slice(11, 19)}  ${line}`);
const NAME = "kubekit-demo";
const MANAGED = { "app.kubernetes.io/managed-by": "kubekit-demo" };

async function reachable(config: RestConfig): Promise<boolean> {
  const probe = new Client(config, { maxRetries: 0, timeoutMs: 3000 });
  try {
    await probe.request({ method: "GET", path: "/version" });
    return true;
  } catch {
    return false;
  } finally {
    await probe.close();
  }
}

async function connect(): Promise<{ config: RestConfig; stop?: () => Promise<void> }> {
  try {
    const config = await loadConfig(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {});
    if (await reachable(config)) {
      say(`using ${config.server} (context ${config.contextName ?? "in-cluster"})`);
      return { config };
    }
    say(`${config.server} does not answer`);
  } catch (err) {
    say(`no usable kubeconfig: ${(err as Error).message}`);
  }
  if (values["no-local"]) throw new Error("no cluster reachable and --no-local was given");
  say(
    "starting kubekit's local control plane (the first time builds Kubernetes from source: a few minutes)",
  );
  const cp = await import("../../test/controlplane/controlplane.ts");
  const up = await cp.up({ log: (l) => say(`  ${l}`) });
  const config = await loadConfig({ kubeconfig: up.state.kubeconfig, env: {}, inCluster: false });
  say(`using the local control plane at ${config.server}`);
  return {
    config,
    ...(up.started ? { stop: () => cp.down({ log: () => {} }).then(() => undefined) } : {}),
  };
}

const { config, stop: stopCluster } = await connect();
const client = new Client(config);
const ac = new AbortController();
process.once("SIGINT", () => ac.abort());
process.once("SIGTERM", () => ac.abort());
if (values.duration) setTimeout(() => ac.abort(), Number(values.duration) * 1000).unref();

const namespaces = client.api(Namespace);
const labelled = await namespaces.list({ labelSelector: { demo: "on" } });
if (labelled.items.length === 0) {
  for (const name of ["kubekit-demo-a", "kubekit-demo-b"]) {
    try {
      await namespaces.create({ metadata: { name, labels: { demo: "on" } } });
      say(
        `created namespace ${name} with label demo=on (label your own with: kubectl label ns <name> demo=on)`,
      );
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
}

const recorder = new EventRecorder(client, {
  reportingController: "kubekit.dev/demo",
  reportingInstance: values.identity,
});
const nsInformer = new SharedIndexInformer(client.api(Namespace), {
  labelSelector: { demo: "on" },
});
const cmInformer = new SharedIndexInformer(client.api(ConfigMap), {
  fieldSelector: { "metadata.name": NAME },
});

const controller = new Controller({
  for: nsInformer,
  watches: [
    {
      informer: cmInformer,
      map: (cm) =>
        cm.metadata?.name === NAME ? [{ namespace: "", name: cm.metadata?.namespace ?? "" }] : [],
    },
  ],
  workers: 2,
  reconcile: async ({ name: ns }) => {
    const namespace = nsInformer.indexer.getByKey(ns);
    if (
      !namespace ||
      namespace.metadata?.deletionTimestamp ||
      namespace.metadata?.labels?.demo !== "on"
    )
      return;
    const want = { namespace: ns, "managed-by": "kubekit demo" };
    const cms = client.api(ConfigMap).namespace(ns);
    try {
      const have = await cms.get(NAME);
      const data = have.data ?? {};
      if (
        Object.keys(data).length === Object.keys(want).length &&
        Object.entries(want).every(([k, v]) => data[k] === v)
      )
        return;
      await cms.update({ ...have, data: want });
      say(`repaired ConfigMap ${ns}/${NAME}`);
      recorder.event(objectReference(namespace, Namespace), {
        type: "Normal",
        reason: "Repaired",
        action: "Update",
        note: `ConfigMap ${NAME} was changed; put it back`,
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await cms.create({ metadata: { name: NAME, labels: MANAGED }, data: want });
      say(`created ConfigMap ${ns}/${NAME}`);
      recorder.event(objectReference(namespace, Namespace), {
        type: "Normal",
        reason: "Created",
        action: "Create",
        note: `created ConfigMap ${NAME}`,
      });
    }
  },
  onError: (err, key) => say(`reconcile ${key.name} failed, will retry: ${(err as Error).message}`),
});

const elector = new LeaderElector({
  client,
  namespace: "default",
  name: "kubekit-demo",
  identity: values.identity,
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
  releaseOnCancel: true,
  callbacks: {
    onStartedLeading: async ({ signal }) => {
      say(`${values.identity} is the leader: reconciling namespaces labelled demo=on`);
      await controller.run({ signal });
    },
    onStoppedLeading: () => say(`${values.identity} stopped leading`),
    onNewLeader: (id) => {
      if (id !== values.identity) say(`the leader is ${id}`);
    },
  },
});

const informers = [nsInformer.run({ signal: ac.signal }), cmInformer.run({ signal: ac.signal })];
await Promise.all([
  nsInformer.waitForSync({ signal: ac.signal }),
  cmInformer.waitForSync({ signal: ac.signal }),
]);
say(`watching ${nsInformer.indexer.size} labelled namespaces; Ctrl-C stops`);
await elector.run({ signal: ac.signal });
await Promise.all(informers);
await recorder.close({ drain: true });
await client.close();
await stopCluster?.();
say("stopped");
