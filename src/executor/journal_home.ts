// Where the journal lives (see journal.ts for why there). A home stores the journal's whole
// text: it appends what is new when the file it holds is the prefix already written, and
// rewrites the file when it is not (a root filesystem the disks stage made anew has none).
import { constants as C, lstatSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { System } from "../system/system.ts";

/** The journal's file name in the top directory of the target's root filesystem. */
export const JOURNAL_NAME = ".nexus-init-journal";

/** A place that keeps the journal durably. */
export interface JournalHome {
  /** Where the journal is, for messages, quoted ("/sysroot/.nexus-init-journal"). */
  describe(): string;
  /** The journal's bytes; null when there is none; "unavailable" when the home cannot be reached yet. */
  read(): Promise<Uint8Array | null | "unavailable">;
  /**
   * Makes the stored journal equal `text`, of which the first `prefix` bytes were stored
   * before; with `sync`, durably. False when the home cannot be reached yet.
   */
  store(text: Uint8Array, prefix: number, sync: boolean): Promise<boolean>;
  /** Removes the journal (durably). */
  remove(): Promise<void>;
}

/** fsync of a directory, so a new or removed entry in it survives a power cut. */
async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, C.O_RDONLY | C.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The journal as a file in a directory that is always there (a root directory, a mounted root). */
export class DirectoryHome implements JournalHome {
  readonly path: string;
  constructor(readonly dir: string, private readonly shown = `"${join(dir, JOURNAL_NAME)}"`) {
    this.path = join(dir, JOURNAL_NAME);
  }

  describe(): string {
    return this.shown;
  }

  async read(): Promise<Uint8Array | null> {
    let fh;
    try {
      fh = await open(this.path, C.O_RDONLY | C.O_NOFOLLOW);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw new Error(`Cannot read the journal ${this.shown}: ${(e as Error).message}`, { cause: e });
    }
    try {
      return new Uint8Array(await fh.readFile());
    } finally {
      await fh.close();
    }
  }

  async store(text: Uint8Array, prefix: number, sync: boolean): Promise<boolean> {
    const existed = lstatSync(this.path, { throwIfNoEntry: false }) !== undefined;
    const fh = await open(this.path, C.O_RDWR | C.O_CREAT | C.O_NOFOLLOW, 0o600);
    let appended = false;
    try {
      let size = (await fh.stat()).size;
      // Another process of this boot may have stored more than this one knows: what the file
      // holds is fine as long as it is a prefix of the text.
      if (size !== prefix && size <= text.length) {
        const head = new Uint8Array(size);
        await fh.read(head, 0, size, 0);
        if (Buffer.compare(head, text.subarray(0, size)) !== 0) size = -1;
      }
      if (size >= 0 && size <= text.length) {
        if (text.length > size) await fh.write(text, size, text.length - size, size);
        if (sync) await fh.sync();
        appended = true;
      }
    } finally {
      await fh.close();
    }
    if (!appended) {
      await this.replace(text);
      return true;
    }
    if (!existed) await syncDirectory(this.dir);
    return true;
  }

  /**
   * Replaces the file with text atomically (a torn record cut off, a finished journal of an
   * earlier run replaced): a power cut leaves the old file or the new one, never a mix.
   */
  private async replace(text: Uint8Array): Promise<void> {
    const tmp = `${this.path}.new`;
    const fh = await open(tmp, C.O_WRONLY | C.O_CREAT | C.O_TRUNC | C.O_NOFOLLOW, 0o600);
    try {
      await fh.write(text, 0, text.length, 0);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path);
    await syncDirectory(this.dir);
  }

  async remove(): Promise<void> {
    let removed = false;
    for (const p of [this.path, `${this.path}.new`]) {
      try {
        await unlink(p);
        removed = true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      }
    }
    if (removed) await syncDirectory(this.dir);
  }
}

/** True when a block device is mounted anywhere in this mount namespace. */
export function isDeviceMounted(device: string, mountinfo = "/proc/self/mountinfo"): boolean {
  const st = statSync(device, { throwIfNoEntry: false });
  if (!st?.isBlockDevice()) return false;
  const id = `${Math.floor(st.rdev / 256) & 0xfff}:${(st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00)}`;
  return readFileSync(mountinfo, "utf8")
    .split("\n")
    .some((line) => line.split(" ")[2] === id);
}

/** True when dir is the root of a mounted filesystem (a different device than its parent). */
export function isMountPoint(dir: string): boolean {
  if (dir === "/") return true;
  const here = statSync(dir, { throwIfNoEntry: false });
  const parent = statSync(dirname(dir), { throwIfNoEntry: false });
  return !!here && !!parent && here.dev !== parent.dev;
}

/**
 * The journal at boot. Once the target root is mounted (at /sysroot, before the mount stage)
 * it is a file in the root's top directory. Before that (kargs, disks) the root filesystem
 * is found by its spec (nexus.root=, else LABEL=root) and mounted privately under the run
 * directory for each read or write, then unmounted again, so the disks stage finds it unused.
 * When no filesystem matches yet (the config creates the root), the home is unavailable and
 * records wait in the run directory until it exists.
 */
export class BootHome implements JournalHome {
  constructor(
    private readonly root: string,
    private readonly spec: string,
    private readonly system: System,
    private readonly mountDir: string,
  ) {}

  describe(): string {
    return isMountPoint(this.root) ? `"${join(this.root, JOURNAL_NAME)}"` : `"/${JOURNAL_NAME}" on the root filesystem "${this.spec}"`;
  }

  /**
   * The device the spec names now, or null. A device mounted already is not this boot's
   * unmounted root (`run` on a running system): it is never mounted a second time.
   */
  private async device(): Promise<string | null> {
    let device: string | null;
    if (this.spec.startsWith("/")) device = lstatSync(this.spec, { throwIfNoEntry: false }) ? this.spec : null;
    else {
      const r = await this.system.run("blkid", ["-l", "-o", "device", "-t", this.spec]);
      device = r.code === 0 && r.stdout.trim() !== "" ? r.stdout.trim() : null;
    }
    return device && !isDeviceMounted(device) ? device : null;
  }

  /** Runs fn with the home as a directory; null when the root filesystem cannot be reached yet. */
  private async withHome<T>(fn: (home: DirectoryHome) => Promise<T>): Promise<T | null> {
    if (isMountPoint(this.root)) return fn(new DirectoryHome(this.root));
    const device = await this.device();
    if (!device) return null;
    const type = (await this.system.run("blkid", ["-p", "-s", "TYPE", "-o", "value", device])).stdout.trim();
    if (type === "" || type === "swap" || type === "crypto_LUKS" || type === "linux_raid_member") return null;
    mkdirSync(this.mountDir, { recursive: true, mode: 0o700 });
    const m = await this.system.run("mount", ["-o", "rw", device, this.mountDir]);
    if (m.code !== 0) throw new Error(`Cannot mount the root filesystem "${device}" to keep the journal: ${m.stderr.trim()}`);
    try {
      return await fn(new DirectoryHome(this.mountDir, this.describe()));
    } finally {
      const u = await this.system.run("umount", [this.mountDir]);
      if (u.code !== 0) throw new Error(`Cannot unmount the root filesystem "${device}" after writing the journal: ${u.stderr.trim()}`);
    }
  }

  async read(): Promise<Uint8Array | null | "unavailable"> {
    const r = await this.withHome(async (h) => ({ bytes: await h.read() }));
    return r === null ? "unavailable" : r.bytes;
  }

  async store(text: Uint8Array, prefix: number, sync: boolean): Promise<boolean> {
    return (await this.withHome((h) => h.store(text, prefix, sync))) ?? false;
  }

  async remove(): Promise<void> {
    await this.withHome((h) => h.remove());
  }
}

/**
 * The spec of the root filesystem at boot, as the initramfs mounts it: nexus.root=, else a
 * root= naming a device (dracut), else LABEL=root. "live" (a tmpfs root) names no device.
 */
export function bootRootSpec(args: readonly (readonly [string, string | null])[]): string {
  const last = (name: string) => args.filter(([n]) => n === name).map(([, v]) => v ?? "").pop();
  const nexus = last("nexus.root");
  if (nexus) return nexus;
  const root = last("root");
  if (root && /^(\/|LABEL=|UUID=|PARTLABEL=|PARTUUID=)/.test(root)) return root;
  return "LABEL=root";
}
