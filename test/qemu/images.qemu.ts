// Images built by `nexus image`, booted by the firmware (no -kernel): the raw disk provisions
// itself from its embedded config; the gce tarball's disk.raw, built without one, takes its
// config from the (fake) GCE metadata server's user-data. Run by `make test-qemu`. Serial logs:
// build/test-qemu/<id>.log.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkProvisioned, hostPathFor, mountedFilesystems, type CheckedConfig } from "./expect.ts";
import { withProvisionedImage } from "./host_disk.ts";
import { REPO, requireArtifact } from "./paths.ts";
import { bootVm, type VmNet, type VmResult } from "./qemu.ts";
import { parseBootLog, parseTinyOsReport, splitList } from "./serial.ts";
import { startGcpMetadata, type MockServer } from "./servers.ts";

const WORK = join(REPO, "build/test-qemu");
const BOOT_TIMEOUT_MS = Number(process.env.NEXUS_QEMU_BOOT_TIMEOUT_MS ?? 180_000);
const TEST_TIMEOUT_MS = 5 * BOOT_TIMEOUT_MS;
// Under TCG on a loaded host the kernel's IO-APIC timer check can time out (see qemu.ts).
const OVMF = "/usr/share/ovmf/OVMF.fd";
const TEST_KARGS = ["--karg", "no_timer_check", "--karg", "loglevel=4"];

mkdirSync(WORK, { recursive: true });
const servers: MockServer[] = [];
afterAll(() => servers.forEach((s) => s.stop()));

function machineConfig(id: string): { config: CheckedConfig & { ignition: { version: string } }; token: string } {
  const token = `image-${id}-${crypto.randomUUID().slice(0, 8)}`;
  return {
    token,
    config: {
      ignition: { version: "3.4.0" },
      storage: { files: [{ path: "/etc/motd", mode: 0o644, contents: { source: `data:,${encodeURIComponent(token)}%0A` } }] },
      passwd: { users: [{ name: "imaged", sshAuthorizedKeys: [`ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${id}key imaged@${id}`] }] },
    },
  };
}

