// The GPT on-disk format: decoding a disk's partition table from its first and last sectors,
// and encoding a table back into the byte ranges to write. Pure: callers supply a reader and
// apply the writes (see block_device.ts), so every rule here is unit-tested without root.

/** One used GPT entry. Sectors are logical sectors of the disk. */
export interface GptPartition {
  /** 1-based entry index, as in /dev/sdaN. */
  number: number;
  start: number;
  size: number;
  /** Canonical upper-case GUID text. */
  typeGuid: string;
  guid: string;
  label: string;
  /** The 64 attribute bits, kept as read. */
  attributes: bigint;
}

/** A whole GUID partition table, as read or as planned. */
export interface GptTable {
  sectorSize: number;
  /** Size of the disk in logical sectors. */
  totalSectors: number;
  diskGuid: string;
  firstUsable: number;
  lastUsable: number;
  entryCount: number;
  entrySize: number;
  /** Used entries, sorted by number. */
  partitions: GptPartition[];
}

/** What the first sector holds, which decides what we write there. */
export type MbrKind = "none" | "protective" | "hybrid" | "dos";

/** What a disk holds, as far as partitioning is concerned. */
export type DiskTable =
  | { kind: "gpt"; table: GptTable; mbr: MbrKind; mbrSector: Uint8Array }
  | { kind: "none"; mbr: MbrKind; mbrSector: Uint8Array }
  | { kind: "dos"; mbr: MbrKind; mbrSector: Uint8Array }
  | { kind: "corrupt"; reason: string; mbr: MbrKind; mbrSector: Uint8Array };

/** A byte range to write to the disk. */
export interface DiskWrite {
  offset: number;
  bytes: Uint8Array;
}

