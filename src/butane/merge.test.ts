import { describe, expect, test } from "bun:test";
import { mergeObjects, mergeTranslated } from "./merge.ts";
import { baseSchema } from "./schema.ts";
import { TranslationSet } from "./translation_set.ts";

const config = baseSchema(6).config;

describe("mergeObjects()", () => {
  test("mergeObjects() merges keyed list entries, child fields winning, and appends the rest", () => {
    const parent = { storage: { filesystems: [{ device: "/dev/a", format: "xfs", wipeFilesystem: true }, { device: "/dev/b", format: "ext4" }] } };
    const child = { storage: { filesystems: [{ device: "/dev/b", format: "btrfs" }, { device: "/dev/c", format: "vfat" }] } };
    expect(mergeObjects(config, parent, child).result).toEqual({
      storage: {
        filesystems: [
          { device: "/dev/a", format: "xfs", wipeFilesystem: true },
          { device: "/dev/b", format: "btrfs" },
          { device: "/dev/c", format: "vfat" },
        ],
      },
    });
  });

  test("mergeObjects() concatenates options, mount options and appends", () => {
    const parent = { storage: { luks: [{ name: "root", options: ["--a"] }], files: [{ path: "/f", append: [{ source: "data:,1" }] }] } };
    const child = { storage: { luks: [{ name: "root", options: ["--b"] }], files: [{ path: "/f", append: [{ source: "data:,2" }] }] } };
    const r = mergeObjects(config, parent, child).result as { storage: { luks: { options: string[] }[]; files: { append: unknown[] }[] } };
    expect(r.storage.luks[0]!.options).toEqual(["--a", "--b"]);
    expect(r.storage.files[0]!.append).toEqual([{ source: "data:,1" }, { source: "data:,2" }]);
  });

  test("mergeObjects() matches partitions by number, else by label", () => {
    const parent = { storage: { disks: [{ device: "/d", partitions: [{ label: "root-1" }, { number: 5, label: "x" }] }] } };
    const child = { storage: { disks: [{ device: "/d", partitions: [{ label: "root-1", sizeMiB: 8192 }, { number: 5, label: "y" }] }] } };
    const r = mergeObjects(config, parent, child).result as { storage: { disks: { partitions: unknown[] }[] } };
    expect(r.storage.disks[0]!.partitions).toEqual([{ label: "root-1", sizeMiB: 8192 }, { number: 5, label: "y" }]);
  });

  test("mergeObjects() lets a child link replace a parent file at the same path", () => {
    const r = mergeObjects(config, { storage: { files: [{ path: "/p" }] } }, { storage: { links: [{ path: "/p", target: "/t" }] } }).result;
    expect(r).toEqual({ storage: { links: [{ path: "/p", target: "/t" }] } });
  });

  test("mergeObjects() drops a parent HTTP header when the child's has no value", () => {
    const parent = { ignition: { config: { replace: { source: "https://x", httpHeaders: [{ name: "A", value: "1" }, { name: "B", value: "2" }] } } } };
    const child = { ignition: { config: { replace: { httpHeaders: [{ name: "A" }] } } } };
    const r = mergeObjects(config, parent, child).result as { ignition: { config: { replace: unknown } } };
    expect(r.ignition.config.replace).toEqual({ source: "https://x", httpHeaders: [{ name: "B", value: "2" }] });
  });

  test("mergeObjects() takes the child's value fields even when zero", () => {
    const base3 = baseSchema(3).config;
    const r = mergeObjects(base3, { storage: { raid: [{ name: "md", level: "raid1" }] } }, { storage: { raid: [{ name: "md" }] } }).result;
    expect(r).toEqual({ storage: { raid: [{ name: "md" }] } });
  });
});

describe("mergeTranslated()", () => {
  test("mergeTranslated() maps result paths to the Butane origin, shifting child indexes", () => {
    const parentTs = new TranslationSet();
    parentTs.add(["storage", "filesystems", 0, "with_mount_unit"], ["systemd", "units", 0, "name"]);
    const childTs = new TranslationSet();
    childTs.add(["systemd", "units", 0, "name"], ["systemd", "units", 0, "name"]);
    const { config: merged, ts } = mergeTranslated(
      config,
      { systemd: { units: [{ name: "a.mount" }] } },
      parentTs,
      { systemd: { units: [{ name: "b.service" }] } },
      childTs,
    );
    expect(merged).toEqual({ systemd: { units: [{ name: "a.mount" }, { name: "b.service" }] } });
    expect(ts.get(["systemd", "units", 1, "name"])).toEqual(["systemd", "units", 0, "name"]);
    expect(ts.get(["systemd", "units", 0, "name"])).toEqual(["storage", "filesystems", 0, "with_mount_unit"]);
  });
});
