// Platforms whose config is a file on a config drive, found by its filesystem label. None needs
// the network, so each works in fetch-offline. How long each waits for its drive is Ignition's:
// Nutanix, PowerVS and KubeVirt until it appears (the platform always attaches one); IBM Cloud
// and Proxmox VE 30 s, then no config.
import { raceSources, readFromDrive, waitForLabel, withMountedDevice, readDriveFile } from "./config_drive.ts";
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

/** A drive source of a race: waits for the label (until the race ends), then reads `path`. */
export function driveSource(ctx: ProviderContext, label: string, path: string) {
  return {
    name: `config drive "${label}"`,
    async run(signal: AbortSignal): Promise<Uint8Array | null> {
      const dev = await waitForLabel(ctx, label, { timeoutMs: null, signal });
      if (!dev) throw new Error("the race ended before the drive appeared");
      return readFromDrive(ctx, dev, path);
    },
  };
}

/** The answer of a drive: its file, or none when the drive has no user data. */
function fromDrive(platform: string, label: string, path: string, data: Uint8Array | null): ProviderResult {
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

/** KubeVirt: cloudInitNoCloud (cidata) or cloudInitConfigDrive (config-2), whichever appears first. */
export const kubevirtProvider: Provider = {
  name: "kubevirt",
  async fetch(ctx) {
    const won = await raceSources(ctx, [driveSource(ctx, "cidata", NOCLOUD_USER_DATA), driveSource(ctx, "config-2", OPENSTACK_USER_DATA)]);
    if (!won) return none("no config drive could be read");
    return won.data ? found(won.data, `kubevirt ${won.name}`) : none(`${won.name} has no user data`);
  },
};
