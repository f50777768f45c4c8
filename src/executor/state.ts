// Cross-stage state, as Ignition's internal/state/state.go: every field declared once, with the
// stage that writes it and the ones that read it. Kept in memory within one process and saved
// as JSON in the run directory between one-stage-per-call runs.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { FetchedConfig } from "../acquire/acquire.ts";
import type { LuksRecord } from "../disks/luks.ts";
import type { StageName } from "./names.ts";

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

/** What stages tell later stages (and the engine) across calls. */
export interface StageState {
  /** Written by the fetch stages: the configs the rendered one was made from. Read by the engine for the report's source. */
  fetched: FetchedConfig[];
  /** Written by fetch-offline when the config needs the network. Read by run's boot sequence (fetch runs only then) and, as its flag file, by the dracut units. */
  neednet: boolean;
  /** Written by kargs when it changed the boot entry. Read by run's boot sequence (stop before disks); the initramfs and the dracut unit reboot on its flag file. */
  kargsReboot: boolean;
  /** Written by disks: the LUKS volumes it made. Read by files, which persists them and drops their keys. */
  luks: LuksRecord[];
  /** Written by mount: the host paths it mounted. Read by umount, which drops what it released. */
  mounted: string[];
  /** Written by mount: the root paths of the mount points it created. Read by files (homes of new users). */
  notatedDirectories: string[];
  /** Written by the engine after each stage. Read by the engine for the result report. */
  stages: StageRecord[];
}

/** A fresh state. */
export function emptyState(): StageState {
  return { fetched: [], neednet: false, kargsReboot: false, luks: [], mounted: [], notatedDirectories: [], stages: [] };
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
  let saved: Partial<StageState>;
  try {
    saved = JSON.parse(text);
  } catch (e) {
    throw new Error(`Cannot read state file "${path}": not valid JSON`, { cause: e });
  }
  return { ...emptyState(), ...saved };
}

/** Saves the state atomically (temp file and rename), creating the run directory (0700). */
export function saveState(path: string, state: StageState): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
  renameSync(tmp, path);
}
