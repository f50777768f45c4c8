// Root: every path a config names, joined and resolved *inside* the target root. Symlinks that
// already exist in the root are followed as the booted system would see them: an absolute link
// `/etc -> /usr/etc` leads to `<root>/usr/etc`, never to the host's /usr/etc, and `..` stops at
// the root. Writes are atomic: a temp file in the target directory gets its final owner and mode
// before any data, then is renamed over the target; a failure leaves nothing behind.
import {
  open as openCb,
  closeSync,
  renameSync,
  chmodSync,
  fchmodSync,
  fchownSync,
  ftruncateSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
  constants as C,
  type Stats,
} from "node:fs";
import { link, symlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { splitPath } from "./paths.ts";

/** Numbers temp files of this process. */
let tempCounter = 0;

/** The kernel's limit on symlinks followed while resolving one path (MAXSYMLINKS). */
const MAX_SYMLINKS = 40;

/** Owner and permission bits for a node; special bits (0o7000) included. */
export interface NodeAttrs {
  mode: number;
  uid: number;
  gid: number;
}

/** Where streamed bytes of one atomic write go. */
export interface WriteSink {
  write(chunk: Uint8Array): void;
  /** Bytes written so far. */
  readonly size: number;
  /** Discards everything after the first n bytes (a fetch retrying from its start). */
  truncate(n: number): void;
}

/** A path could not be resolved inside the root (a symlink loop). */
export class SymlinkLoopError extends Error {
  constructor(readonly path: string) {
    super(`Cannot resolve path "${path}": too many levels of symbolic links`);
    this.name = "SymlinkLoopError";
  }
}

/** The target root directory and every file operation inside it. */
export class Root {
  /**
   * Host paths known to be real directories (not symlinks), so resolving many paths under the
   * same parents does not lstat them again. Every change made through this object keeps it
   * true; after anything else changes the tree (a shadow tool), call forgetAll().
   */
  private readonly dirs = new Set<string>();
  /**
   * Host paths known not to exist, met while resolving (a config's new directories are looked
   * up once per node below them otherwise). Creating anything through this object removes its
   * path; forgetAll() empties it.
   */
  private readonly absent = new Set<string>();
  /** this.dir as the prefix of host paths ("" for the root "/"). */
  private readonly prefix: string;
  /** Directories already cleared of temp files an interrupted run left (see sweepStaleTemps). */
  private swept: Set<string> | null = null;

  private constructor(
    /** Absolute, symlink-free host path of the root directory. */
    readonly dir: string,
  ) {
    this.prefix = dir === "/" ? "" : dir;
  }

  /**
   * From now on, before writing into a directory, removes the temp files of atomic writes that
   * another process left there (an interrupted run killed between creating and renaming one).
   */
  sweepStaleTemps(): void {
    this.swept ??= new Set();
  }

  /** Removes other processes' temp files from a host directory, once per directory. */
  private sweepDirectory(dir: string): void {
    if (!this.swept || this.swept.has(dir)) return;
    this.swept.add(dir);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const m = TEMP_NAME.exec(name);
      if (m && Number(m[1]) !== process.pid) rmSync(join(dir, name), { force: true });
    }
  }

  /** Drops every cached directory and absence (after another program changed the root). */
  forgetAll(): void {
    this.dirs.clear();
    this.absent.clear();
  }

  /** Notes that host now exists (created through this object). */
  private created(host: string): void {
    this.absent.delete(host);
  }

  /** The host path of clean root path components. */
  private hostOf(parts: readonly string[]): string {
    return parts.length === 0 ? this.dir : `${this.prefix}/${parts.join("/")}`;
  }

  /** Drops cached directories at and below a host path that is about to change. */
  private forget(host: string): void {
    if (this.dirs.size === 0) return;
    const below = host + "/";
    for (const d of this.dirs) if (d === host || d.startsWith(below)) this.dirs.delete(d);
  }

  /** Opens an existing directory as a root. Throws when it is not a directory. */
  static open(dir: string): Root {
    let real: string;
    try {
      real = realpathSync(dir);
    } catch (e) {
      throw new Error(`Cannot use root "${dir}": ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such directory" : (e as Error).message}`, { cause: e });
    }
    if (!statSync(real).isDirectory()) throw new Error(`Cannot use root "${dir}": not a directory`);
    return new Root(real);
  }

  /**
   * The host path of a root path, with every symlink on the way resolved inside the root. The
   * last component is followed only with followLast (node paths never follow it, as Ignition).
   * The result names only real directories up to its last component, so operations on it
   * cannot leave the root.
   */
  resolve(path: string, followLast = false): string {
    return this.hostOf(this.resolveParts(path, followLast));
  }

  /** Like resolve, but as a clean absolute path inside the root ("/usr/etc/x"). */
  resolveInRoot(path: string, followLast = false): string {
    return "/" + this.resolveParts(path, followLast).join("/");
  }

  private resolveParts(path: string, followLast: boolean): string[] {
    return this.resolveFull(path, followLast).parts;
  }

  /**
   * resolveParts, and whether some directory on the way is missing (then nothing exists at the
   * result).
   */
  private resolveFull(path: string, followLast: boolean): { parts: string[]; underMissing: boolean } {
    const pending = splitPath(path);
    let parts: string[] = [];
    let links = 0;
    let missing = false;
    while (pending.length > 0) {
      const c = pending.shift()!;
      if (c === "..") {
        parts.pop();
        // Back up from a missing directory: what follows must be looked up again, it may be
        // an existing symlink.
        missing = false;
        continue;
      }
      const isLast = pending.length === 0;
      if (missing || (isLast && !followLast)) {
        parts.push(c);
        continue;
      }
      const host = `${this.prefix}/${parts.length === 0 ? c : `${parts.join("/")}/${c}`}`;
      if (this.dirs.has(host)) {
        parts.push(c);
        continue;
      }
      const st = this.absent.has(host) ? undefined : lstatNoDir(host);
      if (!st) {
        // Nothing below a missing component can be a symlink: the rest is lexical.
        this.absent.add(host);
        missing = true;
        parts.push(c);
        continue;
      }
      if (st.isSymbolicLink()) {
        if (++links > MAX_SYMLINKS) throw new SymlinkLoopError(path);
        const target = readlinkSync(host);
        if (target.startsWith("/")) parts = [];
        pending.unshift(...splitPath(target));
        continue;
      }
      if (st.isDirectory()) this.dirs.add(host);
      parts.push(c);
    }
    return { parts, underMissing: missing };
  }

  /** The root path of a host path inside the root ("/etc/x"), for messages. */
  toRootPath(host: string): string {
    if (host === this.dir) return "/";
    return host.startsWith(this.dir + "/") ? host.slice(this.dir.length) : host;
  }

  /** lstat of the node at path (its last component not followed), or null when absent. */
  lstat(path: string): Stats | null {
    const r = this.resolveFull(path, false);
    // Below a directory that does not exist, nothing does: no need to ask the kernel.
    if (r.underMissing) return null;
    return lstatNoDir(this.hostOf(r.parts)) ?? null;
  }

  /** stat following symlinks inside the root, or null when absent or dangling. */
  stat(path: string): Stats | null {
    return lstatNoDir(this.resolve(path, true)) ?? null;
  }

  /** The bytes of a file (following symlinks inside the root), or null when absent. */
  readFile(path: string): Buffer | null {
    try {
      return readFileSync(this.resolve(path, true));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw e;
    }
  }

  /** The target text of the symlink at path. */
  readlink(path: string): string {
    return readlinkSync(this.resolve(path));
  }

  /** Names in a directory (following symlinks inside the root); [] when absent. */
  readdir(path: string): string[] {
    try {
      return readdirSync(this.resolve(path, true));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR") return [];
      throw e;
    }
  }

  /**
   * Creates the directory at path and its missing parents with exactly `mode` (no umask) and,
   * when given, the owner. Existing directories are left alone. Returns the host paths it
   * created, outermost first, so a failed operation can take them back (removeCreated).
   */
  mkdirAll(path: string, mode = 0o755, owner?: { uid: number; gid: number }): string[] {
    const parts = this.resolveParts(path, true);
    const created: string[] = [];
    let host = this.prefix;
    for (const c of parts) {
      host = `${host}/${c}`;
      if (this.dirs.has(host)) continue;
      const st = this.absent.has(host) ? undefined : lstatSync(host, { throwIfNoEntry: false });
      if (st) {
        if (!st.isDirectory()) {
          throw new Error(`Cannot create directory "${this.toRootPath(host)}": a non-directory exists there`);
        }
        this.dirs.add(host);
        continue;
      }
      try {
        mkdirSync(host, mode);
      } catch (e) {
        // Another write of the same batch created it first: fine if it is a directory.
        if ((e as NodeJS.ErrnoException).code === "EEXIST") {
          this.created(host);
          if (lstatSync(host).isDirectory()) continue;
        }
        this.removeCreated(created);
        throw e;
      }
      this.created(host);
      created.push(host);
      this.dirs.add(host);
      try {
        chmodSync(host, mode);
        if (owner) lchownSync(host, owner.uid, owner.gid);
      } catch (e) {
        this.removeCreated(created);
        throw e;
      }
    }
    return created;
  }

  /** Removes directories mkdirAll created (innermost first) if they are still empty. */
  removeCreated(created: readonly string[]): void {
    for (const d of [...created].reverse()) {
      this.forget(d);
      try {
        rmdirSync(d);
      } catch {
        // Not empty or already gone: leave it.
      }
    }
  }

  /** Removes the node at path and everything below it; the last component is not followed. */
  removeAll(path: string): void {
    const host = this.resolve(path);
    if (host === this.dir) throw new Error(`Cannot remove "${path}": it is the root itself`);
    this.forget(host);
    rmSync(host, { recursive: true, force: true });
  }

  /** Renames a node inside the root (neither last component followed), replacing what is at `to`. */
  rename(from: string, to: string): void {
    const a = this.resolve(from);
    const b = this.resolve(to);
    this.forget(a);
    this.forget(b);
    renameSync(a, b);
  }

  /** Removes one non-directory node at path (not following it). */
  unlink(path: string): void {
    const host = this.resolve(path);
    this.forget(host);
    unlinkSync(host);
  }

  /** Sets the mode of the node at path (following symlinks inside the root). */
  chmod(path: string, mode: number): void {
    chmodSync(this.resolve(path, true), mode);
  }

  /** Sets the owner of the node at path itself (a symlink is not followed). */
  lchown(path: string, uid: number, gid: number): void {
    lchownSync(this.resolve(path), uid, gid);
  }

  /** Creates a symlink at path with the target text verbatim. The parent must exist. */
  async symlink(target: string, path: string): Promise<void> {
    const host = this.resolve(path);
    await symlink(target, host);
    this.created(host);
  }

  /** Creates a hard link at path to the node at targetPath (a root path, not followed). */
  async link(targetPath: string, path: string): Promise<void> {
    const host = this.resolve(path);
    await link(this.resolve(targetPath), host);
    this.created(host);
  }

  /**
   * Runs `fn` once the directory `dir` exists, creating it and its missing parents as mkdirAll
   * does (mode, owner); when fn fails, the directories created for it are removed again (those
   * still empty), so a failed write leaves no trace.
   */
  async inDirectory<T>(dir: string, fn: () => Promise<T> | T, mode = 0o755, owner?: { uid: number; gid: number }): Promise<T> {
    const created = this.mkdirAll(dir, mode, owner);
    try {
      return await fn();
    } catch (e) {
      this.removeCreated(created);
      throw e;
    }
  }

  /** writeFile, with the file's missing parent directories created first (see inDirectory). */
  writeFileWithParents(
    path: string,
    attrs: NodeAttrs,
    fill: (sink: WriteSink) => Promise<void> | void,
    opts: { parentMode?: number; parentOwner?: { uid: number; gid: number }; replaceDirectory?: boolean } = {},
  ): Promise<void> {
    return this.inDirectory(dirname(path), () => this.writeFile(path, attrs, fill, opts), opts.parentMode, opts.parentOwner);
  }

  /**
   * Writes a file atomically. A temp file is created next to the target, given its final owner
   * and mode, then filled by `fill` and renamed over the file or symlink at path (with
   * replaceDirectory, a directory there is removed too, once the data is complete). On any
   * failure the temp file is removed and the target is untouched. The parent must exist.
   */
  async writeFile(
    path: string,
    attrs: NodeAttrs,
    fill: (sink: WriteSink) => Promise<void> | void,
    opts: { replaceDirectory?: boolean } = {},
  ): Promise<void> {
    const host = this.resolve(path);
    this.sweepDirectory(dirname(host));
    // Creating the inode is the slow step on some filesystems: done on the thread pool so that
    // independent writes (nodes of one depth) overlap; the rest is quick and synchronous.
    const { tmp, fd } = await openTemp(host);
    let closed = false;
    try {
      // Owner before mode: chown clears setuid/setgid bits.
      fchownSync(fd, attrs.uid, attrs.gid);
      fchmodSync(fd, attrs.mode);
      let size = 0;
      let truncated = false;
      await fill({
        write(chunk) {
          let off = 0;
          while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off, size + off);
          size += chunk.length;
        },
        get size() {
          return size;
        },
        truncate(n) {
          size = Math.min(size, n);
          truncated = true;
        },
      });
      // A fill that started over may have written past its final size.
      if (truncated) ftruncateSync(fd, size);
      // Writing without CAP_FSETID would clear special bits; set them again to be sure.
      if (attrs.mode & 0o7000) fchmodSync(fd, attrs.mode);
      closeSync(fd);
      closed = true;
      if (opts.replaceDirectory && lstatSync(host, { throwIfNoEntry: false })?.isDirectory()) {
        this.forget(host);
        rmSync(host, { recursive: true, force: true });
      }
      renameSync(tmp, host);
      this.created(host);
    } catch (e) {
      if (!closed) closeSync(fd);
      rmSync(tmp, { force: true });
      throw e;
    }
  }
}

