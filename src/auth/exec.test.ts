import assert from "node:assert/strict";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { ConfigError } from "../core/errors.ts";
import { CredentialCache } from "./cache.ts";
import { CredentialError, CredentialErrorCode } from "./errors.ts";
import {
  type ExecConfig,
  ExecCredentialSource,
  type ExecOptions,
  execCredentialSource,
} from "./exec.ts";
import { CERT_A, CERT_B, KEY_A, KEY_B, tempDir } from "./fixtures.test.ts";

const V1 = "client.authentication.k8s.io/v1";
const V1BETA1 = "client.authentication.k8s.io/v1beta1";

/**
 * A plugin that counts its runs in `count`, records its input in `info.json`, `stdin.txt` and
 * `env.txt` (stdin only when not interactive: otherwise it is the test runner's), and prints `response.<run>` if it exists, else `response`. `delay` (seconds) makes it
 * slow.
 */
const RECORDING_PLUGIN = `#!/bin/sh
d="$PLUGIN_DIR"
n=$(( $(cat "$d/count" 2>/dev/null || echo 0) + 1 ))
echo $n > "$d/count"
printf '%s' "$KUBERNETES_EXEC_INFO" > "$d/info.json"
printf '%s|%s' "$PARENT_VAR" "$CONFIG_VAR" > "$d/env.txt"
case "$KUBERNETES_EXEC_INFO" in
  *'"interactive":true'*) ;;
  *) cat > "$d/stdin.txt" ;;
esac
if [ -f "$d/delay" ]; then sleep "$(cat "$d/delay")"; fi
if [ -f "$d/response.$n" ]; then cat "$d/response.$n"; else cat "$d/response"; fi
`;

interface Plugin {
  dir: string;
  command: string;
  config: ExecConfig;
  /** Options with a private cache and a fixed parent environment. */
  options: ExecOptions;
  respond(body: unknown, run?: number): void;
  runs(): number;
  info(): { apiVersion: string; kind: string; spec: Record<string, unknown> };
}

function script(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, 0o755);
  return path;
}

function plugin(t: { after(fn: () => void): void }, apiVersion = V1): Plugin {
  const dir = tempDir(t);
  const command = script(dir, "plugin.sh", RECORDING_PLUGIN);
  return {
    dir,
    command,
    config: {
      command,
      apiVersion,
      interactiveMode: "Never",
      env: [
        { name: "PLUGIN_DIR", value: dir },
        { name: "CONFIG_VAR", value: "from-config" },
      ],
    },
    options: {
      cache: new CredentialCache(),
      timeoutMs: 10_000,
      environment: () => ({ PATH: process.env.PATH, PARENT_VAR: "from-parent", CONFIG_VAR: "x" }),
    },
    respond(body, run) {
      const text = typeof body === "string" ? body : JSON.stringify(body);
      writeFileSync(join(dir, run === undefined ? "response" : `response.${run}`), text);
    },
    runs: () => {
      const f = join(dir, "count");
      return existsSync(f) ? Number(readFileSync(f, "utf8")) : 0;
    },
    info: () => JSON.parse(readFileSync(join(dir, "info.json"), "utf8")),
  };
}

const cred = (status: Record<string, unknown>, apiVersion = V1) => ({
  apiVersion,
  kind: "ExecCredential",
  status,
});

async function rejection(p: Promise<unknown>): Promise<CredentialError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof CredentialError, `expected a CredentialError, got ${err}`);
    return err;
  }
  assert.fail("expected a rejection");
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("runs the plugin with the documented input and uses its token until told otherwise", async (t) => {
  const p = plugin(t);
  p.respond(cred({ token: "tok-1" }));
  const s = new ExecCredentialSource(p.config, p.options);
  const a = await s.credentials();
  assert.equal(a.authorization, "Bearer tok-1");
  assert.equal(a.clientCert, undefined);
  assert.equal(a.expiresAt, undefined);
  assert.deepEqual(p.info(), {
    apiVersion: V1,
    kind: "ExecCredential",
    spec: { interactive: false },
  });
  assert.equal(readFileSync(join(p.dir, "env.txt"), "utf8"), "from-parent|from-config");
  assert.equal(readFileSync(join(p.dir, "stdin.txt"), "utf8"), "", "stdin is not attached");
  assert.equal(await s.credentials(), a, "no expiry: cached for good");
  assert.equal(p.runs(), 1);
  assert.equal(s.runs, 1);
});

