import type { spawn } from "node:child_process";
import { inspect, stripVTControlCharacters } from "node:util";
import { ConfigError } from "../core/errors.ts";
import { type CredentialCache, sharedCredentialCache, stableHash } from "./cache.ts";
import { validatePair } from "./certificate.ts";
import {
  ClientCertificate,
  type CredentialSource,
  Credentials,
  type CredentialsRequest,
  isHeaderSafe,
  SingleFlight,
} from "./credentials.ts";
import { CredentialError, CredentialErrorCode } from "./errors.ts";

export const EXEC_API_V1 = "client.authentication.k8s.io/v1";
export const EXEC_API_V1BETA1 = "client.authentication.k8s.io/v1beta1";

export type ExecInteractiveMode = "Never" | "IfAvailable" | "Always";

/** A kubeconfig user's `exec` section (clientcmd's `ExecConfig`), in the shape kubekit reads it. */
export interface ExecConfig {
  /** The executable: a name looked up on PATH, or a path. */
  command: string;
  args?: readonly string[] | null;
  /** Added to (and overriding) the parent process's environment. */
  env?: readonly { name: string; value: string }[] | null;
  /** `client.authentication.k8s.io/v1` or `client.authentication.k8s.io/v1beta1`. */
  apiVersion: string;
  /** Shown when the executable is missing; ANSI escapes are stripped. */
  installHint?: string | null;
  /** Required for v1; v1beta1 defaults to `IfAvailable`. */
  interactiveMode?: ExecInteractiveMode | "" | null;
  /** Whether `KUBERNETES_EXEC_INFO` carries `spec.cluster`. */
  provideClusterInfo?: boolean | null;
}

/**
 * The cluster a plugin authenticates to: sent to the plugin as `spec.cluster` when
 * `provideClusterInfo` is set, and always part of the cache key (client-go does the same: the same
 * plugin config for two clusters is two plugins' worth of credentials).
 */
export interface ExecClusterInfo {
  server: string;
  tlsServerName?: string | null;
  insecureSkipTlsVerify?: boolean | null;
  /** The CA bundle itself (PEM text or bytes), not base64; the plugin receives it base64-encoded. */
  certificateAuthorityData?: string | Uint8Array | null;
  proxyUrl?: string | null;
  disableCompression?: boolean | null;
  /** The cluster's `client.authentication.k8s.io/exec` extension, passed through as JSON. */
  config?: unknown;
}

export interface ExecOptions {
  cluster?: ExecClusterInfo;
  /**
   * How long one plugin run may take before it is killed; default 5 minutes; 0 or Infinity: no
   * limit. A plugin that hangs would otherwise block every request of every client sharing it.
   * Five minutes is far more than a non-interactive plugin needs (cloud token helpers answer in
   * seconds) and leaves room for the browser logins some plugins start (kubelogin's own browser
   * timeout is 3 minutes).
   */
  timeoutMs?: number;
  /** After the timeout: SIGTERM, then SIGKILL if it still runs after this long; default 2 s. */
  killGraceMs?: number;
  now?: () => number;
  /** Whether standard input is a terminal; default `tty.isatty(0)`. */
  isTerminal?: () => boolean;
  /** The parent environment passed to the plugin; default `process.env` at each run. */
  environment?: () => Readonly<Record<string, string | undefined>>;
  /** Where shared sources live; default the process-wide cache. */
  cache?: CredentialCache;
}

const MAX_STDOUT = 1024 * 1024;
const STDERR_TAIL = 4096;
const DRAIN_MS = 1000;

/**
 * The exec credential source for `config` and `options.cluster`, shared process-wide: every caller
 * with the same configuration and cluster (compared by hash, see `CredentialCache`) gets the same
 * source, so the plugin runs once for all of them. Options other than `cluster` and `cache` apply
 * when the shared source is first made.
 */
export function execCredentialSource(
  config: ExecConfig,
  options: ExecOptions = {},
): ExecCredentialSource {
  const normalized = normalizeExecConfig(config);
  const key = `exec:${stableHash([normalized, normalizeCluster(options.cluster)])}`;
  return (options.cache ?? sharedCredentialCache).getOrCreate(
    key,
    () => new ExecCredentialSource(config, options),
  );
}

