/**
 * The API server contract (test/contract/suite.ts) against kubekit's `InMemoryApiServer`, once
 * through the in-process transport and once over HTTP on loopback: the same suite the real
 * kube-apiserver passes in test/integration/contract.test.ts.
 */

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigMap } from "../../src/api/core/v1/index.ts";
import { Client } from "../../src/client/index.ts";
import { loadConfig } from "../../src/config/index.ts";
import { RestConfig } from "../../src/config/rest-config.ts";
import { ApiError } from "../../src/core/errors.ts";
import { InMemoryApiServer, KNOWN_DIFFERENCES } from "../../src/testing/index.ts";
import { type ContractTarget, contractSuite } from "../contract/suite.ts";

/**
 * The documented differences (`KNOWN_DIFFERENCES`), whose assertions the suite skips, plus
 * `server-side-apply` while the field-management helper (src/testing/ssa.ts) is a placeholder
 * that answers applies with 415: that one is detected, not declared.
 */
async function differences(): Promise<Set<string>> {
  const out = new Set(Object.keys(KNOWN_DIFFERENCES));
  const probe = new InMemoryApiServer();
  const client = new Client(new RestConfig({ server: "http://probe.invalid" }), {
    transport: probe.transport,
    qps: -1,
  });
  try {
    await client
      .api(ConfigMap)
      .namespace("default")
      .apply(
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "probe" } },
        { fieldManager: "probe" },
      );
  } catch (err) {
    if (err instanceof ApiError && err.statusCode === 415) out.add("server-side-apply");
    else throw err;
  } finally {
    await client.close();
    await probe.close();
  }
  return out;
}

function target(via: "transport" | "http", diffs: Set<string>): ContractTarget {
  const server = new InMemoryApiServer({ bookmarkIntervalMs: 500 });
  return {
    name: `in-memory (${via})`,
    async client() {
      if (via === "transport") {
        return new Client(new RestConfig({ server: "http://in-memory.invalid" }), {
          transport: server.transport,
          qps: -1,
        });
      }
      await server.listen();
      const dir = mkdtempSync(join(tmpdir(), "kubekit-contract-"));
      const file = join(dir, "kubeconfig");
      writeFileSync(file, server.kubeconfig());
      return new Client(await loadConfig({ kubeconfig: file, env: {}, inCluster: false }), {
        qps: -1,
      });
    },
    async expiredResourceVersion(client) {
      const cms = client.api(ConfigMap).namespace("default");
      const created = await cms.create({ metadata: { generateName: "expire-" } });
      await cms.delete(created.metadata!.name!);
      server.compact();
      return created.metadata!.resourceVersion!;
    },
    compact: async () => {
      server.compact();
      return true;
    },
    differences: diffs,
    eventuallyMs: 5_000,
    close: () => server.close(),
  };
}

const diffs = await differences();
contractSuite(target("transport", diffs));
contractSuite(target("http", diffs));
