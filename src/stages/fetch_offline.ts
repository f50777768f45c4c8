// The fetch-offline stage: acquires the config with a fetcher that refuses the network. When
// that works the config is cached as by the fetch stage; when the provider, a referenced
// config or any resource of the result needs the network, it records that in the run
// directory (the "neednet" flag the initramfs uses to bring networking up) and succeeds,
// leaving the rest to the fetch stage.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { acquireInputFor, acquireOnce, planAcquisition } from "../acquire/acquire.ts";
import { configNeedsNet, findNeedNet } from "../acquire/neednet.ts";
import { runPaths } from "../executor/paths.ts";
import type { Stage, StageContext } from "../executor/stage.ts";

/** The flag file's name in the run directory. */
export const NEEDNET_FLAG = "neednet";

/** Where the neednet flag goes: NEXUS_NEEDNET, else <runDir>/neednet. */
export function neednetPath(ctx: StageContext): string {
  return ctx.system.env.NEXUS_NEEDNET ?? join(runPaths(ctx).runDir, NEEDNET_FLAG);
}

/** Writes the flag file and notes it in the state. */
function signalNeedNet(ctx: StageContext, why: string): void {
  const path = neednetPath(ctx);
  mkdirSync(join(path, ".."), { recursive: true, mode: 0o700 });
  writeFileSync(path, "");
  ctx.state.neednet = true;
  ctx.log.info(`The network is needed (${why}); flagged at "${path}"`);
}

/** The fetch-offline stage: acquires the config without network, or flags that it needs one. */
export const fetchOfflineStage: Stage = {
  name: "fetch-offline",

  async plan(ctx) {
    return planAcquisition(ctx.platform, runPaths(ctx).config).map((p) => ({ stage: "fetch-offline", ...p }));
  },

  async run(ctx) {
    let acquired;
    try {
      acquired = await acquireOnce(acquireInputFor(ctx, true), runPaths(ctx).config);
    } catch (e) {
      const need = findNeedNet(e);
      if (!need) throw new Error(`Cannot acquire the config: ${(e as Error).message}`, { cause: e });
      signalNeedNet(ctx, `fetching ${need.url}`);
      return;
    }
    ctx.config = acquired.config;
    if (acquired.fetched) ctx.state.fetched = acquired.fetched;
    if (configNeedsNet(acquired.config)) signalNeedNet(ctx, "the config references remote resources");
  },
};