/**
 * Credentials from an exec plugin (client-go's `client.authentication.k8s.io` protocol, v1 and
 * v1beta1). Use `execCredentialSource()` to share one per configuration; constructing this class
 * directly gives a private one.
 *
 * - The plugin runs on first use; its credentials are kept until `now >= expirationTimestamp`, or
 *   for the life of the process without one. Concurrent callers share one run.
 * - After a 401 with the current credentials the next call runs the plugin again (once).
 * - A run that fails is not cached: the next call tries again.
 * - Errors never contain the plugin's stdout. Its stderr is shown to the user: passed through
 *   when the plugin runs interactively, otherwise the last 4 KiB are kept for the error message.
 */
export class ExecCredentialSource implements CredentialSource {
  readonly #config: NormalizedExecConfig;
  readonly #cluster: ExecClusterInfo | undefined;
  readonly #timeoutMs: number;
  readonly #killGraceMs: number;
  readonly #now: () => number;
  readonly #isTerminal: () => boolean;
  readonly #environment: () => Readonly<Record<string, string | undefined>>;
  readonly #flight = new SingleFlight<Credentials>();
  #current: Credentials | undefined;
  #stale = false;
  /** Runs so far (for tests and diagnostics). */
  #runs = 0;

  constructor(config: ExecConfig, options: ExecOptions = {}) {
    this.#config = normalizeExecConfig(config);
    this.#cluster = options.cluster;
    const timeout = options.timeoutMs ?? 5 * 60_000;
    // Beyond 2^31-1 ms Node's timers fire at once; such a limit means "none" anyway.
    this.#timeoutMs = timeout > 0 && timeout <= 2 ** 31 - 1 ? timeout : Number.POSITIVE_INFINITY;
    this.#killGraceMs = options.killGraceMs ?? 2000;
    this.#now = options.now ?? Date.now;
    // node:tty and node:child_process load on first use: most programs never run a plugin.
    this.#isTerminal = options.isTerminal ?? (() => process.getBuiltinModule("node:tty").isatty(0));
    this.#environment = options.environment ?? (() => process.env);
  }

  /** The configured command, for messages. */
  get command(): string {
    return this.#config.command;
  }

  /** How many times the plugin has been started. */
  get runs(): number {
    return this.#runs;
  }

  credentials(options?: CredentialsRequest): Promise<Credentials> {
    const current = this.#current;
    if (current !== undefined && !this.#stale && !this.#expired(current)) {
      return Promise.resolve(current);
    }
    return this.#flight.join(() => this.#refresh(), options?.signal);
  }

  onUnauthorized(used: Credentials): void {
    if (used === this.#current) this.#stale = true;
  }

  #expired(c: Credentials): boolean {
    return c.expiresAt !== undefined && this.#now() >= c.expiresAt;
  }

  async #refresh(): Promise<Credentials> {
    const interactive = this.#interactive();
    const cfg = this.#config;
    const spec: Record<string, unknown> = { interactive };
    if (cfg.provideClusterInfo && this.#cluster !== undefined) {
      spec.cluster = clusterJson(this.#cluster);
    }
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.#environment())) if (v !== undefined) env[k] = v;
    for (const [name, value] of cfg.env) env[name] = value;
    env.KUBERNETES_EXEC_INFO = JSON.stringify({
      apiVersion: cfg.apiVersion,
      kind: "ExecCredential",
      spec,
    });
    this.#runs++;
    const stdout = await runPlugin({
      command: cfg.command,
      args: cfg.args,
      env,
      interactive,
      timeoutMs: this.#timeoutMs,
      killGraceMs: this.#killGraceMs,
      installHint: cfg.installHint,
    });
    const next = this.#parse(stdout);
    this.#current = next;
    this.#stale = false;
    return next;
  }

