// Conformance, network half: every variant of every corpus case that needs the network but no
// block devices, run through the real engine against a temporary root (root_runner.ts) with the
// corpus's mock servers on 127.0.0.1 (mock_servers.ts): the fixed HTTP and TFTP servers once
// for the file, the per-case placeholder servers for each variant. Timing-sensitive variants
// (delays, retries, timeouts) run concurrently, as upstream runs them, since each mostly waits.
// Variants listed in known-failures.json must still fail (the list only shrinks).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { corpusAvailable, corpusDir, knownFailures, loadVariants, type CorpusCase, type CorpusVariant } from "./corpus.ts";
import { startCaseServers, startFixedServers, type FixedServers } from "./mock_servers.ts";
import { runRootVariant } from "./root_runner.ts";

const available = corpusAvailable();
const known = available ? knownFailures() : {};

/** Cases this file covers. */
export function isNetworkCase(c: CorpusCase): boolean {
  return c.requirements.needsNetwork === true && c.requirements.needsBlockDevices !== true;
}

/** Upstream's deadline for a whole test, setup included. */
const CASE_DEADLINE_MS = 60_000;

let fixed: FixedServers;

async function runNetworkVariant(v: CorpusVariant): Promise<{ passed: boolean; detail: string }> {
  const servers = await startCaseServers(v.case.mockResources, fixed);
  try {
    return await runRootVariant({ ...v, config: servers.rewrite(v.config) });
  } finally {
    await servers.stop();
  }
}

describe.skipIf(!available)("ignition corpus: network cases", () => {
  beforeAll(async () => {
    fixed = await startFixedServers(corpusDir());
  });
  afterAll(async () => {
    await fixed?.stop();
  });

  const variants = available ? loadVariants(isNetworkCase) : [];
  test("the corpus has network cases to run", () => {
    expect(variants.length).toBeGreaterThan(0);
  });
  for (const v of variants) {
    const run = v.case.requirements.timingSensitive ? test.concurrent : test;
    run(
      `${v.case.kind} ${v.name}`,
      async () => {
        const r = await runNetworkVariant(v);
        if (v.name in known) {
          expect(r.passed, `"${v.name}" passes now: remove it from known-failures.json`).toBe(false);
          return;
        }
        expect(r.passed, r.detail).toBe(true);
      },
      CASE_DEADLINE_MS,
    );
  }
});
