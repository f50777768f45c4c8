// Config providers and platforms. The platform comes from nexus.platform.id= (alias
// ignition.platform.id=) or the caller, never from guessing. The user config is the first
// answer of: the kernel command line, user.ign in the system config directories, the
// platform's own provider. A platform without a config is a logged outcome, not an error.
import { akamaiProvider } from "./akamai.ts";
import { awsProvider } from "./aws.ts";
import { azureProvider, azurestackProvider } from "./azure.ts";
import { applehvProvider } from "./applehv.ts";
import { cloudstackProvider } from "./cloudstack.ts";
import { kubevirtProvider } from "./kubevirt.ts";
import { nvidiabluefieldProvider } from "./nvidiabluefield.ts";
import { proxmoxveProvider } from "./proxmoxve.ts";
import { zvmProvider } from "./zvm.ts";
import { ibmcloudProvider, nutanixProvider, powervsProvider } from "./drive_platforms.ts";
import {
  aliyunProvider,
  digitaloceanProvider,
  exoscaleProvider,
  hetznerProvider,
  oraclecloudProvider,
  packetProvider,
  scalewayProvider,
  upcloudProvider,
  vultrProvider,
} from "./http_platforms.ts";
import { hypervProvider } from "./hyperv.ts";
import { brightboxProvider, openstackProvider } from "./openstack.ts";
import { virtualboxProvider } from "./virtualbox.ts";
import { vmwareProvider } from "./vmware.ts";
import { getKernelArg, type KernelArgs } from "./kernel_args.ts";
import { fileProvider } from "./file.ts";
import { gcpProvider } from "./gcp.ts";
import { cmdlineProvider } from "./cmdline_config.ts";
import { metalProvider } from "./metal.ts";
import { qemuProvider } from "./qemu.ts";
import { systemUserProvider } from "./system_dirs.ts";
import type { Provider, ProviderContext, ProviderResult } from "./types.ts";

// Re-exported so callers import providers from one place.
export type { Provider, ProviderContext, ProviderFile, ProviderResult } from "./types.ts";
export { parseKernelArgs, readKernelArgs, getKernelArg, cmdlinePath, type KernelArgs } from "./kernel_args.ts";
export { readBaseFragments, systemConfigDirs, type BaseFragment } from "./system_dirs.ts";
export { configFilePath } from "./file.ts";

/** Every platform this build supports, each with its provider (upstream Ignition's 31). */
export const PLATFORM_PROVIDERS = [
  metalProvider,
  qemuProvider,
  gcpProvider,
  awsProvider,
  fileProvider,
  akamaiProvider,
  aliyunProvider,
  applehvProvider,
  azureProvider,
  azurestackProvider,
  brightboxProvider,
  cloudstackProvider,
  digitaloceanProvider,
  exoscaleProvider,
  hetznerProvider,
  hypervProvider,
  ibmcloudProvider,
  kubevirtProvider,
  nutanixProvider,
  nvidiabluefieldProvider,
  openstackProvider,
  oraclecloudProvider,
  packetProvider,
  powervsProvider,
  proxmoxveProvider,
  scalewayProvider,
  upcloudProvider,
  virtualboxProvider,
  vmwareProvider,
  vultrProvider,
  zvmProvider,
] as const;
/** The platform names, in PLATFORM_PROVIDERS order. */
export const PLATFORMS = PLATFORM_PROVIDERS.map((p) => p.name) as readonly string[];

/** Kernel arguments naming the platform. */
export const PLATFORM_ARGS = ["nexus.platform.id", "ignition.platform.id"];

/** True for a platform this build supports. */
export function isPlatform(name: string): boolean {
  return PLATFORMS.includes(name);
}

/** The platform named on the kernel command line, or null when none is. */
export function platformFromCmdline(args: KernelArgs): string | null {
  return getKernelArg(args, ...PLATFORM_ARGS) ?? null;
}

/** The platform's own provider. Throws for an unknown platform, listing the known ones. */
export function platformProvider(platform: string): Provider {
  const own = PLATFORM_PROVIDERS.find((p) => p.name === platform);
  if (!own) throw new Error(`Cannot fetch config for platform "${platform}": unsupported platform (known: ${PLATFORMS.join(", ")})`);
  return own;
}

/** The providers consulted, in order, on a platform. Throws for an unknown platform. */
export function providerChain(platform: string): Provider[] {
  return [cmdlineProvider, systemUserProvider, platformProvider(platform)];
}

/** The user config: the first provider that has one, or "none" with the platform's reason. */
export async function fetchUserConfig(ctx: ProviderContext): Promise<ProviderResult & { provider: string }> {
  let last: ProviderResult = { kind: "none", reason: "no provider" };
  for (const p of providerChain(ctx.platform)) {
    last = await p.fetch(ctx);
    if (last.kind === "config") {
      ctx.log.info(`Fetched user config from ${last.source} (provider ${p.name})`);
      return { ...last, provider: p.name };
    }
    ctx.log.debug(`Provider ${p.name}: ${last.reason}`);
  }
  return { ...last, provider: ctx.platform };
}
