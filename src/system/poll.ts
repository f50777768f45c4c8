// Waiting for the host to show something — a device node, the kernel's view of a partition
// table — as a bounded poll that backs off, never a fixed sleep.

/** How long to wait in all, and the first and longest pause between two looks. */
export interface PollTiming {
  timeoutMs: number;
  firstMs: number;
  maxMs: number;
}

/**
 * Calls `look` until it returns something other than undefined, pausing `firstMs` after the
 * first look and doubling up to `maxMs`; returns undefined once `timeoutMs` have passed (the
 * caller says what was missing).
 */
export async function pollUntil<T>(look: () => Promise<T | undefined> | T | undefined, timing: PollTiming): Promise<T | undefined> {
  const deadline = performance.now() + timing.timeoutMs;
  for (let pause = timing.firstMs; ; pause = Math.min(pause * 2, timing.maxMs)) {
    const found = await look();
    if (found !== undefined) return found;
    if (performance.now() >= deadline) return undefined;
    await Bun.sleep(pause);
  }
}
