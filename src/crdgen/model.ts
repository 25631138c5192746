/**
 * The model both generators share: OpenAPI definition names to TypeScript modules and names, an
 * OpenAPI schema to a TypeScript type, a definition to an interface or type alias, and a discovery
 * resource to the arguments of its descriptor. Nothing here formats text (render.ts does), and
 * everything is deterministic given its input.
 *
 * codegen/ runs this over kube-apiserver's built-in definitions (every object is a named
 * definition); crdgen runs it over the schemas a CustomResourceDefinition publishes, whose nested
 * objects are inline and become named interfaces of their own (`TypeContext.inline`).
 */
import type { DiscoveryResource, GVK, Schema } from "./schema.ts";

// ---------------------------------------------------------------------------------------------
// Names

/** A Kubernetes API version token: `v1`, `v1beta2`, `v2alpha1`. */
const API_VERSION = "v\\d+(?:(?:alpha|beta)\\d+)?";

/** The module for apimachinery's unversioned value types (Quantity, IntOrString, RawExtension). */
export const APIMACHINERY_MODULE = "apimachinery";

/** The definition `x-kubernetes-int-or-string` stands for. */
export const INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";

/**
 * The module (a folder under src/api) that holds the definitions of one OpenAPI package prefix,
 * named as client-go names its typed packages, which is also the Go package's last two elements:
 *
 *   io.k8s.api.core.v1                                       → core/v1
 *   io.k8s.api.apiserverinternal.v1alpha1                    → apiserverinternal/v1alpha1
 *   io.k8s.apimachinery.pkg.apis.meta.v1                     → meta/v1
 *   io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1 → apiextensions/v1
 *   io.k8s.kube-aggregator.pkg.apis.apiregistration.v1       → apiregistration/v1
 *   io.k8s.apimachinery.pkg.{api.resource,util.intstr,runtime,...} → apimachinery
 *
 * The group name is no guide (`internal.apiserver.k8s.io` is `apiserverinternal`,
 * `rbac.authorization.k8s.io` is `rbac`), the Go package is. An unknown prefix is an error, so a
 * new kind of package gets a deliberate home rather than a guessed one.
 */
export function moduleOfPackage(pkg: string): string {
  const m =
    new RegExp(`^io\\.k8s\\.api\\.([a-z0-9]+)\\.(${API_VERSION})$`).exec(pkg) ??
    new RegExp(`^io\\.k8s\\.[a-z0-9-]+\\.pkg\\.apis\\.([a-z0-9]+)\\.(${API_VERSION})$`).exec(pkg);
  if (m) return `${m[1]}/${m[2]}`;
  if (pkg.startsWith("io.k8s.apimachinery.pkg.")) return APIMACHINERY_MODULE;
  throw new Error(`no module for OpenAPI package ${pkg}: add a rule to moduleOfPackage`);
}

/** `io.k8s.api.core.v1` → `k8s.io/api/core/v1`, the Go import path. */
export function goPackageOf(pkg: string): string {
  const [, , repo, ...rest] = pkg.split(".");
  return ["k8s.io", repo, ...rest].join("/");
}

/** A definition's module and its TypeScript name. */
export interface DefinitionName {
  pkg: string;
  module: string;
  name: string;
}

/** Splits `io.k8s.api.core.v1.Pod` into its package, module and name. */
export function nameOfDefinition(definition: string): DefinitionName {
  const dot = definition.lastIndexOf(".");
  const pkg = definition.slice(0, dot);
  const name = definition.slice(dot + 1);
  if (!/^[A-Z][A-Za-z0-9]*$/.test(name)) {
    throw new Error(`definition ${definition}: ${JSON.stringify(name)} is not a type name`);
  }
  return { pkg, module: moduleOfPackage(pkg), name };
}

/** The local name a module is imported under: `core/v1` → `corev1`, as Go code names it. */
export function importAlias(module: string): string {
  return module.replaceAll("/", "");
}

/** Whether a property name can be written bare in an interface. */
export function isIdentifier(name: string): boolean {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name);
}

export const apiVersionOf = (group: string, version: string): string =>
  group === "" ? version : `${group}/${version}`;

