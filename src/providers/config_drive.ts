// Config drives: a filesystem found by its label (config-2, CONFIG-2, cidata) or type (Azure's
// UDF CD-ROM), mounted read-only in a private directory just long enough to read the user data,
// then unmounted. Waiting for a drive is a poll that a caller may end (a faster source won) or
// bound (Proxmox VE and IBM Cloud wait 30 s; OpenStack, KubeVirt, Nutanix and PowerVS, as
// Ignition, until the drive appears).
import { existsSync, realpathSync } from "node:fs";
import { mkdtemp, readFile, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blkidLookup } from "../disks/devices.ts";
import { hostPath } from "../system/commands.ts";
import { cleanPath } from "../system/paths.ts";
import { check } from "../system/system.ts";
import type { ProviderContext } from "./types.ts";

/** How often a missing drive is looked for again. */
export const DRIVE_POLL_MS = 250;

/** Resolves after ms, or at once when the signal aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}

/** The device holding the filesystem labelled `label` right now, if any (udev's link, else blkid). */
export async function findLabel(ctx: ProviderContext, label: string): Promise<string | null> {
  const link = join(hostPath("diskByLabel", ctx.system.env), label);
  if (existsSync(link)) return realpathSync(link);
  // Without udev (a bare initramfs) there are no by-label links; blkid reads the superblocks.
  if (ctx.system.env.NEXUS_PATH_DISK_BY_LABEL) return null;
  return (await blkidLookup(ctx.system)("LABEL", label)) ?? null;
}

/**
 * Waits for a drive labelled `label`: null when `timeoutMs` passed (null: wait without bound) or
 * the signal ended the wait first.
 */
export async function waitForLabel(
  ctx: ProviderContext,
  label: string,
  opts: { timeoutMs: number | null; signal?: AbortSignal },
): Promise<string | null> {
  const deadline = opts.timeoutMs === null ? Infinity : performance.now() + opts.timeoutMs;
  let logged = false;
  for (;;) {
    if (opts.signal?.aborted) return null;
    const dev = await findLabel(ctx, label);
    if (dev) return dev;
    if (performance.now() >= deadline) return null;
    if (!logged) ctx.log.info(`Config drive "${label}" not found yet; waiting`);
    logged = true;
    await pause(DRIVE_POLL_MS, opts.signal);
  }
}

/** Mounts `device` read-only (type `fstype`, "auto" to probe), runs fn on the mount point, unmounts. */
export async function withMountedDevice<T>(ctx: ProviderContext, device: string, fstype: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const mnt = await mkdtemp(join(tmpdir(), "nexus-config-drive-"));
  try {
    await ctx.log.op(`mounting "${device}" read-only at "${mnt}"`, async () =>
      check(await ctx.system.run("mount", ["-o", "ro", "-t", fstype, device, mnt])),
    );
    try {
      return await fn(mnt);
    } finally {
      await ctx.log.op(`unmounting "${mnt}"`, async () => check(await ctx.system.run("umount", [mnt])));
    }
  } finally {
    await rmdir(mnt).catch(() => {});
  }
}

/** A file inside a mounted drive, or null when it does not exist. */
export async function readDriveFile(mnt: string, path: string): Promise<Uint8Array | null> {
  try {
    return new Uint8Array(await readFile(join(mnt, cleanPath("/" + path))));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw e;
  }
}

/** Mounts a drive and reads one file from it: null when the drive has no such file. */
export function readFromDrive(ctx: ProviderContext, device: string, path: string, fstype = "auto"): Promise<Uint8Array | null> {
  return withMountedDevice(ctx, device, fstype, (mnt) => readDriveFile(mnt, path));
}

/** One source of a race: its answer, null for "no config here", or a thrown failure. */
export interface RaceSource {
  name: string;
  run(signal: AbortSignal): Promise<Uint8Array | null>;
}

/** The race's outcome: the first source that answered (data null: it has no config), or null when all failed. */
export type RaceResult = { name: string; data: Uint8Array | null } | null;

/**
 * Runs the sources at once, as Ignition's OpenStack, CloudStack and KubeVirt providers do: the
 * first one to answer wins, even when its answer is "no config"; failures are logged and only
 * end the race when every source failed. The others are stopped and waited for, so no drive
 * stays mounted.
 */
export async function raceSources(ctx: ProviderContext, sources: readonly RaceSource[]): Promise<RaceResult> {
  const stop = new AbortController();
  let winner: RaceResult = null;
  const runs = sources.map(async (s) => {
    try {
      const data = await s.run(stop.signal);
      if (winner || stop.signal.aborted) return;
      winner = { name: s.name, data };
      stop.abort();
    } catch (e) {
      if (!stop.signal.aborted) ctx.log.warn(`Cannot fetch config from ${s.name}: ${(e as Error).message}`);
    }
  });
  await Promise.all(runs);
  if (!winner) ctx.log.info(`No source answered (${sources.map((s) => s.name).join(", ")})`);
  return winner;
}
