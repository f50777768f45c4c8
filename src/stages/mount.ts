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
import { journalOf } from "../executor/journal.ts";
import { opKey } from "../executor/journal_ops.ts";

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

/** The directories of `rel` missing under root, outermost first (root paths). */
function missingDirectories(root: string, rel: string): string[] {
  const out: string[] = [];
  let cur = "/";
  for (const c of rel.split("/").filter((x) => x !== "")) {
    cur = posix.join(cur, c);
    if (out.length > 0 || !lstatSync(join(root, cur), { throwIfNoEntry: false })) out.push(cur);
  }
  return out;
}

/**
 * Creates the missing directories of a mount point, recording them in the state (for the
 * files stage) and in the journal first: resuming, the ones the interrupted run made are
 * notated again although they exist by then.
 */
async function mkdirNotated(ctx: StageContext, path: string, state: StageState): Promise<void> {
  const journal = journalOf(ctx);
  const key = opKey.mountPoint(path);
  const earlier = (journal.recorded(key)?.intent?.created as string[] | undefined) ?? [];
  const missing = missingDirectories(ctx.root, path);
  for (const d of earlier) if (!state.notatedDirectories.includes(d)) state.notatedDirectories.push(d);
  if (missing.length > 0) {
    await journal.intent(key, { created: [...new Set([...earlier, ...missing])] });
    for (const d of missing) {
      mkdirSync(join(ctx.root, d), { mode: 0o755 });
      if (!state.notatedDirectories.includes(d)) state.notatedDirectories.push(d);
    }
  }
  await journal.done(key);
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
    await mkdirNotated(ctx, m.path, ctx.state);
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
