/**
 * kubekit/crdgen: TypeScript modules for custom resources, the same as kubekit's own modules for
 * built-in ones, so that `client.api(Widget)` is as typed as `client.api(Pod)`.
 *
 * Input: CustomResourceDefinitions (`apiextensions.k8s.io/v1`), from manifests (`crdsFromText`,
 * `crdsFromFiles`: YAML or JSON, multi-document, `List`s; other objects are skipped) or from a
 * cluster (`crdsFromCluster`). Output (`generate`): one module per group version served, at
 * `<group>/<version>.ts`, which imports only `kubekit` and `kubekit/api/...` and holds:
 * - an interface per kind, per list kind and per object nested in a kind's schema, exactly as
 *   kubekit's generator makes them from kube-apiserver's OpenAPI for built-in kinds: doc comments
 *   from descriptions (and `@default` from defaults), required fields required, literal
 *   `apiVersion` and `kind` (optional, as the client fills them in), string enums as unions kept
 *   open, `x-kubernetes-int-or-string` as IntOrString, `nullable` as `| null`,
 *   `x-kubernetes-preserve-unknown-fields` as an index signature (or `unknown` without a type),
 *   embedded resources with `apiVersion`, `kind` and ObjectMeta, `metadata` as meta/v1's
 *   ObjectMeta and ListMeta;
 * - a descriptor per kind under the same name as its interface: group, version, kind, plural,
 *   singular, short names and categories from `spec.names`, scope from `spec.scope`, the status
 *   and scale subresources of the version, verbs as the server's discovery lists them;
 * - `PATCH_META_LINES` and `PATCH_META_KINDS`: the kinds' patch metadata (list types, list map
 *   keys, map types) in kubekit/apply's table format, for `PatchMeta.fromTable` with
 *   `decodePatchMetaTable`.
 * Only served versions get modules; the storage version says so in its doc comments, and a
 * deprecated version's types and descriptor carry `@deprecated` with the warning the server sends.
 *
 * The types are made from what the server publishes for each version (`servedVersions`), not
 * from the raw schema, so a module generated from a manifest is the one generated from the CRD
 * read back from a cluster, and the one the server's own OpenAPI document gives
 * (`buildCrdModule` on its definitions). The output is deterministic and formatted as Biome
 * formats it.
 *
 * The `kubekit-crdgen` command (`runCli`) does the same from the command line; see its `--help`.
 *
 * @module
 */
export {
  CrdError,
  type CrdVersion,
  compareKubeAwareVersions,
  definitionName,
  servedVersions,
} from "./crd.ts";
export { type GenerateOptions, generate } from "./generate.ts";
export { crdsFromCluster, crdsFromFiles, crdsFromText, type FromClusterOptions } from "./input.ts";
export { type CliIo, runCli, USAGE } from "./main.ts";
export {
  buildCrdModule,
  buildCrdModules,
  type CrdModule,
  HEADER_PREFIX,
  renderCrdModule,
} from "./module.ts";
export { generatedFrom, type WriteResult, writeModules } from "./output.ts";
