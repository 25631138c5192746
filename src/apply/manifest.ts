/**
 * Manifests: multi-document YAML or JSON files of objects, applied with server-side apply and
 * deleted again, in an order that lets a file create its own namespaces and custom resource types.
 */
import { isMap, isSeq, LineCounter, parseAllDocuments } from "yaml";
import { CustomResourceDefinition } from "../api/apiextensions/v1/index.ts";
import type { ApplyConfigurationLike } from "../client/api.ts";
import type { Client } from "../client/client.ts";
import { type Clock, realClock } from "../core/clock.ts";
import { isNotFound } from "../core/errors.ts";
import type { KubernetesObject } from "../core/meta.ts";
import type { DeleteOptions, PropagationPolicy } from "../core/options.ts";
import { DeferredRestMapper } from "../discovery/deferred.ts";
import { Discovery } from "../discovery/discovery.ts";
import { NoMatchError } from "../discovery/errors.ts";
import type { DiscoveredResource } from "../discovery/parse.ts";
import { dynamic, type KindMapper } from "../dynamic/dynamic.ts";
import type { Unstructured } from "../dynamic/unstructured.ts";
import { ManifestError } from "./errors.ts";
import { isObject, type JsonObject, jsonEqual } from "./json.ts";

/** One object of a manifest and where it came from. */
export interface ManifestDocument {
  object: Unstructured;
  /** The 0-based position of its document in the stream (a `List`'s items share it). */
  index: number;
  /** The 1-based line where the object starts, when known. */
  line: number | undefined;
}

export interface ParseManifestOptions {
  /** A name for messages, such as the file name. */
  source?: string;
}

/**
 * The objects of a manifest: YAML documents separated by `---`, a JSON object, or a stream of
 * JSON objects; `List` kinds (`kind: List`, `kind: DeploymentList`) contribute their `items`.
 * YAML is read as YAML 1.1, as kubectl reads it (`0644` is octal, duplicate keys are errors).
 * Empty documents are skipped. A document that does not parse, or is not an object with
 * `apiVersion`, `kind` and `metadata.name`, is a `ManifestError` naming its index and line.
 */
export function parseManifestDocuments(
  text: string,
  options: ParseManifestOptions = {},
): ManifestDocument[] {
  const json = parseJsonStream(text);
  const raw = json ?? parseYaml(text, options.source);
  const out: ManifestDocument[] = [];
  for (const doc of raw) {
    if (doc.value === null || doc.value === undefined) continue;
    const where = { source: options.source, index: doc.index, line: doc.line };
    if (!isObject(doc.value)) {
      throw new ManifestError(`expected an object, got ${describe(doc.value)}`, where);
    }
    const list = doc.value;
    if (typeof list.kind === "string" && list.kind.endsWith("List") && Array.isArray(list.items)) {
      list.items.forEach((item, i) => {
        const line = doc.itemLines?.[i] ?? doc.line;
        const at = { ...where, line };
        if (!isObject(item)) {
          throw new ManifestError(`items[${i}]: expected an object, got ${describe(item)}`, at);
        }
        // A typed list (DeploymentList) may leave its items' apiVersion and kind to the list.
        const filled: JsonObject = { ...item };
        if (list.kind !== "List") {
          filled.apiVersion ??= list.apiVersion;
          filled.kind ??= (list.kind as string).slice(0, -4);
        }
        out.push({ object: checkObject(filled, at, `items[${i}]: `), index: doc.index, line });
      });
      continue;
    }
    out.push({ object: checkObject(list, where), index: doc.index, line: doc.line });
  }
  return out;
}

/** `parseManifestDocuments` without the positions. */
export function parseManifests(text: string, options: ParseManifestOptions = {}): Unstructured[] {
  return parseManifestDocuments(text, options).map((d) => d.object);
}

interface RawDocument {
  value: unknown;
  index: number;
  line: number | undefined;
  itemLines?: (number | undefined)[];
}

function describe(v: unknown): string {
  return Array.isArray(v) ? "a list" : v === null ? "null" : `a ${typeof v}`;
}

