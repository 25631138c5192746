import type { Api } from "../client/api.ts";
import type { KubernetesObject } from "../core/meta.ts";

export type FinalizerEvent<T> = { type: "apply"; object: T } | { type: "cleanup"; object: T };

/**
 * Runs a reconcile step behind a finalizer, as kube-rs's `finalizer()`: an object without the
 * finalizer first gets it (and nothing else happens until the next reconcile); a live object is
 * `apply`-ed; an object being deleted is cleaned up and then released by removing the finalizer.
 * The finalizer is added and removed with JSON patches that test the finalizer list first, so a
 * concurrent change fails the patch (422) instead of losing someone's finalizer.
 */
export async function finalizer<T extends KubernetesObject, R>(
  api: Api<T, boolean>,
  name: string,
  obj: T,
  handle: (event: FinalizerEvent<T>) => Promise<R>,
  options: { signal?: AbortSignal } = {},
): Promise<R | undefined> {
  const finalizers = obj.metadata?.finalizers ?? [];
  const has = finalizers.includes(name);
  const deleting = obj.metadata?.deletionTimestamp !== undefined;
  const call = options.signal ? { signal: options.signal } : {};
  const objName = obj.metadata?.name ?? "";
  if (!deleting && !has) {
    const ops = obj.metadata?.finalizers
      ? [
          { op: "test" as const, path: "/metadata/finalizers", value: finalizers },
          { op: "add" as const, path: "/metadata/finalizers/-", value: name },
        ]
      : [
          {
            op: "test" as const,
            path: "/metadata/resourceVersion",
            value: obj.metadata?.resourceVersion,
          },
          { op: "add" as const, path: "/metadata/finalizers", value: [name] },
        ];
    await api.patch(objName, ops, { type: "json", ...call });
    return undefined;
  }
  if (!deleting) return handle({ type: "apply", object: obj });
  if (!has) return undefined;
  const result = await handle({ type: "cleanup", object: obj });
  const index = finalizers.indexOf(name);
  await api.patch(
    objName,
    [
      { op: "test", path: `/metadata/finalizers/${index}`, value: name },
      { op: "remove", path: `/metadata/finalizers/${index}` },
    ],
    { type: "json", ...call },
  );
  return result;
}
