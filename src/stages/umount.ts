// The umount stage: releases what the mount stage mounted, deepest first. It runs even after a
// failed stage (the engine guarantees that) and tries every mount even if one fails, so a
// failure leaves as little mounted as possible; what it could not release stays recorded.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { planMounts } from "../disks/mounts.ts";
import type { Stage, StageContext } from "../executor/stage.ts";
import { cleanPath, pathDepth } from "../system/paths.ts";
import { check } from "../system/system.ts";

/** Decodes the octal escapes of /proc/self/mountinfo fields. */
function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Mount points currently in this mount namespace. */
export function currentMountPoints(mountinfo = "/proc/self/mountinfo"): Set<string> {
  const out = new Set<string>();
  for (const line of readFileSync(mountinfo, "utf8").split("\n")) {
    const f = line.split(" ");
    if (f.length > 4) out.add(unescapeMountinfo(f[4]!));
  }
  return out;
}

/** What to unmount: recorded mounts, plus configured mount points still mounted, deepest first. */
export function umountTargets(ctx: StageContext): string[] {
  const recorded = [...ctx.state.mounted];
  const current = currentMountPoints();
  for (const m of planMounts(ctx.config.storage?.filesystems ?? [])) {
    const host = join(ctx.root, m.path);
    if (current.has(host) && !recorded.includes(host)) recorded.push(host);
  }
  return recorded
    .map((p, i) => ({ p, i }))
    .sort((a, b) => pathDepth(cleanPath(b.p)) - pathDepth(cleanPath(a.p)) || b.i - a.i)
    .map(({ p }) => p)
    .filter((p) => current.has(p));
}

/** The umount stage. */
export const umountStage: Stage = {
  name: "umount",
  async plan(ctx) {
    return planMounts(ctx.config.storage?.filesystems ?? [])
      .reverse()
      .map((m) => ({ stage: "umount" as const, action: "umount", target: join(ctx.root, m.path) }));
  },
  async run(ctx) {
    const mountedNow = currentMountPoints();
    ctx.state.mounted = ctx.state.mounted.filter((p) => mountedNow.has(p));
    const errors: string[] = [];
    for (const path of umountTargets(ctx)) {
      try {
        await ctx.log.op(`unmounting "${path}"`, async () => check(await ctx.system.run("umount", [path])));
        ctx.state.mounted = ctx.state.mounted.filter((p) => p !== path);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    if (errors.length > 0) throw new Error(`Cannot unmount every filesystem: ${errors.join("; ")}`);
  },
};
