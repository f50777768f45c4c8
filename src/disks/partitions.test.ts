import { describe, expect, test } from "bun:test";
import type { Disk } from "../config/types.ts";
import { createEmptyTable, LINUX_FILESYSTEM_TYPE, buildProtectiveMbr, type DiskTable, type GptTable } from "./gpt.ts";
import { describeTable, formatPartitionPath, planPartitions, type DiskState } from "./partitions.ts";

const SECTOR = 512;
const EFI = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
const RESIZE = "3884DD41-8582-4404-B9A8-E9B84F2DF50E";

type Row = [number, string, number, number, string?];

function gpt(totalSectors: number, rows: Row[]): GptTable {
  return {
    ...createEmptyTable(SECTOR, totalSectors, "00000000-0000-4000-8000-000000000000"),
    partitions: rows.map(([number, label, start, size, type]) => ({
      number,
      label,
      start,
      size,
      typeGuid: type ?? LINUX_FILESYSTEM_TYPE,
      guid: `00000000-0000-4000-8000-${String(number).padStart(12, "0")}`,
      attributes: 0n,
    })),
  };
}

function state(table: DiskTable | GptTable, extra: Partial<DiskState> = {}): DiskState {
  const t: DiskTable =
    "kind" in table ? table : { kind: "gpt", table, mbr: "protective", mbrSector: buildProtectiveMbr(SECTOR, table.totalSectors) };
  const totalSectors = "kind" in table ? 790561 : table.totalSectors;
  return { device: "/dev/vdb", sectorSize: SECTOR, totalSectors, table: t, activePartitions: [], diskActive: false, ...extra };
}

/** The corpus base disk: EFI-SYSTEM 1, OEM 6, ROOT 9, 128 MiB each, 2 MiB aligned. */
function baseDisk(totalSectors = 790561, extra: Row[] = []): GptTable {
  return gpt(totalSectors, [
    [1, "EFI-SYSTEM", 4096, 262144, EFI],
    [6, "OEM", 266240, 262144],
    [9, "ROOT", 528384, 262144, RESIZE],
    ...extra,
  ]);
}

let counter = 0;
const newGuid = () => `11111111-1111-4111-8111-${String(++counter).padStart(12, "0")}`;

function layout(t: GptTable | null): [number, string, number, number][] {
  return (t?.partitions ?? []).map((p) => [p.number, p.label, p.start, p.size]);
}

