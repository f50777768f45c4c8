// `make demo [CONFIG=file.ign|file.bu] [DISK=out.img] [TPM=DIR] [TANG=1]`: provisions a fresh
// copy of the base OS disk image in QEMU exactly as a machine's first boot would (kernel +
// nexus-init initramfs, config over fw_cfg), streams the provisioning log, then shows what was
// provisioned, read back from the disk on the host. Exit 0 when provisioning succeeded.
// TPM=DIR attaches a software TPM 2.0 whose state lives in DIR (created when missing, kept), so
// the disk's clevis tpm2 bindings unlock later with the same TPM; TANG=1 starts a tang server on
// the host (keys kept in build/demo/tang) that the guest reaches at TANG_GUEST_URL.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { isProgramPath } from "../src/config/program.ts";
import { checkProvisioned, hostPathFor, mountedFilesystems, type CheckedConfig, type Finding } from "../test/qemu/expect.ts";
import { partitionForDevice, readGpt, withProvisionedImage } from "../test/qemu/host_disk.ts";
import { ARTIFACTS, REPO, requireArtifact } from "../test/qemu/paths.ts";
import { bootVm, type VmNet } from "../test/qemu/qemu.ts";
import { startSwtpmForHost, startSwtpmForQemu, type Swtpm } from "../test/qemu/swtpm.ts";
import { startTang, type TangServer } from "../test/qemu/tang.ts";
import { parseBootLog, parseTinyOsReport, TINYOS_READY } from "../test/qemu/serial.ts";

const USAGE = "Usage: bun run scripts/demo.ts [--config FILE.ign|FILE.bu|system.ts] [--disk OUT.img] [--tpm DIR] [--tang] [--timeout SECONDS]";
const WORK = join(REPO, "build/demo");
/** Where the guest finds the demo's tang server (a slirp forward to the host's tangd). */
const TANG_GUEST_IP = "10.0.2.100";
const TANG_GUEST_URL = `http://${TANG_GUEST_IP}`;

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

/**
 * Whether a LUKS volume's clevis binding decrypts here (with TPM=DIR's state and any tang server
 * up). A tang binding names the guest's address of the demo's server (TANG_GUEST_URL), which the
 * host cannot reach: clevis's curl reads a curlrc that connects to the server's host port instead.
 */
