// The explicit stage registry: every stage this build implements, in boot order. A stage that
// is not listed here does not exist in this build; the engine and the CLI check against this
// list, never against what happens to be imported.
import { STAGE_NAMES, type Stage, type StageName } from "../executor/stage.ts";
import { disksStage } from "./disks.ts";
import { fetchOfflineStage } from "./fetch_offline.ts";
import { fetchStage } from "./fetch.ts";
import { filesStage } from "./files.ts";
import { kargsStage } from "./kargs.ts";
import { mountStage } from "./mount.ts";
import { umountStage } from "./umount.ts";

/** The implemented stages (add each new stage here, in STAGE_NAMES order). */
export const STAGES = [fetchOfflineStage, fetchStage, kargsStage, disksStage, mountStage, filesStage, umountStage] as const satisfies readonly Stage[];

/** The stage with this name, or undefined when this build does not implement it. */
export function stageByName(name: StageName): Stage | undefined {
  return (STAGES as readonly Stage[]).find((s) => s.name === name);
}

/** Names of the implemented stages, in boot order. */
export function implementedStages(): StageName[] {
  return STAGE_NAMES.filter((n) => stageByName(n) !== undefined);
}
