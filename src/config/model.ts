import { REDACTED, Redacting, redact, redactUrl } from "./secret.ts";

/** Any value JSON can hold: what an `extension` entry contains. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/** Named extensions (`extensions: [{name, extension}]`); values are kept as parsed. */
export type Extensions = ReadonlyMap<string, JsonValue>;

/**
 * A file path from a kubeconfig: `path` is what kubekit opens, `asWritten` is what the file says.
 *
 * A relative path is relative to the directory of the kubeconfig file that wrote it (clientcmd's
 * rule), so `path` is that directory joined with `asWritten`; absolute paths are kept as written.
 * `kubectl config view` prints `asWritten`, which is why both are kept.
 */
export interface ConfigPath {
  readonly path: string;
  readonly asWritten: string;
}

/** The fields of a `clusters[]` entry, for {@link KubeconfigCluster}'s constructor. */
export interface KubeconfigClusterInit {
  name: string;
  source: string;
  server?: string | undefined;
  tlsServerName?: string | undefined;
  insecureSkipTlsVerify?: boolean | undefined;
  certificateAuthority?: ConfigPath | undefined;
  certificateAuthorityData?: Buffer | undefined;
  proxyUrl?: string | undefined;
  disableCompression?: boolean | undefined;
  extensions?: Extensions | undefined;
}

/**
 * A `clusters[]` entry, after the merge: the whole entry comes from the one file in `source`.
 * Its only possible secret is a password in `proxyUrl`, which printing masks.
 */
export class KubeconfigCluster extends Redacting {
  readonly name: string;
  /** The absolute path of the kubeconfig file that defined this entry. */
  readonly source: string;
  /** `server`; "" when the entry has none (kubectl prints `"server": ""` then). */
  readonly server: string;
  readonly tlsServerName: string | undefined;
  readonly insecureSkipTlsVerify: boolean;
  readonly certificateAuthority: ConfigPath | undefined;
  /** `certificate-authority-data`, base64-decoded. */
  readonly certificateAuthorityData: Buffer | undefined;
  readonly #proxyUrl: string | undefined;
  readonly disableCompression: boolean;
  readonly extensions: Extensions;

  constructor(init: KubeconfigClusterInit) {
    super();
    this.name = init.name;
    this.source = init.source;
    this.server = init.server ?? "";
    this.tlsServerName = init.tlsServerName;
    this.insecureSkipTlsVerify = init.insecureSkipTlsVerify ?? false;
    this.certificateAuthority = init.certificateAuthority;
    this.certificateAuthorityData = init.certificateAuthorityData;
    this.#proxyUrl = init.proxyUrl;
    this.disableCompression = init.disableCompression ?? false;
    this.extensions = init.extensions ?? new Map();
  }

  /** `proxy-url`: http, https or socks5 (checked when a config is resolved); may hold a password. */
  get proxyUrl(): string | undefined {
    return this.#proxyUrl;
  }

  toJSON(): Record<string, unknown> {
    return dropUndefined({
      name: this.name,
      source: this.source,
      server: this.server,
      tlsServerName: this.tlsServerName,
      insecureSkipTlsVerify: this.insecureSkipTlsVerify,
      certificateAuthority: this.certificateAuthority,
      certificateAuthorityData: this.certificateAuthorityData?.toString("base64"),
      proxyUrl: this.#proxyUrl && redactUrl(this.#proxyUrl),
      disableCompression: this.disableCompression,
      extensions: this.extensions.size > 0 ? Object.fromEntries(this.extensions) : undefined,
    });
  }
}

/** A `contexts[]` entry. `cluster` and `user` are "" when the context names none. */
export interface KubeconfigContext {
  readonly name: string;
  readonly source: string;
  readonly cluster: string;
  readonly user: string;
  readonly namespace: string | undefined;
  readonly extensions: Extensions;
}

/** One `env` entry of an exec plugin config. `value` is secret (plugins take API keys this way). */
export class ExecEnvVar extends Redacting {
  readonly name: string;
  readonly #value: string;

  constructor(name: string, value: string) {
    super();
    this.name = name;
    this.#value = value;
  }

  get value(): string {
    return this.#value;
  }

