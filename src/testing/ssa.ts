/**
 * Server-side apply and field management for the in-memory API server: what kube-apiserver's
 * fieldmanager (structured-merge-diff) does to an object and its `metadata.managedFields` on an
 * apply, and on every other write that names a field manager.
 *
 * PLACEHOLDER: the signatures are fixed; the bodies are being written.
 */

import type { PatchMeta } from "../apply/patchmeta.ts";
import { ApiError } from "../core/errors.ts";
import type { KubernetesObject } from "../core/meta.ts";

export interface FieldManagementContext {
  /** The field manager (`fieldManager` option, or the server's default from the User-Agent). */
  manager: string;
  /** `metadata.managedFields[].time`: the write's time as RFC 3339 (seconds). */
  now: string;
  /** The subresource written ("status", "scale"), or undefined for the main resource. */
  subresource?: string | undefined;
  /**
   * List and map semantics of the kind (x-kubernetes-list-type / list-map-keys / map-type, and
   * patch merge keys for built-ins); undefined for kinds without a schema (lists are atomic).
   */
  patchMeta?: PatchMeta | undefined;
}

export interface ApplyInput extends FieldManagementContext {
  /** The live object, or undefined when the apply creates it. */
  live: KubernetesObject | undefined;
  /** The applied configuration, as the client sent it (parsed YAML or JSON). */
  applied: KubernetesObject;
  /** `force=true`: take over conflicting fields instead of failing. */
  force: boolean;
}

export interface UpdateInput extends FieldManagementContext {
  /** The object before the write, or undefined for a create. */
  live: KubernetesObject | undefined;
  /** The object the write produced (create, update, or any non-apply patch), before this call. */
  updated: KubernetesObject;
}

/**
 * The object an apply produces, with `managedFields` updated; throws an `ApiError` with the
 * server's Status (409 Conflict with one cause per conflicting field, 422 Invalid, 400) when the
 * real server would refuse it.
 */
export function serverSideApply(_input: ApplyInput): KubernetesObject {
  throw new ApiError({
    kind: "Status",
    apiVersion: "v1",
    status: "Failure",
    code: 415,
    reason: "UnsupportedMediaType",
    message: "server-side apply is not implemented by the in-memory server yet",
  });
}

/**
 * `updated` with `managedFields` recording `manager` as the owner (operation Update) of the
 * fields this write set or changed, as the real server records non-apply writes.
 */
export function recordUpdate(input: UpdateInput): KubernetesObject {
  return input.updated;
}
