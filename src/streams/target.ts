/**
 * What the stream functions are pointed at: an `Api<Pod, true>` (`client.api(Pod).namespace(ns)`)
 * or a `Client` (then the namespace is `options.namespace`, else the config's).
 */
import type { Pod } from "../api/core/v1/index.ts";
import type { Api } from "../client/api.ts";
import type { Client } from "../client/client.ts";
import { RequestBuildError } from "../core/errors.ts";
import { resourcePath } from "../core/request.ts";
import type { ResourceRef } from "../core/resource.ts";
import type { RestClient } from "../rest/client.ts";
import type { UpgradeSettings } from "../rest/upgrade.ts";
import { StreamError } from "./errors.ts";

/** Pods to stream from: a namespaced pods `Api`, or a `Client`. */
export type PodTarget = Api<Pod, true> | Client;

const pods: ResourceRef<true> = { group: "", version: "v1", plural: "pods", namespaced: true };

export interface Resolved {
  rest: RestClient;
  namespace: string;
  /** The subresource's request path, e.g. `/api/v1/namespaces/a/pods/b/exec`. */
  path(name: string, subresource: string): string;
  /** How to open a WebSocket to the server `rest` talks to. */
  upgrade(): UpgradeSettings;
}

function isClient(target: PodTarget): target is Client {
  return "config" in target && "rest" in target && !("resource" in target);
}

export function resolveTarget(target: PodTarget, namespace: string | undefined): Resolved {
  if (typeof target !== "object" || target === null) {
    throw new RequestBuildError("pods", "must be a Client or a pods Api");
  }
  let rest: RestClient;
  let ns: string | undefined;
  if (isClient(target)) {
    rest = target.rest;
    ns = namespace ?? target.config.namespace;
  } else {
    const r = target.resource;
    if (r.group !== "" || r.version !== "v1" || r.plural !== "pods") {
      throw new RequestBuildError("pods", `must be an Api of core/v1 pods, not of ${r.plural}`);
    }
    rest = target.rest;
    if (namespace !== undefined && target.ns !== undefined && namespace !== target.ns) {
      throw new RequestBuildError(
        "options.namespace",
        `the Api is in namespace ${JSON.stringify(target.ns)}, not ${JSON.stringify(namespace)}`,
      );
    }
    ns = target.ns ?? namespace;
  }
  const upgrade = () => {
    const settings = rest.upgradeSettings();
    if (!settings) {
      throw new StreamError(
        "ERR_KUBEKIT_STREAM_NO_CONNECTION",
        "this client runs on a transport of its own (a test fake?), which cannot open WebSocket connections",
      );
    }
    return settings;
  };
  if (ns === undefined || ns === "") {
    throw new RequestBuildError(
      "namespace",
      "is required: choose one with .namespace(ns) or options.namespace",
    );
  }
  const chosen = ns;
  return {
    rest,
    namespace: chosen,
    path: (name, subresource) =>
      resourcePath({ resource: pods, namespace: chosen, name, subresource }),
    upgrade,
  };
}