async function describeUnlock(device: string, tpmDir: string | undefined, tang: TangServer | undefined): Promise<string> {
  const run = async (argv: string[], env: Record<string, string> = {}, stdin?: string) => {
    const p = Bun.spawn(argv, { stdin: stdin === undefined ? "ignore" : Buffer.from(stdin), stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
    const [stdout, stderr] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
    return { code: await p.exited, stdout, stderr };
  };
  const list = await run(["clevis", "luks", "list", "-d", device]);
  const m = /^(\d+): (.*)$/m.exec(list.stdout);
  if (!m) return "no clevis binding (opened with its key file)";
  if (!tpmDir && m[2]!.includes("tpm2")) return `clevis slot ${m[1]}: ${m[2]} (give TPM=DIR to check it unlocks)`;
  const env: Record<string, string> = {};
  if (tang) {
    const curlHome = join(WORK, "curl");
    mkdirSync(curlHome, { recursive: true });
    writeFileSync(join(curlHome, ".curlrc"), `connect-to = "${TANG_GUEST_IP}:80:127.0.0.1:${tang.port}"\n`);
    env.CURL_HOME = curlHome;
  }
  const tpm = tpmDir ? await startSwtpmForHost(tpmDir) : undefined;
  if (tpm) env.TPM2TOOLS_TCTI = tpm.tcti!;
  try {
    const pass = await run(["clevis", "luks", "pass", "-d", device, "-s", m[1]!], env);
    const test = pass.code === 0 ? await run(["cryptsetup", "open", "--test-passphrase", "--key-file", "-", device], {}, pass.stdout) : undefined;
    const ok = test?.code === 0;
    const why = ok ? "" : `: ${(test ? test.stderr : pass.stderr).trim().split("\n").pop() || `exit code ${test?.code ?? pass.code}`}`;
    return `clevis slot ${m[1]}: ${m[2]} — ${ok ? "unlocks" : "does NOT unlock"} here${tpmDir ? ` with the TPM in ${tpmDir}` : ""}${tang ? " and the tang server up" : ""}${why}`;
  } finally {
    await tpm?.stop();
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Bun.argv.slice(2),
    options: {
      config: { type: "string" },
      disk: { type: "string" },
      tpm: { type: "string" },
      tang: { type: "boolean" },
      timeout: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
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
  const tpmDir = values.tpm ? resolve(values.tpm) : undefined;
  if (tpmDir) say(`TPM 2.0: swtpm with its state in ${tpmDir}${existsSync(tpmDir) ? "" : " (new)"}`);
  let tang: TangServer | undefined;
  let net: VmNet = { mode: "none" };
  if (values.tang) {
    tang = startTang(join(WORK, "tang"));
    writeFileSync(join(WORK, "tang-advertisement.json"), tang.advertisement);
    say(`tang: ${TANG_GUEST_URL} in the guest (host port ${tang.port}), thumbprint ${tang.thumbprint}`);
    say(`      advertisement (for an offline binding) in ${join(WORK, "tang-advertisement.json")}`);
    net = { mode: "user", forwards: [{ guestIp: TANG_GUEST_IP, guestPort: 80, hostPort: tang.port }] };
  }
  let swtpm: Swtpm | undefined;
  let started = false;
  let vm;
  try {
    swtpm = tpmDir ? await startSwtpmForQemu(tpmDir) : undefined;
    vm = await bootVm(
      {
        kernel: requireArtifact("kernel"),
        initrd: requireArtifact("initramfs"),
        cmdline: ["loglevel=4", "nexus.platform.id=qemu"],
        disks: [{ path: disk }],
        fwCfg: [{ name: "opt/com.coreos/config", file: join(WORK, "booted.ign") }],
        net,
        ...(swtpm ? { tpm: { socket: swtpm.socket! } } : {}),
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
  } finally {
    await swtpm?.stop();
  }
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
  // Filesystems inside LUKS volumes stay closed on the host (no device-mapper there); their
  // volumes are shown, and with TPM=DIR the clevis binding is decrypted with that TPM.
  const luks = (config.storage as { luks?: { name?: string; device?: string }[] } | undefined)?.luks ?? [];
  const inLuks = (device: string) => luks.some((l) => device === `/dev/mapper/${l.name}`);
  const all = mountedFilesystems(config);
  const hostMounted = all.filter((f) => !inLuks(f.device));
  const findings = await withProvisionedImage(disk, hostMounted, async (mounts, img, gpt) => {
    say("Disk (read back on the host):");
    for (const p of gpt) {
      const fs = img.probe(p.number);
      const volume = luks.find((l) => partitionForDevice(l.device ?? "", gpt, img.probe) === p.number);
      const at = volume ? all.find((f) => f.device === `/dev/mapper/${volume.name}`)?.path : all.find((f) => partitionForDevice(f.device, gpt, img.probe) === p.number)?.path;
      const isNew = !before.has(`${p.number}:${p.guid}`);
      say(`  ${isNew ? "+" : " "} partition ${p.number} "${p.label}" ${p.sizeMiB.toFixed(0)} MiB at ${p.startMiB} MiB` +
        (fs.TYPE ? `, ${fs.TYPE}${fs.LABEL ? ` "${fs.LABEL}"` : ""}` : "") + (volume ? `, LUKS volume "${volume.name}"` : "") +
        (at ? `, mounted at ${at}` : "") + (isNew ? " (new)" : ""));
      if (volume) say(`      ${await describeUnlock(img.partition(p.number), tpmDir, tang)}`);
    }
    const { "/": root, ...rest } = mounts;
    return checkProvisioned(config, hostPathFor(root!, rest));
  });
  tang?.stop();
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
