// Cross-field validation of a parsed config, with Ignition's rules for the config's declared
// spec version (the structure itself was checked by the schemas). Pure: no I/O, never throws.
// Each area's rules live in rules/; this file only puts them in order.
import type { Issue } from "./issues.ts";
import { RuleContext } from "./rules/context.ts";
import { checkDisks } from "./rules/disks.ts";
import { checkDuplicates } from "./rules/duplicates.ts";
import { checkIgnition } from "./rules/ignition.ts";
import { checkLuksVolumes } from "./rules/luks.ts";
import { checkNodes } from "./rules/nodes.ts";
import { checkSystemdPathConflicts, checkUnits } from "./rules/systemd.ts";
import type { Config, SpecVersion } from "./types.ts";

/** Every error and warning Ignition's validation reports for `config` at spec `version`. */
export function validateConfig(config: Config, version: SpecVersion): Issue[] {
  const ctx = new RuleContext(version);
  checkIgnition(ctx, config.ignition);
  if (config.storage) {
    checkDisks(ctx, config.storage);
    checkLuksVolumes(ctx, config.storage.luks ?? []);
    checkNodes(ctx, config.storage);
  }
  checkUnits(ctx, config.systemd?.units ?? []);
  checkSystemdPathConflicts(ctx, config);
  checkDuplicates(ctx, config);
  return ctx.issues;
}