  toJSON(): { name: string; value: string | undefined } {
    return { name: this.name, value: redact(this.#value) };
  }
}

/** `users[].user.exec` as the file says it, with `interactiveMode` defaulted as kubectl does. */
export interface KubeconfigExec {
  /** The command; `path` is resolved against the file's directory only if it contains a separator. */
  readonly command: ConfigPath;
  /** null when the file has no `args` (kubectl prints `null`; `[]` stays `[]`). */
  readonly args: readonly string[] | null;
  readonly env: readonly ExecEnvVar[] | null;
  readonly apiVersion: string | undefined;
  readonly installHint: string | undefined;
  readonly provideClusterInfo: boolean;
  /**
   * As written, or `IfAvailable` when unset and `apiVersion` is v1beta1 (or v1alpha1): the
   * defaulting clientcmd applies when it reads the file. For v1 it stays unset, which is invalid.
   */
  readonly interactiveMode: string | undefined;
}

/**
 * `users[].user.auth-provider` (a legacy plugin such as `oidc`). Every `config` value is treated as
 * a secret (id-token, refresh-token, client-secret): readable through `config`, shown as
 * `[redacted]` when printed.
 */
export class AuthProvider extends Redacting {
  readonly name: string;
  readonly #config: Readonly<Record<string, string>> | null;

  /** `config` null means the file has no `config` map (kubectl prints `"config": null`). */
  constructor(name: string, config: Iterable<readonly [string, string]> | null) {
    super();
    this.name = name;
    this.#config = config === null ? null : Object.freeze(Object.fromEntries(config));
  }

  get config(): Readonly<Record<string, string>> | null {
    return this.#config;
  }

  toJSON(): { name: string; config: Record<string, string> | null } {
    const config = this.#config;
    return {
      name: this.name,
      config: config && Object.fromEntries(Object.keys(config).map((k) => [k, REDACTED])),
    };
  }
}

/** The fields of a `users[]` entry, for {@link KubeconfigUser}'s constructor. */
export interface KubeconfigUserInit {
  name: string;
  source: string;
  clientCertificate?: ConfigPath | undefined;
  clientCertificateData?: Buffer | undefined;
  clientKey?: ConfigPath | undefined;
  clientKeyData?: Buffer | undefined;
  token?: string | undefined;
  tokenFile?: ConfigPath | undefined;
  as?: string | undefined;
  asUid?: string | undefined;
  asGroups?: readonly string[] | undefined;
  asUserExtra?: ReadonlyMap<string, readonly string[] | null> | undefined;
  username?: string | undefined;
  password?: string | undefined;
  authProvider?: AuthProvider | undefined;
  exec?: KubeconfigExec | undefined;
  extensions?: Extensions | undefined;
}

/**
 * A `users[]` entry. `token`, `password` and `clientKeyData` are readable properties but never
 * printed or serialised (see {@link Redacting}).
 */
export class KubeconfigUser extends Redacting {
  readonly name: string;
  readonly source: string;
  readonly clientCertificate: ConfigPath | undefined;
  readonly clientCertificateData: Buffer | undefined;
  readonly clientKey: ConfigPath | undefined;
  readonly #clientKeyData: Buffer | undefined;
  readonly #token: string | undefined;
  readonly tokenFile: ConfigPath | undefined;
  /** `as`: the user to impersonate. */
  readonly as: string | undefined;
  readonly asUid: string | undefined;
  readonly asGroups: readonly string[];
  /** `as-user-extra`; a value is null where the file says null (kubectl prints it so). */
  readonly asUserExtra: ReadonlyMap<string, readonly string[] | null>;
  readonly username: string | undefined;
  readonly #password: string | undefined;
  readonly authProvider: AuthProvider | undefined;
  readonly exec: KubeconfigExec | undefined;
  readonly extensions: Extensions;

  constructor(init: KubeconfigUserInit) {
    super();
    this.name = init.name;
    this.source = init.source;
    this.clientCertificate = init.clientCertificate;
    this.clientCertificateData = init.clientCertificateData;
    this.clientKey = init.clientKey;
    this.#clientKeyData = init.clientKeyData;
    this.#token = init.token;
    this.tokenFile = init.tokenFile;
    this.as = init.as;
    this.asUid = init.asUid;
    this.asGroups = init.asGroups ?? [];
    this.asUserExtra = init.asUserExtra ?? new Map();
    this.username = init.username;
    this.#password = init.password;
    this.authProvider = init.authProvider;
    this.exec = init.exec;
    this.extensions = init.extensions ?? new Map();
  }

  /** `client-key-data`, base64-decoded: a private key. */
  get clientKeyData(): Buffer | undefined {
    return this.#clientKeyData;
  }

  get token(): string | undefined {
    return this.#token;
  }

  get password(): string | undefined {
    return this.#password;
  }

  toJSON(): Record<string, unknown> {
    return dropUndefined({
      name: this.name,
      source: this.source,
      clientCertificate: this.clientCertificate,
      clientCertificateData: this.clientCertificateData?.toString("base64"),
      clientKey: this.clientKey,
      clientKeyData: this.#clientKeyData === undefined ? undefined : REDACTED,
      token: redact(this.#token),
      tokenFile: this.tokenFile,
      as: this.as,
      asUid: this.asUid,
      asGroups: this.asGroups.length > 0 ? this.asGroups : undefined,
      asUserExtra: this.asUserExtra.size > 0 ? Object.fromEntries(this.asUserExtra) : undefined,
      username: this.username,
      password: redact(this.#password),
      authProvider: this.authProvider,
      exec: this.exec,
      extensions: this.extensions.size > 0 ? Object.fromEntries(this.extensions) : undefined,
    });
  }
}

export function dropUndefined(o: Record<string, unknown>): Record<string, unknown> {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/** The preferences block: `colors` is true if any file says so; extensions merge by name. */
export interface KubeconfigPreferences {
  readonly colors: boolean;
  readonly extensions: Extensions;
}

/** The fields of a merged kubeconfig, for {@link Kubeconfig}'s constructor. */
export interface KubeconfigInit {
  files: readonly string[];
  missingFiles?: readonly string[];
  currentContext: string;
  currentContextSource?: string | undefined;
  preferences: KubeconfigPreferences;
  clusters: ReadonlyMap<string, KubeconfigCluster>;
  users: ReadonlyMap<string, KubeconfigUser>;
  contexts: ReadonlyMap<string, KubeconfigContext>;
  extensions: Extensions;
}

/**
 * The merged kubeconfig: what clientcmd's loader returns. Entries keep the file that defined them
 * (`source`), and paths keep both the resolved and the written form.
 *
 * Printing it (`console.log`, `util.inspect`, `JSON.stringify`) shows every entry with secrets
 * replaced by `[redacted]`. For what `kubectl config view` prints, use `viewKubeconfig`.
 */
export class Kubeconfig extends Redacting {
  /** The files that were read, highest precedence first (absolute paths). */
  readonly files: readonly string[];
  /** Files named by `KUBECONFIG` that do not exist (skipped, as clientcmd does). */
  readonly missingFiles: readonly string[];
  /** `current-context`: the first non-empty value among the files; "" if none. */
  readonly currentContext: string;
  /** The file `currentContext` came from, if any. */
  readonly currentContextSource: string | undefined;
  readonly preferences: KubeconfigPreferences;
  readonly clusters: ReadonlyMap<string, KubeconfigCluster>;
  readonly users: ReadonlyMap<string, KubeconfigUser>;
  readonly contexts: ReadonlyMap<string, KubeconfigContext>;
  readonly extensions: Extensions;

  constructor(init: KubeconfigInit) {
    super();
    this.files = init.files;
    this.missingFiles = init.missingFiles ?? [];
    this.currentContext = init.currentContext;
    this.currentContextSource = init.currentContextSource;
    this.preferences = init.preferences;
    this.clusters = init.clusters;
    this.users = init.users;
    this.contexts = init.contexts;
    this.extensions = init.extensions;
  }

  toJSON(): Record<string, unknown> {
    const context = (c: KubeconfigContext) =>
      dropUndefined({
        ...c,
        extensions: c.extensions.size > 0 ? Object.fromEntries(c.extensions) : undefined,
      });
    return dropUndefined({
      files: this.files,
      missingFiles: this.missingFiles.length > 0 ? this.missingFiles : undefined,
      currentContext: this.currentContext,
      currentContextSource: this.currentContextSource,
      preferences: {
        colors: this.preferences.colors,
        extensions: Object.fromEntries(this.preferences.extensions),
      },
      clusters: [...this.clusters.values()].map((c) => c.toJSON()),
      users: [...this.users.values()].map((u) => u.toJSON()),
      contexts: [...this.contexts.values()].map(context),
      extensions: Object.fromEntries(this.extensions),
    });
  }
}
