// The disks stage and the journal (executor/journal.ts). Its operations are recorded done
// only once their effect is on stable storage (the table written and fsync'd, mkfs finished,
// the device flushed), and the record is fsync'd before the next one starts. So when a done
// operation no longer matches the disk — another table, a filesystem with another UUID, no
// LUKS volume with the recorded UUID — the disk was changed after the interrupted run, and
// the run refuses; each step checks all of its done operations before it changes anything.
// An operation begun but not recorded done is simply done again (it had not finished, and
// nothing later had been written onto its result).
import { readDiskTable, inspectBlockDevice } from "../disks/block_device.ts";
import type { FsProbe } from "../disks/filesystems.ts";
import type { GptTable } from "../disks/gpt.ts";
import { JournalRefusal } from "../executor/journal.ts";

/** What the journal keeps of a partition table: enough to tell it from any other. */
export interface TableFingerprint {
  diskGuid: string | null;
  partitions: { number: number; start: number; size: number; typeGuid: string; guid: string; label: string }[];
}

/** The fingerprint of a GPT (or of no table). */
export function fingerprintTable(t: GptTable | null): TableFingerprint {
  return {
    diskGuid: t?.diskGuid ?? null,
    partitions: (t?.partitions ?? []).map((p) => ({ number: p.number, start: p.start, size: p.size, typeGuid: p.typeGuid, guid: p.guid, label: p.label })),
  };
}

/** The fingerprint of the table a device holds now. */
export function readTableFingerprint(device: string): TableFingerprint {
  const t = readDiskTable(inspectBlockDevice(device));
  return fingerprintTable(t.kind === "gpt" ? t.table : null);
}

/** How a table differs from the recorded one, in words; "" when it does not. */
export function describeTableChange(recorded: TableFingerprint, now: TableFingerprint): string {
  if (recorded.diskGuid !== now.diskGuid) return now.diskGuid === null ? "it has no GPT any more" : `its disk GUID is ${now.diskGuid}, the journal has ${recorded.diskGuid}`;
  for (const p of recorded.partitions) {
    const q = now.partitions.find((x) => x.number === p.number);
    if (!q) return `partition ${p.number} is gone`;
    const diff = (["start", "size", "typeGuid", "guid", "label"] as const).find((k) => p[k] !== q[k]);
    if (diff) return `partition ${p.number} has ${diff} ${JSON.stringify(q[diff])}, the journal has ${JSON.stringify(p[diff])}`;
  }
  const extra = now.partitions.find((q) => !recorded.partitions.some((p) => p.number === q.number));
  return extra ? `it has a partition ${extra.number} the journal does not` : "";
}

/** How a probed filesystem differs from the recorded one, in words; "" when it does not. */
export function describeFilesystemChange(recorded: { type?: unknown; uuid?: unknown }, now: FsProbe): string {
  if (now.type !== recorded.type) return now.type === "" ? "it holds no filesystem any more" : `it holds ${now.type}, the journal has ${String(recorded.type)}`;
  if (now.uuid !== recorded.uuid) return `its UUID is ${now.uuid}, the journal has ${String(recorded.uuid)}`;
  return "";
}

/** Refuses the run when any done disk operation no longer matches: `problems` as "what: how". */
export function refuseChangedDisks(problems: readonly string[]): void {
  if (problems.length === 0) return;
  throw new JournalRefusal(
    `the disks were changed after the interrupted run wrote them: ${problems.join("; ")}`,
    "put back the disks the interrupted run provisioned, or reimage them and provision again",
  );
}
