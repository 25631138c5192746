/**
 * The inputs both generators read: the subset of an OpenAPI v3 schema object that kube-apiserver
 * publishes (for built-in types and, in structural form, for custom resources), and the
 * aggregated-discovery facts a descriptor is made from.
 */

/** The subset of an OpenAPI v3 schema object that the generators read. */
export interface Schema {
  type?: string;
  format?: string;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema | boolean;
  $ref?: string;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  enum?: unknown[];
  nullable?: boolean;
  default?: unknown;
  "x-kubernetes-group-version-kind"?: GVK[];
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-embedded-resource"?: boolean;
  "x-kubernetes-list-type"?: string;
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-map-type"?: string;
}

export interface GVK {
  group: string;
  version: string;
  kind: string;
}

/** apidiscovery.k8s.io/v2 APIResourceDiscovery, as far as the generators read it. */
export interface DiscoveryResource {
  resource: string;
  responseKind?: GVK;
  scope: "Namespaced" | "Cluster";
  singularResource?: string;
  verbs?: string[];
  shortNames?: string[];
  categories?: string[];
  subresources?: { subresource: string; responseKind?: GVK; verbs?: string[] }[];
}
