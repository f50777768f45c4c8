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
    [["run", "--stage", "files,nope", "--platform", "qemu"], /unknown stage "nope"/],
    [["run", "--stage", "files,files", "--platform", "qemu"], /a stage is named twice/],
    [["run", "--stage", "files,", "--platform", "qemu"], /empty stage name/],
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

/**
 * `run` with several stages as the hand-built initramfs calls it, with the file platform and
 * the boot environment's two host steps replaced by scripts that record their calls.
 */
describe("nexus-init run with several stages (one process)", () => {
  function boot(config: object, opts: { netUpFails?: boolean } = {}) {
    const configFile = join(dir, "user.ign");
    writeFileSync(configFile, JSON.stringify(config));
    // No device matches the root's spec (the default, LABEL=root, could match a device of the
    // host): the journal waits in the run directory until the root is mounted.
    writeFileSync(join(dir, "cmdline"), `nexus.root=${join(dir, "no-such-device")}\n`);
    const calls = join(dir, "calls");
    const script = (name: string, body: string) => {
      const path = join(dir, name);
      writeFileSync(path, `#!/bin/sh\necho "${name} $*" >>"${calls}"\n${body}\n`, { mode: 0o755 });
      return path;
    };
    const env = {
      NEXUS_PATH_RUN_DIR: runDir,
      NEXUS_CONFIG_FILE: configFile,
      NEXUS_PATH_CMDLINE: join(dir, "cmdline"),
      NEXUS_PATH_BOOT_DEVICE: join(dir, "no-boot-device"),
      NEXUS_SYSTEM_CONFIG_DIR: join(dir, "none"),
      NEXUS_SYSTEM_RUNTIME_CONFIG_DIR: join(dir, "none"),
      NEXUS_SYSTEM_LOCAL_CONFIG_DIR: join(dir, "none"),
      NEXUS_CMD_NET_UP: script("net-up", opts.netUpFails ? 'echo "no interface got a DHCP lease" >&2; exit 1' : 'echo "network: eth0 10.0.2.15/24"'),
      NEXUS_CMD_MOUNT_ROOT: script("mount-root", 'echo "root: /dev/vda1 at $1"'),
    };
    return {
      run: (stage = "all") => runCli(["run", "--stage", stage, "--platform", "file", "--root", root], { env }),
      calls: () => (existsSync(calls) ? readFileSync(calls, "utf8").split("\n").filter(Boolean).map((l) => l.trimEnd()) : []),
    };
  }
  /** The per-stage lines, in order, without their timings. */
  const progress = (stderr: string) => [...stderr.matchAll(/^<5>stage (\S+): (started|finished|failed)/gm)].map((m) => `${m[1]} ${m[2]}`);
  const motd = { ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/motd", contents: { source: "data:,hello" } }] } };

  test("run --stage all runs every stage in one process, mounting the root before mount, without the network", async () => {
    const b = boot(motd);
    const r = await b.run();
    expect(r.code).toBe(0);
    expect(progress(r.stderr)).toEqual([
      "fetch-offline started", "fetch-offline finished", "kargs started", "kargs finished", "disks started", "disks finished",
      "mount started", "mount finished", "files started", "files finished", "umount started", "umount finished",
    ]);
    expect(r.stderr).toMatch(/^<5>stage files: finished in \d+ ms$/m);
    expect(r.stderr).toContain(`<6>root: /dev/vda1 at ${root}`);
    expect(b.calls()).toEqual([`mount-root ${root}`]);
    expect(readFileSync(join(root, "etc/motd"), "utf8")).toBe("hello");
    const state = JSON.parse(readFileSync(join(runDir, "state.json"), "utf8"));
    expect(state.stages.map((s: { name: string }) => s.name)).toEqual(["fetch-offline", "kargs", "disks", "mount", "files", "umount"]);
    const report = JSON.parse(readFileSync(join(root, "etc/.nexus-result.json"), "utf8"));
    expect(report.outcome).toBe("success");
    // The report comes after the last stage, the journal of the complete run is gone.
    expect(report.stages.map((s: { name: string }) => s.name)).toEqual(["fetch-offline", "kargs", "disks", "mount", "files", "umount"]);
    expect(existsSync(join(root, ".nexus-init-journal"))).toBe(false);
    expect(existsSync(join(runDir, ".nexus-init-journal"))).toBe(false);
  });

  test("run --stage all brings the network up before fetch when fetch-offline needs it", async () => {
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("remote") });
    try {
      const b = boot({ ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/remote", contents: { source: `http://127.0.0.1:${server.port}/f` } }] } });
      const r = await b.run();
      expect(r.code).toBe(0);
      expect(b.calls()).toEqual(["net-up", `mount-root ${root}`]);
      expect(progress(r.stderr).slice(0, 4)).toEqual(["fetch-offline started", "fetch-offline finished", "fetch started", "fetch finished"]);
      expect(r.stderr).toContain("<6>network: eth0 10.0.2.15/24");
      expect(readFileSync(join(root, "etc/remote"), "utf8")).toBe("remote");
    } finally {
      server.stop(true);
    }
  });

  test("run --stage all fails closed when the network cannot be brought up", async () => {
    const b = boot({ ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/remote", contents: { source: "http://127.0.0.1:9/f" } }] } }, { netUpFails: true });
    const r = await b.run();
    expect(r.code, r.stderr).toBe(1);
    expect(progress(r.stderr)).toEqual(["fetch-offline started", "fetch-offline finished", "fetch failed"]);
    expect(r.stderr).toMatch(/^<2>CRIT: fetch: stage failed: .*no interface got a DHCP lease/m);
    expect(b.calls()).toEqual(["net-up"]);
    expect(existsSync(join(root, "etc"))).toBe(false);
  });

  test("run --stage all stops before disks when kargs changed the kernel arguments", async () => {
    mkdirSync(join(root, "etc"));
    const b = boot({ ...motd, kernelArguments: { shouldExist: ["nexus.testarg=1"] } });
    const r = await b.run();
    expect(r.code).toBe(0);
    expect(progress(r.stderr)).toEqual(["fetch-offline started", "fetch-offline finished", "kargs started", "kargs finished"]);
    expect(r.stderr).toContain("stopping before disks");
    expect(existsSync(join(runDir, "kargs-reboot"))).toBe(true);
    expect(readFileSync(join(root, "etc/kernel/cmdline"), "utf8")).toBe("nexus.testarg=1\n");
    expect(b.calls()).toEqual([]);
    expect(existsSync(join(root, "etc/motd"))).toBe(false);
  });

  test("run --stage all stops at a failed stage: nothing later runs, nothing is mounted", async () => {
    const b = boot({ ignition: { version: "3.4.0" }, storage: { files: [{ path: "etc/relative", contents: { source: "data:,x" } }] } });
    const r = await b.run();
    expect(r.code).toBe(1);
    expect(progress(r.stderr)).toEqual(["fetch-offline started", "fetch-offline failed"]);
    expect(r.stderr).toContain('"etc/relative"');
    expect(b.calls()).toEqual([]);
    expect(existsSync(join(root, "etc"))).toBe(false);
  });

  test("run --stage with a comma list runs those stages in boot order", async () => {
    const b = boot(motd);
    const r = await b.run("files,fetch-offline");
    expect(r.code).toBe(0);
    expect(progress(r.stderr)).toEqual(["fetch-offline started", "fetch-offline finished", "files started", "files finished"]);
    expect(b.calls()).toEqual([]);
  });
});