  #interactive(): boolean {
    switch (this.#config.interactiveMode) {
      case "Never":
        return false;
      case "IfAvailable":
        return this.#isTerminal();
      case "Always":
        if (!this.#isTerminal()) {
          throw new CredentialError(
            "exec",
            `exec plugin ${JSON.stringify(this.#config.command)} needs a terminal (interactiveMode Always) and standard input is not one`,
            { code: CredentialErrorCode.execInteractive },
          );
        }
        return true;
    }
  }

  /** Turns stdout into credentials. Messages describe what is wrong, never what was there. */
  #parse(stdout: Buffer): Credentials {
    const cmd = JSON.stringify(this.#config.command);
    const fail = (what: string) =>
      new CredentialError("exec", `exec plugin ${cmd} ${what}`, {
        code: CredentialErrorCode.execResponse,
      });
    let doc: unknown;
    try {
      doc = JSON.parse(stdout.toString("utf8"));
    } catch {
      // The SyntaxError quotes the text around the error: it must not reach the message.
      throw fail(`wrote something that is not JSON to stdout (${stdout.length} bytes)`);
    }
    if (!isObject(doc)) throw fail("wrote JSON that is not an object to stdout");
    if (doc.apiVersion !== this.#config.apiVersion) {
      throw fail(
        `is configured for apiVersion ${this.#config.apiVersion} and answered with ${describeValue(doc.apiVersion)}`,
      );
    }
    if (doc.kind !== "ExecCredential") {
      throw fail(`answered with kind ${describeValue(doc.kind)}, not ExecCredential`);
    }
    const status = doc.status;
    if (status === undefined || status === null) throw fail("returned no status");
    if (!isObject(status)) throw fail("returned a status that is not an object");
    const token = optionalString(status.token, "status.token", fail);
    const certData = optionalString(
      status.clientCertificateData,
      "status.clientCertificateData",
      fail,
    );
    const keyData = optionalString(status.clientKeyData, "status.clientKeyData", fail);
    if (token === "" && certData === "" && keyData === "") {
      throw fail("returned neither a token nor a client certificate and key");
    }
    if ((certData === "") !== (keyData === "")) {
      throw fail(
        `returned only ${certData === "" ? "a client key" : "a client certificate"}; both are needed`,
      );
    }
    if (token !== "" && !isHeaderSafe(token)) {
      throw fail("returned a token with a line break or NUL character");
    }
    let expiresAt: number | undefined;
    const exp = status.expirationTimestamp;
    if (exp !== undefined && exp !== null) {
      expiresAt = typeof exp === "string" ? parseRfc3339(exp) : undefined;
      if (expiresAt === undefined) {
        throw fail("returned an expirationTimestamp that is not an RFC 3339 time");
      }
    }
    let clientCert: ClientCertificate | undefined;
    if (certData !== "") {
      const previous = this.#current?.clientCert;
      if (previous?.hasContent(certData, keyData)) {
        clientCert = previous;
      } else {
        try {
          validatePair(certData, keyData, "exec");
        } catch (err) {
          throw fail(`returned an unusable client certificate: ${(err as Error).message}`);
        }
        clientCert = new ClientCertificate(certData, keyData);
      }
    }
    return new Credentials({
      ...(token !== "" && { authorization: `Bearer ${token}` }),
      ...(clientCert !== undefined && { clientCert }),
      ...(expiresAt !== undefined && { expiresAt }),
    });
  }

  [inspect.custom](): string {
    return `ExecCredentialSource { command: ${JSON.stringify(this.#config.command)}, apiVersion: ${JSON.stringify(this.#config.apiVersion)} }`;
  }
}

interface NormalizedExecConfig {
  command: string;
  args: string[];
  env: [string, string][];
  apiVersion: string;
  installHint: string;
  interactiveMode: ExecInteractiveMode;
  provideClusterInfo: boolean;
}

/** Validates an exec config (the checks clientcmd makes) and fills in defaults. */
function normalizeExecConfig(config: ExecConfig): NormalizedExecConfig {
  if (typeof config.command !== "string" || config.command === "") {
    throw new ConfigError("exec: command must be set", { field: "exec.command" });
  }
  if (config.apiVersion !== EXEC_API_V1 && config.apiVersion !== EXEC_API_V1BETA1) {
    throw new ConfigError(
      `exec: apiVersion must be ${EXEC_API_V1} or ${EXEC_API_V1BETA1}, not ${describeValue(config.apiVersion)}`,
      { field: "exec.apiVersion" },
    );
  }
  let mode = config.interactiveMode ?? "";
  if (mode === "") {
    if (config.apiVersion === EXEC_API_V1) {
      throw new ConfigError(`exec: interactiveMode must be set for ${EXEC_API_V1}`, {
        field: "exec.interactiveMode",
      });
    }
    mode = "IfAvailable";
  }
  if (mode !== "Never" && mode !== "IfAvailable" && mode !== "Always") {
    throw new ConfigError(
      `exec: interactiveMode must be Never, IfAvailable or Always, not ${describeValue(mode)}`,
      { field: "exec.interactiveMode" },
    );
  }
  const env: [string, string][] = [];
  for (const [i, e] of (config.env ?? []).entries()) {
    if (typeof e?.name !== "string" || e.name === "" || e.name.includes("=")) {
      throw new ConfigError("exec: env entries need a name without '='", {
        field: `exec.env[${i}].name`,
      });
    }
    env.push([e.name, String(e.value ?? "")]);
  }
  return {
    command: config.command,
    args: [...(config.args ?? [])],
    env,
    apiVersion: config.apiVersion,
    installHint: stripVTControlCharacters(config.installHint ?? ""),
    interactiveMode: mode,
    provideClusterInfo: config.provideClusterInfo === true,
  };
}

