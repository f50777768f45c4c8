// The disks, mount and umount stages against real loop devices (needs root): partitioning a
// blank disk, re-applying without writing, refusing a conflict with the table untouched,
// resolving by-partlabel paths without udev, mounting and always unmounting.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../config/index.ts";
import type { Config } from "../config/types.ts";
import { Logger } from "../log/logger.ts";
import type { StageContext } from "../executor/stage.ts";
import { emptyState } from "../executor/state.ts";
import { createFetcher } from "../resource/index.ts";
import { realSystem, spawnCollect } from "../system/real.ts";
import { Root } from "../system/root.ts";
import { disksStage, planKernelSync } from "./disks.ts";
import { mountStage } from "./mount.ts";
import { umountStage } from "./umount.ts";

const work = mkdtempSync(join(tmpdir(), "nexus-disks-stage-"));
const loops: string[] = [];
afterEach(async () => {
  for (const l of loops.splice(0)) {
    const mounts = (await spawnCollect(["findmnt", "-rn", "-o", "TARGET,SOURCE"])).stdout.split("\n").filter((x) => x.includes(l));
    for (const m of mounts.reverse()) await spawnCollect(["umount", m.split(" ")[0]!]);
    await spawnCollect(["partx", "--delete", l]);
    await spawnCollect(["losetup", "--detach", l]);
  }
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function blankDisk(mib: number): Promise<{ loop: string; image: string }> {
  const image = join(work, `disk-${loops.length}-${Date.now()}.img`);
  writeFileSync(image, "");
  expect((await spawnCollect(["truncate", "--size", `${mib}M`, image])).code).toBe(0);
  const r = await spawnCollect(["losetup", "--find", "--show", "--partscan", image]);
  expect(r.code, r.stderr).toBe(0);
  const loop = r.stdout.trim();
  loops.push(loop);
  return { loop, image };
}

function config(obj: object): Config {
  const r = parseConfig(JSON.stringify({ ignition: { version: "3.4.0" }, ...obj }));
  if (!r.ok) throw new Error(r.issues.map((i) => i.message).join("; "));
  return r.config;
}

function context(cfg: Config, root = join(work, "root"), lines: string[] = []): StageContext {
  mkdirSync(root, { recursive: true });
  return {
    config: cfg,
    root,
    system: { ...realSystem(), env: { ...process.env, NEXUS_DEVICE_TIMEOUT_MS: "5000" } },
    log: new Logger((l) => lines.push(l)),
    fetcher: createFetcher({ offline: true }),
    platform: "file",
    state: emptyState(),
  };
}

async function sfdisk(loop: string): Promise<{ start: number; size: number; name?: string; node: string }[]> {
  const r = await spawnCollect(["sfdisk", "--json", loop]);
  return r.code === 0 ? (JSON.parse(r.stdout).partitiontable.partitions ?? []) : [];
}

async function blkid(dev: string): Promise<string> {
  return (await spawnCollect(["blkid", "-p", "-s", "TYPE", "-o", "value", dev])).stdout.trim();
}

const layout = (loop: string) => ({
  storage: {
    disks: [
      {
        device: loop,
        partitions: [
          { number: 1, label: "esp", sizeMiB: 32 },
          { number: 2, label: "data", sizeMiB: 64 },
          { number: 3, label: "rest", sizeMiB: 0 },
        ],
      },
    ],
    filesystems: [
      { device: `${loop}p2`, format: "ext4", label: "data", path: "/data" },
      { device: `${loop}p3`, format: "xfs", label: "rest", path: "/data/rest" },
      { device: `${loop}p1`, format: "swap" },
    ],
  },
});

/** The kernel's view of a disk's partitions (sysfs): number → start and size in sectors. */
function kernelView(loop: string): Record<number, [number, number]> {
  const name = loop.replace("/dev/", "");
  const out: Record<number, [number, number]> = {};
  for (const entry of readdirSync(`/sys/block/${name}`)) {
    const m = new RegExp(`^${name}p(\\d+)$`).exec(entry);
    if (!m) continue;
    const read = (f: string) => Number(readFileSync(`/sys/block/${name}/${entry}/${f}`, "utf8").trim());
    out[Number(m[1])] = [read("start"), read("size")];
  }
  return out;
}

/** The on-disk table as sfdisk reads it, in the kernel view's shape. */
async function tableView(loop: string): Promise<Record<number, [number, number]>> {
  const out: Record<number, [number, number]> = {};
  for (const p of await sfdisk(loop)) out[Number(/(\d+)$/.exec(p.node)![1])] = [p.start, p.size];
  return out;
}

/** An old layout the kernel knows: written with sgdisk, then told to the kernel with partx. */
async function knownLayout(loop: string, sizesMiB: number[]): Promise<void> {
  const args = sizesMiB.flatMap((s, i) => [`--new=${i + 1}:0:+${s}M`]);
  expect((await spawnCollect(["sgdisk", ...args, loop])).code).toBe(0);
  await spawnCollect(["partx", "--add", loop]);
  await spawnCollect(["partx", "--update", loop]);
  expect(Object.keys(kernelView(loop)).length).toBe(sizesMiB.length);
}

describe("disks stage over a table the kernel knows", () => {
  test("`disksStage.run()` wipes the table and brings the kernel's view in line: old ones removed, changed ones moved, new ones added", async () => {
    const { loop } = await blankDisk(256);
    await knownLayout(loop, [16, 32, 64]);
    const cfg = config({
      storage: { disks: [{ device: loop, wipeTable: true, partitions: [{ number: 1, label: "a", sizeMiB: 64 }, { number: 2, label: "b", sizeMiB: 16 }] }] },
    });
    await disksStage.run(context(cfg));
    expect(kernelView(loop)).toEqual({ 1: [2048, 131072], 2: [133120, 32768] });
    expect(kernelView(loop)).toEqual(await tableView(loop));
  }, 60_000);

  test("`disksStage.run()` lines the kernel up whether or not it already saw some of the changes", async () => {
    const { loop } = await blankDisk(256);
    await knownLayout(loop, [16, 32]);
    // The kernel already knows partition 2 of the new table (as if udev had reread part of it).
    expect((await spawnCollect(["sgdisk", "--zap-all", loop])).code).toBe(0);
    expect((await spawnCollect(["sgdisk", "--new=1:0:+8M", "--new=2:0:+8M", loop])).code).toBe(0);
    await spawnCollect(["partx", "--delete", "--nr", "2", loop]);
    await spawnCollect(["partx", "--add", "--nr", "2", loop]);
    const cfg = config({ storage: { disks: [{ device: loop, wipeTable: true, partitions: [{ number: 1, sizeMiB: 8 }, { number: 2, sizeMiB: 8 }, { number: 3, sizeMiB: 8 }] }] } });
    await disksStage.run(context(cfg));
    expect(kernelView(loop)).toEqual({ 1: [2048, 16384], 2: [18432, 16384], 3: [34816, 16384] });
  }, 60_000);

  test("`disksStage.run()` adds a partition numbered 0 next to one deleted in the same config (Ignition PR 2234)", async () => {
    const { loop } = await blankDisk(256);
    await knownLayout(loop, [16, 16, 16]);
    const cfg = config({
      storage: {
        disks: [{ device: loop, partitions: [{ number: 2, shouldExist: false, wipePartitionEntry: true }, { number: 0, label: "new", sizeMiB: 32 }] }],
      },
    });
    await disksStage.run(context(cfg));
    const table = await tableView(loop);
    expect(Object.keys(table).length).toBe(3);
    expect(kernelView(loop)).toEqual(table);
  }, 60_000);
});

describe("disks stage", () => {
  test("`disksStage.run()` partitions and formats a blank disk, and re-applying writes nothing", async () => {
    const { loop } = await blankDisk(512);
    const lines: string[] = [];
    await disksStage.run(context(config(layout(loop)), undefined, lines));
    const parts = await sfdisk(loop);
    expect(parts.map((p) => [p.node, p.start, p.size, p.name])).toEqual([
      [`${loop}p1`, 2048, 65536, "esp"],
      [`${loop}p2`, 67584, 131072, "data"],
      [`${loop}p3`, 198656, 849887, "rest"],
    ]);
    expect([await blkid(`${loop}p1`), await blkid(`${loop}p2`), await blkid(`${loop}p3`)]).toEqual(["swap", "ext4", "xfs"]);
    expect(existsSync(`${loop}p3`)).toBe(true);

    const again: string[] = [];
    await disksStage.run(context(config(layout(loop)), undefined, again));
    const text = again.join("\n");
    expect(text).toContain("partition table already as configured");
    expect(text).not.toContain("writing the partition table");
    expect(text).not.toContain("creating ext4 filesystem");
    expect(text.match(/reuse existing/g)?.length).toBe(3);
  }, 60_000);

  test("`disksStage.run()` fails on a conflict and leaves the table byte-for-byte untouched", async () => {
    const { loop, image } = await blankDisk(128);
    await disksStage.run(context(config({ storage: { disks: [{ device: loop, partitions: [{ number: 1, label: "a", sizeMiB: 16 }] }] } })));
    const before = readFileSync(image).subarray(0, 34 * 512);
    const bad = config({ storage: { disks: [{ device: loop, partitions: [{ number: 1, label: "a", sizeMiB: 32 }, { number: 2, label: "b", sizeMiB: 8 }] }] } });
    await expect(disksStage.run(context(bad))).rejects.toThrow("Cannot use partition 1");
    expect(readFileSync(image).subarray(0, 34 * 512)).toEqual(before);
  }, 60_000);

  test("`disksStage.run()` finds /dev/disk/by-partlabel paths without udev", async () => {
    const { loop } = await blankDisk(128);
    const label = `nx-${process.pid}-${Date.now() % 100000}`;
    await disksStage.run(context(config({ storage: { disks: [{ device: loop, partitions: [{ number: 1, label, sizeMiB: 32 }] }] } })));
    await disksStage.run(context(config({ storage: { filesystems: [{ device: `/dev/disk/by-partlabel/${label}`, format: "ext4", label: "bylabel" }] } })));
    expect(await blkid(`${loop}p1`)).toBe("ext4");
  }, 60_000);

  test("`disksStage.plan()` shows the table before and after and the filesystems, touching nothing", async () => {
    const { loop, image } = await blankDisk(512);
    const before = readFileSync(image);
    const plan = await disksStage.plan(context(config(layout(loop))));
    expect(readFileSync(image).equals(before)).toBe(true);
    const actions = plan.map((p) => p.action);
    expect(actions).toEqual([
      "table-before",
      "create-partition",
      "create-partition",
      "create-partition",
      "table-after",
      "table-after",
      "table-after",
      "mkfs",
      "mkfs",
      "mkfs",
    ]);
    expect(plan.find((p) => p.action === "table-after")!.detail).toContain('1: "esp" start 2048 (1 MiB) size 65536 (32 MiB)');
    expect(plan.find((p) => p.action === "create-partition")!.detail).toContain("guid (random)");
  }, 60_000);

  test("`disksStage.plan()` reports a conflict as a fail entry", async () => {
    const { loop } = await blankDisk(128);
    await disksStage.run(context(config({ storage: { disks: [{ device: loop, partitions: [{ number: 1, label: "a", sizeMiB: 16 }] }] } })));
    const plan = await disksStage.plan(context(config({ storage: { disks: [{ device: loop, partitions: [{ number: 1, label: "b" }] }] } })));
    expect(plan.map((p) => p.action)).toEqual(["fail"]);
    expect(plan[0]!.detail).toContain("label did not match");
  }, 60_000);

  test("`planKernelSync()` deletes, updates and adds exactly what differs", () => {
    const kernel = new Map([
      [1, { start: 2048, size: 100 }],
      [2, { start: 4096, size: 100 }],
      [3, { start: 8192, size: 100 }],
      [5, { start: 10240, size: 100 }],
    ]);
    const after = {
      sectorSize: 512,
      totalSectors: 100000,
      diskGuid: "",
      firstUsable: 34,
      lastUsable: 99966,
      entryCount: 128,
      entrySize: 128,
      partitions: [
        { number: 1, start: 2048, size: 100, typeGuid: "", guid: "", label: "", attributes: 0n },
        { number: 2, start: 4096, size: 200, typeGuid: "", guid: "", label: "", attributes: 0n },
        { number: 4, start: 12288, size: 100, typeGuid: "", guid: "", label: "", attributes: 0n },
      ],
    };
    expect(planKernelSync(kernel, after, [5])).toEqual({ delete: [3], update: [2], add: [4] });
    // A partition that moved cannot be resized in place: it is deleted and added again.
    const moved = new Map([[1, { start: 2048, size: 100 }]]);
    expect(planKernelSync(moved, { ...after, partitions: [{ ...after.partitions[0]!, start: 4096 }] }, [])).toEqual({ delete: [1], update: [], add: [1] });
  });
});

describe("mount and umount stages", () => {
  test("`mountStage.run()` mounts shallowest first and `umountStage.run()` releases everything", async () => {
    const { loop } = await blankDisk(512);
    const cfg = config(layout(loop));
    await disksStage.run(context(cfg));
    const root = join(work, "root-mount");
    const ctx = context(cfg, root);
    await mountStage.run(ctx);
    expect(ctx.state.mounted).toEqual([join(root, "data"), join(root, "data/rest")]);
    expect(ctx.state.notatedDirectories).toEqual(["/data", "/data/rest"]);
    writeFileSync(join(root, "data/rest/hello"), "x");
    await umountStage.run(ctx);
    expect(ctx.state.mounted).toEqual([]);
    expect(existsSync(join(root, "data/rest/hello"))).toBe(false);
    const mounts = (await spawnCollect(["findmnt", "-rn", "-o", "TARGET"])).stdout;
    expect(mounts).not.toContain(root);
  }, 60_000);

  test("`umountStage.run()` releases what a failed `mountStage.run()` mounted", async () => {
    const { loop } = await blankDisk(512);
    const good = layout(loop);
    await disksStage.run(context(config(good)));
    (good.storage.filesystems[1] as { mountOptions?: string[] }).mountOptions = ["doesnotexist"];
    const cfg = config(good);
    const root = join(work, "root-fail");
    const ctx = context(cfg, root);
    await expect(mountStage.run(ctx)).rejects.toThrow();
    expect(ctx.state.mounted).toEqual([join(root, "data")]);
    await umountStage.run(ctx);
    expect(ctx.state.mounted).toEqual([]);
    expect((await spawnCollect(["findmnt", "-rn", "-o", "TARGET"])).stdout).not.toContain(root);
  }, 60_000);

  test("`mountStage.run()` refuses a mount path through a symlink", async () => {
    const { loop } = await blankDisk(512);
    const cfg = config(layout(loop));
    await disksStage.run(context(cfg));
    const root = join(work, "root-link");
    mkdirSync(join(root, "elsewhere"), { recursive: true });
    await spawnCollect(["ln", "-s", "elsewhere", join(root, "data")]);
    const ctx = context(cfg, root);
    await expect(mountStage.run(ctx)).rejects.toThrow("is not a directory");
    expect(ctx.state.mounted).toEqual([]);
  }, 60_000);
});
