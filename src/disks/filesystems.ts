// Filesystem decisions with Ignition's reuse rules (operator notes, "Filesystem-Reuse
// Semantics"): reuse an existing filesystem only when its type, and the label and UUID the
// config sets, match; otherwise wipe and create when wipeFilesystem is set, or fail. Also
// the mkfs argument lists and the parsing of probe output. Pure.
import type { Filesystem } from "../config/types.ts";
import type { CommandName } from "../system/commands.ts";

/** What a device holds, as probed (type "" means no recognised signature). */
export interface FsProbe {
  type: string;
  uuid: string;
  label: string;
}

/** A command to run: a role from the command table and its arguments. */
export interface Command {
  cmd: CommandName;
  args: string[];
}

/** The decision for one configured filesystem. */
export type FsDecision =
  | { action: "skip"; reason: string }
  | { action: "reuse"; found: FsProbe }
  | { action: "create"; found: FsProbe; wipe: Command; mkfs: Command | undefined };

/** A decision, or why the filesystem can be neither reused nor created. */
export type FsDecisionResult = { ok: true; decision: FsDecision } | { ok: false; error: string };

/** Formats Ignition (and nexus-init) can create. */
export const FORMATS = ["ext4", "xfs", "btrfs", "vfat", "swap", "none"] as const;

/** Lower-cases a filesystem UUID; for vfat also drops the dash of `A1B2-C3D4`. */
export function canonicalizeFsUuid(format: string, uuid: string): string {
  let u = uuid.toLowerCase();
  if (format === "vfat" && u.length >= 5 && u[4] === "-") u = u.slice(0, 4) + u.slice(5);
  return u;
}

/** How each format's mkfs is called: the program, its force flag, and how it takes a UUID and a label. */
const MKFS: Record<string, { cmd: CommandName; force?: string; uuid: (u: string) => string[]; label: string }> = {
  ext4: { cmd: "mkfsExt4", force: "-F", uuid: (u) => ["-U", u], label: "-L" },
  btrfs: { cmd: "mkfsBtrfs", force: "--force", uuid: (u) => ["-U", u], label: "-L" },
  xfs: { cmd: "mkfsXfs", force: "-f", uuid: (u) => ["-m", `uuid=${u}`], label: "-L" },
  swap: { cmd: "mkswap", force: "-f", uuid: (u) => ["-U", u], label: "-L" },
  // mkfs.fat has no force flag: it always overwrites.
  vfat: { cmd: "mkfsVfat", uuid: (u) => ["-i", u], label: "-n" },
};

/** The mkfs command for a filesystem, or undefined for format "none". */
export function buildMkfs(fs: Filesystem, device: string): Command | undefined | Error {
  const format = fs.format ?? "";
  if (format === "none") return undefined;
  const mkfs = MKFS[format];
  if (!mkfs) return new Error(`Cannot create a filesystem on "${device}": unsupported format "${format}"`);
  const args = [...(fs.options ?? [])];
  if (mkfs.force) args.push(mkfs.force);
  if (fs.uuid !== null && fs.uuid !== undefined) args.push(...mkfs.uuid(canonicalizeFsUuid(format, fs.uuid)));
  if (fs.label !== null && fs.label !== undefined) args.push(mkfs.label, fs.label);
  args.push(device);
  return { cmd: mkfs.cmd, args };
}

/** Decides between reuse, creation and failure for one filesystem on a probed device. */
export function planFilesystem(fs: Filesystem, device: string, found: FsProbe): FsDecisionResult {
  const format = fs.format;
  if (format === null || format === undefined || format === "") {
    return { ok: true, decision: { action: "skip", reason: "no format given" } };
  }
  if (fs.wipeFilesystem !== true) {
    const want = format === "none" ? "" : format;
    const sameType = found.type === want;
    const sameLabel = fs.label === null || fs.label === undefined || found.label === fs.label;
    const sameUuid =
      fs.uuid === null || fs.uuid === undefined || canonicalizeFsUuid(found.type, found.uuid) === canonicalizeFsUuid(want, fs.uuid);
    if (sameType && sameLabel && sameUuid) return { ok: true, decision: { action: "reuse", found } };
    if (found.type !== "") {
      return {
        ok: false,
        error:
          `Cannot reuse the filesystem on "${device}": found ${found.type} with label "${found.label}" and UUID "${found.uuid}", ` +
          `which does not match the configured ${format}${fs.label != null ? ` label "${fs.label}"` : ""}${fs.uuid != null ? ` UUID "${fs.uuid}"` : ""}, and wipeFilesystem is false`,
      };
    }
  }
  const mkfs = buildMkfs(fs, device);
  if (mkfs instanceof Error) return { ok: false, error: mkfs.message };
  return { ok: true, decision: { action: "create", found, wipe: { cmd: "wipefs", args: ["-a", device] }, mkfs } };
}

/** Parses `blkid -p -o export` output. */
export function parseBlkidExport(stdout: string): FsProbe {
  const kv = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) kv.set(line.slice(0, i), line.slice(i + 1));
  }
  return { type: kv.get("TYPE") ?? "", uuid: kv.get("UUID") ?? "", label: kv.get("LABEL") ?? "" };
}

/**
 * Parses `wipefs --no-act --json` output and returns its first signature: the one libblkid's
 * probe (in its fixed prober order) reports first when several filesystems are present.
 */
export function parseWipefsFirst(stdout: string): FsProbe {
  const doc = JSON.parse(stdout) as { signatures?: { type?: string; uuid?: string | null; label?: string | null }[] };
  const first = (doc.signatures ?? []).find((s) => s.type && s.type !== "PMBR" && s.type !== "gpt" && s.type !== "dos");
  return { type: first?.type ?? "", uuid: first?.uuid ?? "", label: first?.label ?? "" };
}

/** One line describing a filesystem decision, for plans and logs. */
export function describeFsDecision(fs: Filesystem, d: FsDecision): string {
  const want = `${fs.format ?? "?"}${fs.label != null ? ` label "${fs.label}"` : ""}${fs.uuid != null ? ` uuid ${fs.uuid}` : ""}`;
  switch (d.action) {
    case "skip":
      return `nothing to do (${d.reason})`;
    case "reuse":
      return `reuse existing ${d.found.type || "empty device"}${d.found.label ? ` label "${d.found.label}"` : ""}`;
    case "create":
      return `${d.found.type ? `wipe ${d.found.type} and ` : ""}${d.mkfs ? `create ${want}` : "leave unformatted"}`;
  }
}
