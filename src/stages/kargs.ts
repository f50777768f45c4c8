// The kargs stage: kernelArguments.shouldExist / shouldNotExist. Ignition hands these to a
// distribution helper that edits the boot entry and reboots when it changed it (upstream's
// example helper mounts the partition labelled "boot" and edits grub's `kernelopts`); the
// stage runs before disks, so the root is not mounted yet. nexus-init edits, in this order:
//   1. the boot filesystem (HOST_PATHS.bootDevice, label "boot"), mounted for the stage's
//      duration: `kernelopts` in its GRUB environment block /grub/grubenv;
//   2. <root>/boot/grub/grubenv, when the root has one (apply on an image's tree);
//   3. <root>/etc/kernel/cmdline (what kernel-install and UKI builders read), when the root is
//      a populated tree; a missing file is seeded from <root>/usr/lib/kernel/cmdline, else from
//      the running kernel's command line without its boot-only arguments (BOOT_IMAGE=, initrd=,
//      nexus.*, ignition.*).
// With none of them (at boot: no boot filesystem) the stage fails, as Ignition's does without
// a helper. When it changed anything it leaves <runDir>/kargs-reboot and sets
// state.kargsReboot: the boot sequence then reboots into the new arguments before disks.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/types.ts";
import type { PlanEntry, Stage, StageContext } from "../executor/stage.ts";
import { step } from "../executor/stage.ts";
import { runPaths } from "../executor/paths.ts";
import { parseKernelArgs, readKernelArgs } from "../providers/kernel_args.ts";
import { hostPath } from "../system/commands.ts";
import { Root } from "../system/root.ts";
import { check } from "../system/system.ts";
import { formatGrubEnv, KERNELOPTS, parseGrubEnv } from "./kargs_entry.ts";
import { journalOf } from "../executor/journal.ts";
import { opKey } from "../executor/journal_ops.ts";

/** The file in the target root that holds the installed system's kernel arguments. */
export const KARGS_FILE = "/etc/kernel/cmdline";
/** The distribution default consulted when KARGS_FILE does not exist yet. */
export const KARGS_DEFAULT_FILE = "/usr/lib/kernel/cmdline";
/** The GRUB environment block on the boot filesystem. */
export const BOOT_GRUBENV = "/grub/grubenv";
/** Flag file under the run directory: the kernel arguments changed, a reboot applies them. */
export const KARGS_REBOOT_FLAG = "kargs-reboot";

/** The kernel arguments after applying the config, and what changed. */
export interface KargsPlan {
  args: string[];
  added: string[];
  removed: string[];
}

/** True when the config asks nothing of this stage. */
export function isKargsNoop(config: Config): boolean {
  const k = config.kernelArguments;
  return !k?.shouldExist?.length && !k?.shouldNotExist?.length;
}

/** Removes every argument listed in shouldNotExist, then appends each missing shouldExist one. */
export function planKargs(current: readonly string[], shouldExist: readonly string[], shouldNotExist: readonly string[]): KargsPlan {
  const drop = new Set(shouldNotExist);
  const removed = current.filter((a) => drop.has(a));
  const args = current.filter((a) => !drop.has(a));
  const added: string[] = [];
  for (const a of shouldExist) {
    if (!args.includes(a)) {
      args.push(a);
      added.push(a);
    }
  }
  return { args, added, removed };
}

/** Splits a command line into argument tokens (quotes kept around values that need them). */
export function splitKargs(text: string): string[] {
  return parseKernelArgs(text).map(([n, v]) => (v === null ? n : `${n}=${/\s/.test(v) ? `"${v}"` : v}`));
}

/** Joins tokens into a command line; tokens with spaces but no quotes get quoted. */
export function joinKargs(args: readonly string[]): string {
  return args.map((a) => (/\s/.test(a) && !a.includes('"') ? `"${a}"` : a)).join(" ");
}

function isBootOnly(arg: string): boolean {
  return /^(BOOT_IMAGE|initrd)=/.test(arg) || /^(nexus|ignition)\./.test(arg);
}

const FILE_ATTRS = { mode: 0o644, uid: 0, gid: 0 };

