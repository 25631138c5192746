/**
 * What integration tests know about the cluster they run against. `scripts/test.ts` starts (or
 * reuses) the control plane and passes its admin kubeconfig in `KUBEKIT_TEST_KUBECONFIG`; a user may
 * set that variable to run the tests against any other cluster.
 */
import { randomBytes } from "node:crypto";

export function testKubeconfig(): string {
  const path = process.env.KUBEKIT_TEST_KUBECONFIG;
  if (!path) {
    throw new Error(
      "KUBEKIT_TEST_KUBECONFIG is not set: run integration tests through `npm test` / `npm run test:integration`, " +
        "or start a cluster with `npm run cluster -- up` and set it to .kubekit/cluster/kubeconfig",
    );
  }
  return path;
}

/** The Kubernetes version the test control plane was built at, when the tests run against it. */
export function expectedServerVersion(): string | undefined {
  const v = process.env.KUBEKIT_TEST_K8S_VERSION;
  return v ? `v${v}` : undefined;
}

/** A name no other test (or earlier run against the same cluster) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}
