import { readFile } from "node:fs/promises";
import { inspect, stripVTControlCharacters } from "node:util";
import { ConfigError } from "../core/errors.ts";
import { type CredentialCache, sharedCredentialCache, stableHash } from "./cache.ts";
import {
  type CredentialSource,
  Credentials,
  type CredentialsRequest,
  isHeaderSafe,
  SingleFlight,
} from "./credentials.ts";
import { CredentialError, CredentialErrorCode } from "./errors.ts";

/** A kubeconfig user's `auth-provider` section. */
export interface AuthProviderConfig {
  name: string;
  config?: Readonly<Record<string, string>> | null;
}

export interface AuthProviderOptions {
  /**
   * The API server's address. Part of the cache key, as in client-go: the same provider settings
   * used for two clusters are two providers.
   */
  server?: string;
  now?: () => number;
  /** Timeout of each request to the identity provider; default 30 s. */
  timeoutMs?: number;
  /** Where shared sources live; default the process-wide cache. */
  cache?: CredentialCache;
}

/**
 * The credential source for a kubeconfig `auth-provider`. Only `oidc` exists: client-go removed
 * the `gcp` and `azure` providers in Kubernetes 1.26 in favour of exec plugins, and kubekit says so
 * with a `ConfigError` that names the plugin to use. Sources are shared process-wide by a hash of
 * the provider settings and `options.server` (see `CredentialCache`), so clients built from the
 * same kubeconfig refresh once, which matters when the identity provider issues single-use refresh
 * tokens.
 */
export function authProviderSource(
  provider: AuthProviderConfig,
  options: AuthProviderOptions = {},
): CredentialSource {
  switch (provider.name) {
    case "oidc": {
      const config = { ...(provider.config ?? {}) };
      const key = `oidc:${stableHash([options.server ?? "", config])}`;
      return (options.cache ?? sharedCredentialCache).getOrCreate(
        key,
        () => new OidcCredentialSource(config, options),
      );
    }
    case "gcp":
      throw new ConfigError(
        'the "gcp" auth provider was removed from Kubernetes clients in 1.26; use the gke-gcloud-auth-plugin exec credential plugin instead (`gcloud components install gke-gcloud-auth-plugin`, then `gcloud container clusters get-credentials` rewrites the kubeconfig to use it)',
        { field: "auth-provider.name" },
      );
    case "azure":
      throw new ConfigError(
        'the "azure" auth provider was removed from Kubernetes clients in 1.26; use the kubelogin exec credential plugin instead (`kubelogin convert-kubeconfig` rewrites the kubeconfig to use it)',
        { field: "auth-provider.name" },
      );
    default:
      throw new ConfigError(
        `unknown auth provider ${JSON.stringify(provider.name)}; kubekit supports "oidc", and exec credential plugins for everything else`,
        { field: "auth-provider.name" },
      );
  }
}

/** Seconds before `exp` at which an id-token already counts as expired (clock skew). */
const EXPIRY_DELTA_MS = 10_000;
const MAX_BODY = 1024 * 1024;

/**
 * The `oidc` auth provider: sends the kubeconfig's `id-token` while it is valid (its JWT `exp`,
 * read without verifying the signature: the API server verifies it) and, once it expires (or
 * after a 401 with it), refreshes it with the `refresh-token` at the issuer's token endpoint,
 * found by OIDC discovery (`<idp-issuer-url>/.well-known/openid-configuration`). The refresh
 * authenticates with `client-id`/`client-secret` (HTTP basic; if refused, in the form body, as
 * golang.org/x/oauth2 does) and trusts `idp-certificate-authority(-data)` when set, else the
 * system CAs. A rotated refresh token returned by the issuer replaces the old one in memory.
 *
 * Refreshed tokens are NOT written back to the kubeconfig (client-go does that through a
 * persister): another process, or this one after a restart, starts again from the kubeconfig's
 * tokens. With single-use refresh tokens that makes the kubeconfig's refresh token stale; prefer
 * an exec plugin such as kubelogin, which keeps its own token cache.
 */
