// A model of how sgdisk places partitions, so the planner gets the exact sectors Ignition's
// `sgdisk --new=N:START:+SIZE` calls would produce without running sgdisk: the alignment it
// derives from existing partitions, "start 0" = first sector of the largest free block,
// "size 0" = to the end of that block, and its rules for moving an unaligned start.
// The differential test (sgdisk_model.test.ts) checks this against the real sgdisk.
import type { GptTable } from "./gpt.ts";

/** A partition as the model sees it: an entry index and an inclusive sector range. */
export interface ModelPartition {
  number: number;
  start: number;
  end: number;
}

/** The geometry sgdisk works with after loading a disk. */
export interface ModelDisk {
  sectorSize: number;
  totalSectors: number;
  firstUsable: number;
  lastUsable: number;
  entryCount: number;
  partitions: readonly ModelPartition[];
}

/** The model's view of a partition table. */
export function modelDiskOf(t: GptTable): ModelDisk {
  return {
    sectorSize: t.sectorSize,
    totalSectors: t.totalSectors,
    firstUsable: t.firstUsable,
    lastUsable: t.lastUsable,
    entryCount: t.entryCount,
    partitions: t.partitions.map((p) => ({ number: p.number, start: p.start, end: p.start + p.size - 1 })),
  };
}

/** One `--new=N:START:+SIZE` request; 0 means "default" for each field, as for sgdisk. */
export interface NewPartition {
  number: number;
  start: number;
  size: number;
}

/** What one simulated sgdisk run produced, or the error it would stop with. */
export type SimulationResult =
  | { ok: true; partitions: ModelPartition[]; created: ModelPartition[]; alignment: number }
  | { ok: false; error: string };

const DEFAULT_ALIGNMENT = 2048;
const MIN_AF_ALIGNMENT = 8;
const SMALLEST_ADVANCED_FORMAT = 585937500;

/** The alignment sgdisk derives on load: the largest power of two (≤ 1 MiB) dividing every start. */
export function computeAlignment(disk: ModelDisk): number {
  let align = Math.max(1, Math.floor((DEFAULT_ALIGNMENT * 512) / disk.sectorSize));
  let exponent = Math.floor(Math.log2(align));
  for (const p of disk.partitions) {
    for (;;) {
      align = 2 ** exponent;
      if (p.start % align === 0) break;
      exponent--;
    }
  }
  if (align < MIN_AF_ALIGNMENT && disk.totalSectors >= SMALLEST_ADVANCED_FORMAT) align = MIN_AF_ALIGNMENT;
  return align;
}

/** Mutable working state of one simulated sgdisk run. */
class Model {
  parts: ModelPartition[];
  constructor(
    readonly disk: ModelDisk,
    readonly alignment: number,
  ) {
    this.parts = disk.partitions.map((p) => ({ ...p }));
  }

  isFree(sector: number): boolean {
    if (sector < this.disk.firstUsable || sector > this.disk.lastUsable) return false;
    return !this.parts.some((p) => sector >= p.start && sector <= p.end);
  }

  firstAvailable(from: number): number {
    let first = Math.max(from, this.disk.firstUsable);
    let moved = true;
    while (moved) {
      moved = false;
      for (const p of this.parts) {
        if (first >= p.start && first <= p.end) {
          first = p.end + 1;
          moved = true;
        }
      }
    }
    return first > this.disk.lastUsable ? 0 : first;
  }

  lastInFree(from: number): number {
    let nearest = this.disk.lastUsable;
    for (const p of this.parts) if (nearest > p.start && p.start > from) nearest = p.start - 1;
    return nearest;
  }

  firstInLargest(): number {
    let start = 0;
    let best = 0;
    let bestSize = 0;
    for (;;) {
      const first = this.firstAvailable(start);
      if (first === 0) break;
      const last = this.lastInFree(first);
      const size = last - first + 1;
      if (size > bestSize) {
        bestSize = size;
        best = first;
      }
      start = last + 1;
    }
    return best;
  }

  /** Moves an unaligned sector down if the gap is free, else up, else leaves it. */
  align(sector: number): number {
    const a = this.alignment;
    if (sector % a === 0) return sector;
    const earlier = Math.floor(sector / a) * a;
    const later = earlier + a;
    if (earlier >= this.disk.firstUsable) {
      let ok = true;
      for (let s = earlier; ok && s < sector; s++) ok = this.isFree(s);
      if (ok) return earlier;
    }
    if (later <= this.disk.lastUsable) {
      let ok = true;
      for (let s = later; ok && s > sector; s--) ok = this.isFree(s);
      if (ok) return later;
    }
    return sector;
  }

  firstFreeNumber(): number {
    for (let n = 1; n <= this.disk.entryCount; n++) if (!this.parts.some((p) => p.number === n)) return n;
    return 0;
  }

  create(req: NewPartition): ModelPartition | string {
    const number = req.number > 0 ? req.number : this.firstFreeNumber();
    let low = this.firstInLargest();
    low = this.align(low);
    const high = this.lastInFree(low);
    const requestedStart = req.start === 0 ? low : req.start;
    const end = req.size === 0 ? high : requestedStart + req.size - 1;
    const fail = (why: string) => `Cannot create partition ${number} from sector ${requestedStart} to ${end}: ${why}`;
    if (number < 1 || number > this.disk.entryCount) return fail(`the table holds ${this.disk.entryCount} entries`);
    if (this.parts.some((p) => p.number === number)) return fail("the partition number is in use");
    const start = this.align(requestedStart);
    if (!this.isFree(start)) return fail(`sector ${start} is not free`);
    if (start > end) return fail("it would end before it starts");
    if (this.lastInFree(start) < end) return fail("there is not enough free space after the start");
    const p = { number, start, end };
    this.parts.push(p);
    return p;
  }
}

/**
 * Runs deletions then creations in order on `disk`, as one sgdisk invocation would, and
 * returns the resulting partitions (sorted by number) or the first error sgdisk would hit.
 */
export function simulateSgdisk(disk: ModelDisk, deletions: readonly number[], creations: readonly NewPartition[]): SimulationResult {
  const model = new Model(disk, computeAlignment(disk));
  for (const n of deletions) model.parts = model.parts.filter((p) => p.number !== n);
  const created: ModelPartition[] = [];
  for (const req of creations) {
    const r = model.create(req);
    if (typeof r === "string") return { ok: false, error: r };
    created.push(r);
  }
  return {
    ok: true,
    partitions: [...model.parts].sort((a, b) => a.number - b.number),
    created,
    alignment: model.alignment,
  };
}
