// Platforms whose config is a file on a config drive found by its filesystem label, and what
// the other config-drive platforms share. None needs the network, so each works in
// fetch-offline. How long each waits for its drive is Ignition's: Nutanix, PowerVS (here) and
// KubeVirt until it appears (the platform always attaches one); IBM Cloud (here) and Proxmox VE
// 30 s, then no config.
import { readFromDrive, waitForLabel } from "./config_drive.ts";
import { found, none, type Provider, type ProviderContext, type ProviderResult } from "./types.ts";

/** Where OpenStack-style config drives keep the user data. */
export const OPENSTACK_USER_DATA = "/openstack/latest/user_data";
/** Where NoCloud (cidata) drives keep it. */
export const NOCLOUD_USER_DATA = "/user-data";
/** Proxmox VE's vendor data, read when the user data holds no Ignition config. */
export const NOCLOUD_VENDOR_DATA = "/vendor-data";

/** How long IBM Cloud and Proxmox VE wait for their cidata drive, in ms (NEXUS_CIDATA_WAIT_MS overrides). */
export function cidataWaitMs(env: Record<string, string | undefined>): number {
  const v = Number(env.NEXUS_CIDATA_WAIT_MS);
  return Number.isFinite(v) && v > 0 ? v : 30_000;
}

/** A drive source of a race: waits for the label (until the race ends), then reads `path` (its name says both, as the single-drive platforms' sources do). */
export function driveSource(ctx: ProviderContext, label: string, path: string) {
  return {
    name: `config drive "${label}":${path}`,
    async run(signal: AbortSignal): Promise<Uint8Array | null> {
      const dev = await waitForLabel(ctx, label, { timeoutMs: null, signal });
      if (!dev) throw new Error("the race ended before the drive appeared");
      return readFromDrive(ctx, dev, path);
    },
  };
}

/** The answer of a drive: its file, or none when the drive has no user data. */
export function fromDrive(platform: string, label: string, path: string, data: Uint8Array | null): ProviderResult {
  return data ? found(data, `${platform} config drive "${label}":${path}`) : none(`the config drive "${label}" has no ${path}`);
}

/** A platform reading one file from the drive labelled `label`, waiting for it without bound. */
function singleDriveProvider(name: string, label: string, path: string): Provider {
  return {
    name,
    async fetch(ctx) {
      const dev = (await waitForLabel(ctx, label, { timeoutMs: null }))!;
      return fromDrive(name, label, path, await readFromDrive(ctx, dev, path));
    },
  };
}

/** Nutanix AHV: the config-2 drive is always attached, with or without user data. */
export const nutanixProvider = singleDriveProvider("nutanix", "config-2", OPENSTACK_USER_DATA);

/** IBM Power Systems Virtual Server. */
export const powervsProvider = singleDriveProvider("powervs", "config-2", OPENSTACK_USER_DATA);

/** IBM Cloud (VPC): the cidata drive, when it appears within 30 s. */
export const ibmcloudProvider: Provider = {
  name: "ibmcloud",
  async fetch(ctx) {
    const dev = await waitForLabel(ctx, "cidata", { timeoutMs: cidataWaitMs(ctx.system.env) });
    if (!dev) return none(`no "cidata" drive within ${cidataWaitMs(ctx.system.env) / 1000} s`);
    return fromDrive("ibmcloud", "cidata", NOCLOUD_USER_DATA, await readFromDrive(ctx, dev, NOCLOUD_USER_DATA));
  },
};
