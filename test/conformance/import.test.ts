// Import conformance: every valid config of upstream's blackbox suite (at its own spec) and every
// fcos/flatcar case the real Butane translated, imported into a program and provisioned again,
// gives the same normal form as the input (Butane cases: as Butane's own output), and every
// imported program passes the type check `nexus check` runs. In-process: importConfig() writes
// the program to a temp dir, the pipeline's provision() compiles it; one checker run at the end.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { typeCheck } from "../../src/authoring/commands/check.ts";
import { importConfig, normalForm } from "../../src/authoring/import.ts";
import { formatDiagnostic, provision } from "../../src/authoring/provision.ts";
import { formatIssue, parseConfig } from "../../src/config/index.ts";
import { butaneCorpusDir, corpusAvailable, knownFailures, listButaneCases, loadVariants, prepareButaneCase, renderForValidation } from "./corpus.ts";

const scratch = mkdtempSync(join(tmpdir(), "nexus-import-corpus-"));
// Generous: removing ~3,600 small files took 6-9 s on a shared machine with a busy disk.
afterAll(() => rmSync(scratch, { recursive: true, force: true }), 120_000);
let serial = 0;
/** Each imported program, with the key a type-check failure is listed under. */
const programs = new Map<string, string>();

/** Imports `text`, provisions the program, and returns why the round trip fails (null: it holds). */
async function roundTrip(key: string, text: string, expected: string, filesDir?: string): Promise<string | null> {
  const imported = importConfig(text, { filesDir, name: "config" });
  if (!imported.ok) return `import failed:\n${imported.issues.map(formatIssue).join("\n")}`;
  const dir = join(scratch, String(++serial));
  for (const f of imported.files) {
    mkdirSync(dirname(join(dir, f.path)), { recursive: true });
    writeFileSync(join(dir, f.path), f.bytes);
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "system.ts"), imported.program);
  programs.set(join(dir, "system.ts"), key.replace(/^import:/, "import-check:"));
  const result = await provision({ programs: [join(dir, "system.ts")] });
  if (!result.ok) return `provision failed:\n${result.diagnostics.map((d) => formatDiagnostic(d)).join("\n")}\n--- program:\n${imported.program}`;
  const want = normalForm(expected);
  const got = normalForm(result.json);
  if (!want.ok || !got.ok) return `cannot parse: ${JSON.stringify(want.ok ? got : want)}`;
  if (got.version !== want.version) return `provisioned spec ${got.version}, the input is ${want.version}`;
  if (!Bun.deepEquals(got.model, want.model, true)) {
    return `normal forms differ\n--- want:\n${JSON.stringify(want.model)}\n--- got:\n${JSON.stringify(got.model)}\n--- program:\n${imported.program}`;
  }
  return null;
}

/** Checks a round trip, or that a listed known failure still fails (the list only shrinks). */
async function expectRoundTrip(key: string, known: Record<string, string>, run: (key: string) => Promise<string | null>): Promise<void> {
  const why = await run(key);
  if (key in known) {
    expect(why, `"${key}" round-trips now: remove it from known-failures.json`).not.toBeNull();
    return;
  }
  expect(why ?? "ok").toBe("ok");
}

const available = corpusAvailable();
const known = available ? knownFailures() : {};

describe.skipIf(!available)("ignition corpus: import then provision round-trips", () => {
  for (const v of available ? loadVariants() : []) {
    const text = renderForValidation(v);
    // Every config valid at its version: positive cases, and negative ones that fail later.
    if (!parseConfig(text).ok) continue;
    test(`${v.case.kind} ${v.name}`, () => expectRoundTrip(`import:${v.name}`, known, (k) => roundTrip(k, text, text)));
  }
});

const butaneAvailable = existsSync(join(butaneCorpusDir(), "cases"));
if (!butaneAvailable && process.env.CI === "true") {
  test("the Butane corpus is present", () => {
    throw new Error(`Cannot read the Butane corpus "${butaneCorpusDir()}": directory not found (set NEXUS_BUTANE_CORPUS_DIR)`);
  });
}

describe.skipIf(!butaneAvailable)("butane corpus: import then provision gives Butane's output", () => {
  for (const { dir, meta } of butaneAvailable ? listButaneCases() : []) {
    // Every fcos/flatcar case Butane translated (others are variants nexus-init does not read).
    if (!["fcos", "flatcar"].includes(meta.variant) || meta.exitCode !== 0 || !meta.expected) continue;
    test(meta.id, () =>
      expectRoundTrip(`import:butane:${meta.id}`, known, (k) => {
        const work = prepareButaneCase(dir, meta, scratch);
        const expected = readFileSync(join(dir, meta.expected!), "utf8");
        return roundTrip(k, readFileSync(join(work, "config.bu"), "utf8"), expected, meta.filesDir ? join(work, meta.filesDir) : undefined);
      }),
    );
  }
});

// Runs after the round trips (tests of a file run in order): one checker run over every program.
test.skipIf(!available && !butaneAvailable)("every imported program passes `nexus check`'s type check", async () => {
  expect(programs.size).toBeGreaterThan(0);
  const checked = await typeCheck([...programs.keys()], scratch);
  const failing = new Set<string>();
  for (const line of checked.lines) {
    const file = /^(.+?):\d+:\d+: error /.exec(line)?.[1];
    const key = file ? programs.get(join(scratch, file)) : undefined;
    expect(key, `not from an imported program: ${line}`).toBeString();
    failing.add(key!);
  }
  for (const key of programs.values()) {
    if (key in known) expect(failing.has(key), `"${key}" type-checks now: remove it from known-failures.json`).toBe(true);
    else expect(failing.has(key) ? `${key}:\n${checked.lines.join("\n")}` : "ok").toBe("ok");
  }
}, 300_000);
