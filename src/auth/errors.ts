import { KubekitError } from "../core/errors.ts";

/** Which kind of credential source failed. */
export type CredentialSourceKind =
  | "token"
  | "tokenFile"
  | "basic"
  | "clientCertificate"
  | "exec"
  | "authProvider";

/**
 * Credentials could not be obtained at request time: an exec plugin that is missing, failed, hung
 * or answered nonsense; a token file that never could be read; a client certificate that does not
 * load; an OIDC refresh that the identity provider refused. A setting that is wrong on its face
 * (before anything runs) is a `ConfigError` instead.
 *
 * The message never contains a secret: no token, password, key, refresh token or plugin stdout.
 * `code` is one of the `ERR_KUBEKIT_CREDENTIALS*` codes below.
 */
export class CredentialError extends KubekitError {
  static override readonly brand: string = "CredentialError";
  /** The kind of source that failed. */
  readonly source: CredentialSourceKind;

  constructor(
    source: CredentialSourceKind,
    message: string,
    options?: { code?: string; cause?: unknown },
  ) {
    super(message, { code: options?.code ?? "ERR_KUBEKIT_CREDENTIALS", cause: options?.cause });
    this.source = source;
  }
}

/** Stable `code` values of `CredentialError`. */
export const CredentialErrorCode = {
  /** Generic failure (unreadable token file, unloadable certificate, ...). */
  generic: "ERR_KUBEKIT_CREDENTIALS",
  /** The exec plugin's executable does not exist (or is not executable). */
  execNotFound: "ERR_KUBEKIT_CREDENTIALS_EXEC_NOT_FOUND",
  /** The exec plugin exited with a non-zero code or was killed by a signal. */
  execFailed: "ERR_KUBEKIT_CREDENTIALS_EXEC_FAILED",
  /** The exec plugin did not finish within the timeout and was killed. */
  execTimeout: "ERR_KUBEKIT_CREDENTIALS_EXEC_TIMEOUT",
  /** The exec plugin's stdout was not a usable ExecCredential. */
  execResponse: "ERR_KUBEKIT_CREDENTIALS_EXEC_RESPONSE",
  /** The exec plugin needs a terminal (interactiveMode Always) and there is none. */
  execInteractive: "ERR_KUBEKIT_CREDENTIALS_EXEC_INTERACTIVE",
  /** The OIDC identity provider could not be asked, or refused to refresh the id-token. */
  oidcRefresh: "ERR_KUBEKIT_CREDENTIALS_OIDC_REFRESH",
} as const;
