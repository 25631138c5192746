import { readFile } from "node:fs/promises";
import { inspect } from "node:util";
import { ConfigError } from "../core/errors.ts";
import {
  type CredentialSource,
  Credentials,
  type CredentialsRequest,
  defaultWarningHandler,
  isHeaderSafe,
  SingleFlight,
  type WarningHandler,
} from "./credentials.ts";
import { CredentialError } from "./errors.ts";

export interface TokenFileOptions {
  /**
   * A token to use until the file has been read successfully (kubeconfig `token` next to
   * `tokenFile`: client-go keeps the token and lets the file refresh it). With it, a file that
   * cannot be read is reported rather than thrown.
   */
  token?: string;
  /** How long a read token is kept; default 60 s, as client-go. */
  periodMs?: number;
  /**
   * How much earlier than `periodMs` the file is read again; default 10 s, so the file is re-read
   * about every 50 s (client-go's leeway). Kubelet rewrites projected service-account tokens well
   * before they expire, so reading about once a minute picks the new one up in time.
   */
  leewayMs?: number;
  /** After a failed re-read (old token kept), how long until the next attempt; default 10 s. */
  retryMs?: number;
  /** The clock, ms since the epoch; default `Date.now`. */
  now?: () => number;
  /** Reads the file; default `fs.promises.readFile(path, "utf8")`. */
  readFile?: (path: string) => Promise<string | Buffer>;
  /** Told once per streak of failed re-reads while an older token stays in use. */
  onWarning?: WarningHandler;
}

/**
 * A bearer token read from a file and re-read periodically (kubeconfig `tokenFile`, the in-cluster
 * service-account token). Read on first use, not at construction, so building a client does no
 * I/O.
 *
 * - A read token is used for `periodMs - leewayMs` (50 s by default), then the file is read again.
 * - Surrounding whitespace is trimmed; an empty file is a failed read.
 * - A failed re-read keeps the previous token and is reported once through `onWarning` (until a
 *   read succeeds again); it is thrown only when there never was a token.
 * - After a 401 with the current token, the next call reads the file again at once: kubelet may
 *   have rotated the token early.
 */
export class TokenFileSource implements CredentialSource {
  readonly path: string;
  readonly #periodMs: number;
  readonly #leewayMs: number;
  readonly #retryMs: number;
  readonly #now: () => number;
  readonly #readFile: (path: string) => Promise<string | Buffer>;
  readonly #onWarning: WarningHandler;
  readonly #flight = new SingleFlight<Credentials>();
  #current: Credentials | undefined;
  #currentToken: string | undefined;
  /** The next time the file is due to be read; -Infinity: at the next call. */
  #due = Number.NEGATIVE_INFINITY;
  #warned = false;

  constructor(path: string, options: TokenFileOptions = {}) {
    if (path === "") throw new ConfigError("the token file path is empty");
    this.path = path;
    this.#periodMs = options.periodMs ?? 60_000;
    this.#leewayMs = options.leewayMs ?? 10_000;
    this.#retryMs = options.retryMs ?? 10_000;
    this.#now = options.now ?? Date.now;
    this.#readFile = options.readFile ?? ((p) => readFile(p, "utf8"));
    this.#onWarning = options.onWarning ?? defaultWarningHandler;
    if (options.token !== undefined && options.token !== "") {
      if (!isHeaderSafe(options.token)) {
        throw new ConfigError("the bearer token contains a line break or NUL character");
      }
      this.#currentToken = options.token;
      this.#current = new Credentials({ authorization: `Bearer ${options.token}` });
    }
  }

  credentials(options?: CredentialsRequest): Promise<Credentials> {
    if (this.#current !== undefined && this.#now() < this.#due) {
      return Promise.resolve(this.#current);
    }
    return this.#flight.join(() => this.#read(), options?.signal);
  }

  onUnauthorized(used: Credentials): void {
    if (used === this.#current) this.#due = Number.NEGATIVE_INFINITY;
  }

  async #read(): Promise<Credentials> {
    let token: string;
    try {
      token = await this.#readToken();
    } catch (err) {
      const current = this.#current;
      if (current === undefined) throw err;
      if (!this.#warned) {
        this.#warned = true;
        this.#onWarning(err as Error);
      }
      this.#due = this.#now() + this.#retryMs;
      return current;
    }
    this.#warned = false;
    this.#due = this.#now() + this.#periodMs - this.#leewayMs;
    if (token !== this.#currentToken || this.#current === undefined) {
      this.#currentToken = token;
      this.#current = new Credentials({ authorization: `Bearer ${token}` });
    }
    return this.#current;
  }

  async #readToken(): Promise<string> {
    let raw: string | Buffer;
    try {
      raw = await this.#readFile(this.path);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      throw new CredentialError(
        "tokenFile",
        `cannot read token file ${JSON.stringify(this.path)}${typeof code === "string" ? ` (${code})` : ""}`,
        { cause: err },
      );
    }
    const token = (typeof raw === "string" ? raw : raw.toString("utf8")).trim();
    if (token === "") {
      throw new CredentialError("tokenFile", `token file ${JSON.stringify(this.path)} is empty`);
    }
    if (!isHeaderSafe(token)) {
      throw new CredentialError(
        "tokenFile",
        `token file ${JSON.stringify(this.path)} holds more than one line`,
      );
    }
    return token;
  }

  [inspect.custom](): string {
    return `TokenFileSource { path: ${JSON.stringify(this.path)} }`;
  }
}