test("provideClusterInfo sends spec.cluster with the CA base64-encoded", async (t) => {
  const p = plugin(t);
  p.respond(cred({ token: "t" }));
  const cluster = {
    server: "https://10.0.0.1:6443",
    tlsServerName: "kubernetes",
    certificateAuthorityData: "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n",
    proxyUrl: "socks5://proxy:1080",
    disableCompression: true,
    config: { audience: "abc" },
  };
  await new ExecCredentialSource(
    { ...p.config, provideClusterInfo: true },
    { ...p.options, cluster },
  ).credentials();
  assert.deepEqual(p.info().spec, {
    interactive: false,
    cluster: {
      server: "https://10.0.0.1:6443",
      "tls-server-name": "kubernetes",
      "certificate-authority-data": Buffer.from(cluster.certificateAuthorityData).toString(
        "base64",
      ),
      "proxy-url": "socks5://proxy:1080",
      "disable-compression": true,
      config: { audience: "abc" },
    },
  });
  // Without provideClusterInfo the cluster stays out of the input.
  await new ExecCredentialSource(p.config, { ...p.options, cluster }).credentials();
  assert.deepEqual(p.info().spec, { interactive: false });
});

test("v1beta1: same protocol, interactiveMode defaults to IfAvailable", async (t) => {
  const p = plugin(t, V1BETA1);
  p.respond(cred({ token: "beta" }, V1BETA1));
  const { interactiveMode: _, ...config } = p.config;
  const s = new ExecCredentialSource(config, { ...p.options, isTerminal: () => false });
  assert.equal((await s.credentials()).authorization, "Bearer beta");
  assert.equal(p.info().apiVersion, V1BETA1);
  assert.equal(p.info().spec.interactive, false);
});

test("interactive runs say so; Always without a terminal fails before running", async (t) => {
  const p = plugin(t);
  p.respond(cred({ token: "t" }));
  await new ExecCredentialSource(
    { ...p.config, interactiveMode: "IfAvailable" },
    { ...p.options, isTerminal: () => true },
  ).credentials();
  assert.equal(p.info().spec.interactive, true);
  const err = await rejection(
    new ExecCredentialSource(
      { ...p.config, interactiveMode: "Always" },
      { ...p.options, isTerminal: () => false },
    ).credentials(),
  );
  assert.equal(err.code, CredentialErrorCode.execInteractive);
  assert.equal(p.runs(), 1);
});

test("invalid configurations are ConfigErrors", () => {
  const base: ExecConfig = { command: "x", apiVersion: V1, interactiveMode: "Never" };
  assert.throws(() => new ExecCredentialSource({ ...base, command: "" }), ConfigError);
  assert.throws(
    () => new ExecCredentialSource({ ...base, apiVersion: "v2" }),
    /apiVersion must be/,
  );
  assert.throws(
    () => new ExecCredentialSource({ ...base, interactiveMode: undefined }),
    /interactiveMode must be set/,
  );
  assert.throws(
    () => new ExecCredentialSource({ ...base, interactiveMode: "Sometimes" as "Never" }),
    /Never, IfAvailable or Always/,
  );
  assert.throws(
    () => new ExecCredentialSource({ ...base, env: [{ name: "A=B", value: "" }] }),
    ConfigError,
  );
});

test("the shared cache: one source (one run) per config + cluster, whatever the field order", async (t) => {
  const p = plugin(t);
  p.respond(cred({ token: "shared" }));
  const cache = new CredentialCache();
  const cluster = { server: "https://a:6443" };
  const a = execCredentialSource(p.config, { ...p.options, cache, cluster });
  const reordered: ExecConfig = {
    env: p.config.env ?? null,
    interactiveMode: "Never",
    apiVersion: V1,
    command: p.command,
    args: [],
    installHint: "",
  };
  const b = execCredentialSource(reordered, { cache, cluster: { ...cluster, tlsServerName: "" } });
  assert.equal(b, a);
  await Promise.all([a.credentials(), b.credentials()]);
  assert.equal(p.runs(), 1);
  const otherCluster = execCredentialSource(p.config, {
    cache,
    cluster: { server: "https://b:6443" },
  });
  assert.notEqual(otherCluster, a);
  const otherArgs = execCredentialSource({ ...p.config, args: ["--x"] }, { cache, cluster });
  assert.notEqual(otherArgs, a);
  const otherEnvValue = execCredentialSource(
    { ...p.config, env: [...(p.config.env ?? []), { name: "K", value: "v" }] },
    { cache, cluster },
  );
  assert.notEqual(otherEnvValue, a);
  assert.equal(cache.size, 4);
});

