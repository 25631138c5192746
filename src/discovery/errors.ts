/**
 * The errors of discovery and REST mapping. Each has a stable `code`; the message is for people.
 */
import { KubekitError } from "../core/errors.ts";
import type { ResourceType } from "../core/resource.ts";

/**
 * One or more group versions could not be discovered (an aggregated API whose backend is down, a
 * group that vanished between listing and reading); everything else was. client-go's
 * `ErrGroupDiscoveryFailed`. Discovery does not throw it for a partial answer: it returns the
 * rest and hands this error back beside it (`snapshot.failed`), so callers choose whether a gap
 * matters to them. `groups` maps each failed group version (`metrics.k8s.io/v1beta1`, `v1`) to its
 * cause.
 */
export class GroupDiscoveryFailedError extends KubekitError {
  static override readonly brand: string = "GroupDiscoveryFailedError";
  readonly groups: ReadonlyMap<string, Error>;

  constructor(groups: ReadonlyMap<string, Error>) {
    const list = [...groups]
      .map(([gv, err]) => `${gv}: ${err.message}`)
      .sort()
      .join(", ");
    super(`unable to retrieve the complete list of server APIs: ${list}`, {
      code: "ERR_KUBEKIT_DISCOVERY_GROUP_FAILED",
    });
    this.groups = groups;
  }
}

/**
 * Aggregated discovery listed a group version as `Stale`: the API server could not refresh it from
 * the aggregated server behind it (usually because that server is unavailable), so its resources
 * are unknown. The cause of a `GroupDiscoveryFailedError` entry.
 */
export class StaleGroupVersionError extends KubekitError {
  static override readonly brand: string = "StaleGroupVersionError";
  readonly groupVersion: string;

  constructor(groupVersion: string) {
    super(`the server reported ${groupVersion} as stale in aggregated discovery`, {
      code: "ERR_KUBEKIT_DISCOVERY_STALE",
    });
    this.groupVersion = groupVersion;
  }
}

/** What a lookup asked for: a (partial) resource, a kind, or a kubectl-style argument. */
export interface MappingQuery {
  group?: string | undefined;
  version?: string | undefined;
  resource?: string | undefined;
  kind?: string | undefined;
  /** The kubectl-style argument, when the lookup started from one. */
  arg?: string | undefined;
}

function describe(q: MappingQuery): string {
  if (q.arg !== undefined) return JSON.stringify(q.arg);
  const name = q.resource ?? q.kind ?? "";
  const where = [q.version, q.group].filter((x) => x !== undefined && x !== "").join(".");
  return JSON.stringify(where ? `${name}.${where}` : name);
}

/**
 * The server serves nothing that matches: no such resource, kind, group or version (apimachinery's
 * `NoResourceMatchError` / `NoKindMatchError`). With a deferred mapper this is said only after a
 * refresh of discovery found nothing either.
 */
export class NoMatchError extends KubekitError {
  static override readonly brand: string = "NoMatchError";
  readonly query: MappingQuery;

  constructor(query: MappingQuery, message?: string) {
    const what = query.kind !== undefined && query.resource === undefined ? "kind" : "resource";
    super(message ?? `the server doesn't have a ${what} type ${describe(query)}`, {
      code: "ERR_KUBEKIT_NO_MATCH",
    });
    this.query = query;
  }
}

/**
 * More than one resource matches and the priority rules (core first, then groups in discovery
 * order, each group's preferred version first) cannot choose between them, e.g. two resources of
 * one group version share a singular name. Name the group (`foo.example.com`) to disambiguate.
 */
export class AmbiguousResourceError extends KubekitError {
  static override readonly brand: string = "AmbiguousResourceError";
  readonly query: MappingQuery;
  readonly matches: readonly ResourceType[];

  constructor(query: MappingQuery, matches: readonly ResourceType[]) {
    const list = matches
      .map((m) => `${m.plural}.${m.version}${m.group ? `.${m.group}` : ""}`)
      .join(", ");
    super(`${describe(query)} matches more than one resource: ${list}`, {
      code: "ERR_KUBEKIT_AMBIGUOUS_RESOURCE",
    });
    this.query = query;
    this.matches = matches;
  }
}

export function isNoMatch(err: unknown): err is NoMatchError {
  return err instanceof NoMatchError;
}

export function isGroupDiscoveryFailed(err: unknown): err is GroupDiscoveryFailedError {
  return err instanceof GroupDiscoveryFailedError;
}
