// Layering fetch options: the fetcher's defaults (a config's settings) under each call's own.
import type { FetchOptions } from "./types.ts";

/** Layers call options over defaults field by field (headers and CAs concatenate). */
export function mergeOptions(base: FetchOptions | undefined, over: FetchOptions): FetchOptions {
  if (!base) return over;
  return {
    headers: [...(base.headers ?? []), ...(over.headers ?? [])],
    timeouts: { ...base.timeouts, ...stripNullish(over.timeouts) },
    proxy: over.proxy ?? base.proxy,
    certificateAuthorities: [...(base.certificateAuthorities ?? []), ...(over.certificateAuthorities ?? [])],
    signal: over.signal ?? base.signal,
  };
}

/** The object without its null and undefined members. */
export function stripNullish<T extends object>(o: T | null | undefined): Partial<T> {
  if (!o) return {};
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as Partial<T>;
}

/** One signal for the caller's signals and a total timeout (0: none), or undefined for none. */
export function combineSignals(signals: readonly (AbortSignal | undefined)[], totalS: number): AbortSignal | undefined {
  const all = [...signals, totalS > 0 ? AbortSignal.timeout(totalS * 1000) : undefined].filter((s): s is AbortSignal => s !== undefined);
  return all.length > 1 ? AbortSignal.any(all) : all[0];
}
