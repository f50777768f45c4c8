// Rules for storage.disks (and their partitions), storage.raid and storage.filesystems.
import type { IssuePath } from "../issues.ts";
import { MESSAGES } from "../messages.ts";
import { isBlockDeviceFilesystem, type Disk, type Filesystem, type Partition, type Raid, type Storage } from "../types.ts";
import { byteLength, describeAt, isBlank, type RuleContext } from "./context.ts";

const GUID = /^(|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/;

/** Validates disks, partitions, RAID arrays and filesystems, and how they relate. */
export function checkDisks(ctx: RuleContext, storage: Storage): void {
  (storage.disks ?? []).forEach((d, i) => checkDisk(ctx, ["storage", "disks", i], d));
  (storage.raid ?? []).forEach((r, i) => checkRaid(ctx, ["storage", "raid", i], r));
  (storage.filesystems ?? []).forEach((f, i) => checkFilesystem(ctx, ["storage", "filesystems", i], f));
  checkFilesystemsAgainstDisks(ctx, storage);
}

function checkDisk(ctx: RuleContext, at: IssuePath, d: Disk): void {
  const parts = d.partitions ?? [];
  parts.forEach((p, j) => checkPartition(ctx, [...at, "partitions", j], p));
  if (isBlank(d.device)) {
    ctx.error([...at, "device"], MESSAGES.diskDeviceRequired());
    return;
  }
  ctx.requireAbsolutePath([...at, "device"], d.device!, "device");

  const numbers = new Map<number, number>();
  const labels = new Map<string, number>();
  parts.forEach((p, j) => {
    const n = p.number ?? 0;
    if (n !== 0) {
      const first = numbers.get(n);
      if (first === undefined) numbers.set(n, j);
      else ctx.error([...at, "partitions", j], MESSAGES.partitionNumberCollides(n, describeAt([...at, "partitions", first])), [[...at, "partitions", first]]);
    }
    if (p.label !== undefined && p.label !== null) {
      const first = labels.get(p.label);
      if (first === undefined) labels.set(p.label, j);
      else ctx.error([...at, "partitions", j], MESSAGES.partitionLabelCollides(p.label, describeAt([...at, "partitions", first])), [[...at, "partitions", first]]);
    }
  });

  // Only partitions with an explicit, non-zero start and a size can be checked for overlap.
  const fixed = parts
    .map((p, j) => ({ j, start: p.startMiB, size: p.sizeMiB }))
    .filter((p): p is { j: number; start: number; size: number } => p.start != null && p.size != null && p.start !== 0);
  const end = (p: { start: number; size: number }) => (p.size === 0 ? p.start : p.start + p.size - 1);
  for (let a = 0; a < fixed.length; a++) {
    for (let b = a + 1; b < fixed.length; b++) {
      const p = fixed[a]!;
      const o = fixed[b]!;
      const overlaps =
        (p.start >= o.start && p.start <= end(o)) || (end(p) >= o.start && end(p) <= end(o)) || (p.start < o.start && end(p) > end(o));
      if (overlaps) ctx.error([...at, "partitions", o.j], MESSAGES.partitionsOverlap(describeAt([...at, "partitions", p.j])), [[...at, "partitions", p.j]]);
    }
  }
}

function checkPartition(ctx: RuleContext, at: IssuePath, p: Partition): void {
  if (p.shouldExist === false) {
    const extra: string[] = [];
    if (p.label !== undefined && p.label !== null) extra.push("label");
    if (!isBlank(p.typeGuid)) extra.push("typeGuid");
    if (!isBlank(p.guid)) extra.push("guid");
    if (p.startMiB !== undefined && p.startMiB !== null) extra.push("startMiB");
    if (p.sizeMiB !== undefined && p.sizeMiB !== null) extra.push("sizeMiB");
    if (extra.length > 0) ctx.error(at, MESSAGES.partitionShouldNotExistWithOthers(extra));
  }
  if ((p.number ?? 0) === 0 && (p.label === undefined || p.label === null)) ctx.error(at, MESSAGES.partitionNeedsNumberOrLabel());
  if (p.label !== undefined && p.label !== null) {
    const bytes = byteLength(p.label);
    if (bytes > 36) ctx.error([...at, "label"], MESSAGES.partitionLabelTooLong(bytes));
    else if (p.label.includes(":")) ctx.error([...at, "label"], MESSAGES.partitionLabelColon(p.label));
  }
  for (const key of ["guid", "typeGuid"] as const) {
    const v = p[key];
    if (v !== undefined && v !== null && !GUID.test(v)) ctx.error([...at, key], MESSAGES.guidInvalid(v));
  }
}

const STRIPED_LEVELS = ["linear", "raid0", "0", "stripe"];
const REDUNDANT_LEVELS = ["raid1", "1", "mirror", "raid4", "4", "raid5", "5", "raid6", "6", "raid10", "10"];

function checkRaid(ctx: RuleContext, at: IssuePath, r: Raid): void {
  // From spec 3.3 level and devices are optional in the schema and required here.
  const strict = ctx.atLeast("3.3.0");
  const level = r.level ?? "";
  if (strict && level === "") {
    ctx.error([...at, "level"], MESSAGES.raidLevelRequired());
  } else if (STRIPED_LEVELS.includes(level)) {
    if (r.spares != null && r.spares !== 0) ctx.error([...at, "level"], MESSAGES.raidSparesUnsupported(level));
  } else if (!REDUNDANT_LEVELS.includes(level)) {
    ctx.error([...at, "level"], MESSAGES.raidLevelUnknown(level));
  }
  const devices = r.devices ?? [];
  if (strict && devices.length === 0) ctx.error([...at, "devices"], MESSAGES.raidDevicesRequired());
  devices.forEach((dev, k) => ctx.requireAbsolutePath([...at, "devices", k], dev, "device"));
}

const LABEL_LIMITS: Record<string, number> = { ext4: 16, btrfs: 256, xfs: 12, swap: 15, vfat: 11 };

/** Filesystem formats the config's spec version accepts. */
export function allowedFormats(ctx: RuleContext): string[] {
  const formats = ["ext4", "btrfs", "xfs", "vfat", "swap"];
  if (ctx.atLeast("3.3.0")) formats.push("none");
  if (ctx.atLeast("3.7.0-experimental")) formats.push("virtiofs");
  return formats;
}

/** Most bytes of a virtiofs tag (the virtio-fs device's limit). */
const VIRTIOFS_TAG_MAX_BYTES = 36;

function checkFilesystem(ctx: RuleContext, at: IssuePath, f: Filesystem): void {
  if (!isBlank(f.path)) ctx.requireAbsolutePath([...at, "path"], f.path!, "path");
  // A filesystem that is not on a block device (virtiofs, from 3.7.0-experimental) names a tag.
  const tagged = !isBlockDeviceFilesystem(f) && ctx.atLeast("3.7.0-experimental");
  if (!tagged) ctx.requireAbsolutePath([...at, "device"], f.device ?? "", "device");
  else if (isBlank(f.device)) ctx.error([...at, "device"], MESSAGES.pathRequired("device"));
  else if (byteLength(f.device!) > VIRTIOFS_TAG_MAX_BYTES) ctx.error([...at, "device"], MESSAGES.virtiofsTagTooLong(byteLength(f.device!)));
  if (isBlank(f.format)) {
    const set: string[] = [];
    if (!isBlank(f.path)) set.push("path");
    if (!isBlank(f.label)) set.push("label");
    if (!isBlank(f.uuid)) set.push("uuid");
    if (f.wipeFilesystem === true) set.push("wipeFilesystem");
    if ((f.mountOptions ?? []).length > 0) set.push("mountOptions");
    if ((f.options ?? []).length > 0) set.push("options");
    if (set.length > 0) ctx.error([...at, "format"], MESSAGES.fsFormatRequired(set));
  } else {
    const allowed = allowedFormats(ctx);
    if (!allowed.includes(f.format!)) ctx.error([...at, "format"], MESSAGES.fsFormatUnknown(f.format!, ctx.version, allowed));
  }
  if (!isBlank(f.label)) {
    if (isBlank(f.format)) {
      ctx.error([...at, "label"], MESSAGES.fsLabelNeedsFormat());
    } else if (tagged) {
      ctx.error([...at, "label"], MESSAGES.fsLabelNotSupported(f.format!));
    } else {
      const max = LABEL_LIMITS[f.format!];
      const bytes = byteLength(f.label!);
      if (max !== undefined && bytes > max) ctx.error([...at, "label"], MESSAGES.fsLabelTooLong(f.format!, max, bytes));
    }
  }
  if (tagged) {
    if (!isBlank(f.uuid)) ctx.error([...at, "uuid"], MESSAGES.fsUuidNeedsBlockDevice(f.format!));
    if (f.wipeFilesystem === true) ctx.error([...at, "wipeFilesystem"], MESSAGES.fsWipeNeedsBlockDevice(f.format!));
    if ((f.options ?? []).length > 0) ctx.error([...at, "options"], MESSAGES.fsOptionsNeedBlockDevice(f.format!));
  }
}

function checkFilesystemsAgainstDisks(ctx: RuleContext, storage: Storage): void {
  const disks = new Map<string, { disk: Disk; index: number }>();
  (storage.disks ?? []).forEach((disk, index) => {
    if (!isBlank(disk.device)) disks.set(disk.device!, { disk, index });
  });
  (storage.filesystems ?? []).forEach((f, i) => {
    const hit = isBlank(f.device) ? undefined : disks.get(f.device!);
    if (!hit) return;
    const at = ["storage", "filesystems", i, "device"];
    const diskAt = describeAt(["storage", "disks", hit.index]);
    if ((hit.disk.partitions ?? []).length > 0) ctx.warning(at, MESSAGES.fsOverwritesPartitions(f.device!, diskAt));
    else if (f.wipeFilesystem !== true && hit.disk.wipeTable === true) ctx.warning(at, MESSAGES.fsImplicitWipe(diskAt));
  });
}
