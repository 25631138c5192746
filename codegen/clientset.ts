/**
 * The second emitter: `src/clientset/index.ts`, client-go's `kubernetes.Clientset` as a thin
 * facade over `Client.api`, made from the same snapshot as src/api/.
 *
 * ## Names (as client-go's client-gen names them)
 * - A group version is a property named after the group's first DNS label and the version:
 *   `""`/v1 → `coreV1`, `rbac.authorization.k8s.io`/v1 → `rbacV1`, `internal.apiserver.k8s.io`/
 *   v1alpha1 → `internalV1alpha1` (client-go's `InternalV1alpha1()`), `apiextensions.k8s.io`/v1 →
 *   `apiextensionsV1`. Its class is the same name capitalised plus `Client` (`CoreV1Client`).
 * - A resource is a method named after the plural of its kind, made by gengo's plural rules
 *   (`NetworkPolicy` → `NetworkPolicies`, `Ingress` → `Ingresses`) with client-gen's exception
 *   (`Endpoints` stays `Endpoints`), then lower-camel-cased the JavaScript way: a leading acronym
 *   is lower-cased whole (`CSIDrivers` → `csiDrivers`, `APIServices` → `apiServices`) where Go
 *   would only lower the first letter. The result must spell discovery's plural when lower-cased,
 *   so a kind whose plural the rules get wrong is an error here rather than a misnamed method.
 *
 * ## What is emitted
 * Every group version that discovery lists, and in it every top-level resource that has a
 * descriptor in src/api/ (all of them: see model.ts `buildModules`), sorted by name so the file
 * reads like an index. A method is one line of body: `this.#client.api(corev1.Pod)`, narrowed by
 * `inNamespace` for namespaced kinds. No verb, option or subresource is implemented here: those
 * are `Api<T, N>`'s, so the Clientset cannot drift from it.
 */
import {
  type Doc,
  docComment,
  hardline,
  headerLine,
  indent,
  join,
  print,
  WIDTH,
  wrapLine,
} from "./emit.ts";
import { apiVersionOf, importAlias, type ModuleModel } from "./model.ts";
import type { Snapshot } from "./snapshot.ts";

// ---------------------------------------------------------------------------------------------
// Names

/**
 * client-gen's group Go name: the first label of the group name (`rbac` for
 * `rbac.authorization.k8s.io`), `core` for the core group, with its first letter upper-cased.
 */
export function groupGoName(group: string): string {
  const label = group === "" ? "core" : group.split(".")[0]!;
  if (!/^[a-z][a-z0-9]*$/.test(label)) {
    throw new Error(`group ${JSON.stringify(group)}: ${label} is not an identifier`);
  }
  return label[0]!.toUpperCase() + label.slice(1);
}

/** `Core` + `v1` → `CoreV1`, client-go's name for a group version's client. */
export function groupVersionGoName(group: string, version: string): string {
  return groupGoName(group) + version[0]!.toUpperCase() + version.slice(1);
}

/** Kinds whose plural gengo's rules do not make; client-gen's `pluralExceptions`. */
const PLURAL_EXCEPTIONS: Record<string, string> = { Endpoints: "Endpoints" };

const isConsonant = (c: string): boolean => /^[b-df-hj-np-tv-z]$/i.test(c);

/** gengo's public plural namer: `Pod` → `Pods`, `NetworkPolicy` → `NetworkPolicies`, ... */
export function pluralOfKind(kind: string): string {
  const exception = PLURAL_EXCEPTIONS[kind];
  if (exception !== undefined) return exception;
  if (kind.length < 2) return kind;
  const last = kind.at(-1)!;
  const before = kind.at(-2)!;
  switch (last) {
    case "s":
    case "x":
    case "z":
      return `${kind}es`;
    case "y":
      return isConsonant(before) ? `${kind.slice(0, -1)}ies` : `${kind}s`;
    case "h":
      return before === "c" || before === "s" ? `${kind}es` : `${kind}s`;
    case "e":
      return before === "f" ? `${kind.slice(0, -2)}ves` : `${kind}s`;
    case "f":
      return `${kind.slice(0, -1)}ves`;
    default:
      return `${kind}s`;
  }
}

