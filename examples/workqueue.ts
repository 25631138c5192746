/**
 * client-go's workqueue example: an informer feeds pod keys into a rate-limited queue; workers
 * handle one key at a time, retry a failing key up to 5 times with backoff, then give up on it.
 * (kubekit/controller's `Controller` packages this pattern; this is the pieces by hand.)
 */
import { Client } from "kubekit";
import { Pod } from "kubekit/api/core/v1";
import { metaNamespaceKey, SharedIndexInformer } from "kubekit/cache";
import { loadConfig } from "kubekit/config";
import { RateLimitingQueue } from "kubekit/workqueue";

const client = new Client(await loadConfig());
const informer = new SharedIndexInformer(client.api(Pod).namespace("default"));
const queue = new RateLimitingQueue<string>();
informer.addEventHandler({
  onAdd: (pod) => queue.add(metaNamespaceKey(pod)),
  onUpdate: (_old, pod) => queue.add(metaNamespaceKey(pod)),
  onDelete: (pod) => queue.add(metaNamespaceKey(pod)),
});

async function sync(key: string): Promise<void> {
  const pod = informer.indexer.getByKey(key);
  console.log(
    pod ? `Sync/Add/Update for Pod ${pod.metadata?.name}` : `Pod ${key} does not exist anymore`,
  );
}

const ac = new AbortController();
process.once("SIGINT", () => ac.abort());
ac.signal.addEventListener("abort", () => void queue.shutdown({ drain: true }));
const running = informer.run({ signal: ac.signal });
if (await informer.waitForSync({ signal: ac.signal })) {
  const worker = async () => {
    for await (const key of queue) {
      try {
        await sync(key);
        queue.forget(key);
      } catch (err) {
        if (queue.numRequeues(key) < 5) {
          console.log(`Error syncing pod ${key}: ${(err as Error).message}`);
          queue.addRateLimited(key);
        } else {
          queue.forget(key);
          console.log(`Dropping pod ${key} out of the queue: ${(err as Error).message}`);
        }
      }
    }
  };
  await Promise.all([worker(), worker()]);
}
await running;
await client.close();
