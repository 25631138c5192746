/**
 * `kubectl cp` over exec: `copyToPod` streams a tar archive of a local path into `tar -xmf -` in
 * the container, `copyFromPod` unpacks what `tar cf -` in the container writes. The tar writer and
 * the (streaming) reader are kubekit's own; the container needs a `tar` binary, as for kubectl.
 */
import { constants } from "node:fs";
import {
  copyFile,
  type FileHandle,
  lstat,
  mkdir,
  open,
  readdir,
  readlink,
  realpath,
  symlink,
  unlink,
} from "node:fs/promises";
import { basename, dirname, join, posix, relative, resolve, sep } from "node:path";
import type { Readable } from "node:stream";
import { RequestBuildError } from "../core/errors.ts";
import { StreamError } from "./errors.ts";
import { exec, execStream } from "./exec.ts";
import type { PodTarget } from "./target.ts";

export interface CopyOptions {
  /** The source: a local path for `copyToPod`, a path in the container for `copyFromPod`. */
  from: string;
  /** The destination, named as kubectl names it (see `copyToPod` and `copyFromPod`). */
  to: string;
  /** The container; the server picks the only one, or fails when there are several. */
  container?: string;
  /** The namespace when `pods` is a `Client`; default the config's. */
  namespace?: string;
  /** Ends the copy: the exec session closes and the call rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Told of what was skipped rather than copied: symlinks that would point outside the
   * destination (`copyFromPod`), local files that are not regular files, directories or symlinks
   * (`copyToPod`). Default: ignored.
   */
  onWarning?: (message: string) => void;
}

const BLOCK = 512;
const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
/** The largest size and mtime a ustar header holds (11 octal digits); beyond it pax records. */
const MAX_OCTAL = 0o77777777777;
/** Metadata entries (pax, GNU long names) are read into memory: bound them. */
const MAX_META = 1024 * 1024;
const READ_CHUNK = 64 * 1024;
/** What is kept of the remote tar's stderr for an error message. */
const MAX_STDERR = 64 * 1024;

/**
 * Copies the local file or directory `from` into the container, as `kubectl cp from pod:to`:
 * when `to` is an existing directory in the container the copy lands in `to/<basename of from>`,
 * otherwise it becomes `to` (whose parent must exist). Symlinks are copied as symlinks, modes
 * are kept; the remote `tar -xmf -` sets modification times to now, as for kubectl. Rejects with
 * a `StreamError` `ERR_KUBEKIT_STREAM_TAR` when `from` does not exist or the remote tar fails (its
 * stderr in the message), with the exec errors of `exec`, and with the signal's reason on abort.
 */
export async function copyToPod(
  pods: PodTarget,
  name: string,
  options: CopyOptions,
): Promise<void> {
  checkPaths(options);
  options.signal?.throwIfAborted();
  const from = resolve(options.from);
  const st = await lstat(from).catch((err: NodeJS.ErrnoException) => {
    throw tarError(`${options.from}: cannot read the local path: ${err.code ?? err.message}`, err);
  });
  const execOptions = {
    container: options.container,
    namespace: options.namespace,
    signal: options.signal,
  };
  let dest = options.to;
  const probe = await exec(pods, name, ["test", "-d", options.to], {
    ...execOptions,
    stdout: false,
    // The server refuses an exec with no stream at all.
    stderr: true,
  });
  if (probe.exitCode === 0) dest = posix.join(options.to, basename(from));
  const entryName = posix.basename(dest);
  if (entryName === "" || entryName === "." || entryName === "..") {
    throw new RequestBuildError("options.to", `${JSON.stringify(options.to)} names no file`);
  }
  const session = await execStream(pods, name, ["tar", "-xmf", "-", "-C", posix.dirname(dest)], {
    ...execOptions,
    stdin: packTar(from, entryName, { stat: st, onWarning: options.onWarning }),
    stdout: false,
    stderr: true,
  });
  const [stderr, result] = await Promise.all([tail(session.stderr), session.done]);
  if (result.exitCode !== 0) {
    throw tarError(`tar -x in the container exited with ${result.exitCode}: ${stderr.trim()}`);
  }
}

