import assert from "node:assert/strict";
import { test } from "node:test";
import { kBrands } from "./brand.ts";
import {
  ApiError,
  ConfigError,
  isAlreadyExists,
  isConflict,
  isGone,
  isInvalid,
  isNotFound,
  isResourceExpired,
  isTooManyRequests,
  KubekitError,
  TransportError,
} from "./errors.ts";

test("instanceof holds for an error made by another copy of kubekit", () => {
  // Another copy has its own classes; all it shares with this one is the Symbol.for brand key.
  class OtherApiError extends Error {
    readonly code = "ERR_KUBEKIT_API";
    get [kBrands]() {
      return ["ApiError", "KubekitError"];
    }
  }
  const foreign = new OtherApiError("x");
  assert.ok(foreign instanceof ApiError);
  assert.ok(foreign instanceof KubekitError);
  assert.ok(!(foreign instanceof ConfigError));
  assert.ok(!({} instanceof KubekitError));
  assert.ok(!((null as unknown) instanceof KubekitError));
});

test("subclass instances answer instanceof for their own class and their bases only", () => {
  const e = new TransportError("boom", { cause: new Error("ECONNRESET") });
  assert.ok(e instanceof TransportError);
  assert.ok(e instanceof KubekitError);
  assert.ok(e instanceof Error);
  assert.ok(!(e instanceof ApiError));
  assert.equal(e.code, "ERR_KUBEKIT_TRANSPORT");
  assert.equal(e.name, "TransportError");
  assert.equal((e.cause as Error).message, "ECONNRESET");
});

test("ApiError carries the server's Status and a readable message", () => {
  const e = new ApiError(
    {
      apiVersion: "v1",
      kind: "Status",
      status: "Failure",
      message: 'configmaps "x" not found',
      reason: "NotFound",
      details: { name: "x", kind: "configmaps" },
      code: 404,
    },
    { method: "GET", url: "/api/v1/namespaces/a/configmaps/x" },
  );
  assert.equal(e.statusCode, 404);
  assert.equal(e.reason, "NotFound");
  assert.equal(e.details?.name, "x");
  assert.equal(
    e.message,
    'GET /api/v1/namespaces/a/configmaps/x: configmaps "x" not found (404 NotFound)',
  );
  assert.ok(isNotFound(e));
  assert.ok(!isConflict(e));
});

test("reason helpers follow apimachinery: reason first, HTTP code only when the reason is unknown", () => {
  const err = (code: number, reason?: string) => new ApiError({ kind: "Status", code, reason });
  assert.ok(isNotFound(err(404)));
  assert.ok(isNotFound(err(404, "SomethingNew")));
  assert.ok(!isNotFound(err(404, "Gone")), "a known reason other than NotFound wins over the code");
  assert.ok(isConflict(err(409)));
  assert.ok(!isConflict(err(409, "AlreadyExists")));
  assert.ok(isAlreadyExists(err(409, "AlreadyExists")));
  assert.ok(!isAlreadyExists(err(409)), "AlreadyExists has no code of its own");
  assert.ok(isInvalid(err(422)));
  assert.ok(isGone(err(410)));
  assert.ok(isResourceExpired(err(410, "Expired")));
  assert.ok(!isResourceExpired(err(410)));
  assert.ok(isTooManyRequests(err(429)));
  assert.ok(!isNotFound(new Error("404")));
  assert.ok(!isNotFound(undefined));
});

test("ConfigError names the file, line and field", () => {
  const e = new ConfigError("cluster has no server", {
    file: "/k/config",
    field: 'clusters["a"].server',
  });
  assert.equal(e.message, '/k/config: clusters["a"].server: cluster has no server');
  assert.equal(e.code, "ERR_KUBEKIT_CONFIG");
  const p = new ConfigError("bad YAML", { file: "/k/config", line: 7 });
  assert.equal(p.message, "/k/config:7: bad YAML");
  assert.equal(p.line, 7);
});