function checkObject(
  obj: JsonObject,
  where: { source: string | undefined; index: number; line: number | undefined },
  prefix = "",
): Unstructured {
  for (const field of ["apiVersion", "kind"] as const) {
    if (typeof obj[field] !== "string" || obj[field] === "") {
      throw new ManifestError(`${prefix}${field} is required`, {
        ...where,
        ...(typeof obj.kind === "string" ? { kind: obj.kind } : {}),
      });
    }
  }
  const meta = obj.metadata;
  if (!isObject(meta) || typeof meta.name !== "string" || meta.name === "") {
    throw new ManifestError(
      `${prefix}${obj.kind as string}: metadata.name is required (server-side apply cannot use generateName)`,
      { ...where, kind: obj.kind as string },
    );
  }
  return obj as unknown as Unstructured;
}

/** A JSON document or a stream of them (`{...}{...}`), or undefined when the text is not that. */
function parseJsonStream(text: string): RawDocument[] | undefined {
  const first = /\S/.exec(text);
  if (!first || (text[first.index] !== "{" && text[first.index] !== "[")) return undefined;
  const docs: RawDocument[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (escaped) escaped = false;
      else if (c === "\\") escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "{" || c === "[") {
      if (depth === 0) start = i;
      depth++;
    } else if (c === "}" || c === "]") {
      depth--;
      if (depth < 0) return undefined;
      if (depth === 0) {
        try {
          const value = JSON.parse(text.slice(start, i + 1)) as unknown;
          docs.push({ value, index: docs.length, line: lineAt(text, start) });
        } catch {
          return undefined; // let the YAML parser say where it is wrong
        }
      }
    } else if (depth === 0 && !/\s/.test(c)) {
      return undefined;
    }
  }
  return depth === 0 ? docs : undefined;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function parseYaml(text: string, source: string | undefined): RawDocument[] {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, version: "1.1", prettyErrors: true });
  if (!Array.isArray(parsed)) return [];
  return parsed.map((doc, index) => {
    const start = doc.contents?.range?.[0] ?? doc.range[0];
    const line = lineCounter.linePos(start).line;
    const error = doc.errors[0];
    if (error) {
      const at = error.linePos?.[0]?.line ?? line;
      throw new ManifestError(`invalid YAML: ${error.message.split("\n")[0]}`, {
        source,
        index,
        line: at,
        cause: error,
      });
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (cause) {
      throw new ManifestError(`invalid YAML: ${(cause as Error).message}`, {
        source,
        index,
        line,
        cause,
      });
    }
    let itemLines: (number | undefined)[] | undefined;
    if (isMap(doc.contents)) {
      const items = doc.contents.get("items", true);
      if (isSeq(items)) {
        itemLines = items.items.map((n) => {
          const r = (n as { range?: [number, number, number] | null }).range;
          return r ? lineCounter.linePos(r[0]).line : undefined;
        });
      }
    }
    return { value, index, line, ...(itemLines ? { itemLines } : {}) };
  });
}

// ---------------------------------------------------------------------------------------------
// Applying and deleting

const CRD_GROUP = "apiextensions.k8s.io";

function isNamespace(o: Unstructured): boolean {
  return o.kind === "Namespace" && o.apiVersion === "v1";
}

function isCrd(o: Unstructured): boolean {
  return o.kind === "CustomResourceDefinition" && o.apiVersion.startsWith(`${CRD_GROUP}/`);
}