export class OidcCredentialSource implements CredentialSource {
  readonly #issuer: string;
  readonly #clientId: string;
  readonly #clientSecret: string;
  readonly #caData: string;
  readonly #caFile: string;
  readonly #now: () => number;
  readonly #timeoutMs: number;
  readonly #flight = new SingleFlight<Credentials>();
  #refreshToken: string;
  #current: Credentials | undefined;
  #stale = false;
  #authInBody = false;

  constructor(config: Readonly<Record<string, string>>, options: AuthProviderOptions = {}) {
    this.#issuer = config["idp-issuer-url"] ?? "";
    this.#clientId = config["client-id"] ?? "";
    this.#clientSecret = config["client-secret"] ?? "";
    this.#caData = config["idp-certificate-authority-data"] ?? "";
    this.#caFile = config["idp-certificate-authority"] ?? "";
    this.#refreshToken = config["refresh-token"] ?? "";
    this.#now = options.now ?? Date.now;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    if (this.#issuer !== "") {
      try {
        new URL(this.#issuer);
      } catch {
        throw new ConfigError("idp-issuer-url is not a URL", {
          field: 'auth-provider.config["idp-issuer-url"]',
        });
      }
    }
    const idToken = config["id-token"] ?? "";
    if (idToken !== "") {
      if (!isHeaderSafe(idToken)) {
        throw new ConfigError("id-token contains a line break or NUL character", {
          field: 'auth-provider.config["id-token"]',
        });
      }
      const exp = jwtExpiry(idToken);
      this.#current = new Credentials({
        authorization: `Bearer ${idToken}`,
        ...(exp !== undefined && { expiresAt: exp }),
      });
    }
  }

  credentials(options?: CredentialsRequest): Promise<Credentials> {
    const current = this.#current;
    if (current !== undefined && !this.#stale && this.#valid(current)) {
      return Promise.resolve(current);
    }
    if (current !== undefined && this.#stale && !this.#canRefresh()) {
      // Nothing better to offer: the server will say 401 again, which is the truthful answer.
      return Promise.resolve(current);
    }
    return this.#flight.join(() => this.#refresh(), options?.signal);
  }

  onUnauthorized(used: Credentials): void {
    if (used === this.#current) this.#stale = true;
  }

  #valid(c: Credentials): boolean {
    return c.expiresAt !== undefined && this.#now() + EXPIRY_DELTA_MS < c.expiresAt;
  }

  #canRefresh(): boolean {
    return this.#refreshToken !== "" && this.#issuer !== "" && this.#clientId !== "";
  }

  async #refresh(): Promise<Credentials> {
    if (!this.#canRefresh()) {
      const missing = [
        this.#refreshToken === "" && "refresh-token",
        this.#issuer === "" && "idp-issuer-url",
        this.#clientId === "" && "client-id",
      ].filter((m) => m !== false);
      throw new CredentialError(
        "authProvider",
        `oidc: ${this.#current === undefined ? "no usable id-token" : "the id-token has expired"}, and it cannot be refreshed without ${missing.join(", ")}`,
        { code: CredentialErrorCode.oidcRefresh },
      );
    }
    const ca = await this.#ca();
    const tokenEndpoint = await this.#discover(ca);
    const form = new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: this.#refreshToken,
    });
    let res = await this.#tokenRequest(tokenEndpoint, form, ca, this.#authInBody);
    if (!this.#authInBody && (res.status === 400 || res.status === 401)) {
      // Some issuers accept client credentials only in the body (client_secret_post).
      const retry = await this.#tokenRequest(tokenEndpoint, form, ca, true);
      if (retry.status >= 200 && retry.status < 300) this.#authInBody = true;
      res = retry;
    }
    const body = parseTokenResponse(res);
    if (res.status < 200 || res.status >= 300) {
      const detail = [body?.error, body?.error_description]
        .filter((s) => typeof s === "string" && s !== "")
        .map((s) => clean(String(s)))
        .join(": ");
      throw new CredentialError(
        "authProvider",
        `oidc: the token endpoint ${tokenEndpoint} refused to refresh the id-token (HTTP ${res.status}${detail ? `, ${detail}` : ""})`,
        { code: CredentialErrorCode.oidcRefresh },
      );
    }
    const idToken = body?.id_token;
    if (typeof idToken !== "string" || idToken === "") {
      throw new CredentialError(
        "authProvider",
        'oidc: the token response has no id_token (was the "openid" scope requested at login? some providers do not return id-tokens when refreshing)',
        { code: CredentialErrorCode.oidcRefresh },
      );
    }
    if (!isHeaderSafe(idToken)) {
      throw new CredentialError(
        "authProvider",
        "oidc: the token endpoint returned an id_token with a line break",
        { code: CredentialErrorCode.oidcRefresh },
      );
    }
    const newRefresh = body?.refresh_token;
    if (typeof newRefresh === "string" && newRefresh !== "") this.#refreshToken = newRefresh;
    const exp = jwtExpiry(idToken);
    const next = new Credentials({
      authorization: `Bearer ${idToken}`,
      ...(exp !== undefined && { expiresAt: exp }),
    });
    this.#current = next;
    this.#stale = false;
    return next;
  }

  async #ca(): Promise<Buffer | undefined> {
    if (this.#caData !== "") return Buffer.from(this.#caData, "base64");
    if (this.#caFile === "") return undefined;
    try {
      return await readFile(this.#caFile);
    } catch (err) {
      throw new CredentialError(
        "authProvider",
        `oidc: cannot read idp-certificate-authority ${JSON.stringify(this.#caFile)}`,
        { code: CredentialErrorCode.oidcRefresh, cause: err },
      );
    }
  }

  async #discover(ca: Buffer | undefined): Promise<string> {
    const url = `${this.#issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
    const res = await this.#send(
      url,
      { method: "GET", headers: { accept: "application/json" } },
      ca,
    );
    if (res.status !== 200) {
      throw new CredentialError(
        "authProvider",
        `oidc: OIDC discovery at ${url} answered HTTP ${res.status}`,
        { code: CredentialErrorCode.oidcRefresh },
      );
    }
    let doc: unknown;
    try {
      doc = JSON.parse(res.body);
    } catch {
      doc = undefined;
    }
    const endpoint = (doc as { token_endpoint?: unknown } | undefined)?.token_endpoint;
    if (typeof endpoint !== "string" || endpoint === "") {
      throw new CredentialError(
        "authProvider",
        `oidc: the discovery document at ${url} has no token_endpoint`,
        { code: CredentialErrorCode.oidcRefresh },
      );
    }
    return endpoint;
  }

  #tokenRequest(
    endpoint: string,
    form: URLSearchParams,
    ca: Buffer | undefined,
    authInBody: boolean,
  ): Promise<HttpResult> {
    const headers: Record<string, string> = {
      "content-type": "application/x-www-form-urlencoded",
      accept: "application/json",
    };
    const body = new URLSearchParams(form);
    if (authInBody) {
      body.set("client_id", this.#clientId);
      if (this.#clientSecret !== "") body.set("client_secret", this.#clientSecret);
    } else {
      // RFC 6749 §2.3.1: both parts form-urlencoded before base64.
      const user = `${formEncode(this.#clientId)}:${formEncode(this.#clientSecret)}`;
      headers.authorization = `Basic ${Buffer.from(user).toString("base64")}`;
    }
    return this.#send(endpoint, { method: "POST", headers, body: body.toString() }, ca);
  }

  async #send(
    url: string,
    init: { method: string; headers: Record<string, string>; body?: string },
    ca: Buffer | undefined,
  ): Promise<HttpResult> {
    try {
      return await sendRequest(new URL(url), init, ca, this.#timeoutMs);
    } catch (err) {
      if (err instanceof CredentialError) throw err;
      const code = (err as { code?: unknown }).code;
      throw new CredentialError(
        "authProvider",
        `oidc: request to ${url} failed${typeof code === "string" ? ` (${code})` : ""}`,
        { code: CredentialErrorCode.oidcRefresh, cause: err },
      );
    }
  }

  [inspect.custom](): string {
    return `OidcCredentialSource { issuer: ${JSON.stringify(this.#issuer)}, clientId: ${JSON.stringify(this.#clientId)} }`;
  }
}

interface HttpResult {
  status: number;
  contentType: string;
  body: string;
}

async function sendRequest(
  url: URL,
  init: { method: string; headers: Record<string, string>; body?: string },
  ca: Buffer | undefined,
  timeoutMs: number,
): Promise<HttpResult> {
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return Promise.reject(
      new CredentialError("authProvider", `oidc: unsupported URL scheme ${url.protocol}`, {
        code: CredentialErrorCode.oidcRefresh,
      }),
    );
  }
  // node:http and node:https are loaded here, not at the top: on Node 24 loading them also loads
  // Node's bundled undici (~20 ms), a cost every `import "kubekit"` would pay for a rare refresh.
  const { request: httpRequest } = await import("node:http");
  const { request: httpsRequest } = await import("node:https");
  return new Promise<HttpResult>((resolve, reject) => {
    const headers = { ...init.headers };
    if (init.body !== undefined) headers["content-length"] = String(Buffer.byteLength(init.body));
    const options = {
      method: init.method,
      headers,
      signal: AbortSignal.timeout(timeoutMs),
      ...(ca !== undefined && { ca }),
    };
    const req =
      url.protocol === "https:"
        ? httpsRequest(url, options, onResponse)
        : httpRequest(url, options, onResponse);
    function onResponse(res: import("node:http").IncomingMessage) {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY) {
          res.destroy(new Error("response body too large"));
          return;
        }
        chunks.push(chunk);
      });
      res.on("error", reject);
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers["content-type"] ?? ""),
          body: Buffer.concat(chunks).toString("utf8"),
        }),
      );
    }
    req.on("error", reject);
    req.end(init.body);
  });
}

