// Planning one disk's partition table with Ignition's semantics (operator notes, "Partition
// Reuse Semantics"): resolve zero/unspecified starts and sizes the way Ignition's
// `sgdisk --pretend` pass does, decide per partition whether it is kept, created, deleted,
// resized or recreated, and compute the exact table that results. Conflicts fail before
// anything is written. Pure: the disk state comes in, a plan goes out.
import type { Disk, Partition } from "../config/types.ts";
import {
  canonicalizeGuid,
  dropHybridRecord,
  createEmptyTable,
  LINUX_FILESYSTEM_TYPE,
  type DiskTable,
  type GptPartition,
  type GptTable,
} from "./gpt.ts";
import { modelDiskOf, simulateSgdisk, type NewPartition } from "./sgdisk_model.ts";

/** What the planner needs to know about one disk. */
export interface DiskState {
  /** The device as resolved (for messages and partition device names). */
  device: string;
  sectorSize: number;
  totalSectors: number;
  table: DiskTable;
  /** Partition numbers that are mounted or held by another device. */
  activePartitions: readonly number[];
  /** The whole disk is mounted or held. */
  diskActive: boolean;
}

/** What happens to one configured partition. */
export type PartitionActionKind = "keep" | "create" | "delete" | "resize" | "recreate" | "absent";

/** The decision for one configured partition, with the entry before and after. */
export interface PartitionAction {
  kind: PartitionActionKind;
  number: number;
  /** The entry before (keep, delete, resize, recreate). */
  before?: GptPartition;
  /** The entry after (keep, create, resize, recreate). */
  after?: GptPartition;
  /** Why an existing partition is recreated. */
  reason?: string;
  /** The unique GUID was generated (the config gives none), so it differs between runs. */
  generatedGuid?: boolean;
}

/** The kernel notifications after writing, as Ignition sends them with partx. */
export interface KernelUpdates {
  delete: number[];
  update: number[];
  add: number[];
}

/** A partitioning plan for one disk. */
export interface PartitionPlan {
  device: string;
  wipeTable: boolean;
  /** The GPT found on the disk (null: none). */
  before: GptTable | null;
  /** The GPT the disk will hold (null: none). */
  after: GptTable | null;
  actions: PartitionAction[];
  /** Sector 0 to keep when writing (a hybrid MBR survives, as with sgdisk). */
  mbrSector: Uint8Array;
  /** True when the partition entries change (a write follows). */
  writesTable: boolean;
  kernel: KernelUpdates;
}

/** A plan, or why the disk cannot be partitioned as configured (nothing was written). */
export type PartitionPlanResult = { ok: true; plan: PartitionPlan } | { ok: false; error: string };

/** A configured partition with its start and size in sectors (undefined: unspecified). */
interface Spec {
  config: Partition;
  number: number;
  start: number | undefined;
  size: number | undefined;
  label: string | undefined;
  typeGuid: string | undefined;
  guid: string | undefined;
  wipe: boolean;
  shouldExist: boolean;
  resize: boolean;
}

function toSectors(mib: number | null | undefined, sectorSize: number): number | undefined {
  return mib === null || mib === undefined ? undefined : mib * ((1024 * 1024) / sectorSize);
}

function guidOrUndefined(g: string | null | undefined, what: string, n: number): string | undefined | Error {
  if (g === null || g === undefined || g === "") return undefined;
  const c = canonicalizeGuid(g);
  return c ?? new Error(`Cannot use ${what} "${g}" of partition ${n}: not a GUID`);
}

/** Checks everything but the size; a string says what differs. */
function mismatchCommon(existing: GptPartition, s: Spec): string | undefined {
  if (s.start !== undefined && s.start !== existing.start) {
    return `starting sector did not match (specified ${s.start}, got ${existing.start})`;
  }
  if (s.guid !== undefined && s.guid !== existing.guid) return `GUID did not match (specified "${s.guid}", got "${existing.guid}")`;
  if (s.typeGuid !== undefined && s.typeGuid !== existing.typeGuid) {
    return `type GUID did not match (specified "${s.typeGuid}", got "${existing.typeGuid}")`;
  }
  if (s.label !== undefined && s.label !== existing.label) return `label did not match (specified "${s.label}", got "${existing.label}")`;
  return undefined;
}

function mismatch(existing: GptPartition, s: Spec): string | undefined {
  const common = mismatchCommon(existing, s);
  if (common) return common;
  if (s.size !== undefined && s.size !== existing.size) return `size did not match (specified ${s.size}, got ${existing.size})`;
  return undefined;
}

/**
 * Plans one disk. `newGuid` supplies the random GUIDs sgdisk would generate (a new disk
 * GUID after wipeTable, unique GUIDs of created partitions without `guid`).
 */
