import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger } from "../log/logger.ts";
import { createFetcher } from "../resource/index.ts";
import { realSystem } from "../system/real.ts";
import { parseKernelArgs } from "./kernel_args.ts";
import { cmdlineProvider } from "./cmdline_config.ts";
import type { ProviderContext } from "./types.ts";

// A real labelled ext4 filesystem on a loop device, read by the device provider with the real
// blkid, mount and umount.
const label = `NXCFG${process.pid % 100000}`;
let dir: string;
let loop = "";
const system = realSystem();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "nexus-cfgdev-"));
  const content = join(dir, "content");
  mkdirSync(join(content, "sub"), { recursive: true });
  writeFileSync(join(content, "sub/config.ign"), '{"ignition":{"version":"3.4.0"}}');
  const img = join(dir, "disk.img");
  writeFileSync(img, new Uint8Array(0));
  await Bun.$`truncate -s 8M ${img}`.quiet();
  await Bun.$`mkfs.ext4 -q -F -L ${label} -d ${content} ${img}`.quiet();
  loop = (await Bun.$`losetup --find --show ${img}`.text()).trim();
});

afterAll(async () => {
  if (loop) await Bun.$`losetup -d ${loop}`.quiet().nothrow();
  rmSync(dir, { recursive: true, force: true });
});

function context(cmdline: string): ProviderContext {
  return {
    fetcher: createFetcher({ offline: true }),
    system,
    log: new Logger(() => {}),
    cmdline: parseKernelArgs(cmdline),
    platform: "metal",
    deviceWaitMs: 2000,
  };
}

describe("config on a labelled device", () => {
  test("`cmdlineProvider.fetch()` mounts the labelled filesystem read-only and reads the config, offline", async () => {
    const r = await cmdlineProvider.fetch(context(`ignition.config.device=${label} ignition.config.path=/sub/config.ign`));
    expect(r.kind === "config" && new TextDecoder().decode(r.raw)).toContain("3.4.0");
    const mounts = await Bun.file("/proc/self/mounts").text();
    expect(mounts).not.toContain("nexus-config-drive-");
  });

  test("`cmdlineProvider.fetch()` accepts a device path and fails clearly when the file is missing", async () => {
    await expect(cmdlineProvider.fetch(context(`nexus.config.device=${loop} nexus.config.path=/nope.ign`))).rejects.toThrow(/no such file/);
    await Bun.sleep(200);
    const mounts = await Bun.file("/proc/self/mounts").text();
    expect(mounts).not.toContain("nexus-config-drive-");
  });
});
