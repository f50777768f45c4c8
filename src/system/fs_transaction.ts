// Changes to a root that can be taken back: every operation records how to undo itself, so a
// failure part-way (a full disk, a refused rename) leaves the root as it was. Files meant to
// replace others are staged first (a temp file beside each, final owner and mode set before any
// byte is written, fsync'd) and renamed into place together by commit(); a failure during the
// renames puts back what was there. Removals are renames to a hidden name beside the node until
// finish() deletes them, so they too can be taken back. Used for the account databases and the
// home directories that go with them; every path is resolved inside the root.
import {
  chmodSync,
  closeSync,
  constants as C,
  fchmodSync,
  fchownSync,
  fsyncSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeSync,
  ftruncateSync,
  type Stats,
} from "node:fs";
import { fsync as fsyncCb } from "node:fs";
import { basename, dirname } from "node:path";
import { mknod } from "./libc.ts";
import type { Root } from "./root.ts";

/** chown_tree()'s mapping: -1 as an old id matches any owner, -1 as a new id keeps it. */
export interface OwnerChange {
  oldUid: number;
  newUid: number;
  oldGid: number;
  newGid: number;
}

/** A file to put in place at commit. */
export interface StagedFile {
  /** Root path. */
  path: string;
  data: Uint8Array;
  mode: number;
  uid: number;
  gid: number;
  /** Access and modification times to give it (seconds), e.g. a backup keeping its source's. */
  times?: { atime: number; mtime: number };
}

let counter = 0;
const hiddenName = (host: string, tag: string) => `${dirname(host)}/.${basename(host).slice(0, 180)}.nexus-${tag}-${process.pid}-${++counter}`;

/** Writes the whole buffer at the fd's position. */
function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}

/** fsync(2) of a file by path, on the thread pool. */
async function fsyncPath(path: string): Promise<void> {
  const fd = openSync(path, C.O_RDONLY);
  try {
    await new Promise<void>((resolve, reject) => fsyncCb(fd, (e) => (e ? reject(e) : resolve())));
  } finally {
    closeSync(fd);
  }
}

/** The new ids for a node under an owner change, or null when nothing changes. */
function mapOwner(st: { uid: number; gid: number }, o: OwnerChange): { uid: number; gid: number } | null {
  const uid = o.newUid !== -1 && (o.oldUid === -1 || st.uid === o.oldUid) ? o.newUid : -1;
  const gid = o.newGid !== -1 && (o.oldGid === -1 || st.gid === o.oldGid) ? o.newGid : -1;
  if (uid === -1 && gid === -1) return null;
  return { uid: uid === -1 ? st.uid : uid, gid: gid === -1 ? st.gid : gid };
}

/** A transaction on one root. */
export class FsTransaction {
  private readonly undo: (() => void)[] = [];
  private readonly staged: { host: string; tmp: string }[] = [];
  private readonly trash: string[] = [];

  constructor(private readonly root: Root) {}

  private host(path: string, followLast = false): string {
    return this.root.resolve(path, followLast);
  }

  /** mkdir with exactly this mode and owner (the parent must exist). */
  mkdir(path: string, mode: number, uid: number, gid: number): void {
    const h = this.host(path);
    mkdirSync(h, 0o700);
    this.undo.push(() => rmdirSync(h));
    lchownSync(h, uid, gid);
    chmodSync(h, mode);
  }

  /**
   * copy_tree(from, to) as useradd copies the skeleton: everything below `from` recreated below
   * the existing directory `to`, each node owned by uid:gid with its mode (special bits too) and
   * times; symlinks whose target starts with `from` point into `to` instead; hard links stay
   * linked. `from` itself must be a directory (not a symlink), else nothing is copied.
   */
  copySkeleton(from: string, to: string, uid: number, gid: number): void {
    const src = this.host(from);
    const st = lstatSync(src, { throwIfNoEntry: false });
    if (!st?.isDirectory()) return;
    const links = new Map<string, string>();
    this.copyInto(src, this.host(to, true), from, to, { oldUid: -1, newUid: uid, oldGid: -1, newGid: gid }, links);
  }

