/**
 * What kube-apiserver makes of a CustomResourceDefinition, computed offline: for each served
 * version, the OpenAPI v3 definitions it publishes under `/openapi/v3/apis/<group>/<version>` (the
 * kind and its list, as apiextensions-apiserver's `builder.BuildOpenAPIV3` builds them) and the
 * resource its aggregated discovery lists. The generator types those, not the CRD's raw schema, so
 * that a module generated from a manifest is the one generated from the server's own documents
 * (the integration test holds the two side by side).
 *
 * What the server does to a version's `openAPIV3Schema`, and so what this does:
 * - properties come out in name order (Go serialises maps sorted);
 * - `x-kubernetes-int-or-string` is spelled out as `anyOf [integer, string]`;
 * - the root's `apiVersion` and `kind` become TypeMeta's, `metadata` a reference to ObjectMeta;
 * - every `x-kubernetes-embedded-resource` object gets `apiVersion`, `kind` (both required) and
 *   `metadata` (ObjectMeta) the same way;
 * - the root carries `x-kubernetes-group-version-kind`, so `apiVersion` and `kind` are literals;
 * - the list kind is `{ apiVersion, items: Kind[], kind, metadata: ListMeta }`.
 * Value validations (`allOf`, `anyOf`, `oneOf`, `not`, CEL rules, patterns) are kept and ignored:
 * in a structural schema they never change a value's type.
 */
import type {
  CustomResourceDefinition,
  CustomResourceDefinitionVersion,
} from "../api/apiextensions/v1/index.ts";
import { apiVersionOf, type ResourceModel, resourceOf } from "./model.ts";
import type { DiscoveryResource, Schema } from "./schema.ts";

/** A CustomResourceDefinition the generator cannot read, naming it and the field at fault. */
export class CrdError extends Error {
  override readonly name = "CrdError";
}

const CONVENTIONS =
  "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md";

/** TypeMeta's `apiVersion` and `kind`, as the server publishes them on every kind. */
const TYPE_META: Record<"apiVersion" | "kind", Schema> = {
  apiVersion: {
    description:
      "APIVersion defines the versioned schema of this representation of an object. Servers " +
      "should convert recognized schemas to the latest internal value, and may reject " +
      `unrecognized values. More info: ${CONVENTIONS}#resources`,
    type: "string",
  },
  kind: {
    description:
      "Kind is a string value representing the REST resource this object represents. Servers " +
      "may infer this from the endpoint the client submits requests to. Cannot be updated. In " +
      `CamelCase. More info: ${CONVENTIONS}#types-kinds`,
    type: "string",
  },
};

/** The `apiVersion` and `kind` the server gives an embedded resource. */
const EMBEDDED_TYPE_META: Record<"apiVersion" | "kind", Schema> = {
  apiVersion: {
    description:
      "apiVersion defines the versioned schema of this representation of an object. More info: " +
      `${CONVENTIONS}#resources`,
    type: "string",
  },
  kind: {
    description:
      "kind is a string value representing the type of this object. In CamelCase. More info: " +
      `${CONVENTIONS}#types-kinds`,
    type: "string",
  },
};

export const OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
export const LIST_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";
const refTo = (definition: string, description: string): Schema => ({
  description,
  allOf: [{ $ref: `#/components/schemas/${definition}` }],
});
const objectMeta = (): Schema =>
  refTo(OBJECT_META, `Standard object's metadata. More info: ${CONVENTIONS}#metadata`);

/**
 * The name the server gives a custom kind's definition: the group reversed, the version, the
 * kind (`widgets.example.com/v1` Widget → `com.example.v1.Widget`).
 */
export function definitionName(group: string, version: string, kind: string): string {
  return `${group.split(".").reverse().join(".")}.${version}.${kind}`;
}