function groupOf(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.lastIndexOf("/");
  return slash < 0
    ? { group: "", version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** `Kind.group` of the objects a CRD defines. */
function crdGroupKind(crd: Unstructured): string | undefined {
  const spec = crd.spec as { group?: unknown; names?: { kind?: unknown } } | undefined;
  return typeof spec?.group === "string" && typeof spec.names?.kind === "string"
    ? `${spec.names.kind}.${spec.group}`
    : undefined;
}

function groupKindOf(o: Unstructured): string {
  return `${o.kind}.${groupOf(o.apiVersion).group}`;
}

/** Namespaces, then CRDs, then everything else; file order within each. */
function applyOrder(docs: ManifestDocument[]): ManifestDocument[] {
  const rank = (d: ManifestDocument) => (isNamespace(d.object) ? 0 : isCrd(d.object) ? 1 : 2);
  return docs
    .map((d, i) => ({ d, i }))
    .sort((a, b) => rank(a.d) - rank(b.d) || a.i - b.i)
    .map((x) => x.d);
}

export type ApplyAction = "created" | "configured" | "unchanged";

/** What happened to one object: applied (with the resource it mapped to), or an error. */
export type ApplyManifestResult =
  | {
      object: Unstructured;
      resource: DiscoveredResource;
      action: ApplyAction;
      /** The object as the server returned it. */
      result: Unstructured;
      error?: undefined;
      index: number;
      line: number | undefined;
    }
  | {
      object: Unstructured;
      resource: DiscoveredResource | undefined;
      action?: undefined;
      error: Error;
      index: number;
      line: number | undefined;
    };

interface ManifestCallOptions {
  /**
   * Maps kinds to resources. Default: a `DeferredRestMapper` over a new `Discovery` of the client,
   * which asks discovery again on a miss (so a CRD applied moments ago resolves).
   */
  mapper?: KindMapper;
  /** The namespace of namespaced objects that name none (default: the client's namespace). */
  namespace?: string;
  /** A name for messages, such as the file name. */
  source?: string;
  signal?: AbortSignal;
  clock?: Clock;
}

export interface ApplyManifestsOptions extends ManifestCallOptions {
  fieldManager: string;
  force?: boolean;
  /** Ask the server to validate and answer without persisting anything. */
  dryRun?: boolean;
  /**
   * How long to wait for a CRD of the manifest to be `Established` (and served by discovery)
   * before its custom objects fail; 60 s by default.
   */
  crdTimeoutMs?: number;
}

/**
 * Applies every object of a manifest (text as for `parseManifestDocuments`, or parsed objects)
 * with server-side apply, owned by `fieldManager`: Namespaces first, then CRDs, then the rest in
 * file order; before the first custom object of a CRD from the same manifest, that CRD must be
 * `Established` and served. One object failing does not stop the others: its result carries the
 * error (an unknown kind is a `ManifestError` naming it). A manifest that does not parse throws
 * before anything is applied.
 *
 * `action` compares with the object before the call: `created` when there was none, `unchanged`
 * when its `resourceVersion` did not move (with `dryRun`, when the answer equals what was there),
 * else `configured`.
 */
export async function applyManifests(
  client: Client,
  manifest: string | readonly KubernetesObject[],
  options: ApplyManifestsOptions,
): Promise<ApplyManifestResult[]> {
  const docs = documentsOf(manifest, options.source);
  const mapper = options.mapper ?? new DeferredRestMapper(new Discovery(client));
  const clock = options.clock ?? realClock;
  const crdTimeoutMs = options.crdTimeoutMs ?? 60_000;
  const crdKinds = new Set(docs.filter((d) => isCrd(d.object)).map((d) => crdGroupKind(d.object)));
  const established = new Map<string, Promise<void>>();
  const results: ApplyManifestResult[] = [];

  for (const doc of applyOrder(docs)) {
    options.signal?.throwIfAborted();
    const { object } = doc;
    const gk = groupKindOf(object);
    let resource: DiscoveredResource | undefined;
    try {
      await established.get(gk);
      resource = await mapKind(mapper, doc, {
        retryUntil: crdKinds.has(gk) && !options.dryRun ? clock.now() + crdTimeoutMs : undefined,
        clock,
        source: options.source,
        signal: options.signal,
      });
      const api = dynamic(client, resource);
      const config = configFor(object, resource, options.namespace);
      const ns = resource.namespaced ? config.metadata.namespace : undefined;
      const scoped = ns === undefined ? api : api.namespace(ns);
      const call = options.signal ? { signal: options.signal } : {};
      const before = await scoped.get(config.metadata.name, call).catch((err: unknown) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
      const after = await scoped.apply(config as unknown as ApplyConfigurationLike, {
        fieldManager: options.fieldManager,
        ...(options.force ? { force: true } : {}),
        ...(options.dryRun ? { dryRun: "All" as const } : {}),
        ...call,
      });
      const action: ApplyAction = !before
        ? "created"
        : options.dryRun
          ? jsonEqual(before, after)
            ? "unchanged"
            : "configured"
          : before.metadata.resourceVersion === after.metadata.resourceVersion
            ? "unchanged"
            : "configured";
      if (isCrd(object) && !options.dryRun) {
        const kindOfCrd = crdGroupKind(object);
        if (kindOfCrd) {
          const wait = waitEstablished(client, config.metadata.name, {
            clock,
            deadline: clock.now() + crdTimeoutMs,
            signal: options.signal,
          });
          wait.catch(() => {}); // reported when an object of that kind waits for it
          established.set(kindOfCrd, wait);
        }
      }
      results.push({ object, resource, action, result: after, index: doc.index, line: doc.line });
    } catch (err) {
      if (options.signal?.aborted) throw err;
      results.push({
        object,
        resource,
        error: err instanceof Error ? err : new Error(String(err)),
        index: doc.index,
        line: doc.line,
      });
    }
  }
  return results;
}

export type DeleteAction = "deleted" | "notFound";

export type DeleteManifestResult =
  | {
      object: Unstructured;
      /** Undefined for an object of a custom resource whose CRD (in the manifest) is gone. */
      resource: DiscoveredResource | undefined;
      action: DeleteAction;
      error?: undefined;
      index: number;
      line: number | undefined;
    }
  | {
      object: Unstructured;
      resource: DiscoveredResource | undefined;
      action?: undefined;
      error: Error;
      index: number;
      line: number | undefined;
    };

export interface DeleteManifestsOptions extends ManifestCallOptions {
  dryRun?: boolean;
  propagationPolicy?: PropagationPolicy;
  gracePeriodSeconds?: number;
}

/**
 * Deletes the objects of a manifest in the reverse of the order `applyManifests` applies them
 * (custom objects before their CRDs, Namespaces last). An object that is already gone is
 * `notFound`, not an error; so is a custom object whose CRD, defined in the same manifest, is no
 * longer served. Deletion is requested, not awaited: objects with finalizers (and
 * Namespaces) go away later.
 */
export async function deleteManifests(
  client: Client,
  manifest: string | readonly KubernetesObject[],
  options: DeleteManifestsOptions = {},
): Promise<DeleteManifestResult[]> {
  const docs = documentsOf(manifest, options.source);
  const mapper = options.mapper ?? new DeferredRestMapper(new Discovery(client));
  const crdKinds = new Set(docs.filter((d) => isCrd(d.object)).map((d) => crdGroupKind(d.object)));
  const results: DeleteManifestResult[] = [];
  for (const doc of applyOrder(docs).reverse()) {
    options.signal?.throwIfAborted();
    const { object } = doc;
    let resource: DiscoveredResource | undefined;
    try {
      try {
        resource = await mapKind(mapper, doc, { source: options.source, signal: options.signal });
      } catch (err) {
        // A kind whose CRD is in this manifest and no longer served: its objects are gone too.
        if (!(err instanceof ManifestError && crdKinds.has(groupKindOf(object)))) throw err;
        results.push({
          object,
          resource: undefined,
          action: "notFound",
          index: doc.index,
          line: doc.line,
        });
        continue;
      }
      const api = dynamic(client, resource);
      const ns = resource.namespaced ? (object.metadata.namespace ?? options.namespace) : undefined;
      const scoped = ns === undefined ? api : api.namespace(ns);
      const deleteOptions: DeleteOptions = {
        ...(options.dryRun ? { dryRun: "All" as const } : {}),
        ...(options.propagationPolicy ? { propagationPolicy: options.propagationPolicy } : {}),
        ...(options.gracePeriodSeconds === undefined
          ? {}
          : { gracePeriodSeconds: options.gracePeriodSeconds }),
      };
      let action: DeleteAction = "deleted";
      try {
        await scoped.delete(object.metadata.name!, {
          ...deleteOptions,
          ...(options.signal ? { signal: options.signal } : {}),
        });
      } catch (err) {
        if (!isNotFound(err)) throw err;
        action = "notFound";
      }
      results.push({ object, resource, action, index: doc.index, line: doc.line });
    } catch (err) {
      if (options.signal?.aborted) throw err;
      results.push({
        object,
        resource,
        error: err instanceof Error ? err : new Error(String(err)),
        index: doc.index,
        line: doc.line,
      });
    }
  }
  return results;
}

function documentsOf(
  manifest: string | readonly KubernetesObject[],
  source: string | undefined,
): ManifestDocument[] {
  if (typeof manifest === "string") {
    return parseManifestDocuments(manifest, source === undefined ? {} : { source });
  }
  return manifest.map((o, index) => ({
    object: checkObject(o as JsonObject, { source, index, line: undefined }),
    index,
    line: undefined,
  }));
}

/** The resource of a document's kind; an unknown kind is a `ManifestError` that names it. */
async function mapKind(
  mapper: KindMapper,
  doc: ManifestDocument,
  options: {
    retryUntil?: number | undefined;
    clock?: Clock;
    source: string | undefined;
    signal: AbortSignal | undefined;
  },
): Promise<DiscoveredResource> {
  const { group, version } = groupOf(doc.object.apiVersion);
  const clock = options.clock ?? realClock;
  for (;;) {
    try {
      return await mapper.restMapping({ group, kind: doc.object.kind }, [version]);
    } catch (err) {
      if (!(err instanceof NoMatchError)) throw err;
      // A CRD of this manifest is Established, but discovery may take a moment to serve it.
      if (options.retryUntil !== undefined && clock.now() < options.retryUntil) {
        await clock.sleep(250, options.signal);
        continue;
      }
      throw new ManifestError(
        `unknown kind ${JSON.stringify(doc.object.kind)} in ${JSON.stringify(doc.object.apiVersion)}: the server does not serve it`,
        {
          source: options.source,
          index: doc.index,
          line: doc.line,
          kind: doc.object.kind,
          cause: err,
        },
      );
    }
  }
}

/** The body to apply: the object, namespaced as its resource requires. */
function configFor(
  object: Unstructured,
  resource: DiscoveredResource,
  namespace: string | undefined,
): Unstructured & { metadata: { name: string; namespace?: string } } {
  const metadata = { ...object.metadata } as Unstructured["metadata"] & { name: string };
  if (!resource.namespaced) delete metadata.namespace;
  else if (metadata.namespace === undefined && namespace !== undefined) {
    metadata.namespace = namespace;
  }
  return { ...object, metadata };
}

/** Polls a CRD until its `Established` condition is True; `NamesAccepted: False` fails at once. */
async function waitEstablished(
  client: Client,
  name: string,
  options: { clock: Clock; deadline: number; signal: AbortSignal | undefined },
): Promise<void> {
  const crds = client.api(CustomResourceDefinition);
  for (;;) {
    const crd = await crds.get(name, options.signal ? { signal: options.signal } : {});
    const conditions = crd.status?.conditions ?? [];
    if (conditions.some((c) => c.type === "Established" && c.status === "True")) return;
    const names = conditions.find((c) => c.type === "NamesAccepted" && c.status === "False");
    if (names) {
      throw new ManifestError(
        `CustomResourceDefinition ${name}: names not accepted: ${names.message ?? names.reason ?? ""}`,
        { kind: "CustomResourceDefinition" },
      );
    }
    if (options.clock.now() >= options.deadline) {
      throw new ManifestError(`CustomResourceDefinition ${name} is not Established in time`, {
        kind: "CustomResourceDefinition",
      });
    }
    await options.clock.sleep(100, options.signal);
  }
}