export function planPartitions(state: DiskState, disk: Disk, newGuid: () => string): PartitionPlanResult {
  const dev = state.device;
  const fail = (error: string): PartitionPlanResult => ({ ok: false, error });
  const wipeTable = disk.wipeTable === true;
  if (state.diskActive && state.activePartitions.length === 0) {
    return fail(`Cannot partition "${dev}": the whole disk is in use (mounted or held)`);
  }
  if (wipeTable && state.activePartitions.length > 0) {
    return fail(`Cannot wipe the partition table of "${dev}": partitions ${state.activePartitions.join(", ")} are in use`);
  }

  // The table the per-partition rules start from: after wipeTable, nothing.
  const found = state.table;
  const before = found.kind === "gpt" ? found.table : null;
  let base: GptTable;
  let mbrSector = found.mbrSector;
  if (wipeTable) {
    base = createEmptyTable(state.sectorSize, state.totalSectors, newGuid());
    mbrSector = new Uint8Array(state.sectorSize);
  } else if (found.kind === "gpt") {
    base = found.table;
  } else if (found.kind === "none") {
    base = createEmptyTable(state.sectorSize, state.totalSectors, newGuid());
  } else if (found.kind === "dos") {
    return fail(`Cannot partition "${dev}": it holds an MBR (DOS) partition table, not a GPT; set wipeTable to replace it`);
  } else {
    return fail(`Cannot read the partition table of "${dev}": ${found.reason}; set wipeTable to replace it`);
  }

  // Specs in sgdisk-sector units; number 0 sorts last (stable), as in Ignition.
  const specs: Spec[] = [];
  const configured = [...(disk.partitions ?? [])].map((p, i) => ({ p, i }));
  configured.sort((a, b) => {
    const az = (a.p.number ?? 0) === 0 ? 1 : 0;
    const bz = (b.p.number ?? 0) === 0 ? 1 : 0;
    return az - bz || a.i - b.i;
  });
  for (const { p } of configured) {
    const n = p.number ?? 0;
    const typeGuid = guidOrUndefined(p.typeGuid, "type GUID", n);
    if (typeGuid instanceof Error) return fail(typeGuid.message);
    const guid = guidOrUndefined(p.guid, "GUID", n);
    if (guid instanceof Error) return fail(guid.message);
    specs.push({
      config: p,
      number: n,
      start: toSectors(p.startMiB, state.sectorSize),
      size: toSectors(p.sizeMiB, state.sectorSize),
      label: p.label ?? undefined,
      typeGuid,
      guid,
      wipe: p.wipePartitionEntry === true,
      shouldExist: p.shouldExist !== false,
      resize: p.resize === true,
    });
  }

  const existing = new Map(base.partitions.map((p) => [p.number, p]));

  // Resolution pass (Ignition's `sgdisk --pretend`): delete every configured existing
  // partition, recreate those that should exist in order, and read back the real start
  // and size of any whose start or size is zero or unspecified.
  const used = new Set(existing.keys());
  const pretendDeletes: number[] = [];
  const pretendCreates: NewPartition[] = [];
  for (const s of specs) {
    const info = existing.get(s.number);
    if (info) {
      pretendDeletes.push(s.number);
      if (s.start === undefined && !s.wipe) s.start = info.start;
      if (s.size === undefined && !s.wipe) s.size = info.size;
    }
    if (s.number > 0) {
      if (s.shouldExist) used.add(s.number);
      else used.delete(s.number);
    }
    if (s.shouldExist) pretendCreates.push({ number: s.number, start: s.start ?? 0, size: s.size ?? 0 });
  }
  let free = 1;
  const inspect: Spec[] = [];
  // Numbers given as 0 take the first free slot once this config's deletions are done (as
  // sgdisk does): such a partition is always a new one, even in the slot of one deleted here.
  const numberedHere = new Set<Spec>();
  for (const s of specs) {
    if (!s.shouldExist) continue;
    if (s.number === 0) {
      while (used.has(free)) free++;
      s.number = free++;
      numberedHere.add(s);
    }
    if (!s.start || !s.size) inspect.push(s);
  }
  if (pretendCreates.length > 0 || pretendDeletes.length > 0) {
    const sim = simulateSgdisk(modelDiskOf(base), pretendDeletes, pretendCreates);
    if (!sim.ok) return fail(`Cannot resolve the partition layout of "${dev}": ${sim.error}`);
    for (const s of inspect) {
      const dims = sim.partitions.find((p) => p.number === s.number);
      if (!dims) return fail(`Cannot resolve partition ${s.number} of "${dev}": it was not created`);
      s.start = dims.start;
      s.size = dims.end - dims.start + 1;
    }
  }

  // The decision matrix of the operator notes, per partition.
  const actions: PartitionAction[] = [];
  const deletions: number[] = [];
  const creations: { spec: Spec; entry: Omit<GptPartition, "start" | "size"> }[] = [];
  const kernel: KernelUpdates = { delete: [], update: [], add: [] };
  const active = new Set(state.activePartitions);
  for (const s of specs) {
    const info = numberedHere.has(s) ? undefined : existing.get(s.number);
    const wrongness = info ? mismatch(info, s) : undefined;
    const matches = info !== undefined && wrongness === undefined;
    const fresh = (): Omit<GptPartition, "start" | "size"> => ({
      number: s.number,
      typeGuid: s.typeGuid ?? LINUX_FILESYSTEM_TYPE,
      guid: s.guid ?? newGuid(),
      label: s.label ?? "",
      attributes: 0n,
    });
    let modifies = false;
    if (!info && !s.shouldExist) {
      actions.push({ kind: "absent", number: s.number });
    } else if (!info) {
      creations.push({ spec: s, entry: fresh() });
      actions.push({ kind: "create", number: s.number, generatedGuid: s.guid === undefined });
      kernel.add.push(s.number);
      modifies = true;
    } else if (!s.shouldExist && !s.wipe) {
      return fail(`Cannot delete partition ${s.number} of "${dev}": it exists, shouldExist is false and wipePartitionEntry is false`);
    } else if (!s.shouldExist) {
      deletions.push(s.number);
      actions.push({ kind: "delete", number: s.number, before: info });
      kernel.delete.push(s.number);
      modifies = true;
    } else if (matches) {
      actions.push({ kind: "keep", number: s.number, before: info, after: info });
    } else if (!s.wipe) {
      if (!(s.resize && mismatchCommon(info, s) === undefined)) {
        return fail(`Cannot use partition ${s.number} of "${dev}": it didn't match: ${wrongness}`);
      }
      deletions.push(s.number);
      creations.push({
        spec: { ...s, start: info.start },
        entry: { number: info.number, typeGuid: info.typeGuid, guid: info.guid, label: info.label, attributes: 0n },
      });
      actions.push({ kind: "resize", number: s.number, before: info });
      kernel.update.push(s.number);
      modifies = true;
    } else {
      deletions.push(s.number);
      creations.push({ spec: s, entry: fresh() });
      actions.push({ kind: "recreate", number: s.number, before: info, reason: wrongness, generatedGuid: s.guid === undefined });
      kernel.update.push(s.number);
      modifies = true;
    }
    if (modifies && active.has(s.number)) {
      return fail(`Cannot modify partition ${s.number} of "${dev}": it is in use (mounted or held)`);
    }
  }

  // The commit pass: one sgdisk call with all deletions, then all creations.
  const writesTable = deletions.length > 0 || creations.length > 0;
  let after: GptTable | null = wipeTable || found.kind !== "gpt" ? null : base;
  if (writesTable) {
    const sim = simulateSgdisk(
      modelDiskOf(base),
      deletions,
      creations.map((c) => ({ number: c.spec.number, start: c.spec.start ?? 0, size: c.spec.size ?? 0 })),
    );
    if (!sim.ok) return fail(`Cannot partition "${dev}": ${sim.error}`);
    const byNumber = new Map<number, GptPartition>();
    for (const p of base.partitions) if (!deletions.includes(p.number)) byNumber.set(p.number, p);
    for (const c of creations) {
      const placed = sim.created.find((p) => p.number === c.spec.number)!;
      byNumber.set(c.spec.number, { ...c.entry, start: placed.start, size: placed.end - placed.start + 1 });
    }
    for (const n of deletions) {
      const old = existing.get(n)!;
      mbrSector = dropHybridRecord(mbrSector, old.start, old.size);
    }
    after = { ...base, partitions: [...byNumber.values()].sort((a, b) => a.number - b.number) };
    for (const a of actions) if (a.kind !== "delete" && a.kind !== "absent") a.after = byNumber.get(a.number);
  }
  return {
    ok: true,
    plan: { device: dev, wipeTable, before, after, actions, mbrSector, writesTable, kernel },
  };
}

/** The device node of partition `n` of `disk` (`/dev/sda` → `/dev/sda1`, `/dev/loop0` → `/dev/loop0p1`). */
export function formatPartitionPath(disk: string, n: number): string {
  return /\d$/.test(disk) ? `${disk}p${n}` : `${disk}${n}`;
}

/** One line per partition of a table, for plans and logs; `randomGuids` are shown as "(random)". */
export function describeTable(t: GptTable | null, randomGuids: ReadonlySet<number> = new Set()): string[] {
  if (!t || t.partitions.length === 0) return ["(no partitions)"];
  const mib = (sectors: number) => (sectors * t.sectorSize) / (1024 * 1024);
  const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2));
  return t.partitions.map(
    (p) =>
      `${p.number}: "${p.label}" start ${p.start} (${fmt(mib(p.start))} MiB) size ${p.size} (${fmt(mib(p.size))} MiB) ` +
      `type ${p.typeGuid} guid ${randomGuids.has(p.number) ? "(random)" : p.guid}`,
  );
}
