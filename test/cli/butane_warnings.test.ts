// Every warning of a Butane config is printed once, whichever command reads it: ours
// (`warning at path: message (line L, column C)`) for validate, plan and apply, Butane's for
// translate (its CLI mirrors Butane's stderr, which tools parse).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./run_cli.ts";

const dir = mkdtempSync(join(tmpdir(), "nexus-butane-warn-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const root = join(dir, "root");
mkdirSync(root);
const config = join(dir, "warn.bu");
writeFileSync(config, "variant: fcos\nversion: 1.5.0\nstorage:\n  bogus: 1\n");

const OURS = "warning at storage.bogus: Unused key bogus (line 4, column 3)";
const BUTANE = "warning at $.storage.bogus, line 4 col 3: Unused key bogus";
const mentions = (stderr: string) => stderr.split("\n").filter((l) => l.includes("bogus"));

describe("Butane warnings", () => {
  const cases: [string, string[], string][] = [
    ["translate --from-butane", ["translate", "--from-butane", config], BUTANE],
    ["validate", ["validate", config], OURS],
    ["validate --strict", ["validate", "--strict", config], OURS],
    ["plan", ["plan", "--root", root, config], OURS],
    ["apply", ["apply", "--root", root, config], OURS],
  ];
  for (const [what, args, line] of cases) {
    test(`${what} prints each Butane warning once`, async () => {
      const r = await runCli(args);
      expect(mentions(r.stderr)).toEqual([line]);
    });
  }

  test("validate --strict fails on a Butane warning with Butane's reason", async () => {
    const r = await runCli(["validate", "--strict", config]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Config produced warnings and --strict was specified");
  });

  test("validate points a YAML syntax error at its line and column", async () => {
    const r = await runCli(["validate", "-"], { stdin: "variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /a\n     mode: 1\n" });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `error at "": Error translating config: Error unmarshaling yaml: yaml: line 4: did not find expected '-' indicator (line 6, column 6)\n`,
    );
  });
});
