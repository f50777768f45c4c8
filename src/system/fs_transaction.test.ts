import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chownSync, lchownSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FsTransaction } from "./fs_transaction.ts";
import { Root } from "./root.ts";

let dir: string;
let root: Root;
const at = (p: string) => join(dir, p);
const st = (p: string) => lstatSync(at(p));

/** Every path with mode, owner and contents, to compare before and after. */
function snapshot(d = dir, rel = ""): string[] {
  return readdirSync(d)
    .sort()
    .flatMap((n) => {
      const p = join(d, n);
      const s = lstatSync(p);
      const line = `${rel}/${n} ${(s.mode & 0o7777).toString(8)} ${s.uid}:${s.gid} ${s.isFile() ? readFileSync(p, "latin1") : s.isSymbolicLink() ? readlinkSync(p) : ""}`;
      return s.isDirectory() ? [line, ...snapshot(p, `${rel}/${n}`)] : [line];
    });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "nexus-tx-"));
  mkdirSync(at("etc/skel/.config"), { recursive: true });
  mkdirSync(at("home/core"), { recursive: true });
  writeFileSync(at("etc/skel/.bashrc"), "rc\n", { mode: 0o640 });
  writeFileSync(at("etc/skel/.config/x"), "x\n", { mode: 0o4755 });
  linkSync(at("etc/skel/.bashrc"), at("etc/skel/.bashrc2"));
  symlinkSync("/etc/skel/.bashrc", at("etc/skel/abs"));
  symlinkSync(".bashrc", at("etc/skel/rel"));
  chownSync(at("home/core"), 500, 500);
  writeFileSync(at("home/core/f"), "f");
  chownSync(at("home/core/f"), 500, 10);
  writeFileSync(at("etc/passwd"), "old\n", { mode: 0o644 });
  root = Root.open(dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("FsTransaction", () => {
  test("copySkeleton() copies as useradd: owner given, modes kept, links into the skeleton re-pointed, hard links kept", () => {
    const tx = new FsTransaction(root);
    mkdirSync(at("home/alice"));
    tx.copySkeleton("/etc/skel", "/home/alice", 1001, 1002);
    expect([st("home/alice/.bashrc").mode & 0o7777, st("home/alice/.bashrc").uid, st("home/alice/.bashrc").gid]).toEqual([0o640, 1001, 1002]);
    expect(st("home/alice/.config/x").mode & 0o7777).toBe(0o4755);
    expect(readlinkSync(at("home/alice/abs"))).toBe("/home/alice/.bashrc");
    expect(readlinkSync(at("home/alice/rel"))).toBe(".bashrc");
    expect(st("home/alice/abs").uid).toBe(1001);
    expect(st("home/alice/.bashrc2").ino).toBe(st("home/alice/.bashrc").ino);
  });

  test("rollback() takes back every kind of change, newest first", () => {
    const before = snapshot();
    const tx = new FsTransaction(root);
    tx.mkdir("/home/alice", 0o700, 1001, 1001);
    tx.copySkeleton("/etc/skel", "/home/alice", 1001, 1001);
    tx.chownTree("/home/core", { oldUid: 500, newUid: 600, oldGid: 500, newGid: 700 });
    tx.move("/home/core", "/home/core2", { oldUid: 600, newUid: 601, oldGid: -1, newGid: -1 });
    tx.replaceFile("/home/core2/.ssh/keys", Buffer.from("k\n"), { mode: 0o600, uid: 601, gid: 700 }, { mode: 0o700, uid: 601, gid: 700 });
    tx.createFile("/etc/mailbox", 0o660, 1001, 8);
    tx.chownChmod("/etc/skel", 5, 5, 0o700);
    tx.remove("/etc/skel/.config");
    tx.stage({ path: "/etc/passwd", data: Buffer.from("new\n"), mode: 0o644, uid: 0, gid: 0 });
    expect(snapshot()).not.toEqual(before);
    expect(tx.rollback()).toEqual([]);
    expect(snapshot()).toEqual(before);
  });

  test("chownTree() changes only matching owners, symlinks themselves included", () => {
    symlinkSync("/nowhere", at("home/core/l"));
    lchownSync(at("home/core/l"), 500, 500);
    const tx = new FsTransaction(root);
    tx.chownTree("/home/core", { oldUid: 500, newUid: 600, oldGid: 500, newGid: -1 });
    expect([st("home/core").uid, st("home/core").gid]).toEqual([600, 500]);
    expect([st("home/core/f").uid, st("home/core/f").gid]).toEqual([600, 10]);
    expect(st("home/core/l").uid).toBe(600);
  });

  test("commit() puts staged files in place with their mode and owner, and finish() leaves nothing hidden behind", async () => {
    const tx = new FsTransaction(root);
    tx.remove("/home/core");
    tx.stage({ path: "/etc/passwd-", data: Buffer.from("old\n"), mode: 0o600, uid: 0, gid: 42 });
    tx.stage({ path: "/etc/passwd", data: Buffer.from("new\n"), mode: 0o644, uid: 0, gid: 0 });
    await tx.commit();
    tx.finish();
    expect(readFileSync(at("etc/passwd"), "utf8")).toBe("new\n");
    expect([st("etc/passwd-").mode & 0o777, st("etc/passwd-").gid]).toEqual([0o600, 42]);
    expect(readdirSync(at("etc")).filter((n) => n.includes("nexus"))).toEqual([]);
    expect(readdirSync(at("home"))).toEqual([]);
  });

  test("commit() puts the old files back when a rename fails part-way", async () => {
    mkdirSync(at("etc/group"));
    writeFileSync(at("etc/group/x"), "");
    const tx = new FsTransaction(root);
    tx.stage({ path: "/etc/passwd", data: Buffer.from("new\n"), mode: 0o644, uid: 0, gid: 0 });
    tx.stage({ path: "/etc/group", data: Buffer.from("g\n"), mode: 0o644, uid: 0, gid: 0 });
    expect(await tx.commit().catch((e: Error) => e)).toBeInstanceOf(Error);
    expect(readFileSync(at("etc/passwd"), "utf8")).toBe("old\n");
    tx.rollback();
    expect(readdirSync(at("etc")).filter((n) => n.includes("nexus"))).toEqual([]);
  });

  test("writeRecord() zeroes or copies one record, and rollback() restores it and the size", () => {
    writeFileSync(at("etc/lastlog"), Buffer.alloc(8, 7));
    const tx = new FsTransaction(root);
    tx.writeRecord("/etc/lastlog", 4, 0);
    tx.writeRecord("/etc/lastlog", 4, 5, 1);
    expect([...readFileSync(at("etc/lastlog"))]).toEqual([0, 0, 0, 0, 7, 7, 7, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 7, 7, 7]);
    tx.rollback();
    expect([...readFileSync(at("etc/lastlog"))]).toEqual(Array(8).fill(7));
  });
});
