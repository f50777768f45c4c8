// The run directory shared by one-stage-per-call runs: the fetch stages cache the rendered
// config there, every stage reads and extends the state file.
import { join } from "node:path";
import { hostPath } from "../system/commands.ts";
import type { RunPaths, StageContext } from "./stage.ts";

/** File names inside the run directory. */
export const CONFIG_CACHE_NAME = "config.json";
export const STATE_FILE_NAME = "state.json";

/** The paths under a run directory. */
export function runPathsIn(runDir: string): RunPaths {
  return { runDir, config: join(runDir, CONFIG_CACHE_NAME), state: join(runDir, STATE_FILE_NAME) };
}

/** The boot-time paths: /run/nexus, or NEXUS_PATH_RUN_DIR. */
export function defaultRunPaths(env: Record<string, string | undefined> = process.env): RunPaths {
  return runPathsIn(hostPath("runDir", env));
}

/** The paths a stage should use: the context's, else the boot-time defaults. */
export function runPaths(ctx: Pick<StageContext, "paths" | "system">): RunPaths {
  return ctx.paths ?? defaultRunPaths(ctx.system.env);
}
