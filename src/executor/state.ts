// Cross-stage state: kept in memory within one process and saved as JSON in the run directory
// between one-stage-per-call runs. It records each finished stage for the result report.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { StageName, StageState } from "./stage.ts";

/** One stage's run, as the report shows it. */
export interface StageRecord {
  name: StageName;
  ok: boolean;
  /** Wall time in milliseconds. */
  ms: number;
  /** ISO time the stage started. */
  startedAt: string;
  error?: string;
}

/** A fresh state. */
export function emptyState(): StageState {
  return { mounted: [], neednet: false, stages: [] };
}

/** The stage records kept in a state. */
export function stageRecords(state: StageState): StageRecord[] {
  if (!Array.isArray(state.stages)) state.stages = [];
  return state.stages as StageRecord[];
}

/** Loads the state file, or a fresh state when there is none yet. */
export function loadState(path: string): StageState {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return emptyState();
    throw new Error(`Cannot read state file "${path}": ${(e as Error).message}`, { cause: e });
  }
  try {
    const parsed = JSON.parse(text) as StageState;
    return { ...emptyState(), ...parsed };
  } catch (e) {
    throw new Error(`Cannot read state file "${path}": not valid JSON`, { cause: e });
  }
}

/** Saves the state atomically (temp file and rename), creating the run directory (0700). */
export function saveState(path: string, state: StageState): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
  renameSync(tmp, path);
}
