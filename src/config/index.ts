/**
 * kubekit/config: kubeconfig loading and merging by clientcmd's rules, `kubectl config view`,
 * in-cluster configuration, and the resolved `RestConfig` the transport connects with.
 */
export {
  ERR_NOT_IN_CLUSTER,
  type InClusterOptions,
  type InClusterOverrides,
  inClusterConfig,
  inClusterPossible,
  SERVICE_ACCOUNT_DIR,
} from "./in-cluster.ts";
export {
  type KubeconfigSources,
  kubeconfigSources,
  type LoadKubeconfigOptions,
  loadKubeconfig,
  parseKubeconfig,
} from "./kubeconfig.ts";
export {
  type ClientTuning,
  type ConfigOverrides,
  ERR_NO_CONFIG,
  EXEC_CLUSTER_EXTENSION,
  type LoadConfigOptions,
  loadConfig,
  type RestConfigFromKubeconfigOptions,
  restConfigFromKubeconfig,
} from "./load.ts";
export {
  AuthProvider,
  type ConfigPath,
  ExecEnvVar,
  type Extensions,
  type JsonValue,
  Kubeconfig,
  KubeconfigCluster,
  type KubeconfigClusterInit,
  type KubeconfigContext,
  type KubeconfigExec,
  type KubeconfigInit,
  type KubeconfigPreferences,
  KubeconfigUser,
  type KubeconfigUserInit,
} from "./model.ts";
export {
  DEFAULT_BURST,
  DEFAULT_QPS,
  defaultUserAgent,
  EXEC_API_VERSIONS,
  type ExecClusterInfo,
  type ExecInteractiveMode,
  type ExecProviderConfig,
  type ImpersonationConfig,
  RestConfig,
  type RestConfigInit,
  type RestConfigSource,
} from "./rest-config.ts";
export { REDACTED } from "./secret.ts";
export { parseTimeout } from "./util.ts";
export { type KubeconfigView, type ViewKubeconfigOptions, viewKubeconfig } from "./view.ts";