/**
 * Copies the file or directory `from` in the container to the local path `to`, as
 * `kubectl cp pod:from to`: `to` becomes the copy (a directory's contents land in `to`).
 * Nothing is written outside `to`: entries with absolute names or `..` components, and entries
 * that would be written through a symlink, reject; symlinks pointing outside `to` are skipped
 * (`onWarning`), and entries below a skipped symlink reject. Hard links are copied as files.
 * Rejects with a `StreamError` `ERR_KUBEKIT_STREAM_TAR` naming the entry, or carrying the remote
 * tar's stderr when it exits non-zero (e.g. `from` does not exist); with the signal's reason on
 * abort. Files written before a failure stay.
 */
export async function copyFromPod(
  pods: PodTarget,
  name: string,
  options: CopyOptions,
): Promise<void> {
  checkPaths(options);
  options.signal?.throwIfAborted();
  const session = await execStream(pods, name, ["tar", "cf", "-", options.from], {
    container: options.container,
    namespace: options.namespace,
    signal: options.signal,
    stdout: true,
    stderr: true,
  });
  let readerError: unknown;
  // A failure of the reader's own ends the session; one that came from the session is its failure.
  const unpacked = unpackTar(session.stdout!, options.to, {
    strip: options.from,
    onWarning: options.onWarning,
  }).catch((err: unknown) => {
    readerError = err;
    session.close();
  });
  const [stderr, done] = await Promise.all([
    tail(session.stderr),
    session.done.then(
      (r) => ({ ok: true as const, exitCode: r.exitCode }),
      (error: unknown) => ({ ok: false as const, error }),
    ),
    unpacked,
  ]);
  if (options.signal?.aborted) throw options.signal.reason;
  if (readerError !== undefined) {
    const fromSession = !done.ok && readerError === done.error;
    const explainedByExit =
      done.ok &&
      done.exitCode !== 0 &&
      readerError instanceof StreamError &&
      truncated.has(readerError);
    if (!fromSession && !explainedByExit) throw readerError;
  }
  if (!done.ok) throw done.error;
  if (done.exitCode !== 0) {
    throw tarError(`tar -c in the container exited with ${done.exitCode}: ${stderr.trim()}`);
  }
}

function checkPaths(options: CopyOptions): void {
  if (typeof options !== "object" || options === null) {
    throw new RequestBuildError("options", "must give from and to");
  }
  for (const key of ["from", "to"] as const) {
    if (typeof options[key] !== "string" || options[key] === "") {
      throw new RequestBuildError(`options.${key}`, "must be a non-empty path");
    }
  }
}

async function tail(r: Readable | undefined): Promise<string> {
  let text = "";
  if (!r) return text;
  try {
    for await (const chunk of r)
      text = (text + (chunk as Buffer).toString("utf8")).slice(-MAX_STDERR);
  } catch {
    // The session's failure settles `done`, which the caller reports.
  }
  return text;
}

/** Errors for an archive that ended early: the remote tar's own failure explains them better. */
const truncated = new WeakSet<object>();

function tarError(message: string, cause?: unknown): StreamError {
  return new StreamError("ERR_KUBEKIT_STREAM_TAR", message, { cause });
}

// ---------------------------------------------------------------------------------------------
// Writing

export type TarEntryType = "file" | "directory" | "symlink";

export interface TarHeader {
  /** The entry's path in the archive, `/`-separated; a directory's trailing `/` is added. */
  name: string;
  type: TarEntryType;
  /** Permission bits. */
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** Bytes of content (files only). */
  size?: number;
  /** A symlink's target. */
  linkname?: string;
  uid?: number;
  gid?: number;
}

/**
 * The header block(s) of one entry: a ustar header, preceded by a pax extended header when the
 * name or link target exceeds 100 bytes or the size exceeds ustar's 8 GiB. The content (for a
 * file) follows, padded by `tarPadding`.
 */
