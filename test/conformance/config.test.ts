// Conformance, config half: every positive corpus variant's config parses and validates at its
// version, and every negative case that upstream rejects while reading the config
// (`configShouldBeBad`) is rejected by us. Runtime behaviour is checked by the stage runners.
import { describe, expect, test } from "bun:test";
import { formatIssue, parseConfig } from "../../src/config/index.ts";
import { corpusAvailable, knownFailures, loadVariants, renderForValidation } from "./corpus.ts";

const available = corpusAvailable();
const known = available ? knownFailures() : {};

describe.skipIf(!available)("ignition corpus: configs", () => {
  const variants = available ? loadVariants() : [];
  for (const v of variants) {
    const key = `config:${v.name}`;
    const expectReject = v.case.kind === "negative" && v.case.configShouldBeBad;
    // Positive cases with configShouldBeBad (an empty provider config) are runtime cases: the
    // provider treats "empty" as "no config", which the stage runners check.
    const mustCheck = (v.case.kind === "positive" && !v.case.configShouldBeBad) || expectReject;
    if (!mustCheck) continue;
    test(`${v.case.kind} ${v.name}`, () => {
      const r = parseConfig(renderForValidation(v));
      const passed = expectReject ? !r.ok : r.ok;
      if (key in known) {
        // A known failure that now passes must be removed from the list (it only shrinks).
        expect(passed, `"${key}" passes now: remove it from known-failures.json`).toBe(false);
        return;
      }
      const detail = r.issues.map(formatIssue).join("\n");
      expect(passed, expectReject ? "expected the config to be rejected" : detail).toBe(true);
    });
  }
});
