// Shared by the platform tests (never imported by nexus-init itself): a provider context over a
// System whose environment points the command table, host paths and metadata URLs at fakes,
// and acquiring a whole config the way the fetch stages do.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { acquireConfig } from "../acquire/acquire.ts";
import { Logger } from "../log/logger.ts";
import { createFetcher } from "../resource/index.ts";
import { realSystem } from "../system/real.ts";
import type { System } from "../system/system.ts";
import { parseKernelArgs } from "./kernel_args.ts";
import type { ProviderContext } from "./types.ts";

/** Fast retries for tests (Ignition's policy otherwise). */
export const TEST_RETRY = { initialMs: 5, maxMs: 20 };

/** A scratch directory with an empty kernel command line and empty system config directories. */
export function scratchEnv(extra: Record<string, string> = {}): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), "nexus-platform-"));
  writeFileSync(join(dir, "cmdline"), "quiet\n");
  mkdirSync(join(dir, "sysconf"));
  return {
    NEXUS_PATH_CMDLINE: join(dir, "cmdline"),
    NEXUS_SYSTEM_CONFIG_DIR: join(dir, "sysconf", "vendor"),
    NEXUS_SYSTEM_RUNTIME_CONFIG_DIR: join(dir, "sysconf", "runtime"),
    NEXUS_SYSTEM_LOCAL_CONFIG_DIR: join(dir, "sysconf", "local"),
    NEXUS_SCRATCH: dir,
    PATH: process.env.PATH ?? "/usr/sbin:/usr/bin",
    ...extra,
  };
}

/** Log lines of a test, kept for assertions. */
export function memoryLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: new Logger((l) => lines.push(l)), lines };
}

/** A provider context for `platform` on a real System with `env` (fakes are chosen through env). */
export function providerContext(platform: string, env: Record<string, string>, opts: { offline?: boolean; system?: System } = {}): ProviderContext {
  return {
    fetcher: createFetcher({ retry: TEST_RETRY, offline: opts.offline, env }).withDefaults({ timeouts: { httpTotal: 5 } }),
    system: opts.system ?? realSystem(env),
    log: new Logger(() => {}),
    cmdline: parseKernelArgs(""),
    platform,
    deviceWaitMs: 1000,
  };
}

/** Acquires the config on `platform` as the fetch stage (offline: fetch-offline) would. */
export function acquireOn(platform: string, env: Record<string, string>, opts: { offline?: boolean; system?: System } = {}) {
  return acquireConfig({
    platform,
    system: opts.system ?? realSystem(env),
    log: new Logger(() => {}),
    fetcherOptions: { retry: TEST_RETRY, defaults: { timeouts: { httpTotal: 5 } } },
    offline: opts.offline ?? false,
    deviceWaitMs: 1000,
  });
}
