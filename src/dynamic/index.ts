/**
 * kubekit/dynamic: the typed client's `Api` over resources known at run time (`Unstructured`
 * objects), the metadata-only client, and server-side Tables with kubectl-style printing.
 */
export {
  type ApiFactory,
  type ArgMapper,
  dynamic,
  dynamicFor,
  dynamicForKind,
  type KindMapper,
  type ScopedGroupVersionResource,
} from "./dynamic.ts";
export {
  ACCEPT_PARTIAL_METADATA,
  ACCEPT_PARTIAL_METADATA_LIST,
  MetadataApi,
  metadata,
  type PartialObjectMetadata,
  type PartialObjectMetadataList,
  toPartial,
} from "./metadata.ts";
export type { RestContext } from "./scope.ts";
export {
  ACCEPT_TABLE,
  type FormatTableOptions,
  formatTable,
  humanDuration,
  type IncludeObject,
  type Table,
  TableApi,
  type TableColumnDefinition,
  type TableRow,
  type TableRowCondition,
  tables,
} from "./table.ts";
export {
  isUnstructured,
  nestedField,
  type Unstructured,
  type UnstructuredList,
} from "./unstructured.ts";
