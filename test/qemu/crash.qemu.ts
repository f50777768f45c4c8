// Power cuts during the demo's first boot (examples/demo.ign on the base OS image, LiveCD
// initramfs): QEMU is killed outright at points spread over the provisioning, timed by the
// console's operation lines; the machine then boots again. Every disk must end either fully
// provisioned (the tiny OS boots and the demo's inspector, expect.ts, finds everything the
// config declares, with no journal left) or refused with the journal's message (the VM stops
// with an error and the tiny OS never runs) — never booted half provisioned. A cut followed
// by a boot with another config must be refused.
//
// In the test VM, apply is also killed after RAID, LUKS (a generated key) and filesystem
// operations and run again: the array and the volume must be taken over, not made anew, and
// the key file written into the root must open the volume.
//
// NEXUS_QEMU_CRASH_POINTS sets the number of cut points (default 4, what `make test` runs to
// stay within its time; `make test-qemu-crash` runs 10 by default, CRASH_POINTS=N more; with
// 20 or more, every operation boundary in the test VM too). Serial logs:
// build/test-qemu/crash-*.log.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkProvisioned, hostPathFor, mountedFilesystems, type CheckedConfig } from "./expect.ts";
import { withProvisionedImage } from "./host_disk.ts";
import { REPO, requireArtifact } from "./paths.ts";
import { bootVm, type VmResult } from "./qemu.ts";
import { parseTinyOsReport } from "./serial.ts";
import { runTestVm } from "./test_vm.ts";

const WORK = join(REPO, "build/test-qemu");
const BOOT_TIMEOUT_MS = Number(process.env.NEXUS_QEMU_BOOT_TIMEOUT_MS ?? 240_000);
const POINTS = Math.max(1, Number(process.env.NEXUS_QEMU_CRASH_POINTS ?? 4) || 4);
/**
 * The bound of a trial run concurrently with the others: machines take turns (two at a time),
 * so a trial may wait for all the others' boots before its own. Each boot has its own bound.
 */
const QUEUED_TRIAL_MS = (2 * POINTS + 4) * BOOT_TIMEOUT_MS;
const REFUSED = /Cannot resume the interrupted provisioning: /;
const COMPLETE = /nexus-boot: .*provisioning complete/;
/** The console lines that mark provisioning's progress: stage boundaries and operations. */
const PROGRESS = /^(?:\S+: )?op\(\d+\): \[(?:started|finished)\]|^nexus-boot: \[[ .\d]+\] stage \S+: (?:started|finished)/;

mkdirSync(WORK, { recursive: true });
const outcomes: string[] = [];
afterAll(() => {
  if (outcomes.length) process.stderr.write(`power-cut trials (${outcomes.length}):\n  ${outcomes.join("\n  ")}\n`);
});

/** One boot of the demo machine from `image`, optionally with a power cut. */
function boot(id: string, image: string, config: string, cutAfter?: (line: string) => number | null): Promise<VmResult> {
  return bootVm(
    {
      kernel: requireArtifact("kernel"),
      initrd: requireArtifact("initramfs"),
      cmdline: ["loglevel=4", "nexus.platform.id=qemu"],
      disks: [{ path: image }],
      fwCfg: [{ name: "opt/com.coreos/config", file: config }],
      net: { mode: "none" },
    },
    { timeoutMs: BOOT_TIMEOUT_MS, serialLog: join(WORK, `${id}.log`), cutAfter },
  );
}

function freshImage(id: string): string {
  const image = join(WORK, `${id}.img`);
  rmSync(image, { force: true });
  Bun.spawnSync(["cp", "--sparse=always", requireArtifact("baseImage"), image]);
  return image;
}