/**
 * Lower camel case for an upper camel name: the first letter, or a whole leading acronym, is
 * lower-cased (`Pods` → `pods`, `CSIDrivers` → `csiDrivers`, `APIServices` → `apiServices`).
 * The last capital of an acronym that a lower-case letter follows starts the next word.
 */
export function lowerCamel(name: string): string {
  const caps = /^[A-Z]+/.exec(name)?.[0] ?? "";
  if (caps.length <= 1) return name.charAt(0).toLowerCase() + name.slice(1);
  const n = caps.length === name.length ? caps.length : caps.length - 1;
  return name.slice(0, n).toLowerCase() + name.slice(n);
}

// ---------------------------------------------------------------------------------------------
// Model

export interface ClientsetResource {
  /** The method: `pods`. */
  method: string;
  /** The descriptor's name in its module: `Pod`. */
  kind: string;
  /** The module under src/api that exports the descriptor: `core/v1`. */
  module: string;
  plural: string;
  namespaced: boolean;
}

export interface ClientsetGroupVersion {
  group: string;
  version: string;
  /** The Clientset property: `coreV1`. */
  property: string;
  /** The class of the group version's client: `CoreV1Client`. */
  className: string;
  /** Sorted by method. */
  resources: ClientsetResource[];
}

/**
 * The Clientset of a snapshot, in property order. `modules` is `buildModules(snapshot)`: a
 * resource is taken from where its descriptor is emitted, so the Clientset names only descriptors
 * that exist. Two group versions with one property name, two resources of a group version with
 * one method name, or a method that does not spell its plural are errors.
 */
export function buildClientset(
  snapshot: Snapshot,
  modules: Map<string, ModuleModel>,
): ClientsetGroupVersion[] {
  const moduleOf = new Map<string, string>();
  for (const m of modules.values()) {
    for (const r of m.resources.values()) {
      moduleOf.set(`${r.group}/${r.version}/${r.plural}`, m.path);
    }
  }
  const out = new Map<string, ClientsetGroupVersion>();
  for (const { group, versions } of snapshot.discovery) {
    for (const { version, resources } of versions) {
      const gv = apiVersionOf(group, version);
      const name = groupVersionGoName(group, version);
      const property = lowerCamel(name);
      if (out.has(property)) {
        const other = out.get(property)!;
        throw new Error(
          `${gv} and ${apiVersionOf(other.group, other.version)} are both ${property}`,
        );
      }
      const methods = new Map<string, ClientsetResource>();
      for (const r of resources) {
        const module = moduleOf.get(`${group}/${version}/${r.resource}`);
        if (module === undefined) throw new Error(`${gv} ${r.resource}: no descriptor`);
        const kind = r.responseKind!.kind;
        const method = lowerCamel(pluralOfKind(kind));
        if (method.toLowerCase() !== r.resource) {
          throw new Error(
            `${gv} ${r.resource}: the plural of ${kind} is ${method}, which is not the ` +
              "resource name: add the kind to PLURAL_EXCEPTIONS",
          );
        }
        if (methods.has(method)) throw new Error(`${gv}: two resources named ${method}`);
        methods.set(method, {
          method,
          kind,
          module,
          plural: r.resource,
          namespaced: r.scope === "Namespaced",
        });
      }
      out.set(property, {
        group,
        version,
        property,
        className: `${name}Client`,
        resources: [...methods.values()].sort((a, b) => compare(a.method, b.method)),
      });
    }
  }
  return [...out.values()].sort((a, b) => compare(a.property, b.property));
}

/**
 * Natural order, as Biome sorts imports: runs of digits compare as numbers (`v2` before `v10`),
 * everything else by code unit.
 */
