import { type InspectOptionsStylized, inspect } from "node:util";

/** What `JSON.stringify`, `util.inspect` and `console.log` show in place of a secret. */
export const REDACTED = "[redacted]";

/**
 * The base of config objects that hold secrets (tokens, passwords, private keys, exec env values,
 * auth-provider settings). Secrets live in private fields behind getters, so transport code reads
 * them as ordinary properties, while `JSON.stringify`, `util.inspect`, `console.log`, `String()`,
 * object spread and `structuredClone` never see them: the first two get `toJSON()`, which puts
 * `[redacted]` where a secret is set, and the others find no own property holding one.
 */
export abstract class Redacting {
  /** A plain copy for logs and JSON: every field, with secrets replaced by `[redacted]`. */
  abstract toJSON(): Record<string, unknown>;

  [inspect.custom](depth: number, options: InspectOptionsStylized, view: typeof inspect): string {
    const name = this.constructor.name;
    if (depth < 0) return options.stylize(`[${name}]`, "special");
    const nested = { ...options, depth: options.depth == null ? null : options.depth - 1 };
    return `${name} ${view(this.toJSON(), nested)}`;
  }

  toString(): string {
    return `[object ${this.constructor.name}]`;
  }
}

/** `value` if set, else undefined: how a secret appears in `toJSON()` output. */
export function redact(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string" && value === "") return "";
  return REDACTED;
}

/**
 * A URL with its password (if any) replaced, for messages and printed output. Proxy URLs may carry
 * `user:password@`; strings that do not parse as URLs come back with any `user:pass@` part masked.
 */
export function redactUrl(value: string): string {
  try {
    const u = new URL(value);
    if (u.password === "") return value;
    u.password = "redacted";
    return u.href;
  } catch {
    return value.replace(/\/\/([^/@:]*):[^/@]*@/, "//$1:redacted@");
  }
}
