import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnCollect } from "../system/real.ts";
import {
  canonicalizeGuid,
  classifyMbr,
  crc32,
  decodeDiskTable,
  decodeGuid,
  createEmptyTable,
  encodeDiskTable,
  encodeGuid,
  encodeWipe,
  buildProtectiveMbr,
  type DiskWrite,
  type GptTable,
} from "./gpt.ts";

const SECTOR = 512;

function memoryDisk(sectors: number): Uint8Array {
  return new Uint8Array(sectors * SECTOR);
}
function apply(disk: Uint8Array, writes: DiskWrite[]): void {
  for (const w of writes) disk.set(w.bytes, w.offset);
}
function reader(disk: Uint8Array) {
  return (offset: number, length: number) => disk.slice(offset, offset + length);
}

const SAMPLE: GptTable = {
  ...createEmptyTable(SECTOR, 204800, "11111111-2222-3333-4444-555555555555"),
  partitions: [
    {
      number: 1,
      start: 2048,
      size: 4096,
      typeGuid: "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
      guid: "0A0B0C0D-0E0F-1011-1213-141516171819",
      label: "EFI-SYSTEM",
      attributes: 0n,
    },
    {
      number: 9,
      start: 8192,
      size: 100000,
      typeGuid: "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
      guid: "AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE",
      label: "ROOT ünïcode",
      attributes: 1n << 60n,
    },
  ],
};

