import { inspect } from "node:util";
import { ConfigError } from "../core/errors.ts";
import { type CredentialSource, Credentials, isHeaderSafe } from "./credentials.ts";

/**
 * A bearer token that never changes (kubeconfig `token`, `--token`). It has no `onUnauthorized`:
 * there is nothing to refresh. For a token that rotates on disk use `TokenFileSource`.
 */
export class StaticTokenSource implements CredentialSource {
  readonly #credentials: Credentials;

  constructor(token: string) {
    if (token === "") throw new ConfigError("the bearer token is empty");
    if (!isHeaderSafe(token)) {
      throw new ConfigError("the bearer token contains a line break or NUL character");
    }
    this.#credentials = new Credentials({ authorization: `Bearer ${token}` });
  }

  credentials(): Promise<Credentials> {
    return Promise.resolve(this.#credentials);
  }

  [inspect.custom](): string {
    return "StaticTokenSource {}";
  }
}

/**
 * HTTP basic authentication (kubeconfig `username`/`password`): `Basic base64(user:password)`,
 * the UTF-8 bytes of both, as Go's `SetBasicAuth` sends them (no validation: a username with a
 * `:` is sent as it is, like client-go does).
 */
export class BasicAuthSource implements CredentialSource {
  readonly #credentials: Credentials;

  constructor(username: string, password: string) {
    const encoded = Buffer.from(`${username}:${password}`, "utf8").toString("base64");
    this.#credentials = new Credentials({ authorization: `Basic ${encoded}` });
  }

  credentials(): Promise<Credentials> {
    return Promise.resolve(this.#credentials);
  }

  [inspect.custom](): string {
    return "BasicAuthSource {}";
  }
}
