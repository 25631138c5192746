export {
  Api,
  type ApiContext,
  type ApplyCallOptions,
  type ApplyConfigurationLike,
  type JsonPatchOperation,
  type PatchCallOptions,
  type PatchKind,
  type PodLogOptions,
  ScaleApi,
  StatusApi,
  SubresourceApi,
} from "./api.ts";
export { Client, type ClientOptions, type RawRequest } from "./client.ts";
