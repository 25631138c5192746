import { brandsOf, hasBrand, kBrands } from "./brand.ts";
import type { Status, StatusCause, StatusReason } from "./meta.ts";

/**
 * The base of every error kubekit throws. `code` is stable across releases and safe to switch on;
 * `message` is for people and may change. `instanceof` works across two copies of kubekit in one
 * process (see brand.ts).
 */
export class KubekitError extends Error {
  static readonly brand: string = "KubekitError";
  readonly code: string;

  constructor(message: string, options?: { code?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = options?.code ?? "ERR_KUBEKIT";
    this.name = new.target.name;
  }

  get [kBrands](): readonly string[] {
    return brandsOf(this.constructor);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    const brand = Object.hasOwn(this, "brand") ? this.brand : undefined;
    if (brand !== undefined && hasBrand(value, brand)) return true;
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

/**
 * A kubeconfig, in-cluster configuration or credential setting that cannot be used. `file` names
 * the kubeconfig file (when there is one) and `field` the entry, e.g. `users["dev"].exec.command`.
 * `line` is set for files that do not parse.
 */
export class ConfigError extends KubekitError {
  static override readonly brand: string = "ConfigError";
  readonly file: string | undefined;
  readonly field: string | undefined;
  readonly line: number | undefined;

  constructor(
    message: string,
    options?: { file?: string; field?: string; line?: number; code?: string; cause?: unknown },
  ) {
    const where = [
      options?.file !== undefined
        ? `${options.file}${options.line !== undefined ? `:${options.line}` : ""}`
        : undefined,
      options?.field,
    ]
      .filter((x) => x !== undefined)
      .join(": ");
    super(where ? `${where}: ${message}` : message, {
      code: options?.code ?? "ERR_KUBEKIT_CONFIG",
      cause: options?.cause,
    });
    this.file = options?.file;
    this.field = options?.field;
    this.line = options?.line;
  }
}

/** A request that cannot be built: an invalid name, namespace, option or body, found before any I/O. */
export class RequestBuildError extends KubekitError {
  static override readonly brand: string = "RequestBuildError";
  /** Which value was rejected, e.g. `name` or `options.limit`. */
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`, { code: "ERR_KUBEKIT_REQUEST_BUILD" });
    this.field = field;
  }
}

/**
 * The request never got an HTTP answer: DNS, connect, TLS, a reset or a body cut short. The cause is
 * the underlying error (undici's or Node's) with its own `code`.
 */
export class TransportError extends KubekitError {
  static override readonly brand: string = "TransportError";
  readonly method: string | undefined;
  readonly url: string | undefined;

  constructor(
    message: string,
    options: { cause?: unknown; method?: string; url?: string; code?: string },
  ) {
    super(message, { code: options.code ?? "ERR_KUBEKIT_TRANSPORT", cause: options.cause });
    this.method = options.method;
    this.url = options.url;
  }
}

/**
 * A request that did not finish within its `timeoutMs`, or a watch that received nothing for
 * longer than its stall timeout. The connection was closed.
 */
export class TimeoutError extends KubekitError {
  static override readonly brand: string = "TimeoutError";
  readonly timeoutMs: number;

  constructor(message: string, options: { timeoutMs: number; code?: string }) {
    super(message, { code: options.code ?? "ERR_KUBEKIT_TIMEOUT" });
    this.timeoutMs = options.timeoutMs;
  }
}

/**
 * A response (or a watch event) that is not what the API promises: malformed JSON, a body cut off
 * in the middle, an event without a type. `excerpt` holds at most a few hundred bytes of it.
 */
export class DecodeError extends KubekitError {
  static override readonly brand: string = "DecodeError";
  readonly excerpt: string | undefined;

  constructor(message: string, options?: { excerpt?: string; cause?: unknown }) {
    super(message, { code: "ERR_KUBEKIT_DECODE", cause: options?.cause });
    this.excerpt = options?.excerpt;
  }
}

/**
 * The API server answered with a failure. `status` is the server's `Status` object; when the body
 * was not a Status (a proxy's HTML page, an empty body), one is synthesised from the HTTP code and
 * `body` holds a short excerpt of what came back.
 */
export class ApiError extends KubekitError {
  static override readonly brand: string = "ApiError";
  readonly status: Status;
  /** The HTTP status code (or the code of a watch ERROR event's Status). */
  readonly statusCode: number;
  readonly reason: string;
  readonly method: string | undefined;
  readonly url: string | undefined;
  /** An excerpt of a body that was not a Status. */
  readonly body: string | undefined;
  /** Seconds the server asked to wait, from `Retry-After` or `details.retryAfterSeconds`. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    status: Status,
    options?: {
      method?: string;
      url?: string;
      body?: string;
      retryAfterSeconds?: number;
      cause?: unknown;
      /** Said in the message, e.g. "after 3 attempts". */
      note?: string;
    },
  ) {
    const statusCode = status.code ?? 0;
    const reason = status.reason ?? "";
    const what = options?.method && options.url ? `${options.method} ${options.url}: ` : "";
    const text = status.message || reason || `HTTP ${statusCode}`;
    super(
      `${what}${text} (${statusCode}${reason ? ` ${reason}` : ""})${options?.note ? `; ${options.note}` : ""}`,
      {
        code: "ERR_KUBEKIT_API",
        cause: options?.cause,
      },
    );
    this.status = status;
    this.statusCode = statusCode;
    this.reason = reason;
    this.method = options?.method;
    this.url = options?.url;
    this.body = options?.body;
    this.retryAfterSeconds = options?.retryAfterSeconds ?? status.details?.retryAfterSeconds;
  }

  get details(): Status["details"] {
    return this.status.details;
  }

  get causes(): StatusCause[] {
    return this.status.details?.causes ?? [];
  }
}

const knownReasons = new Set<string>([
  "Unauthorized",
  "Forbidden",
  "NotFound",
  "AlreadyExists",
  "Conflict",
  "Gone",
  "Invalid",
  "ServerTimeout",
  "StoreReadError",
  "Timeout",
  "TooManyRequests",
  "BadRequest",
  "MethodNotAllowed",
  "NotAcceptable",
  "RequestEntityTooLarge",
  "UnsupportedMediaType",
  "InternalError",
  "Expired",
  "ServiceUnavailable",
] satisfies StatusReason[]);

/**
 * apimachinery's rule: a reason matches when the server said it; an HTTP code matches only when the
 * server gave no reason it knows of. `code` is omitted for reasons that have no code of their own.
 */
function matches(err: unknown, reason: StatusReason, code?: number): boolean {
  if (!(err instanceof ApiError)) return false;
  if (err.reason === reason) return true;
  return code !== undefined && !knownReasons.has(err.reason) && err.statusCode === code;
}

export const isNotFound = (err: unknown): boolean => matches(err, "NotFound", 404);
export const isAlreadyExists = (err: unknown): boolean => matches(err, "AlreadyExists");
export const isConflict = (err: unknown): boolean => matches(err, "Conflict", 409);
export const isInvalid = (err: unknown): boolean => matches(err, "Invalid", 422);
export const isForbidden = (err: unknown): boolean => matches(err, "Forbidden", 403);
export const isUnauthorized = (err: unknown): boolean => matches(err, "Unauthorized", 401);
export const isGone = (err: unknown): boolean => matches(err, "Gone", 410);
export const isResourceExpired = (err: unknown): boolean => matches(err, "Expired");
export const isTooManyRequests = (err: unknown): boolean => matches(err, "TooManyRequests", 429);
export const isTimeout = (err: unknown): boolean => matches(err, "Timeout", 504);
export const isServerTimeout = (err: unknown): boolean => matches(err, "ServerTimeout");
export const isServiceUnavailable = (err: unknown): boolean =>
  matches(err, "ServiceUnavailable", 503);
export const isInternalError = (err: unknown): boolean => matches(err, "InternalError", 500);
export const isBadRequest = (err: unknown): boolean => matches(err, "BadRequest", 400);
export const isMethodNotSupported = (err: unknown): boolean =>
  matches(err, "MethodNotAllowed", 405);
export const isNotAcceptable = (err: unknown): boolean => matches(err, "NotAcceptable", 406);
export const isUnsupportedMediaType = (err: unknown): boolean =>
  matches(err, "UnsupportedMediaType", 415);
export const isRequestEntityTooLarge = (err: unknown): boolean =>
  matches(err, "RequestEntityTooLarge", 413);
