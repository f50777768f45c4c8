// The sgdisk calls Ignition would make for a partition plan: `--zap-all` for wipeTable, the
// `--pretend` resolution pass, and the one commit with every deletion and creation. nexus-init
// writes tables natively; these argument lists exist to compare against Ignition (bench/disks.ts)
// and to show, in logs, the equivalent of what was written. Pure.
import type { PartitionPlan } from "./partitions.ts";

/** The sgdisk argument lists for one disk, in the order Ignition runs them. */
export interface SgdiskCalls {
  wipe?: string[];
  pretend: string[];
  commit?: string[];
}

/** Ignition's sgdisk calls for a plan on `device`. */
export function buildSgdiskCalls(plan: PartitionPlan, device: string): SgdiskCalls {
  const deletions: string[] = [];
  const creations: string[] = [];
  const infos: string[] = [];
  for (const a of plan.actions) {
    if (a.kind === "delete" || a.kind === "resize" || a.kind === "recreate") deletions.push(`--delete=${a.number}`);
    if ((a.kind === "create" || a.kind === "resize" || a.kind === "recreate") && a.after) {
      const p = a.after;
      creations.push(
        `--new=${p.number}:${p.start}:+${p.size}`,
        `--change-name=${p.number}:${p.label}`,
        `--typecode=${p.number}:${p.typeGuid}`,
        `--partition-guid=${p.number}:${p.guid}`,
      );
    }
    if (a.kind !== "delete" && a.kind !== "absent") infos.push(`--info=${a.number}`);
  }
  const calls: SgdiskCalls = { pretend: ["--pretend", ...deletions, ...creations, ...infos, device] };
  if (plan.wipeTable) calls.wipe = ["--zap-all", device];
  if (deletions.length + creations.length > 0) calls.commit = [...deletions, ...creations, device];
  return calls;
}
