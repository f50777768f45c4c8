// The provider contract: small objects that find the user config on one platform. A provider
// answers with the raw config bytes or "none" (nothing here; try the next one / no config).
import type { Logger } from "../log/logger.ts";
import type { ResourceFetcher } from "../resource/index.ts";
import type { System } from "../system/system.ts";
import type { KernelArgs } from "./kernel_args.ts";

/** What a provider found. */
export type ProviderResult =
  | { kind: "config"; raw: Uint8Array; /** Where it came from, for logs (never secret). */ source: string }
  | { kind: "none"; reason: string };

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
}

/** The bytes of a fetched config as a result. */
export function found(raw: Uint8Array, source: string): ProviderResult {
  return { kind: "config", raw, source };
}

/** Nothing found, with why. */
export function none(reason: string): ProviderResult {
  return { kind: "none", reason };
}
