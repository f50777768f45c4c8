// The fetch stage: acquires the config with the network available (acquire/) and caches the
// rendered result for the later stages; a config an earlier fetch stage cached is used as is.
import { acquireInputFor, acquireOnce, planAcquisition } from "../acquire/acquire.ts";
import { runPaths } from "../executor/paths.ts";
import { step, type Stage } from "../executor/stage.ts";

/** The fetch stage. */
export const fetchStage: Stage = {
  name: "fetch",

  async plan(ctx) {
    return planAcquisition(ctx.platform, runPaths(ctx).config).map((p) => ({ stage: "fetch", ...p }));
  },

  async run(ctx) {
    const r = await step("acquire the config", () => acquireOnce(acquireInputFor(ctx, false), runPaths(ctx).config));
    ctx.config = r.config;
    if (r.fetched) ctx.state.fetched = r.fetched;
  },
};
