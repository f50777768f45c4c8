// Azure's custom data: an OVF "config drive" on a CD-ROM — UDF on Azure, UDF or ISO 9660 on
// Azure Stack — holding ovf-env.xml and, when the user gave custom data, CustomData.bin. Only a
// CD-ROM with a disc is read, never an arbitrary disk the user attached; until one appears it is
// looked for again every second, as Ignition does.
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { hostPath } from "../system/commands.ts";
import { readDriveFile, withMountedDevice } from "./config_drive.ts";
import type { ProviderContext } from "./types.ts";

/** How often the CD-ROMs are looked at again. */
export const OVF_POLL_MS = 1000;

/** Block devices holding a filesystem of this type (blkid, bypassing its cache). */
async function devicesOfType(ctx: ProviderContext, fstype: string): Promise<string[]> {
  const r = await ctx.system.run("blkid", ["-c", "/dev/null", "-o", "device", "-t", `TYPE=${fstype}`]);
  // blkid exits 2 when nothing matches.
  if (r.code !== 0 && r.code !== 2) throw new Error(`Cannot list ${fstype} devices: blkid exit code ${r.code}: ${r.stderr.trim()}`);
  return r.stdout.split("\n").map((l) => l.trim()).filter(Boolean);
}

/** True for a CD-ROM drive (SCSI peripheral type 5) with a disc in it (a non-zero size). */
export function isCdromWithDisc(ctx: ProviderContext, device: string): boolean {
  const dir = join(hostPath("sysClassBlock", ctx.system.env), basename(device));
  try {
    const type = readFileSync(join(dir, "device", "type"), "utf8").trim();
    const size = Number(readFileSync(join(dir, "size"), "utf8").trim());
    return type === "5" && size > 0;
  } catch {
    return false;
  }
}

/** The custom data of the first OVF CD-ROM (empty when it has none); waits until one appears. */
export async function readOvfCustomData(ctx: ProviderContext, fstypes: readonly string[]): Promise<{ data: Uint8Array; source: string }> {
  const checked = new Set<string>();
  for (;;) {
    for (const fstype of fstypes) {
      for (const dev of await devicesOfType(ctx, fstype)) {
        if (checked.has(dev)) continue;
        checked.add(dev);
        if (!isCdromWithDisc(ctx, dev)) {
          ctx.log.info(`${dev} (${fstype}) is not a CD-ROM with a disc; not reading it`);
          continue;
        }
        try {
          const data = await withMountedDevice(ctx, dev, fstype, async (mnt) => {
            if ((await readDriveFile(mnt, "ovf-env.xml")) === null) throw new Error("no ovf-env.xml: not an OVF config drive");
            return (await readDriveFile(mnt, "CustomData.bin")) ?? new Uint8Array(0);
          });
          ctx.log.info(`Read custom data from the OVF drive ${dev}`);
          return { data, source: `${ctx.platform} OVF custom data ${dev}:/CustomData.bin` };
        } catch (e) {
          ctx.log.info(`Cannot read custom data from ${dev}: ${(e as Error).message}`);
        }
      }
    }
    if (checked.size === 0) ctx.log.debug(`No ${fstypes.join(" or ")} CD-ROM yet; waiting`);
    await Bun.sleep(OVF_POLL_MS);
  }
}