test("concurrent first calls share one run", async (t) => {
  const p = plugin(t);
  p.respond(cred({ token: "slow" }));
  writeFileSync(join(p.dir, "delay"), "0.2");
  const s = new ExecCredentialSource(p.config, p.options);
  const all = await Promise.all(Array.from({ length: 5 }, () => s.credentials()));
  assert.equal(p.runs(), 1);
  assert.ok(all.every((c) => c === all[0]));
});

test("credentials are kept until now >= expirationTimestamp", async (t) => {
  const p = plugin(t);
  p.respond(cred({ token: "first", expirationTimestamp: "2030-01-01T00:00:00Z" }), 1);
  p.respond(cred({ token: "second", expirationTimestamp: "2030-01-01T01:00:00.5+01:00" }), 2);
  let now = Date.parse("2029-12-31T23:59:59.999Z");
  const s = new ExecCredentialSource(p.config, { ...p.options, now: () => now });
  const a = await s.credentials();
  assert.equal(a.expiresAt, Date.parse("2030-01-01T00:00:00Z"));
  assert.equal(await s.credentials(), a);
  now += 1;
  const b = await s.credentials();
  assert.equal(b.authorization, "Bearer second");
  assert.equal(b.expiresAt, Date.parse("2030-01-01T00:00:00.5Z"));
  assert.equal(p.runs(), 2);
});

test("an already expired credential is used once and the next call runs the plugin again", async (t) => {
  const p = plugin(t);
  p.respond(cred({ token: "stale", expirationTimestamp: "2000-01-01T00:00:00Z" }));
  const s = new ExecCredentialSource(p.config, p.options);
  assert.equal((await s.credentials()).authorization, "Bearer stale");
  await s.credentials();
  assert.equal(p.runs(), 2);
});

test("after a 401 the plugin runs again once, however many requests got the 401", async (t) => {
  const p = plugin(t);
  p.respond(cred({ token: "one" }), 1);
  p.respond(cred({ token: "two" }), 2);
  p.respond(cred({ token: "three" }), 3);
  const s = new ExecCredentialSource(p.config, p.options);
  const a = await s.credentials();
  s.onUnauthorized(a);
  s.onUnauthorized(a);
  const [b, c] = await Promise.all([s.credentials(), s.credentials()]);
  s.onUnauthorized(a); // a straggler's 401 with the old token
  assert.equal(b.authorization, "Bearer two");
  assert.equal(c, b);
  assert.equal(await s.credentials(), b);
  assert.equal(p.runs(), 2);
});

test("a failed run is not cached: the next call runs again", async (t) => {
  const p = plugin(t);
  p.respond("not json", 1);
  p.respond(cred({ token: "ok" }), 2);
  const s = new ExecCredentialSource(p.config, p.options);
  await rejection(s.credentials());
  assert.equal((await s.credentials()).authorization, "Bearer ok");
});

test("client certificates: validated, and the same bytes keep the same ClientCertificate", async (t) => {
  const p = plugin(t);
  p.respond(
    cred({
      clientCertificateData: CERT_A,
      clientKeyData: KEY_A,
      expirationTimestamp: "2000-01-01T00:00:00Z",
    }),
    1,
  );
  p.respond(
    cred({
      clientCertificateData: CERT_A,
      clientKeyData: KEY_A,
      token: "and-a-token",
      expirationTimestamp: "2000-01-01T00:00:00Z",
    }),
    2,
  );
  p.respond(cred({ clientCertificateData: CERT_B, clientKeyData: KEY_B }), 3);
  p.respond(cred({ clientCertificateData: CERT_B, clientKeyData: KEY_A }), 4);
  const s = new ExecCredentialSource(p.config, p.options);
  const a = await s.credentials();
  assert.equal(a.authorization, undefined);
  assert.equal(a.clientCert?.cert, CERT_A);
  const b = await s.credentials();
  assert.equal(b.authorization, "Bearer and-a-token");
  assert.equal(b.clientCert, a.clientCert, "unchanged certificate: same object, same version");
  const c = await s.credentials();
  assert.notEqual(c.clientCert?.version, a.clientCert?.version);
  s.onUnauthorized(c);
  const err = await rejection(s.credentials());
  assert.equal(err.code, CredentialErrorCode.execResponse);
  assert.match(err.message, /does not belong/);
  assert.ok(!err.message.includes("PRIVATE KEY"));
});

