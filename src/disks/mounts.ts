// Which configured filesystems the mount stage mounts, and in what order: every filesystem
// with a path and a mountable format, shallowest first (a stable sort, so equal depths keep
// config order); the umount stage releases them in reverse. Pure.
import type { Filesystem } from "../config/types.ts";
import { cleanPath, pathDepth } from "../system/paths.ts";

/** One mount the mount stage performs. */
export interface MountSpec {
  device: string;
  format: string;
  /** The path inside the target root. */
  path: string;
  options: string[];
}

/** True for formats that are mounted (not swap, none or unset). */
export function isMountable(format: string | null | undefined): format is string {
  return !!format && format !== "swap" && format !== "none";
}

/** The mounts for a config, in the order to perform them. */
export function planMounts(filesystems: readonly Filesystem[]): MountSpec[] {
  return filesystems
    .filter((f) => !!f.path && isMountable(f.format))
    .map((f, i) => ({ f, i }))
    .map(({ f, i }) => ({ i, spec: { device: f.device ?? "", format: f.format!, path: cleanPath(`/${f.path}`), options: [...(f.mountOptions ?? [])] } }))
    .sort((a, b) => pathDepth(a.spec.path) - pathDepth(b.spec.path) || a.i - b.i)
    .map(({ spec }) => spec);
}

/** The mount(8) arguments for one mount at a host path. */
export function buildMountArgs(m: MountSpec, device: string, hostPath: string): string[] {
  const args = ["-t", m.format];
  if (m.options.length > 0) args.push("-o", m.options.join(","));
  args.push(device, hostPath);
  return args;
}
