// The examples that declare block devices, applied for real in the test VM (md, dm-crypt and a
// GPT-aware kernel): examples/disks (RAID1 + LUKS + ext4, xfs scratch) on vda–vdc and the fleet's
// database node (its data disk) on vdd. Compiled on the host by the provision pipeline, applied
// in the guest by `nexus-init apply`, then inspected with mdadm, cryptsetup and blkid. And
// examples/tpm-var as its comment says to run it, `make demo ... TPM=DIR` (scripts/demo.ts): a
// first boot of the boot image alone (no test tools), with a software TPM.
// Run: bun test ./test/qemu/examples.qemu.ts  (builds the kernel and initramfs when stale)
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { provision } from "../../src/authoring/provision.ts";
import { ensureTestVmArtifacts } from "../conformance/disk_builder.ts";
import { REPO } from "./paths.ts";
import { runTestVm } from "./test_vm.ts";

async function compiled(program: string): Promise<string> {
  const r = await provision({ programs: [join(REPO, program)] });
  if (!r.ok) throw new Error(`Cannot provision ${program}: ${JSON.stringify(r.diagnostics)}`);
  return r.json;
}

const script = `
set -u
R=$NEXUS_RESULTS
export NEXUS_PATH_CMDLINE=/nexus-test/empty NEXUS_DEVICE_TIMEOUT_MS=60000
seed() {
  mkdir -p $1/etc
  echo 'root:x:0:0:root:/root:/bin/sh' > $1/etc/passwd
  printf 'root:x:0:\\nwheel:x:10:\\n' > $1/etc/group
  echo 'root:*:19000:0:99999:7:::' > $1/etc/shadow
  printf 'root:*::\\nwheel:*::\\n' > $1/etc/gshadow
  echo 'USERGROUPS_ENAB yes' > $1/etc/login.defs
}
seed /mnt/disks
nexus-init apply --root /mnt/disks /nexus-test/disks.ign > $R/disks.log 2>&1 && echo ok > $R/disks.ok
mdadm --detail --export /dev/md/data > $R/md.env 2>&1
cryptsetup luksDump /dev/md/data > $R/luks.txt 2>&1
blkid -p -o export /dev/mapper/data > $R/data.env 2>&1
blkid -p -o export /dev/disk/by-partlabel/scratch > $R/scratch.env 2>&1
mkdir -p /mnt/check && mount -o ro /dev/mapper/data /mnt/check && cat /mnt/check/README > $R/readme && umount /mnt/check
cp /mnt/disks/etc/systemd/system/var-lib-data.mount $R/data.mount 2>/dev/null
seed /mnt/db
nexus-init apply --root /mnt/db /nexus-test/db.ign > $R/db.log 2>&1 && echo ok > $R/db.ok
blkid -p -o export /dev/disk/by-partlabel/dbdata > $R/dbdata.env 2>&1
grep '^db:' /mnt/db/etc/passwd > $R/db.passwd
exit 0
`;

describe("examples in the test VM", () => {
  test("examples/disks and the fleet's database node provision real disks", async () => {
    await ensureTestVmArtifacts();
    const vm = await runTestVm({
      script,
      files: { "disks.ign": await compiled("examples/disks/system.ts"), "db.ign": await compiled("examples/fleet/db-node.ts"), empty: "" },
      // xfs needs more than 300 MB: the scratch and database disks are larger.
      disks: [{ sizeMiB: 256 }, { sizeMiB: 256 }, { sizeMiB: 512 }, { sizeMiB: 512 }],
      memMiB: 2048,
      timeoutMs: 400_000,
    });
    try {
      const read = (n: string) => {
        try {
          return vm.readResult(n);
        } catch {
          return "";
        }
      };
      expect(read("disks.ok").trim(), read("disks.log")).toBe("ok");
      expect(read("md.env")).toContain("MD_LEVEL=raid1");
      expect(read("md.env")).toContain("MD_DEVICES=2");
      expect(read("luks.txt")).toMatch(/Label:\s+data/);
      expect(read("luks.txt")).toContain("allow-discards");
      expect(read("data.env")).toContain("TYPE=ext4");
      expect(read("scratch.env")).toContain("TYPE=xfs");
      expect(read("readme")).toBe("This directory lives on a LUKS2 volume on a RAID1 mirror of vda and vdb.\n");
      expect(read("data.mount")).toContain("Where=/var/lib/data");
      expect(read("db.ok").trim(), read("db.log")).toBe("ok");
      expect(read("dbdata.env")).toContain("LABEL=dbdata");
      expect(read("db.passwd")).toMatch(/^db:x:1950:1950::\/var\/lib\/db:/);
    } finally {
      vm.cleanup();
    }
  }, 600_000);
});

describe("examples/tpm-var through `make demo`", () => {
  // The test VM carries dmsetup among its extra tools; the boot image must carry it too, or
  // udev never completes cryptsetup's dm cookie and `opening LUKS volume "var"` never returns.
  test("the first boot opens a TPM2-bound LUKS /var and the binding unlocks with that TPM", async () => {
    const tpmDir = join(mkdtempSync(join(tmpdir(), "nexus-demo-tpm-")), "tpm");
    try {
      const demo = Bun.spawn([process.execPath, "run", join(REPO, "scripts/demo.ts"), "--config", join(REPO, "examples/tpm-var/var.bu"), "--tpm", tpmDir, "--timeout", "500"], {
        stdout: "pipe",
        stderr: "pipe",
      });
      const [out, err] = await Promise.all([new Response(demo.stdout).text(), new Response(demo.stderr).text()]);
      expect(await demo.exited, `${out}\n${err}`).toBe(0);
      expect(out).toMatch(/\[finished\] opening LUKS volume "var" \(/);
      expect(out).toContain(`LUKS volume "var", mounted at /var (new)`);
      expect(out).toContain(`— unlocks here with the TPM in ${tpmDir}`);
      expect(out).toContain("nexus-tinyos: mounts=/var:ext4");
      expect(out).toMatch(/Result: OK — \d+ checks match the config/);
    } finally {
      rmSync(join(tpmDir, ".."), { recursive: true, force: true });
    }
  }, 600_000);
});
