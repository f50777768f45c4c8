// The boot scenarios of issue 6, each a real TCG boot of the Debian cloud kernel and an
// initramfs around dist/nexus-init, checked from the host afterwards (the disk image,
// mounted read-only) and through the serial console. Run by `make test-qemu`; the file
// name keeps it out of the plain `bun test` run. Serial logs: build/test-qemu/<id>.log.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkProvisioned, hostPathFor, mountedFilesystems, type CheckedConfig, type Finding } from "./expect.ts";
import { hashFile, readGpt, withProvisionedImage } from "./host_disk.ts";
import { REPO, requireArtifact } from "./paths.ts";
import { bootVm, type VmNet, type VmResult } from "./qemu.ts";
import { parseBootLog, parseTinyOsReport, splitList } from "./serial.ts";
import { startEc2Imds, startGcpMetadata, startHttpServer, type MockServer } from "./servers.ts";
import { runTestVm } from "./test_vm.ts";

const WORK = join(REPO, "build/test-qemu");
const BOOT_TIMEOUT_MS = Number(process.env.NEXUS_QEMU_BOOT_TIMEOUT_MS ?? 180_000);
// A test may wait for free machine slots (two at a time) before its own boot starts.
const TEST_TIMEOUT_MS = 5 * BOOT_TIMEOUT_MS;
const FW_CFG_KEY = "opt/com.coreos/config";
// First boot under dracut; unit names (not descriptions) in systemd's console status lines.
const DRACUT_CMDLINE = ["nexus.firstboot", "ignition.platform.id=qemu", "root=LABEL=root", "rw", "systemd.status_unit_format=name"];

mkdirSync(WORK, { recursive: true });
const servers: MockServer[] = [];
afterAll(() => servers.forEach((s) => s.stop()));

/** A small config unique to one scenario: a token in /etc/motd, a user with a key, a unit. */
function smallConfig(id: string): { config: CheckedConfig & { ignition: { version: string } }; token: string } {
  const token = `scenario-${id}-${crypto.randomUUID().slice(0, 8)}`;
  return {
    token,
    config: {
      ignition: { version: "3.4.0" },
      storage: {
        files: [
          { path: "/etc/motd", mode: 0o644, contents: { source: `data:,${encodeURIComponent(token)}%0A` } },
          { path: "/etc/nexus/scenario", mode: 0o600, contents: { source: `data:,${id}` } },
        ],
      },
      passwd: { users: [{ name: "tester", sshAuthorizedKeys: [`ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${id}key tester@${id}`] }] },
      systemd: { units: [{ name: "hello.service", enabled: true, contents: "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n" }] },
    },
  };
}

interface Boot {
  vm: VmResult;
  image: string | null;
}

/** Boots one scenario: a fresh copy of the base image unless `disk` is false. */
async function boot(
  id: string,
  opts: { cmdline: string[]; config?: string; net?: VmNet; disk?: boolean; initrd?: string },
): Promise<Boot> {
  let image: string | null = null;
  if (opts.disk !== false) {
    image = join(WORK, `${id}.img`);
    rmSync(image, { force: true });
    Bun.spawnSync(["cp", "--sparse=always", requireArtifact("baseImage"), image]);
  }
  const vm = await bootVm(
    {
      kernel: requireArtifact("kernel"),
      initrd: opts.initrd ?? requireArtifact("initramfs"),
      cmdline: ["loglevel=4", ...opts.cmdline],
      disks: image ? [{ path: image }] : [],
      fwCfg: opts.config ? [{ name: FW_CFG_KEY, file: opts.config }] : [],
      net: opts.net ?? { mode: "none" },
    },
    { timeoutMs: BOOT_TIMEOUT_MS, serialLog: join(WORK, `${id}.log`) },
  );
  return { vm, image };
}