/** Where the next boot's kernel arguments live: read them, write them, release the place. */
interface KargsEntry {
  /** For messages, e.g. `"/grub/grubenv" on "/dev/disk/by-label/boot"`. */
  where: string;
  read(): Promise<string[]>;
  write(args: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** `kernelopts` in a GRUB environment block at path inside root. */
function grubenvEntry(root: Root, path: string, where: string, close: () => Promise<void> = async () => {}): KargsEntry {
  const load = () => {
    const data = root.readFile(path);
    if (!data) throw new Error(`Cannot read ${where}: no such file`);
    return parseGrubEnv(data.toString("utf8"));
  };
  return {
    where,
    close,
    async read() {
      const opts = load().get(KERNELOPTS);
      if (opts === undefined) throw new Error(`Cannot find the variable "${KERNELOPTS}" in ${where}: its boot entry passes no kernel arguments from it`);
      return splitKargs(opts);
    },
    async write(args) {
      const vars = load();
      vars.set(KERNELOPTS, joinKargs(args));
      const data = new TextEncoder().encode(formatGrubEnv(vars));
      await root.writeFile(path, FILE_ATTRS, (sink) => sink.write(data));
    },
  };
}

/** The installed system's /etc/kernel/cmdline in the root. */
function cmdlineEntry(ctx: StageContext, root: Root): KargsEntry {
  return {
    where: `"${KARGS_FILE}" in the root`,
    close: async () => {},
    async read() {
      const own = root.readFile(KARGS_FILE) ?? root.readFile(KARGS_DEFAULT_FILE);
      if (own) return splitKargs(own.toString("utf8"));
      const host = await readKernelArgs(ctx.system.env);
      return host.map(([n, v]) => (v === null ? n : `${n}=${/\s/.test(v) ? `"${v}"` : v}`)).filter((a) => !isBootOnly(a));
    },
    async write(args) {
      const data = new TextEncoder().encode(joinKargs(args) + "\n");
      await root.writeFileWithParents(KARGS_FILE, FILE_ATTRS, (sink) => sink.write(data));
    },
  };
}

/** The boot device when one exists (at boot; apply and plan point it into their run directory). */
function bootDevice(ctx: StageContext): string | null {
  const dev = hostPath("bootDevice", ctx.system.env);
  return existsSync(dev) ? dev : null;
}

/** Where the kernel arguments live in the root itself, without mounting anything; null when nowhere. */
function rootEntry(ctx: StageContext): KargsEntry | null {
  const root = Root.open(ctx.root);
  if (root.stat("/boot/grub/grubenv")?.isFile()) return grubenvEntry(root, "/boot/grub/grubenv", `"/boot/grub/grubenv" in the root`);
  if (root.stat("/etc")?.isDirectory()) return cmdlineEntry(ctx, root);
  return null;
}

function noEntryError(ctx: StageContext): Error {
  return new Error(
    `Cannot find a boot entry to change: no boot filesystem "${hostPath("bootDevice", ctx.system.env)}", ` +
      `and the root "${ctx.root}" has neither /boot/grub/grubenv nor /etc`,
  );
}

/** Opens the boot entry, mounting the boot filesystem under the run directory when there is one. */
async function openEntry(ctx: StageContext): Promise<KargsEntry> {
  const dev = bootDevice(ctx);
  if (dev === null) {
    const entry = rootEntry(ctx);
    if (!entry) throw noEntryError(ctx);
    return entry;
  }
  const dir = join(runPaths(ctx).runDir, "boot");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  await ctx.log.op(`mounting the boot filesystem "${dev}" at "${dir}"`, async () => check(await ctx.system.run("mount", ["-o", "rw", dev, dir])));
  const unmount = async () => {
    await ctx.log.op(`unmounting the boot filesystem "${dir}"`, async () => check(await ctx.system.run("umount", [dir])));
  };
  try {
    return grubenvEntry(Root.open(dir), BOOT_GRUBENV, `"${BOOT_GRUBENV}" on "${dev}"`, unmount);
  } catch (e) {
    await unmount();
    throw e;
  }
}

function lists(config: Config): { exist: string[]; notExist: string[] } {
  return {
    exist: (config.kernelArguments?.shouldExist ?? []).filter((a): a is string => typeof a === "string"),
    notExist: (config.kernelArguments?.shouldNotExist ?? []).filter((a): a is string => typeof a === "string"),
  };
}

/** Leaves the reboot flag in the run directory and notes it in the state. */
function flagReboot(ctx: StageContext, where: string): void {
  const { runDir } = runPaths(ctx);
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(runDir, KARGS_REBOOT_FLAG), "");
  ctx.state.kargsReboot = true;
  ctx.log.info(`Kernel arguments changed in ${where}; "${join(runDir, KARGS_REBOOT_FLAG)}" asks for a reboot to apply them`);
}

/** The kargs stage: applies kernelArguments to the boot entry. */
export const kargsStage: Stage = {
  name: "kargs",

  async plan(ctx) {
    if (isKargsNoop(ctx.config)) return [];
    const { exist, notExist } = lists(ctx.config);
    const dev = bootDevice(ctx);
    if (dev !== null) {
      // Reading the entry would mean mounting the boot filesystem: list what is asked.
      const where = `${dev}:${BOOT_GRUBENV}`;
      return [
        ...notExist.map((a): PlanEntry => ({ stage: "kargs", action: "remove-karg", target: where, detail: `${a} (if present)` })),
        ...exist.map((a): PlanEntry => ({ stage: "kargs", action: "add-karg", target: where, detail: `${a} (if missing)` })),
      ];
    }
    const entry = rootEntry(ctx);
    if (!entry) return [{ stage: "kargs", action: "fail", target: "kernel arguments", detail: noEntryError(ctx).message }];
    const p = planKargs(await entry.read(), exist, notExist);
    const out: PlanEntry[] = [];
    for (const a of p.removed) out.push({ stage: "kargs", action: "remove-karg", target: entry.where, detail: a });
    for (const a of p.added) out.push({ stage: "kargs", action: "add-karg", target: entry.where, detail: a });
    if (out.length === 0) out.push({ stage: "kargs", action: "keep", target: entry.where, detail: "kernel arguments already as requested" });
    return out;
  },

  async run(ctx) {
    if (isKargsNoop(ctx.config)) return;
    const { exist, notExist } = lists(ctx.config);
    const entry = await step("open the boot entry", () => openEntry(ctx));
    let changed = false;
    try {
      const current = await ctx.log.op(`reading kernel arguments from ${entry.where}`, () => entry.read());
      const p = planKargs(current, exist, notExist);
      if (p.added.length === 0 && p.removed.length === 0) {
        ctx.log.info(`Kernel arguments already as requested in ${entry.where}`);
      } else {
        await ctx.log.op(`writing kernel arguments to ${entry.where} (+${p.added.length} -${p.removed.length})`, () => entry.write(p.args));
        changed = true;
      }
    } finally {
      await step("release the boot entry", () => entry.close());
    }
    // Applying the same arguments again changes nothing: the record is for the report.
    if (changed) await journalOf(ctx).done(opKey.kargs(), { where: entry.where });
    if (changed) flagReboot(ctx, entry.where);
  },
};
