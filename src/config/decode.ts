/**
 * Reading one kubeconfig file the way clientcmd does: YAML 1.1 (JSON is YAML) converted to JSON,
 * then decoded into the v1 `Config` type with Go's `encoding/json` rules. Those rules decide what
 * is an error, so they are reproduced here:
 *
 * - field names match exactly (case-sensitive); unknown fields are ignored;
 * - `null` anywhere gives the zero value (`""`, `false`, no list), also inside lists;
 * - a value of the wrong JSON type is an error (`current-context: 5`, `clusters: {}`);
 * - `*-data` fields are standard padded base64 (newlines ignored);
 * - the same name twice in one list is an error; in one YAML mapping, the last key wins;
 * - `apiVersion` must be empty or `v1`, `kind` empty or `Config`.
 *
 * Every error is a `ConfigError` with the file, the line and the field. Messages name entries
 * (`users["dev"].token`) but never quote a field's value or the text around an error, since
 * values may be secrets.
 */
import { dirname, isAbsolute, join, sep } from "node:path";
import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
} from "yaml";
import { ConfigError } from "../core/errors.ts";
import {
  AuthProvider,
  type ConfigPath,
  ExecEnvVar,
  type JsonValue,
  KubeconfigCluster,
  type KubeconfigContext,
  type KubeconfigExec,
  type KubeconfigPreferences,
  KubeconfigUser,
} from "./model.ts";

/** One file's content, before merging. Maps keep the file's order. */
export interface KubeconfigFile {
  readonly file: string;
  readonly currentContext: string;
  readonly preferences: KubeconfigPreferences;
  readonly clusters: Map<string, KubeconfigCluster>;
  readonly users: Map<string, KubeconfigUser>;
  readonly contexts: Map<string, KubeconfigContext>;
  readonly extensions: Map<string, JsonValue>;
}

/** A JSON value that remembers the line it came from. */
type JNode =
  | { readonly t: "null"; readonly line: number | undefined }
  | { readonly t: "bool"; readonly v: boolean; readonly line: number | undefined }
  | { readonly t: "num"; readonly v: number; readonly line: number | undefined }
  | { readonly t: "str"; readonly v: string; readonly line: number | undefined }
  | { readonly t: "arr"; readonly items: JNode[]; readonly line: number | undefined }
  | { readonly t: "obj"; readonly entries: Map<string, JNode>; readonly line: number | undefined };

const typeName: Record<JNode["t"], string> = {
  null: "null",
  bool: "a boolean",
  num: "a number",
  str: "a string",
  arr: "a list",
  obj: "a mapping",
};

/** Bounds alias expansion ("billion laughs") and nesting. */
const MAX_NODES = 1_000_000;
const MAX_DEPTH = 1000;

/**
 * Parses kubeconfig text. `file` is the absolute path it came from: relative paths in it resolve
 * against its directory, and errors name it.
 */
export function parseKubeconfigFile(text: string, file: string): KubeconfigFile {
  const root = parseYaml(text, file);
  return new Decoder(file).config(root);
}

