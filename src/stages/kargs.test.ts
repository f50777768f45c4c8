import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "../config/types.ts";
import { Logger } from "../log/logger.ts";
import { runPathsIn } from "../executor/paths.ts";
import type { StageContext } from "../executor/stage.ts";
import { emptyState } from "../executor/state.ts";
import { createFetcher } from "../resource/index.ts";
import { fakeSystem, type FakeSystem } from "../system/fake.ts";
import { joinKargs, kargsStage, planKargs, splitKargs } from "./kargs.ts";
import { formatGrubEnv, GRUBENV_SIZE, parseGrubEnv } from "./kargs_entry.ts";

const top = mkdtempSync(join(tmpdir(), "nexus-kargs-"));
afterAll(() => rmSync(top, { recursive: true, force: true }));
let n = 0;

describe("planKargs()", () => {
  const cases: [string, string[], string[], string[], string[]][] = [
    ["appends a missing argument", ["quiet"], ["console=ttyS0"], [], ["quiet", "console=ttyS0"]],
    ["keeps an argument that already exists", ["quiet", "console=ttyS0"], ["console=ttyS0"], [], ["quiet", "console=ttyS0"]],
    ["removes every copy of an unwanted argument", ["a", "rhgb", "b", "rhgb"], [], ["rhgb"], ["a", "b"]],
    ["matches whole arguments only", ["console=tty0"], [], ["console=ttyS0"], ["console=tty0"]],
    ["does both", ["a", "b"], ["c", "a"], ["b"], ["a", "c"]],
  ];
  for (const [what, cur, add, del, want] of cases) {
    test(`\`planKargs()\` ${what}`, () => expect(planKargs(cur, add, del).args).toEqual(want));
  }
  test("`splitKargs()` and `joinKargs()` keep quoted values whole", () => {
    const args = splitKargs('root=/dev/sda1 opt="a b" quiet');
    expect(args).toEqual(["root=/dev/sda1", 'opt="a b"', "quiet"]);
    expect(joinKargs(args)).toBe('root=/dev/sda1 opt="a b" quiet');
  });
});

/** A stage context on a fresh root (with /etc unless `bare`); no boot device unless `bootDevice`. */
function context(
  config: object,
  setup: (root: string, work: string) => void = () => {},
  opts: { bare?: boolean; bootDevice?: boolean } = {},
): StageContext & { system: FakeSystem } {
  const work = join(top, String(++n));
  const root = join(work, "root");
  mkdirSync(opts.bare ? root : join(root, "etc"), { recursive: true });
  writeFileSync(join(work, "cmdline"), "BOOT_IMAGE=/vmlinuz root=UUID=abcd ro ignition.platform.id=qemu nexus.config.url=http://x/ quiet\n");
  const device = join(work, "boot-device");
  if (opts.bootDevice) writeFileSync(device, "");
  setup(root, work);
  // mount and umount of the boot device succeed without doing anything: the test put the
  // filesystem's contents where the stage mounts it (<runDir>/boot).
  const respond = (cmd: string) => (cmd === "mount" || cmd === "umount" ? { argv: [cmd], code: 0, stdout: "", stderr: "" } : undefined);
  return {
    config: { ignition: { version: "3.3.0" }, ...config } as Config,
    root,
    system: fakeSystem({ env: { NEXUS_PATH_CMDLINE: join(work, "cmdline"), NEXUS_PATH_BOOT_DEVICE: device }, respond }),
    log: new Logger(() => {}),
    fetcher: createFetcher(),
    platform: "qemu",
    state: emptyState(),
    paths: runPathsIn(join(work, "run")),
  };
}