function nexusImage(...args: string[]): string {
  const r = Bun.spawnSync([requireArtifact("nexus"), "image", ...args], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`nexus image ${args.join(" ")} failed: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

/** Checks a boot ended in the provisioned tiny OS and the disk matches the config. */
async function expectProvisioned(id: string, vm: VmResult, disk: string, config: CheckedConfig, token: string): Promise<Record<string, string>> {
  const report = parseTinyOsReport(vm.serial);
  const context = `${id}: see ${join(WORK, `${id}.log`)}\n${parseBootLog(vm.serial).errors.join("\n")}`;
  expect({ timedOut: vm.timedOut, exitCode: vm.exitCode, ready: report.ready, context }).toEqual({ timedOut: false, exitCode: 0, ready: true, context });
  expect(report.fields.motd).toBe(token);
  expect(splitList(report.fields.users).map((u) => u.replace(/\(\d+\)$/, ""))).toContain("imaged");
  expect(report.fields.cmdline!.split(" ")).toContain("nexus.firstboot");
  const findings = await withProvisionedImage(disk, mountedFilesystems(config), (mounts) => {
    const { "/": root, ...rest } = mounts;
    return checkProvisioned(config, hostPathFor(root!, rest));
  });
  expect(findings.filter((f) => !f.ok).map((f) => `${f.kind} ${f.target}: ${f.detail}`)).toEqual([]);
  return report.fields as Record<string, string>;
}

/** Boots a disk through its own boot loader, then checks it was provisioned. */
async function bootAndCheck(id: string, disk: string, config: CheckedConfig, token: string, net: VmNet = { mode: "none" }): Promise<VmResult> {
  const vm = await bootVm({ cmdline: [], disks: [{ path: disk }], net }, { timeoutMs: BOOT_TIMEOUT_MS, serialLog: join(WORK, `${id}.log`) });
  await expectProvisioned(id, vm, disk, config, token);
  return vm;
}

/** A blank sparse disk of `gib` GiB. */
function blankDisk(id: string, gib: number): string {
  const path = join(WORK, `${id}-blank.img`);
  rmSync(path, { force: true });
  Bun.spawnSync(["truncate", "-s", `${gib}G`, path]);
  return path;
}

/** The installer ISO both ISO boots use, built once. */
let builtIso: { config: CheckedConfig; token: string; iso: string } | undefined;
function isoImage(): { config: CheckedConfig; token: string; iso: string } {
  if (builtIso) return builtIso;
  const { config, token } = machineConfig("iso");
  const configFile = join(WORK, "image-iso.ign");
  writeFileSync(configFile, JSON.stringify(config));
  const iso = join(WORK, "image-iso.iso");
  nexusImage("--config", configFile, "--format", "iso", ...TEST_KARGS, "-o", iso);
  return (builtIso = { config, token, iso });
}

/**
 * Checks an install boot ended in the installer's reboot (QEMU runs with -no-reboot) and left
 * the ISO's config in the disk's embed area. The disk is checked rather than the console: the
 * installer's last console lines can be lost when it reboots (seen on a loaded TCG host).
 */
function expectInstalled(id: string, vm: VmResult, disk: string, iso: string): void {
  const log = join(WORK, `${id}-install.log`);
  expect({ timedOut: vm.timedOut, exitCode: vm.exitCode, log }).toEqual({ timedOut: false, exitCode: 0, log });
  const show = (image: string) => Bun.spawnSync([requireArtifact("nexus"), "image", "--show-config", image], { stdout: "pipe" }).stdout.toString();
  expect(show(disk)).toBe(show(iso));
}

describe("nexus image, booted by the firmware (QEMU, TCG; SeaBIOS, and OVMF for UEFI)", () => {
  // SeaBIOS tries only the first hard disk, so the ISO, like a USB stick picked in the boot
  // menu, is the first disk; taken out after the install, the machine boots its own disk.
  test.concurrent("iso: the installer, booted from the first disk like a USB stick, installs to the blank disk and reboots; the disk's first boot provisions it", async () => {
    const id = "image-iso";
    const { config, token, iso } = isoImage();
    const disk = blankDisk(id, 2);
    const install = await bootVm(
      { cmdline: [], disks: [{ path: iso, readOnly: true }, { path: disk }], net: { mode: "none" }, memMiB: 2048 },
      { timeoutMs: 2 * BOOT_TIMEOUT_MS, serialLog: join(WORK, `${id}-install.log`) },
    );
    expectInstalled(id, install, disk, iso);
    const vm = await bootVm({ cmdline: [], disks: [{ path: disk }], net: { mode: "none" } }, { timeoutMs: BOOT_TIMEOUT_MS, serialLog: join(WORK, `${id}.log`) });
    const fields = await expectProvisioned(id, vm, disk, config, token);
    expect(fields.root).toBe("/dev/vda1:ext4");
    rmSync(disk, { force: true });
  }, 2 * TEST_TIMEOUT_MS);

  test.concurrent("raw: GRUB on the disk boots the kernel with the embedded config, which provisions the disk", async () => {
    const id = "image-raw";
    const { config, token } = machineConfig(id);
    const configFile = join(WORK, `${id}.ign`);
    writeFileSync(configFile, JSON.stringify(config));
    const disk = join(WORK, `${id}.img`);
    nexusImage("--config", configFile, "--format", "raw", ...TEST_KARGS, "-o", disk);
    const vm = await bootAndCheck(id, disk, config, token);
    expect(vm.serial).toContain("Fetched user config from system /usr/lib/nexus/user.ign");
    rmSync(disk, { force: true });
  }, TEST_TIMEOUT_MS);

  test.concurrent("gce: disk.raw from the tarball, built without a config, provisions from the metadata server's user-data", async () => {
    const id = "image-gce";
    const { config, token } = machineConfig(id);
    const server = startGcpMetadata(JSON.stringify(config));
    servers.push(server);
    const tarball = join(WORK, `${id}.tar.gz`);
    nexusImage("--format", "gce", ...TEST_KARGS, "-o", tarball);
    const dir = join(WORK, id);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    expect(Bun.spawnSync(["tar", "-xzf", tarball, "-C", dir]).exitCode).toBe(0);
    const net: VmNet = { mode: "user", net: "169.254.0.0/16", forwards: [{ guestIp: "169.254.169.254", guestPort: 80, hostPort: server.port }] };
    await bootAndCheck(id, join(dir, "disk.raw"), config, token, net);
    expect(server.requests.filter((r) => r.status === 200).map((r) => r.path)).toContain("/computeMetadata/v1/instance/attributes/user-data");
    rmSync(dir, { recursive: true, force: true });
    rmSync(tarball, { force: true });
  }, TEST_TIMEOUT_MS);

  test.concurrent("iso under UEFI (OVMF): GRUB's EFI image boots the installer, which installs to the blank disk; the disk boots through its EFI System partition and provisions itself", async () => {
    const id = "image-iso-uefi";
    const { config, token, iso } = isoImage();
    const disk = blankDisk(id, 2);
    const install = await bootVm(
      { cmdline: [], disks: [{ path: disk }, { path: iso, readOnly: true }], net: { mode: "none" }, memMiB: 2048, uefiFirmware: OVMF },
      { timeoutMs: 2 * BOOT_TIMEOUT_MS, serialLog: join(WORK, `${id}-install.log`) },
    );
    expectInstalled(id, install, disk, iso);
    const vm = await bootVm({ cmdline: [], disks: [{ path: disk }], net: { mode: "none" }, uefiFirmware: OVMF }, { timeoutMs: BOOT_TIMEOUT_MS, serialLog: join(WORK, `${id}.log`) });
    await expectProvisioned(id, vm, disk, config, token);
    rmSync(disk, { force: true });
  }, 2 * TEST_TIMEOUT_MS);
});