export function compare(a: string, b: string): number {
  const pa = a.match(/\d+|\D+/g) ?? [];
  const pb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    if (/^\d/.test(x) && /^\d/.test(y)) return Number(x) - Number(y) || (x < y ? -1 : 1);
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

// ---------------------------------------------------------------------------------------------
// Text

const INDENT = "  ";

/** A line of `text` at `level`, checked against the width this emitter does not wrap. */
function fitted(text: string, level: number, what: string): string {
  if (INDENT.length * level + text.length > WIDTH) {
    throw new Error(`clientset: ${what} does not fit in ${WIDTH} columns: ${text}`);
  }
  return text;
}

/** `core \`v1\``, `\`apps/v1\``: a group version in prose. */
function displayVersion(gv: ClientsetGroupVersion): string {
  return gv.group === "" ? `core \`${gv.version}\`` : `\`${gv.group}/${gv.version}\``;
}

/** A method's signature and body, in the layout Biome gives it. */
function methodDoc(gv: ClientsetGroupVersion, r: ClientsetResource): Doc {
  const alias = importAlias(r.module);
  const type = `${alias}.${r.kind}`;
  const api = `this.#client.api(${type})`;
  const doc = docComment(
    `\`client.api(${r.kind})\`: the \`${r.plural}\` of ${displayVersion(gv)}` +
      (r.namespaced ? ", in `namespace` when one is given." : " (cluster-scoped)."),
    INDENT.length,
  );
  let head: Doc;
  const ret = `Api<${type}, ${r.namespaced}>`;
  if (r.namespaced) {
    const flat = `${r.method}(namespace?: string): ${ret} {`;
    head =
      INDENT.length + flat.length <= WIDTH
        ? flat
        : // Biome breaks the parameter list first.
          [
            `${r.method}(`,
            indent([hardline, "namespace?: string,"]),
            hardline,
            fitted(`): ${ret} {`, 1, `${gv.property}.${r.method}`),
          ];
  } else {
    const flat = `${r.method}(): ${ret} {`;
    head =
      INDENT.length + flat.length <= WIDTH
        ? flat
        : // No parameters to break: Biome breaks the type arguments.
          [
            fitted(`${r.method}(): Api<`, 1, `${gv.property}.${r.method}`),
            indent([hardline, `${type},`, hardline, "false"]),
            hardline,
            "> {",
          ];
  }
  const body = r.namespaced ? `return inNamespace(${api}, namespace);` : `return ${api};`;
  return [
    doc,
    head,
    indent([hardline, fitted(body, 2, `${gv.property}.${r.method}`)]),
    hardline,
    "}",
  ];
}

function groupVersionClassDoc(gv: ClientsetGroupVersion): Doc {
  const name = gv.className.slice(0, -"Client".length);
  const members: Doc[] = [
    ["readonly #client: Client;"],
    ["constructor(client: Client) {", indent([hardline, "this.#client = client;"]), hardline, "}"],
    ...gv.resources.map((r) => methodDoc(gv, r)),
  ];
  return [
    docComment(
      `The resources of ${displayVersion(gv)}: ` +
        `client-go's \`${name}Interface\`, as \`Clientset.${gv.property}\`.`,
      0,
    ),
    `export class ${gv.className} {`,
    indent([hardline, join([hardline, hardline], members)]),
    hardline,
    "}",
  ];
}

function clientsetClassDoc(gvs: ClientsetGroupVersion[], version: string): Doc {
  const properties = gvs.map((gv) => [
    docComment(
      `client-go's \`${gv.className.slice(0, -"Client".length)}()\`: ${displayVersion(gv)}.`,
      INDENT.length,
    ),
    fitted(`readonly ${gv.property}: ${gv.className};`, 1, gv.property),
  ]);
  const ctor = [
    "constructor(client: Client) {",
    indent([
      hardline,
      join(hardline, [
        "this.client = client;",
        ...gvs.map((gv) =>
          fitted(`this.${gv.property} = new ${gv.className}(client);`, 2, gv.property),
        ),
      ]),
    ]),
    hardline,
    "}",
  ];
  const text = [
    "client-go's `kubernetes.Clientset`: the typed API of every resource kube-apiserver " +
      `${version} serves, by group version. \`new Clientset(client).coreV1.pods("web")\` is ` +
      '`client.api(Pod).namespace("web")`, and `clientset.rbacV1.clusterRoles()` is ' +
      "`client.api(ClusterRole)`: each method returns exactly what `Client.api` returns for " +
      "the resource's descriptor, so every verb, option, subresource and error is `Api`'s.",
    "",
    "Constructing one is cheap (one small object per group version, nothing sent); it shares " +
      "`client`'s connections, credentials and rate limiter.",
  ];
  return [
    docComment(text.join("\n"), 0),
    "export class Clientset {",
    indent([
      hardline,
      join(
        [hardline, hardline],
        [["/** The client every method goes through. */", hardline, "readonly client: Client;"]],
      ),
      hardline,
      hardline,
      join([hardline, hardline], properties),
      hardline,
      hardline,
      ctor,
    ]),
    hardline,
    "}",
  ];
}

/** The complete text of `src/clientset/index.ts`. */
export function renderClientset(gvs: ClientsetGroupVersion[], version: string): string {
  const modules = [...new Set(gvs.flatMap((gv) => gv.resources.map((r) => r.module)))].sort(
    compare,
  );
  const resources = gvs.reduce((n, gv) => n + gv.resources.length, 0);
  const moduleDoc = [
    `The Clientset for client-go users: \`new Clientset(client)\` with one property per group ` +
      "version and one method per resource, named as client-go names them (`coreV1.pods(ns)`, " +
      "`appsV1.deployments(ns)`, `apiextensionsV1.customResourceDefinitions()`), each returning " +
      "`client.api(Descriptor)`. A thin facade: `Api<T, N>` is the implementation.",
    "",
    `Importing it loads the descriptors of every group version: the ${modules.length} modules ` +
      `under \`kubekit/api\` that define the ${resources} resources it covers. The root ` +
      "`kubekit` export does not import it, so programs that name their kinds " +
      "(`client.api(Pod)` with `Pod` from `kubekit/api/core/v1`) load only the modules they use.",
  ];
  const head = [
    headerLine(version),
    "/**",
    ...moduleDoc.flatMap((l) => wrapLine(l, WIDTH - 3)).map((l) => (l === "" ? " *" : ` * ${l}`)),
    " *",
    " * @module",
    " */",
    "",
    ...modules.map((m) => `import * as ${importAlias(m)} from "../api/${m}/index.ts";`),
    'import type { Api, Client } from "../client/index.ts";',
    'import type { KubernetesObject } from "../core/meta.ts";',
    "",
  ];
  const helper: Doc = [
    docComment(
      "`api` in `namespace` when one is given, else `api` itself: then, as with any `Api` " +
        "without `.namespace()`, list and watch span all namespaces and single-object calls use " +
        "the object's namespace or the config's. `namespace` is passed on as it is, so `\"\"` " +
        "means what it means to `Api.namespace`.",
      0,
    ),
    "function inNamespace<T extends KubernetesObject>(",
    indent([hardline, "api: Api<T, true>,", hardline, "namespace: string | undefined,"]),
    hardline,
    "): Api<T, true> {",
    indent([hardline, "return namespace === undefined ? api : api.namespace(namespace);"]),
    hardline,
    "}",
  ];
  const decls: Doc[] = [
    helper,
    clientsetClassDoc(gvs, version),
    ...gvs.map((gv) => groupVersionClassDoc(gv)),
  ];
  return `${head.join("\n")}\n${print(join([hardline, hardline], decls))}\n`;
}