  /** Copies the entries of directory src into existing directory dst. */
  private copyInto(src: string, dst: string, srcOrig: string, dstOrig: string, owners: OwnerChange, links: Map<string, string>, rel = ""): void {
    for (const name of readdirSync(src)) {
      const s = `${src}/${name}`;
      const d = `${dst}/${name}`;
      const st = lstatSync(s, { throwIfNoEntry: false });
      if (!st) continue;
      this.copyEntry(s, d, st, srcOrig, dstOrig, owners, links, `${rel}/${name}`);
    }
  }

  private copyEntry(s: string, d: string, st: Stats, srcOrig: string, dstOrig: string, owners: OwnerChange, links: Map<string, string>, rel: string): void {
    const own = mapOwner(st, owners) ?? { uid: st.uid, gid: st.gid };
    if (st.isDirectory()) {
      mkdirSync(d, 0o700);
      this.undo.push(() => rmdirSync(d));
      lchownSync(d, own.uid, own.gid);
      chmodSync(d, st.mode & 0o7777);
      this.copyInto(s, d, srcOrig, dstOrig, owners, links, rel);
      utimesSync(d, st.atime, st.mtime);
      return;
    }
    if (st.isSymbolicLink()) {
      let target = readlinkSync(s);
      if (target.startsWith(srcOrig)) target = dstOrig + target.slice(srcOrig.length);
      symlinkSync(target, d);
      this.undo.push(() => unlinkSync(d));
      lchownSync(d, own.uid, own.gid);
      lutimesSync(d, st.atime, st.mtime);
      return;
    }
    const key = `${st.dev}:${st.ino}`;
    const first = links.get(key);
    if (first !== undefined) {
      linkSync(first, d);
      this.undo.push(() => unlinkSync(d));
      return;
    }
    if (st.nlink > 1) links.set(key, d);
    if (!st.isFile()) {
      mknod(d, st.mode & ~0o7777, st.rdev);
      this.undo.push(() => unlinkSync(d));
      lchownSync(d, own.uid, own.gid);
      chmodSync(d, st.mode & 0o7777);
      utimesSync(d, st.atime, st.mtime);
      return;
    }
    const out = openSync(d, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
    this.undo.push(() => unlinkSync(d));
    try {
      fchownSync(out, own.uid, own.gid);
      fchmodSync(out, st.mode & 0o7777);
      const input = openSync(s, C.O_RDONLY | C.O_NOFOLLOW);
      try {
        const buf = Buffer.allocUnsafe(65536);
        for (;;) {
          const n = readSync(input, buf, 0, buf.length, null);
          if (n === 0) break;
          writeAll(out, buf.subarray(0, n));
        }
      } finally {
        closeSync(input);
      }
    } finally {
      closeSync(out);
    }
    utimesSync(d, st.atime, st.mtime);
  }

  /** Creates an empty file that must not exist yet (a mailbox). */
  createFile(path: string, mode: number, uid: number, gid: number): void {
    const h = this.host(path);
    const fd = openSync(h, C.O_WRONLY | C.O_CREAT | C.O_EXCL, 0);
    this.undo.push(() => unlinkSync(h));
    try {
      fchownSync(fd, uid, gid);
      fchmodSync(fd, mode);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Writes one fixed-size record of a login log at index `index`: zeros, or a copy of record `from`. */
  writeRecord(path: string, size: number, index: number, from?: number): void {
    const h = this.host(path, true);
    const fd = openSync(h, C.O_RDWR);
    try {
      const oldSize = statSync(h).size;
      const rec = Buffer.alloc(size);
      if (from !== undefined) readSync(fd, rec, 0, size, from * size);
      const before = Buffer.alloc(size);
      const had = readSync(fd, before, 0, size, index * size);
      let off = 0;
      while (off < size) off += writeSync(fd, rec, off, size - off, index * size + off);
      fsyncSync(fd);
      this.undo.push(() => {
        const u = openSync(h, C.O_RDWR);
        try {
          if (had > 0) writeSync(u, before, 0, had, index * size);
          if (statSync(h).size > oldSize) ftruncateSync(u, oldSize);
        } finally {
          closeSync(u);
        }
      });
    } finally {
      closeSync(fd);
    }
  }

  /** chown_tree(): the owner change on a directory and everything below it, symlinks not followed. */
  chownTree(path: string, owners: OwnerChange): void {
    const h = this.host(path);
    if (!lstatSync(h).isDirectory()) throw new Error(`Cannot change owners under "${path}": not a directory`);
    this.chownBelow(h, owners);
  }

  private chownBelow(dir: string, owners: OwnerChange): void {
    for (const name of readdirSync(dir)) {
      const p = `${dir}/${name}`;
      const st = lstatSync(p);
      if (st.isDirectory()) this.chownBelow(p, owners);
      else this.chownOne(p, st, owners);
    }
    this.chownOne(dir, lstatSync(dir), owners);
  }

  private chownOne(p: string, st: Stats, owners: OwnerChange): void {
    const to = mapOwner(st, owners);
    if (!to) return;
    // Undone newest first: the old owner goes back, then the mode (chown clears setuid/setgid).
    if (!st.isSymbolicLink()) {
      const mode = st.mode & 0o7777;
      this.undo.push(() => chmodSync(p, mode));
    }
    this.undo.push(() => lchownSync(p, st.uid, st.gid));
    lchownSync(p, to.uid, to.gid);
  }

  /** Moves a directory (rename; across filesystems: copy with the owner change, then remove). */
  move(from: string, to: string, owners: OwnerChange | null): void {
    const a = this.host(from);
    const b = this.host(to);
    try {
      renameSync(a, b);
      this.undo.push(() => renameSync(b, a));
      if (owners) this.chownTree(to, owners);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EXDEV") throw e;
      const st = lstatSync(a);
      this.copyEntry(a, b, st, from, to, owners ?? { oldUid: -1, newUid: -1, oldGid: -1, newGid: -1 }, new Map(), "");
      this.remove(from);
    }
  }

  /** Changes one node's owner, following symlinks (fchown of an opened file). */
  chown(path: string, uid: number, gid?: number): void {
    const h = this.host(path, true);
    const st = statSync(h);
    const fd = openSync(h, C.O_RDONLY | C.O_NONBLOCK);
    try {
      fchownSync(fd, uid, gid ?? st.gid);
    } finally {
      closeSync(fd);
    }
    this.undo.push(() => {
      const u = openSync(h, C.O_RDONLY | C.O_NONBLOCK);
      try {
        fchownSync(u, st.uid, st.gid);
        fchmodSync(u, st.mode & 0o7777);
      } finally {
        closeSync(u);
      }
    });
  }

  /** Sets owner and mode of a node (following symlinks for the mode, as Ignition's chown/chmod). */
  chownChmod(path: string, uid: number, gid: number, mode: number): void {
    const h = this.host(path, true);
    const st = statSync(h);
    lchownSync(h, uid, gid);
    chmodSync(h, mode);
    this.undo.push(() => {
      lchownSync(h, st.uid, st.gid);
      chmodSync(h, st.mode & 0o7777);
    });
  }

  /** Removes a node with everything below it (a rename aside until finish()). */
  remove(path: string): void {
    const h = this.host(path);
    const t = hiddenName(h, "removed");
    renameSync(h, t);
    this.undo.push(() => renameSync(t, h));
    this.trash.push(t);
  }

  /**
   * Writes a file in place of whatever is at path (a file or symlink), creating missing parent
   * directories with parentMode and parentOwner first. The file has its final owner and mode
   * before any byte is written; the old node comes back on rollback.
   */
  replaceFile(path: string, data: Uint8Array, attrs: { mode: number; uid: number; gid: number }, parents: { mode: number; uid: number; gid: number }): void {
    const created = this.root.mkdirAll(dirname(path), parents.mode, { uid: parents.uid, gid: parents.gid });
    if (created.length > 0) this.undo.push(() => this.root.removeCreated(created));
    const h = this.host(path);
    const tmp = hiddenName(h, "new");
    const fd = openSync(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
    try {
      fchownSync(fd, attrs.uid, attrs.gid);
      fchmodSync(fd, attrs.mode);
      writeAll(fd, data);
    } catch (e) {
      closeSync(fd);
      unlinkSync(tmp);
      throw e;
    }
    closeSync(fd);
    const old = lstatSync(h, { throwIfNoEntry: false });
    if (old?.isDirectory()) {
      unlinkSync(tmp);
      throw new Error(`Cannot write "${path}": a directory is there`);
    }
    let kept: string | null = null;
    if (old) {
      kept = hiddenName(h, "old");
      linkSync(h, kept);
    }
    renameSync(tmp, h);
    this.trash.push(...(kept ? [kept] : []));
    this.undo.push(() => {
      if (kept) renameSync(kept, h);
      else unlinkSync(h);
    });
  }

  /** Stages a file to be renamed over its path at commit() (its parent must exist). */
  stage(f: StagedFile): void {
    const h = this.host(f.path);
    const tmp = hiddenName(h, "staged");
    const fd = openSync(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
    try {
      fchownSync(fd, f.uid, f.gid);
      fchmodSync(fd, f.mode);
      writeAll(fd, f.data);
    } catch (e) {
      closeSync(fd);
      unlinkSync(tmp);
      throw e;
    }
    closeSync(fd);
    if (f.times) utimesSync(tmp, f.times.atime, f.times.mtime);
    this.staged.push({ host: h, tmp });
  }

  /**
   * Makes the staged files durable (their fsyncs issued together, so a journaling filesystem
   * commits them at once), renames each into place in staging order, then syncs the
   * directories. When a rename fails, the files already replaced get their old contents back
   * and the error is thrown.
   */
  async commit(): Promise<void> {
    await Promise.all(this.staged.map((s) => fsyncPath(s.tmp)));
    const done: { host: string; kept: string | null }[] = [];
    try {
      for (const s of this.staged) {
        let kept: string | null = null;
        if (lstatSync(s.host, { throwIfNoEntry: false })) {
          kept = hiddenName(s.host, "old");
          linkSync(s.host, kept);
        }
        renameSync(s.tmp, s.host);
        done.push({ host: s.host, kept });
      }
    } catch (e) {
      for (const d of done.reverse()) {
        if (d.kept) renameSync(d.kept, d.host);
        else unlinkSync(d.host);
      }
      throw e;
    }
    for (const d of done) if (d.kept) this.trash.push(d.kept);
    for (const dir of new Set(done.map((d) => dirname(d.host)))) {
      const fd = openSync(dir, C.O_RDONLY | C.O_DIRECTORY);
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    this.staged.length = 0;
    this.undo.length = 0;
  }

  /** Takes back every change made so far (newest first); returns what could not be undone. */
  rollback(): string[] {
    const problems: string[] = [];
    for (const s of this.staged) rmSync(s.tmp, { force: true });
    this.staged.length = 0;
    for (const u of this.undo.reverse()) {
      try {
        u();
      } catch (e) {
        problems.push((e as Error).message);
      }
    }
    this.undo.length = 0;
    this.trash.length = 0;
    this.root.forgetAll();
    return problems;
  }

  /** After commit: deletes what was set aside (removed homes, replaced files). */
  finish(): void {
    for (const t of this.trash) rmSync(t, { recursive: true, force: true });
    this.trash.length = 0;
    this.root.forgetAll();
  }
}