export function tarHeader(h: TarHeader): Buffer {
  const name = h.type === "directory" && !h.name.endsWith("/") ? `${h.name}/` : h.name;
  const size = h.type === "file" ? (h.size ?? 0) : 0;
  const linkname = h.linkname ?? "";
  const pax: [string, string][] = [];
  if (Buffer.byteLength(name) > 100) pax.push(["path", name]);
  if (Buffer.byteLength(linkname) > 100) pax.push(["linkpath", linkname]);
  if (size > MAX_OCTAL) pax.push(["size", String(size)]);
  const main = ustarBlock({
    name,
    mode: h.mode,
    uid: h.uid ?? 0,
    gid: h.gid ?? 0,
    size: Math.min(size, MAX_OCTAL),
    mtime: h.mtime,
    type: h.type === "file" ? "0" : h.type === "directory" ? "5" : "2",
    linkname,
  });
  if (pax.length === 0) return main;
  const body = Buffer.from(pax.map(([k, v]) => paxRecord(k, v)).join(""));
  const paxHead = ustarBlock({
    name: "././@PaxHeader",
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: body.length,
    mtime: h.mtime,
    type: "x",
    linkname: "",
  });
  return Buffer.concat([paxHead, body, tarPadding(body.length), main]);
}

/** The zeros that fill content of `size` bytes up to a whole block. */
export function tarPadding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** `"<length> key=value\n"`, the length counting its own digits. */
function paxRecord(key: string, value: string): string {
  const rest = Buffer.byteLength(` ${key}=${value}\n`);
  let len = rest + String(rest).length;
  if (String(len).length !== String(rest).length) len = rest + String(len).length;
  return `${len} ${key}=${value}\n`;
}

function ustarBlock(f: {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  type: string;
  linkname: string;
}): Buffer {
  const b = Buffer.alloc(BLOCK);
  // Names over 100 bytes are carried by a pax record; the field keeps a truncated form.
  Buffer.from(f.name).copy(b, 0, 0, 100);
  octal(b, 100, 8, f.mode & 0o7777);
  octal(b, 108, 8, f.uid);
  octal(b, 116, 8, f.gid);
  octal(b, 124, 12, f.size);
  octal(b, 136, 12, Math.floor(f.mtime));
  b.write(f.type, 156, "latin1");
  Buffer.from(f.linkname).copy(b, 157, 0, 100);
  b.write("ustar\u000000", 257, "latin1");
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, "latin1");
  return b;
}

function octal(b: Buffer, offset: number, width: number, value: number): void {
  const max = 8 ** (width - 1) - 1;
  const v = Number.isFinite(value) ? Math.min(Math.max(0, Math.floor(value)), max) : 0;
  b.write(`${v.toString(8).padStart(width - 1, "0")}\u0000`, offset, "latin1");
}

/**
 * A tar archive of the local path `from`, its top entry named `name`: regular files,
 * directories (entries sorted) and symlinks (not followed), with modes, mtimes and owners.
 * Other file types are skipped with a warning. Ends with the end-of-archive blocks.
 */
export async function* packTar(
  from: string,
  name: string,
  options: { stat?: Awaited<ReturnType<typeof lstat>>; onWarning?: (m: string) => void } = {},
): AsyncGenerator<Buffer> {
  const st = options.stat ?? (await lstat(from));
  yield* packEntry(from, name, st, options.onWarning);
  yield END_OF_ARCHIVE;
}

