// IBM z/VM: the config is the first file of type "ign" in the virtual reader's queue (device
// 000c), received with s390-tools' vmur after the reader is brought online. No network.
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { hostPath } from "../system/commands.ts";
import { runStep, trimNul } from "./provider_steps.ts";
import { found, none, type Provider } from "./types.ts";

/** The z/VM reader device. */
export const ZVM_READER = "000c";

/** The first reader file of type "ign" in `vmur li` output: its spool id and file name. */
export function findIgnSpoolFile(listing: string): { spoolId: string; file: string } | null {
  for (const line of listing.split("\n")) {
    // ORIGINID FILE CLASS RECORDS CPY HOLD DATE TIME NAME TYPE DIST
    const f = line.trim().split(/\s+/).filter(Boolean);
    if (f.length <= 1) break;
    if (f.length < 11) continue;
    if (f[10] === "ign") return { spoolId: f[1]!, file: `${f[9]}.${f[10]}` };
  }
  return null;
}

/** IBM z/VM: the first .ign file in the reader queue, received with vmur. */
export const zvmProvider: Provider = {
  name: "zvm",
  async fetch(ctx) {
    await runStep(ctx, "loading the vmur kernel module", "modprobe", ["vmur"]);
    const online = await ctx.log.op(`bringing reader ${ZVM_READER} online`, () => ctx.system.run("chccwdev", ["-e", ZVM_READER]));
    if (online.code !== 0) {
      await runStep(ctx, `exposing reader ${ZVM_READER}`, "cioIgnore", ["-r", ZVM_READER]);
      await runStep(ctx, `bringing reader ${ZVM_READER} online`, "chccwdev", ["-e", ZVM_READER]);
    }
    await runStep(ctx, "settling udev", "udevadm", ["settle"]);
    const list = await runStep(ctx, "listing the reader queue", "vmur", ["li"]);
    const spool = findIgnSpoolFile(list.stdout);
    if (!spool) return none("no .ign file in the z/VM reader queue");
    const dir = hostPath("zvmSpoolDir", ctx.system.env);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, spool.file.replace(/\//g, "_"));
    try {
      await runStep(ctx, `receiving spool file ${spool.spoolId}`, "vmur", ["re", "-f", spool.spoolId, path]);
      return found(trimNul(new Uint8Array(await readFile(path))), `zvm reader spool file ${spool.spoolId} (${spool.file})`);
    } finally {
      await rm(path, { force: true });
    }
  },
};
