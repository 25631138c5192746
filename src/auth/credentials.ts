import { inspect } from "node:util";

/**
 * What a transport asks a credential source for, once per request.
 *
 * The contract, for every source in this folder:
 * - `credentials()` is cheap when nothing is due (a cached object, no I/O) and may be called for
 *   every request. When a refresh is due (a token file to re-read, a certificate to re-check, an
 *   exec plugin to run, an id-token to refresh), concurrent callers share one refresh.
 * - It resolves to the same `Credentials` object for as long as the credentials do not change, so
 *   `a === b` tells "unchanged" without comparing secrets.
 * - `signal` ends only the caller's wait: it rejects with `signal.reason`. A refresh that others
 *   also wait for (a shared exec plugin run) goes on.
 * - It rejects with a `CredentialError` (or `ConfigError`) when no usable credentials exist; a
 *   refresh that fails while older credentials are still usable keeps the older ones and reports
 *   the failure through the source's `onWarning` option instead.
 */
export interface CredentialSource {
  credentials(options?: CredentialsRequest): Promise<Credentials>;
  /**
   * The API server answered 401 to a request sent with `used`. When `used` is still the current
   * credentials object, the next `credentials()` call refreshes (once, however many requests got
   * the 401); when the source has moved on already, this does nothing. The response itself is not
   * retried by the source: like client-go, the transport returns the 401 to its caller.
   */
  onUnauthorized?(used: Credentials): void;
}

export interface CredentialsRequest {
  /** Aborts this caller's wait (not a refresh shared with other callers). */
  signal?: AbortSignal;
}

let nextCertificateVersion = 1;

/**
 * A client certificate and its private key (PEM), as a TLS connection needs them.
 *
 * `version` is unique in the process and a new `ClientCertificate` is made only when the content
 * changes, so a transport that keeps one connection pool per certificate compares `version` (or
 * the object) to know when to build a new pool, without looking at the key.
 */
export class ClientCertificate {
  readonly #cert: string | Buffer;
  readonly #key: string | Buffer;
  readonly version: number;

  constructor(cert: string | Buffer, key: string | Buffer) {
    this.#cert = cert;
    this.#key = key;
    this.version = nextCertificateVersion++;
    Object.freeze(this);
  }

  /** The PEM certificate chain, leaf first. */
  get cert(): string | Buffer {
    return this.#cert;
  }

  /** The PEM private key. */
  get key(): string | Buffer {
    return this.#key;
  }

