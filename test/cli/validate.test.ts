import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./run_cli.ts";

const dir = mkdtempSync(join(tmpdir(), "nexus-validate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe("nexus-init validate", () => {
  test("validate exits 0 and prints nothing for a valid config", async () => {
    const r = await runCli(["validate", file("ok.ign", '{"ignition":{"version":"3.4.0"}}')]);
    expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  test("validate exits 0 and prints warnings for unknown keys", async () => {
    const r = await runCli(["validate", file("warn.ign", '{"ignition":{"version":"3.4.0"},\n"extra":1}')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('warning at extra: unknown key "extra" is not part of spec 3.4.0 and is ignored (line 2, column 1)\n');
  });

  test("validate --strict exits 1 on unknown keys", async () => {
    const r = await runCli(["validate", "--strict", file("warn2.ign", '{"ignition":{"version":"3.4.0"},"extra":1}')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toStartWith("error at extra: unknown key");
  });

  test("validate exits 1 with path, message and position for a bad field", async () => {
    const text = '{\n  "ignition": {"version": "3.0.0"},\n  "storage": {"files": [{"path": "/a", "mode": "644"}]}\n}';
    const r = await runCli(["validate", file("bad.ign", text)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("error at storage.files.0.mode: expected an integer, got a string (line 3, column 48)\n");
  });

  test("validate --json prints the machine-readable report on stdout", async () => {
    const r = await runCli(["validate", "--json", "-"], { stdin: '{"ignition":{"version":"2.2.0"}}' });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.ok).toBe(false);
    expect(out.issues[0]).toMatchObject({ severity: "error", path: "ignition.version", line: 1 });
    expect(out.issues[0].message).toMatch(/2.2.0/);
  });

  test("validate reads standard input with -", async () => {
    const r = await runCli(["validate", "-"], { stdin: '{"ignition":{"version":"3.6.0"}}' });
    expect(r.code).toBe(0);
  });

  test.each([[[]], [["a", "b"]], [["--bogus", "x"]], [[join(dir, "missing.ign")]]])(
    "validate exits 2 on usage error %p",
    async (args) => {
      const r = await runCli(["validate", ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("nexus-init validate:");
    },
  );

  test("an unknown command exits 2", async () => {
    expect((await runCli(["frobnicate"])).code).toBe(2);
  });
});

describe("nexus-init validate with Butane", () => {
  test("validate accepts a Butane config", async () => {
    const r = await runCli(["validate", "-"], { stdin: "variant: fcos\nversion: 1.4.0\npasswd:\n  users:\n    - name: core\n" });
    expect(r).toMatchObject({ code: 0, stderr: "" });
  });

  test("validate points Butane errors at the YAML line", async () => {
    const r = await runCli(["validate", "-"], { stdin: "variant: fcos\nversion: 1.4.0\nstorage:\n  directories:\n    - path: relative/dir\n" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error at storage\.directories\.0\.path: .*\(line 5, column \d+\)$/m);
  });
});
