import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readKernelPartitions, type BlockDevice } from "./block_device.ts";

const top = mkdtempSync(join(tmpdir(), "nexus-blockdev-"));
afterAll(() => rmSync(top, { recursive: true, force: true }));

/** A sysfs-like directory for a disk "vda" with the given partitions' files. */
function sysDisk(parts: Record<string, Record<string, string>>): BlockDevice {
  const dir = join(top, String(Math.random()).slice(2), "vda");
  for (const [name, files] of Object.entries(parts)) {
    mkdirSync(join(dir, name), { recursive: true });
    for (const [f, v] of Object.entries(files)) writeFileSync(join(dir, name, f), `${v}\n`);
  }
  mkdirSync(join(dir, "queue"), { recursive: true });
  return { path: "/dev/vda", name: "vda", sysDir: dir, isBlock: true, sectorSize: 512, totalSectors: 2097152 };
}

describe("readKernelPartitions()", () => {
  test("`readKernelPartitions()` reads each partition's number, start and size", () => {
    const dev = sysDisk({ vda1: { partition: "1", start: "2048", size: "524288" }, vda2: { partition: "2", start: "526336", size: "1000" } });
    expect([...readKernelPartitions(dev).values()].sort((a, b) => a.number - b.number)).toEqual([
      { number: 1, name: "vda1", start: 2048, size: 524288 },
      { number: 2, name: "vda2", start: 526336, size: 1000 },
    ]);
  });

  test("`readKernelPartitions()` leaves out a partition that vanishes while it is read (udev rereading the table)", () => {
    const dev = sysDisk({ vda1: { partition: "1", start: "2048" }, vda2: { partition: "2", start: "526336", size: "1000" } });
    expect([...readKernelPartitions(dev).keys()]).toEqual([2]);
  });
});