test("malformed answers say what is wrong without echoing the output", async (t) => {
  const secret = "sUp3r-s3cret-t0ken";
  const cases: [body: unknown, expected: RegExp][] = [
    [`{"token": "${secret}"`, /not JSON to stdout \(\d+ bytes\)/],
    [`"${secret}"`, /not an object/],
    [
      { apiVersion: V1BETA1, kind: "ExecCredential", status: { token: secret } },
      /configured for apiVersion client\.authentication\.k8s\.io\/v1 and answered with "client\.authentication\.k8s\.io\/v1beta1"/,
    ],
    [
      { apiVersion: secret.repeat(10), kind: "ExecCredential", status: { token: secret } },
      /answered with a string value/,
    ],
    [{ apiVersion: V1, kind: "Secret", status: { token: secret } }, /kind "Secret"/],
    [{ apiVersion: V1, status: { token: secret } }, /kind none/],
    [{ apiVersion: V1, kind: "ExecCredential" }, /returned no status/],
    [cred({}), /neither a token nor a client certificate/],
    [cred({ token: 42 }), /status\.token that is not a string/],
    [cred({ clientCertificateData: CERT_A }), /only a client certificate/],
    [cred({ clientKeyData: KEY_A, token: secret }), /only a client key/],
    [cred({ token: secret, expirationTimestamp: "tomorrow" }), /not an RFC 3339 time/],
    [cred({ token: `${secret}\r\nX: y` }), /line break/],
    [
      cred({ clientCertificateData: "garbage", clientKeyData: secret }),
      /not a valid PEM certificate/,
    ],
  ];
  for (const [i, [body, expected]] of cases.entries()) {
    const p = plugin(t);
    p.respond(body);
    const err = await rejection(new ExecCredentialSource(p.config, p.options).credentials());
    assert.equal(err.code, CredentialErrorCode.execResponse, `case ${i}`);
    assert.match(err.message, expected, `case ${i}`);
    assert.ok(!err.message.includes(secret), `case ${i}: ${err.message}`);
    assert.ok(!err.message.includes("PRIVATE KEY"), `case ${i}`);
    assert.equal(err.cause, undefined, `case ${i}: no cause that could quote the output`);
  }
});

test("a missing executable names it and shows the install hint without ANSI codes", async () => {
  const s = new ExecCredentialSource(
    {
      command: "kubekit-no-such-plugin",
      apiVersion: V1,
      interactiveMode: "Never",
      installHint: "\u001b[1mInstall\u001b[0m it with \u001b[32mbrew install x\u001b[0m",
    },
    { cache: new CredentialCache() },
  );
  const err = await rejection(s.credentials());
  assert.equal(err.code, CredentialErrorCode.execNotFound);
  assert.match(err.message, /executable "kubekit-no-such-plugin" not found/);
  assert.match(err.message, /\n\nInstall it with brew install x$/);
  assert.ok(!err.message.includes("\u001b"));
});

test("a non-zero exit gives the exit code and the tail of stderr, never stdout", async (t) => {
  const dir = tempDir(t);
  const command = script(
    dir,
    "fail.sh",
    `#!/bin/sh
echo '{"apiVersion":"${V1}","kind":"ExecCredential","status":{"token":"leaked-token"}}'
i=0; while [ $i -lt 2000 ]; do echo "noise line $i" >&2; i=$((i+1)); done
printf '\\033[31merror:\\033[0m you are not logged in\\n' >&2
exit 3
`,
  );
  const s = new ExecCredentialSource(
    { command, apiVersion: V1, interactiveMode: "Never" },
    { cache: new CredentialCache() },
  );
  const err = await rejection(s.credentials());
  assert.equal(err.code, CredentialErrorCode.execFailed);
  assert.match(err.message, /^exec plugin ".*fail\.sh" failed with exit code 3\nstderr:\n…/);
  assert.match(err.message, /error: you are not logged in$/);
  assert.ok(!err.message.includes("noise line 0\n"), "only the tail is kept");
  assert.ok(err.message.length < 4400, `bounded: ${err.message.length}`);
  assert.ok(!err.message.includes("leaked-token"));
});