describe("kargs stage", () => {
  test("`kargsStage.run()` edits /etc/kernel/cmdline and flags a reboot", async () => {
    const ctx = context({ kernelArguments: { shouldExist: ["console=ttyS0"], shouldNotExist: ["quiet"] } }, (root) => {
      mkdirSync(join(root, "etc/kernel"), { recursive: true });
      writeFileSync(join(root, "etc/kernel/cmdline"), "root=/dev/vda2 quiet\n");
    });
    await kargsStage.run(ctx);
    expect(readFileSync(join(ctx.root, "etc/kernel/cmdline"), "utf8")).toBe("root=/dev/vda2 console=ttyS0\n");
    expect(existsSync(join(ctx.paths!.runDir, "kargs-reboot"))).toBe(true);
    expect(ctx.state.kargsReboot).toBe(true);
  });

  test("`kargsStage.run()` seeds a missing file from the running kernel without boot-only arguments", async () => {
    const ctx = context({ kernelArguments: { shouldExist: ["console=ttyS0"] } });
    await kargsStage.run(ctx);
    expect(readFileSync(join(ctx.root, "etc/kernel/cmdline"), "utf8")).toBe("root=UUID=abcd ro quiet console=ttyS0\n");
  });

  test("`kargsStage.run()` changes nothing and sets no flag when the arguments are already right", async () => {
    const ctx = context({ kernelArguments: { shouldExist: ["ro"], shouldNotExist: ["rhgb"] } }, (root) => {
      mkdirSync(join(root, "usr/lib/kernel"), { recursive: true });
      writeFileSync(join(root, "usr/lib/kernel/cmdline"), "root=/dev/vda2 ro\n");
    });
    await kargsStage.run(ctx);
    expect(existsSync(join(ctx.root, "etc/kernel/cmdline"))).toBe(false);
    expect(existsSync(join(ctx.paths!.runDir, "kargs-reboot"))).toBe(false);
  });

  test("`kargsStage.plan()` lists additions and removals without touching the root", async () => {
    const ctx = context({ kernelArguments: { shouldExist: ["a=1"], shouldNotExist: ["quiet"] } });
    const plan = await kargsStage.plan(ctx);
    expect(plan.map((p) => `${p.action} ${p.detail}`)).toEqual(["remove-karg quiet", "add-karg a=1"]);
    expect(existsSync(join(ctx.root, "etc/kernel"))).toBe(false);
  });

  test("`kargsStage.run()` edits kernelopts on the mounted boot filesystem and unmounts it", async () => {
    const ctx = context({ kernelArguments: { shouldExist: ["nexus.testarg=1"], shouldNotExist: ["quiet"] } }, (_root, work) => {
      mkdirSync(join(work, "run/boot/grub"), { recursive: true });
      writeFileSync(join(work, "run/boot/grub/grubenv"), formatGrubEnv(new Map([["saved_entry", "0"], ["kernelopts", "console=ttyS0 quiet rw"]])));
    }, { bootDevice: true });
    await kargsStage.run(ctx);
    const boot = join(ctx.paths!.runDir, "boot");
    const env = readFileSync(join(boot, "grub/grubenv"), "utf8");
    expect(env.length).toBe(GRUBENV_SIZE);
    expect([...parseGrubEnv(env)]).toEqual([["saved_entry", "0"], ["kernelopts", "console=ttyS0 rw nexus.testarg=1"]]);
    expect(ctx.system.calls.map((c) => [c.cmd, ...c.args])).toEqual([
      ["mount", "-o", "rw", ctx.system.env.NEXUS_PATH_BOOT_DEVICE!, boot],
      ["umount", boot],
    ]);
    expect(existsSync(join(ctx.root, "etc/kernel"))).toBe(false);
    expect(ctx.state.kargsReboot).toBe(true);
  });

  test("`kargsStage.run()` fails and unmounts when the boot entry has no kernelopts", async () => {
    const ctx = context({ kernelArguments: { shouldExist: ["a=1"] } }, (_root, work) => {
      mkdirSync(join(work, "run/boot/grub"), { recursive: true });
      writeFileSync(join(work, "run/boot/grub/grubenv"), formatGrubEnv(new Map([["saved_entry", "0"]])));
    }, { bootDevice: true });
    await expect(kargsStage.run(ctx)).rejects.toThrow(/Cannot find the variable "kernelopts"/);
    expect(ctx.system.calls.map((c) => c.cmd)).toEqual(["mount", "umount"]);
    expect(ctx.state.kargsReboot).toBe(false);
  });

  test("`kargsStage.run()` edits the root's /boot/grub/grubenv when there is no boot device", async () => {
    const ctx = context({ kernelArguments: { shouldExist: ["b=2"] } }, (root) => {
      mkdirSync(join(root, "boot/grub"), { recursive: true });
      writeFileSync(join(root, "boot/grub/grubenv"), formatGrubEnv(new Map([["kernelopts", "root=LABEL=root"]])));
    });
    await kargsStage.run(ctx);
    expect(parseGrubEnv(readFileSync(join(ctx.root, "boot/grub/grubenv"), "utf8")).get("kernelopts")).toBe("root=LABEL=root b=2");
    expect(existsSync(join(ctx.root, "etc/kernel"))).toBe(false);
    expect(ctx.system.calls).toEqual([]);
  });

  test("`kargsStage.run()` fails without touching anything when there is no boot entry (an unmounted root)", async () => {
    const ctx = context({ kernelArguments: { shouldExist: ["c=3"] } }, () => {}, { bare: true });
    await expect(kargsStage.run(ctx)).rejects.toThrow(/Cannot find a boot entry to change/);
    expect(await kargsStage.plan(ctx)).toMatchObject([{ action: "fail" }]);
    expect(existsSync(join(ctx.root, "etc"))).toBe(false);
    expect(existsSync(join(ctx.paths!.runDir, "kargs-reboot"))).toBe(false);
  });

  test("`kargsStage.run()` does nothing without kernelArguments", async () => {
    const ctx = context({});
    await kargsStage.run(ctx);
    expect(await kargsStage.plan(ctx)).toEqual([]);
    expect(existsSync(join(ctx.root, "etc/kernel"))).toBe(false);
  });
});

