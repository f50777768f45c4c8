// The kargs stage: kernelArguments.shouldExist / shouldNotExist. Ignition hands these to a
// distribution helper (rpm-ostree on Fedora CoreOS). nexus-init does the closest thing a
// generic system has: it edits the installed system's kernel command line file,
// <root>/etc/kernel/cmdline (what systemd's kernel-install and UKI builders read), and, when it
// changed anything, leaves <runDir>/kargs-reboot so the initramfs can reboot into the new
// arguments. A missing file is seeded from <root>/usr/lib/kernel/cmdline, else from the running
// kernel's command line without its boot-only arguments (BOOT_IMAGE=, initrd=, nexus.*,
// ignition.*). The root must be mounted when this stage runs.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/types.ts";
import type { PlanEntry, Stage, StageContext } from "../executor/stage.ts";
import { runPaths } from "../executor/paths.ts";
import { parseKernelArgs, readKernelArgs } from "../providers/kernel_args.ts";
import { Root } from "../system/root.ts";
import { journalOf } from "../executor/journal.ts";
import { opKey } from "../executor/journal_ops.ts";

/** The file in the target root that holds the installed system's kernel arguments. */
export const KARGS_FILE = "/etc/kernel/cmdline";
/** The distribution default consulted when KARGS_FILE does not exist yet. */
export const KARGS_DEFAULT_FILE = "/usr/lib/kernel/cmdline";
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

/** The current arguments of the installed system, and where they were read from. */
async function readCurrent(ctx: StageContext, root: Root): Promise<{ args: string[]; from: string }> {
  const own = root.readFile(KARGS_FILE);
  if (own) return { args: splitKargs(own.toString("utf8")), from: KARGS_FILE };
  const vendor = root.readFile(KARGS_DEFAULT_FILE);
  if (vendor) return { args: splitKargs(vendor.toString("utf8")), from: KARGS_DEFAULT_FILE };
  const host = await readKernelArgs(ctx.system.env);
  const args = host.map(([n, v]) => (v === null ? n : `${n}=${/\s/.test(v) ? `"${v}"` : v}`)).filter((a) => !isBootOnly(a));
  return { args, from: "the running kernel's command line" };
}

function lists(config: Config): { exist: string[]; notExist: string[] } {
  return {
    exist: (config.kernelArguments?.shouldExist ?? []).filter((a): a is string => typeof a === "string"),
    notExist: (config.kernelArguments?.shouldNotExist ?? []).filter((a): a is string => typeof a === "string"),
  };
}

/** The kargs stage: applies kernelArguments to the installed system's command line file. */
export const kargsStage: Stage = {
  name: "kargs",

  async plan(ctx) {
    if (isKargsNoop(ctx.config)) return [];
    const root = Root.open(ctx.root);
    const { exist, notExist } = lists(ctx.config);
    const cur = await readCurrent(ctx, root);
    const p = planKargs(cur.args, exist, notExist);
    const out: PlanEntry[] = [];
    for (const a of p.removed) out.push({ stage: "kargs", action: "remove-karg", target: KARGS_FILE, detail: a });
    for (const a of p.added) out.push({ stage: "kargs", action: "add-karg", target: KARGS_FILE, detail: a });
    if (out.length === 0) out.push({ stage: "kargs", action: "keep", target: KARGS_FILE, detail: "kernel arguments already as requested" });
    return out;
  },

  async run(ctx) {
    if (isKargsNoop(ctx.config)) return;
    const root = Root.open(ctx.root);
    const { exist, notExist } = lists(ctx.config);
    const cur = await ctx.log.op(`reading kernel arguments`, () => readCurrent(ctx, root));
    const p = planKargs(cur.args, exist, notExist);
    if (p.added.length === 0 && p.removed.length === 0) {
      ctx.log.info(`Kernel arguments already as requested (read from ${cur.from})`);
      return;
    }
    await ctx.log.op(`writing kernel arguments to "${KARGS_FILE}" (+${p.added.length} -${p.removed.length})`, async () => {
      const data = new TextEncoder().encode(joinKargs(p.args) + "\n");
      await root.writeFileWithParents(KARGS_FILE, { mode: 0o644, uid: 0, gid: 0 }, (sink) => sink.write(data));
    });
    // Applying the same arguments again changes nothing: the record is for the report.
    await journalOf(ctx).done(opKey.kargs(), { added: p.added.length, removed: p.removed.length });
    const { runDir } = runPaths(ctx);
    mkdirSync(runDir, { recursive: true, mode: 0o700 });
    writeFileSync(join(runDir, KARGS_REBOOT_FLAG), "");
    ctx.state.kargsReboot = true;
    ctx.log.info(`Kernel arguments changed; "${join(runDir, KARGS_REBOOT_FLAG)}" asks for a reboot to apply them`);
  },
};