async function* packEntry(
  path: string,
  name: string,
  st: Awaited<ReturnType<typeof lstat>>,
  onWarning: ((m: string) => void) | undefined,
): AsyncGenerator<Buffer> {
  const common = {
    name,
    mode: Number(st.mode) & 0o7777,
    mtime: Number(st.mtimeMs) / 1000,
    uid: Number(st.uid),
    gid: Number(st.gid),
  };
  if (st.isDirectory()) {
    yield tarHeader({ ...common, type: "directory" });
    for (const child of (await readdir(path)).sort()) {
      const p = join(path, child);
      yield* packEntry(p, `${name}/${child}`, await lstat(p), onWarning);
    }
  } else if (st.isSymbolicLink()) {
    yield tarHeader({ ...common, type: "symlink", linkname: await readlink(path) });
  } else if (st.isFile()) {
    const size = Number(st.size);
    yield tarHeader({ ...common, type: "file", size });
    const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      let done = 0;
      while (done < size) {
        const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, size - done));
        const { bytesRead } = await fh.read(buf, 0, buf.length, done);
        // The header has promised `size` bytes: a file that shrank cannot be archived.
        if (bytesRead === 0) throw tarError(`${path}: the file shrank while it was being copied`);
        done += bytesRead;
        yield buf.subarray(0, bytesRead);
      }
    } finally {
      await fh.close();
    }
    yield tarPadding(size);
  } else {
    onWarning?.(`skipping ${path}: not a regular file, directory or symlink`);
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Pulls exact byte counts out of a stream of chunks. */
class ByteSource {
  readonly #it: AsyncIterator<Uint8Array>;
  #chunks: Buffer[] = [];
  #length = 0;
  #eof = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  async #pull(): Promise<boolean> {
    if (this.#eof) return false;
    const r = await this.#it.next();
    if (r.done) {
      this.#eof = true;
      return false;
    }
    const v = r.value;
    const b = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    if (b.length > 0) {
      this.#chunks.push(b);
      this.#length += b.length;
    }
    return true;
  }

  /** Exactly `n` bytes; fewer (possibly none) when the input ends first. */
  async read(n: number): Promise<Buffer> {
    while (this.#length < n && (await this.#pull())) {}
    return this.#take(Math.min(n, this.#length));
  }

  /** Between 1 and `max` bytes; none once the input has ended. */
  async readSome(max: number): Promise<Buffer> {
    while (this.#length === 0 && (await this.#pull())) {}
    const first = this.#chunks[0];
    return first ? this.#take(Math.min(max, first.length)) : Buffer.alloc(0);
  }

  #take(n: number): Buffer {
    const parts: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const c = this.#chunks[0]!;
      if (c.length <= need) {
        parts.push(c);
        this.#chunks.shift();
        need -= c.length;
      } else {
        parts.push(c.subarray(0, need));
        this.#chunks[0] = c.subarray(need);
        need = 0;
      }
    }
    this.#length -= n;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** Reads the rest, so that the writer (the remote tar) is not left blocked. */
  async drain(): Promise<void> {
    this.#chunks = [];
    this.#length = 0;
    while (await this.#pull()) {
      this.#chunks = [];
      this.#length = 0;
    }
  }

  async close(): Promise<void> {
    await this.#it.return?.();
  }
}

interface Entry {
  name: string;
  type: string;
  mode: number;
  size: number;
  mtime: number;
  linkname: string;
}

export interface UnpackOptions {
  /**
   * The path that was archived (as given to `tar cf`): entries are named below it, and what
   * follows it is their path below the destination. Default: none.
   */
  strip?: string;
  onWarning?: (message: string) => void;
}

/**
 * Unpacks a tar archive (ustar, pax or GNU, as GNU tar, busybox and bsdtar write them) into
 * `dest`, which becomes the archived path itself; see `copyFromPod` for what is refused.
 */
export async function unpackTar(
  source: AsyncIterable<Uint8Array>,
  dest: string,
  options: UnpackOptions = {},
): Promise<void> {
  const src = new ByteSource(source);
  try {
    await new Unpacker(await rootOf(dest), options).run(src);
    await src.drain();
  } finally {
    await src.close();
  }
}

/** The destination's physical path (its parent created as kubectl does). */
async function rootOf(dest: string): Promise<string> {
  const abs = resolve(dest);
  await mkdir(dirname(abs), { recursive: true });
  try {
    return await realpath(abs);
  } catch {
    return join(await realpath(dirname(abs)), basename(abs));
  }
}

/** Components of an archive path; absolute paths and `..` components are refused. */
function components(raw: string, what: string): string[] {
  if (raw.startsWith("/")) throw tarError(`tar entry ${JSON.stringify(what)}: absolute path`);
  const parts = raw.split("/").filter((c) => c !== "" && c !== ".");
  if (parts.includes("..")) {
    throw tarError(`tar entry ${JSON.stringify(what)}: path has a ".." component`);
  }
  if (parts.some((c) => c.includes("\0"))) {
    throw tarError(`tar entry ${JSON.stringify(what)}: NUL in path`);
  }
  return parts;
}

/** What tar records for the path it was given: leading `/` and `../` removed, as GNU tar does. */
function stripComponents(from: string | undefined): string[] {
  if (!from) return [];
  const parts = posix
    .normalize(from)
    .split("/")
    .filter((c) => c !== "" && c !== ".");
  while (parts[0] === "..") parts.shift();
  return parts;
}

class Unpacker {
  readonly #root: string;
  readonly #strip: string[];
  readonly #onWarning: ((m: string) => void) | undefined;
  /** Directories known to be real directories below the root (not symlinks). */
  readonly #dirs = new Set<string>();
  /** Relative paths of symlinks that were skipped: nothing may be written below them. */
  readonly #skipped: string[] = [];
  /** Directory modes and mtimes, applied last so that read-only directories can be filled. */
  readonly #dirMeta: { path: string; mode: number; mtime: number }[] = [];

  constructor(root: string, options: UnpackOptions) {
    this.#root = root;
    this.#strip = stripComponents(options.strip);
    this.#onWarning = options.onWarning;
  }

  async run(src: ByteSource): Promise<void> {
    let pending: Partial<Entry> = {};
    for (;;) {
      const block = await src.read(BLOCK);
      if (block.length === 0) break;
      if (block.length < BLOCK) throw this.#truncated("a header");
      if (block.every((b) => b === 0)) break;
      const e = parseHeader(block);
      const meta = e.type === "x" || e.type === "g" || e.type === "L" || e.type === "K";
      if (!meta) {
        Object.assign(e, pending);
        pending = {};
      }
      switch (e.type) {
        case "x":
        case "g":
        case "L":
        case "K": {
          if (e.size > MAX_META) throw tarError(`tar entry ${JSON.stringify(e.name)}: too large`);
          const data = await src.read(e.size);
          if (data.length < e.size) throw this.#truncated(e.name);
          await this.#skip(src, tarPadding(e.size).length, e.name);
          if (e.type === "x") pending = { ...pending, ...parsePax(data, e.name) };
          else if (e.type === "L") pending = { ...pending, name: cString(data) };
          else if (e.type === "K") pending = { ...pending, linkname: cString(data) };
          break;
        }
        case "0":
        case "\0":
        case "7":
          await this.#file(src, e);
          break;
        case "5":
        case "2":
        case "1":
          await this.#skip(src, e.size + tarPadding(e.size).length, e.name);
          if (e.type === "5") await this.#directory(e);
          else if (e.type === "2") await this.#symlink(e);
          else await this.#hardlink(e);
          break;
        default:
          throw tarError(
            `tar entry ${JSON.stringify(e.name)}: unsupported entry type ${JSON.stringify(e.type)}`,
          );
      }
    }
    for (const d of this.#dirMeta.reverse()) {
      const fh = await open(d.path, constants.O_RDONLY | constants.O_DIRECTORY | O_NOFOLLOW);
      try {
        await fh.chmod(d.mode);
        await fh.utimes(d.mtime, d.mtime);
      } finally {
        await fh.close();
      }
    }
  }

  #truncated(what: string): StreamError {
    const err = tarError(`tar entry ${JSON.stringify(what)}: the archive ends early`);
    truncated.add(err);
    return err;
  }

  async #skip(src: ByteSource, n: number, name: string): Promise<void> {
    let left = n;
    while (left > 0) {
      const b = await src.readSome(Math.min(left, READ_CHUNK));
      if (b.length === 0) throw this.#truncated(name);
      left -= b.length;
    }
  }

  /** The entry's path below the root, checked; `[]` is the root itself. */
  #relative(name: string): string[] {
    const parts = components(name, name);
    const s = this.#strip;
    if (parts.length < s.length || s.some((c, i) => parts[i] !== c)) {
      throw tarError(`tar entry ${JSON.stringify(name)}: not below ${s.join("/") || "."}`);
    }
    const rel = parts.slice(s.length);
    for (const skipped of this.#skipped) {
      const k = skipped.split("/");
      if (rel.length > k.length && k.every((c, i) => rel[i] === c)) {
        throw tarError(`tar entry ${JSON.stringify(name)}: below a skipped symlink (${skipped})`);
      }
    }
    return rel;
  }

  /** The absolute path for `rel`, its parents created as real directories (never symlinks). */
  async #prepare(name: string, rel: string[]): Promise<string> {
    let dir = this.#root;
    if (rel.length > 0) await this.#ensureDir(this.#root, name);
    for (const c of rel.slice(0, -1)) {
      dir = join(dir, c);
      await this.#ensureDir(dir, name);
    }
    const target = rel.length === 0 ? this.#root : join(dir, rel.at(-1)!);
    const r = relative(this.#root, target);
    if (r.startsWith(`..${sep}`) || r === ".." || resolve(this.#root, r) !== target) {
      throw tarError(`tar entry ${JSON.stringify(name)}: resolves outside the destination`);
    }
    return target;
  }

  async #ensureDir(dir: string, name: string): Promise<void> {
    if (this.#dirs.has(dir)) return;
    const st = await lstat(dir).catch(() => undefined);
    if (st?.isSymbolicLink()) {
      throw tarError(`tar entry ${JSON.stringify(name)}: would be written through a symlink`);
    }
    if (st && !st.isDirectory()) {
      throw tarError(`tar entry ${JSON.stringify(name)}: a parent is not a directory`);
    }
    if (!st) await mkdir(dir);
    this.#dirs.add(dir);
  }

  /** Makes room for a non-directory at `target`: an existing file or symlink is removed. */
  async #replace(target: string, name: string): Promise<void> {
    const st = await lstat(target).catch(() => undefined);
    if (st?.isDirectory()) {
      throw tarError(`tar entry ${JSON.stringify(name)}: a directory is in the way`);
    }
    if (st) await unlink(target);
  }

  async #file(src: ByteSource, e: Entry): Promise<void> {
    const target = await this.#prepare(e.name, this.#relative(e.name));
    await this.#replace(target, e.name);
    let fh: FileHandle | undefined = await open(
      target,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW,
      0o600,
    );
    try {
      let left = e.size;
      while (left > 0) {
        const b = await src.readSome(Math.min(left, READ_CHUNK));
        if (b.length === 0) throw this.#truncated(e.name);
        await fh.write(b);
        left -= b.length;
      }
      await fh.chmod(e.mode & 0o777);
      await fh.utimes(e.mtime, e.mtime);
      const h = fh;
      fh = undefined;
      await h.close();
    } finally {
      await fh?.close();
    }
    await this.#skip(src, tarPadding(e.size).length, e.name);
  }

  async #directory(e: Entry): Promise<void> {
    const target = await this.#prepare(e.name, this.#relative(e.name));
    await this.#ensureDir(target, e.name);
    this.#dirMeta.push({ path: target, mode: e.mode & 0o777, mtime: e.mtime });
  }

  async #symlink(e: Entry): Promise<void> {
    const rel = this.#relative(e.name);
    const target = await this.#prepare(e.name, rel);
    const points = await this.#resolveLink(dirname(target), e.linkname, 0);
    if (points === undefined || rel.length === 0) {
      this.#skipped.push(rel.join("/"));
      this.#onWarning?.(
        `skipping symlink ${JSON.stringify(e.name)} -> ${JSON.stringify(e.linkname)}: it points outside the destination`,
      );
      return;
    }
    await this.#replace(target, e.name);
    await symlink(e.linkname, target);
  }

  /**
   * Where a link at `dir` to `link` points, following symlinks already below the root;
   * undefined when that is outside the root (or the chain is too long to tell).
   */
  async #resolveLink(dir: string, link: string, depth: number): Promise<string | undefined> {
    if (link.startsWith("/") || depth > 40) return undefined;
    let cur = dir;
    for (const c of link.split("/")) {
      if (c === "" || c === ".") continue;
      if (c === "..") {
        if (cur === this.#root) return undefined;
        cur = dirname(cur);
        continue;
      }
      const next = join(cur, c);
      const st = await lstat(next).catch(() => undefined);
      if (st?.isSymbolicLink()) {
        const via = await this.#resolveLink(cur, await readlink(next), depth + 1);
        if (via === undefined) return undefined;
        cur = via;
      } else cur = next;
    }
    return this.#inside(cur) ? cur : undefined;
  }

  #inside(p: string): boolean {
    return (
      p === this.#root || p.startsWith(this.#root.endsWith(sep) ? this.#root : this.#root + sep)
    );
  }

  async #hardlink(e: Entry): Promise<void> {
    const target = await this.#prepare(e.name, this.#relative(e.name));
    const from = join(this.#root, ...this.#relative(components(e.linkname, e.name).join("/")));
    const st = await lstat(from).catch(() => undefined);
    if (!st?.isFile() || !this.#inside(from)) {
      throw tarError(
        `tar entry ${JSON.stringify(e.name)}: hard link to ${JSON.stringify(e.linkname)}, which was not extracted as a file`,
      );
    }
    await this.#replace(target, e.name);
    await copyFile(from, target, constants.COPYFILE_EXCL);
  }
}

