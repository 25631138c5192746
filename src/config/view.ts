import { readFile } from "node:fs/promises";
import { ConfigError } from "../core/errors.ts";
import {
  type ConfigPath,
  type Extensions,
  type JsonValue,
  type Kubeconfig,
  KubeconfigCluster,
  type KubeconfigContext,
  type KubeconfigUser,
} from "./model.ts";
import { compareCodePoints } from "./util.ts";

export interface ViewKubeconfigOptions {
  /** `--raw`: show tokens, passwords and `*-data` fields instead of `REDACTED`/`DATA+OMITTED`. */
  raw?: boolean | undefined;
  /**
   * `--flatten`: inline `certificate-authority`, `client-certificate` and `client-key` files as
   * base64 `-data` fields. Like kubectl, flattened output is never redacted.
   */
  flatten?: boolean | undefined;
  /** `--minify`: keep only the chosen context and the cluster and user it names. */
  minify?: boolean | undefined;
  /**
   * `--context`: with `minify`, the context to keep (and the new `current-context`). kubectl
   * ignores it without `--minify`, and so does this.
   */
  context?: string | undefined;
}

/** A named entry of the printed config: `{name, cluster}`, `{name, user}`, ... */
type Named<K extends string> = { name: string } & { [key in K]: Record<string, unknown> };

/** What `kubectl config view -o json` prints, as a value. */
export interface KubeconfigView {
  kind: "Config";
  apiVersion: "v1";
  preferences: Record<string, unknown>;
  clusters: Named<"cluster">[] | null;
  users: Named<"user">[] | null;
  contexts: Named<"context">[] | null;
  "current-context": string;
  extensions?: { name: string; extension: JsonValue }[];
}

const DATA_OMITTED = "DATA+OMITTED";
const REDACTED = "REDACTED";

/**
 * The object `kubectl config view -o json` prints for `config` with the same flags (kubectl
 * v1.32): entries sorted by name, paths as written in the files, fields in kubectl's order and
 * with its omissions. Without `raw` (and without `flatten`), tokens and passwords show as
 * `REDACTED` and `*-data` fields as `DATA+OMITTED`; exec env values and auth-provider settings are
 * shown, as kubectl shows them.
 *
 * Fails with a `ConfigError` where kubectl fails: `minify` without a context, or with a context,
 * cluster or user that does not exist; `flatten` with an entry that has both a path and its
 * `-data` field, or a file that cannot be read.
 */
