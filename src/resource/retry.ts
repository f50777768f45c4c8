// Retry timing shared by every network scheme: Ignition's backoff, 200 ms doubling to 5 s, and
// the one loop that applies it.

/** How long to wait between attempts; tests shrink these. */
export interface RetryPolicy {
  /** First wait after a failed attempt, in milliseconds (200). */
  initialMs: number;
  /** Longest wait, in milliseconds (5000). */
  maxMs: number;
  /** Give up after this many attempts (Infinity: until httpTotal or the caller's signal ends it). */
  maxAttempts: number;
}

/** Ignition's policy: 200 ms doubling to 5 s, retrying until a total timeout stops it. */
export const DEFAULT_RETRY: RetryPolicy = { initialMs: 200, maxMs: 5000, maxAttempts: Infinity };

/** The wait before attempt number `attempt + 1` (attempt counts from 1). */
export function computeBackoff(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt - 1, 30));
}

/**
 * Runs attempt(1), attempt(2), … until one succeeds. After a failure, `canRetry` decides
 * whether to try again (it may prepare the next attempt); the failure is thrown when it says
 * no or the policy's attempts are used up. Waits back off per the policy; `signal` ends a wait.
 */
export async function retrying<T>(
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
  attempt: (n: number) => Promise<T>,
  canRetry: (e: unknown, n: number) => boolean | Promise<boolean>,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (e) {
      if (n >= policy.maxAttempts || !(await canRetry(e, n))) throw e;
    }
    await sleep(computeBackoff(policy, n), signal);
  }
}

/** Resolves after ms, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
