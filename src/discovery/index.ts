/**
 * kubekit/discovery: what the API server serves (aggregated and legacy discovery, with memory and
 * disk caches and OpenAPI v3 documents), and REST mapping from names and kinds to resources.
 */
export {
  DeferredRestMapper,
  type DeferredRestMapperOptions,
} from "./deferred.ts";
export {
  type DiscoveredResources,
  Discovery,
  type DiscoveryOptions,
  type DiscoverySnapshot,
  type RestSource,
} from "./discovery.ts";
export {
  DEFAULT_DISK_CACHE_TTL_MS,
  DiskCache,
  type DiskCacheOptions,
  type StoredDiscovery,
  serverDirName,
} from "./disk.ts";
export {
  AmbiguousResourceError,
  GroupDiscoveryFailedError,
  isGroupDiscoveryFailed,
  isNoMatch,
  type MappingQuery,
  NoMatchError,
  StaleGroupVersionError,
} from "./errors.ts";
export {
  type GroupKind,
  type MapperSource,
  parseKindArg,
  parseResourceArg,
  type ResourceArg,
  type ResourceQuery,
  RestMapper,
} from "./mapper.ts";
export { type OpenApiDocument, OpenApiV3 } from "./openapi.ts";
export {
  ACCEPT_AGGREGATED,
  ACCEPT_LEGACY,
  type APIGroup,
  type APIGroupDiscovery,
  type APIGroupDiscoveryList,
  type APIGroupList,
  type APIResourceDiscovery,
  type APISubresourceDiscovery,
  type APIVersionDiscovery,
  type APIVersions,
  type ApiGroup,
  type DiscoveredResource,
  type DiscoveryFormat,
  type DiscoveryKind,
  discoveryFormat,
  fromAggregated,
  type GroupVersionForDiscovery,
  groupFromVersions,
  groupsFromList,
  gvKey,
  type ParsedDiscovery,
  preferredResources,
  resourceFromJson,
  resourcesFromList,
  type VersionInfo,
} from "./parse.ts";
