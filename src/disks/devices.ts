// Finding the block devices a config names. Paths that exist are resolved through their
// symlinks. Without udev (a bare initramfs, a container, the test host) the
// /dev/disk/by-partlabel and by-partuuid links are never created, so those are resolved by
// reading every disk's GPT; by-label and by-uuid go through a filesystem lookup the caller
// supplies (blkid). Waiting is a bounded poll for exactly the nodes needed, never a sleep.
import { existsSync, readdirSync, realpathSync, statSync } from "node:fs";
import { join } from "node:path";
import { HOST_ROOTS, inspectBlockDevice, readDiskTable, type HostRoots } from "./block_device.ts";
import { canonicalizeGuid } from "./gpt.ts";
import { formatPartitionPath } from "./partitions.ts";
import { pollUntil } from "../system/poll.ts";
import type { System } from "../system/system.ts";

/** Looks a filesystem label or UUID up among all block devices (e.g. with blkid). */
export type FsLookup = (tag: "LABEL" | "UUID", value: string) => Promise<string | undefined>;

/** Looks filesystem labels and UUIDs up with blkid, bypassing its cache. */
export function blkidLookup(system: System): FsLookup {
  return async (tag, value) => {
    const r = await system.run("blkid", ["-c", "/dev/null", "-o", "device", "-t", `${tag}=${value}`]);
    return r.code === 0 ? r.stdout.split("\n").find((l) => l.trim() !== "")?.trim() : undefined;
  };
}

/** Decodes udev's escaping of by-label names (`\x2f` for "/"). */
export function unescapeUdev(name: string): string {
  return name.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** Whole disks known to the kernel whose GPT could name a partition. */
function listDisks(roots: HostRoots): string[] {
  const dir = join(roots.sys, "block");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => !/^(ram|zram|md|dm-|sr)/.test(n))
    .map((n) => `/dev/${n}`)
    .filter((p) => existsSync(p));
}

/** Finds the partition with this GPT label or unique GUID by reading every disk's table. */
export function findGptPartition(by: "label" | "guid", value: string, roots: HostRoots = HOST_ROOTS): string | undefined {
  const want = by === "guid" ? canonicalizeGuid(value) : value;
  for (const disk of listDisks(roots)) {
    try {
      const dev = inspectBlockDevice(disk, roots);
      if (dev.totalSectors === 0) continue;
      const t = readDiskTable(dev);
      if (t.kind !== "gpt") continue;
      const hit = t.table.partitions.find((p) => (by === "label" ? p.label === want : p.guid === want));
      if (hit) return formatPartitionPath(dev.path, hit.number);
    } catch {
      // Unreadable disks (no media, permissions) cannot hold the partition we look for.
    }
  }
  return undefined;
}

function isBlockNode(path: string): boolean {
  try {
    return statSync(path).isBlockDevice();
  } catch {
    return false;
  }
}

/**
 * Resolves a configured device path to the block device node it means right now, or
 * undefined if it does not exist (yet).
 */
export async function resolveDevice(path: string, lookup: FsLookup, roots: HostRoots = HOST_ROOTS): Promise<string | undefined> {
  if (existsSync(path)) {
    const real = realpathSync(path);
    return isBlockNode(real) || statSync(real).isFile() ? real : undefined;
  }
  const m = /^\/dev\/disk\/by-(partlabel|partuuid|label|uuid)\/(.+)$/.exec(path);
  if (!m) return undefined;
  const value = unescapeUdev(m[2]!);
  let found: string | undefined;
  switch (m[1]) {
    case "partlabel":
      found = findGptPartition("label", value, roots);
      break;
    case "partuuid":
      found = findGptPartition("guid", value, roots);
      break;
    case "label":
      found = await lookup("LABEL", value);
      break;
    case "uuid":
      found = await lookup("UUID", value);
      break;
  }
  return found && isBlockNode(found) ? realpathSync(found) : undefined;
}

/** How long to wait for devices, overridable with NEXUS_DEVICE_TIMEOUT_MS. */
export function readDeviceTimeoutMs(env: Record<string, string | undefined>): number {
  const v = Number(env.NEXUS_DEVICE_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : 90_000;
}

/** Polls until every path resolves; returns the resolved nodes or throws naming the missing ones. */
export async function waitForDevices(
  paths: readonly string[],
  lookup: FsLookup,
  timeoutMs: number,
  roots: HostRoots = HOST_ROOTS,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const missing = () => paths.filter((p) => !out.has(p));
  const all = await pollUntil(
    async () => {
      for (const p of missing()) {
        const r = await resolveDevice(p, lookup, roots);
        if (r) out.set(p, r);
      }
      return missing().length === 0 ? out : undefined;
    },
    { timeoutMs, firstMs: 5, maxMs: 200 },
  );
  if (!all) throw new Error(`Cannot find device ${missing().map((m) => `"${m}"`).join(", ")}: still missing after ${timeoutMs} ms`);
  return all;
}

/** The /dev/disk/by-label link udev makes for a filesystem label (escaped as udev does). */
export function labelPath(label: string): string {
  const escape = (c: string) => (c.codePointAt(0)! >= 0x80 || /[0-9A-Za-z#+\-.:=@_]/.test(c) ? c : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return `/dev/disk/by-label/${[...label].map(escape).join("")}`;
}

/** True when a udev daemon is running (its control socket exists). */
export function isUdevRunning(): boolean {
  return existsSync("/run/udev/control");
}
