// YAML conformance: our reader (src/butane/yaml.ts) against go-yaml v3, the library Butane reads
// configs with. Every case of ../shared/conformance/yaml-test-suite and every own case in
// test/conformance/yaml/cases must get go-yaml's verdict (scripts/gen-yaml-fixtures.sh wrote them
// to test/conformance/yaml/go-yaml.json): accepted with the same typed value, or rejected with an
// error on the same line. Cases we do not follow on purpose are listed in known-failures.json.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseYaml } from "../../src/butane/yaml.ts";
import { knownFailures, REPO_ROOT } from "./corpus.ts";
import { sameVerdict, verdictOf, type Verdict } from "./go_yaml_value.ts";

const SUITE = process.env.NEXUS_YAML_SUITE_DIR ?? resolve(REPO_ROOT, "../shared/conformance/yaml-test-suite");
const OWN = join(REPO_ROOT, "test/conformance/yaml/cases");
const FIXTURES = JSON.parse(readFileSync(join(REPO_ROOT, "test/conformance/yaml/go-yaml.json"), "utf8")) as Record<string, Verdict>;

/** The input of a case id (`suite:2G84/00`, `own:block-scalars`). */
function inputOf(id: string): Buffer {
  const [where, name] = id.split(/:(.*)/s) as [string, string];
  return readFileSync(where === "suite" ? join(SUITE, name, "in.yaml") : join(OWN, `${name}.yaml`));
}

const known = knownFailures();
const suitePresent = existsSync(SUITE);

if (!suitePresent && process.env.CI === "true") {
  test("the YAML test suite is present", () => {
    throw new Error(`Cannot read the YAML test suite "${SUITE}": directory not found (set NEXUS_YAML_SUITE_DIR)`);
  });
}

describe("YAML reader against go-yaml v3", () => {
  for (const [id, want] of Object.entries(FIXTURES)) {
    const run = id.startsWith("suite:") && !suitePresent ? test.skip : test;
    run(`parseYaml() reads ${id} as go-yaml does`, () => {
      const got = verdictOf(parseYaml(new TextDecoder().decode(inputOf(id))));
      const reason = known[`yaml:${id}`];
      if (reason !== undefined) {
        // A listed case must still differ; once it agrees, take it off the list.
        expect({ id, agrees: sameVerdict(got, want) }).toEqual({ id, agrees: false });
        return;
      }
      expect({ id, got }).toEqual({ id, got: sameVerdict(got, want) ? got : want });
    });
  }

  test("every own case has a go-yaml verdict", () => {
    const own = Object.keys(FIXTURES).filter((id) => id.startsWith("own:"));
    expect(own.length).toBeGreaterThan(0);
  });
});
