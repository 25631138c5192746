/**
 * kubekit/apply: server-side apply configurations and `extract`, typed JSON, merge and strategic
 * merge patches, strategic merge patches computed on the client (two-way and three-way, from the
 * API's patch metadata), retrying on conflicts, and applying or deleting manifests.
 */
export { ManifestError, PatchConflictError, PatchError } from "./errors.ts";
export {
  ExtractError,
  type ExtractOptions,
  extract,
  type FieldsV1,
  fieldPaths,
  managedFieldsEntry,
  ownedFieldPaths,
} from "./extract.ts";
export { applyJsonPatch, JsonPatchError, type JsonPatchErrorReason } from "./jsonpatch.ts";
export {
  type ApplyAction,
  type ApplyManifestResult,
  type ApplyManifestsOptions,
  applyManifests,
  type DeleteAction,
  type DeleteManifestResult,
  type DeleteManifestsOptions,
  deleteManifests,
  type ManifestDocument,
  type ParseManifestOptions,
  parseManifestDocuments,
  parseManifests,
} from "./manifest.ts";
export { applyMergePatch, createMergePatch } from "./merge.ts";
export {
  buildPatchMetaTable,
  builtinPatchMetaTable,
  type DefinitionMeta,
  decodePatchMetaTable,
  encodePatchMetaTable,
  type FieldLookup,
  type FieldMeta,
  type KindRef,
  type ListType,
  PatchMeta,
  type PatchMetaInput,
  type PatchMetaTable,
  resolvePatchMeta,
} from "./patchmeta.ts";
export {
  type Backoff,
  backoffDelays,
  DefaultBackoff,
  DefaultRetry,
  onError,
  type RetryOptions,
  retryOnConflict,
} from "./retry.ts";
export {
  applyStrategicMergePatch,
  createThreeWayMergePatch,
  createTwoWayMergePatch,
  mergingMapsHaveConflicts,
  type ThreeWayOptions,
} from "./strategic.ts";
export {
  type ApplyConfiguration,
  type DeepPartial,
  type JsonPatch,
  type JsonPatchAdd,
  type JsonPatchCopy,
  type JsonPatchMove,
  type JsonPatchOperation,
  type JsonPatchRemove,
  type JsonPatchReplace,
  type JsonPatchTest,
  jsonPatch,
  jsonPointer,
  type ListItemDirective,
  type MergePatch,
  mergePatch,
  type StrategicMergePatch,
  type StrategicMergePatchDirectives,
  strategicMergePatch,
  type TypedPatchOptions,
} from "./types.ts";