/** The name of a temp file openTemp makes: ".<name>.nexus-<pid>-<counter>". */
const TEMP_NAME = /^\..*\.nexus-(\d+)-\d+$/s;

/**
 * Creates a new temp file next to host, exclusively (never following a symlink). Names carry
 * the pid and a counter; one left behind by a crash of an earlier run is skipped.
 */
async function openTemp(host: string): Promise<{ tmp: string; fd: number }> {
  const prefix = join(dirname(host), `.${basename(host).slice(0, 200)}.nexus-${process.pid}-`);
  for (let attempt = 0; ; attempt++) {
    const tmp = prefix + ++tempCounter;
    try {
      return { tmp, fd: await openFd(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" || attempt >= 100) throw e;
    }
  }
}

/** open(2) on the thread pool, giving the plain descriptor (no FileHandle to close). */
function openFd(path: string, flags: number, mode: number): Promise<number> {
  return new Promise((resolve, reject) => openCb(path, flags, mode, (err, fd) => (err ? reject(err) : resolve(fd))));
}

/** lstat that reports "not there" for ENOENT and for a path running through a non-directory. */
function lstatNoDir(host: string): Stats | undefined {
  try {
    return lstatSync(host, { throwIfNoEntry: false });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOTDIR") return undefined;
    throw e;
  }
}