const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;

function cString(b: Buffer): string {
  const end = b.indexOf(0);
  return b.toString("utf8", 0, end === -1 ? b.length : end);
}

function parseNumber(b: Buffer, field: string, name: string): number {
  if (b.length > 0 && (b[0]! & 0x80) !== 0) {
    // GNU base-256: big-endian, the top bit of the first byte marking it.
    let n = b[0]! & 0x7f;
    for (let i = 1; i < b.length; i++) n = n * 256 + b[i]!;
    return n;
  }
  const text = b
    .toString("latin1")
    .replace(/[\0 ]+$/, "")
    .replace(/^ +/, "");
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) {
    throw tarError(`tar entry ${JSON.stringify(name)}: bad ${field} field ${JSON.stringify(text)}`);
  }
  return Number.parseInt(text, 8);
}

function parseHeader(b: Buffer): Entry {
  let name = cString(b.subarray(0, 100));
  const stored = parseNumber(b.subarray(148, 156), "checksum", name);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const v = i >= 148 && i < 156 ? 0x20 : b[i]!;
    unsigned += v;
    signed += v > 127 ? v - 256 : v;
  }
  if (stored !== unsigned && stored !== signed) {
    throw tarError(`tar entry ${JSON.stringify(name)}: bad header checksum (not a tar archive?)`);
  }
  // POSIX ustar has a name prefix; GNU's "ustar  " uses that space for other fields.
  if (b.toString("latin1", 257, 263) === "ustar\0") {
    const prefix = cString(b.subarray(345, 500));
    if (prefix) name = `${prefix}/${name}`;
  }
  return {
    name,
    type: String.fromCharCode(b[156]!),
    mode: parseNumber(b.subarray(100, 108), "mode", name),
    size: parseNumber(b.subarray(124, 136), "size", name),
    mtime: parseNumber(b.subarray(136, 148), "mtime", name),
    linkname: cString(b.subarray(157, 257)),
  };
}

function parsePax(data: Buffer, name: string): Partial<Entry> {
  const out: Partial<Entry> = {};
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    const len = space === -1 ? Number.NaN : Number(data.toString("latin1", i, space));
    if (!Number.isSafeInteger(len) || len <= 0 || i + len > data.length) {
      if (data.subarray(i).every((c) => c === 0)) break;
      throw tarError(`tar entry ${JSON.stringify(name)}: malformed pax record`);
    }
    const record = data.toString("utf8", space + 1, i + len - 1);
    const eq = record.indexOf("=");
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    if (key === "path") out.name = value;
    else if (key === "linkpath") out.linkname = value;
    else if (key === "size") out.size = Number(value);
    else if (key === "mtime") out.mtime = Number(value);
    i += len;
  }
  if (out.size !== undefined && !Number.isSafeInteger(out.size)) {
    throw tarError(`tar entry ${JSON.stringify(name)}: bad pax size`);
  }
  if (out.mtime !== undefined && !Number.isFinite(out.mtime)) delete out.mtime;
  return out;
}
