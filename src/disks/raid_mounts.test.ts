import { describe, expect, test } from "bun:test";
import { unescapeUdev } from "./devices.ts";
import { buildMountArgs, isMountable, planMounts } from "./mounts.ts";
import { cleanPath, pathDepth } from "../system/paths.ts";
import { buildMdadmCreate, formatRaidPath } from "./raid.ts";

describe("raid", () => {
  test("`buildMdadmCreate()` builds Ignition's mdadm arguments with spares counted out", () => {
    expect(buildMdadmCreate({ name: "data", level: "raid1", devices: ["a", "b", "c"], spares: 1, options: ["--metadata=1.2"] }, ["/dev/a", "/dev/b", "/dev/c"])).toEqual({
      cmd: "mdadm",
      args: ["--create", "/dev/md/data", "--force", "--run", "--homehost", "any", "--level", "raid1", "--raid-devices", "2", "--spare-devices", "1", "--metadata=1.2", "/dev/a", "/dev/b", "/dev/c"],
    });
  });

  test.each([
    [{ level: "raid1", devices: ["a"] }, "without a name"],
    [{ name: "x", devices: ["a"] }, "no level"],
    [{ name: "x", level: "raid1", devices: ["a"], spares: 1 }, "1 spares out of 1"],
  ])("`buildMdadmCreate()` rejects %p", (raid, message) => {
    const r = buildMdadmCreate(raid, raid.devices);
    expect(r instanceof Error && r.message).toContain(message);
  });

  test("`formatRaidPath()` puts names under /dev/md", () => {
    expect(formatRaidPath("data")).toBe("/dev/md/data");
    expect(formatRaidPath("/dev/md0")).toBe("/dev/md0");
  });
});

describe("mounts", () => {
  test.each([
    ["/", 0],
    ["/var", 1],
    ["/var/lib/", 2],
    ["//a/./b/../c", 2],
  ])("the depth of the mount point %p is %p", (path, depth) => {
    expect(pathDepth(cleanPath(path))).toBe(depth);
  });

  test("`planMounts()` sorts by depth, keeps config order for equal depths, skips swap, none and unset", () => {
    const m = planMounts([
      { device: "/dev/c", format: "ext4", path: "/var/lib/c" },
      { device: "/dev/b", format: "xfs", path: "/var" },
      { device: "/dev/s", format: "swap", path: "/swap" },
      { device: "/dev/n", format: "none", path: "/none" },
      { device: "/dev/x", format: "ext4" },
      { device: "/dev/a", format: "btrfs", path: "/srv", mountOptions: ["noexec", "subvolid=5"] },
    ]);
    expect(m.map((x) => x.path)).toEqual(["/var", "/srv", "/var/lib/c"]);
    expect(buildMountArgs(m[1]!, "/dev/loop0p1", "/root/srv")).toEqual(["-t", "btrfs", "-o", "noexec,subvolid=5", "/dev/loop0p1", "/root/srv"]);
    expect(buildMountArgs(m[0]!, "/dev/b", "/root/var")).toEqual(["-t", "xfs", "/dev/b", "/root/var"]);
  });

  test("`isMountable()` rejects swap and none", () => {
    expect([isMountable("ext4"), isMountable("swap"), isMountable("none"), isMountable(undefined)]).toEqual([true, false, false, false]);
  });
});

describe("devices", () => {
  test("`unescapeUdev()` decodes udev's \\x escapes", () => {
    expect(unescapeUdev("my\\x2fdisk\\x20one")).toBe("my/disk one");
  });
});
