import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../test/cli/run_cli.ts";

let dir: string;
let root: string;
let runDir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "nexus-runcmd-"));
  root = join(dir, "sysroot");
  runDir = join(dir, "run");
  mkdirSync(root);
  mkdirSync(runDir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("nexus-init run", () => {
  test.each([
    [["run", "--platform", "qemu"], /--stage NAME is required/],
    [["run", "--stage", "nope", "--platform", "qemu"], /unknown stage "nope"/],
    [["run", "--stage", "files"], /--platform ID is required/],
  ])("run %p exits 2", async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  test("run --stage files reads the cached config, logs with priorities and records its timing; umount ends the run", async () => {
    writeFileSync(join(runDir, "config.json"), JSON.stringify({ ignition: { version: "3.6.0" }, storage: { files: [{ path: "/etc/hostname", contents: { source: "data:,node1" } }] } }));
    writeFileSync(join(dir, "cmdline"), `nexus.root=${join(dir, "no-such-device")}\n`);
    const env = { NEXUS_PATH_RUN_DIR: runDir, NEXUS_PATH_CMDLINE: join(dir, "cmdline") };
    const r = await runCli(["run", "--stage", "files", "--platform", "qemu", "--root", root], { env });
    expect(r.code).toBe(0);
    expect(readFileSync(join(root, "etc/hostname"), "utf8")).toBe("node1");
    expect(r.stderr).toMatch(/^<6>files: op\(\d+\): \[started\]  writing file "\/etc\/hostname"$/m);
    const state = JSON.parse(readFileSync(join(runDir, "state.json"), "utf8"));
    expect(state.stages.map((s: { name: string; ok: boolean }) => [s.name, s.ok])).toEqual([["files", true]]);
    // The root is not mounted and no device matches nexus.root=: the journal waits in the run directory.
    expect(existsSync(join(runDir, ".nexus-init-journal"))).toBe(true);
    expect(existsSync(join(root, "etc/.nexus-result.json"))).toBe(false);
    const u = await runCli(["run", "--stage", "umount", "--platform", "qemu", "--root", root], { env });
    expect(u.code).toBe(0);
    expect(JSON.parse(readFileSync(join(root, "etc/.nexus-result.json"), "utf8")).configSource).toBe("platform qemu");
    expect(existsSync(join(runDir, ".nexus-init-journal"))).toBe(false);
  });

  test("run --stage files exits 1 at critical priority without a cached config", async () => {
    const r = await runCli(["run", "--stage", "files", "--platform", "qemu", "--root", root], { env: { NEXUS_PATH_RUN_DIR: runDir } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^<2>CRIT: files: stage failed: Cannot read the rendered config/m);
  });
});