export async function viewKubeconfig(
  config: Kubeconfig,
  options: ViewKubeconfigOptions = {},
): Promise<KubeconfigView> {
  let clusters = [...config.clusters.values()];
  let users = [...config.users.values()];
  let contexts = [...config.contexts.values()];
  let currentContext = config.currentContext;

  if (options.minify) {
    if (options.context) currentContext = options.context;
    if (currentContext === "") {
      throw new ConfigError("current-context must be set to minify (or give a context)", {
        field: "current-context",
      });
    }
    const context = config.contexts.get(currentContext);
    if (context === undefined) {
      throw new ConfigError(`context ${JSON.stringify(currentContext)} does not exist`, {
        file: options.context ? undefined : config.currentContextSource,
        field: options.context ? `contexts[${JSON.stringify(currentContext)}]` : "current-context",
      });
    }
    contexts = [context];
    clusters = [];
    users = [];
    if (context.cluster !== "") {
      const cluster = config.clusters.get(context.cluster);
      if (cluster === undefined) {
        throw new ConfigError(
          `the context names cluster ${JSON.stringify(context.cluster)}, which does not exist`,
          { file: context.source, field: `contexts[${JSON.stringify(context.name)}].cluster` },
        );
      }
      clusters = [cluster];
    }
    if (context.user !== "") {
      const user = config.users.get(context.user);
      if (user === undefined) {
        throw new ConfigError(
          `the context names user ${JSON.stringify(context.user)}, which does not exist`,
          { file: context.source, field: `contexts[${JSON.stringify(context.name)}].user` },
        );
      }
      users = [user];
    }
  }

  const flat = new Map<object, Map<string, Buffer>>();
  if (options.flatten) {
    for (const u of users) {
      flat.set(u, new Map());
      await inline(u, "client-certificate", u.clientCertificate, u.clientCertificateData, flat);
      await inline(u, "client-key", u.clientKey, u.clientKeyData, flat);
    }
    for (const c of clusters) {
      flat.set(c, new Map());
      await inline(
        c,
        "certificate-authority",
        c.certificateAuthority,
        c.certificateAuthorityData,
        flat,
      );
    }
  }
  const hide = !options.raw && !options.flatten;
  const data = (b: Buffer | undefined) =>
    b === undefined ? undefined : hide ? DATA_OMITTED : b.toString("base64");

  const viewCluster = (c: KubeconfigCluster) => {
    const inlined = flat.get(c);
    const ca = inlined?.get("certificate-authority");
    return {
      server: c.server,
      ...omitEmpty({
        "tls-server-name": c.tlsServerName,
        "insecure-skip-tls-verify": c.insecureSkipTlsVerify || undefined,
        "certificate-authority": ca ? undefined : c.certificateAuthority?.asWritten,
        "certificate-authority-data": data(ca ?? c.certificateAuthorityData),
        "proxy-url": c.proxyUrl,
        "disable-compression": c.disableCompression || undefined,
        extensions: namedExtensions(c.extensions),
      }),
    };
  };
  const viewUser = (u: KubeconfigUser) => {
    const inlined = flat.get(u);
    const cert = inlined?.get("client-certificate");
    const key = inlined?.get("client-key");
    return omitEmpty({
      "client-certificate": cert ? undefined : u.clientCertificate?.asWritten,
      "client-certificate-data": data(cert ?? u.clientCertificateData),
      "client-key": key ? undefined : u.clientKey?.asWritten,
      "client-key-data": data(key ?? u.clientKeyData),
      token: u.token === undefined ? undefined : hide ? REDACTED : u.token,
      tokenFile: u.tokenFile?.asWritten,
      as: u.as,
      "as-uid": u.asUid,
      "as-groups": u.asGroups.length > 0 ? [...u.asGroups] : undefined,
      "as-user-extra":
        u.asUserExtra.size > 0
          ? Object.fromEntries(
              [...u.asUserExtra]
                .sort(([a], [b]) => compareCodePoints(a, b))
                .map(([k, v]) => [k, v === null ? null : [...v]]),
            )
          : undefined,
      username: u.username,
      password: u.password === undefined ? undefined : hide ? REDACTED : u.password,
      "auth-provider": u.authProvider && {
        name: u.authProvider.name,
        config:
          u.authProvider.config &&
          Object.fromEntries(
            Object.entries(u.authProvider.config).sort(([a], [b]) => compareCodePoints(a, b)),
          ),
      },
      exec: u.exec && {
        command: u.exec.command.asWritten,
        args: u.exec.args && [...u.exec.args],
        env: u.exec.env === null ? null : u.exec.env.map((e) => ({ name: e.name, value: e.value })),
        ...omitEmpty({ apiVersion: u.exec.apiVersion, installHint: u.exec.installHint }),
        provideClusterInfo: u.exec.provideClusterInfo,
        ...omitEmpty({ interactiveMode: u.exec.interactiveMode }),
      },
      extensions: namedExtensions(u.extensions),
    });
  };
  const viewContext = (c: KubeconfigContext) => ({
    cluster: c.cluster,
    user: c.user,
    ...omitEmpty({ namespace: c.namespace, extensions: namedExtensions(c.extensions) }),
  });

  const view: KubeconfigView = {
    kind: "Config",
    apiVersion: "v1",
    preferences: omitEmpty({
      colors: config.preferences.colors || undefined,
      extensions: namedExtensions(config.preferences.extensions),
    }),
    clusters: list(clusters, (c) => ({ name: c.name, cluster: viewCluster(c) })),
    users: list(users, (u) => ({ name: u.name, user: viewUser(u) })),
    contexts: list(contexts, (c) => ({ name: c.name, context: viewContext(c) })),
    "current-context": currentContext,
  };
  const extensions = namedExtensions(config.extensions);
  if (extensions) view.extensions = extensions;
  return view;
}

/**
 * kubectl's FlattenContent: a path becomes its file's content; a path next to `-data` is an error.
 * The file is the resolved path (relative to the file that named it), as kubectl reads it.
 */
async function inline(
  entry: KubeconfigUser | KubeconfigCluster,
  field: string,
  path: ConfigPath | undefined,
  data: Buffer | undefined,
  flat: Map<object, Map<string, Buffer>>,
): Promise<void> {
  if (path === undefined) return;
  const kind = entry instanceof KubeconfigCluster ? "clusters" : "users";
  const where = { file: entry.source, field: `${kind}[${JSON.stringify(entry.name)}].${field}` };
  if (data !== undefined) {
    throw new ConfigError(`cannot flatten: both ${field} and ${field}-data are set`, where);
  }
  try {
    flat.get(entry)?.set(field, await readFile(path.path));
  } catch (err) {
    throw new ConfigError(`cannot flatten: cannot read ${path.path}: ${(err as Error).message}`, {
      ...where,
      cause: err,
    });
  }
}

function list<T, R>(entries: T[], view: (e: T) => R & { name: string }): R[] | null {
  if (entries.length === 0) return null;
  return entries.map(view).sort((a, b) => compareCodePoints(a.name, b.name));
}

function namedExtensions(ext: Extensions): { name: string; extension: JsonValue }[] | undefined {
  if (ext.size === 0) return undefined;
  return [...ext]
    .sort(([a], [b]) => compareCodePoints(a, b))
    .map(([name, extension]) => ({ name, extension }));
}

/** Go's `omitempty` for the values used here: drops undefined and "" fields. */
function omitEmpty(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== "") out[k] = v;
  return out;
}