/** One served version of a CRD, as the generator sees it. */
export interface CrdVersion {
  /** The CRD's `metadata.name`. */
  crd: string;
  group: string;
  version: string;
  kind: string;
  listKind: string;
  /** Whether this is the version objects are stored in. */
  storage: boolean;
  /** The version objects are stored in (served or not). */
  storageVersion: string | undefined;
  /** The warning the server sends for this version, when it is deprecated. */
  deprecated: string | undefined;
  /** The descriptor's arguments, as aggregated discovery would list the resource. */
  resource: ResourceModel;
  /** The published definitions: the kind's and the list's, by their server names. */
  definitions: { kind: string; list: string };
  schemas: Map<string, Schema>;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The versions `crd` serves, in its order, each with what the server publishes for it. Throws a
 * `CrdError` for something that is not an `apiextensions.k8s.io/v1` CustomResourceDefinition, or
 * lacks what the server requires (group, names, scope, a schema per served version).
 */
export function servedVersions(crd: CustomResourceDefinition): CrdVersion[] {
  const name = crd.metadata?.name ?? "(unnamed)";
  function fail(field: string, why: string): never {
    throw new CrdError(`CustomResourceDefinition ${name}: ${field} ${why}`);
  }
  if (crd.apiVersion !== undefined && crd.apiVersion !== "apiextensions.k8s.io/v1") {
    fail(
      "apiVersion",
      `is ${crd.apiVersion}; only apiextensions.k8s.io/v1 is served since Kubernetes 1.22`,
    );
  }
  const spec = crd.spec;
  if (!isObject(spec)) return fail("spec", "is missing");
  const { group, names, scope } = spec;
  if (typeof group !== "string" || group === "") fail("spec.group", "is missing");
  if (!isObject(names) || typeof names.kind !== "string" || !names.kind) {
    fail("spec.names.kind", "is missing");
  }
  if (typeof names.plural !== "string" || !names.plural) fail("spec.names.plural", "is missing");
  if (!/^[A-Z][A-Za-z0-9]*$/.test(names.kind)) {
    fail("spec.names.kind", `${JSON.stringify(names.kind)} is not a TypeScript type name`);
  }
  if (scope !== "Namespaced" && scope !== "Cluster") {
    fail("spec.scope", `must be Namespaced or Cluster, not ${JSON.stringify(scope)}`);
  }
  // The server's defaults (apiextensions/v1 SetDefaults_CustomResourceDefinitionSpec).
  const kind = names.kind;
  const listKind = names.listKind || `${kind}List`;
  if (!/^[A-Z][A-Za-z0-9]*$/.test(listKind)) {
    fail("spec.names.listKind", `${JSON.stringify(listKind)} is not a TypeScript type name`);
  }
  const versions = spec.versions ?? [];
  if (!Array.isArray(versions) || versions.length === 0) fail("spec.versions", "is empty");

  const storageVersion = versions.find((v) => isObject(v) && v.storage === true)?.name;
  const out: CrdVersion[] = [];
  versions.forEach((v, i) => {
    if (!isObject(v) || typeof v.name !== "string" || !v.name) {
      fail(`spec.versions[${i}].name`, "is missing");
    }
    if (v.served !== true) return;
    const root = v.schema?.openAPIV3Schema;
    if (!isObject(root)) fail(`spec.versions[${i}].schema.openAPIV3Schema`, "is missing");
    const version = v.name;
    const kindDef = definitionName(group, version, kind);
    const listDef = definitionName(group, version, listKind);
    let published: Schema;
    try {
      published = publishKind(root as Schema, group, version, kind);
    } catch (err) {
      fail(
        `spec.versions[${i}].schema.openAPIV3Schema`,
        `is not structural: ${(err as Error).message}`,
      );
    }
    const discovery: DiscoveryResource = {
      resource: names.plural,
      responseKind: { group, version, kind },
      scope,
      singularResource: names.singular || kind.toLowerCase(),
      // In the order the server lists them (customresource_discovery_controller.go).
      verbs: ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"],
      shortNames: [...(names.shortNames ?? [])],
      categories: [...(names.categories ?? [])],
      subresources: [
        ...(v.subresources?.status
          ? [
              {
                subresource: "status",
                responseKind: { group, version, kind },
                verbs: ["get", "patch", "update"],
              },
            ]
          : []),
        ...(v.subresources?.scale
          ? [
              {
                subresource: "scale",
                responseKind: { group: "autoscaling", version: "v1", kind: "Scale" },
                verbs: ["get", "patch", "update"],
              },
            ]
          : []),
      ],
    };
    out.push({
      crd: name,
      group,
      version,
      kind,
      listKind,
      storage: v.storage === true,
      storageVersion,
      deprecated: v.deprecated === true ? deprecationWarning(v, spec, version, kind) : undefined,
      resource: resourceOf(group, version, discovery),
      definitions: { kind: kindDef, list: listDef },
      schemas: new Map([
        [kindDef, published!],
        [listDef, publishList(group, version, kind, listKind, names.plural, kindDef)],
      ]),
    });
  });
  return out;
}

/** The version's `deprecationWarning`, or the server's default one. */
function deprecationWarning(
  v: CustomResourceDefinitionVersion,
  spec: CustomResourceDefinition["spec"],
  version: string,
  kind: string,
): string {
  if (typeof v.deprecationWarning === "string") return v.deprecationWarning;
  // apiextensions-apiserver's defaultDeprecationWarning: point at the newest served version that
  // is not deprecated and ranks above this one.
  const newer = spec.versions
    .filter((o) => o.served && !o.deprecated && compareKubeAwareVersions(version, o.name) < 0)
    .map((o) => o.name)
    .sort((a, b) => compareKubeAwareVersions(b, a));
  const msg = `${spec.group}/${version} ${kind} is deprecated`;
  return newer.length === 0 ? msg : `${msg}; use ${spec.group}/${newer[0]} ${kind}`;
}

/**
 * apimachinery's `version.CompareKubeAwareVersionStrings`: positive when `a` ranks above `b`.
 * GA above beta above alpha, then the higher major, then the higher minor (`v2` > `v1` >
 * `v1beta2` > `v1alpha1`); versions that are not Kubernetes-like rank below all that are, among
 * themselves in reverse alphabetical order.
 */
export function compareKubeAwareVersions(a: string, b: string): number {
  if (a === b) return 0;
  const parse = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    return m
      ? [m[2] === "alpha" ? 0 : m[2] === "beta" ? 1 : 2, Number(m[1]), Number(m[3] ?? 0)]
      : undefined;
  };
  const [x, y] = [parse(a), parse(b)];
  if (!x && !y) return a < b ? 1 : -1;
  if (!x) return -1;
  if (!y) return 1;
  return x[0]! - y[0]! || x[1]! - y[1]! || x[2]! - y[2]!;
}

