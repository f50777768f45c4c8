// Reading a GPT disk image's partition entries (the embed area is found by its partition name).
import { closeSync, openSync, readSync } from "node:fs";

/** One used partition entry. */
export interface GptPartition {
  number: number;
  name: string;
  firstLba: number;
  lastLba: number;
}

const SECTOR = 512;

function readAt(fd: number, offset: number, length: number): Uint8Array {
  const buf = new Uint8Array(length);
  const n = readSync(fd, buf, 0, length, offset);
  return buf.subarray(0, n);
}

/** The used partition entries of the GPT in a raw disk image; throws when it has none. */
export function readGptPartitions(image: string): GptPartition[] {
  const fd = openSync(image, "r");
  try {
    const header = readAt(fd, SECTOR, 92);
    if (new TextDecoder().decode(header.subarray(0, 8)) !== "EFI PART") throw new Error(`Cannot read "${image}": no GPT header at sector 1`);
    const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
    const entriesLba = Number(view.getBigUint64(72, true));
    const count = view.getUint32(80, true);
    const entrySize = view.getUint32(84, true);
    const table = readAt(fd, entriesLba * SECTOR, count * entrySize);
    const out: GptPartition[] = [];
    for (let i = 0; i < count; i++) {
      const e = new DataView(table.buffer, table.byteOffset + i * entrySize, entrySize);
      if (e.getBigUint64(0, true) === 0n && e.getBigUint64(8, true) === 0n) continue;
      const nameBytes = new Uint8Array(table.buffer, table.byteOffset + i * entrySize + 56, 72);
      const name = new TextDecoder("utf-16le").decode(nameBytes).replace(/\0[\s\S]*$/, "");
      out.push({ number: i + 1, name, firstLba: Number(e.getBigUint64(32, true)), lastLba: Number(e.getBigUint64(40, true)) });
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/** Byte offset and length of the partition named `name`, or null. */
export function findPartition(image: string, name: string): { offset: number; length: number; number: number } | null {
  const p = readGptPartitions(image).find((x) => x.name === name);
  return p ? { offset: p.firstLba * SECTOR, length: (p.lastLba - p.firstLba + 1) * SECTOR, number: p.number } : null;
}