type TokenResponse = Record<string, unknown>;

/** The token endpoint's JSON (or, from a few non-OIDC servers, form-encoded) answer. */
function parseTokenResponse(res: HttpResult): TokenResponse | undefined {
  if (/application\/x-www-form-urlencoded|text\/plain/.test(res.contentType)) {
    return Object.fromEntries(new URLSearchParams(res.body));
  }
  try {
    const v: unknown = JSON.parse(res.body);
    return typeof v === "object" && v !== null ? (v as TokenResponse) : undefined;
  } catch {
    return undefined;
  }
}

/** `application/x-www-form-urlencoded` encoding of one value (Go's `url.QueryEscape`). */
function formEncode(s: string): string {
  return new URLSearchParams({ v: s }).toString().slice(2);
}

/** A short, single-line, printable excerpt of an issuer's error text. */
function clean(s: string): string {
  const one = stripVTControlCharacters(s)
    .replace(/\p{Cc}+/gu, " ")
    .trim();
  return one.length > 200 ? `${one.slice(0, 200)}…` : one;
}

/**
 * The `exp` claim of a JWT in ms since the epoch, without verifying anything; undefined when the
 * token is not a JWT or has no numeric `exp` (such a token counts as expired).
 */
export function jwtExpiry(token: string): number | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8"));
    const exp = (claims as { exp?: unknown } | null)?.exp;
    return typeof exp === "number" && Number.isFinite(exp) ? Math.trunc(exp) * 1000 : undefined;
  } catch {
    return undefined;
  }
}