describe("gpt", () => {
  test("`crc32()` matches the IEEE check value", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  });

  test.each([
    ["c12a7328-f81f-11d2-ba4b-00a0c93ec93b", "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"],
    ["C12A7328F81F11D2BA4B00A0C93EC93B", "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"],
    ["not-a-guid", undefined],
    ["C12A7328-F81F-11D2-BA4B-00A0C93EC93", undefined],
  ])("`canonicalizeGuid()` turns %p into %p", (input, want) => {
    expect(canonicalizeGuid(input)).toBe(want);
  });

  test("`encodeGuid()` writes the first three fields little-endian", () => {
    const b = encodeGuid("C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
    expect([...b.subarray(0, 8)]).toEqual([0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11]);
    expect(decodeGuid(b)).toBe("C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
  });

  test("`encodeDiskTable()` output decodes to the same table", () => {
    const disk = memoryDisk(SAMPLE.totalSectors);
    apply(disk, encodeDiskTable(SAMPLE, undefined));
    const got = decodeDiskTable(reader(disk), SECTOR, SAMPLE.totalSectors);
    expect(got.kind).toBe("gpt");
    if (got.kind !== "gpt") return;
    expect(got.mbr).toBe("protective");
    expect(got.table).toEqual(SAMPLE);
  });

  test("`decodeDiskTable()` reports a damaged primary with an intact backup as corrupt", () => {
    const disk = memoryDisk(SAMPLE.totalSectors);
    apply(disk, encodeDiskTable(SAMPLE, undefined));
    disk.fill(0x5a, 0, 1536);
    const got = decodeDiskTable(reader(disk), SECTOR, SAMPLE.totalSectors);
    expect(got.kind).toBe("corrupt");
    if (got.kind === "corrupt") expect(got.reason).toContain("backup is intact");
  });

  test("`decodeDiskTable()` reports a corrupted entry array", () => {
    const disk = memoryDisk(SAMPLE.totalSectors);
    apply(disk, encodeDiskTable(SAMPLE, undefined));
    disk[2 * SECTOR + 60] = 0x42;
    const got = decodeDiskTable(reader(disk), SECTOR, SAMPLE.totalSectors);
    expect(got.kind).toBe("corrupt");
  });

  test("`decodeDiskTable()` sees a blank disk as having no table", () => {
    const disk = memoryDisk(4096);
    expect(decodeDiskTable(reader(disk), SECTOR, 4096).kind).toBe("none");
  });

  test("`decodeDiskTable()` recognises a DOS partition table", () => {
    const disk = memoryDisk(4096);
    disk[446 + 4] = 0x83;
    disk[510] = 0x55;
    disk[511] = 0xaa;
    expect(decodeDiskTable(reader(disk), SECTOR, 4096).kind).toBe("dos");
  });

  test("`encodeWipe()` leaves no table behind", () => {
    const disk = memoryDisk(SAMPLE.totalSectors);
    apply(disk, encodeDiskTable(SAMPLE, undefined));
    apply(disk, encodeWipe(SECTOR, SAMPLE.totalSectors, SAMPLE));
    expect(decodeDiskTable(reader(disk), SECTOR, SAMPLE.totalSectors).kind).toBe("none");
  });

  test("`encodeDiskTable()` keeps a hybrid MBR and refreshes a protective one", () => {
    const hybrid = buildProtectiveMbr(SECTOR, SAMPLE.totalSectors);
    hybrid.set([0x80, 0, 0, 0, 0x0c], 446 + 16);
    expect(classifyMbr(hybrid)).toBe("hybrid");
    const writes = encodeDiskTable(SAMPLE, hybrid);
    expect(writes[0]!.bytes).toEqual(hybrid);
    const stale = buildProtectiveMbr(SECTOR, 1000);
    const fresh = encodeDiskTable(SAMPLE, stale)[0]!.bytes;
    expect(new DataView(fresh.buffer).getUint32(446 + 12, true)).toBe(SAMPLE.totalSectors - 1);
  });

  test("`encodeDiskTable()` moves the backup to the end of a grown disk", () => {
    const grown = { ...SAMPLE, totalSectors: SAMPLE.totalSectors * 2 };
    const disk = memoryDisk(grown.totalSectors);
    apply(disk, encodeDiskTable(grown, undefined));
    const got = decodeDiskTable(reader(disk), SECTOR, grown.totalSectors);
    expect(got.kind === "gpt" && got.table.lastUsable).toBe(grown.totalSectors - 34);
  });

  test("`encodeDiskTable()` refuses a partition outside the usable area", () => {
    const bad = { ...SAMPLE, partitions: [{ ...SAMPLE.partitions[0]!, start: 10 }] };
    expect(() => encodeDiskTable(bad, undefined)).toThrow("outside the usable area");
  });
});

describe("gpt against sgdisk", () => {
  test("`decodeDiskTable()` reads what sgdisk writes, and sgdisk reads what we write", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nexus-gpt-"));
    try {
      const img = join(dir, "disk.img");
      const sectors = 204800;
      writeFileSync(img, new Uint8Array(0));
      truncateSync(img, sectors * SECTOR);
      const made = await spawnCollect([
        "sgdisk",
        "--new=1:2048:+4096",
        "--change-name=1:EFI-SYSTEM",
        "--typecode=1:C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
        "--partition-guid=1:0A0B0C0D-0E0F-1011-1213-141516171819",
        "--new=6:0:+10000",
        "--change-name=6:OEM",
        "-h=1",
        img,
      ]);
      expect(made.code).toBe(0);
      const bytes = new Uint8Array(readFileSync(img));
      const got = decodeDiskTable(reader(bytes), SECTOR, sectors);
      expect(got.kind).toBe("gpt");
      if (got.kind !== "gpt") return;
      expect(got.mbr).toBe("hybrid");
      expect(got.table.partitions.map((p) => [p.number, p.start, p.size, p.label, p.typeGuid])).toEqual([
        [1, 2048, 4096, "EFI-SYSTEM", "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"],
        [6, 6144, 10000, "OEM", "0FC63DAF-8483-4772-8E79-3D69D8477DE4"],
      ]);
      expect(got.table.partitions[0]!.guid).toBe("0A0B0C0D-0E0F-1011-1213-141516171819");

      const mine = memoryDisk(sectors);
      apply(mine, encodeDiskTable(SAMPLE, undefined));
      writeFileSync(img, mine);
      const verify = await spawnCollect(["sgdisk", "--verify", img]);
      expect(verify.stdout).toContain("No problems found");
      const info = await spawnCollect(["sgdisk", "--info=9", img]);
      expect(info.stdout).toContain("First sector: 8192");
      expect(info.stdout).toContain("Partition size: 100000 sectors");
      expect(info.stdout).toContain("Partition name: 'ROOT ünïcode'");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // sgdisk pauses about a second after writing a table, and two 100 MB images are read and
    // written: more than the default 5 s when the shared machine is busy.
  }, 30_000);
});
