// An encrypted /var that unlocks itself through the machine's TPM 2.0 (the same machine as
// var.bu beside this file): `make demo CONFIG=examples/tpm-var/system.ts TPM=build/tpm`.
import { disk, file, filesystem, luks, system } from "nexus";

export default system({ spec: "3.4.0" }, [
  // The base image's disk: keep partition 1 (root), add /var in the free space.
  disk("/dev/vda", { partitions: [{ number: 2, label: "var", sizeMiB: 0 }] }),
  luks("var", { device: "/dev/disk/by-partlabel/var", label: "var-luks", wipeVolume: true, clevis: { tpm2: true } }),
  filesystem("/dev/mapper/var", { format: "ext4", path: "/var", label: "var", wipeFilesystem: true, withMountUnit: true }),
  file("/etc/motd", { contents: "This machine's /var is a LUKS2 volume bound to its TPM 2.0 with clevis.\n", mode: 0o644 }),
]);
