import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnCollect } from "../system/real.ts";
import { createEmptyTable, encodeDiskTable, LINUX_FILESYSTEM_TYPE, generateGuid, type GptTable } from "./gpt.ts";
import { computeAlignment, modelDiskOf, simulateSgdisk, type NewPartition } from "./sgdisk_model.ts";

const SECTOR = 512;

function table(totalSectors: number, parts: [number, number, number][]): GptTable {
  return {
    ...createEmptyTable(SECTOR, totalSectors, generateGuid()),
    partitions: parts.map(([number, start, size]) => ({
      number,
      start,
      size,
      typeGuid: LINUX_FILESYSTEM_TYPE,
      guid: generateGuid(),
      label: "",
      attributes: 0n,
    })),
  };
}

describe("sgdisk model", () => {
  test.each([
    ["no partitions", 2048, []],
    ["1 MiB-aligned starts", 2048, [[1, 2048, 100], [2, 4096, 100]]],
    ["a 4096-aligned start", 2048, [[1, 4096, 100]]],
    ["an odd start", 8, [[1, 2048, 100], [2, 3000, 10]]],
    ["a start at sector 34", 2, [[1, 34, 100]]],
  ] as [string, number, [number, number, number][]][])("`computeAlignment()` with %s is %p", (_, want, parts) => {
    expect(computeAlignment(modelDiskOf(table(204800, parts)))).toBe(want);
  });

  test.each([
    ["start 0 takes the largest free block, aligned", [[1, 2048, 2048]], { number: 2, start: 0, size: 100 }, [2, 4096, 4195]],
    ["size 0 fills the block", [[1, 2048, 2048]], { number: 2, start: 0, size: 0 }, [2, 4096, 204766]],
    ["number 0 takes the first free entry", [[1, 2048, 2048], [3, 8192, 2048]], { number: 0, start: 0, size: 2048 }, [2, 10240, 12287]],
    ["an unaligned start moves down when the gap is free", [[1, 2048, 2048]], { number: 2, start: 10000, size: 100 }, [2, 8192, 10099]],
    ["an unaligned start moves up when the gap is used", [[1, 2048, 2048]], { number: 2, start: 4100, size: 100 }, [2, 4096, 4199]],
  ] as [string, [number, number, number][], NewPartition, [number, number, number]][])(
    "`simulateSgdisk()`: %s",
    (_, parts, req, [number, start, end]) => {
      const r = simulateSgdisk(modelDiskOf(table(204800, parts)), [], [req]);
      expect(r.ok && r.created[0]).toEqual({ number, start, end });
    },
  );

  test("`simulateSgdisk()` fails when the start lies inside a partition", () => {
    const r = simulateSgdisk(modelDiskOf(table(204800, [[1, 2048, 20480]])), [], [{ number: 2, start: 9000, size: 100 }]);
    expect(r.ok).toBe(false);
  });
});

// Differential test: random tables and random --delete/--new sequences, run through both
// the model and the real sgdisk (--pretend, on an image file), must agree exactly.
describe("sgdisk model against sgdisk", () => {
  const dir = mkdtempSync(join(tmpdir(), "nexus-sgdisk-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const pick = <T>(xs: T[]): T => xs[rand(xs.length)]!;

  function randomTable(totalSectors: number): GptTable {
    const parts: [number, number, number][] = [];
    const usedNumbers = new Set<number>();
    let cursor = 34;
    const count = rand(6);
    for (let i = 0; i < count; i++) {
      const align = pick([2048, 2048, 4096, 1, 8]);
      const gap = pick([0, 0, 2048, 10000]);
      const start = Math.ceil((cursor + gap) / align) * align;
      const size = pick([2048, 65536, 1000, 131072]);
      if (start + size - 1 > totalSectors - 34) break;
      let n = 1 + rand(10);
      while (usedNumbers.has(n)) n++;
      usedNumbers.add(n);
      parts.push([n, start, size]);
      cursor = start + size;
    }
    return table(totalSectors, parts);
  }

  function parsePrint(out: string): [number, number, number][] {
    const rows: [number, number, number][] = [];
    let inTable = false;
    for (const line of out.split("\n")) {
      if (line.startsWith("Number")) inTable = true;
      else if (inTable) {
        const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s/.exec(line);
        if (m) rows.push([Number(m[1]), Number(m[2]), Number(m[3])]);
      }
    }
    return rows;
  }

  test("`simulateSgdisk()` agrees with sgdisk on 400 random scenarios", async () => {
    const img = join(dir, "disk.img");
    let failuresAgreed = 0;
    for (let i = 0; i < 400; i++) {
      const totalSectors = pick([204800, 409600, 300001]);
      const t = randomTable(totalSectors);
      const fd = openSync(img, "w");
      ftruncateSync(fd, totalSectors * SECTOR);
      for (const w of encodeDiskTable(t, undefined)) writeSync(fd, w.bytes, 0, w.bytes.length, w.offset);
      closeSync(fd);
      const deletions = t.partitions.filter(() => rand(3) === 0).map((p) => p.number);
      const creations: NewPartition[] = [];
      for (let k = 1 + rand(4); k > 0; k--) {
        creations.push({
          number: pick([0, 0, 1, 2, 3, 7, 12, 129]),
          start: pick([0, 0, 2048, 4096 * (1 + rand(40)), 34 + rand(300000)]),
          size: pick([0, 2048, 65536, 1 + rand(50000), 400000]),
        });
      }
      const model = simulateSgdisk(modelDiskOf(t), deletions, creations);
      const args = [
        "--pretend",
        ...deletions.map((n) => `--delete=${n}`),
        ...creations.map((c) => `--new=${c.number}:${c.start}:+${c.size}`),
        "--print",
        img,
      ];
      const real = await spawnCollect(["sgdisk", ...args]);
      const context = JSON.stringify({ parts: t.partitions.map((p) => [p.number, p.start, p.size]), totalSectors, args });
      if (real.code !== 0 || /Could not create/.test(real.stderr + real.stdout)) {
        expect({ context, ok: model.ok }).toEqual({ context, ok: false });
        failuresAgreed++;
        continue;
      }
      expect({ context, ok: model.ok }).toEqual({ context, ok: true });
      if (!model.ok) continue;
      expect({ context, rows: model.partitions.map((p) => [p.number, p.start, p.end]) }).toEqual({
        context,
        rows: parsePrint(real.stdout),
      });
    }
    expect(failuresAgreed).toBeGreaterThan(40);
    expect(400 - failuresAgreed).toBeGreaterThan(100);
  }, 120_000);
});
