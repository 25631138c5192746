export { Backoff, type BackoffOptions } from "./backoff.ts";
export { SharedInformerFactory, type SharedInformerFactoryOptions } from "./factory.ts";
export {
  type EventHandler,
  type HandlerRegistration,
  type InformerHealth,
  SharedIndexInformer,
  type SharedIndexInformerOptions,
} from "./informer.ts";
export { Lister } from "./lister.ts";
export {
  DeletedFinalStateUnknown,
  Indexer,
  type IndexFunc,
  type KeyFunc,
  metaNamespaceKey,
  NAMESPACE_INDEX,
  namespaceIndexFunc,
  splitMetaNamespaceKey,
} from "./store.ts";
export {
  type RetryWatcherOptions,
  retryWatcher,
  untilWithSync,
  type WaitOptions,
  waitFor,
} from "./until.ts";
export {
  DEFAULT_STALL_TIMEOUT_MS,
  INITIAL_EVENTS_END,
  type ListWatch,
  type WatcherEvent,
  type WatcherOptions,
  type WatcherPhase,
  watcher,
} from "./watcher.ts";
