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
import { fakeSystem } from "../system/fake.ts";
import { joinKargs, kargsStage, planKargs, splitKargs } from "./kargs.ts";

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

function context(config: object, setup: (root: string, work: string) => void = () => {}): StageContext {
  const work = join(top, String(++n));
  const root = join(work, "root");
  mkdirSync(root, { recursive: true });
  writeFileSync(join(work, "cmdline"), "BOOT_IMAGE=/vmlinuz root=UUID=abcd ro ignition.platform.id=qemu nexus.config.url=http://x/ quiet\n");
  setup(root, work);
  return {
    config: { ignition: { version: "3.3.0" }, ...config } as Config,
    root,
    system: fakeSystem({ env: { NEXUS_PATH_CMDLINE: join(work, "cmdline") } }),
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
    expect(existsSync(join(ctx.root, "etc"))).toBe(false);
  });

  test("`kargsStage.run()` does nothing without kernelArguments", async () => {
    const ctx = context({});
    await kargsStage.run(ctx);
    expect(await kargsStage.plan(ctx)).toEqual([]);
    expect(existsSync(join(ctx.root, "etc"))).toBe(false);
  });
});
