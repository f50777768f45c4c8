// The locks shadow's tools take on a root's account databases, taken the same way so that a
// tool (or another nexus-init) working on the same root waits or fails instead of racing us:
//   1. lckpwdf(): a write record lock (fcntl) on /etc/.pwd.lock, created 0600 if missing,
//      waited for up to 15 seconds (glibc arms a 15-second alarm around F_SETLKW; we poll).
//   2. commonio's lock per database: "/etc/passwd.<pid>" holding our pid, hard-linked to
//      "/etc/passwd.lock" (the link succeeding with a link count of 2 is the lock). A lock file
//      whose pid is not running is stale and replaced; one held by a live process fails at once,
//      as it does for the tools (they only retry it when lckpwdf is not used).
import { closeSync, fdatasyncSync, linkSync, lstatSync, openSync, readSync, unlinkSync, writeSync, constants as C } from "node:fs";
import { dirname } from "node:path";
import { tryWriteLock } from "./libc.ts";
import type { Root } from "./root.ts";

/** glibc's lckpwdf() timeout. */
export const PWD_LOCK_TIMEOUT_MS = 15_000;

/** The account locks could not be taken. */
export class AccountLockError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AccountLockError";
  }
}

/** Whether a process with this pid exists (kill(pid, 0)). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The pid text of a lock file (up to its NUL), read without following a symlink. */
function readPid(lock: string): string {
  const fd = openSync(lock, C.O_RDONLY | C.O_NOFOLLOW);
  try {
    const buf = Buffer.alloc(32);
    const n = readSync(fd, buf, 0, 31, 0);
    return buf.subarray(0, n).toString("latin1").replace(/\0.*$/s, "");
  } finally {
    closeSync(fd);
  }
}

/** commonio_lock_nowait(): the link dance for one database; throws when another process holds it. */
function lockFile(file: string, shown: string): string {
  const lock = `${file}.lock`;
  const shownLock = `${shown}.lock`;
  const tmp = `${file}.${process.pid}`;
  // Never through a symlink someone left there: that could lead out of the root.
  try {
    unlinkSync(tmp);
  } catch {
    // not there
  }
  const fd = openSync(tmp, C.O_CREAT | C.O_EXCL | C.O_WRONLY | C.O_NOFOLLOW, 0o600);
  try {
    const pid = Buffer.from(`${process.pid}\0`);
    writeSync(fd, pid);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(tmp, lock);
        if (lstatSync(tmp).nlink !== 2) throw new AccountLockError(`Cannot lock ${shownLock}: lock file already used`);
        return lock;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw e;
      }
      let holder: string;
      try {
        holder = readPid(lock);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") continue;
        throw e;
      }
      const pid = Number(holder);
      if (!/^\d+$/.test(holder) || pid <= 0) throw new AccountLockError(`Cannot lock ${shownLock}: existing lock file without a valid pid`);
      if (alive(pid)) throw new AccountLockError(`Cannot lock ${shownLock}: it is held by process ${pid}`);
      unlinkSync(lock);
    }
    throw new AccountLockError(`Cannot lock ${shownLock}`);
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
}

/** The held locks of one root. */
export class AccountLocks {
  private constructor(
    private readonly fd: number,
    private readonly lockPath: string,
    /** Whether /etc/.pwd.lock existed before we locked. */
    readonly pwdLockExisted: boolean,
    private readonly files: string[],
  ) {}

  /**
   * Takes /etc/.pwd.lock (waiting up to timeoutMs) and the .lock file of each database path
   * (root paths such as "/etc/passwd"). Throws AccountLockError when another process holds them.
   */
  static async acquire(root: Root, databases: readonly string[], opts: { timeoutMs?: number; pollMs?: number } = {}): Promise<AccountLocks> {
    // Followed inside the root: a symlink there never leads to a host file.
    const lockPath = root.resolve("/etc/.pwd.lock", true);
    let existed = true;
    try {
      lstatSync(lockPath);
    } catch {
      existed = false;
    }
    let fd: number;
    try {
      fd = openSync(lockPath, C.O_WRONLY | C.O_CREAT, 0o600);
    } catch (e) {
      throw new AccountLockError(`Cannot lock the account databases: cannot open ${root.toRootPath(lockPath)}: ${(e as Error).message}`);
    }
    const deadline = performance.now() + (opts.timeoutMs ?? PWD_LOCK_TIMEOUT_MS);
    while (!tryWriteLock(fd)) {
      if (performance.now() >= deadline) {
        closeSync(fd);
        throw new AccountLockError(`Cannot lock the account databases: ${root.toRootPath(lockPath)} is held by another process (waited ${Math.round((opts.timeoutMs ?? PWD_LOCK_TIMEOUT_MS) / 1000)} s)`);
      }
      await Bun.sleep(opts.pollMs ?? 50);
    }
    const held: string[] = [];
    const etc = root.resolve("/etc", true);
    try {
      for (const db of databases) {
        const host = root.resolve(db);
        if (dirname(host) !== etc) throw new AccountLockError(`Cannot lock ${db}: it is not in /etc`);
        held.push(lockFile(host, db));
      }
    } catch (e) {
      for (const l of held.reverse()) unlinkSync(l);
      closeSync(fd);
      throw e instanceof AccountLockError ? e : new AccountLockError(`Cannot lock the account databases: ${(e as Error).message}`);
    }
    return new AccountLocks(fd, lockPath, existed, held);
  }

  /**
   * Releases every lock (the .lock files in reverse order, then /etc/.pwd.lock). With
   * removeLockFile, a /etc/.pwd.lock this call created is removed again (nothing was changed
   * that a tool would have locked for).
   */
  release(removeLockFile = false): void {
    for (const l of [...this.files].reverse()) {
      try {
        unlinkSync(l);
      } catch {
        // already gone
      }
    }
    closeSync(this.fd);
    if (removeLockFile && !this.pwdLockExisted) {
      try {
        unlinkSync(this.lockPath);
      } catch {
        // already gone
      }
    }
  }
}
