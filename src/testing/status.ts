/**
 * Failure `Status` bodies as kube-apiserver writes them (apimachinery's `errors.New*`), as
 * `ApiError`s: what the in-memory server answers, and what a fake client's reactor throws to make
 * a call fail the way the real server would.
 */
import { ApiError } from "../core/errors.ts";
import type { Status, StatusCause, StatusDetails } from "../core/meta.ts";

/** A resource as errors name it: `configmaps` in the core group, `deployments.apps` elsewhere. */
export interface GroupResource {
  readonly group: string;
  readonly resource: string;
}

/** A kind as validation errors name it: `ConfigMap`, `Deployment.apps`. */
export interface GroupKind {
  readonly group: string;
  readonly kind: string;
}

function qualified(group: string, name: string): string {
  return group ? `${name}.${group}` : name;
}

/** A failure Status with the given code, reason, message and details, as an `ApiError`. */
export function statusError(
  code: number,
  reason: string,
  message: string,
  details?: StatusDetails,
): ApiError {
  const status: Status = {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    ...(reason ? { reason } : {}),
    ...(details === undefined ? {} : { details }),
    code,
  };
  return new ApiError(status);
}

function details(gr: GroupResource, name: string): StatusDetails {
  return {
    ...(name ? { name } : {}),
    ...(gr.group ? { group: gr.group } : {}),
    kind: gr.resource,
  };
}

/** 404 NotFound: `configmaps "x" not found`. */
export function newNotFound(gr: GroupResource, name: string): ApiError {
  return statusError(
    404,
    "NotFound",
    `${qualified(gr.group, gr.resource)} "${name}" not found`,
    details(gr, name),
  );
}

/** 409 AlreadyExists: `configmaps "x" already exists`. */
export function newAlreadyExists(gr: GroupResource, name: string): ApiError {
  return statusError(
    409,
    "AlreadyExists",
    `${qualified(gr.group, gr.resource)} "${name}" already exists`,
    details(gr, name),
  );
}

/** The reason an update lost a race, as the real server words it. */
export const OPTIMISTIC_LOCK_ERROR =
  "the object has been modified; please apply your changes to the latest version and try again";

/**
 * 409 Conflict: `Operation cannot be fulfilled on configmaps "x": <why>`; `why` defaults to the
 * optimistic-lock message an update with a stale resourceVersion gets.
 */
export function newConflict(
  gr: GroupResource,
  name: string,
  why = OPTIMISTIC_LOCK_ERROR,
): ApiError {
  return statusError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualified(gr.group, gr.resource)} "${name}": ${why}`,
    details(gr, name),
  );
}

/** One field error of a 422, as apimachinery's `field.Error` renders it. */
export interface FieldError {
  /** The cause reason: `FieldValueRequired`, `FieldValueInvalid`, `FieldValueForbidden`, ... */
  readonly reason: string;
  /** The JSON path of the field, e.g. `metadata.name`. */
  readonly field: string;
  /** What `ErrorBody()` says, e.g. `Required value: name or generateName is required`. */
  readonly message: string;
}

/** `Required value: <detail>`. */
export function fieldRequired(field: string, detail: string): FieldError {
  return { reason: "FieldValueRequired", field, message: `Required value: ${detail}` };
}

/** `Invalid value: <value as Go prints it>: <detail>`. */
export function fieldInvalid(field: string, value: unknown, detail: string): FieldError {
  const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
  return { reason: "FieldValueInvalid", field, message: `Invalid value: ${shown}: ${detail}` };
}

/** `Forbidden: <detail>`. */
export function fieldForbidden(field: string, detail: string): FieldError {
  return { reason: "FieldValueForbidden", field, message: `Forbidden: ${detail}` };
}

/** `Unsupported value: "x": supported values: "a", "b"`. */
export function fieldNotSupported(field: string, value: string, supported: string[]): FieldError {
  return {
    reason: "FieldValueNotSupported",
    field,
    message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(", ")}`,
  };
}

/**
 * 422 Invalid: `ConfigMap "x" is invalid: metadata.name: Required value: ...`, one cause per
 * field error (several are listed in brackets, as Go's aggregate error prints them).
 */
export function newInvalid(gk: GroupKind, name: string, errors: readonly FieldError[]): ApiError {
  const texts = errors.map((e) => `${e.field}: ${e.message}`);
  const all = texts.length === 1 ? texts[0]! : `[${texts.join(", ")}]`;
  const causes: StatusCause[] = errors.map((e) => ({
    reason: e.reason,
    message: e.message,
    field: e.field,
  }));
  return statusError(
    422,
    "Invalid",
    `${qualified(gk.group, gk.kind)} "${name}" is invalid: ${all}`,
    {
      ...(name ? { name } : {}),
      ...(gk.group ? { group: gk.group } : {}),
      kind: gk.kind,
      causes,
    },
  );
}

/** 400 BadRequest with the message as given. */
export function newBadRequest(message: string): ApiError {
  return statusError(400, "BadRequest", message);
}

/** 403 Forbidden: `configmaps "x" is forbidden: <why>`. */
export function newForbidden(gr: GroupResource, name: string, why: string): ApiError {
  return statusError(
    403,
    "Forbidden",
    `${qualified(gr.group, gr.resource)} "${name}" is forbidden: ${why}`,
    details(gr, name),
  );
}

/** 405 MethodNotAllowed, as for a verb the resource does not serve. */
export function newMethodNotSupported(): ApiError {
  return statusError(
    405,
    "MethodNotAllowed",
    "the server does not allow this method on the requested resource",
    {},
  );
}

/** 410 Expired: a resourceVersion or continue token older than the retained history. */
export function newResourceExpired(message: string): ApiError {
  return statusError(410, "Expired", message);
}

/** 410 Gone. */
export function newGone(message: string): ApiError {
  return statusError(410, "Gone", message);
}

/** 415 UnsupportedMediaType. */
export function newUnsupportedMediaType(message: string): ApiError {
  return statusError(415, "UnsupportedMediaType", message);
}

/** 429 TooManyRequests, with `retryAfterSeconds` in the details. */
export function newTooManyRequests(message: string, retryAfterSeconds = 1): ApiError {
  return statusError(429, "TooManyRequests", message, { retryAfterSeconds });
}

/** 500 InternalError: `Internal error occurred: <message>`. */
export function newInternalError(message: string): ApiError {
  return statusError(500, "InternalError", `Internal error occurred: ${message}`, {
    causes: [{ message }],
  });
}

/** 503 ServiceUnavailable. */
export function newServiceUnavailable(message: string): ApiError {
  return statusError(503, "ServiceUnavailable", message);
}

/** 504 Timeout: `Timeout: <message>`. */
export function newTimeout(message: string, retryAfterSeconds = 0): ApiError {
  return statusError(
    504,
    "Timeout",
    `Timeout: ${message}`,
    retryAfterSeconds > 0 ? { retryAfterSeconds } : {},
  );
}

/** 404 with no details: the path names no resource the server has. */
export function notFoundPath(): ApiError {
  return statusError(404, "NotFound", "the server could not find the requested resource", {});
}
