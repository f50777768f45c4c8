// The provider contract: small objects that find the user config on one platform. A provider
// answers with the raw config bytes or "none" (nothing here; try the next one / no config).
import type { Logger } from "../log/logger.ts";
import type { ResourceFetcher } from "../resource/index.ts";
import type { System } from "../system/system.ts";
import type { KernelArgs } from "./kernel_args.ts";

/** A file a provider wants written into the target root by the files stage (Hyper-V's KVP pools). */
export interface ProviderFile {
  path: string;
  mode: number;
  data: Uint8Array;
}

/** What a provider found. */
export type ProviderResult =
  | { kind: "config"; raw: Uint8Array; /** Where it came from, for logs (never secret). */ source: string; files?: ProviderFile[] }
  | { kind: "none"; reason: string; files?: ProviderFile[] };

/** What every provider gets. */
export interface ProviderContext {
  /** Offline during fetch-offline: network schemes throw NeedNetError. */
  fetcher: ResourceFetcher;
  system: System;
  log: Logger;
  /** The parsed kernel command line. */
  cmdline: KernelArgs;
  platform: string;
  /** How long to wait for a config device to appear, in milliseconds. */
  deviceWaitMs: number;
}

/** A config source. */
export interface Provider {
  name: string;
  fetch(ctx: ProviderContext): Promise<ProviderResult>;
  /** Reports a stage's outcome to the platform (Packet's timeline); failures are only logged. */
  status?(ctx: ProviderContext, stage: string, error: string | null): Promise<void>;
  /**
   * Removes the config from where the platform keeps it, once the machine is provisioned, so no
   * later process in the guest can read its secrets (VMware guestinfo, VirtualBox properties).
   */
  deleteConfig?(ctx: ProviderContext): Promise<void>;
}

/** The bytes of a fetched config as a result. */
export function found(raw: Uint8Array, source: string, files?: ProviderFile[]): ProviderResult {
  return files ? { kind: "config", raw, source, files } : { kind: "config", raw, source };
}

/** Nothing found, with why. */
export function none(reason: string, files?: ProviderFile[]): ProviderResult {
  return files ? { kind: "none", reason, files } : { kind: "none", reason };
}
