// One table of the external commands and host paths nexus-init uses. Each entry can be
// overridden by an environment variable (NEXUS_CMD_<KEY>, NEXUS_PATH_<KEY>) so tests and
// distributions can point elsewhere; no stage hard-codes a tool name or host path.

/** External programs, by role. */
export const COMMANDS = {
  sgdisk: "sgdisk",
  sfdisk: "sfdisk",
  partx: "partx",
  blkid: "blkid",
  wipefs: "wipefs",
  udevadm: "udevadm",
  mdadm: "mdadm",
  cryptsetup: "cryptsetup",
  clevis: "clevis",
  mkfsExt4: "mkfs.ext4",
  mkfsXfs: "mkfs.xfs",
  mkfsBtrfs: "mkfs.btrfs",
  mkfsVfat: "mkfs.vfat",
  mkswap: "mkswap",
  mount: "mount",
  umount: "umount",
  useradd: "useradd",
  usermod: "usermod",
  userdel: "userdel",
  groupadd: "groupadd",
  groupmod: "groupmod",
  groupdel: "groupdel",
  modprobe: "modprobe",
  losetup: "losetup",
  // Provided by the boot environment (the hand-built initramfs ships them, see
  // initramfs/README.md), called by `run` with several stages: bring up the network between
  // fetch-offline and fetch, mount the real root (argument: where) between disks and mount.
  netUp: "nexus-net-up",
  mountRoot: "nexus-mount-root",
} as const;
export type CommandName = keyof typeof COMMANDS;

/** Host paths read or written outside the target root. */
export const HOST_PATHS = {
  cmdline: "/proc/cmdline",
  fwCfg: "/sys/firmware/qemu_fw_cfg",
  runDir: "/run/nexus",
  /** The boot filesystem whose boot entry the kargs stage edits (FCOS's convention: label "boot"). */
  bootDevice: "/dev/disk/by-label/boot",
  /** The kernel's TPM 2.0 resource manager, which clevis's tpm2 pin talks to. */
  tpmDevice: "/dev/tpmrm0",
  baseConfigDir: "/usr/lib/nexus/base.d",
  basePlatformDir: "/usr/lib/nexus/base.platform.d",
} as const;
export type HostPathName = keyof typeof HOST_PATHS;

function envKey(prefix: string, key: string): string {
  return prefix + key.replace(/[A-Z]/g, (c) => "_" + c).toUpperCase();
}

/** The program to run for a role, honouring NEXUS_CMD_<ROLE> (e.g. NEXUS_CMD_MKFS_EXT4). */
export function commandPath(name: CommandName, env: Record<string, string | undefined> = process.env): string {
  return env[envKey("NEXUS_CMD_", name)] ?? COMMANDS[name];
}

/** A host path, honouring NEXUS_PATH_<NAME> (e.g. NEXUS_PATH_CMDLINE). */
export function hostPath(name: HostPathName, env: Record<string, string | undefined> = process.env): string {
  return env[envKey("NEXUS_PATH_", name)] ?? HOST_PATHS[name];
}