/** A cut after the n-th progress line of provisioning, `delayMs` later. */
function cutAtProgress(n: number, delayMs: number): (line: string) => number | null {
  let seen = 0;
  let provisioning = false;
  return (line) => {
    if (/nexus-boot: .*provisioning \(platform/.test(line)) provisioning = true;
    if (!provisioning || !PROGRESS.test(line)) return null;
    return ++seen === n ? delayMs : null;
  };
}

/** What the inspector finds on a disk, plus whether a journal or the result report is there. */
async function inspect(image: string, config: CheckedConfig): Promise<{ failed: string[]; journal: boolean; outcome: string | null }> {
  return withProvisionedImage(image, mountedFilesystems(config), (mounts) => {
    const { "/": root, ...rest } = mounts;
    const failed = checkProvisioned(config, hostPathFor(root!, rest))
      .filter((f) => !f.ok)
      .map((f) => `${f.kind} ${f.target}: ${f.detail}`);
    const report = join(root!, "etc/.nexus-result.json");
    const outcome = existsSync(report) ? (JSON.parse(readFileSync(report, "utf8")) as { outcome: string }).outcome : null;
    return { failed, journal: existsSync(join(root!, ".nexus-init-journal")), outcome };
  });
}

/**
 * The boot after a cut: fully provisioned (tiny OS up, inspector clean, no journal) or
 * refused with the journal's message (VM failed, tiny OS never ran). Returns which.
 */
async function expectProvisionedOrRefused(id: string, image: string, config: CheckedConfig, second: VmResult): Promise<string> {
  const ready = parseTinyOsReport(second.serial).ready;
  const log = join(WORK, `${id}-after.log`);
  if (!ready) {
    expect({ id, log, timedOut: second.timedOut, exitCode: second.exitCode, refused: REFUSED.test(second.serial) }).toEqual({ id, log, timedOut: false, exitCode: 1, refused: true });
    return `refused: ${/Cannot resume the interrupted provisioning: ([^.]*)/.exec(second.serial)?.[1]}`;
  }
  const found = await inspect(image, config);
  expect({ id, log, ...found }).toEqual({ id, log, failed: [], journal: false, outcome: "success" });
  return `booted fully provisioned${/journal: resuming/.test(second.serial) ? " (resumed)" : " (started over)"}`;
}

describe("power cuts during the demo's first boot (QEMU, TCG)", () => {
  const demo = requireArtifact("demoConfig");
  const config = JSON.parse(readFileSync(demo, "utf8")) as CheckedConfig;
  // The uninterrupted boot counts the progress lines the cut points are spread over (once,
  // for the first trial that asks).
  let counted: Promise<number> | undefined;
  const reference = () => (counted ??= (async () => {
    const image = freshImage("crash-reference");
    const r = await boot("crash-reference", image, demo);
    expect(parseTinyOsReport(r.serial).ready).toBe(true);
    const lines = r.serial.split("\n");
    const start = lines.findIndex((l) => /nexus-boot: .*provisioning \(platform/.test(l));
    const end = lines.findIndex((l) => COMPLETE.test(l));
    rmSync(image, { force: true });
    return lines.slice(start, end).filter((l) => PROGRESS.test(l)).length;
  })());

  for (let i = 0; i < POINTS; i++) {
    test.concurrent(`power cut ${i + 1} of ${POINTS}, then boot again: fully provisioned or refused, never half`, async () => {
      const total = await reference();
      // Points spread evenly over the progress lines, each a little after its line.
      const n = Math.max(1, Math.round(((i + 0.5) / POINTS) * total));
      const delayMs = (i * 137) % 400;
      const id = `crash-${String(i + 1).padStart(2, "0")}`;
      const image = freshImage(id);
      try {
        const first = await boot(`${id}-cut`, image, demo, cutAtProgress(n, delayMs));
        const before = first.serial.split("\n").slice(0, first.cut?.linesBefore ?? Infinity);
        const at = before.filter((l) => PROGRESS.test(l)).pop() ?? "(before any operation)";
        if (!first.cut || before.some((l) => COMPLETE.test(l))) {
          outcomes.push(`${id}: cut after line ${n} of ${total} came after provisioning had completed`);
          return;
        }
        expect(parseTinyOsReport(first.serial).ready).toBe(false);
        // The console lags behind the machine: a cut just after the journal was removed (the
        // root made durable and the result written before) came after provisioning completed.
        // The LiveCD provisions at every boot, so a second boot would only provision again.
        // (Before the disks stage made the config's partitions there is nothing to inspect.)
        const left = await inspect(image, config).catch(() => null);
        if (left && !left.journal && left.outcome === "success") {
          expect({ id, failed: left.failed }).toEqual({ id, failed: [] });
          outcomes.push(`${id}: cut ${delayMs} ms after line ${n} of ${total} (${at.replace(/^.*?\] /, "")}) came after the journal was removed: fully provisioned`);
          return;
        }
        const second = await boot(`${id}-after`, image, demo);
        const outcome = await expectProvisionedOrRefused(id, image, config, second);
        outcomes.push(`${id}: cut ${delayMs} ms after line ${n} of ${total} (${at.replace(/^.*?\] /, "")}) → ${outcome}`);
      } finally {
        rmSync(image, { force: true });
      }
    }, QUEUED_TRIAL_MS);
  }

  test.concurrent("a power cut, then a boot with another config: refused with the message, the tiny OS never runs", async () => {
    const id = "crash-other-config";
    const image = freshImage(id);
    const other = join(WORK, `${id}.ign`);
    const changed = JSON.parse(readFileSync(demo, "utf8")) as { storage: { files: { path: string; contents?: { source: string } }[] } };
    changed.storage.files.find((f) => f.path === "/etc/motd")!.contents = { source: "data:,another%20config%0A" };
    writeFileSync(other, JSON.stringify(changed));
    try {
      // Cut once the disks stage is done: the journal is on the root filesystem by then.
      const first = await boot(`${id}-cut`, image, demo, (line) => (/stage mount: started/.test(line) ? 0 : null));
      expect(first.cut).toBeDefined();
      const second = await boot(`${id}-after`, image, other);
      expect(parseTinyOsReport(second.serial).ready).toBe(false);
      expect(second.exitCode).toBe(1);
      expect(second.serial).toMatch(/Cannot resume the interrupted provisioning: the interrupted run recorded in "\/\.nexus-init-journal" on the root filesystem "LABEL=root" applied another config/);
      expect(second.serial).toMatch(/nexus-boot: ERROR: stage kargs failed/);
      outcomes.push(`${id}: refused, as it must be`);
    } finally {
      rmSync(image, { force: true });
    }
  }, QUEUED_TRIAL_MS);
});

/** RAID1 of two disks, LUKS2 on it with a generated key, ext4 inside, files on it and in /etc. */
const storageConfig = {
  ignition: { version: "3.4.0" },
  storage: {
    raid: [{ name: "data", level: "raid1", devices: ["/dev/vda", "/dev/vdb"], options: ["--metadata=1.2"] }],
    luks: [{ name: "secret", device: "/dev/md/data", label: "sec", options: ["--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000"] }],
    filesystems: [{ device: "/dev/mapper/secret", format: "ext4", label: "cryptfs", path: "/srv", wipeFilesystem: true }],
    files: [
      { path: "/srv/hello", contents: { source: "data:,hello%20from%20luks" } },
      { path: "/etc/motd", contents: { source: "data:,resumed%0A" } },
    ],
  },
};

// Each round: fresh disks, apply killed after operation n (1 raid, 2 luks, 3 fs, 4 mount point,
// 5-6 files, 7 key file, 8 crypttab), what a reboot clears (mounts, the volume, the array),
// apply again, then verify --devices and the key file against the volume.
const storageScript = (points: readonly number[]) => `
set -u
R=$NEXUS_RESULTS
export NEXUS_DEVICE_TIMEOUT_MS=60000
settle() { umount -R /mnt/root/srv 2>/dev/null; cryptsetup close secret 2>/dev/null; mdadm --stop /dev/md/data >/dev/null 2>&1; udevadm settle; }
for n in ${points.join(" ")}; do
  settle
  for d in vda vdb; do wipefs -a -q /dev/$d; dd if=/dev/zero of=/dev/$d bs=1M count=8 status=none; done
  udevadm settle
  rm -rf /mnt/root; mkdir -p /mnt/root/etc
  NEXUS_TEST_CRASH_AFTER_OP=$n nexus-init apply --root /mnt/root /nexus-test/c.ign > $R/first.$n 2>&1; first=$?
  last=$(tail -n1 /mnt/root/.nexus-init-journal 2>/dev/null | sed 's/.*"key":"\\([^"]*\\)".*/\\1/')
  settle
  nexus-init apply --root /mnt/root /nexus-test/c.ign > $R/again.$n 2>&1; again=$?
  mount -o ro /dev/mapper/secret /mnt/root/srv 2>/dev/null
  nexus-init verify --root /mnt/root --devices /nexus-test/c.ign > $R/verify.$n 2>&1; verify=$?
  cryptsetup open --test-passphrase --key-file /mnt/root/etc/luks/secret /dev/md/data; key=$?
  journal=$(test -e /mnt/root/.nexus-init-journal && echo left || echo gone)
  echo "$n first=$first last=$last again=$again verify=$verify key=$key journal=$journal" >> $R/summary
done
exit 0
`;

describe("RAID and LUKS interrupted in the test VM", () => {
  test("apply killed after each storage operation takes the array and the volume over, and its key file opens the volume", async () => {
    const points = POINTS >= 20 ? [1, 2, 3, 4, 5, 6, 7, 8] : [2, 3, 7];
    const vm = await runTestVm({
      script: storageScript(points),
      files: { "c.ign": JSON.stringify(storageConfig) },
      disks: [{ sizeMiB: 64 }, { sizeMiB: 64 }],
      memMiB: 1536,
      timeoutMs: 200_000 + points.length * 90_000,
    });
    try {
      const summary = (() => {
        try {
          return vm.readResult("summary").trim().split("\n");
        } catch {
          return [];
        }
      })();
      expect(summary.length, vm.vm.serial.slice(-3000)).toBe(points.length);
      for (const line of summary) {
        const n = line.split(" ")[0]!;
        const detail = `${line}\n${(() => {
          try {
            return vm.readResult(`again.${n}`).slice(-3000) + vm.readResult(`verify.${n}`);
          } catch {
            return "";
          }
        })()}`;
        expect(line, detail).toMatch(new RegExp(`^${n} first=137 last=\\S+ again=0 verify=0 key=0 journal=gone$`));
        outcomes.push(`test VM: killed after storage operation ${line.replace(/ first=137 last=(\S+) .*/, " ($1)")} → resumed, verify clean, the key file opens the volume`);
      }
    } finally {
      vm.cleanup();
    }
  }, 1_200_000);
});