// ---------------------------------------------------------------------------------------------
// Types

/** A TypeScript type, as a small tree that render.ts lays out. */
export type TypeNode =
  | { kind: "keyword"; name: "string" | "number" | "boolean" | "unknown" | "null" }
  | { kind: "literal"; value: string }
  /** `(string & {})`: keeps an enum open while editors still offer its known values. */
  | { kind: "openString" }
  | { kind: "ref"; module: string; name: string }
  | { kind: "array"; element: TypeNode }
  | { kind: "record"; value: TypeNode }
  | { kind: "union"; members: TypeNode[] };

const keyword = (name: "string" | "number" | "boolean" | "unknown" | "null"): TypeNode => ({
  kind: "keyword",
  name,
});

const union = (members: TypeNode[]): TypeNode => {
  const seen = new Set<string>();
  const flat = members
    .flatMap((m) => (m.kind === "union" ? m.members : [m]))
    .filter((m) => {
      const key = JSON.stringify(m);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  return flat.length === 1 ? flat[0]! : { kind: "union", members: flat };
};

const REF_PREFIX = "#/components/schemas/";

/** How `typeOf` resolves what a schema does not say by itself. */
export interface TypeContext {
  /** The type of a definition named by `$ref`; throws for names it does not know. */
  ref(definition: string): TypeNode;
  /**
   * The type of an inline object with properties (custom resources define every nested object
   * inline). `path` is the property names from the definition's root to the object, array items
   * and map values taking their property's name. Without it such a schema is an error: built-in
   * definitions name every object.
   */
  inline?: ((schema: Schema, path: readonly string[]) => TypeNode) | undefined;
  /**
   * A structural schema (a custom resource's): `allOf`, `anyOf`, `oneOf` are value validations
   * that never change the type, which `type` alone gives.
   */
  structural?: boolean | undefined;
  /** Where the schema being typed sits below its definition's root (see `inline`). */
  path?: readonly string[] | undefined;
}

/** A `ref` resolver alone, or a whole context. */
export type TypeResolver = ((definition: string) => TypeNode) | TypeContext;

const contextOf = (r: TypeResolver): TypeContext => (typeof r === "function" ? { ref: r } : r);

/**
 * Definitions whose schema says less than the Go type does, with the type used instead.
 *
 * - `Quantity`: the schema is `oneOf [string, number]` because the server also accepts a JSON
 *   number on input, but it always answers with the canonical string. One type for reading and
 *   writing (`"500m"`, `"1Gi"`, `"2"`) keeps code that moves quantities around simple.
 * - `JSONSchemaPropsOr*`: the schemas are untyped (the Go types marshal to one of two shapes);
 *   these are the two shapes.
 */
const OVERRIDES: Record<string, (ref: (definition: string) => TypeNode) => TypeNode> = {
  "io.k8s.apimachinery.pkg.api.resource.Quantity": () => keyword("string"),
  "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray": (ref) =>
    union([
      ref("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"),
      {
        kind: "array",
        element: ref("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"),
      },
    ]),
  "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool": (ref) =>
    union([
      ref("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"),
      keyword("boolean"),
    ]),
  "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray": (ref) =>
    union([
      ref("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"),
      { kind: "array", element: keyword("string") },
    ]),
};

/**
 * The TypeScript type of a schema that is not a top-level definition (a property, an array item,
 * a map value).
 *
 * - `$ref`, or `allOf` with a single `$ref` (how OpenAPI v3 attaches a description or default to
 *   a reference): the referenced type.
 * - `x-kubernetes-int-or-string`: apimachinery's IntOrString, which is what the server means by it.
 * - `oneOf`/`anyOf` (not in structural schemas): the union of the alternatives (IntOrString is
 *   `oneOf [integer, string]`, so it becomes `number | string`).
 * - string enums: the values as literals plus `(string & {})`. Kubernetes enums are open: a newer
 *   server may send a value this version does not list, so the type must not reject it.
 * - integer and number: `number` (JSON.parse decides; int64 beyond 2^53 loses precision).
 * - arrays: `T[]`; objects with `additionalProperties`: `Record<string, T>`.
 * - an object with properties, or an embedded resource: `context.inline`'s type.
 * - an object with neither properties nor additionalProperties: `Record<string, unknown>`;
 *   OpenAPI does not distinguish an empty Go struct from free-form JSON.
 * - no type at all (JSON, preserve-unknown-fields): `unknown`.
 * - `nullable: true`: adds `| null`.
 */
export function typeOf(schema: Schema, resolver: TypeResolver): TypeNode {
  const context = contextOf(resolver);
  const base = baseTypeOf(schema, context);
  return schema.nullable === true ? union([base, keyword("null")]) : base;
}

function baseTypeOf(schema: Schema, context: TypeContext): TypeNode {
  const target = schema.$ref ?? (schema.allOf?.length === 1 ? schema.allOf[0]!.$ref : undefined);
  if (target !== undefined) {
    if (!target.startsWith(REF_PREFIX)) throw new Error(`unsupported $ref ${target}`);
    return context.ref(target.slice(REF_PREFIX.length));
  }
  if (schema.allOf !== undefined && !context.structural) {
    throw new Error("allOf is supported only around one $ref");
  }
  if (schema["x-kubernetes-int-or-string"] === true) return context.ref(INT_OR_STRING);
  const alternatives = schema.oneOf ?? schema.anyOf;
  if (alternatives !== undefined && !context.structural) {
    return union(alternatives.map((s) => typeOf(s, context)));
  }
  switch (schema.type) {
    case "string":
      if (schema.enum !== undefined && schema.enum.length > 0) {
        // null is a value of a nullable enum, which `nullable` already adds to the type.
        const values =
          schema.nullable === true ? schema.enum.filter((v) => v !== null) : schema.enum;
        if (!values.every((v) => typeof v === "string")) {
          throw new Error(`a string enum has non-string values: ${JSON.stringify(schema.enum)}`);
        }
        return union([
          ...values.map((value): TypeNode => ({ kind: "literal", value })),
          { kind: "openString" },
        ]);
      }
      return keyword("string");
    case "integer":
    case "number":
      return keyword("number");
    case "boolean":
      return keyword("boolean");
    case "array":
      return {
        kind: "array",
        element: schema.items === undefined ? keyword("unknown") : typeOf(schema.items, context),
      };
    case "object": {
      const named =
        (schema.properties !== undefined && Object.keys(schema.properties).length > 0) ||
        schema["x-kubernetes-embedded-resource"] === true;
      if (named) {
        if (context.inline === undefined) {
          throw new Error("inline object schemas with properties are not supported");
        }
        return context.inline(schema, context.path ?? []);
      }
      const extra = schema.additionalProperties;
      const value =
        typeof extra === "object" && extra !== null ? typeOf(extra, context) : keyword("unknown");
      return { kind: "record", value };
    }
    case undefined:
      return keyword("unknown");
    default:
      throw new Error(`unsupported schema type ${JSON.stringify(schema.type)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Declarations

export interface Property {
  name: string;
  description?: string;
  optional: boolean;
  type: TypeNode;
  /** The schema's `default`, which the server fills in when the field is absent. */
  default?: unknown;
}

export type Declaration =
  | {
      kind: "interface";
      definition: string;
      name: string;
      description?: string;
      properties: Property[];
      /**
       * The type of fields the schema does not name, when it keeps them
       * (`x-kubernetes-preserve-unknown-fields` on an object with properties): an index signature.
       */
      additionalProperties?: TypeNode;
      /** Why the type should no longer be used: a `@deprecated` tag. */
      deprecated?: string;
    }
  | {
      kind: "alias";
      definition: string;
      name: string;
      description?: string;
      type: TypeNode;
      deprecated?: string;
    };

/**
 * The declaration of one definition, named `name` (by default the definition's last segment).
 * Objects with properties become interfaces; the rest become type aliases. On a kind (a definition
 * with `x-kubernetes-group-version-kind`) `kind` becomes its literal and so does `apiVersion` when
 * the kind is served in one group version only (meta/v1's DeleteOptions is registered in every
 * group, so its apiVersion stays a string). Both stay optional: the server leaves them out of list
 * items, and the client sets them from the descriptor on the way out.
 */
export function declarationOf(
  definition: string,
  schema: Schema,
  resolver: TypeResolver,
  name: string = nameOfDefinition(definition).name,
): Declaration {
  const context = contextOf(resolver);
  const description = schema.description?.trim() || undefined;
  const base = { definition, name, ...(description ? { description } : {}) };
  const override = OVERRIDES[definition];
  if (override) return { kind: "alias", ...base, type: override(context.ref) };
  if (
    schema.type !== "object" ||
    schema.properties === undefined ||
    Object.keys(schema.properties).length === 0
  ) {
    return { kind: "alias", ...base, type: typeOf(schema, context) };
  }
  const gvks = schema["x-kubernetes-group-version-kind"] ?? [];
  const kinds = new Set(gvks.map((g) => g.kind));
  const apiVersions = new Set(gvks.map((g) => apiVersionOf(g.group, g.version)));
  const required = new Set(schema.required ?? []);
  const properties = Object.entries(schema.properties).map(([prop, s]): Property => {
    const path = context.path === undefined ? undefined : [...context.path, prop];
    let type = typeOf(s, path === undefined ? context : { ...context, path });
    if (prop === "kind" && kinds.size === 1) type = { kind: "literal", value: [...kinds][0]! };
    if (prop === "apiVersion" && apiVersions.size === 1) {
      type = { kind: "literal", value: [...apiVersions][0]! };
    }
    const typeMeta = gvks.length > 0 && (prop === "kind" || prop === "apiVersion");
    const text = s.description?.trim();
    return {
      name: prop,
      ...(text ? { description: text } : {}),
      optional: typeMeta || !required.has(prop),
      type,
      ...(s.default !== undefined ? { default: s.default } : {}),
    };
  });
  const open = schema["x-kubernetes-preserve-unknown-fields"] === true;
  return {
    kind: "interface",
    ...base,
    properties,
    ...(open ? { additionalProperties: keyword("unknown") } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Descriptors

export interface SubresourceModel {
  name: string;
  /** Present only when the subresource's kind is not the parent's own. */
  responseKind?: GVK;
  verbs: string[];
}

/** A descriptor: the arguments of `defineResource`, in the order they are emitted. */
export interface ResourceModel {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  subresources: SubresourceModel[];
}

/**
 * The descriptor of one discovery resource. `parent` is its group version. A subresource's
 * `responseKind` with an empty group and version means the parent's group version; it is kept
 * only when it names another kind (`deployments/scale` → autoscaling/v1 Scale), as
 * `SubresourceInfo` documents.
 */
export function resourceOf(group: string, version: string, r: DiscoveryResource): ResourceModel {
  const kind = r.responseKind?.kind;
  if (!kind) throw new Error(`${apiVersionOf(group, version)} ${r.resource}: no responseKind`);
  if (r.scope !== "Namespaced" && r.scope !== "Cluster") {
    throw new Error(`${apiVersionOf(group, version)} ${r.resource}: scope ${r.scope}`);
  }
  const subresources = (r.subresources ?? []).map((s): SubresourceModel => {
    const rk = s.responseKind;
    const resolved =
      rk === undefined || !rk.kind
        ? undefined
        : rk.group === "" && rk.version === ""
          ? { group, version, kind: rk.kind }
          : { group: rk.group, version: rk.version, kind: rk.kind };
    const same =
      resolved?.group === group && resolved.version === version && resolved.kind === kind;
    return {
      name: s.subresource,
      ...(resolved && !same ? { responseKind: resolved } : {}),
      verbs: [...(s.verbs ?? [])],
    };
  });
  return {
    group,
    version,
    kind,
    plural: r.resource,
    singular: r.singularResource || kind.toLowerCase(),
    namespaced: r.scope === "Namespaced",
    shortNames: [...(r.shortNames ?? [])],
    categories: [...(r.categories ?? [])],
    verbs: [...(r.verbs ?? [])],
    subresources,
  };
}
