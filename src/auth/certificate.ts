import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { inspect } from "node:util";
import { ConfigError } from "../core/errors.ts";
import {
  ClientCertificate,
  type CredentialSource,
  Credentials,
  type CredentialsRequest,
  defaultWarningHandler,
  SingleFlight,
  type WarningHandler,
} from "./credentials.ts";
import { CredentialError } from "./errors.ts";

/** Where a client certificate and key come from (kubeconfig `client-certificate(-data)`, ...). */
export interface CertificateInput {
  /** The PEM certificate itself (decoded, not base64). Beats `certFile`. */
  certData?: string | Uint8Array | null;
  certFile?: string | null;
  /** The PEM private key itself (decoded, not base64). Beats `keyFile`. */
  keyData?: string | Uint8Array | null;
  keyFile?: string | null;
}

export interface FileStat {
  mtimeMs: number;
  size: number;
  ino: number;
}

export interface CertificateSourceOptions {
  /**
   * How often the files' metadata is checked for a change; default 5 minutes, client-go's
   * interval for file-based client certificates.
   */
  checkIntervalMs?: number;
  /** After a failed reload (old pair kept), how long until the next attempt; default 10 s. */
  retryMs?: number;
  now?: () => number;
  stat?: (path: string) => Promise<FileStat>;
  readFile?: (path: string) => Promise<Buffer>;
  /** Told once per streak of failed reloads while the older pair stays in use. */
  onWarning?: WarningHandler;
}

const nonEmpty = (v: string | Uint8Array | null | undefined): boolean =>
  v !== undefined && v !== null && v.length > 0;

/** Whether the input names a client certificate at all (cert or key, data or file). */
export function hasCertificate(input: CertificateInput): boolean {
  return (
    nonEmpty(input.certData) ||
    nonEmpty(input.certFile) ||
    nonEmpty(input.keyData) ||
    nonEmpty(input.keyFile)
  );
}

/**
 * A client certificate and key, from data or from files. When both come from files (and neither
 * from data), the files are watched: at most every `checkIntervalMs` their mtime, size and inode
 * are compared with the last load, and on a change both are read again. A new `ClientCertificate`
 * (new `version`) is made only when the bytes differ, so a `touch` does not rebuild connections.
 *
 * A pair is used only when the key belongs to the certificate: a rotation caught halfway (the new
 * certificate written, the old key still there) keeps the previous pair, is reported once through
 * `onWarning`, and is retried after `retryMs`. Loading the first pair fails loudly instead.
 * After a 401 with the current pair, the files are checked at the next call.
 */
export class CertificateSource implements CredentialSource {
  readonly #cert: { data: Buffer | string } | { file: string };
  readonly #key: { data: Buffer | string } | { file: string };
  readonly #watch: boolean;
  readonly #checkIntervalMs: number;
  readonly #retryMs: number;
  readonly #now: () => number;
  readonly #stat: (path: string) => Promise<FileStat>;
  readonly #readFile: (path: string) => Promise<Buffer>;
  readonly #onWarning: WarningHandler;
  readonly #flight = new SingleFlight<Credentials>();
  #current: Credentials | undefined;
  #signature = "";
  #due = Number.NEGATIVE_INFINITY;
  #warned = false;

  constructor(input: CertificateInput, options: CertificateSourceOptions = {}) {
    const cert = pick(input.certData, input.certFile);
    const key = pick(input.keyData, input.keyFile);
    if (cert === undefined) throw new ConfigError("a client key is set without a certificate");
    if (key === undefined) throw new ConfigError("a client certificate is set without a key");
    this.#cert = cert;
    this.#key = key;
    this.#watch = "file" in cert && "file" in key;
    this.#checkIntervalMs = options.checkIntervalMs ?? 5 * 60_000;
    this.#retryMs = options.retryMs ?? Math.min(10_000, this.#checkIntervalMs);
    this.#now = options.now ?? Date.now;
    this.#stat = options.stat ?? stat;
    this.#readFile = options.readFile ?? ((p) => readFile(p));
    this.#onWarning = options.onWarning ?? defaultWarningHandler;
  }