function writeConfig(id: string, config: unknown): string {
  const path = join(WORK, `${id}.ign`);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

/** Failed findings, as readable lines (empty when everything matched). */
function failures(findings: Finding[]): string[] {
  return findings.filter((f) => !f.ok).map((f) => `${f.kind} ${f.target}: ${f.detail}`);
}

/** The common end of a successful boot: power-off after the tiny OS's marker line. */
function expectBooted(b: Boot, id: string): ReturnType<typeof parseTinyOsReport> {
  const report = parseTinyOsReport(b.vm.serial);
  const context = `${id}: see ${join(WORK, `${id}.log`)}\n${parseBootLog(b.vm.serial).errors.join("\n")}`;
  expect({ timedOut: b.vm.timedOut, exitCode: b.vm.exitCode, ready: report.ready, context }).toEqual({
    timedOut: false,
    exitCode: 0,
    ready: true,
    context,
  });
  return report;
}

/** Checks the provisioned disk from the host against the config, then removes the image. */
async function expectDiskMatches(b: Boot, config: CheckedConfig): Promise<void> {
  const findings = await withProvisionedImage(b.image!, mountedFilesystems(config), (mounts) => {
    const { "/": root, ...rest } = mounts;
    return checkProvisioned(config, hostPathFor(root!, rest));
  });
  expect(findings.length).toBeGreaterThan(0);
  expect(failures(findings)).toEqual([]);
}

/** Scenarios a–d: a small config from one source, provisioned onto the base image. */
async function runSourceScenario(id: string, source: (config: string) => Promise<{ cmdline: string[]; net?: VmNet; fwCfg?: string }>) {
  const { config, token } = smallConfig(id);
  const how = await source(JSON.stringify(config));
  const b = await boot(id, { cmdline: how.cmdline, net: how.net, config: how.fwCfg });
  const report = expectBooted(b, id);
  expect(report.fields.motd).toBe(token);
  expect(splitList(report.fields.users).map((u) => u.replace(/\(\d+\)$/, ""))).toContain("tester");
  await expectDiskMatches(b, config);
  rmSync(b.image!, { force: true });
}

describe("boot scenarios (QEMU, TCG)", () => {
  test.concurrent("a. config from QEMU fw_cfg", async () => {
    await runSourceScenario("a-fwcfg", async (config) => ({
      cmdline: ["nexus.platform.id=qemu"],
      fwCfg: writeConfig("a-fwcfg", JSON.parse(config)),
    }));
  }, TEST_TIMEOUT_MS);

  test.concurrent("b. config from nexus.config.url on the host (10.0.2.2)", async () => {
    let server: MockServer | undefined;
    await runSourceScenario("b-url", async (config) => {
      server = startHttpServer({ "/b/config.ign": config });
      servers.push(server);
      return { cmdline: ["nexus.platform.id=metal", `nexus.config.url=http://10.0.2.2:${server.port}/b/config.ign`], net: { mode: "user" } };
    });
    expect(server!.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toContain("GET /b/config.ign 200");
  }, TEST_TIMEOUT_MS);

  test.concurrent("c. config from the GCP metadata server (169.254.169.254)", async () => {
    let server: MockServer | undefined;
    await runSourceScenario("c-gcp", async (config) => {
      server = startGcpMetadata(config);
      servers.push(server);
      return {
        cmdline: ["nexus.platform.id=gcp"],
        net: { mode: "user", net: "169.254.0.0/16", forwards: [{ guestIp: "169.254.169.254", guestPort: 80, hostPort: server.port }] },
      };
    });
    const served = server!.requests.filter((r) => r.status === 200);
    expect(served.map((r) => [r.path, r.headers["metadata-flavor"]])).toContainEqual(["/computeMetadata/v1/instance/attributes/user-data", "Google"]);
  }, TEST_TIMEOUT_MS);

  test.concurrent("d. config from EC2 IMDSv2 (token, then user data)", async () => {
    let server: (MockServer & { token: string }) | undefined;
    await runSourceScenario("d-ec2", async (config) => {
      server = startEc2Imds(config);
      servers.push(server);
      return {
        cmdline: ["nexus.platform.id=aws"],
        net: { mode: "user", net: "169.254.0.0/16", forwards: [{ guestIp: "169.254.169.254", guestPort: 80, hostPort: server.port }] },
      };
    });
    const seen = server!.requests.map((r) => `${r.method} ${r.status} ${r.path}`);
    expect(seen).toContain("PUT 200 /latest/api/token");
    const data = server!.requests.find((r) => r.method === "GET" && r.status === 200 && r.path.endsWith("/user-data"));
    expect(data?.headers["x-aws-ec2-metadata-token"]).toBe(server!.token);
  }, TEST_TIMEOUT_MS);

  /** Scenarios e and g: the demo config (dist/demo.ign, from examples/demo/system.ts) on the base image (new xfs /var, accounts, units). */
  async function runDemoScenario(id: string, initrd: string, cmdline: string[]) {
    const configPath = requireArtifact("demoConfig");
    const config = JSON.parse(readFileSync(configPath, "utf8")) as CheckedConfig;
    const b = await boot(id, { cmdline, config: configPath, initrd });
    const report = expectBooted(b, id);
    // The tiny OS started the enabled var.mount unit on the new partition.
    for (const fs of mountedFilesystems(config)) expect(splitList(report.fields.mounts)).toContain(`${fs.path}:${fs.format}`);
    const gpt = readGpt(b.image!);
    const base = readGpt(requireArtifact("baseImage"));
    expect(gpt[0]).toEqual(base[0]!);
    const created = gpt.find((p) => p.label === "var");
    expect(created?.number).toBe(2);
    expect(created!.startMiB).toBeGreaterThanOrEqual(base[0]!.startMiB + base[0]!.sizeMiB);
    expect(created!.startMiB + created!.sizeMiB).toBeGreaterThan(1000);
    await expectDiskMatches(b, config);
    rmSync(b.image!, { force: true });
  }

  test.concurrent("e. base OS disk: new partition + xfs /var, files, users, units (LiveCD initramfs)", async () => {
    await runDemoScenario("e-base-os", requireArtifact("initramfs"), ["nexus.platform.id=qemu"]);
  }, TEST_TIMEOUT_MS);

  test.concurrent("f. invalid config: clear error, disk untouched, VM exits non-zero", async () => {
    const config = writeConfig("f-invalid", {
      ignition: { version: "3.4.0" },
      storage: {
        disks: [{ device: "/dev/vda", wipeTable: true }],
        files: [{ path: "etc/relative-path", contents: { source: "data:,x" } }],
      },
    });
    const before = await hashFile(requireArtifact("baseImage"));
    const b = await boot("f-invalid", { cmdline: ["nexus.platform.id=qemu"], config });
    expect(b.vm.timedOut).toBe(false);
    expect(b.vm.exitCode).toBe(1);
    const log = parseBootLog(b.vm.serial);
    expect(log.errors.filter((e) => e.startsWith("stage fetch-offline failed"))).toHaveLength(1);
    // The console names the offending value (the message format is the config module's).
    expect(b.vm.serial).toContain('"etc/relative-path"');
    expect(parseTinyOsReport(b.vm.serial).ready).toBe(false);
    expect(await hashFile(b.image!)).toBe(before);
    rmSync(b.image!, { force: true });
  }, TEST_TIMEOUT_MS);

  test.concurrent("g. dracut/systemd initramfs runs the same flow as e", async () => {
    // A failing unit isolates emergency.target: power off instead of waiting for a login.
    await runDemoScenario("g-dracut", requireArtifact("dracutInitramfs"), [...DRACUT_CMDLINE, "rd.shell=0", "rd.emergency=poweroff"]);
  }, TEST_TIMEOUT_MS);

  test.concurrent("g. dracut: a failing stage isolates emergency.target, nothing further runs", async () => {
    const config = writeConfig("g-dracut-invalid", {
      ignition: { version: "3.4.0" },
      storage: { disks: [{ device: "/dev/vda", wipeTable: true }], files: [{ path: "etc/relative-path" }] },
    });
    const before = await hashFile(requireArtifact("baseImage"));
    const b = await boot("g-dracut-invalid", {
      cmdline: [...DRACUT_CMDLINE, "rd.shell=0", "rd.emergency=poweroff"],
      config,
      initrd: requireArtifact("dracutInitramfs"),
    });
    expect(b.vm.timedOut).toBe(false);
    expect(b.vm.serial).toMatch(/FAILED\s*\] Failed to start nexus-fetch-offline\.service/);
    expect(b.vm.serial).toContain("Reached target emergency.target");
    expect(b.vm.serial).toContain('"etc/relative-path"');
    expect(b.vm.serial).not.toMatch(/Starting nexus-(disks|files)\.service/);
    expect(parseTinyOsReport(b.vm.serial).ready).toBe(false);
    expect(await hashFile(b.image!)).toBe(before);
    rmSync(b.image!, { force: true });
  }, TEST_TIMEOUT_MS);

  test.concurrent("h. LiveCD: no disk, the tiny OS provisioned in a tmpfs", async () => {
    const { config, token } = smallConfig("h");
    const b = await boot("h-livecd", { cmdline: ["nexus.platform.id=qemu"], config: writeConfig("h-livecd", config), disk: false });
    const report = expectBooted(b, "h-livecd");
    expect(report.fields.root).toStartWith("tmpfs:");
    expect(report.fields.motd).toBe(token);
    expect(splitList(report.fields.users).map((u) => u.replace(/\(\d+\)$/, ""))).toContain("tester");
    expect(splitList(report.fields["ssh-keys"])).toContain("tester:1");
    expect(splitList(report.fields.enabled)).toContain("hello.service");
  }, TEST_TIMEOUT_MS);
});

describe("kernel arguments take effect (a disk that boots through its own GRUB entry)", () => {
  // The base image plus BIOS-BOOT (GRUB) and a "boot" filesystem with the kernel, the
  // initramfs and the entry: kernelopts in /grub/grubenv, the first-boot stamp (see
  // scripts/build-boot-image.sh). The machine boots the disk, not -kernel/-append, so a
  // reboot runs with whatever the entry says then. "nexus.testarg" is not "nexus.test=" (the
  // test VM's mode of /init).
  const count = (serial: string, re: RegExp) => serial.split("\n").filter((l) => re.test(l)).length;

  /** How each initramfs flavour shows a first boot, a stage that ran and the end of provisioning. */
  const FLAVOURS = {
    livecd: {
      initrd: () => requireArtifact("initramfs"),
      kernelopts: "console=ttyS0 no_timer_check loglevel=4 quiet nexus.platform.id=qemu",
      boot: /^nexus-boot: .* nexus-init LiveCD initramfs/,
      reboot: /^nexus-boot: .* kernel arguments changed: rebooting into them/,
      stageDone: (stage: string) => new RegExp(`^nexus-boot: .* stage ${stage}: finished`),
      firstbootDone: /^nexus-boot: .* first boot complete: removed the nexus.firstboot stamp/,
      noProvisioning: /not a first boot \(nexus.firstboot=0\): no provisioning/,
    },
    dracut: {
      initrd: () => requireArtifact("dracutInitramfs"),
      kernelopts: `console=ttyS0 no_timer_check loglevel=4 quiet ${DRACUT_CMDLINE.filter((a) => a !== "nexus.firstboot").join(" ")} rd.shell=0 rd.emergency=poweroff`,
      // systemd's banner is not shown under "quiet" (the first boot): count kargs's runs.
      boot: /nexus-init\[\d+\]: kargs: plan: \d+ action/,
      reboot: /nexus-init: kernel arguments changed: rebooting into them/,
      stageDone: (stage: string) => new RegExp(`Finished nexus-${stage}\\.service`),
      firstbootDone: /Finished nexus-firstboot-complete\.service/,
      noProvisioning: /Reached target initrd\.target/,
    },
  } as const;

  async function runKargsScenario(id: string, flavour: keyof typeof FLAVOURS) {
    const f = FLAVOURS[flavour];
    const { config, token } = smallConfig(id);
    const configPath = writeConfig(id, { ...config, kernelArguments: { shouldExist: ["nexus.testarg=1"], shouldNotExist: ["quiet"] } });
    const image = join(WORK, `${id}.img`);
    const built = Bun.spawnSync([join(REPO, "scripts/build-boot-image.sh"), "--base", requireArtifact("baseImage"), "--kernel", requireArtifact("kernel"),
      "--initrd", f.initrd(), "--kernelopts", f.kernelopts, "--out", image], { stdout: "pipe", stderr: "pipe" });
    if (built.exitCode !== 0) throw new Error(`Cannot build the boot image: ${built.stderr.toString()}`);
    const first = await bootVm(
      { cmdline: [], disks: [{ path: image }], fwCfg: [{ name: FW_CFG_KEY, file: configPath }], net: { mode: "none" }, reboot: true },
      { timeoutMs: 2 * BOOT_TIMEOUT_MS, serialLog: join(WORK, `${id}.log`) },
    );
    const report = expectBooted({ vm: first, image }, id);
    const cmdline = report.fields.cmdline!.split(" ");
    expect(cmdline).toContain("nexus.testarg=1");
    expect(cmdline).not.toContain("quiet");
    expect(cmdline).toContain("nexus.firstboot");
    expect(report.fields.motd).toBe(token);
    // Two boots, one reboot: the first stopped after kargs; disks, mount and files ran once.
    const serial = first.serial;
    expect(count(serial, f.boot)).toBe(2);
    expect(count(serial, f.reboot)).toBe(1);
    expect(count(serial, /kargs: Kernel arguments changed in "\/grub\/grubenv"/)).toBe(1);
    expect(count(serial, /kargs: Kernel arguments already as requested/)).toBe(1);
    for (const stage of ["disks", "mount", "files", "umount"]) expect(count(serial, f.stageDone(stage)), stage).toBe(1);
    expect(count(serial, f.firstbootDone)).toBe(1);
    await expectDiskMatches({ vm: first, image }, config);

    // The next boot of the same disk: no stamp, so nexus.firstboot=0: no stage runs.
    const later = await bootVm(
      { cmdline: [], disks: [{ path: image }], fwCfg: [{ name: FW_CFG_KEY, file: configPath }], net: { mode: "none" } },
      { timeoutMs: BOOT_TIMEOUT_MS, serialLog: join(WORK, `${id}-later.log`) },
    );
    const again = expectBooted({ vm: later, image }, `${id}-later`);
    expect(again.fields.cmdline!.split(" ")).toEqual(expect.arrayContaining(["nexus.testarg=1", "nexus.firstboot=0"]));
    expect(later.serial).toMatch(f.noProvisioning);
    for (const stage of ["kargs", "disks", "files"]) expect(count(later.serial, f.stageDone(stage)), stage).toBe(0);
    rmSync(image, { force: true });
  }

  test.concurrent("i. LiveCD: kargs changes the boot entry, one reboot applies it, the later stages run once, a later boot provisions nothing", async () => {
    await runKargsScenario("i-kargs", "livecd");
  }, TEST_TIMEOUT_MS);

  test.concurrent("i. dracut: the same through the stage units (kargs reboots, nexus-firstboot-complete removes the stamp)", async () => {
    await runKargsScenario("i-kargs-dracut", "dracut");
  }, TEST_TIMEOUT_MS);
});

describe("test VM (the in-guest backend for md, dm-crypt and vfat checks)", () => {
  test.concurrent("`runTestVm()` runs a script against virtio disks and returns its results", async () => {
    const r = await runTestVm({
      disks: [{ sizeMiB: 64 }, { sizeMiB: 64 }, { sizeMiB: 64 }],
      files: { "key.bin": "not-a-real-secret" },
      script: [
        "set -euo pipefail",
        "d=/dev/disk/by-id/virtio-disk",
        "mdadm --create /dev/md/t --run --level=1 --raid-devices=2 --metadata=1.2 ${d}0 ${d}1 2>/dev/null",
        "mdadm --detail --export /dev/md/t > \"$NEXUS_RESULTS/md.env\"",
        "mdadm --stop /dev/md/t",
        "cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --label nexus-luks ${d}2 key.bin",
        "cryptsetup open --key-file key.bin ${d}2 c1",
        "mkfs.vfat -n NEXUSVFAT /dev/mapper/c1 >/dev/null 2>&1",
        "mkdir -p /mnt/v && mount /dev/mapper/c1 /mnt/v && echo hello > /mnt/v/hello.txt && umount /mnt/v",
        "blkid -p -o export /dev/mapper/c1 > \"$NEXUS_RESULTS/vfat.env\"",
        "cryptsetup close c1",
        "nexus-init --version > \"$NEXUS_RESULTS/version.txt\" || true",
        "exit 3",
      ].join("\n"),
      serialLog: join(WORK, "test-vm.log"),
      timeoutMs: BOOT_TIMEOUT_MS,
    });
    try {
      expect({ exitCode: r.exitCode, timedOut: r.vm.timedOut, vmExit: r.vm.exitCode }).toEqual({ exitCode: 3, timedOut: false, vmExit: 0 });
      expect(r.readResult("md.env")).toContain("MD_LEVEL=raid1");
      expect(r.readResult("md.env")).toContain("MD_DEVICES=2");
      expect(r.readResult("vfat.env")).toContain("TYPE=vfat");
      expect(r.readResult("vfat.env")).toContain("LABEL=NEXUSVFAT");
      // The host can still read what the guest wrote on its disks.
      const probe = Bun.spawnSync(["blkid", "-p", "-o", "export", r.disks[2]!]).stdout.toString();
      expect(probe).toContain("TYPE=crypto_LUKS");
      expect(probe).toContain("LABEL=nexus-luks");
    } finally {
      r.cleanup();
    }
  }, TEST_TIMEOUT_MS);
});
