// One table of the external commands, host paths and platform metadata endpoints nexus-init
// uses. Each entry can be overridden by an environment variable (NEXUS_CMD_<KEY>,
// NEXUS_PATH_<KEY>, NEXUS_URL_<KEY>) so tests and distributions can point elsewhere; no stage
// or provider hard-codes a tool name, host path or metadata address. The LiveCD initramfs ships
// these commands (initramfs/build.sh), so a tool nothing runs does not belong here: partition
// tables are written natively (no sgdisk or sfdisk), loop devices are only the tests' business
// (no losetup).

/** External programs, by role. */
export const COMMANDS = {
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
  // platform channels (providers/): VMware guestinfo, VirtualBox guest properties, vsock, z/VM
  vmwareRpctool: "vmware-rpctool",
  vboxControl: "VBoxControl",
  socat: "socat",
  vmur: "vmur",
  chccwdev: "chccwdev",
  cioIgnore: "cio_ignore",
  unshare: "unshare",
  findmnt: "findmnt",
  sync: "sync",
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
  /** udev's links to filesystems by label (config drives). */
  diskByLabel: "/dev/disk/by-label",
  /** sysfs block class (is a device a CD-ROM with a disc). */
  sysClassBlock: "/sys/class/block",
  /** Hyper-V KVP: the kernel device of the key-value exchange and the driver that creates it. */
  hvKvpDevice: "/dev/vmbus/hv_kvp",
  hvUtilsDriver: "/sys/bus/vmbus/drivers/hv_utils",
  /** Where Hyper-V's KVP daemon keeps its pools in the target root. */
  hvKvpPoolDir: "/var/lib/hyperv",
  /** The vsock misc device (present once the vsock module is loaded). */
  vsockDevice: "/sys/devices/virtual/misc/vsock",
  /** NVIDIA BlueField: the boot FIFO of the mlxbf_bootctl driver. */
  bluefieldBootfifo: "/sys/bus/platform/devices/MLNXBF04:00/bootfifo",
  /** DHCP leases: systemd-networkd's (dracut flow) and the LiveCD initramfs's udhcpc. */
  networkdLeases: "/run/systemd/netif/leases",
  dhcpLeases: "/run/nexus/leases",
  /** Where z/VM's reader files are received. */
  zvmSpoolDir: "/run/nexus/zvm",
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

/** Platform metadata services, by provider (scheme, host and port; paths are the provider's). */
export const METADATA_URLS = {
  akamai: "http://169.254.169.254",
  aliyun: "http://100.100.100.200",
  azure: "http://169.254.169.254",
  digitalocean: "http://169.254.169.254",
  exoscale: "http://169.254.169.254",
  hetzner: "http://169.254.169.254",
  openstack: "http://169.254.169.254",
  /** Reached through every interface with an IPv6 address (the link-local zone). */
  openstackV6: "http://[fe80::a9fe:a9fe]",
  oraclecloud: "http://169.254.169.254",
  packet: "https://metadata.packet.net",
  scaleway: "http://169.254.42.42",
  upcloud: "http://169.254.169.254",
  vultr: "http://169.254.169.254",
  /** CloudStack's is the DHCP server of the lease: {dhcp-server} is replaced by its address. */
  cloudstack: "http://{dhcp-server}",
} as const;
export type MetadataName = keyof typeof METADATA_URLS;

/** A metadata service's base URL, honouring NEXUS_URL_<NAME> (e.g. NEXUS_URL_OPENSTACK_V6). */
export function metadataUrl(name: MetadataName, env: Record<string, string | undefined> = process.env): string {
  return env[envKey("NEXUS_URL_", name)] ?? METADATA_URLS[name];
}
