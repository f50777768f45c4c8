// Whether a config needs the network: the fetch-offline stage caches a config only when
// nothing it references does, and flags the network otherwise.
import type { Config } from "../config/types.ts";
import { NeedNetError, schemeOf } from "../resource/index.ts";

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
  const scheme = schemeOf(source);
  return scheme !== null && scheme !== "data";
}

/** The NeedNetError behind e (directly or as a cause), if any. */
export function findNeedNet(e: unknown): NeedNetError | null {
  for (let cur = e, i = 0; cur && i < 10; cur = (cur as { cause?: unknown }).cause, i++) {
    if (cur instanceof NeedNetError) return cur;
  }
  return null;
}