describe("GRUB environment block", () => {
  // grub-common (APT_PACKAGES): the tool GRUB's own environment blocks are written with.
  const grubEditenv = Bun.which("grub-editenv") ?? "grub-editenv";

  test("`formatGrubEnv()` pads to 1024 bytes and `parseGrubEnv()` reads it back, escapes included", () => {
    const vars = new Map([["kernelopts", "a=1 b"], ["odd", "back\\slash"]]);
    const text = formatGrubEnv(vars);
    expect(new TextEncoder().encode(text).length).toBe(GRUBENV_SIZE);
    expect(parseGrubEnv(text)).toEqual(vars);
  });

  test("`formatGrubEnv()` refuses variables that do not fit", () => {
    expect(() => formatGrubEnv(new Map([["kernelopts", "x".repeat(1100)]]))).toThrow(/do not fit in 1024/);
  });

  test("`parseGrubEnv()` refuses a file that is not an environment block", () => {
    expect(() => parseGrubEnv("kernelopts=a\n")).toThrow(/not a GRUB environment block/);
  });

  test("blocks written by grub-editenv and by `formatGrubEnv()` read the same in both", () => {
    const file = join(top, "grubenv");
    const run = (...args: string[]) => {
      const r = Bun.spawnSync([grubEditenv, file, ...args], { stdout: "pipe", stderr: "pipe" });
      expect(r.exitCode, r.stderr.toString()).toBe(0);
      return r.stdout.toString();
    };
    run("create");
    run("set", "kernelopts=console=ttyS0 quiet", "saved_entry=1");
    const parsed = parseGrubEnv(readFileSync(file, "utf8"));
    expect(parsed.get("kernelopts")).toBe("console=ttyS0 quiet");
    parsed.set("kernelopts", "console=ttyS0 nexus.testarg=1");
    writeFileSync(file, formatGrubEnv(parsed));
    expect(run("list").split("\n").filter(Boolean).sort()).toEqual(["kernelopts=console=ttyS0 nexus.testarg=1", "saved_entry=1"]);
  });
});