  /** Whether `cert` and `key` are byte for byte the ones this object holds. */
  hasContent(cert: string | Buffer, key: string | Buffer): boolean {
    return sameBytes(this.#cert, cert) && sameBytes(this.#key, key);
  }

  toJSON(): { version: number } {
    return { version: this.version };
  }

  toString(): string {
    return `ClientCertificate { version: ${this.version} }`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/**
 * Credentials for one request: an `Authorization` header value, a client certificate, or both.
 * Immutable. The header value is reachable only through the `authorization` getter: it does not
 * show in `JSON.stringify`, `util.inspect` or `String()`, which print `Bearer <redacted>`.
 */
export class Credentials {
  readonly #authorization: string | undefined;
  /** The client certificate to present in the TLS handshake, if any. */
  readonly clientCert: ClientCertificate | undefined;
  /**
   * When these credentials stop being valid (ms since the epoch), if the source knows: an exec
   * plugin's `expirationTimestamp`, a JWT's `exp`. Informational: the source itself decides when
   * to refresh.
   */
  readonly expiresAt: number | undefined;

  constructor(init: {
    authorization?: string;
    clientCert?: ClientCertificate;
    expiresAt?: number;
  }) {
    this.#authorization = init.authorization;
    this.clientCert = init.clientCert;
    this.expiresAt = init.expiresAt;
    Object.freeze(this);
  }

  /** The full `Authorization` header value, e.g. `Bearer <token>` or `Basic <base64>`. */
  get authorization(): string | undefined {
    return this.#authorization;
  }

  toJSON(): { authorization?: string; clientCert?: { version: number }; expiresAt?: string } {
    return {
      ...(this.#authorization !== undefined && {
        authorization: redactAuthorization(this.#authorization),
      }),
      ...(this.clientCert && { clientCert: this.clientCert.toJSON() }),
      ...(this.expiresAt !== undefined && { expiresAt: new Date(this.expiresAt).toISOString() }),
    };
  }

  toString(): string {
    const j = this.toJSON();
    const parts = [
      j.authorization !== undefined ? `authorization: '${j.authorization}'` : undefined,
      j.clientCert ? `clientCert: ${this.clientCert}` : undefined,
      j.expiresAt ? `expiresAt: ${j.expiresAt}` : undefined,
    ].filter((p) => p !== undefined);
    return `Credentials { ${parts.join(", ")} }`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** `Bearer abc` → `Bearer <redacted>`; a value without a scheme → `<redacted>`. */
export function redactAuthorization(value: string): string {
  const m = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*) /.exec(value);
  return m ? `${m[1]} <redacted>` : "<redacted>";
}

/**
 * Whether a string may be sent as an HTTP header value. Tokens with a line break or NUL would be
 * rejected by the HTTP client with a message that may echo them; sources check first so the error
 * can name the setting instead.
 */
export function isHeaderSafe(value: string): boolean {
  return !/[\r\n\0]/.test(value);
}

function sameBytes(a: string | Buffer, b: string | Buffer): boolean {
  if (typeof a === "string" && typeof b === "string") return a === b;
  const ab = typeof a === "string" ? Buffer.from(a) : a;
  const bb = typeof b === "string" ? Buffer.from(b) : b;
  return ab.equals(bb);
}

/**
 * Waits for `promise` unless `signal` fires first, in which case it rejects with the signal's
 * reason. The promise itself is not cancelled (other callers may share it).
 */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

/** One refresh at a time: callers that arrive while one runs get its promise. */
export class SingleFlight<T> {
  #running: Promise<T> | undefined;

  run(fn: () => Promise<T>): Promise<T> {
    if (this.#running === undefined) {
      const p = (async () => fn())().finally(() => {
        if (this.#running === p) this.#running = undefined;
      });
      this.#running = p;
    }
    return this.#running;
  }

  /**
   * `run(fn)`, waited for until `signal` fires (see `raceSignal`). A signal that has fired already
   * starts nothing.
   */
  join(fn: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return raceSignal(this.run(fn), signal);
  }
}

/**
 * A report of a refresh that failed while older credentials stayed in use. The default prints it
 * once per failure streak through `process.emitWarning`.
 */
export type WarningHandler = (warning: Error) => void;

export const defaultWarningHandler: WarningHandler = (warning) => {
  process.emitWarning(warning);
};

/**
 * One source from several: the `Authorization` value of the first part that has one, the client
 * certificate of the first part that has one, and the earliest `expiresAt`. Used when a kubeconfig
 * user has a token (or basic auth, or an auth provider) *and* a client certificate.
 *
 * The combined object is reused while every part returns the same object, so identity still means
 * "unchanged"; `onUnauthorized` is passed to each part with the credentials that part supplied.
 */
export function combineCredentialSources(sources: readonly CredentialSource[]): CredentialSource {
  if (sources.length === 1) return sources[0]!;
  return new CombinedSource(sources);
}

class CombinedSource implements CredentialSource {
  readonly #sources: readonly CredentialSource[];
  #last: { parts: Credentials[]; combined: Credentials } | undefined;
  readonly #partsOf = new WeakMap<Credentials, Credentials[]>();

  constructor(sources: readonly CredentialSource[]) {
    this.#sources = sources;
  }

  async credentials(options?: CredentialsRequest): Promise<Credentials> {
    const parts = await Promise.all(this.#sources.map((s) => s.credentials(options)));
    const last = this.#last;
    if (last && parts.every((p, i) => p === last.parts[i])) return last.combined;
    const expiries = parts.map((p) => p.expiresAt).filter((e) => e !== undefined);
    const authorization = parts.find((p) => p.authorization !== undefined)?.authorization;
    const clientCert = parts.find((p) => p.clientCert !== undefined)?.clientCert;
    const combined = new Credentials({
      ...(authorization !== undefined && { authorization }),
      ...(clientCert !== undefined && { clientCert }),
      ...(expiries.length > 0 && { expiresAt: Math.min(...expiries) }),
    });
    this.#partsOf.set(combined, parts);
    this.#last = { parts, combined };
    return combined;
  }

  onUnauthorized(used: Credentials): void {
    const parts = this.#partsOf.get(used);
    if (parts === undefined) return;
    this.#sources.forEach((s, i) => {
      s.onUnauthorized?.(parts[i]!);
    });
  }

  [inspect.custom](): string {
    return `CombinedCredentialSource { parts: ${this.#sources.length} }`;
  }
}
