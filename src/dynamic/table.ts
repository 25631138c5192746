/**
 * Server-side printing: any resource as a `meta.k8s.io/v1` Table, the columns kubectl shows
 * (`NAME READY STATUS AGE ...`), computed by the server for built-in kinds and from
 * `additionalPrinterColumns` for custom ones; and `formatTable`, which prints one as `kubectl get`
 * does.
 */
import type { ApiContext } from "../client/api.ts";
import { DecodeError } from "../core/errors.ts";
import type { KubernetesObject, ListMeta } from "../core/meta.ts";
import type { GetOptions, ListOptions } from "../core/options.ts";
import { buildRequest } from "../core/request.ts";
import type { ResourceRef } from "../core/resource.ts";
import type { CallOptions } from "../rest/client.ts";
import type { ScopedGroupVersionResource } from "./dynamic.ts";
import type { PartialObjectMetadata } from "./metadata.ts";
import { contextOf, type RestContext, refOf, Scope, split } from "./scope.ts";

/** The Accept header of a Table request. */
export const ACCEPT_TABLE = "application/json;as=Table;g=meta.k8s.io;v=v1,application/json";

export interface TableColumnDefinition {
  name: string;
  /** An OpenAPI type: `string`, `integer`, `number`, `boolean`, `date`. */
  type: string;
  /** `name` for the object's name column; otherwise an OpenAPI format or empty. */
  format: string;
  description: string;
  /** 0 for the default columns; higher ones are shown only with `wide`. */
  priority: number;
}

export interface TableRowCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface TableRow {
  /** One cell per column definition: a string, number, boolean, or null. */
  cells: unknown[];
  conditions?: TableRowCondition[];
  /** The object (or its metadata, or nothing) as `includeObject` asked. */
  object?: PartialObjectMetadata | KubernetesObject;
}

export interface Table {
  apiVersion: "meta.k8s.io/v1";
  kind: "Table";
  metadata: ListMeta;
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

/** What each row carries of its object: nothing, its metadata (the server's default), or all of it. */
export type IncludeObject = "None" | "Metadata" | "Object";

/**
 * The Table client of one resource:
 *
 * ```ts
 * const t = await tables(client, Pod).namespace("web").list();
 * process.stdout.write(formatTable(t));
 * ```
 */
export function tables<N extends boolean>(
  client: RestContext,
  resource: ResourceRef<N> | ScopedGroupVersionResource<N>,
): TableApi<N> {
  return new TableApi<N>(contextOf(client), refOf(resource));
}

/**
 * Namespaces work as in `Api` (see there), except that `namespace()` also type-checks when the
 * scope is known only at run time (`N` is `boolean`); it throws for a cluster-scoped resource.
 */
export class TableApi<N extends boolean = boolean> {
  readonly #scope: Scope<N>;

  constructor(ctx: ApiContext, resource: ResourceRef<N>, namespace?: string) {
    this.#scope = new Scope<N>(ctx, resource, namespace);
  }

  get resource(): ResourceRef<N> {
    return this.#scope.resource;
  }

  get ns(): string | undefined {
    return this.#scope.ns;
  }

  namespace(
    this: boolean extends N ? TableApi<N> : TableApi<true>,
    namespace: string,
  ): TableApi<true> {
    const s = this.#scope.in(namespace);
    return new TableApi<true>(
      { rest: s.rest, defaultNamespace: s.defaultNamespace },
      s.resource,
      namespace,
    );
  }

