/**
 * What the bench prepares before it measures anything: kubekit packed and installed as a user
 * gets it, the client processes as plain JavaScript beside that install, the client-go peer built
 * from the Go module proxy, and the replay data. Everything lives under the cache folder
 * (`$XDG_CACHE_HOME/kubekit/bench`, default `~/.cache/kubekit/bench`), never in the repository.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { stripTypeScriptTypes } from "node:module";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

export const benchDir = resolve(import.meta.dirname, "..");
export const repoRoot = resolve(benchDir, "..");

export function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "kubekit", "bench");
}

/** Runs a command; resolves with stdout, rejects with the tail of stderr. */
export function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      err = (err + d).slice(-20_000);
    });
    child.on("error", rej);
    child.on("close", (code) => {
      if (code === 0) res(out);
      else
        rej(
          new Error(`${cmd} ${args.join(" ")} exited with ${code}:\n${(err || out).slice(-4000)}`),
        );
    });
  });
}

/** Apparent bytes and file count of a folder, symlinks not followed. */
export function folderSize(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else {
        bytes += lstatSync(p).size;
        files++;
      }
    }
  };
  if (existsSync(dir)) walk(dir);
  return { bytes, files };
}

const quietNpm = ["--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"];

export interface Runtime {
  /** Where the client processes run: kubekit installed from its tarball, and the .mjs clients. */
  dir: string;
  kubekitVersion: string;
  tarballBytes: number;
  /** node_modules of a fresh install of the packed tarball (kubekit and its dependencies). */
  installed: { bytes: number; files: number };
}

/**
 * Builds kubekit (tsc into a staging folder, never the repository's dist/), packs it, installs the
 * tarball with production dependencies only into a fresh folder, and writes the client processes
 * there as JavaScript.
 */
export async function prepareRuntime(log: (s: string) => void): Promise<Runtime> {
  const root = join(cacheDir(), "runtime");
  await rm(root, { recursive: true, force: true });
  const pkg = join(root, "pkg");
  const dir = join(root, "install");
  await mkdir(pkg, { recursive: true });
  await mkdir(dir, { recursive: true });
  log("building kubekit into a staging folder and packing it");
  try {
    await run(
      join(repoRoot, "node_modules", ".bin", "tsc"),
      ["-p", "tsconfig.build.json", "--outDir", join(pkg, "dist")],
      { cwd: repoRoot },
    );
  } catch (err) {
    // Type errors still emit JavaScript; only a build that emitted nothing is fatal.
    if (!existsSync(join(pkg, "dist", "index.js"))) throw err;
    log(
      `warning: the build reported type errors (measuring what it emitted): ${(err as Error).message.split("\n").slice(1, 3).join(" ")}`,
    );
  }
  const manifest = JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8"));
  await writeFile(join(pkg, "package.json"), JSON.stringify(manifest, null, 2));
  for (const f of ["README.md", "LICENSE"]) {
    if (existsSync(join(repoRoot, f))) await copyFile(join(repoRoot, f), join(pkg, f));
  }
  const packed = JSON.parse(await run("npm", ["pack", "--json", "--loglevel=error"], { cwd: pkg }));
  const tarball = join(pkg, packed[0].filename as string);
  await writeFile(
    join(dir, "package.json"),
    JSON.stringify({ name: "kubekit-bench-runtime", private: true, type: "module" }),
  );
  log("installing the tarball into a fresh folder (production dependencies only)");
  await run("npm", ["install", "--omit=dev", "--no-package-lock", ...quietNpm, tarball], {
    cwd: dir,
  });
  const installed = folderSize(join(dir, "node_modules"));
  await writeClients(dir);
  return {
    dir,
    kubekitVersion: manifest.version,
    tarballBytes: lstatSync(tarball).size,
    installed,
  };
}

/** Writes bench/clients/*.ts, types stripped, as .mjs files into `dir`. */
async function writeClients(dir: string): Promise<void> {
  const src = join(benchDir, "clients");
  for (const f of readdirSync(src)) {
    if (!f.endsWith(".ts")) continue;
    const code = stripTypeScriptTypes(await readFile(join(src, f), "utf8"), { mode: "strip" });
    await writeFile(
      join(dir, f.replace(/\.ts$/, ".mjs")),
      code.replace(/from "\.\/([\w-]+)\.ts"/g, 'from "./$1.mjs"'),
    );
  }
}

/** node_modules bytes of a fresh production install of @kubernetes/client-node at `version`. */
export async function clientNodeInstalled(
  version: string,
): Promise<{ bytes: number; files: number }> {
  const dir = join(cacheDir(), "runtime", "client-node-install");
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "package.json"), JSON.stringify({ name: "cn", private: true }));
  await run(
    "npm",
    [
      "install",
      "--omit=dev",
      "--no-package-lock",
      ...quietNpm,
      `@kubernetes/client-node@${version}`,
    ],
    { cwd: dir },
  );
  return folderSize(join(dir, "node_modules"));
}

export function installedVersion(pkg: string): string {
  return JSON.parse(readFileSync(join(repoRoot, "node_modules", pkg, "package.json"), "utf8"))
    .version;
}

export interface Peer {
  bin: string;
  bytes: number;
  clientGoVersion: string;
}

/**
 * The client-go peer, built from bench/peers/client-go with the Go module proxy into the cache,
 * keyed by a hash of its go.mod, go.sum and main.go (a change rebuilds it).
 */
export async function buildPeer(log: (s: string) => void): Promise<Peer> {
  const src = join(benchDir, "peers", "client-go");
  const h = createHash("sha256");
  for (const f of ["go.mod", "go.sum", "main.go"]) h.update(await readFile(join(src, f)));
  const key = h.digest("hex").slice(0, 16);
  const out = join(cacheDir(), `client-go-${key}`);
  const bin = join(out, "client-go-peer");
  const goMod = await readFile(join(src, "go.mod"), "utf8");
  const clientGoVersion = /k8s\.io\/client-go (v\S+)/.exec(goMod)?.[1] ?? "unknown";
  if (!existsSync(bin)) {
    log(`building the client-go ${clientGoVersion} peer into ${out} (first time only)`);
    // Earlier builds of other sources are of no further use.
    for (const d of readdirSync(cacheDir())) {
      if (d.startsWith("client-go-") && d !== `client-go-${key}`) {
        await rm(join(cacheDir(), d), { recursive: true, force: true });
      }
    }
    await mkdir(out, { recursive: true });
    await run("go", ["build", "-trimpath", "-ldflags=-s -w", "-o", bin, "."], {
      cwd: src,
      env: { ...process.env, CGO_ENABLED: "0" },
    });
  }
  return { bin, bytes: lstatSync(bin).size, clientGoVersion };
}