  credentials(options?: CredentialsRequest): Promise<Credentials> {
    if (this.#current !== undefined && (!this.#watch || this.#now() < this.#due)) {
      return Promise.resolve(this.#current);
    }
    return this.#flight.join(() => this.#refresh(), options?.signal);
  }

  /**
   * A 401 can mean the server no longer accepts the certificate (rotated on disk, old one
   * revoked): files are checked again at the next call instead of after the interval.
   */
  onUnauthorized(used: Credentials): void {
    if (used === this.#current && this.#watch) this.#due = Number.NEGATIVE_INFINITY;
  }

  /** The current pair; loads it on first use. */
  async certificate(options?: CredentialsRequest): Promise<ClientCertificate> {
    return (await this.credentials(options)).clientCert!;
  }

  async #refresh(): Promise<Credentials> {
    const current = this.#current;
    if (current === undefined) {
      const signature = this.#watch ? await this.#statSignature() : "";
      const [cert, key] = await Promise.all([this.#load(this.#cert), this.#load(this.#key)]);
      validatePair(cert, key, "clientCertificate");
      this.#current = new Credentials({ clientCert: new ClientCertificate(cert, key) });
      this.#signature = signature;
      this.#due = this.#now() + this.#checkIntervalMs;
      return this.#current;
    }
    try {
      const signature = await this.#statSignature();
      if (signature !== this.#signature) {
        const [cert, key] = await Promise.all([this.#load(this.#cert), this.#load(this.#key)]);
        if (!current.clientCert!.hasContent(cert, key)) {
          validatePair(cert, key, "clientCertificate");
          this.#current = new Credentials({ clientCert: new ClientCertificate(cert, key) });
        }
        this.#signature = signature;
      }
      this.#warned = false;
      this.#due = this.#now() + this.#checkIntervalMs;
    } catch (err) {
      if (!this.#warned) {
        this.#warned = true;
        this.#onWarning(err as Error);
      }
      this.#due = this.#now() + this.#retryMs;
    }
    return this.#current ?? current;
  }

  async #statSignature(): Promise<string> {
    const files = [this.#cert, this.#key].map((s) => ("file" in s ? s.file : ""));
    const stats = await Promise.all(
      files.map(async (f) => {
        try {
          return await this.#stat(f);
        } catch (err) {
          throw fileError(f, err);
        }
      }),
    );
    return stats.map((s) => `${s.mtimeMs}/${s.size}/${s.ino}`).join(" ");
  }

  async #load(from: { data: Buffer | string } | { file: string }): Promise<Buffer | string> {
    if ("data" in from) return from.data;
    try {
      return await this.#readFile(from.file);
    } catch (err) {
      throw fileError(from.file, err);
    }
  }

  [inspect.custom](): string {
    const where = (s: { data: unknown } | { file: string }) =>
      "file" in s ? JSON.stringify(s.file) : "<data>";
    return `CertificateSource { cert: ${where(this.#cert)}, key: ${where(this.#key)} }`;
  }
}

function pick(
  data: string | Uint8Array | null | undefined,
  file: string | null | undefined,
): { data: Buffer | string } | { file: string } | undefined {
  if (data !== undefined && data !== null && data.length > 0) {
    return { data: typeof data === "string" ? data : Buffer.from(data) };
  }
  if (file !== undefined && file !== null && file !== "") return { file };
  return undefined;
}

function fileError(file: string, err: unknown): CredentialError {
  const code = (err as { code?: unknown }).code;
  return new CredentialError(
    "clientCertificate",
    `cannot read ${JSON.stringify(file)}${typeof code === "string" ? ` (${code})` : ""}`,
    { cause: err },
  );
}

/**
 * Throws unless `cert` is a PEM certificate and `key` the PEM private key that belongs to it.
 * The errors say which part is wrong and never include either (nor OpenSSL's text about them).
 */
export function validatePair(
  cert: string | Buffer,
  key: string | Buffer,
  source: "clientCertificate" | "exec",
): void {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw new CredentialError(source, "the client certificate is not a valid PEM certificate");
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new CredentialError(
      source,
      "the client key is not a valid (unencrypted) PEM private key",
    );
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new CredentialError(source, "the client key does not belong to the client certificate");
  }
}
