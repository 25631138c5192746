import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { packTar, type TarHeader, tarHeader, tarPadding, unpackTar } from "./cp.ts";
import { StreamError } from "./errors.ts";

let work: string;
const LONG = `${"long-directory-name-".repeat(4)}/${"x".repeat(120)}.bin`;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "kubekit-cp-"));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

function run(cmd: string, args: string[], input?: Buffer): Promise<{ stdout: Buffer }> {
  return new Promise((res, rej) => {
    const child = execFile(
      cmd,
      args,
      { encoding: "buffer", maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) rej(new Error(`${cmd} ${args.join(" ")}: ${err.message}\n${stderr}`));
        else res({ stdout });
      },
    );
    if (input) child.stdin!.end(input);
  });
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  // Odd-sized pieces: headers and contents arrive split anywhere.
  for (let i = 0; i < b.length; i += 777) yield b.subarray(i, i + 777);
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** A tree with every kind of entry the copy supports. */
async function makeTree(root: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const put = async (rel: string, data: Buffer, mode = 0o644) => {
    await mkdir(join(root, rel, ".."), { recursive: true });
    await writeFile(join(root, rel), data, { mode });
    files.set(rel, sha(data));
  };
  await mkdir(root, { recursive: true });
  await put("a.txt", Buffer.from("hello\n"));
  await put("empty", Buffer.alloc(0));
  await put("nested/deeper/bin.dat", randomBytes(70_001), 0o755);
  await put(LONG, randomBytes(1234));
  await mkdir(join(root, "emptydir"));
  await symlink("nested/deeper/bin.dat", join(root, "link"));
  await symlink(`../${"y".repeat(130)}`, join(root, "nested", "longlink"));
  await utimes(join(root, "a.txt"), 1_600_000_000, 1_600_000_000);
  return files;
}

async function assertTree(root: string, files: Map<string, string>): Promise<void> {
  for (const [rel, hash] of files) {
    assert.equal(sha(await readFile(join(root, rel))), hash, rel);
  }
  assert.equal((await stat(join(root, "nested/deeper/bin.dat"))).mode & 0o777, 0o755);
  assert.equal((await stat(join(root, "a.txt"))).mtimeMs, 1_600_000_000_000);
  assert.ok((await stat(join(root, "emptydir"))).isDirectory());
  assert.equal(await readlink(join(root, "link")), "nested/deeper/bin.dat");
  assert.equal(await readlink(join(root, "nested", "longlink")), `../${"y".repeat(130)}`);
}

test("the tar writer's archives are read by the system tar", async () => {
  const src = join(work, "w-src");
  const files = await makeTree(src);
  const archive = await collect(packTar(src, "top"));
  assert.equal(archive.length % 512, 0);
  const listing = (await run("tar", ["-tvf", "-"], archive)).stdout.toString();
  assert.match(listing, /^drwx.* top\/$/m);
  assert.match(listing, /^-rwxr-xr-x .* 70001 .* top\/nested\/deeper\/bin\.dat$/m);
  assert.match(listing, /^-rw-r--r-- .* 0 .* top\/empty$/m);
  assert.match(listing, /^lrwx.* top\/link -> nested\/deeper\/bin\.dat$/m);
  assert.ok(listing.includes(`top/${LONG}`), "a name over 100 bytes, by a pax record");
  assert.match(listing, /2020-09-13 \d\d:\d\d top\/a\.txt$/m);
  const out = join(work, "w-out");
  await mkdir(out);
  await run("tar", ["-xf", "-", "-C", out], archive);
  await assertTree(join(out, "top"), files);

  const single = await collect(packTar(join(src, "a.txt"), "renamed.txt"));
  assert.match((await run("tar", ["-tvf", "-"], single)).stdout.toString(), / renamed\.txt\n$/);
});

test("the reader unpacks the system tar's archives, GNU and pax formats", async () => {
  const src = join(work, "r-src");
  const files = await makeTree(join(src, "dir"));
  for (const format of ["gnu", "posix"]) {
    const archive = (await run("tar", [`--format=${format}`, "-cf", "-", "-C", src, "dir"])).stdout;
    const out = join(work, `r-out-${format}`);
    await unpackTar(once(archive), out, { strip: "dir" });
    await assertTree(out, files);
    // `to` becomes the copy; a single file too.
    const one = (await run("tar", [`--format=${format}`, "-cf", "-", "-C", src, "dir/a.txt"]))
      .stdout;
    await unpackTar(once(one), join(out, "copied.txt"), { strip: "dir/a.txt" });
    assert.equal(await readFile(join(out, "copied.txt"), "utf8"), "hello\n");
  }
  // What the writer writes, the reader reads.
  const out = join(work, "r-own");
  await unpackTar(packTar(join(src, "dir"), "x"), out, { strip: "x" });
  await assertTree(out, files);
});

