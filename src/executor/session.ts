// A one-process session for `apply` and `plan`: the config file given on the command line is
// served through the "file" platform, and the run directory (rendered config, state) is a
// private temporary directory removed afterwards — nothing under the host's /run is touched.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import type { Config } from "../config/types.ts";
import { realSystem } from "../system/real.ts";
import type { System } from "../system/system.ts";
import type { EngineOptions } from "./engine.ts";
import type { Logger } from "../log/logger.ts";
import type { AccountsMode } from "./stage.ts";
import { runPathsIn } from "./paths.ts";

/** The platform apply and plan use: the config comes from a file. */
export const APPLY_PLATFORM = "file";

/** An open session; close() removes its run directory. */
export interface Session {
  options: EngineOptions;
  close(): void;
}

/**
 * Opens a session for a config already parsed and validated. `configArg` is the command-line
 * argument ("-" for standard input); its bytes are copied into the run directory so the file
 * platform reads exactly what was validated.
 */
export function openSession(args: {
  root: string;
  configArg: string;
  bytes: Uint8Array;
  config: Config;
  log: Logger;
  system?: System;
  accounts?: AccountsMode;
}): Session {
  const runDir = mkdtempSync(join(tmpdir(), "nexus-run-"));
  const configFile = join(runDir, "user.ign");
  writeFileSync(configFile, args.bytes, { mode: 0o600 });
  const emptyCmdline = join(runDir, "cmdline");
  writeFileSync(emptyCmdline, "");
  const base = args.system ?? realSystem();
  // Only CONFIG counts: the file platform reads it (Ignition's variable name too), and the
  // sources that would otherwise come first at boot (the host's kernel command line, the host's
  // system config directories, its boot filesystem) point into the empty run directory.
  const system: System = {
    ...base,
    env: {
      ...base.env,
      NEXUS_CONFIG_FILE: configFile,
      IGNITION_CONFIG_FILE: configFile,
      NEXUS_PATH_CMDLINE: emptyCmdline,
      NEXUS_PATH_RUN_DIR: runDir,
      // Never the host's own boot partition: kargs edits the root's boot entry instead.
      NEXUS_PATH_BOOT_DEVICE: join(runDir, "no-boot-device"),
      NEXUS_SYSTEM_CONFIG_DIR: join(runDir, "system-vendor"),
      NEXUS_SYSTEM_RUNTIME_CONFIG_DIR: join(runDir, "system-runtime"),
      NEXUS_SYSTEM_LOCAL_CONFIG_DIR: join(runDir, "system-local"),
    },
  };
  const source = args.configArg === "-" ? "file:<stdin>" : `file:${isAbsolute(args.configArg) ? args.configArg : resolve(args.configArg)}`;
  return {
    options: {
      root: args.root,
      platform: APPLY_PLATFORM,
      system,
      log: args.log,
      paths: runPathsIn(runDir),
      config: args.config,
      configSource: source,
      persistState: false,
      accounts: args.accounts,
    },
    close: () => rmSync(runDir, { recursive: true, force: true }),
  };
}
