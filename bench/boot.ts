// Boot benchmark (issue 16; not a test; `make bench-boot`): first boot of the base OS image
// under TCG with the same kernel, the same config over fw_cfg and the same tiny OS, side by
// side: nexus-init's LiveCD initramfs (one process runs every stage) and Debian's Ignition
// 2.14 in a dracut initramfs (scripts/build-ignition-initramfs.sh). Each with the demo config
// (dist/demo.ign, from examples/demo/system.ts, at spec 3.3.0, the newest Ignition 2.14 reads) and an empty one; the
// boots alternate, one machine at a time. Prints the medians of QEMU start → the provisioned
// OS's marker line, kernel → the initramfs's PID 1, kernel → provisioning done, the
// provisioning overhead (demo minus empty), the per-stage times, both initramfs sizes and the
// ratios nexus/Ignition. Writes build/bench/boot.json.
// Usage: bun run bench/boot.ts [--runs N] (default 3)
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { REPO, requireArtifact } from "../test/qemu/paths.ts";
import { bootVm } from "../test/qemu/qemu.ts";
import { parseTinyOsReport, splitList, TINYOS_READY } from "../test/qemu/serial.ts";

const WORK = join(REPO, "build/bench");
const IGNITION_INITRAMFS = join(REPO, "dist/initramfs-ignition.img");
const CONFIG_VERSION = "3.3.0";

type FlowName = "nexus" | "ignition";
type ConfigName = "demo" | "empty";

/** How each initramfs is booted and how its console says where it is. */
const FLOWS: Record<FlowName, { initrd: () => string; cmdline: string[]; init: RegExp; provisioned: RegExp; stage: RegExp; provisionedIsMs: boolean }> = {
  nexus: {
    initrd: () => requireArtifact("initramfs"),
    cmdline: ["loglevel=4", "nexus.platform.id=qemu"],
    init: /^nexus-boot: \[.*\] kernel → \/init: ([\d.]+) s/,
    provisioned: /^nexus-boot: \[.*\] provisioning complete after (\d+) ms of boot/,
    provisionedIsMs: true,
    stage: /^nexus-boot: \[.*\] stage (\S+): finished in (\d+) ms$/,
  },
  ignition: {
    initrd: () => IGNITION_INITRAMFS,
    cmdline: ["loglevel=4", "ignition.firstboot", "ignition.platform.id=qemu", "root=LABEL=root", "rw", "rd.shell=0", "rd.emergency=poweroff"],
    init: /^bench-boot: init ([\d.]+) s$/,
    provisioned: /^bench-boot: provisioned ([\d.]+) s$/,
    provisionedIsMs: false,
    stage: /^bench-boot: stage (\S+) (\d+) ms$/,
  },
};

