import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../config/index.ts";
import type { Config } from "../config/types.ts";
import { createFetcher } from "../resource/index.ts";
import { realSystem, spawnCollect } from "../system/real.ts";
import { verifyRoot } from "./verify.ts";

let dir: string;
let root: string;
let image: string;
let loop = "";

function config(obj: object): Config {
  const r = parseConfig(JSON.stringify({ ignition: { version: "3.4.0" }, ...obj }));
  if (!r.ok) throw new Error(r.issues.map((i) => i.message).join("; "));
  return r.config;
}

async function run(argv: string[]): Promise<string> {
  const r = await spawnCollect(argv);
  if (r.code !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "nexus-verify-disks-"));
  root = join(dir, "root");
  mkdirSync(join(root, "etc"), { recursive: true });
  writeFileSync(join(root, "etc/passwd"), "root:x:0:0::/root:/bin/sh\n");
  image = join(dir, "disk.img");
  writeFileSync(image, "");
  await run(["truncate", "--size", "64M", image]);
  await run(["sgdisk", "--new=1:0:+16M", "--change-name=1:boot", "--new=2:0:0", "--change-name=2:data", "--typecode=2:8300", image]);
  loop = (await run(["losetup", "--find", "--show", image])).trim();
  await run(["partx", "--add", loop]);
  await run(["mkfs.ext4", "-q", "-L", "data", "-U", "3b7b5a1c-5d1e-4e8f-9a3e-1c2d3e4f5a6b", `${loop}p2`]);
}, 60_000);

afterAll(async () => {
  if (loop) {
    await spawnCollect(["partx", "--delete", loop]);
    await spawnCollect(["losetup", "--detach", loop]);
  }
  rmSync(dir, { recursive: true, force: true });
});

const disks = (device: string) =>
  config({
    storage: {
      disks: [{ device, partitions: [{ number: 1, label: "boot", sizeMiB: 16, startMiB: 1 }, { number: 2, label: "data", typeGuid: "0FC63DAF-8483-4772-8E79-3D69D8477DE4" }, { number: 3, shouldExist: false }] }],
      filesystems: [{ device: `${device}p2`, format: "ext4", label: "data", uuid: "3b7b5a1c-5d1e-4e8f-9a3e-1c2d3e4f5a6b" }],
    },
  });

const options = (devices: boolean, deviceMap?: Map<string, string>) => ({ fetcher: createFetcher({ offline: true }), system: realSystem(), devices, deviceMap });

describe("verifyRoot() with devices", () => {
  test("verifyRoot() finds partitions and filesystems as the config declares them", async () => {
    const r = await verifyRoot(disks(loop), root, options(true));
    expect(r).toEqual({ checked: 4, differences: [], unchecked: [] });
  });

  test("verifyRoot() leaves the disks alone without `devices`", async () => {
    expect(await verifyRoot(disks(loop), root, options(false))).toEqual({ checked: 0, differences: [], unchecked: [] });
  });

  test("verifyRoot() reads the config's devices where `deviceMap` says (an image attached elsewhere)", async () => {
    const r = await verifyRoot(disks("/dev/vdz"), root, options(true, new Map([["/dev/vdz", loop], ["/dev/vdzp2", `${loop}p2`]])));
    expect(r.differences).toEqual([]);
  });

  test("verifyRoot() reports a partition and a filesystem that differ", async () => {
    const c = config({
      storage: {
        disks: [{ device: loop, partitions: [{ number: 1, label: "esp", sizeMiB: 32 }, { number: 2, shouldExist: false }] }],
        filesystems: [{ device: `${loop}p2`, format: "xfs", label: "data" }, { device: `${loop}p1`, format: "ext4" }],
      },
    });
    const r = await verifyRoot(c, root, options(true));
    expect(r.differences).toEqual([
      { kind: "partition", target: `${loop} partition 1`, problem: 'label is "boot", the config wants "esp"; its size is 16 MiB, the config wants 32' },
      { kind: "partition", target: `${loop} partition 2`, problem: "it exists, the config wants it removed" },
      { kind: "filesystem", target: `${loop}p2`, problem: "it holds ext4, the config wants xfs" },
      { kind: "filesystem", target: `${loop}p1`, problem: "it holds no filesystem, the config wants ext4" },
    ]);
  });
});
