export {
  type CallOptions,
  DEFAULT_TIMEOUT_MS,
  defaultUserAgent,
  encodeQuery,
  KUBEKIT_VERSION,
  type ListPage,
  RestClient,
  type RestClientOptions,
  type RestRequest,
  type WatchCallOptions,
} from "./client.ts";
export { type RestClientExtras, restClientFromConfig } from "./config.ts";
export {
  compose,
  type Dispatch,
  type HeaderMap,
  type HttpRequest,
  type HttpResponse,
  type Interceptor,
  type ResponseBody,
} from "./http.ts";
export {
  dedupingWarningWriter,
  type MetricsHook,
  metrics,
  parseWarnings,
  type RequestMetrics,
  rateLimit,
  retry,
  type Warning,
  type WarningHandler,
  warnings,
} from "./interceptors.ts";
export {
  curlCommand,
  debugLog,
  type LogSink,
  logLevelFromEnv,
  redactBody,
  redactHeaders,
} from "./log.ts";
export { TokenBucket } from "./ratelimit.ts";
export {
  type ClientCertificate,
  createTransport,
  type Transport,
  type TransportOptions,
} from "./transport.ts";
export { decodeWatchEvents, type WatchEvent, type WatchEventType } from "./watch.ts";