interface Run {
  /** QEMU start → the provisioned OS's "nexus-tinyos: ready" line. */
  readyMs: number;
  /** Kernel start → the initramfs's PID 1 (its own clock). */
  initMs: number;
  /** Kernel start → the last stage finished (its own clock). */
  provisionedMs: number;
  /** Each stage's run time as the flow reports it. */
  stages: Record<string, number>;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** The first capture of re in the console, or throws naming the log. */
function capture(serial: string, re: RegExp, log: string): string {
  for (const line of serial.split("\n")) {
    const m = re.exec(line);
    if (m) return m[1]!;
  }
  throw new Error(`Cannot find ${re} on the console (see ${log})`);
}

async function bootOnce(flow: FlowName, config: ConfigName, configPath: string, i: number): Promise<Run> {
  const f = FLOWS[flow];
  const id = `${flow}-${config}-${i}`;
  const disk = join(WORK, `${flow}.img`);
  const log = join(WORK, `${id}.log`);
  rmSync(disk, { force: true });
  Bun.spawnSync(["cp", "--sparse=always", requireArtifact("baseImage"), disk]);
  const vm = await bootVm(
    { kernel: requireArtifact("kernel"), initrd: f.initrd(), cmdline: f.cmdline, disks: [{ path: disk }], fwCfg: [{ name: "opt/com.coreos/config", file: configPath }], net: { mode: "none" } },
    { timeoutMs: 600_000, serialLog: log, marks: { ready: TINYOS_READY } },
  );
  rmSync(disk, { force: true });
  const report = parseTinyOsReport(vm.serial);
  if (vm.exitCode !== 0 || vm.marks.ready === undefined) throw new Error(`Cannot benchmark ${id}: the boot failed (exit ${vm.exitCode}, see ${log})`);
  // The demo config really was applied (both flows write the same accounts).
  if (config === "demo" && !splitList(report.fields.users).some((u) => u.startsWith("core("))) throw new Error(`Cannot benchmark ${id}: the provisioned OS has no user "core" (see ${log})`);
  const stages: Record<string, number> = {};
  for (const line of vm.serial.split("\n")) {
    const m = f.stage.exec(line);
    if (m) stages[m[1]!] = Number(m[2]);
  }
  const provisioned = Number(capture(vm.serial, f.provisioned, log));
  return {
    readyMs: vm.marks.ready,
    initMs: Number(capture(vm.serial, f.init, log)) * 1000,
    provisionedMs: f.provisionedIsMs ? provisioned : provisioned * 1000,
    stages,
  };
}

function summarize(runs: Run[]) {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.stages)))];
  return {
    runs: runs.length,
    readyMs: median(runs.map((r) => r.readyMs)),
    initMs: median(runs.map((r) => r.initMs)),
    provisionedMs: median(runs.map((r) => r.provisionedMs)),
    stages: Object.fromEntries(names.map((s) => [s, median(runs.map((r) => r.stages[s] ?? 0))])),
  };
}

/** Compressed and uncompressed size of an initramfs image, whatever the kernel-supported format. */
function imageSizes(path: string): { compressedBytes: number; uncompressedBytes: number } {
  const magic = readFileSync(path).subarray(0, 6);
  const tool = magic[0] === 0x28 && magic[1] === 0xb5 ? "zstd -dc" : magic[0] === 0xfd && magic[1] === 0x37 ? "xz -dc"
    : magic[0] === 0x1f && magic[1] === 0x8b ? "gzip -dc" : magic[0] === 0x02 && magic[1] === 0x21 ? "lz4 -dc" : "cat";
  const out = Bun.spawnSync(["sh", "-c", `${tool} <"$1" | wc -c`, "sh", path], { stdout: "pipe" });
  return { compressedBytes: statSync(path).size, uncompressedBytes: Number(out.stdout.toString().trim()) };
}

/** The demo config at the spec version Ignition 2.14 reads, checked by both validators. */
function demoConfig(): string {
  const config = JSON.parse(readFileSync(requireArtifact("demoConfig"), "utf8")) as { ignition: { version: string } };
  config.ignition.version = CONFIG_VERSION;
  const path = join(WORK, `demo-${CONFIG_VERSION}.ign`);
  writeFileSync(path, JSON.stringify(config, null, 2) + "\n");
  for (const argv of [[requireArtifact("binary"), "validate", path], ["ignition-validate", path]]) {
    const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`Cannot use the demo config at ${CONFIG_VERSION}: ${argv[0]} says\n${r.stderr.toString()}${r.stdout.toString()}`);
  }
  return path;
}

