/**
 * The OpenAPI v3 documents of the in-memory server (`/openapi/v3` and one document per group
 * version), reduced to what clients read from them: the paths with their PATCH operations and
 * query parameters (kubectl reads `fieldValidation` there to decide to validate on the server),
 * and the schemas of custom resources as their CRDs give them (patch metadata and `extract()` read
 * list and map types there). Built-in kinds have no schemas here.
 */
import { createHash } from "node:crypto";
import type { ServedGroup } from "./discovery.ts";
import type { ServedResource } from "./registry.ts";

/** The document path of a group version: `api/v1`, `apis/apps/v1`. */
export function documentPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

const PATCH_PARAMETERS = ["dryRun", "fieldManager", "fieldValidation", "force"].map((name) => ({
  name,
  in: "query",
  schema: { type: name === "force" ? "boolean" : "string", uniqueItems: true },
}));

/** The definition name kube-apiserver gives a custom resource's schema: `com.example.v1.Widget`. */
function definitionName(r: ServedResource): string {
  return `${r.group.split(".").reverse().join(".")}.${r.version}.${r.kind}`;
}

/** One group version's document; `schemaOf` gives a custom resource's OpenAPI v3 schema. */
export function openApiDocument(
  group: string,
  version: string,
  resources: readonly ServedResource[],
  schemaOf: (r: ServedResource) => Record<string, unknown> | undefined,
  gitVersion: string,
): Record<string, unknown> {
  const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const r of resources) {
    const gvk = { group, version, kind: r.kind };
    const collection = r.namespaced
      ? `${base}/namespaces/{namespace}/${r.plural}`
      : `${base}/${r.plural}`;
    const op = (verb: string) => ({
      "x-kubernetes-action": verb,
      "x-kubernetes-group-version-kind": gvk,
      ...(verb === "patch" ? { parameters: PATCH_PARAMETERS } : {}),
      responses: { "200": { description: "OK" } },
    });
    const item: Record<string, unknown> = {};
    if (r.verbs.includes("get")) item.get = op("get");
    if (r.verbs.includes("update")) item.put = op("put");
    if (r.verbs.includes("patch")) item.patch = op("patch");
    if (r.verbs.includes("delete")) item.delete = op("delete");
    if (Object.keys(item).length > 0) paths[`${collection}/{name}`] = item;
    const coll: Record<string, unknown> = {};
    if (r.verbs.includes("list")) coll.get = op("list");
    if (r.verbs.includes("create")) coll.post = op("post");
    if (Object.keys(coll).length > 0) paths[collection] = coll;
    const schema = schemaOf(r);
    if (schema) {
      schemas[definitionName(r)] = {
        ...schema,
        "x-kubernetes-group-version-kind": [gvk],
      };
    }
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: gitVersion.replace(/^v(\d+\.\d+).*$/, "$1") },
    paths,
    components: { schemas },
  };
}

/** A document's hash, as its URL in the index carries it. */
export function documentHash(doc: unknown): string {
  return createHash("sha512").update(JSON.stringify(doc)).digest("hex").toUpperCase();
}

/** `/openapi/v3`: every group version's document with its hash. */
export function openApiIndex(
  groups: readonly ServedGroup[],
  docOf: (group: string, version: string) => unknown,
): unknown {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const g of groups) {
    for (const v of g.versions) {
      const path = documentPath(g.name, v.version);
      paths[path] = {
        serverRelativeURL: `/openapi/v3/${path}?hash=${documentHash(docOf(g.name, v.version))}`,
      };
    }
  }
  return { paths };
}
