/**
 * From a snapshot to a model of the output: which module each definition lives in and the
 * resource descriptors discovery calls for. The pieces kubekit-crdgen shares (definition names,
 * the TypeScript type of a schema, declarations, descriptors) live in src/crdgen/model.ts; this
 * file assembles them into the modules of src/api. Nothing here formats text (emit.ts does);
 * everything here is deterministic given the snapshot.
 */
import {
  apiVersionOf,
  type Declaration,
  declarationOf,
  goPackageOf,
  nameOfDefinition,
  type ResourceModel,
  resourceOf,
  type TypeNode,
} from "../src/crdgen/model.ts";
import type { Snapshot } from "./snapshot.ts";

export {
  APIMACHINERY_MODULE,
  apiVersionOf,
  type Declaration,
  type DefinitionName,
  declarationOf,
  goPackageOf,
  importAlias,
  isIdentifier,
  moduleOfPackage,
  nameOfDefinition,
  type Property,
  type ResourceModel,
  resourceOf,
  type SubresourceModel,
  type TypeNode,
  typeOf,
} from "../src/crdgen/model.ts";

export interface ModuleModel {
  /** `core/v1`, `apimachinery`, ...: the folder under src/api. */
  path: string;
  /** The Go packages whose definitions it holds. */
  goPackages: string[];
  /** The `apiVersion`s whose resources it describes, e.g. `["apps/v1"]`. */
  apiVersions: string[];
  /** In definition-name order. */
  declarations: Declaration[];
  /** By kind: the descriptor emitted beside the interface of the same name. */
  resources: Map<string, ResourceModel>;
}

/**
 * Every module of the output, keyed and sorted by path. Each definition goes to the module of its
 * Go package; each top-level discovery resource becomes a descriptor in the module that holds its
 * kind's definition. A kind seen only as a subresource's (autoscaling/v1 Scale) gets no
 * descriptor, and two resources of one kind in one group version are an error, since the
 * descriptor is named after the kind.
 */
export function buildModules(snapshot: Snapshot): Map<string, ModuleModel> {
  const modules = new Map<string, ModuleModel>();
  const moduleFor = (path: string): ModuleModel => {
    let m = modules.get(path);
    if (m === undefined) {
      m = { path, goPackages: [], apiVersions: [], declarations: [], resources: new Map() };
      modules.set(path, m);
    }
    return m;
  };
  const ref = (definition: string): TypeNode => {
    if (!snapshot.schemas.has(definition)) {
      throw new Error(`reference to ${definition}, which no document defines`);
    }
    const { module, name } = nameOfDefinition(definition);
    return { kind: "ref", module, name };
  };

  const byGvk = new Map<string, string>();
  for (const definition of [...snapshot.schemas.keys()].sort()) {
    const schema = snapshot.schemas.get(definition)!;
    const { pkg, module } = nameOfDefinition(definition);
    const m = moduleFor(module);
    const goPackage = goPackageOf(pkg);
    if (!m.goPackages.includes(goPackage)) m.goPackages.push(goPackage);
    try {
      m.declarations.push(declarationOf(definition, schema, ref));
    } catch (err) {
      throw new Error(`${definition}: ${(err as Error).message}`, { cause: err });
    }
    for (const g of schema["x-kubernetes-group-version-kind"] ?? []) {
      byGvk.set(`${g.group}/${g.version}/${g.kind}`, definition);
    }
  }
  for (const m of modules.values()) {
    const names = new Set<string>();
    for (const d of m.declarations) {
      if (names.has(d.name)) throw new Error(`module ${m.path} declares ${d.name} twice`);
      names.add(d.name);
    }
  }

  for (const { group, versions } of snapshot.discovery) {
    for (const { version, resources } of versions) {
      for (const r of resources) {
        const resource = resourceOf(group, version, r);
        const gv = apiVersionOf(group, version);
        if (r.responseKind!.group !== "" || r.responseKind!.version !== "") {
          const own = r.responseKind!.group === group && r.responseKind!.version === version;
          if (!own) throw new Error(`${gv} ${r.resource}: served as a kind of another group`);
        }
        const definition = byGvk.get(`${group}/${version}/${resource.kind}`);
        if (definition === undefined) {
          throw new Error(`${gv} ${r.resource}: no definition has kind ${resource.kind}`);
        }
        const m = moduleFor(nameOfDefinition(definition).module);
        if (m.resources.has(resource.kind)) {
          throw new Error(
            `${gv}: ${m.resources.get(resource.kind)!.plural} and ${r.resource} are both ` +
              `${resource.kind}; a module can hold one descriptor per kind`,
          );
        }
        m.resources.set(resource.kind, resource);
        if (!m.apiVersions.includes(gv)) m.apiVersions.push(gv);
      }
    }
  }
  return new Map([...modules].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
