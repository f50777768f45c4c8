// `make demo [CONFIG=file.ign|file.bu] [DISK=out.img]`: provisions a fresh copy of the base
// OS disk image in QEMU exactly as a machine's first boot would (kernel + nexus-init
// initramfs, config over fw_cfg), streams the provisioning log, then shows what was
// provisioned, read back from the disk on the host. Exit 0 when provisioning succeeded.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { isProgramPath } from "../src/config/program.ts";
import { checkProvisioned, hostPathFor, mountedFilesystems, type CheckedConfig, type Finding } from "../test/qemu/expect.ts";
import { partitionForDevice, readGpt, withProvisionedImage } from "../test/qemu/host_disk.ts";
import { ARTIFACTS, REPO, requireArtifact } from "../test/qemu/paths.ts";
import { bootVm } from "../test/qemu/qemu.ts";
import { parseBootLog, parseTinyOsReport, TINYOS_READY } from "../test/qemu/serial.ts";

const USAGE = "Usage: bun run scripts/demo.ts [--config FILE.ign|FILE.bu|system.ts] [--disk OUT.img] [--timeout SECONDS]";
const WORK = join(REPO, "build/demo");

const say = (s = "") => process.stdout.write(s + "\n");
const fail = (msg: string): never => {
  process.stderr.write(`demo: ${msg}\n`);
  process.exit(1);
};