function normalizeCluster(c: ExecClusterInfo | undefined): unknown {
  if (c === undefined) return null;
  return {
    server: c.server,
    tlsServerName: c.tlsServerName ?? "",
    insecureSkipTlsVerify: c.insecureSkipTlsVerify === true,
    certificateAuthorityData: caBase64(c.certificateAuthorityData),
    proxyUrl: c.proxyUrl ?? "",
    disableCompression: c.disableCompression === true,
    config: c.config ?? null,
  };
}

function caBase64(data: string | Uint8Array | null | undefined): string {
  if (data === undefined || data === null || data.length === 0) return "";
  return (typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data)).toString(
    "base64",
  );
}

/** `spec.cluster` as the ExecCredential API spells it, empty fields left out. */
function clusterJson(c: ExecClusterInfo): Record<string, unknown> {
  const ca = caBase64(c.certificateAuthorityData);
  return {
    server: c.server,
    ...(c.tlsServerName && { "tls-server-name": c.tlsServerName }),
    ...(c.insecureSkipTlsVerify === true && { "insecure-skip-tls-verify": true }),
    ...(ca !== "" && { "certificate-authority-data": ca }),
    ...(c.proxyUrl && { "proxy-url": c.proxyUrl }),
    ...(c.disableCompression === true && { "disable-compression": true }),
    ...(c.config !== undefined && c.config !== null && { config: c.config }),
  };
}

interface RunOptions {
  command: string;
  args: string[];
  env: Record<string, string>;
  interactive: boolean;
  timeoutMs: number;
  killGraceMs: number;
  installHint: string;
}

/**
 * Runs the plugin and resolves to its stdout when it exits with code 0.
 *
 * stdin is the parent's only when interactive (otherwise /dev/null), and so is stderr; otherwise
 * stderr is captured, keeping its tail. On timeout the plugin gets SIGTERM, then SIGKILL after the
 * grace period; the promise settles only once the process has exited. Pipes still held open by
 * something the plugin started in the background are closed shortly after the plugin exits.
 */
