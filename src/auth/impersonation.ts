import { ConfigError } from "../core/errors.ts";

/** Who to act as (kubeconfig `as`, `as-uid`, `as-groups`, `as-user-extra`; rest.Config.Impersonate). */
export interface ImpersonationConfig {
  user?: string | null;
  uid?: string | null;
  groups?: readonly string[] | null;
  /** Extra user attributes, e.g. `{ "scopes.example.com": ["view", "edit"] }`. */
  extra?: Readonly<Record<string, readonly string[]>> | null;
}

/** A header list that keeps repeated names, in the order they are to be sent. */
export type HeaderList = [name: string, value: string][];

/**
 * The impersonation headers for `config`: `Impersonate-User`, `Impersonate-Uid`, one
 * `Impersonate-Group` per group and one `Impersonate-Extra-<key>` per extra value, with the key
 * percent-encoded as client-go does (every byte that is not an RFC 7230 token character, and `%`
 * itself, becomes `%XX`; the API server decodes it with `url.PathUnescape`). Empty when nothing is
 * impersonated.
 *
 * Groups, a uid or extras without a user are a `ConfigError` (clientcmd refuses them too: the API
 * server cannot impersonate them without a user). A value with a line break or NUL is refused
 * rather than sent.
 *
 * The transport adds these headers only when the request has no `Impersonate-User` yet, so a
 * caller that sets its own impersonation for one request is not overridden (client-go's rule).
 */
export function impersonationHeaders(config: ImpersonationConfig | null | undefined): HeaderList {
  if (!config) return [];
  const user = config.user ?? "";
  const uid = config.uid ?? "";
  const groups = config.groups ?? [];
  const extra = Object.entries(config.extra ?? {});
  if (user === "") {
    if (uid !== "" || groups.length > 0 || extra.length > 0) {
      throw new ConfigError(
        "impersonating a uid, groups or extra user attributes requires impersonating a user",
        { field: "impersonate.user" },
      );
    }
    return [];
  }
  const headers: HeaderList = [["Impersonate-User", checked(user, "impersonate.user")]];
  if (uid !== "") headers.push(["Impersonate-Uid", checked(uid, "impersonate.uid")]);
  for (const [i, group] of groups.entries()) {
    headers.push(["Impersonate-Group", checked(group, `impersonate.groups[${i}]`)]);
  }
  for (const [key, values] of extra) {
    if (key === "") {
      throw new ConfigError("an extra user attribute has an empty key", {
        field: "impersonate.extra",
      });
    }
    const name = `Impersonate-Extra-${escapeExtraKey(key)}`;
    for (const value of values) {
      headers.push([name, checked(value, `impersonate.extra[${JSON.stringify(key)}]`)]);
    }
  }
  return headers;
}

/** RFC 7230 `tchar`: the bytes allowed in a header name, `%` excepted (it is the escape). */
const tokenByte = /^[!#$&'*+\-.^_`|~0-9A-Za-z]$/;

/** Percent-encodes an extra key for a header name, byte by byte over its UTF-8 encoding. */
export function escapeExtraKey(key: string): string {
  let out = "";
  for (const byte of Buffer.from(key, "utf8")) {
    const ch = String.fromCharCode(byte);
    out +=
      byte < 0x80 && tokenByte.test(ch)
        ? ch
        : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function checked(value: string, field: string): string {
  if (/[\r\n\0]/.test(value)) {
    throw new ConfigError("contains a line break or NUL character", { field });
  }
  return value;
}
