// Benchmark: a 4 GiB sparse disk image on a loop device, partitioned from blank into 8
// partitions with 4 filesystems (ext4, xfs, vfat, swap), then the same config re-applied over
// the result (the reuse path). Times the disks + mount + umount stages of our engine
// (in-process), and, for comparison, the sgdisk calls Ignition makes for the same table
// (`--pretend`, then one commit, then partx per partition). Targets: ≤ 2 s from blank,
// ≤ 0.5 s re-applied. The host kernel has no vfat, so the vfat filesystem gets no mount path
// (it is created, not mounted); swap is never mounted.
// Run: bun run bench/disks.ts  (needs root and loop devices; BENCH_RUNS=N, default 5)
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../src/config/index.ts";
import type { Config } from "../src/config/types.ts";
import { inspectBlockDevice, readDiskTable } from "../src/disks/block_device.ts";
import { generateGuid } from "../src/disks/gpt.ts";
import { planPartitions } from "../src/disks/partitions.ts";
import { buildSgdiskCalls } from "../src/disks/sgdisk.ts";
import { runStages } from "../src/executor/engine.ts";
import { Logger, type OpRecord } from "../src/log/logger.ts";
import { runPathsIn } from "../src/executor/paths.ts";
import { realSystem, spawnCollect } from "../src/system/real.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SIZE = 4 * 1024 * 1024 * 1024;

