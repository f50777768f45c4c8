// Prints how often a YAML reader agrees with go-yaml's committed verdicts, per corpus and per
// kind of disagreement: `bun test/conformance/yaml_agreement.ts [-v]`.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseYaml } from "../../src/butane/yaml.ts";
import { REPO_ROOT } from "./corpus.ts";
import { canonical, sameVerdict, verdictOf, type Verdict } from "./go_yaml_value.ts";

const SUITE = process.env.NEXUS_YAML_SUITE_DIR ?? resolve(REPO_ROOT, "../shared/conformance/yaml-test-suite");
const OWN = join(REPO_ROOT, "test/conformance/yaml/cases");
const fixtures = JSON.parse(readFileSync(join(REPO_ROOT, "test/conformance/yaml/go-yaml.json"), "utf8")) as Record<string, Verdict>;
const verbose = process.argv.includes("-v");

const tally: Record<string, Record<string, number>> = {};
for (const [id, want] of Object.entries(fixtures)) {
  const [where, name] = id.split(/:(.*)/s) as [string, string];
  const text = readFileSync(where === "suite" ? join(SUITE, name, "in.yaml") : join(OWN, `${name}.yaml`), "utf8");
  const got = verdictOf(parseYaml(text));
  const kind = sameVerdict(got, want)
    ? "agree"
    : want.ok && !got.ok
      ? "go-yaml accepts, we reject"
      : !want.ok && got.ok
        ? "go-yaml rejects, we accept"
        : want.ok
          ? "different value"
          : "error on another line";
  const t = (tally[where] ??= {});
  t[kind] = (t[kind] ?? 0) + 1;
  if (verbose && kind !== "agree") {
    const show = (v: Verdict) => (v.ok ? canonical(v.value ?? null).slice(0, 300) : v.error.split("\n")[0]);
    console.log(`${id}: ${kind}\n  go-yaml: ${show(want)}\n  ours:    ${show(got)}`);
  }
}
for (const [where, t] of Object.entries(tally)) {
  const total = Object.values(t).reduce((a, b) => a + b, 0);
  console.log(`${where}: ${t.agree ?? 0}/${total} agree (${(((t.agree ?? 0) / total) * 100).toFixed(1)}%)`, JSON.stringify(t));
}