/** The type GUID sgdisk gives a new partition when none is specified (Linux filesystem). */
export const LINUX_FILESYSTEM_TYPE = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
/** Entries in a table nexus-init creates, as sgdisk does. */
export const DEFAULT_ENTRY_COUNT = 128;
const ENTRY_SIZE = 128;
const HEADER_SIZE = 92;
const SIGNATURE = "EFI PART";
const REVISION = 0x00010000;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3), as used in GPT headers and entry arrays. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Canonical form of a GUID string: upper case with dashes; undefined if malformed. */
export function canonicalizeGuid(s: string): string | undefined {
  const hex = s.replace(/-/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) return undefined;
  const h = hex.toUpperCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Decodes a 16-byte mixed-endian GUID. */
export function decodeGuid(b: Uint8Array): string {
  const hx = (i: number) => b[i]!.toString(16).padStart(2, "0");
  const le = (from: number, len: number) => {
    let s = "";
    for (let i = from + len - 1; i >= from; i--) s += hx(i);
    return s;
  };
  let tail = "";
  for (let i = 8; i < 16; i++) tail += hx(i);
  return `${le(0, 4)}-${le(4, 2)}-${le(6, 2)}-${tail.slice(0, 4)}-${tail.slice(4)}`.toUpperCase();
}

/** Encodes a GUID string as 16 mixed-endian bytes. */
export function encodeGuid(guid: string): Uint8Array {
  const c = canonicalizeGuid(guid);
  if (!c) throw new Error(`Cannot encode GUID "${guid}": not 32 hex digits`);
  const h = c.replace(/-/g, "");
  const bytes = new Uint8Array(16);
  const byteAt = (i: number) => parseInt(h.slice(i * 2, i * 2 + 2), 16);
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  order.forEach((src, dst) => (bytes[dst] = byteAt(src)));
  return bytes;
}

/** A random version-4 GUID in canonical form. */
export function generateGuid(): string {
  return canonicalizeGuid(crypto.randomUUID())!;
}

function isZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** Classifies sector 0: no MBR signature, protective, hybrid (0xEE plus others), or a DOS table. */
export function classifyMbr(sector: Uint8Array): MbrKind {
  if (sector.length < 512 || sector[510] !== 0x55 || sector[511] !== 0xaa) return "none";
  let protective = false;
  let others = false;
  for (let i = 0; i < 4; i++) {
    const rec = sector.subarray(446 + i * 16, 462 + i * 16);
    const type = rec[4]!;
    if (type === 0) continue;
    if (type === 0xee) protective = true;
    else others = true;
  }
  if (protective) return others ? "hybrid" : "protective";
  return others ? "dos" : "none";
}

interface Header {
  currentLba: number;
  backupLba: number;
  firstUsable: number;
  lastUsable: number;
  diskGuid: string;
  entriesLba: number;
  entryCount: number;
  entrySize: number;
  entriesCrc: number;
}

function u64(v: DataView, off: number): number {
  return Number(v.getBigUint64(off, true));
}

/** Parses and checks one GPT header sector; a string says why it is invalid. */
function parseHeader(sector: Uint8Array, lba: number): Header | string {
  const sig = new TextDecoder("latin1").decode(sector.subarray(0, 8));
  if (sig !== SIGNATURE) return "no GPT signature";
  const v = new DataView(sector.buffer, sector.byteOffset, sector.byteLength);
  const size = v.getUint32(12, true);
  if (size < HEADER_SIZE || size > sector.length) return `bad header size ${size}`;
  const copy = sector.slice(0, size);
  new DataView(copy.buffer).setUint32(16, 0, true);
  if (crc32(copy) !== v.getUint32(16, true)) return "header checksum mismatch";
  const h: Header = {
    currentLba: u64(v, 24),
    backupLba: u64(v, 32),
    firstUsable: u64(v, 40),
    lastUsable: u64(v, 48),
    diskGuid: decodeGuid(sector.subarray(56, 72)),
    entriesLba: u64(v, 72),
    entryCount: v.getUint32(80, true),
    entrySize: v.getUint32(84, true),
    entriesCrc: v.getUint32(88, true),
  };
  if (h.currentLba !== lba) return `header claims LBA ${h.currentLba}, found at ${lba}`;
  if (h.entrySize < ENTRY_SIZE || h.entrySize % 8 !== 0) return `bad entry size ${h.entrySize}`;
  if (h.entryCount === 0 || h.entryCount > 65536) return `bad entry count ${h.entryCount}`;
  if (h.firstUsable > h.lastUsable) return "first usable LBA after last usable LBA";
  return h;
}

function parseEntries(bytes: Uint8Array, h: Header): GptPartition[] {
  const parts: GptPartition[] = [];
  for (let i = 0; i < h.entryCount; i++) {
    const e = bytes.subarray(i * h.entrySize, i * h.entrySize + ENTRY_SIZE);
    const type = e.subarray(0, 16);
    if (isZero(type)) continue;
    const v = new DataView(e.buffer, e.byteOffset, e.byteLength);
    const first = u64(v, 32);
    const last = u64(v, 40);
    const nameBytes = e.subarray(56, 128);
    let end = 0;
    while (end + 1 < nameBytes.length && (nameBytes[end] !== 0 || nameBytes[end + 1] !== 0)) end += 2;
    parts.push({
      number: i + 1,
      start: first,
      size: last - first + 1,
      typeGuid: decodeGuid(type),
      guid: decodeGuid(e.subarray(16, 32)),
      label: new TextDecoder("utf-16le").decode(nameBytes.subarray(0, end)),
      attributes: v.getBigUint64(48, true),
    });
  }
  return parts;
}

/** Reads `length` bytes at byte `offset` of the disk. */
export type ReadAt = (offset: number, length: number) => Uint8Array;

/**
 * Decodes a disk's partition table. The primary header wins when valid; a disk whose
 * primary is damaged but whose backup is intact is reported as corrupt (never repaired
 * silently), and so is one with an invalid entry array.
 */
export function decodeDiskTable(read: ReadAt, sectorSize: number, totalSectors: number): DiskTable {
  const mbrSector = read(0, sectorSize);
  const mbr = classifyMbr(mbrSector);
  const tryAt = (lba: number): { table: GptTable } | string => {
    if (lba <= 0 || lba >= totalSectors) return "header outside the disk";
    const h = parseHeader(read(lba * sectorSize, sectorSize), lba);
    if (typeof h === "string") return h;
    const len = h.entryCount * h.entrySize;
    if ((h.entriesLba + Math.ceil(len / sectorSize)) > totalSectors) return "entry array outside the disk";
    const entries = read(h.entriesLba * sectorSize, len);
    if (crc32(entries) !== h.entriesCrc) return "partition entry array checksum mismatch";
    return {
      table: {
        sectorSize,
        totalSectors,
        diskGuid: h.diskGuid,
        firstUsable: h.firstUsable,
        lastUsable: h.lastUsable,
        entryCount: h.entryCount,
        entrySize: h.entrySize,
        partitions: parseEntries(entries, h),
      },
    };
  };
  const primary = tryAt(1);
  if (typeof primary !== "string") return { kind: "gpt", table: primary.table, mbr, mbrSector };
  const backup = tryAt(totalSectors - 1);
  if (typeof backup !== "string") {
    return { kind: "corrupt", reason: `primary GPT is invalid (${primary}) but the backup is intact`, mbr, mbrSector };
  }
  if (primary !== "no GPT signature") {
    return { kind: "corrupt", reason: `primary GPT is invalid (${primary})`, mbr, mbrSector };
  }
  if (mbr === "dos") return { kind: "dos", mbr, mbrSector };
  if (mbr === "protective" || mbr === "hybrid") {
    return { kind: "corrupt", reason: "protective MBR present but no valid GPT header", mbr, mbrSector };
  }
  return { kind: "none", mbr, mbrSector };
}

/** Logical sectors taken by an entry array. */
export function countEntrySectors(entryCount: number, entrySize: number, sectorSize: number): number {
  return Math.ceil((entryCount * entrySize) / sectorSize);
}

/** An empty table laid out as sgdisk lays out a new one on a disk of this size. */
export function createEmptyTable(sectorSize: number, totalSectors: number, diskGuid: string): GptTable {
  const es = countEntrySectors(DEFAULT_ENTRY_COUNT, ENTRY_SIZE, sectorSize);
  return {
    sectorSize,
    totalSectors,
    diskGuid,
    firstUsable: 2 + es,
    lastUsable: totalSectors - 2 - es,
    entryCount: DEFAULT_ENTRY_COUNT,
    entrySize: ENTRY_SIZE,
    partitions: [],
  };
}

function encodeEntries(t: GptTable): Uint8Array {
  const bytes = new Uint8Array(t.entryCount * t.entrySize);
  for (const p of t.partitions) {
    if (p.number < 1 || p.number > t.entryCount) {
      throw new Error(`Cannot encode partition ${p.number}: the table holds ${t.entryCount} entries`);
    }
    const off = (p.number - 1) * t.entrySize;
    bytes.set(encodeGuid(p.typeGuid), off);
    bytes.set(encodeGuid(p.guid), off + 16);
    const v = new DataView(bytes.buffer, off, t.entrySize);
    v.setBigUint64(32, BigInt(p.start), true);
    v.setBigUint64(40, BigInt(p.start + p.size - 1), true);
    v.setBigUint64(48, p.attributes, true);
    const name = p.label.slice(0, 36);
    for (let i = 0; i < name.length; i++) v.setUint16(56 + i * 2, name.charCodeAt(i), true);
  }
  return bytes;
}

function encodeHeader(t: GptTable, current: number, backup: number, entriesLba: number, entriesCrc: number): Uint8Array {
  const sector = new Uint8Array(t.sectorSize);
  sector.set(new TextEncoder().encode(SIGNATURE), 0);
  const v = new DataView(sector.buffer);
  v.setUint32(8, REVISION, true);
  v.setUint32(12, HEADER_SIZE, true);
  v.setBigUint64(24, BigInt(current), true);
  v.setBigUint64(32, BigInt(backup), true);
  v.setBigUint64(40, BigInt(t.firstUsable), true);
  v.setBigUint64(48, BigInt(t.lastUsable), true);
  sector.set(encodeGuid(t.diskGuid), 56);
  v.setBigUint64(72, BigInt(entriesLba), true);
  v.setUint32(80, t.entryCount, true);
  v.setUint32(84, t.entrySize, true);
  v.setUint32(88, entriesCrc, true);
  v.setUint32(16, crc32(sector.subarray(0, HEADER_SIZE)), true);
  return sector;
}

/** A protective MBR for a disk of this size, keeping the boot code of `previous` if given. */
export function buildProtectiveMbr(sectorSize: number, totalSectors: number, previous?: Uint8Array): Uint8Array {
  const s = new Uint8Array(sectorSize);
  if (previous && previous.length >= 446) s.set(previous.subarray(0, 446), 0);
  const rec = 446;
  s.set([0x00, 0x00, 0x02, 0x00, 0xee, 0xff, 0xff, 0xff], rec);
  const v = new DataView(s.buffer);
  v.setUint32(rec + 8, 1, true);
  v.setUint32(rec + 12, Math.min(totalSectors - 1, 0xffffffff), true);
  s[510] = 0x55;
  s[511] = 0xaa;
  return s;
}

/** Removes hybrid-MBR records covering exactly this range (sgdisk does so on delete). */
export function dropHybridRecord(mbrSector: Uint8Array, start: number, size: number): Uint8Array {
  const s = mbrSector.slice();
  const v = new DataView(s.buffer);
  for (let i = 0; i < 4; i++) {
    const rec = 446 + i * 16;
    const type = s[rec + 4]!;
    if (type === 0 || type === 0xee) continue;
    if (v.getUint32(rec + 8, true) === start && v.getUint32(rec + 12, true) === size) s.fill(0, rec, rec + 16);
  }
  return s;
}

/**
 * The writes that put `t` on the disk: primary header and entries, backup entries and
 * header at the end of the disk (moving it there if the disk grew, as sgdisk does), and
 * sector 0: kept when it is a hybrid MBR, otherwise a fresh protective MBR.
 */
export function encodeDiskTable(t: GptTable, mbrSector: Uint8Array | undefined): DiskWrite[] {
  const es = countEntrySectors(t.entryCount, t.entrySize, t.sectorSize);
  const last = t.totalSectors - 1;
  const table: GptTable = { ...t, lastUsable: last - es - 1 };
  for (const p of table.partitions) {
    if (p.start < table.firstUsable || p.start + p.size - 1 > table.lastUsable || p.size < 1) {
      throw new Error(`Cannot encode partition ${p.number}: sectors ${p.start}+${p.size} are outside the usable area`);
    }
  }
  const entries = encodeEntries(table);
  const entriesCrc = crc32(entries);
  const backupEntriesLba = last - es;
  const padded = new Uint8Array(es * t.sectorSize);
  padded.set(entries);
  const mbr =
    mbrSector && classifyMbr(mbrSector) === "hybrid"
      ? mbrSector
      : buildProtectiveMbr(t.sectorSize, t.totalSectors, mbrSector);
  return [
    { offset: 0, bytes: mbr },
    { offset: t.sectorSize, bytes: encodeHeader(table, 1, last, 2, entriesCrc) },
    { offset: 2 * t.sectorSize, bytes: padded },
    { offset: backupEntriesLba * t.sectorSize, bytes: padded },
    { offset: last * t.sectorSize, bytes: encodeHeader(table, last, 1, backupEntriesLba, entriesCrc) },
  ];
}

/** The writes that erase all partition-table structures, as `sgdisk --zap-all` does. */
export function encodeWipe(sectorSize: number, totalSectors: number, previous?: GptTable): DiskWrite[] {
  const es = countEntrySectors(previous?.entryCount ?? DEFAULT_ENTRY_COUNT, previous?.entrySize ?? ENTRY_SIZE, sectorSize);
  const head = Math.min(totalSectors, 2 + es);
  const tail = Math.min(totalSectors, 1 + es);
  return [
    { offset: 0, bytes: new Uint8Array(head * sectorSize) },
    { offset: (totalSectors - tail) * sectorSize, bytes: new Uint8Array(tail * sectorSize) },
  ];
}
