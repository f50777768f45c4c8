// The host tools image building runs: a table of its own, because src/system/commands.ts is the
// boot side's (what the initramfs ships and the stages call) and these are workstation tools
// (GRUB's image makers, xorriso, qemu-img, tar) that must not grow it. Each entry can be
// overridden like the boot side's: NEXUS_CMD_<ROLE> (e.g. NEXUS_CMD_QEMU_IMG). Processes are
// spawned through src/system/, the only room that spawns.
import { spawnCollect } from "../system/real.ts";
import { check, type CommandResult, type RunOptions } from "../system/system.ts";

/** Host programs by role, and the Debian package that ships each (for the error message). */
export const IMAGE_TOOLS = {
  sgdisk: ["sgdisk", "gdisk"],
  mke2fs: ["mke2fs", "e2fsprogs"],
  debugfs: ["debugfs", "e2fsprogs"],
  grubMkimage: ["grub-mkimage", "grub-common"],
  grubEditenv: ["grub-editenv", "grub-common"],
  qemuImg: ["qemu-img", "qemu-utils"],
  tar: ["tar", "tar"],
  gzip: ["gzip", "gzip"],
  xorriso: ["xorriso", "xorriso"],
  mkfsVfat: ["mkfs.vfat", "dosfstools"],
  mcopy: ["mcopy", "mtools"],
  mmd: ["mmd", "mtools"],
} as const;
export type ImageTool = keyof typeof IMAGE_TOOLS;

const envKey = (role: string) => "NEXUS_CMD_" + role.replace(/[A-Z]/g, (c) => "_" + c).toUpperCase();

/** The program for a role, honouring NEXUS_CMD_<ROLE>. */
export function toolPath(tool: ImageTool, env: Record<string, string | undefined> = process.env): string {
  return env[envKey(tool)] ?? IMAGE_TOOLS[tool][0];
}

/** Runs a tool; throws CommandError (with its stderr) unless it succeeded. */
export async function runTool(tool: ImageTool, args: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
  const program = toolPath(tool);
  let r: CommandResult;
  try {
    r = await spawnCollect([program, ...args], opts);
  } catch (e) {
    throw new Error(`Cannot run "${program}": not found (install the Debian package ${IMAGE_TOOLS[tool][1]})`, { cause: e });
  }
  return check(r);
}
