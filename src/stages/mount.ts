// The mount stage: mounts every configured filesystem that has a path under the target root,
// shallowest first, so the files stage writes into them. Mount points may only consist of
// directories (no symlinks); missing ones are created (0755) and recorded in the state as
// notatedDirectories so the files stage can hand them to the users it creates. Every mount is
// recorded in state.mounted at once, so the umount stage releases it even if a later one fails.
import { lstatSync, mkdirSync } from "node:fs";
import { join, posix } from "node:path";
import { blkidLookup, readDeviceTimeoutMs, waitForDevices } from "../disks/devices.ts";
import { isBlockDeviceFilesystem } from "../config/types.ts";
import { buildMountArgs, planMounts } from "../disks/mounts.ts";
import type { Stage, StageContext } from "../executor/stage.ts";
import type { StageState } from "../executor/state.ts";
import { check } from "../system/system.ts";

/** Fails if any existing component of a host path is not a directory (symlinks included). */
export function checkOnlyDirectories(hostPath: string): void {
  let p = "/";
  for (const c of hostPath.split("/").filter((x) => x !== "")) {
    p = join(p, c);
    let st;
    try {
      st = lstatSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      throw e;
    }
    if (!st.isDirectory()) throw new Error(`Cannot mount at "${hostPath}": "${p}" is not a directory`);
  }
}

/** Creates the missing directories of `rel` under root, recording each one created. */
function mkdirNotated(root: string, rel: string, state: StageState): void {
  let cur = "/";
  for (const c of rel.split("/").filter((x) => x !== "")) {
    cur = posix.join(cur, c);
    const host = join(root, cur);
    try {
      lstatSync(host);
    } catch {
      mkdirSync(host, { mode: 0o755 });
      state.notatedDirectories.push(cur);
    }
  }
}

async function mountAll(ctx: StageContext): Promise<void> {
  const mounts = planMounts(ctx.config.storage?.filesystems ?? []);
  if (mounts.length === 0) return;
  // A virtiofs share is named by its tag, not a block device: nothing to wait for.
  const blockDevices = [...new Set(mounts.filter((m) => isBlockDeviceFilesystem(m)).map((m) => m.device))];
  const devices = blockDevices.length === 0 ? new Map<string, string>() : await ctx.log.op("waiting for filesystem devices", () =>
    waitForDevices(blockDevices, blkidLookup(ctx.system), readDeviceTimeoutMs(ctx.system.env)),
  );
  for (const m of mounts) {
    const host = join(ctx.root, m.path);
    checkOnlyDirectories(host);
    mkdirNotated(ctx.root, m.path, ctx.state);
    const device = devices.get(m.device) ?? m.device;
    await ctx.log.op(`mounting "${m.device}" at "${host}" with type "${m.format}" and options "${m.options.join(",")}"`, async () =>
      check(await ctx.system.run("mount", buildMountArgs(m, device, host))),
    );
    ctx.state.mounted.push(host);
  }
}

/** The mount stage. */
export const mountStage: Stage = {
  name: "mount",
  async plan(ctx) {
    return planMounts(ctx.config.storage?.filesystems ?? []).map((m) => ({
      stage: "mount" as const,
      action: "mount",
      target: join(ctx.root, m.path),
      detail: `${m.device} (${m.format}${m.options.length ? `, ${m.options.join(",")}` : ""})`,
    }));
  },
  async run(ctx) {
    await mountAll(ctx);
  },
};