function parseYaml(text: string, file: string): JNode {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, {
    version: "1.1",
    merge: true,
    uniqueKeys: false,
    prettyErrors: false,
    lineCounter,
    // yaml.v2, which Kubernetes uses, keeps timestamps and sexagesimal numbers as strings.
    customTags: (tags) =>
      tags.filter(
        (t) =>
          typeof t === "string" ||
          (t.tag !== "tag:yaml.org,2002:timestamp" && !("format" in t && t.format === "TIME")),
      ),
  });
  const lineOf = (offset: number | undefined) =>
    offset === undefined ? undefined : lineCounter.linePos(offset).line;
  // Like yaml.v2's Unmarshal, only the first document counts.
  const doc = Array.isArray(docs) ? docs[0] : undefined;
  if (doc === undefined) return { t: "null", line: undefined };
  const err = doc.errors[0];
  if (err !== undefined) {
    // The yaml package's messages name the problem, not the text around it.
    throw new ConfigError(
      `not valid YAML: ${err.message.replace(/ at line \d+, column \d+.*$/s, "")}`,
      {
        file,
        line: lineOf(err.pos[0]),
      },
    );
  }
  let budget = MAX_NODES;
  const convert = (node: unknown, depth: number, at: number | undefined): JNode => {
    if (--budget < 0 || depth > MAX_DEPTH) {
      throw new ConfigError("too many YAML nodes or too deeply nested (alias expansion?)", {
        file,
        line: at,
      });
    }
    if (node === null || node === undefined) return { t: "null", line: at };
    const line = lineOf((node as { range?: [number, number, number] }).range?.[0]) ?? at;
    if (isAlias(node)) {
      return convert(node.resolve(doc as Document.Parsed), depth + 1, line);
    }
    if (isScalar(node)) return scalar(node.value, node.source, line);
    if (isSeq(node)) {
      return { t: "arr", items: node.items.map((i) => convert(i, depth + 1, line)), line };
    }
    if (isMap(node)) {
      const entries = new Map<string, JNode>();
      const merges: JNode[] = [];
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key;
        const keyLine = lineOf((keyNode as { range?: [number] } | null)?.range?.[0]) ?? line;
        if (isScalar(keyNode) && typeof keyNode.value === "symbol") {
          merges.push(convert(pair.value, depth + 1, keyLine));
          continue;
        }
        const key = convert(keyNode, depth + 1, keyLine);
        let name: string;
        if (key.t === "str") name = key.v;
        else if (key.t === "num" || key.t === "bool") name = String(key.v);
        else if (key.t === "null") name = "null";
        else {
          throw new ConfigError("a mapping key must be a scalar, not a list or mapping", {
            file,
            line: keyLine,
          });
        }
        entries.delete(name); // the last duplicate wins, at its own position
        entries.set(name, convert(pair.value, depth + 1, keyLine));
      }
      // `<<` merge keys: explicit keys win; among merged maps, the earlier one wins.
      for (const m of merges) {
        const sources = m.t === "arr" ? m.items : [m];
        for (const s of sources) {
          if (s.t !== "obj") {
            throw new ConfigError("a `<<` merge key must refer to a mapping", {
              file,
              line: m.line,
            });
          }
          for (const [k, v] of s.entries) if (!entries.has(k)) entries.set(k, v);
        }
      }
      return { t: "obj", entries, line };
    }
    throw new ConfigError("unsupported YAML node", { file, line });
  };

  const scalar = (value: unknown, source: string | undefined, line: number | undefined): JNode => {
    if (value === null || value === undefined) return { t: "null", line };
    if (typeof value === "boolean") return { t: "bool", v: value, line };
    if (typeof value === "bigint") return { t: "num", v: Number(value), line };
    if (typeof value === "number") {
      if (Number.isFinite(value)) return { t: "num", v: value, line };
      // yaml.v2 keeps a number too large for float64 as a string; .inf and .nan stay numbers
      // that JSON cannot encode, which kubectl reports as an error.
      if (source !== undefined && !/^[-+]?\.(inf|Inf|INF|nan|NaN|NAN)$/.test(source)) {
        return { t: "str", v: source, line };
      }
      throw new ConfigError("infinity and NaN cannot be converted to JSON", { file, line });
    }
    if (typeof value === "string") return { t: "str", v: value, line };
    if (value instanceof Uint8Array) {
      return { t: "str", v: Buffer.from(value).toString("utf8"), line };
    }
    return { t: "str", v: source ?? String(value), line };
  };

  return convert(doc.contents, 0, 1);
}

