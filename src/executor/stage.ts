// The stage contract shared by the engine and every stage. Stages are plain objects; the
// registry lives in stages/index.ts, the names in names.ts.
import type { Config } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import type { ResourceFetcher } from "../resource/types.ts";
import type { System } from "../system/system.ts";
import type { StageName } from "./names.ts";
import type { StageState } from "./state.ts";

/** One line of a plan: what a stage would do, touching nothing. */
export interface PlanEntry {
  stage: StageName;
  /** e.g. "create", "overwrite", "append", "keep", "add-user", "mkfs", "partition". */
  action: string;
  /** What is acted on: a path in the root, a device, a user name. */
  target: string;
  /** Human detail, never secret (no contents, no hashes of passwords). */
  detail?: string;
}

/** How the files stage writes accounts: natively (default) or by running shadow's tools. */
export const ACCOUNTS_MODES = ["native", "tools"] as const;
export type AccountsMode = (typeof ACCOUNTS_MODES)[number];

/** What every stage gets from the engine. */
export interface StageContext {
  /** The rendered, validated config (merge/replace resolved). */
  config: Config;
  /** The target root directory ("/sysroot" at boot, any directory for apply). */
  root: string;
  system: System;
  log: Logger;
  /** The fetcher for this stage's resources, the config's fetch settings applied. */
  fetcher: ResourceFetcher;
  platform: string;
  /** State shared between stages in one process and persisted under /run between calls. */
  state: StageState;
  /**
   * Where the rendered config is cached and state is kept between calls (default under
   * /run/nexus; `apply` and `plan` use a private temporary directory). See executor/paths.ts.
   */
  paths?: RunPaths;
  /** How accounts are written (default "native"). */
  accounts?: AccountsMode;
}

/** Files shared between one-stage-per-call runs. */
export interface RunPaths {
  /** The run directory (default /run/nexus, NEXUS_PATH_RUN_DIR). */
  runDir: string;
  /** The rendered, validated config the fetch stages cache (<runDir>/config.json). */
  config: string;
  /** Cross-stage state (<runDir>/state.json). */
  state: string;
}

/** A stage: plan is pure with respect to the target (reads only); run acts. */
export interface Stage {
  name: StageName;
  plan(ctx: StageContext): Promise<PlanEntry[]>;
  run(ctx: StageContext): Promise<void>;
}

/** Runs one named step of a stage, naming it in any failure while keeping the original as cause. */
export async function step<T>(what: string, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw new Error(`Cannot ${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}