async function sh(argv: string[]): Promise<string> {
  const r = await spawnCollect(argv);
  if (r.code !== 0) throw new Error(`${argv.join(" ")}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** The benchmark config for a disk device. */
function benchConfig(disk: string): Config {
  const p = (n: number) => `${disk}p${n}`;
  const text = JSON.stringify({
    ignition: { version: "3.3.0" },
    storage: {
      disks: [
        {
          device: disk,
          partitions: [
            { number: 1, label: "EFI-SYSTEM", sizeMiB: 128, typeGuid: "C12A7328-F81F-11D2-BA4B-00A0C93EC93B" },
            { number: 2, label: "boot", sizeMiB: 384 },
            { number: 3, label: "swap", sizeMiB: 512, typeGuid: "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F" },
            { number: 4, label: "var", sizeMiB: 1024 },
            { number: 5, label: "data-a", sizeMiB: 256 },
            { number: 6, label: "data-b", sizeMiB: 256 },
            { number: 7, label: "data-c", sizeMiB: 256 },
            { number: 8, label: "root", sizeMiB: 0 },
          ],
        },
      ],
      filesystems: [
        { device: p(1), format: "vfat", label: "EFI" },
        { device: p(2), format: "ext4", label: "boot", path: "/boot" },
        { device: p(3), format: "swap", label: "swap" },
        { device: p(4), format: "xfs", label: "var", path: "/var" },
      ],
    },
  });
  const parsed = parseConfig(text);
  if (!parsed.ok) throw new Error(`bench config: ${parsed.issues.map((i) => i.message).join("; ")}`);
  return parsed.config;
}

interface Attempt {
  ms: number;
  ops: OpRecord[];
}

async function runEngine(config: Config, work: string): Promise<Attempt> {
  const root = join(work, "root");
  mkdirSync(root, { recursive: true });
  const log = new Logger(() => {});
  const t0 = performance.now();
  const r = await runStages(["disks", "mount", "umount"], {
    root,
    platform: "file",
    system: realSystem(),
    log,
    paths: runPathsIn(join(work, "run")),
    config,
    configSource: "bench",
    persistState: false,
    report: false,
  });
  const ms = performance.now() - t0;
  if (!r.ok) throw new Error(`engine failed in ${r.failedStage}: ${r.error}`);
  return { ms, ops: log.ops };
}

/** Ignition's sgdisk calls for the same table, with the partx calls it makes afterwards. */
async function runSgdiskEquivalent(loop: string, config: Config): Promise<{ ms: number; commits: number }> {
  const dev = inspectBlockDevice(loop);
  const disk = config.storage!.disks![0]!;
  const r = planPartitions({ device: loop, sectorSize: dev.sectorSize, totalSectors: dev.totalSectors, table: readDiskTable(dev), activePartitions: [], diskActive: false }, disk, generateGuid);
  if (!r.ok) throw new Error(r.error);
  const calls = buildSgdiskCalls(r.plan, loop);
  const t0 = performance.now();
  let commits = 0;
  if (calls.wipe) {
    await sh(["sgdisk", ...calls.wipe]);
    commits++;
  }
  await sh(["sgdisk", ...calls.pretend]);
  if (calls.commit) {
    await sh(["sgdisk", ...calls.commit]);
    commits++;
    for (const n of r.plan.kernel.add) await spawnCollect(["partx", "--add", "--nr", String(n), loop]);
  }
  return { ms: performance.now() - t0, commits };
}

async function withBlankDisk<T>(fn: (loop: string, work: string) => Promise<T>): Promise<T> {
  const work = mkdtempSync(join(tmpdir(), "nexus-bench-disks-"));
  const image = join(work, "disk.img");
  await sh(["truncate", "--size", String(SIZE), image]);
  const loop = await sh(["losetup", "--find", "--show", "--partscan", image]);
  try {
    return await fn(loop, work);
  } finally {
    for (const m of (await sh(["findmnt", "-rn", "-o", "TARGET"])).split("\n").filter((t) => t.startsWith(work)).reverse()) await spawnCollect(["umount", m]);
    await spawnCollect(["partx", "--delete", loop]);
    await spawnCollect(["losetup", "--detach", loop]);
    rmSync(work, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => `${ms.toFixed(0).padStart(5)} ms`;

function topOps(ops: OpRecord[]): string {
  return ops
    .filter((o) => /writing the partition table|updating the kernel|creating .* filesystem|wiping filesystem|mounting|unmounting|determining/.test(o.name))
    .map((o) => `      ${o.ms.toFixed(1).padStart(7)} ms  ${o.name}`)
    .join("\n");
}

const blank: number[] = [];
const reapply: number[] = [];
const sgBlank: number[] = [];
const sgReapply: number[] = [];
let lastOps: { first: OpRecord[]; second: OpRecord[] } | undefined;
for (let i = 0; i < RUNS; i++) {
  await withBlankDisk(async (loop, work) => {
    const config = benchConfig(loop);
    const first = await runEngine(config, work);
    const second = await runEngine(config, work);
    blank.push(first.ms);
    reapply.push(second.ms);
    lastOps = { first: first.ops, second: second.ops };
  });
  await withBlankDisk(async (loop) => {
    const config = benchConfig(loop);
    sgBlank.push((await runSgdiskEquivalent(loop, config)).ms);
    sgReapply.push((await runSgdiskEquivalent(loop, config)).ms);
  });
}

console.log(`disks + mount + umount, 4 GiB loop device, 8 partitions, ext4 + xfs + vfat + swap (${RUNS} runs, median)`);
console.log(`  nexus-init from blank:     ${fmt(median(blank))}   target ≤ 2000 ms   (runs: ${blank.map((x) => x.toFixed(0)).join(", ")})`);
console.log(`  nexus-init re-applied:     ${fmt(median(reapply))}   target ≤  500 ms   (runs: ${reapply.map((x) => x.toFixed(0)).join(", ")})`);
console.log(`  Ignition's sgdisk calls, partitioning only (pretend + commit + partx):`);
console.log(`    from blank:              ${fmt(median(sgBlank))}   (runs: ${sgBlank.map((x) => x.toFixed(0)).join(", ")})`);
console.log(`    re-applied (pretend):    ${fmt(median(sgReapply))}   (runs: ${sgReapply.map((x) => x.toFixed(0)).join(", ")})`);
if (lastOps) {
  console.log(`  last run, from blank, main operations:\n${topOps(lastOps.first)}`);
  console.log(`  last run, re-applied, main operations:\n${topOps(lastOps.second)}`);
}
const ok = median(blank) <= 2000 && median(reapply) <= 500;
console.log(ok ? "  targets met" : "  TARGETS MISSED");
if (!ok) process.exitCode = 1;
