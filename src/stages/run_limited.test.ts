import { describe, expect, test } from "bun:test";
import { runLimited, writeConcurrency } from "./run_limited.ts";

describe("runLimited()", () => {
  test("runLimited() never has more than the limit in flight and runs every task", async () => {
    let inFlight = 0;
    let peak = 0;
    const done: number[] = [];
    await runLimited([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      peak = Math.max(peak, ++inFlight);
      await Bun.sleep(2);
      done.push(n);
      inFlight--;
    });
    expect(peak).toBe(3);
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  test("runLimited() starts nothing new after a failure and throws that failure", async () => {
    const started: number[] = [];
    const run = runLimited([1, 2, 3, 4, 5], 1, async (n) => {
      started.push(n);
      if (n === 2) throw new Error("boom 2");
    });
    await expect(run).rejects.toThrow("boom 2");
    expect(started).toEqual([1, 2]);
  });

  test.each([
    [{}, 8],
    [{ NEXUS_FILES_CONCURRENCY: "1" }, 1],
    [{ NEXUS_FILES_CONCURRENCY: "0" }, 8],
    [{ NEXUS_FILES_CONCURRENCY: "x" }, 8],
  ])("writeConcurrency() reads %p as %p", (env, want) => {
    expect(writeConcurrency(env)).toBe(want);
  });
});
