import { describe, expect, test } from "bun:test";
import type { Filesystem } from "../config/types.ts";
import { buildMkfs, canonicalizeFsUuid, describeFsDecision, parseBlkidExport, parseWipefsFirst, planFilesystem, type FsProbe } from "./filesystems.ts";

const none: FsProbe = { type: "", uuid: "", label: "" };
const ext4: FsProbe = { type: "ext4", uuid: "0D4C8E6B-3E1A-4F7E-9C55-2B1C11A2B3C4".toLowerCase(), label: "data" };

describe("filesystems", () => {
  test.each([
    ["ext4", "ABCD-1234", "abcd-1234"],
    ["vfat", "2E24-EC82", "2e24ec82"],
    ["vfat", "2E24EC82", "2e24ec82"],
    ["xfs", "F63BF118-F6D7-40A3-B64C-A92B05A7F9EE", "f63bf118-f6d7-40a3-b64c-a92b05a7f9ee"],
  ])("`canonicalizeFsUuid()` of %p %p is %p", (format, uuid, want) => {
    expect(canonicalizeFsUuid(format, uuid)).toBe(want);
  });

  test.each([
    [{ format: "ext4", label: "L", uuid: "U", options: ["-E", "nodiscard"] }, ["mkfsExt4", ["-E", "nodiscard", "-F", "-U", "u", "-L", "L", "/dev/x"]]],
    [{ format: "btrfs", label: "L" }, ["mkfsBtrfs", ["--force", "-L", "L", "/dev/x"]]],
    [{ format: "xfs", uuid: "AB" }, ["mkfsXfs", ["-f", "-m", "uuid=ab", "/dev/x"]]],
    [{ format: "swap", uuid: "AB", label: "sw" }, ["mkswap", ["-f", "-U", "ab", "-L", "sw", "/dev/x"]]],
    [{ format: "vfat", uuid: "2E24-EC82", label: "EFI" }, ["mkfsVfat", ["-i", "2e24ec82", "-n", "EFI", "/dev/x"]]],
  ] as [Filesystem, [string, string[]]][])("`buildMkfs()` builds Ignition's arguments for %p", (fs, [cmd, args]) => {
    expect(buildMkfs(fs, "/dev/x")).toEqual({ cmd: cmd as never, args });
  });

  test("`buildMkfs()` returns nothing for none and an error for unknown formats", () => {
    expect(buildMkfs({ format: "none" }, "/dev/x")).toBeUndefined();
    expect(buildMkfs({ format: "zfs" }, "/dev/x")).toBeInstanceOf(Error);
  });

  test.each([
    ["no filesystem and no wipe", { format: "ext4" }, none, "create"],
    ["the same type without label or uuid in the config", { format: "ext4" }, ext4, "reuse"],
    ["the same type, label and uuid", { format: "ext4", label: "data", uuid: ext4.uuid.toUpperCase() }, ext4, "reuse"],
    ["format none on an empty device", { format: "none" }, none, "reuse"],
    ["wipeFilesystem on a matching filesystem", { format: "ext4", wipeFilesystem: true }, ext4, "create"],
    ["wipeFilesystem with format none", { format: "none", wipeFilesystem: true }, ext4, "create"],
    ["no format at all", { device: "/dev/x" }, ext4, "skip"],
    ["a vfat volume id written with a dash", { format: "vfat", uuid: "2E24-EC82" }, { type: "vfat", uuid: "2E24-EC82", label: "" }, "reuse"],
  ] as [string, Filesystem, FsProbe, string][])("`planFilesystem()` decides %s: %p", (_, fs, found, action) => {
    const r = planFilesystem(fs, "/dev/x", found);
    expect(r.ok && r.decision.action).toBe(action as never);
  });

  test.each([
    ["another type", { format: "xfs" }, ext4],
    ["another label", { format: "ext4", label: "other" }, ext4],
    ["another uuid", { format: "ext4", uuid: "00000000-0000-0000-0000-000000000000" }, ext4],
    ["format none over a filesystem", { format: "none" }, ext4],
  ] as [string, Filesystem, FsProbe][])("`planFilesystem()` refuses to reuse %s without wipeFilesystem", (_, fs, found) => {
    const r = planFilesystem(fs, "/dev/x", found);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain("wipeFilesystem is false");
  });

  test("`planFilesystem()` wipes signatures before mkfs, and only wipes for none", () => {
    const r = planFilesystem({ format: "none", wipeFilesystem: true }, "/dev/x", ext4);
    expect(r.ok && r.decision.action === "create" && [r.decision.wipe, r.decision.mkfs]).toEqual([{ cmd: "wipefs", args: ["-a", "/dev/x"] }, undefined]);
    if (r.ok) expect(describeFsDecision({ format: "none" }, r.decision)).toBe("wipe ext4 and leave unformatted");
  });

  test("`parseBlkidExport()` reads TYPE, UUID and LABEL", () => {
    expect(parseBlkidExport("DEVNAME=/dev/x\nUUID=abc\nLABEL=a=b\nTYPE=ext4\nUSAGE=filesystem\n")).toEqual({ type: "ext4", uuid: "abc", label: "a=b" });
  });

  test("`parseWipefsFirst()` returns the first filesystem signature", () => {
    const out = JSON.stringify({
      signatures: [
        { device: "x", offset: "0x200", type: "gpt" },
        { device: "x", offset: "0x438", type: "ext4", uuid: "u1", label: "some-label" },
        { device: "x", offset: "0x3fe1400", type: "zfs_member", uuid: "u2", label: "pool" },
      ],
    });
    expect(parseWipefsFirst(out)).toEqual({ type: "ext4", uuid: "u1", label: "some-label" });
    expect(parseWipefsFirst(JSON.stringify({ signatures: [] }))).toEqual({ type: "", uuid: "", label: "" });
  });
});
