// Whether a config needs the network: the fetch-offline stage caches a config only when
// nothing it references does, and flags the network otherwise.
import type { Config } from "../config/types.ts";
import { NeedNetError, schemeOf } from "../resource/index.ts";

/** True when fetching some resource of the config, or binding a clevis pin, needs the network. */
export function configNeedsNet(config: Config): boolean {
  const visit = (v: unknown): boolean => {
    if (Array.isArray(v)) return v.some(visit);
    if (v === null || typeof v !== "object") return false;
    const o = v as Record<string, unknown>;
    if (typeof o.source === "string" && sourceNeedsNet(o.source)) return true;
    return Object.values(o).some(visit);
  };
  // As upstream's fetch-offline: a tang server without an advertisement is asked for one at
  // bind time, and a custom pin may say it needs the network.
  const clevis = (config.storage?.luks ?? []).some(
    (l) => (l.clevis?.tang ?? []).some((t) => !t.advertisement) || l.clevis?.custom?.needsNetwork === true,
  );
  return clevis || visit(config);
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
