// Proxmox VE: the cidata drive's user-data, else its vendor-data (Proxmox bug 2429); files that
// are cloud-config or empty are skipped. Waits 30 s for the drive, then no config. No network.
import { readDriveFile, waitForLabel, withMountedDevice } from "./config_drive.ts";
import { cidataWaitMs, NOCLOUD_USER_DATA, NOCLOUD_VENDOR_DATA } from "./drive_platforms.ts";
import { found, none, type Provider } from "./types.ts";

const CLOUD_CONFIG = new TextEncoder().encode("#cloud-config\n");

function isCloudConfig(data: Uint8Array): boolean {
  return data.length >= CLOUD_CONFIG.length && CLOUD_CONFIG.every((b, i) => data[i] === b);
}

/** Proxmox VE: the cidata drive's user-data, else its vendor-data; cloud-config and empty files are skipped. */
export const proxmoxveProvider: Provider = {
  name: "proxmoxve",
  async fetch(ctx) {
    const dev = await waitForLabel(ctx, "cidata", { timeoutMs: cidataWaitMs(ctx.system.env) });
    if (!dev) return none(`no "cidata" drive within ${cidataWaitMs(ctx.system.env) / 1000} s`);
    return withMountedDevice(ctx, dev, "auto", async (mnt) => {
      for (const path of [NOCLOUD_USER_DATA, NOCLOUD_VENDOR_DATA]) {
        const data = await readDriveFile(mnt, path);
        if (data === null) continue;
        if (isCloudConfig(data)) ctx.log.info(`cidata:${path} is a cloud-config; not an Ignition config`);
        else if (data.length === 0) ctx.log.info(`cidata:${path} is empty`);
        else return found(data, `proxmoxve config drive "cidata":${path}`);
      }
      return none("the cidata drive has no Ignition config in user-data or vendor-data");
    });
  },
};
