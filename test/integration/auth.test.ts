/**
 * Config and credentials against the real API server: every credential kind, impersonation,
 * proxies and TLS settings, each checked by who the server says we are (SelfSubjectReview).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { parse, stringify } from "yaml";
import { Client } from "../../src/client/index.ts";
import { loadConfig } from "../../src/config/index.ts";
import { ApiError, TransportError } from "../../src/core/errors.ts";
import { testClient, testKubeconfig, testNamespace, uniqueName } from "../support/cluster.ts";

interface UserInfo {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

let admin: Client;
let ns: { name: string; remove(): Promise<void> };
let dir: string;
let cluster: { server: string; "certificate-authority-data": string };
let adminUser: Record<string, string>;

before(async () => {
  admin = await testClient();
  ns = await testNamespace(admin, "kk-auth");
  dir = await mkdtemp(join(tmpdir(), "kubekit-auth-"));
  const kc = parse(await readFile(testKubeconfig(), "utf8"));
  const ctx = kc.contexts.find((c: { name: string }) => c.name === kc["current-context"]).context;
  cluster = kc.clusters.find((c: { name: string }) => c.name === ctx.cluster).cluster;
  adminUser = kc.users.find((u: { name: string }) => u.name === ctx.user).user;
});

after(async () => {
  await ns.remove();
  await admin.close();
  await rm(dir, { recursive: true, force: true });
});

/** Writes a kubeconfig for the test cluster with the given user (and cluster tweaks). */
async function kubeconfig(
  user: object,
  clusterExtra: object = {},
  name = uniqueName("kc"),
): Promise<string> {
  const path = join(dir, name);
  await writeFile(
    path,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "c", cluster: { ...cluster, ...clusterExtra } }],
      users: [{ name: "u", user }],
      contexts: [{ name: "ctx", context: { cluster: "c", user: "u" } }],
      "current-context": "ctx",
    }),
  );
  return path;
}

async function clientFor(
  path: string,
  env: NodeJS.ProcessEnv = {},
  tokenFileRefreshMs?: number,
): Promise<Client> {
  return new Client(await loadConfig({ kubeconfig: path, env, inCluster: false }), {
    qps: -1,
    env,
    maxRetries: 0,
    ...(tokenFileRefreshMs ? { credentialOptions: { tokenFileRefreshMs } } : {}),
  });
}

async function whoami(client: Client): Promise<UserInfo> {
  const r = await client.request<{ status: { userInfo: UserInfo } }>({
    method: "POST",
    path: "/apis/authentication.k8s.io/v1/selfsubjectreviews",
    body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
  });
  return r.status.userInfo;
}

async function serviceAccountToken(name: string): Promise<string> {
  await admin
    .request({
      method: "POST",
      path: `/api/v1/namespaces/${ns.name}/serviceaccounts`,
      body: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name } },
    })
    .catch((e) => {
      if (!(e instanceof ApiError && e.statusCode === 409)) throw e;
    });
  const tr = await admin.request<{ status: { token: string } }>({
    method: "POST",
    path: `/api/v1/namespaces/${ns.name}/serviceaccounts/${name}/token`,
    body: {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { expirationSeconds: 3600 },
    },
  });
  return tr.status.token;
}

const saUser = (name: string) => `system:serviceaccount:${ns.name}:${name}`;

test("the admin kubeconfig (client certificate) works", async () => {
  const me = await whoami(admin);
  assert.equal(me.username, "admin");
  assert.ok(me.groups?.includes("system:masters"));
});

test("a ServiceAccount token works as token and as tokenFile; a rotated file is picked up", async () => {
  const tokA = await serviceAccountToken("sa-a");
  const viaToken = await clientFor(await kubeconfig({ token: tokA }));
  assert.equal((await whoami(viaToken)).username, saUser("sa-a"));
  await viaToken.close();

  const file = join(dir, "token");
  await writeFile(file, tokA);
  const viaFile = await clientFor(await kubeconfig({ tokenFile: file }), {}, 300);
  assert.equal((await whoami(viaFile)).username, saUser("sa-a"));
  // Rotate the file: once the refresh interval has passed, the new token is read and used.
  const tokB = await serviceAccountToken("sa-b");
  await writeFile(file, tokB);
  assert.equal(
    (await whoami(viaFile)).username,
    saUser("sa-a"),
    "the token read before is still in use",
  );
  await new Promise((r) => setTimeout(r, 350));
  assert.equal((await whoami(viaFile)).username, saUser("sa-b"));
  // A file that becomes unreadable keeps the last good token.
  await rm(file);
  await new Promise((r) => setTimeout(r, 350));
  assert.equal((await whoami(viaFile)).username, saUser("sa-b"));
  await viaFile.close();
});