  /** One object as a one-row Table. */
  async get(
    name: string,
    options?: GetOptions & CallOptions & { includeObject?: IncludeObject },
  ): Promise<Table> {
    const { includeObject, ...rest } = options ?? {};
    const [opts, call] = split(rest);
    const req = buildRequest({
      verb: "get",
      resource: this.#scope.resource,
      name,
      options: opts,
      accept: ACCEPT_TABLE,
      ...params(includeObject),
      ...ns(this.#scope.single()),
    });
    return asTable(await this.#scope.rest.json(req, call), req.path);
  }

  /** The collection (one page when `limit` is set) as a Table. */
  async list(
    options?: ListOptions & CallOptions & { includeObject?: IncludeObject },
  ): Promise<Table> {
    const { includeObject, ...rest } = options ?? {};
    const [opts, call] = split(rest);
    const req = buildRequest({
      verb: "list",
      resource: this.#scope.resource,
      options: opts,
      accept: ACCEPT_TABLE,
      ...params(includeObject),
      ...ns(this.#scope.collection()),
    });
    return asTable(await this.#scope.rest.json(req, call), req.path);
  }
}

function params(includeObject: IncludeObject | undefined): {
  params?: [string, string][];
} {
  return includeObject === undefined ? {} : { params: [["includeObject", includeObject]] };
}

function ns(namespace: string | undefined): { namespace?: string } {
  return namespace === undefined ? {} : { namespace };
}

function asTable(value: unknown, path: string): Table {
  const t = value as Partial<Table> | null;
  if (t?.kind !== "Table" || !Array.isArray(t.columnDefinitions) || !Array.isArray(t.rows)) {
    throw new DecodeError(`GET ${path}: the server did not answer with a Table`, {
      excerpt: JSON.stringify(value)?.slice(0, 300),
    });
  }
  return t as Table;
}

export interface FormatTableOptions {
  /** Show every column, as `-o wide`; otherwise only those of priority 0. */
  wide?: boolean;
  /** Leave out the header line, as `--no-headers`. */
  noHeaders?: boolean;
  /**
   * Put a NAMESPACE column first, taken from each row's object, as `-A` does. The rows must carry
   * their objects' metadata (`includeObject` other than `None`).
   */
  withNamespace?: boolean;
  /** The time ages (`date` columns) are counted to, in ms since the epoch; now by default. */
  now?: number;
}

/**
 * A Table as `kubectl get` prints it: upper-case headers, the columns of priority 0 (all with
 * `wide`), cells padded with at least three spaces into columns at least six wide (kubectl's
 * tabwriter settings), `<none>` for an empty cell, text cut at its first line break with `...`,
 * and `date` cells as ages (`5m`, `3d4h`). Ends with a newline; empty for a Table with no rows, as
 * kubectl prints nothing then (it says "No resources found" on stderr).
 */
export function formatTable(table: Table, options: FormatTableOptions = {}): string {
  if (table.rows.length === 0) return "";
  const now = options.now ?? Date.now();
  const shown = table.columnDefinitions
    .map((c, i) => ({ c, i }))
    .filter(({ c }) => options.wide || !c.priority);
  const lines: string[][] = [];
  if (!options.noHeaders) {
    lines.push([
      ...(options.withNamespace ? ["NAMESPACE"] : []),
      ...shown.map(({ c }) => c.name.toUpperCase()),
    ]);
  }
  for (const row of table.rows) {
    const cells = shown.map(({ c, i }) => cellText(row.cells[i], c, now));
    if (options.withNamespace) cells.unshift(row.object?.metadata?.namespace ?? "");
    lines.push(cells);
  }
  return tabwrite(lines);
}

function cellText(value: unknown, column: TableColumnDefinition, now: number): string {
  if (value === null || value === undefined) return "<none>";
  if (typeof value === "string") {
    if (column.type === "date") {
      const t = Date.parse(value);
      if (!Number.isNaN(t)) return humanDuration(now - t);
    }
    const cut = value.search(/[\f\n\r]/);
    return escapeTerminal(cut < 0 ? value : value.slice(0, cut)) + (cut < 0 ? "" : "...");
  }
  if (typeof value === "object") return escapeTerminal(JSON.stringify(value));
  return escapeTerminal(String(value));
}

/** kubectl's terminal escaping: ESC would start a terminal control sequence, CR move the cursor. */
function escapeTerminal(s: string): string {
  return s.replaceAll("\x1b", "^[").replaceAll("\r", "\\r");
}

const MIN_WIDTH = 6;
const PADDING = 3;

/**
 * Go's tabwriter as kubectl sets it up (min width 6, padding 3, spaces): every cell but the last of
 * a line is padded to its column's width, the widest cell plus the padding.
 */
function tabwrite(lines: string[][]): string {
  const widths: number[] = [];
  for (const line of lines) {
    line.slice(0, -1).forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? MIN_WIDTH, [...cell].length + PADDING);
    });
  }
  return lines
    .map((line) =>
      line
        .map((cell, i) =>
          i === line.length - 1 ? cell : cell + " ".repeat(widths[i]! - [...cell].length),
        )
        .join(""),
    )
    .map((l) => `${l}\n`)
    .join("");
}

/**
 * A duration as kubectl prints ages (apimachinery's `duration.HumanDuration`): seconds up to two
 * minutes, then minutes (with seconds under ten minutes), hours (with minutes under eight hours),
 * days (with hours under eight days), and years (with days under eight years).
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const years = Math.trunc(hours / 24 / 365);
    const days = Math.trunc(hours / 24) % 365;
    return days === 0 ? `${years}y` : `${years}y${days}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}
