// The explicit stage registry: one Stage object per name of STAGE_NAMES, checked by the
// compiler (a missing or extra stage does not build). The engine looks stages up here, never
// by what happens to be imported; the CLI only checks names against STAGE_NAMES.
import type { Stage } from "../executor/stage.ts";
import type { StageName } from "../executor/names.ts";
import { disksStage } from "./disks.ts";
import { fetchOfflineStage } from "./fetch_offline.ts";
import { fetchStage } from "./fetch.ts";
import { filesStage } from "./files.ts";
import { kargsStage } from "./kargs.ts";
import { mountStage } from "./mount.ts";
import { umountStage } from "./umount.ts";

/** Every stage, by name. */
export const STAGES = {
  "fetch-offline": fetchOfflineStage,
  fetch: fetchStage,
  kargs: kargsStage,
  disks: disksStage,
  mount: mountStage,
  files: filesStage,
  umount: umountStage,
} as const satisfies Record<StageName, Stage>;

/** The stage with this name. */
export function stageByName(name: StageName): Stage {
  return STAGES[name];
}
