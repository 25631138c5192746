import { createHash } from "node:crypto";

/**
 * Credential sources shared process-wide, by a hash of everything that determines what they
 * return. Two clients built from the same kubeconfig user and cluster then run one exec plugin (or
 * one OIDC refresh) instead of two: a plugin may be slow, interactive or rate-limited, and an OIDC
 * refresh token may be valid for one use only.
 *
 * The key is a hash rather than the user's name because names are local to one kubeconfig file
 * (two files can both call their user "admin"), and rather than the configuration itself because
 * that holds secrets (exec `env` values, refresh tokens) that should not sit in a map key.
 */
export class CredentialCache {
  readonly #entries = new Map<string, unknown>();

  /** The entry for `key`, made by `create` if there is none yet. */
  getOrCreate<T>(key: string, create: () => T): T {
    if (this.#entries.has(key)) return this.#entries.get(key) as T;
    const value = create();
    this.#entries.set(key, value);
    return value;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Forgets every shared source (tests; a long-running process that reloads its kubeconfig). */
  clear(): void {
    this.#entries.clear();
  }
}

/** The process-wide cache used unless a caller passes its own. */
export const sharedCredentialCache: CredentialCache = new CredentialCache();

/**
 * A SHA-256 of `value` serialised with object keys sorted, so the same configuration gives the
 * same key whatever order its fields were written in. `undefined` fields are left out, as JSON
 * does.
 */
export function stableHash(value: unknown): string {
  return createHash("sha256").update(stableStringify(value)).digest("hex");
}

function stableStringify(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((v) => stableStringify(v)).join(",")}]`;
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString("base64"));
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(",")}}`;
}