function runPlugin(o: RunOptions): Promise<Buffer> {
  const cmd = JSON.stringify(o.command);
  return new Promise<Buffer>((resolve, reject) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = process.getBuiltinModule("node:child_process").spawn(o.command, o.args, {
        env: o.env,
        stdio: [o.interactive ? "inherit" : "ignore", "pipe", o.interactive ? "inherit" : "pipe"],
        windowsHide: true,
      });
    } catch (err) {
      // Invalid arguments (e.g. a NUL byte): nothing was started.
      reject(
        new CredentialError("exec", `exec plugin ${cmd} could not be started`, {
          code: CredentialErrorCode.execFailed,
          cause: err,
        }),
      );
      return;
    }
    const out: Buffer[] = [];
    let outBytes = 0;
    let overflow = false;
    const errTail = new TailBuffer(STDERR_TAIL);
    let timedOut = false;
    let settled = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let timeoutTimer: NodeJS.Timeout | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;

    const clearTimers = () => {
      clearTimeout(timeoutTimer);
      clearTimeout(killTimer);
      clearTimeout(drainTimer);
    };
    const settle = (err: Error | undefined) => {
      if (settled) return;
      settled = true;
      clearTimers();
      if (err) reject(err);
      else resolve(Buffer.concat(out, outBytes));
    };
    const terminate = () => {
      if (exit !== undefined) return;
      child.kill("SIGTERM");
      killTimer = setTimeout(() => {
        if (exit === undefined) child.kill("SIGKILL");
      }, o.killGraceMs);
    };

    child.stdout!.on("data", (chunk: Buffer) => {
      if (overflow) return;
      if (outBytes + chunk.length > MAX_STDOUT) {
        overflow = true;
        out.length = 0;
        terminate();
        return;
      }
      out.push(chunk);
      outBytes += chunk.length;
    });
    child.stderr?.on("data", (chunk: Buffer) => errTail.push(chunk));
    // Errors on the pipes themselves (after a destroy) are not the plugin's result.
    child.stdout!.on("error", () => {});
    child.stderr?.on("error", () => {});

    if (Number.isFinite(o.timeoutMs)) {
      timeoutTimer = setTimeout(() => {
        timedOut = true;
        terminate();
      }, o.timeoutMs);
    }

    child.on("error", (err: NodeJS.ErrnoException) => {
      // With a pid the process started: this is a failed kill(), and "close" still comes.
      if (child.pid !== undefined) return;
      if (err.code === "ENOENT") {
        const hint = o.installHint ? `\n\n${o.installHint}` : "";
        settle(
          new CredentialError(
            "exec",
            `exec plugin: executable ${cmd} not found (is the credential plugin named in the kubeconfig installed and on PATH?)${hint}`,
            { code: CredentialErrorCode.execNotFound, cause: err },
          ),
        );
      } else {
        settle(
          new CredentialError(
            "exec",
            `exec plugin ${cmd} could not be started (${err.code ?? "error"})`,
            { code: CredentialErrorCode.execFailed, cause: err },
          ),
        );
      }
    });

    child.on("exit", (code, signal) => {
      exit = { code, signal };
      clearTimeout(timeoutTimer);
      clearTimeout(killTimer);
      // The plugin is gone; anything still holding its pipes is a leftover background process.
      drainTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, DRAIN_MS);
    });

    child.on("close", (code, signal) => {
      const result = exit ?? { code, signal };
      const stderr = errTail.text();
      const tail = stderr ? `\nstderr:\n${stderr}` : "";
      if (timedOut) {
        settle(
          new CredentialError(
            "exec",
            `exec plugin ${cmd} did not finish within ${formatMs(o.timeoutMs)} and was killed${tail}`,
            { code: CredentialErrorCode.execTimeout },
          ),
        );
      } else if (overflow) {
        settle(
          new CredentialError(
            "exec",
            `exec plugin ${cmd} wrote more than ${MAX_STDOUT} bytes to stdout and was stopped`,
            { code: CredentialErrorCode.execResponse },
          ),
        );
      } else if (result.signal !== null) {
        settle(
          new CredentialError("exec", `exec plugin ${cmd} was killed by ${result.signal}${tail}`, {
            code: CredentialErrorCode.execFailed,
          }),
        );
      } else if (result.code !== 0) {
        settle(
          new CredentialError(
            "exec",
            `exec plugin ${cmd} failed with exit code ${result.code}${tail}`,
            { code: CredentialErrorCode.execFailed },
          ),
        );
      } else {
        settle(undefined);
      }
    });
  });
}

/** Keeps the last `limit` bytes written to it. */
class TailBuffer {
  readonly #limit: number;
  #chunks: Buffer[] = [];
  #bytes = 0;
  #dropped = false;

  constructor(limit: number) {
    this.#limit = limit;
  }

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    while (this.#bytes - this.#chunks[0]!.length >= this.#limit) {
      this.#bytes -= this.#chunks.shift()!.length;
      this.#dropped = true;
    }
  }

  /** The tail as text: control sequences removed, trimmed, `…` in front when cut. */
  text(): string {
    let buf = Buffer.concat(this.#chunks, this.#bytes);
    let cut = this.#dropped;
    if (buf.length > this.#limit) {
      buf = buf.subarray(buf.length - this.#limit);
      cut = true;
    }
    const text = stripVTControlCharacters(buf.toString("utf8")).trim();
    return text && cut ? `…${text}` : text;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function optionalString(v: unknown, field: string, fail: (what: string) => Error): string {
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") throw fail(`returned a ${field} that is not a string`);
  return v;
}

/**
 * A value from the plugin's answer, safe to quote: short identifiers (an apiVersion, a kind) are
 * shown, anything else only by type, since it could be a secret in the wrong field.
 */
function describeValue(v: unknown): string {
  if (v === undefined) return "none";
  if (typeof v === "string" && /^[A-Za-z0-9./_-]{0,80}$/.test(v)) return JSON.stringify(v);
  return `a ${v === null ? "null" : Array.isArray(v) ? "list" : typeof v} value`;
}

const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Milliseconds since the epoch for an RFC 3339 time, or undefined. */
export function parseRfc3339(s: string): number | undefined {
  if (!rfc3339.test(s)) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