/** A deep copy with every object's properties in name order, as the server serialises them. */
function sorted(value: unknown, at: string): Schema {
  if (!isObject(value)) throw new Error(`${at || "the root"} is not a schema object`);
  const schema = value as Schema;
  const out: Schema = { ...schema };
  const properties: unknown = schema.properties;
  if (properties !== undefined) {
    if (!isObject(properties)) throw new Error(`${at}.properties is not an object`);
    out.properties = Object.fromEntries(
      Object.keys(properties)
        .sort(compare)
        .map((k) => [k, sorted(properties[k], `${at}.properties[${JSON.stringify(k)}]`)]),
    );
  }
  const items: unknown = schema.items;
  if (items !== undefined) {
    if (Array.isArray(items)) {
      throw new Error(`${at}.items is a list of schemas, which a structural schema cannot have`);
    }
    out.items = sorted(items, `${at}.items`);
  }
  const extra: unknown = schema.additionalProperties;
  if (isObject(extra)) out.additionalProperties = sorted(extra, `${at}.additionalProperties`);
  if (schema["x-kubernetes-int-or-string"] === true) unfoldIntOrString(out);
  return out;
}

const isIntOrStringAnyOf = (xs: unknown): boolean =>
  Array.isArray(xs) && JSON.stringify(xs) === '[{"type":"integer"},{"type":"string"}]';

/**
 * apiextensions-apiserver's `Structural.Unfold`: `x-kubernetes-int-or-string` spelled out as
 * `anyOf [integer, string]`, first in an `allOf` when the schema has an `anyOf` of its own.
 */
function unfoldIntOrString(s: Schema): void {
  if (isIntOrStringAnyOf(s.anyOf) || isIntOrStringAnyOf(s.allOf?.[0]?.anyOf)) return;
  const anyOf = [{ type: "integer" }, { type: "string" }];
  if (s.anyOf === undefined) s.anyOf = anyOf;
  else s.allOf = [{ anyOf }, ...(s.allOf ?? [])];
}

/** apiextensions-apiserver's addEmbeddedProperties, on a sorted copy. */
function embed(schema: Schema): void {
  for (const p of Object.values(schema.properties ?? {})) embed(p);
  if (schema.items !== undefined) embed(schema.items);
  if (isObject(schema.additionalProperties)) embed(schema.additionalProperties);
  if (schema["x-kubernetes-embedded-resource"] !== true) return;
  schema.properties = withProperties(schema.properties, {
    ...EMBEDDED_TYPE_META,
    metadata: objectMeta(),
  });
  const required = schema.required ?? [];
  schema.required = [
    ...required,
    ...(["kind", "apiVersion"] as const).filter((k) => !required.includes(k)),
  ];
}

function withProperties(
  properties: Record<string, Schema> | undefined,
  add: Record<string, Schema>,
): Record<string, Schema> {
  const all = { ...properties, ...add };
  return Object.fromEntries(
    Object.keys(all)
      .sort(compare)
      .map((k) => [k, all[k]!]),
  );
}

/** The kind's definition as the server publishes it (`buildKubeNative`). */
function publishKind(root: Schema, group: string, version: string, kind: string): Schema {
  const s = sorted(root, "");
  s.properties = withProperties(s.properties, { metadata: objectMeta(), ...TYPE_META });
  s.type ??= "object";
  embed(s);
  s["x-kubernetes-group-version-kind"] = [{ group, version, kind }];
  return s;
}

/** The list kind's definition as the server publishes it (`buildListSchema`). */
function publishList(
  group: string,
  version: string,
  kind: string,
  listKind: string,
  plural: string,
  kindDef: string,
): Schema {
  return {
    description: `${listKind} is a list of ${kind}`,
    type: "object",
    required: ["items"],
    properties: withProperties(
      {
        items: {
          description: `List of ${plural}. More info: ${CONVENTIONS}`,
          type: "array",
          items: { $ref: `#/components/schemas/${kindDef}` },
        },
        metadata: refTo(LIST_META, `Standard list metadata. More info: ${CONVENTIONS}#types-kinds`),
      },
      TYPE_META,
    ),
    "x-kubernetes-group-version-kind": [{ group, version, kind: listKind }],
  };
}

/** `group/version` of a CRD version, for messages. */
export const gvOf = (v: { group: string; version: string }): string =>
  apiVersionOf(v.group, v.version);