function nexusInit(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = Bun.spawnSync([requireArtifact("binary"), ...args], { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** The Ignition config to boot with: a program is compiled, a .bu file translated; all are validated. */
function prepareConfig(file: string): string {
  if (!existsSync(file)) fail(`Cannot read config "${file}": no such file`);
  let ign = file;
  if (isProgramPath(file)) {
    ign = join(WORK, "config.ign");
    const r = Bun.spawnSync([requireArtifact("nexus"), "provision", file, "-o", ign], { stdout: "inherit", stderr: "inherit" });
    if (r.exitCode !== 0) fail(`Cannot compile "${file}" (nexus provision exit code ${r.exitCode})`);
    say(`Compiled ${file} → ${ign}`);
  }
  if (/\.(bu|ya?ml)$/.test(file)) {
    const t = nexusInit(["translate", "--from-butane", "--files-dir", dirname(file), file]);
    if (t.code !== 0) fail(`Cannot translate "${file}":\n${t.stderr.trim()}`);
    ign = join(WORK, "config.ign");
    writeFileSync(ign, t.stdout);
    say(`Translated ${file} → ${ign}`);
  }
  const v = nexusInit(["validate", ign]);
  if (v.stderr.trim()) process.stderr.write(v.stderr);
  if (v.code !== 0) fail(`Cannot use config "${file}": it is invalid (nexus-init validate exit code ${v.code})`);
  return ign;
}

/** Console lines worth showing: the initramfs's and nexus-init's, not the kernel's printk or the BIOS. */
function isProvisioningLine(line: string, started: boolean): boolean {
  if (!started || line.trim() === "") return false;
  return !/^\[\s*\d+\.\d+\]/.test(line);
}

/** One line per kind of thing provisioned; a failed check gets a line of its own. */
function summarize(findings: Finding[]): string[] {
  const order: Finding["kind"][] = ["file", "directory", "link", "group", "user", "ssh-key", "unit", "dropin", "mask", "preset"];
  const titles: Record<Finding["kind"], string> = {
    file: "Files", directory: "Directories", link: "Links", group: "Groups", user: "Users", "ssh-key": "SSH keys",
    unit: "Units", dropin: "Dropins", mask: "Masked", preset: "Presets",
  };
  const brief = (f: Finding) =>
    f.kind === "user" || f.kind === "group" || f.kind === "ssh-key" || f.kind === "preset" ? `${f.target} (${f.detail})` : f.target;
  const lines: string[] = [];
  for (const kind of order) {
    const items = findings.filter((f) => f.kind === kind);
    const ok = items.filter((f) => f.ok);
    if (ok.length) lines.push(`  ✓ ${`${titles[kind]}:`.padEnd(13)} ${ok.map(brief).join(", ")}`);
    for (const f of items.filter((f) => !f.ok)) lines.push(`  ✗ ${`${titles[kind]}:`.padEnd(13)} ${f.target}: ${f.detail}`);
  }
  return lines;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Bun.argv.slice(2),
    options: { config: { type: "string" }, disk: { type: "string" }, timeout: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    say(USAGE);
    return 0;
  }
  mkdirSync(WORK, { recursive: true });
  const configFile = resolve(values.config ?? ARTIFACTS.demoConfig);
  const ign = prepareConfig(configFile);
  const config = JSON.parse(readFileSync(ign, "utf8")) as CheckedConfig;
  const disk = resolve(values.disk ?? join(WORK, "disk.img"));
  rmSync(disk, { force: true });
  const cp = Bun.spawnSync(["cp", "--sparse=always", requireArtifact("baseImage"), disk]);
  if (cp.exitCode !== 0) fail(`Cannot copy the base image to "${disk}": ${cp.stderr.toString().trim()}`);
  copyFileSync(ign, join(WORK, "booted.ign"));

  say(`== nexus-init demo: first boot of ${disk} with ${configFile} (QEMU, TCG) ==`);
  let started = false;
  const vm = await bootVm(
    {
      kernel: requireArtifact("kernel"),
      initrd: requireArtifact("initramfs"),
      cmdline: ["loglevel=4", "nexus.platform.id=qemu"],
      disks: [{ path: disk }],
      fwCfg: [{ name: "opt/com.coreos/config", file: join(WORK, "booted.ign") }],
      net: { mode: "none" },
    },
    {
      timeoutMs: Number(values.timeout ?? 300) * 1000,
      serialLog: join(WORK, "serial.log"),
      marks: { ready: TINYOS_READY },
      onLine: (line) => {
        if (line.startsWith("nexus-boot:")) started = true;
        if (isProvisioningLine(line, started)) say(`  | ${line}`);
      },
    },
  );
  say();
  const report = parseTinyOsReport(vm.serial);
  const log = parseBootLog(vm.serial);
  const provisioned = vm.exitCode === 0 && report.ready;
  if (!provisioned) {
    say(`Provisioning FAILED: ${vm.timedOut ? "timed out" : `QEMU exit code ${vm.exitCode}`}${log.errors.length ? `: ${log.errors.join("; ")}` : ""}`);
    say(`Full console: ${join(WORK, "serial.log")}`);
    if (!values.disk) rmSync(disk, { force: true });
    return 1;
  }

  say(`Provisioned in ${(vm.marks.ready! / 1000).toFixed(1)} s from QEMU start to the provisioned OS's report` +
    (log.provisionedAtMs ? ` (stages done ${(log.provisionedAtMs / 1000).toFixed(1)} s after kernel start)` : ""));
  if (log.kernelToInitMs !== null) {
    say(`Kernel → /init: ${(log.kernelToInitMs / 1000).toFixed(2)} s` +
      (log.unpackMs !== null ? ` (of which unpacking the initramfs: ${(log.unpackMs / 1000).toFixed(2)} s)` : ""));
  }
  if (log.stages.length) say(`Stages: ${log.stages.map((s) => `${s.stage} ${s.ms} ms`).join(", ")}`);
  const before = new Set(readGpt(requireArtifact("baseImage")).map((p) => `${p.number}:${p.guid}`));
  const findings = await withProvisionedImage(disk, mountedFilesystems(config), (mounts, img, gpt) => {
    say("Disk (read back on the host):");
    for (const p of gpt) {
      const fs = img.probe(p.number);
      const at = mountedFilesystems(config).find((f) => partitionForDevice(f.device, gpt, img.probe) === p.number)?.path;
      const isNew = !before.has(`${p.number}:${p.guid}`);
      say(`  ${isNew ? "+" : " "} partition ${p.number} "${p.label}" ${p.sizeMiB.toFixed(0)} MiB at ${p.startMiB} MiB` +
        (fs.TYPE ? `, ${fs.TYPE}${fs.LABEL ? ` "${fs.LABEL}"` : ""}` : "") + (at ? `, mounted at ${at}` : "") + (isNew ? " (new)" : ""));
    }
    const { "/": root, ...rest } = mounts;
    return checkProvisioned(config, hostPathFor(root!, rest));
  });
  say("Provisioned (checked against the config):");
  for (const line of summarize(findings)) say(line);
  const bad = findings.filter((f) => !f.ok);
  say();
  if (values.disk) say(`Disk image kept: ${disk}`);
  else rmSync(disk, { force: true });
  if (bad.length) {
    say(`Result: FAILED — ${bad.length} of ${findings.length} checks do not match the config`);
    return 1;
  }
  say(`Result: OK — ${findings.length} checks match the config`);
  return 0;
}

process.exitCode = await main();
