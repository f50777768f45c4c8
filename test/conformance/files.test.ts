// Conformance, root half: every variant of every corpus case that needs neither block devices
// nor the network, run through the real engine against a temporary root (root_runner.ts).
// Variants listed in known-failures.json must still fail (the list only shrinks).
import { describe, expect, test } from "bun:test";
import { corpusAvailable, knownFailures, loadVariants } from "./corpus.ts";
import { isRootCase, runAccountsBothWays, runRootVariant } from "./root_runner.ts";

const available = corpusAvailable();
const known = available ? knownFailures() : {};

describe.skipIf(!available)("ignition corpus: root cases", () => {
  const variants = available ? loadVariants(isRootCase) : [];
  test("the corpus has root cases to run", () => {
    expect(variants.length).toBeGreaterThan(0);
  });
  for (const v of variants) {
    test(`${v.case.kind} ${v.name}`, async () => {
      const r = await runRootVariant(v);
      if (v.name in known) {
        expect(r.passed, `"${v.name}" passes now: remove it from known-failures.json`).toBe(false);
        return;
      }
      expect(r.passed, r.detail).toBe(true);
    });
  }
});

// Every account case also runs both ways — natively and with shadow's real tools, as current
// upstream Ignition drives them — and must leave byte-identical roots (or fail both ways, the
// native one touching nothing). This holds for the known failures too: they differ from
// upstream's tool stubs, not from the tools.
describe.skipIf(!available)("ignition corpus: account cases, native vs shadow's tools", () => {
  const variants = available ? loadVariants((c) => isRootCase(c) && c.kind === "positive" && c.area === "passwd") : [];
  test("the corpus has account cases", () => {
    expect(variants.length).toBeGreaterThan(0);
  });
  for (const v of variants) {
    test(`${v.name} both ways`, async () => {
      const r = await runAccountsBothWays(v);
      expect(r.passed, r.detail).toBe(true);
    });
  }
});
