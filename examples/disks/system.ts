// A disk layout: two disks mirrored (RAID1), encrypted with LUKS2 (its key a secret read from
// a file), an ext4 filesystem on top mounted at /var/lib/data, and a third disk as xfs scratch
// space. Device names are the virtio disks of a VM (vda, vdb, vdc).
import { disk, filesystem, luks, raid, read, secret, system, file } from "nexus";

const LINUX_RAID = "A19D880F-05FC-4D3B-A006-743F0F84911E";
const dataKey = secret("data-key", { file: "./data.key" });

export default system({ spec: "3.4.0" }, [
  disk("/dev/vda", { wipeTable: true, partitions: [{ number: 1, label: "raid-a", sizeMiB: 0, typeGuid: LINUX_RAID }] }),
  disk("/dev/vdb", { wipeTable: true, partitions: [{ number: 1, label: "raid-b", sizeMiB: 0, typeGuid: LINUX_RAID }] }),
  raid("data", { level: "raid1", devices: ["/dev/disk/by-partlabel/raid-a", "/dev/disk/by-partlabel/raid-b"] }),
  luks("data", { device: "/dev/md/data", keyFile: dataKey, label: "data", wipeVolume: true, discard: true }),
  filesystem("/dev/mapper/data", { format: "ext4", label: "data", path: "/var/lib/data", wipeFilesystem: true, withMountUnit: true }),

  disk("/dev/vdc", { wipeTable: true, partitions: [{ number: 1, label: "scratch", sizeMiB: 0 }] }),
  filesystem("/dev/disk/by-partlabel/scratch", { format: "xfs", label: "scratch", path: "/var/scratch", wipeFilesystem: true, withMountUnit: true }),

  file("/var/lib/data/README", { contents: read("./README.data"), mode: 0o644 }),
]);