test("a plugin that hangs is killed after the timeout, and is really gone", async (t) => {
  const dir = tempDir(t);
  const command = script(
    dir,
    "hang.sh",
    `#!/bin/sh\necho $$ > "${dir}/pid"\necho "working on it" >&2\nexec sleep 30\n`,
  );
  const s = new ExecCredentialSource(
    { command, apiVersion: V1, interactiveMode: "Never" },
    { cache: new CredentialCache(), timeoutMs: 300 },
  );
  const started = Date.now();
  const err = await rejection(s.credentials());
  assert.ok(Date.now() - started < 2000);
  assert.equal(err.code, CredentialErrorCode.execTimeout);
  assert.match(err.message, /did not finish within 300ms and was killed\nstderr:\nworking on it$/);
  const pid = Number(readFileSync(join(dir, "pid"), "utf8"));
  assert.ok(!isAlive(pid), "the plugin process is gone");
});

test("a plugin that ignores SIGTERM gets SIGKILL after the grace period", async (t) => {
  const dir = tempDir(t);
  const command = script(
    dir,
    "stubborn.sh",
    `#!/bin/sh\ntrap '' TERM\necho $$ > "${dir}/pid"\nwhile :; do sleep 0.05; done\n`,
  );
  const s = new ExecCredentialSource(
    { command, apiVersion: V1, interactiveMode: "Never" },
    { cache: new CredentialCache(), timeoutMs: 200, killGraceMs: 200 },
  );
  const err = await rejection(s.credentials());
  assert.equal(err.code, CredentialErrorCode.execTimeout);
  const pid = Number(readFileSync(join(dir, "pid"), "utf8"));
  assert.ok(!isAlive(pid));
});

test("a background process left holding stdout does not hold up the answer", async (t) => {
  const dir = tempDir(t);
  const command = script(
    dir,
    "daemon.sh",
    `#!/bin/sh
sleep 30 &
echo $! > "${dir}/bg.pid"
echo '{"apiVersion":"${V1}","kind":"ExecCredential","status":{"token":"t"}}'
`,
  );
  const s = new ExecCredentialSource(
    { command, apiVersion: V1, interactiveMode: "Never" },
    { cache: new CredentialCache() },
  );
  const started = Date.now();
  try {
    assert.equal((await s.credentials()).authorization, "Bearer t");
    assert.ok(Date.now() - started < 3000);
  } finally {
    // The leftover is the test's own doing: end it here, before the temporary directory goes.
    const bg = Number(readFileSync(join(dir, "bg.pid"), "utf8"));
    process.kill(bg, "SIGKILL");
  }
});

test("a plugin that floods stdout is stopped", async (t) => {
  const dir = tempDir(t);
  const command = script(dir, "flood.sh", "#!/bin/sh\nexec yes\n");
  const s = new ExecCredentialSource(
    { command, apiVersion: V1, interactiveMode: "Never" },
    { cache: new CredentialCache() },
  );
  const err = await rejection(s.credentials());
  assert.equal(err.code, CredentialErrorCode.execResponse);
  assert.match(err.message, /wrote more than 1048576 bytes to stdout/);
});

test("a caller's signal ends its wait; the run goes on for the others", async (t) => {
  const p = plugin(t);
  p.respond(cred({ token: "patient" }));
  writeFileSync(join(p.dir, "delay"), "0.2");
  const s = new ExecCredentialSource(p.config, p.options);
  const ac = new AbortController();
  const impatient = s.credentials({ signal: ac.signal });
  const patient = s.credentials();
  await sleep(20);
  ac.abort(new Error("gave up"));
  await assert.rejects(impatient, /gave up/);
  assert.equal((await patient).authorization, "Bearer patient");
  assert.equal(p.runs(), 1);
});

test("a signal that has fired already starts no run", async (t) => {
  const p = plugin(t);
  p.respond(cred({ token: "t" }));
  const s = new ExecCredentialSource(p.config, p.options);
  const reason = new Error("too late");
  await assert.rejects(s.credentials({ signal: AbortSignal.abort(reason) }), (e) => e === reason);
  assert.equal(p.runs(), 0);
});
