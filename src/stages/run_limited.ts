// Bounded concurrency for independent filesystem writes (nodes of one depth, distinct units):
// file creation mostly waits on the filesystem journal, so a few in flight overlap the waits.

/** How many nodes of one depth are written at once (file creation waits on the journal). */
export const NODE_CONCURRENCY = 8;

/** The write concurrency: NEXUS_FILES_CONCURRENCY (1 writes strictly one node at a time). */
export function writeConcurrency(env: Record<string, string | undefined>): number {
  const n = Number(env.NEXUS_FILES_CONCURRENCY);
  return Number.isInteger(n) && n >= 1 ? n : NODE_CONCURRENCY;
}

/**
 * Runs tasks with at most `limit` in flight; after the first failure no new task starts, the
 * running ones settle, and that failure is thrown.
 */
export async function runLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++]!;
      try {
        await task(item);
      } catch (e) {
        failure ??= { error: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw (failure as { error: unknown }).error;
}
