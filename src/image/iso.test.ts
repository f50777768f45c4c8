import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeAt } from "./disk.ts";
import { diskBlocks } from "./iso.ts";

const MIB = 1024 * 1024;

describe("install image", () => {
  test("`diskBlocks()` keeps the MiB blocks holding any non-zero byte, whole, and maps their runs", () => {
    const dir = mkdtempSync(join(tmpdir(), "nexus-iso-test-"));
    try {
      const disk = join(dir, "disk.raw");
      writeFileSync(disk, "");
      Bun.spawnSync(["truncate", "-s", `${8 * MIB + 4096}`, disk]);
      writeAt(disk, 0, new Uint8Array([1]));
      writeAt(disk, 2 * MIB - 1, new Uint8Array([2]));
      writeAt(disk, 5 * MIB + 10, new Uint8Array([3]));
      writeAt(disk, 8 * MIB + 100, new Uint8Array([4])); // the last, partial block
      const { map, blocks } = diskBlocks(disk);
      expect(map).toBe("0 2\n5 1\n8 1\n");
      expect(blocks.length).toBe(4 * MIB);
      expect([blocks[0], blocks[2 * MIB - 1], blocks[2 * MIB + 10], blocks[3 * MIB + 100]]).toEqual([1, 2, 3, 4]);
      expect(blocks.filter((b) => b !== 0).length).toBe(4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
