// The fetch-offline stage: acquires the config with a fetcher that refuses the network. When
// that works the config is cached as by the fetch stage; when the provider, a referenced
// config or any resource of the result needs the network, it records that in the run
// directory (the "neednet" flag the initramfs uses to bring networking up) and succeeds,
// leaving the rest to the fetch stage.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/types.ts";
import { runPaths } from "../executor/paths.ts";
import { step, type Stage, type StageContext } from "../executor/stage.ts";
import { NeedNetError, SCHEMES } from "../resource/index.ts";
import { readConfigCache, writeConfigCache } from "../executor/config_cache.ts";
import { acquireConfig, adopt, planFetch } from "./fetch.ts";

/** The flag file's name in the run directory. */
export const NEEDNET_FLAG = "neednet";
const LOCAL_SCHEMES = new Set(["data", ""]);

/** Where the neednet flag goes: NEXUS_NEEDNET, else <runDir>/neednet. */
export function neednetPath(ctx: StageContext): string {
  return ctx.system.env.NEXUS_NEEDNET ?? join(runPaths(ctx).runDir, NEEDNET_FLAG);
}

/** True when fetching some resource of the config (or a tang server) needs the network. */
export function configNeedsNet(config: Config): boolean {
  const visit = (v: unknown): boolean => {
    if (Array.isArray(v)) return v.some(visit);
    if (v === null || typeof v !== "object") return false;
    const o = v as Record<string, unknown>;
    if (typeof o.source === "string" && sourceNeedsNet(o.source)) return true;
    return Object.values(o).some(visit);
  };
  const tang = (config.storage?.luks ?? []).some((l) => (l.clevis?.tang?.length ?? 0) > 0);
  return tang || visit(config);
}

function sourceNeedsNet(source: string): boolean {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(source)?.[1]?.toLowerCase() ?? "";
  return !LOCAL_SCHEMES.has(scheme) && (SCHEMES as readonly string[]).includes(scheme);
}

/** Writes the flag file and notes it in the state. */
export function signalNeedNet(ctx: StageContext, why: string): void {
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
    return planFetch(ctx, "fetch-offline");
  },

  async run(ctx) {
    const cachePath = runPaths(ctx).config;
    let config = await step("read the cached config", () => readConfigCache(cachePath));
    if (!config) {
      try {
        const acquired = await acquireConfig(ctx, { offline: true });
        await step("cache the rendered config", () => writeConfigCache(cachePath, acquired.config));
        adopt(ctx, acquired);
        config = acquired.config;
      } catch (e) {
        const need = findNeedNet(e);
        if (!need) throw new Error(`Cannot acquire the config: ${(e as Error).message}`, { cause: e });
        signalNeedNet(ctx, `fetching ${need.url}`);
        return;
      }
    } else {
      ctx.config = config;
    }
    if (configNeedsNet(config)) signalNeedNet(ctx, "the config references remote resources");
  },
};

/** The NeedNetError behind e (directly or as a cause), if any. */
function findNeedNet(e: unknown): NeedNetError | null {
  for (let cur = e, i = 0; cur && i < 10; cur = (cur as { cause?: unknown }).cause, i++) {
    if (cur instanceof NeedNetError) return cur;
  }
  return null;
}
