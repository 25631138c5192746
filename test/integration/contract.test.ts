/**
 * The API server contract (test/contract/suite.ts) against the real kube-apiserver: what the
 * in-memory server in kubekit/testing is checked against.
 */
import { contractSuite } from "../contract/suite.ts";
import { compactEtcd, testClient } from "../support/cluster.ts";

contractSuite({
  name: "kube-apiserver",
  client: () => testClient(),
  // Revision 1, compacted away from etcd's history (a young cluster may still have it).
  expiredResourceVersion: async () => {
    await compactEtcd();
    return "1";
  },
  compact: compactEtcd,
  differences: new Set(),
  eventuallyMs: 60_000,
  close: async () => {},
});
