// The disks stage where only a full kernel can run it: RAID (md) and LUKS (dm-crypt) in the
// test VM (test/qemu/test_vm.ts), as the initramfs runs the stages (one `nexus-init run` per
// stage). Covers what the corpus does not: mdadm arrays named by partition label, a LUKS
// volume from a keyFile with label and discard, filesystems and files on both, and reusing the
// LUKS volume on a second run, and wipeTable with a new layout over a disk whose old table the
// kernel (with udev running) already knows. Boots once (~20 s).
// Run: bun test ./src/stages/disks.qemu.ts  (builds dist/ and the initramfs first when stale)
import { describe, expect, test } from "bun:test";
import { ensureTestVmArtifacts } from "../../test/conformance/disk_builder.ts";
import { runTestVm } from "../../test/qemu/test_vm.ts";

const first = {
  ignition: { version: "3.5.0" },
  storage: {
    disks: [
      { device: "/dev/vda", wipeTable: true, partitions: [{ number: 1, label: "md-a", sizeMiB: 0 }] },
      { device: "/dev/vdb", wipeTable: true, partitions: [{ number: 1, label: "md-b", sizeMiB: 0 }] },
    ],
    raid: [{ name: "data", level: "raid1", devices: ["/dev/disk/by-partlabel/md-a", "/dev/disk/by-partlabel/md-b"], options: ["--metadata=1.2"] }],
    luks: [{ name: "secret", device: "/dev/vdc", keyFile: { source: "data:,correct-horse-battery" }, label: "sec", discard: true, wipeVolume: true }],
    filesystems: [
      { device: "/dev/md/data", format: "ext4", label: "mdfs", path: "/srv" },
      { device: "/dev/mapper/secret", format: "ext4", label: "cryptfs", path: "/secret" },
    ],
    files: [
      { path: "/srv/hello", contents: { source: "data:,hello%20md" } },
      { path: "/secret/x", contents: { source: "data:,in%20luks" } },
    ],
  },
};

// The same volume, not wiped: it must be reused (opened with the key file), not reformatted.
const second = {
  ignition: { version: "3.5.0" },
  storage: {
    luks: [{ name: "secret", device: "/dev/vdc", keyFile: { source: "data:,correct-horse-battery" }, label: "sec", discard: true }],
    filesystems: [{ device: "/dev/mapper/secret", format: "ext4", label: "cryptfs", path: "/secret" }],
  },
};

// wipeTable over a table the kernel knows (three old partitions), with a new layout in which
// partition 1 grows over where 2 was, 2 moves, and 3 goes.
const third = {
  ignition: { version: "3.5.0" },
  storage: { disks: [{ device: "/dev/vdd", wipeTable: true, partitions: [{ number: 1, label: "a", sizeMiB: 64 }, { number: 2, label: "b", sizeMiB: 16 }] }] },
};

const script = `
set -u
R=$NEXUS_RESULTS
export NEXUS_PATH_CMDLINE=/nexus-test/empty NEXUS_DEVICE_TIMEOUT_MS=60000
run() { # run <config> <rundir> <stages...>
  local cfg=$1 dir=$2; shift 2
  for s in "$@"; do
    echo "== $s" >> $R/log
    NEXUS_PATH_RUN_DIR=$dir IGNITION_CONFIG_FILE=/nexus-test/$cfg nexus-init run --stage $s --platform file --root /mnt/root >> $R/log 2>&1 || { echo "$cfg $s" >> $R/failed; return 1; }
  done
}
mkdir -p /mnt/root /mnt/check
run first.ign /run/nx1 fetch disks mount files umount && echo first-ok > $R/first
mdadm --detail --export /dev/md/data > $R/md.env 2>&1
cryptsetup luksDump /dev/vdc > $R/luks.txt 2>&1
blkid -p -o export /dev/mapper/secret > $R/secret.env 2>&1
blkid -p -o export /dev/md/data > $R/mdfs.env 2>&1
cp /run/nx1/state.json $R/state1.json
mount -o ro /dev/md/data /mnt/check && cat /mnt/check/hello > $R/hello && umount /mnt/check
cryptsetup close secret
run second.ign /run/nx2 fetch disks mount umount && echo second-ok > $R/second
blkid -p -o export /dev/mapper/secret > $R/secret2.env 2>&1
mount -o ro /dev/mapper/secret /mnt/check && cat /mnt/check/x > $R/x && umount /mnt/check
sgdisk --new=1:0:+16M --new=2:0:+32M --new=3:0:+64M /dev/vdd >> $R/log 2>&1
udevadm settle
ls /sys/block/vdd | grep -c '^vdd[0-9]' > $R/known
run third.ign /run/nx3 fetch disks && echo third-ok > $R/third
for p in /sys/block/vdd/vdd[0-9]*; do echo "$(basename $p) $(cat $p/start) $(cat $p/size)"; done > $R/kernel
exit 0
`;

describe("disks stage in the test VM", () => {
  test("`disksStage` builds RAID1 from partition labels and a LUKS2 volume, and reuses the volume", async () => {
    await ensureTestVmArtifacts();
    const vm = await runTestVm({
      script,
      files: { "first.ign": JSON.stringify(first), "second.ign": JSON.stringify(second), "third.ign": JSON.stringify(third), empty: "" },
      disks: [{ sizeMiB: 256 }, { sizeMiB: 256 }, { sizeMiB: 256 }, { sizeMiB: 256 }],
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
      const log = read("log");
      expect(read("failed"), log).toBe("");
      expect(read("first").trim(), log).toBe("first-ok");
      expect(read("second").trim(), log).toBe("second-ok");
      const md = read("md.env");
      expect(md).toContain("MD_LEVEL=raid1");
      expect(md).toContain("MD_DEVICES=2");
      expect(read("mdfs.env")).toContain("LABEL=mdfs");
      expect(read("hello")).toBe("hello md");
      const luks = read("luks.txt");
      expect(luks).toContain("Version:       \t2");
      expect(luks).toMatch(/Label:\s+sec/);
      expect(luks).toContain("allow-discards");
      const s1 = read("secret.env");
      const s2 = read("secret2.env");
      expect(s1).toContain("LABEL=cryptfs");
      // Reused, not reformatted: the filesystem UUID inside the volume is unchanged.
      expect(/UUID=(.*)/.exec(s2)?.[1]).toBe(/UUID=(.*)/.exec(s1)?.[1]);
      expect(read("x")).toBe("in luks");
      const state = JSON.parse(read("state1.json") || "{}") as { luks?: { name: string; crypttab: string }[] };
      expect(state.luks?.[0]?.crypttab).toMatch(/^secret UUID=[0-9a-f-]{36} \/etc\/luks\/secret luks,x-initrd.attach\n$/);
      // wipeTable over a known table: the kernel shows exactly the new one.
      expect(read("known").trim(), log).toBe("3");
      expect(read("third").trim(), log).toBe("third-ok");
      expect(read("kernel").trim().split("\n")).toEqual(["vdd1 2048 131072", "vdd2 133120 32768"]);
    } finally {
      vm.cleanup();
    }
  }, 600_000);
});