describe("planPartitions()", () => {
  test.each([
    ["no partitions listed", {}, []],
    ["start and size 0 that resolve to the existing ones", { partitions: [{ number: 9, label: "ROOT", startMiB: 0, sizeMiB: 0, typeGuid: RESIZE }] }, [["keep", 9]]],
    ["unspecified start and size", { partitions: [{ number: 9, label: "ROOT" }] }, [["keep", 9]]],
    ["all three listed exactly", {
      partitions: [
        { label: "EFI-SYSTEM", number: 1, startMiB: 2, sizeMiB: 128, typeGuid: EFI.toLowerCase() },
        { label: "OEM", number: 6, startMiB: 130, sizeMiB: 128, wipePartitionEntry: true },
        { label: "ROOT", number: 9, startMiB: 258, sizeMiB: 128, wipePartitionEntry: true },
      ],
    }, [["keep", 1], ["keep", 6], ["keep", 9]]],
    ["absent partitions that should not exist", { partitions: [{ number: 10, shouldExist: false }, { number: 999, shouldExist: false }] }, [["absent", 10], ["absent", 999]]],
  ] as [string, Disk, [string, number][]][])("`planPartitions()` changes nothing with %s", (_, disk, actions) => {
    const r = planPartitions(state(baseDisk()), { device: "/dev/vdb", ...disk }, newGuid);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.plan.writesTable).toBe(false);
    expect(r.plan.actions.map((a): [string, number] => [a.kind, a.number])).toEqual(actions);
    expect(layout(r.plan.after)).toEqual(layout(baseDisk()));
  });

  test.each([
    ["a size that differs without wipePartitionEntry", { partitions: [{ number: 9, sizeMiB: 2 }] }, "didn't match: size did not match", 790561],
    ["size 0 on a disk with free space after the partition", { partitions: [{ number: 9, sizeMiB: 0 }] }, "size did not match (specified 327680, got 262144)", 856097],
    ["a partition that exists but should not, without wipePartitionEntry", { partitions: [{ number: 9, shouldExist: false }] }, "shouldExist is false", 790561],
    ["a later mismatch (nothing is written for the earlier match)", { partitions: [{ number: 1 }, { number: 9, sizeMiB: 2 }] }, "Cannot use partition 9", 790561],
    ["resize with a start inside another partition (the resolution pass fails, as sgdisk --pretend does)", { partitions: [{ number: 9, label: "ROOT", startMiB: 100, sizeMiB: 6352, resize: true }] }, "sector 204800 is not free", 13537313],
    ["resize with a different label", { partitions: [{ number: 9, label: "OTHER", sizeMiB: 6352, resize: true }] }, 'label did not match (specified "OTHER", got "ROOT")', 13537313],
    ["a label that differs", { partitions: [{ number: 6, label: "DATA" }] }, 'label did not match (specified "DATA", got "OEM")', 790561],
    ["a malformed GUID", { partitions: [{ number: 6, guid: "xyz" }] }, 'Cannot use GUID "xyz" of partition 6', 790561],
    ["a partition too big for the disk", { partitions: [{ number: 10, sizeMiB: 100000 }] }, "Cannot resolve the partition layout", 790561],
  ] as [string, Disk, string, number][])("`planPartitions()` fails with %s", (_, disk, message, size) => {
    const r = planPartitions(state(baseDisk(size)), { device: "/dev/vdb", ...disk }, newGuid);
    expect(r.ok ? "ok" : r.error).toContain(message);
  });

  test("`planPartitions()` resizes in place when resize is set and only the size differs", () => {
    const r = planPartitions(
      state(baseDisk(13537313)),
      { device: "/dev/vdb", wipeTable: false, partitions: [{ label: "ROOT", number: 9, sizeMiB: 6352, resize: true }] },
      newGuid,
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.plan.actions.map((a) => a.kind)).toEqual(["resize"]);
    const root = r.plan.after!.partitions.find((p) => p.number === 9)!;
    expect([root.start, root.size, root.label, root.typeGuid, root.guid]).toEqual([
      528384,
      13008896,
      "ROOT",
      RESIZE,
      "00000000-0000-4000-8000-000000000009",
    ]);
    expect(r.plan.kernel).toEqual({ delete: [], update: [9], add: [] });
  });

  test("`planPartitions()` recreates a partition with wipePartitionEntry and no start at the start of the largest block", () => {
    const r = planPartitions(
      state(baseDisk(13537313)),
      {
        device: "/dev/vdb",
        partitions: [{ label: "ROOT", number: 9, sizeMiB: 6352, typeGuid: RESIZE, guid: "3ED3993F-0016-422B-B134-09FCBA6F66EF", wipePartitionEntry: true }],
      },
      newGuid,
    );
    expect(r.ok && r.plan.actions[0]!.kind).toBe("recreate");
    if (!r.ok) return;
    expect(layout(r.plan.after)[2]).toEqual([9, "ROOT", 528384, 13008896]);
    expect(r.plan.after!.partitions[2]!.guid).toBe("3ED3993F-0016-422B-B134-09FCBA6F66EF");
  });

  // The corpus case partitions.complex, first disk: keep, recreate, fill the largest gap, delete.
  test("`planPartitions()` handles a mix of kept, recreated, filled and deleted partitions", () => {
    const disk = gpt(657441, [
      [1, "p1", 2048, 131072],
      [2, "dont-delete", 133120, 65536],
      [3, "garbo-town", 198656, 65536],
      [4, "more-junk", 395264, 65536],
      [5, "dont-delete2", 460800, 65536],
    ]);
    const r = planPartitions(
      state(disk),
      {
        device: "/dev/vdb",
        wipeTable: false,
        partitions: [
          { label: "p1", number: 1, startMiB: 1, sizeMiB: 32, typeGuid: "316f19f9-9e0f-431e-859e-ae6908dbe8ca", guid: "53f2e871-f468-437c-b90d-f3c6409df81a", wipePartitionEntry: true },
          { label: "dont-delete", number: 2, sizeMiB: 32 },
          { label: "new-biggest", number: 3, sizeMiB: 0, startMiB: 0, wipePartitionEntry: true },
          { number: 4, shouldExist: false, wipePartitionEntry: true },
          { number: 9, shouldExist: false },
        ],
      },
      newGuid,
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.plan.actions.map((a) => [a.kind, a.number])).toEqual([
      ["recreate", 1],
      ["keep", 2],
      ["recreate", 3],
      ["delete", 4],
      ["absent", 9],
    ]);
    expect(layout(r.plan.after)).toEqual([
      [1, "p1", 2048, 65536],
      [2, "dont-delete", 133120, 65536],
      [3, "new-biggest", 198656, 262144],
      [5, "dont-delete2", 460800, 65536],
    ]);
    expect(r.plan.after!.partitions[0]!.typeGuid).toBe("316F19F9-9E0F-431E-859E-AE6908DBE8CA");
    expect(r.plan.kernel).toEqual({ delete: [4], update: [1, 3], add: [] });
  });

  test("`planPartitions()` numbers number-0 partitions after all numbered ones", () => {
    const disk = gpt(135297, [[1, "foobar", 2048, 65536]]);
    const r = planPartitions(state(disk), { device: "/dev/vdb", partitions: [{ label: "newpart", sizeMiB: 32 }, { number: 1, label: "foobar" }] }, newGuid);
    expect(r.ok && layout(r.plan.after)).toEqual([
      [1, "foobar", 2048, 65536],
      [2, "newpart", 67584, 65536],
    ]);
    expect(r.ok && r.plan.actions.map((a) => [a.kind, a.number])).toEqual([
      ["keep", 1],
      ["create", 2],
    ]);
  });

  test("`planPartitions()` creates a table on a blank disk", () => {
    const blank: DiskTable = { kind: "none", mbr: "none", mbrSector: new Uint8Array(SECTOR) };
    const r = planPartitions(
      { ...state(blank), totalSectors: 67617 },
      { device: "/dev/vdb", partitions: [{ label: "fills-disk", number: 1, startMiB: 0, sizeMiB: 0 }] },
      newGuid,
    );
    expect(r.ok && layout(r.plan.after)).toEqual([[1, "fills-disk", 2048, 65536]]);
    expect(r.ok && r.plan.before).toBe(null);
  });

  test("`planPartitions()` starts from an empty table after wipeTable, and may leave none", () => {
    const r = planPartitions(state(baseDisk()), { device: "/dev/vdb", wipeTable: true }, newGuid);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.plan.wipeTable).toBe(true);
    expect(r.plan.writesTable).toBe(false);
    expect(r.plan.after).toBe(null);
    const r2 = planPartitions(state(baseDisk()), { device: "/dev/vdb", wipeTable: true, partitions: [{ number: 1, label: "a", sizeMiB: 32 }] }, newGuid);
    expect(r2.ok && layout(r2.plan.after)).toEqual([[1, "a", 2048, 65536]]);
  });

  test.each([
    ["a DOS table", { kind: "dos", mbr: "dos", mbrSector: new Uint8Array(SECTOR) }, "MBR (DOS) partition table"],
    ["a corrupt table", { kind: "corrupt", reason: "primary GPT is invalid (x)", mbr: "none", mbrSector: new Uint8Array(SECTOR) }, "primary GPT is invalid"],
  ] as [string, DiskTable, string][])("`planPartitions()` refuses %s unless wipeTable is set", (_, table, message) => {
    const r = planPartitions(state(table), { device: "/dev/vdb", partitions: [{ number: 1, sizeMiB: 32 }] }, newGuid);
    expect(!r.ok && r.error).toContain(message);
    const wiped = planPartitions(state(table), { device: "/dev/vdb", wipeTable: true, partitions: [{ number: 1, sizeMiB: 32 }] }, newGuid);
    expect(wiped.ok).toBe(true);
  });

  test.each([
    ["modifying an active partition", { activePartitions: [9] }, { partitions: [{ number: 9, sizeMiB: 64, wipePartitionEntry: true }] }, "it is in use"],
    ["wiping a disk with an active partition", { activePartitions: [6] }, { wipeTable: true }, "are in use"],
    ["touching a disk that is itself in use", { diskActive: true }, {}, "the whole disk is in use"],
  ] as [string, Partial<DiskState>, Disk, string][])("`planPartitions()` refuses %s", (_, extra, disk, message) => {
    const r = planPartitions(state(baseDisk(), extra), { device: "/dev/vdb", ...disk }, newGuid);
    expect(!r.ok && r.error).toContain(message);
  });

  test("`planPartitions()` allows keeping an active partition", () => {
    const r = planPartitions(state(baseDisk(), { activePartitions: [9] }), { device: "/dev/vdb", partitions: [{ number: 9, label: "ROOT" }] }, newGuid);
    expect(r.ok).toBe(true);
  });
});

describe("partition helpers", () => {
  test.each([
    ["/dev/sda", 1, "/dev/sda1"],
    ["/dev/loop3", 9, "/dev/loop3p9"],
    ["/dev/nvme0n1", 2, "/dev/nvme0n1p2"],
    ["/dev/vdb", 10, "/dev/vdb10"],
  ])("`formatPartitionPath()` of %p number %p is %p", (disk, n, want) => {
    expect(formatPartitionPath(disk, n)).toBe(want);
  });

  test("`describeTable()` prints one line per partition with MiB figures", () => {
    expect(describeTable(gpt(4096 * 100, [[1, "EFI", 2048, 4096]]))).toEqual([
      `1: "EFI" start 2048 (1 MiB) size 4096 (2 MiB) type ${LINUX_FILESYSTEM_TYPE} guid 00000000-0000-4000-8000-000000000001`,
    ]);
    expect(describeTable(null)).toEqual(["(no partitions)"]);
  });
});