/** An exec plugin: prints the ExecCredential in `$PLUGIN_DIR/answer.json` and counts its runs. */
async function plugin(): Promise<{
  command: string;
  dir: string;
  runs(): Promise<number>;
  answer(status: object): Promise<void>;
}> {
  const pdir = await mkdtemp(join(dir, "plugin-"));
  const command = join(pdir, "plugin.mjs");
  await writeFile(
    command,
    `#!/usr/bin/env node
import { appendFileSync, readFileSync } from "node:fs";
const d = ${JSON.stringify(pdir)};
appendFileSync(d + "/runs", "x");
const info = JSON.parse(process.env.KUBERNETES_EXEC_INFO || "{}");
const status = JSON.parse(readFileSync(d + "/answer.json", "utf8"));
process.stdout.write(JSON.stringify({ apiVersion: info.apiVersion, kind: "ExecCredential", status }));
`,
  );
  await chmod(command, 0o755);
  return {
    command,
    dir: pdir,
    runs: async () => (await readFile(join(pdir, "runs"), "utf8").catch(() => "")).length,
    answer: (status) => writeFile(join(pdir, "answer.json"), JSON.stringify(status)),
  };
}

const execUser = (command: string) => ({
  exec: {
    apiVersion: "client.authentication.k8s.io/v1",
    command,
    interactiveMode: "Never",
    provideClusterInfo: true,
  },
});

test("an exec plugin's token works, and an expired credential makes it run again", async () => {
  const p = await plugin();
  const token = await serviceAccountToken("sa-exec");
  await p.answer({ token, expirationTimestamp: new Date(Date.now() + 1500).toISOString() });
  const client = await clientFor(await kubeconfig(execUser(p.command)));
  assert.equal((await whoami(client)).username, saUser("sa-exec"));
  assert.equal((await whoami(client)).username, saUser("sa-exec"));
  assert.equal(await p.runs(), 1, "cached until it expires");
  await new Promise((r) => setTimeout(r, 1600));
  assert.equal((await whoami(client)).username, saUser("sa-exec"));
  assert.equal(await p.runs(), 2, "expired, so it ran again");
  await client.close();
});

test("a 401 makes the exec plugin run again, once, and the request succeeds", async () => {
  const p = await plugin();
  await p.answer({ token: "not-a-valid-token" });
  const client = await clientFor(await kubeconfig(execUser(p.command)));
  await assert.rejects(whoami(client), (e) => e instanceof ApiError && e.statusCode === 401);
  assert.equal(await p.runs(), 2, "ran, got a 401, ran again, still 401: returned");
  const token = await serviceAccountToken("sa-exec401");
  await p.answer({ token });
  // The cached credential is the stale one: the next request gets a 401, re-runs and retries.
  assert.equal((await whoami(client)).username, saUser("sa-exec401"));
  assert.equal(await p.runs(), 3);
  await client.close();
});

test("an exec plugin that returns a client certificate works", async (t) => {
  if (!adminUser["client-certificate-data"]) {
    t.skip("the test cluster's admin user has no client certificate to hand out");
    return;
  }
  const p = await plugin();
  await p.answer({
    clientCertificateData: Buffer.from(adminUser["client-certificate-data"], "base64").toString(),
    clientKeyData: Buffer.from(adminUser["client-key-data"]!, "base64").toString(),
  });
  const client = await clientFor(await kubeconfig(execUser(p.command)));
  assert.equal((await whoami(client)).username, "admin");
  await client.close();
});

test("impersonation: user, uid, groups and extra reach the server", async () => {
  const client = await clientFor(
    await kubeconfig({
      ...adminUser,
      as: "jane",
      "as-uid": "uid-42",
      "as-groups": ["devs", "ops"],
      "as-user-extra": { "scopes.example.com/x": ["read", "write"] },
    }),
  );
  const me = await whoami(client);
  assert.equal(me.username, "jane");
  assert.equal(me.uid, "uid-42");
  assert.deepEqual(
    me.groups?.filter((g) => g !== "system:authenticated"),
    ["devs", "ops"],
  );
  assert.deepEqual(me.extra?.["scopes.example.com/x"], ["read", "write"]);
  await client.close();
});