/** The JSON a positioned node stands for (extension values). */
function toJson(n: JNode): JsonValue {
  switch (n.t) {
    case "null":
      return null;
    case "bool":
    case "num":
    case "str":
      return n.v;
    case "arr":
      return n.items.map(toJson);
    case "obj": {
      const o: { [key: string]: JsonValue } = {};
      for (const [k, v] of n.entries) {
        Object.defineProperty(o, k, {
          value: toJson(v),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return o;
    }
  }
}

const q = JSON.stringify;

/**
 * Go's `base64.StdEncoding.Decode`, which `encoding/json` uses for `[]byte`: padded standard
 * alphabet, `\r` and `\n` ignored, anything else an error. (Node's decoder accepts nearly
 * anything, so it cannot be the judge.)
 */
export function decodeBase64Strict(s: string): Buffer | undefined {
  const t = s.replace(/[\r\n]/g, "");
  if (t.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(t)) return undefined;
  return Buffer.from(t, "base64");
}

class Decoder {
  readonly #file: string;
  readonly #dir: string;

  constructor(file: string) {
    this.#file = file;
    this.#dir = dirname(file);
  }

  fail(node: JNode | undefined, field: string | undefined, message: string): never {
    throw new ConfigError(message, { file: this.#file, field, line: node?.line });
  }

  #expect(node: JNode, field: string, want: string): never {
    this.fail(node, field, `expected ${want}, got ${typeName[node.t]}`);
  }

  str(node: JNode | undefined, field: string): string {
    if (node === undefined || node.t === "null") return "";
    if (node.t !== "str") this.#expect(node, field, "a string");
    return node.v;
  }

  optStr(node: JNode | undefined, field: string): string | undefined {
    return this.str(node, field) || undefined;
  }

  bool(node: JNode | undefined, field: string): boolean {
    if (node === undefined || node.t === "null") return false;
    if (node.t !== "bool") this.#expect(node, field, "a boolean (true or false)");
    return node.v;
  }

  obj(node: JNode | undefined, field: string): Map<string, JNode> | undefined {
    if (node === undefined || node.t === "null") return undefined;
    if (node.t !== "obj") this.#expect(node, field, "a mapping");
    return node.entries;
  }

  list(node: JNode | undefined, field: string): JNode[] | null {
    if (node === undefined || node.t === "null") return null;
    if (node.t !== "arr") this.#expect(node, field, "a list");
    return node.items;
  }

  strList(node: JNode | undefined, field: string): string[] | null {
    return this.list(node, field)?.map((n, i) => this.str(n, `${field}[${i}]`)) ?? null;
  }

  bytes(node: JNode | undefined, field: string): Buffer | undefined {
    const s = this.str(node, field);
    if (s === "") return undefined;
    const b = decodeBase64Strict(s);
    if (b === undefined) this.fail(node, field, "not valid base64 (standard alphabet, padded)");
    return b.length > 0 ? b : undefined;
  }

  path(node: JNode | undefined, field: string): ConfigPath | undefined {
    const written = this.str(node, field);
    if (written === "") return undefined;
    return { asWritten: written, path: isAbsolute(written) ? written : join(this.#dir, written) };
  }

  /**
   * A named list (`clusters`, `users`, `contexts`, `extensions`): each item is `{name, <inner>}`.
   * Returns the items in file order; the same name twice is an error, as in clientcmd.
   */
  named<T>(
    node: JNode | undefined,
    list: string,
    inner: string,
    decode: (value: JNode | undefined, name: string, label: string) => T,
    replaceable?: (earlier: T) => boolean,
  ): Map<string, T> {
    const out = new Map<string, T>();
    const firstLine = new Map<string, number | undefined>();
    const items = this.list(node, list) ?? [];
    items.forEach((item, i) => {
      const fields = this.obj(item, `${list}[${i}]`);
      const name = this.str(fields?.get("name"), `${list}[${i}].name`);
      const label = `${list}[${q(name)}]`;
      const value = decode(fields?.get(inner), name, label);
      if (out.has(name) && !replaceable?.(out.get(name) as T)) {
        const first = firstLine.get(name);
        this.fail(
          item,
          label,
          `the name ${q(name)} is used twice in ${list}${first !== undefined ? ` (first on line ${first})` : ""}`,
        );
      }
      if (!out.has(name)) firstLine.set(name, item.line);
      out.set(name, value);
    });
    return out;
  }

  /**
   * clientcmd treats an extension whose value is null as absent when it checks for duplicates, so
   * a later entry of the same name may replace a null one; any other repeat is an error.
   */
  extensions(node: JNode | undefined, label: string): Map<string, JsonValue> {
    return this.named(
      node,
      `${label}extensions`,
      "extension",
      (v) => (v === undefined ? null : toJson(v)),
      (earlier) => earlier === null,
    );
  }

  config(root: JNode): KubeconfigFile {
    if (root.t !== "obj" && root.t !== "null") {
      this.fail(root, undefined, `a kubeconfig must be a mapping, got ${typeName[root.t]}`);
    }
    const top = root.t === "obj" ? root.entries : new Map<string, JNode>();
    const apiVersion = this.str(top.get("apiVersion"), "apiVersion");
    if (apiVersion !== "" && apiVersion !== "v1") {
      this.fail(
        top.get("apiVersion"),
        "apiVersion",
        `unsupported apiVersion ${q(apiVersion)} (want v1)`,
      );
    }
    const kind = this.str(top.get("kind"), "kind");
    if (kind !== "" && kind !== "Config") {
      this.fail(top.get("kind"), "kind", `unsupported kind ${q(kind)} (want Config)`);
    }
    const prefs = this.obj(top.get("preferences"), "preferences");
    const preferences: KubeconfigPreferences = {
      colors: this.bool(prefs?.get("colors"), "preferences.colors"),
      extensions: this.extensions(prefs?.get("extensions"), "preferences."),
    };
    const clusters = this.named(top.get("clusters"), "clusters", "cluster", (v, name, label) =>
      this.cluster(v, name, label),
    );
    const users = this.named(top.get("users"), "users", "user", (v, name, label) =>
      this.user(v, name, label),
    );
    const contexts = this.named(top.get("contexts"), "contexts", "context", (v, name, label) =>
      this.context(v, name, label),
    );
    return {
      file: this.#file,
      currentContext: this.str(top.get("current-context"), "current-context"),
      preferences,
      clusters,
      users,
      contexts,
      extensions: this.extensions(top.get("extensions"), ""),
    };
  }

  cluster(node: JNode | undefined, name: string, label: string): KubeconfigCluster {
    const f = this.obj(node, label);
    const get = (k: string) => f?.get(k);
    return new KubeconfigCluster({
      name,
      source: this.#file,
      server: this.str(get("server"), `${label}.server`),
      tlsServerName: this.optStr(get("tls-server-name"), `${label}.tls-server-name`),
      insecureSkipTlsVerify: this.bool(
        get("insecure-skip-tls-verify"),
        `${label}.insecure-skip-tls-verify`,
      ),
      certificateAuthority: this.path(
        get("certificate-authority"),
        `${label}.certificate-authority`,
      ),
      certificateAuthorityData: this.bytes(
        get("certificate-authority-data"),
        `${label}.certificate-authority-data`,
      ),
      proxyUrl: this.optStr(get("proxy-url"), `${label}.proxy-url`),
      disableCompression: this.bool(get("disable-compression"), `${label}.disable-compression`),
      extensions: this.extensions(get("extensions"), `${label}.`),
    });
  }

  context(node: JNode | undefined, name: string, label: string): KubeconfigContext {
    const f = this.obj(node, label);
    return {
      name,
      source: this.#file,
      cluster: this.str(f?.get("cluster"), `${label}.cluster`),
      user: this.str(f?.get("user"), `${label}.user`),
      namespace: this.optStr(f?.get("namespace"), `${label}.namespace`),
      extensions: this.extensions(f?.get("extensions"), `${label}.`),
    };
  }

  user(node: JNode | undefined, name: string, label: string): KubeconfigUser {
    const f = this.obj(node, label);
    const get = (k: string) => f?.get(k);
    const extra = this.obj(get("as-user-extra"), `${label}.as-user-extra`);
    const asUserExtra = new Map<string, string[] | null>();
    for (const [k, v] of extra ?? []) {
      asUserExtra.set(k, this.strList(v, `${label}.as-user-extra[${q(k)}]`));
    }
    const ap = this.obj(get("auth-provider"), `${label}.auth-provider`);
    let authProvider: AuthProvider | undefined;
    if (ap !== undefined) {
      const cfgNode = this.obj(ap.get("config"), `${label}.auth-provider.config`);
      const config =
        cfgNode &&
        [...cfgNode].map(
          ([k, v]) => [k, this.str(v, `${label}.auth-provider.config[${q(k)}]`)] as const,
        );
      authProvider = new AuthProvider(
        this.str(ap.get("name"), `${label}.auth-provider.name`),
        config ?? null,
      );
    }
    return new KubeconfigUser({
      name,
      source: this.#file,
      clientCertificate: this.path(get("client-certificate"), `${label}.client-certificate`),
      clientCertificateData: this.bytes(
        get("client-certificate-data"),
        `${label}.client-certificate-data`,
      ),
      clientKey: this.path(get("client-key"), `${label}.client-key`),
      clientKeyData: this.bytes(get("client-key-data"), `${label}.client-key-data`),
      token: this.optStr(get("token"), `${label}.token`),
      tokenFile: this.path(get("tokenFile"), `${label}.tokenFile`),
      as: this.optStr(get("as"), `${label}.as`),
      asUid: this.optStr(get("as-uid"), `${label}.as-uid`),
      asGroups: this.strList(get("as-groups"), `${label}.as-groups`) ?? [],
      asUserExtra,
      username: this.optStr(get("username"), `${label}.username`),
      password: this.optStr(get("password"), `${label}.password`),
      authProvider,
      exec: this.exec(get("exec"), `${label}.exec`),
      extensions: this.extensions(get("extensions"), `${label}.`),
    });
  }

  exec(node: JNode | undefined, label: string): KubeconfigExec | undefined {
    const f = this.obj(node, label);
    if (f === undefined) return undefined;
    const command = this.str(f.get("command"), `${label}.command`);
    const envItems = this.list(f.get("env"), `${label}.env`);
    const env =
      envItems?.map((item, i) => {
        const e = this.obj(item, `${label}.env[${i}]`);
        return new ExecEnvVar(
          this.str(e?.get("name"), `${label}.env[${i}].name`),
          this.str(e?.get("value"), `${label}.env[${i}].value`),
        );
      }) ?? null;
    const apiVersion = this.optStr(f.get("apiVersion"), `${label}.apiVersion`);
    let interactiveMode = this.optStr(f.get("interactiveMode"), `${label}.interactiveMode`);
    if (
      interactiveMode === undefined &&
      (apiVersion === "client.authentication.k8s.io/v1beta1" ||
        apiVersion === "client.authentication.k8s.io/v1alpha1")
    ) {
      interactiveMode = "IfAvailable";
    }
    return {
      command: {
        asWritten: command,
        // A bare name is looked up on PATH, so only a command with a separator is a path.
        path: command.includes(sep) && !isAbsolute(command) ? join(this.#dir, command) : command,
      },
      args: this.strList(f.get("args"), `${label}.args`),
      env,
      apiVersion,
      installHint: this.optStr(f.get("installHint"), `${label}.installHint`),
      provideClusterInfo: this.bool(f.get("provideClusterInfo"), `${label}.provideClusterInfo`),
      interactiveMode,
    };
  }
}
