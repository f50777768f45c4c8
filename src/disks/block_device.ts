// Reading and writing block devices (and disk image files) directly: geometry from sysfs,
// the partition table through gpt.ts, what the kernel currently knows about partitions,
// and whether a device is in use. No processes are spawned here.
import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readFileSync, readlinkSync, readdirSync, readSync, realpathSync, statSync, writeSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { decodeDiskTable, type DiskTable, type DiskWrite } from "./gpt.ts";

/** Where sysfs and procfs are (overridable for tests of the parsing code). */
export interface HostRoots {
  sys: string;
  proc: string;
}
/** The real sysfs and procfs. */
export const HOST_ROOTS: HostRoots = { sys: "/sys", proc: "/proc" };

/** A disk (or image file) as the partitioner sees it. */
export interface BlockDevice {
  /** The path given, resolved through symlinks. */
  path: string;
  /** The kernel's name (`loop0`, `sda`), or undefined for a regular file. */
  name: string | undefined;
  /** sysfs directory of the device, or undefined for a regular file. */
  sysDir: string | undefined;
  isBlock: boolean;
  sectorSize: number;
  /** Size in logical sectors. */
  totalSectors: number;
}

function readNumber(file: string): number {
  return Number(readFileSync(file, "utf8").trim());
}

/** The sysfs directory of the block device with this device number. */
export function findSysDir(rdev: number, roots: HostRoots = HOST_ROOTS): string {
  const major = Number((BigInt(rdev) >> 8n) & 0xfffn) | Number((BigInt(rdev) >> 32n) & ~0xfffn);
  const minor = Number(BigInt(rdev) & 0xffn) | Number((BigInt(rdev) >> 12n) & ~0xffn);
  const link = join(roots.sys, "dev/block", `${major}:${minor}`);
  return resolve(dirname(link), readlinkSync(link));
}

/** Inspects a device path: resolves it and reads its size and logical sector size. */
export function inspectBlockDevice(path: string, roots: HostRoots = HOST_ROOTS): BlockDevice {
  const real = realpathSync(path);
  const st = statSync(real);
  if (!st.isBlockDevice()) {
    if (!st.isFile()) throw new Error(`Cannot use "${path}" as a disk: not a block device or regular file`);
    return { path: real, name: undefined, sysDir: undefined, isBlock: false, sectorSize: 512, totalSectors: Math.floor(st.size / 512) };
  }
  const sysDir = findSysDir(st.rdev, roots);
  const queue = existsSync(join(sysDir, "queue")) ? join(sysDir, "queue") : join(dirname(sysDir), "queue");
  const sectorSize = readNumber(join(queue, "logical_block_size"));
  const size512 = readNumber(join(sysDir, "size"));
  return {
    path: real,
    name: basename(sysDir),
    sysDir,
    isBlock: true,
    sectorSize,
    totalSectors: Math.floor((size512 * 512) / sectorSize),
  };
}

/** Reads the partition table of a device. */
export function readDiskTable(dev: BlockDevice): DiskTable {
  const fd = openSync(dev.path, "r");
  try {
    return decodeDiskTable(
      (offset, length) => {
        const buf = new Uint8Array(length);
        let done = 0;
        while (done < length) {
          const n = readSync(fd, buf, done, length - done, offset + done);
          if (n === 0) break;
          done += n;
        }
        return buf;
      },
      dev.sectorSize,
      dev.totalSectors,
    );
  } finally {
    closeSync(fd);
  }
}

/** Applies writes to a device and flushes them to stable storage. */
export function writeDisk(dev: BlockDevice, writes: readonly DiskWrite[]): void {
  const fd = openSync(dev.path, "r+");
  try {
    if (!dev.isBlock && fstatSync(fd).size < dev.totalSectors * dev.sectorSize) {
      throw new Error(`Cannot write to "${dev.path}": the file shrank`);
    }
    for (const w of writes) {
      let done = 0;
      while (done < w.bytes.length) done += writeSync(fd, w.bytes, done, w.bytes.length - done, w.offset + done);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Flushes what was written to a device (by this process or a tool it ran) to stable storage. */
export function flushDevice(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A partition as the kernel knows it, in logical sectors of the disk. */
export interface KernelPartition {
  number: number;
  name: string;
  start: number;
  size: number;
}

/** The partitions the kernel currently has for a disk (from sysfs). */
export function readKernelPartitions(dev: BlockDevice): Map<number, KernelPartition> {
  const out = new Map<number, KernelPartition>();
  if (!dev.sysDir) return out;
  const per = dev.sectorSize / 512;
  for (const entry of readdirSync(dev.sysDir)) {
    const dir = join(dev.sysDir, entry);
    if (!existsSync(join(dir, "partition"))) continue;
    try {
      const number = readNumber(join(dir, "partition"));
      out.set(number, { number, name: entry, start: readNumber(join(dir, "start")) / per, size: readNumber(join(dir, "size")) / per });
    } catch (e) {
      // udevd rereads a partition table when a writer closes the disk: the kernel drops every
      // partition and adds them again, so one listed a moment ago can vanish while it is read.
      // It is not there now; callers that wait for partitions look again. A file of a partition
      // removed after it was opened reads as ENODEV rather than ENOENT.
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENODEV") throw e;
    }
  }
  return out;
}

/** Sources of current mounts and active swap, resolved to real paths. */
function activeSources(roots: HostRoots): Set<string> {
  const out = new Set<string>();
  const add = (src: string) => {
    if (!src.startsWith("/")) return;
    try {
      out.add(realpathSync(src.replace(/\\040/g, " ")));
    } catch {
      // A mount source that no longer exists cannot be one of our devices.
    }
  };
  for (const line of readFileSync(join(roots.proc, "self/mounts"), "utf8").split("\n")) add(line.split(" ")[0] ?? "");
  const swaps = join(roots.proc, "swaps");
  if (existsSync(swaps)) for (const line of readFileSync(swaps, "utf8").split("\n").slice(1)) add(line.split(/\s+/)[0] ?? "");
  return out;
}

function isHeld(sysDir: string): boolean {
  const holders = join(sysDir, "holders");
  return existsSync(holders) && readdirSync(holders).length > 0;
}

/** Which of a disk's partitions are mounted, swapped on or held (md, dm), and the disk itself. */
export function readDeviceUsage(dev: BlockDevice, roots: HostRoots = HOST_ROOTS): { diskActive: boolean; activePartitions: number[] } {
  if (!dev.sysDir || !dev.name) return { diskActive: false, activePartitions: [] };
  const sources = activeSources(roots);
  const diskActive = sources.has(dev.path) || isHeld(dev.sysDir);
  const activePartitions: number[] = [];
  for (const p of readKernelPartitions(dev).values()) {
    const node = join("/dev", p.name);
    if (sources.has(node) || isHeld(join(dev.sysDir, p.name))) activePartitions.push(p.number);
  }
  return { diskActive, activePartitions: activePartitions.sort((a, b) => a - b) };
}