function archive(...entries: [TarHeader, Buffer?][]): Buffer {
  const parts: Buffer[] = [];
  for (const [h, data] of entries) {
    const body = data ?? Buffer.alloc(0);
    parts.push(tarHeader({ ...h, size: body.length }), body, tarPadding(body.length));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const file = (name: string): [TarHeader, Buffer] => [
  { name, type: "file", mode: 0o644, mtime: 0 },
  Buffer.from("pwned"),
];

async function rejectsTar(data: Buffer, dest: string, pattern: RegExp): Promise<void> {
  await assert.rejects(unpackTar(once(data), dest), (err) => {
    assert.ok(err instanceof StreamError);
    assert.equal(err.code, "ERR_KUBEKIT_STREAM_TAR");
    assert.match(err.message, pattern);
    return true;
  });
}

test("the reader never writes outside the destination", async () => {
  const base = join(work, "evil");
  const dest = join(base, "dest");
  await mkdir(dest, { recursive: true });
  await rejectsTar(archive(file("../x")), dest, /"\.\.\/x".*\.\./);
  await rejectsTar(archive(file("ok/../../x")), dest, /"ok\/\.\.\/\.\.\/x"/);
  await rejectsTar(archive(file("/abs")), dest, /"\/abs": absolute path/);
  assert.equal(existsSync(join(base, "x")), false);

  // A symlink out of the destination is skipped with a warning; a file through it is refused.
  const warnings: string[] = [];
  const escaping = archive(
    [{ name: "out", type: "symlink", mode: 0o777, mtime: 0, linkname: ".." }],
    file("out/x"),
  );
  await assert.rejects(
    unpackTar(once(escaping), dest, { onWarning: (m) => warnings.push(m) }),
    (err) => err instanceof StreamError && /"out\/x".*skipped symlink/.test(err.message),
  );
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /skipping symlink "out" -> "\.\."/);
  assert.equal(existsSync(join(dest, "out")), false);
  assert.equal(existsSync(join(base, "x")), false);

  // Absolute links, and chains that leave only through another link, are skipped too.
  const chain = archive(
    [{ name: "d/", type: "directory", mode: 0o755, mtime: 0 }],
    [{ name: "d/up", type: "symlink", mode: 0o777, mtime: 0, linkname: ".." }],
    [{ name: "l2", type: "symlink", mode: 0o777, mtime: 0, linkname: "d/up/.." }],
    [{ name: "abs", type: "symlink", mode: 0o777, mtime: 0, linkname: "/etc" }],
  );
  const chained: string[] = [];
  await unpackTar(once(chain), join(base, "chain"), { onWarning: (m) => chained.push(m) });
  assert.equal(await readlink(join(base, "chain", "d", "up")), "..", "inside: created");
  assert.equal(chained.length, 2);
  assert.equal(existsSync(join(base, "chain", "l2")), false);
  assert.equal(existsSync(join(base, "chain", "abs")), false);

  // A symlink already in the destination is never written through.
  const pre = join(base, "pre");
  await mkdir(pre);
  await symlink(base, join(pre, "link"));
  await rejectsTar(archive(file("link/x")), pre, /"link\/x": would be written through a symlink/);
  // ... nor followed when a file of its name is unpacked: the link is replaced.
  await unpackTar(once(archive(file("link"))), pre);
  assert.ok((await lstat(join(pre, "link"))).isFile());
  assert.deepEqual(await readdir(base), ["chain", "dest", "pre"]);

  // Unknown types, entries outside `strip`, broken headers and early ends are refused.
  const fifo = tarHeader({ name: "f", type: "file", mode: 0o644, mtime: 0 });
  fifo.write("6", 156, "latin1");
  fifo.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of fifo) sum += b;
  fifo.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  await rejectsTar(Buffer.concat([fifo, Buffer.alloc(1024)]), dest, /"f": unsupported entry type/);
  await assert.rejects(
    unpackTar(once(archive(file("other/x"))), dest, { strip: "dir" }),
    /"other\/x": not below dir/,
  );
  const bad = archive(file("x"));
  bad[0] = 0x41;
  await rejectsTar(bad, dest, /bad header checksum/);
  await rejectsTar(archive(file("x")).subarray(0, 600), dest, /"x": the archive ends early/);
});
