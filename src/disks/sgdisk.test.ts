import { describe, expect, test } from "bun:test";
import { createEmptyTable, buildProtectiveMbr } from "./gpt.ts";
import { planPartitions } from "./partitions.ts";
import { buildSgdiskCalls } from "./sgdisk.ts";

const guid = (() => {
  let n = 0;
  return () => `22222222-2222-4222-8222-${String(++n).padStart(12, "0")}`;
})();

describe("buildSgdiskCalls()", () => {
  test("`buildSgdiskCalls()` lists deletions before creations, with every attribute", () => {
    const table = {
      ...createEmptyTable(512, 409600, "00000000-0000-4000-8000-000000000000"),
      partitions: [
        { number: 1, start: 2048, size: 2048, typeGuid: "0FC63DAF-8483-4772-8E79-3D69D8477DE4", guid: "00000000-0000-4000-8000-000000000001", label: "old", attributes: 0n },
      ],
    };
    const r = planPartitions(
      { device: "/dev/vdb", sectorSize: 512, totalSectors: 409600, table: { kind: "gpt", table, mbr: "protective", mbrSector: buildProtectiveMbr(512, 409600) }, activePartitions: [], diskActive: false },
      { device: "/dev/vdb", wipeTable: true, partitions: [{ number: 2, label: "new", sizeMiB: 1 }] },
      guid,
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const calls = buildSgdiskCalls(r.plan, "/dev/vdb");
    expect(calls.wipe).toEqual(["--zap-all", "/dev/vdb"]);
    expect(calls.commit).toEqual([
      "--new=2:2048:+2048",
      "--change-name=2:new",
      "--typecode=2:0FC63DAF-8483-4772-8E79-3D69D8477DE4",
      `--partition-guid=2:${r.plan.after!.partitions[0]!.guid}`,
      "/dev/vdb",
    ]);
    expect(calls.pretend[0]).toBe("--pretend");
    expect(calls.pretend).toContain("--info=2");
  });
});
