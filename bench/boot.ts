// Boot benchmark (issue 6; not a test): the same kernel and LiveCD initramfs booting the
// base OS image with the demo config (dist/demo.ign) and with an empty config, under TCG. Reports, per
// config, the median over --runs boots of QEMU start → /init, → provisioning finished, →
// the provisioned OS's marker line; the overhead of provisioning the demo config (the
// difference); the stage timings; and the initramfs size compressed and uncompressed.
// Writes build/bench/boot.json. Usage: bun run bench/boot.ts [--runs N]
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { withImage } from "../test/qemu/host_disk.ts";
import { REPO, requireArtifact } from "../test/qemu/paths.ts";
import { bootVm } from "../test/qemu/qemu.ts";
import { parseBootLog, TINYOS_READY } from "../test/qemu/serial.ts";

const WORK = join(REPO, "build/bench");
const MARKS = {
  init: /^nexus-boot: \[.*\] nexus-init LiveCD initramfs/,
  provisioned: /^nexus-boot: \[.*\] provisioning complete/,
  ready: TINYOS_READY,
};

interface Run {
  initMs: number;
  provisionedMs: number;
  readyMs: number;
  totalMs: number;
  /** Per `run --stage` call, timed by /init (process start included). */
  stages: Record<string, number>;
  /** Per stage, as nexus-init's result report (/etc/.nexus-result.json) has it. */
  reported: Record<string, number>;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function bootOnce(name: string, config: string, i: number): Promise<Run> {
  const disk = join(WORK, `${name}.img`);
  rmSync(disk, { force: true });
  Bun.spawnSync(["cp", "--sparse=always", requireArtifact("baseImage"), disk]);
  const vm = await bootVm(
    {
      kernel: requireArtifact("kernel"),
      initrd: requireArtifact("initramfs"),
      cmdline: ["loglevel=4", "nexus.platform.id=qemu"],
      disks: [{ path: disk }],
      fwCfg: [{ name: "opt/com.coreos/config", file: config }],
      net: { mode: "none" },
    },
    { timeoutMs: 300_000, serialLog: join(WORK, `${name}-${i}.log`), marks: MARKS },
  );
  if (vm.exitCode !== 0 || vm.marks.ready === undefined) {
    throw new Error(`Cannot benchmark "${name}": boot ${i} failed (exit ${vm.exitCode}, see ${join(WORK, `${name}-${i}.log`)})`);
  }
  const report = await withImage(disk, (img) =>
    img.withMount(1, (dir) => JSON.parse(readFileSync(join(dir, "etc/.nexus-result.json"), "utf8")) as { stages: { name: string; ms: number }[] }),
  );
  rmSync(disk, { force: true });
  return {
    initMs: vm.marks.init!,
    provisionedMs: vm.marks.provisioned!,
    readyMs: vm.marks.ready,
    totalMs: vm.durationMs,
    stages: Object.fromEntries(parseBootLog(vm.serial).stages.map((s) => [s.stage, s.ms])),
    reported: Object.fromEntries(report.stages.map((s) => [s.name, s.ms])),
  };
}

function summarize(runs: Run[]) {
  const stageNames = Object.keys(runs[0]!.stages);
  const reportedNames = Object.keys(runs[0]!.reported);
  return {
    runs: runs.length,
    initMs: median(runs.map((r) => r.initMs)),
    provisionedMs: median(runs.map((r) => r.provisionedMs)),
    readyMs: median(runs.map((r) => r.readyMs)),
    totalMs: median(runs.map((r) => r.totalMs)),
    stages: Object.fromEntries(stageNames.map((s) => [s, median(runs.map((r) => r.stages[s] ?? 0))])),
    reported: Object.fromEntries(reportedNames.map((s) => [s, median(runs.map((r) => r.reported[s] ?? 0))])),
  };
}

function initramfsSizes(): { compressedBytes: number; uncompressedBytes: number } {
  const img = requireArtifact("initramfs");
  // The image is a zstd frame (plus zero padding); count the bytes it decompresses to.
  const out = Bun.spawnSync(["sh", "-c", 'zstd -dc "$1" | wc -c', "sh", img], { stdout: "pipe" });
  return { compressedBytes: statSync(img).size, uncompressedBytes: Number(out.stdout.toString().trim()) };
}

async function main() {
  const { values } = parseArgs({ args: Bun.argv.slice(2), options: { runs: { type: "string" } } });
  const n = Number(values.runs ?? 3);
  mkdirSync(WORK, { recursive: true });
  // `make bench` only builds the binary: build (or refresh) what the boots need.
  const made = Bun.spawnSync(["make", "--no-print-directory", "initramfs", "base-image"], { cwd: REPO, stdout: "inherit", stderr: "inherit" });
  if (made.exitCode !== 0) throw new Error("Cannot build the boot artifacts: make initramfs base-image failed");
  const empty = join(WORK, "empty.ign");
  writeFileSync(empty, JSON.stringify({ ignition: { version: "3.4.0" } }));
  const demo = requireArtifact("demoConfig");
  const results: Record<string, Run[]> = { empty: [], demo: [] };
  // One machine at a time: two concurrent TCG guests would slow each other down.
  for (let i = 0; i < n; i++) {
    for (const [name, config] of [["empty", empty], ["demo", demo]] as const) {
      const r = await bootOnce(name, config, i);
      results[name]!.push(r);
      process.stderr.write(`${name} #${i + 1}: provisioned ${(r.provisionedMs / 1000).toFixed(2)} s, ready ${(r.readyMs / 1000).toFixed(2)} s\n`);
    }
  }
  const e = summarize(results.empty!);
  const d = summarize(results.demo!);
  const sizes = initramfsSizes();
  const report = {
    kernel: readFileSync(requireArtifact("kernelRelease"), "utf8").trim(),
    accel: "tcg",
    empty: e,
    demo: d,
    overheadMs: { provisioned: d.provisionedMs - e.provisionedMs, ready: d.readyMs - e.readyMs },
    initramfs: sizes,
  };
  writeFileSync(join(WORK, "boot.json"), JSON.stringify(report, null, 2) + "\n");
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const lines = [
    `Boot benchmark (QEMU TCG, kernel ${report.kernel}, median of ${n})`,
    "",
    "| config | QEMU → /init | QEMU → provisioned | QEMU → OS ready | QEMU exit |",
    "|---|---|---|---|---|",
    `| empty | ${s(e.initMs)} | ${s(e.provisionedMs)} | ${s(e.readyMs)} | ${s(e.totalMs)} |`,
    `| demo.ign | ${s(d.initMs)} | ${s(d.provisionedMs)} | ${s(d.readyMs)} | ${s(d.totalMs)} |`,
    `| overhead | | ${s(report.overheadMs.provisioned)} | ${s(report.overheadMs.ready)} | |`,
    "",
    "Stage timings, ms: each `run --stage` call as /init timed it (process start included) / the stage itself per /etc/.nexus-result.json",
    `  demo.ign: ${Object.entries(d.stages).map(([k, v]) => `${k} ${v}/${d.reported[k] ?? "-"}`).join(", ")}`,
    `  empty:    ${Object.entries(e.stages).map(([k, v]) => `${k} ${v}/${e.reported[k] ?? "-"}`).join(", ")}`,
    `initramfs: ${(sizes.compressedBytes / 2 ** 20).toFixed(1)} MiB compressed (zstd), ${(sizes.uncompressedBytes / 2 ** 20).toFixed(1)} MiB uncompressed`,
  ];
  process.stdout.write(lines.join("\n") + "\n");
}

await main();