/** A CONNECT proxy that sends every tunnel to the API server's real address and counts them. */
async function connectProxy(
  target: URL,
): Promise<{ url: string; tunnels: string[]; close(): Promise<void> }> {
  const tunnels: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((_req, res) => res.writeHead(405).end());
  server.on("connect", (req, socket: Socket, head) => {
    tunnels.push(req.url ?? "");
    sockets.add(socket);
    const upstream = connect(Number(target.port), target.hostname, () => {
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on("error", () => socket.destroy());
    socket.on("error", () => upstream.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

test("proxies: proxy-url and HTTPS_PROXY carry the traffic; NO_PROXY bypasses it", async () => {
  const real = new URL(cluster.server);
  const proxy = await connectProxy(real);
  try {
    // Go (and so kubekit) never proxies loopback addresses, so the server gets a name only the
    // proxy knows; the certificate is checked against `localhost`, one of its names.
    const hidden = `https://kubekit-proxied.invalid:${real.port}`;
    const viaProxyUrl = await clientFor(
      await kubeconfig(adminUser, {
        server: hidden,
        "tls-server-name": "localhost",
        "proxy-url": proxy.url,
      }),
    );
    assert.equal((await whoami(viaProxyUrl)).username, "admin");
    assert.deepEqual(proxy.tunnels, [`kubekit-proxied.invalid:${real.port}`]);
    await viaProxyUrl.close();

    const path = await kubeconfig(adminUser, { server: hidden, "tls-server-name": "localhost" });
    const viaEnv = await clientFor(path, { HTTPS_PROXY: proxy.url });
    assert.equal((await whoami(viaEnv)).username, "admin");
    assert.equal(proxy.tunnels.length, 2);
    await viaEnv.close();

    const bypass = await clientFor(path, { HTTPS_PROXY: proxy.url, NO_PROXY: ".invalid" });
    await assert.rejects(
      whoami(bypass),
      (e) => e instanceof TransportError && /host not found/.test(e.message),
    );
    assert.equal(proxy.tunnels.length, 2, "the proxy saw nothing");
    await bypass.close();
  } finally {
    await proxy.close();
  }
});

test("TLS: a wrong CA fails clearly; tls-server-name is what is verified; insecure only when set", async () => {
  // A CA that did not sign the server's certificate: the admin client certificate is not a CA.
  const wrongCa = await kubeconfig(adminUser, {
    "certificate-authority-data": adminUser["client-certificate-data"],
  });
  const wrong = await clientFor(wrongCa);
  await assert.rejects(
    whoami(wrong),
    (e) => e instanceof TransportError && /TLS handshake failed/.test(e.message),
  );
  await wrong.close();

  const badName = await clientFor(
    await kubeconfig(adminUser, { "tls-server-name": "wrong.example" }),
  );
  await assert.rejects(
    whoami(badName),
    (e) => e instanceof TransportError && /TLS|certificate/i.test(e.message),
  );
  await badName.close();
  const goodName = await clientFor(
    await kubeconfig(adminUser, { "tls-server-name": "kubernetes.default.svc" }),
  );
  assert.equal((await whoami(goodName)).username, "admin");
  await goodName.close();

  const untrusted = await clientFor(
    await kubeconfig(adminUser, { "certificate-authority-data": undefined }),
  );
  await assert.rejects(whoami(untrusted), TransportError);
  await untrusted.close();
  const insecure = await clientFor(
    await kubeconfig(adminUser, {
      "certificate-authority-data": undefined,
      "insecure-skip-tls-verify": true,
    }),
  );
  assert.equal((await whoami(insecure)).username, "admin");
  await insecure.close();
});

test("secrets never reach the output: debug logs, errors and printed configs of a whole session", async () => {
  const token = await serviceAccountToken("sa-secret");
  const p = await plugin();
  await p.answer({ token });
  const tokenPath = await kubeconfig({ token });
  const execPath = await kubeconfig(execUser(p.command));
  const script = `
    import { inspect } from "node:util";
    import { Client } from ${JSON.stringify(new URL("../../src/client/index.ts", import.meta.url).href)};
    import { loadConfig } from ${JSON.stringify(new URL("../../src/config/index.ts", import.meta.url).href)};
    for (const path of ${JSON.stringify([tokenPath, execPath])}) {
      const config = await loadConfig({ kubeconfig: path, env: {}, inCluster: false });
      console.log(config, JSON.stringify(config), String(config), inspect(config, { depth: 10 }));
      const client = new Client(config, { qps: -1, maxRetries: 0 });
      await client.request({ method: "POST", path: "/apis/authentication.k8s.io/v1/selfsubjectreviews", body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" } });
      try { await client.request({ method: "GET", path: "/api/v1/namespaces/kube-system/secrets" }); } catch (e) { console.log(e); console.log(String(e)); }
      await client.close();
    }
  `;
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    ["--input-type=module", "-e", script],
    {
      env: { ...process.env, KUBEKIT_LOG: "9" },
      maxBuffer: 64 << 20,
    },
  );
  const output = stdout + stderr;
  assert.match(output, /selfsubjectreviews 201/, "the session really ran with full debug logging");
  assert.match(output, /forbidden/i, "and printed an error");
  assert.ok(!output.includes(token), "the token appeared in the output");
  assert.ok(!output.includes(token.slice(20, 60)), "part of the token appeared in the output");
});
