// What a platform does around provisioning besides giving the config, as in Ignition: after each
// stage, report its outcome to the platform (Packet's timeline; a failure to report is only
// logged), and once the machine is provisioned, remove the config from where the platform keeps
// it (VMware guestinfo, VirtualBox properties), so no later process can read its secrets.
import type { Logger } from "../log/logger.ts";
import { isPlatform, platformProvider, readKernelArgs, type ProviderContext } from "../providers/index.ts";
import type { ResourceFetcher } from "../resource/index.ts";
import type { System } from "../system/system.ts";

/** What the hooks need from their caller (the engine). */
export interface HookInput {
  platform: string;
  system: System;
  log: Logger;
  fetcher: ResourceFetcher;
}

async function contextFor(input: HookInput): Promise<ProviderContext> {
  return { ...input, cmdline: await readKernelArgs(input.system.env), deviceWaitMs: 0 };
}

/** Reports a stage's outcome to the platform, when it takes reports; never throws. */
export async function reportStageStatus(input: HookInput, stage: string, error: string | null): Promise<void> {
  if (!isPlatform(input.platform)) return;
  const p = platformProvider(input.platform);
  if (!p.status) return;
  try {
    await p.status(await contextFor(input), stage, error);
  } catch (e) {
    input.log.error(`Cannot report the ${stage} stage's status to platform "${input.platform}": ${(e as Error).message}`);
  }
}

/** True when the platform keeps the config where the guest could read it later. */
export function deletesConfig(platform: string): boolean {
  return isPlatform(platform) && platformProvider(platform).deleteConfig !== undefined;
}

/** Removes the config from the platform once the machine is provisioned; throws when it cannot. */
export async function deleteProvisionedConfig(input: HookInput): Promise<void> {
  const p = platformProvider(input.platform);
  if (!p.deleteConfig) return;
  const ctx = await contextFor(input);
  await input.log.op(`deleting the config from platform "${input.platform}"`, () => p.deleteConfig!(ctx));
}
