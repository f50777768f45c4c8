// The config named on the kernel command line: the provider consulted first on every platform
// (as Ignition does). nexus.config.url= (alias ignition.config.url=) names a resource of any
// supported scheme;
// nexus.config.device= + nexus.config.path= (aliases ignition.config.*) name a filesystem, by
// label or device path, and a file on it, which is mounted read-only just long enough to read.
import { blkidLookup, labelPath, waitForDevices } from "../disks/devices.ts";
import { redactUrl } from "../log/redact.ts";
import { readFromDrive } from "./config_drive.ts";
import { getKernelArg } from "./kernel_args.ts";
import { found, none, type Provider, type ProviderContext } from "./types.ts";

/** Kernel arguments naming the config, each with its Ignition alias. */
export const CONFIG_URL_ARGS = ["nexus.config.url", "ignition.config.url"];
/** Kernel arguments naming the device (label or /dev path) holding the config. */
export const CONFIG_DEVICE_ARGS = ["nexus.config.device", "ignition.config.device"];
/** Kernel arguments naming the config file on that device. */
export const CONFIG_PATH_ARGS = ["nexus.config.path", "ignition.config.path"];


/** The config named on the kernel command line, if any. */
export const cmdlineProvider: Provider = {
  name: "cmdline",
  async fetch(ctx) {
    const url = getKernelArg(ctx.cmdline, ...CONFIG_URL_ARGS);
    if (url) {
      ctx.log.info(`Fetching config from ${redactUrl(url)} (kernel command line)`);
      const raw = await ctx.fetcher.fetchBytes({ source: url });
      return found(raw, `cmdline ${redactUrl(url)}`);
    }
    const device = getKernelArg(ctx.cmdline, ...CONFIG_DEVICE_ARGS);
    const path = getKernelArg(ctx.cmdline, ...CONFIG_PATH_ARGS);
    if (!device && !path) return none("no config URL or device on the kernel command line");
    if (!device) throw new Error(`Cannot read config "${path}": nexus.config.path is set but nexus.config.device is not`);
    if (!path) throw new Error(`Cannot read config from device "${device}": nexus.config.device is set but nexus.config.path is not`);
    return found(await readFromDevice(ctx, device, path), `device ${device}:${path}`);
  },
};

/** Resolves a label (or a /dev path) to a device node, waiting up to ctx.deviceWaitMs for it. */
export async function waitForDevice(ctx: ProviderContext, device: string): Promise<string> {
  const path = device.startsWith("/") ? device : labelPath(device);
  try {
    return (await waitForDevices([path], blkidLookup(ctx.system), ctx.deviceWaitMs)).get(path)!;
  } catch (e) {
    throw new Error(`Cannot find config device "${device}": not present after ${ctx.deviceWaitMs / 1000} s`, { cause: e });
  }
}

/** Mounts the device read-only in a private directory, reads path, and unmounts. */
async function readFromDevice(ctx: ProviderContext, device: string, path: string): Promise<Uint8Array> {
  const dev = await ctx.log.op(`waiting for config device "${device}"`, () => waitForDevice(ctx, device));
  const data = await readFromDrive(ctx, dev, path);
  if (data === null) throw new Error(`Cannot read config "${path}" from device "${device}": no such file`);
  return data;
}