async function main() {
  const { values } = parseArgs({ args: Bun.argv.slice(2), options: { runs: { type: "string" } } });
  const n = Number(values.runs ?? 3);
  mkdirSync(WORK, { recursive: true });
  // `make bench` only builds the binary: build (or refresh) what the boots need.
  const made = Bun.spawnSync(["make", "--no-print-directory", "initramfs", "initramfs-ignition", "base-image"], { cwd: REPO, stdout: "inherit", stderr: "inherit" });
  if (made.exitCode !== 0) throw new Error("Cannot build the boot artifacts: make initramfs initramfs-ignition base-image failed");
  const empty = join(WORK, `empty-${CONFIG_VERSION}.ign`);
  writeFileSync(empty, JSON.stringify({ ignition: { version: CONFIG_VERSION } }) + "\n");
  const configs: Record<ConfigName, string> = { demo: demoConfig(), empty };
  const results: Record<string, Run[]> = {};
  // One machine at a time, alternating flows and configs, so a busy host slows all alike.
  for (let i = 0; i < n; i++) {
    for (const config of ["demo", "empty"] as const) {
      for (const flow of ["nexus", "ignition"] as const) {
        const r = await bootOnce(flow, config, configs[config], i);
        (results[`${flow}/${config}`] ??= []).push(r);
        process.stderr.write(`${flow} ${config} #${i + 1}: ready ${(r.readyMs / 1000).toFixed(2)} s (kernel → init ${(r.initMs / 1000).toFixed(2)} s, provisioned ${(r.provisionedMs / 1000).toFixed(2)} s)\n`);
      }
    }
  }
  const s = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, summarize(v)]));
  const overhead = (flow: FlowName) => s[`${flow}/demo`]!.readyMs - s[`${flow}/empty`]!.readyMs;
  const sizes = { nexus: imageSizes(requireArtifact("initramfs")), ignition: imageSizes(IGNITION_INITRAMFS) };
  const ratios = {
    boot: s["nexus/demo"]!.readyMs / s["ignition/demo"]!.readyMs,
    overhead: overhead("nexus") / overhead("ignition"),
  };
  const report = {
    kernel: readFileSync(requireArtifact("kernelRelease"), "utf8").trim(),
    accel: "tcg",
    configVersion: CONFIG_VERSION,
    runs: n,
    results: s,
    overheadMs: { nexus: overhead("nexus"), ignition: overhead("ignition") },
    ratios,
    initramfs: sizes,
  };
  writeFileSync(join(WORK, "boot.json"), JSON.stringify(report, null, 2) + "\n");
  const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
  const row = (flow: FlowName, config: ConfigName) => {
    const r = s[`${flow}/${config}`]!;
    return `| ${flow} | ${config} | ${sec(r.readyMs)} | ${sec(r.initMs)} | ${sec(r.provisionedMs)} |`;
  };
  const stages = (flow: FlowName, config: ConfigName) =>
    Object.entries(s[`${flow}/${config}`]!.stages).map(([k, v]) => `${k} ${v}`).join(", ");
  const lines = [
    `Boot benchmark (QEMU TCG, kernel ${report.kernel}, config spec ${CONFIG_VERSION} over fw_cfg, median of ${n} boots each, alternating)`,
    "",
    "| initramfs | config | QEMU start → provisioned OS ready | kernel → initramfs PID 1 | kernel → provisioning done |",
    "|---|---|---|---|---|",
    row("nexus", "demo"), row("ignition", "demo"), row("nexus", "empty"), row("ignition", "empty"),
    "",
    `Provisioning overhead (demo − empty, QEMU start → ready): nexus ${sec(overhead("nexus"))}, Ignition ${sec(overhead("ignition"))}`,
    `Ratios nexus/Ignition: whole boot ${ratios.boot.toFixed(2)} (goal ≤ 0.50), overhead ${ratios.overhead.toFixed(2)} (goal ≤ 0.50)`,
    "",
    "Stage times, ms (nexus: each stage in the one process; Ignition: each unit's process as systemd timed it):",
    `  nexus demo:     ${stages("nexus", "demo")}`,
    `  Ignition demo:  ${stages("ignition", "demo")}`,
    `  nexus empty:    ${stages("nexus", "empty")}`,
    `  Ignition empty: ${stages("ignition", "empty")}`,
    `initramfs: nexus ${mb(sizes.nexus.compressedBytes)} compressed (${mb(sizes.nexus.uncompressedBytes)} unpacked), ` +
      `Ignition ${mb(sizes.ignition.compressedBytes)} compressed (${mb(sizes.ignition.uncompressedBytes)} unpacked)`,
  ];
  process.stdout.write(lines.join("\n") + "\n");
}

await main();
