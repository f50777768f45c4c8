// What each field of Ignition's config means, in one line written by us, plus the facts about a
// field's values that the structural schemas leave to the validator: closed value sets (with the
// spec version each value appears in) and the shape of paths. Authoring tools read it: the
// typed DSL's generated types and their TSDoc, and `nexus schema`'s JSON Schema. The boot side
// never imports it. Keys are "Struct.field", struct names as in config/structure.ts.
import type { SpecVersion } from "./types.ts";

/** A value a field accepts, and the first spec version that accepts it (default: 3.0.0). */
export interface FieldValue {
  value: string;
  since?: SpecVersion;
  /** Accepted by the validator but not offered to authors (aliases such as RAID "1"). */
  alias?: boolean;
}

/** What one field means and which values it takes beyond its structural type. */
export interface FieldDoc {
  doc: string;
  /** A closed set of string values. */
  values?: readonly FieldValue[];
  /** The string is an absolute path (starts with "/"). */
  absolutePath?: boolean;
}

const v = (value: string, since?: SpecVersion, alias = false): FieldValue => ({ value, ...(since ? { since } : {}), ...(alias ? { alias } : {}) });

/** Filesystem formats nexus-init creates, accepts or (virtiofs) mounts. */
export const FILESYSTEM_FORMATS: readonly FieldValue[] = [
  v("ext4"),
  v("xfs"),
  v("btrfs"),
  v("vfat"),
  v("swap"),
  v("none", "3.3.0"),
  v("virtiofs", "3.7.0-experimental"),
];

/** RAID levels mdadm is asked for; the numeric and descriptive aliases Ignition also accepts. */
export const RAID_LEVELS: readonly FieldValue[] = [
  v("linear"),
  v("raid0"),
  v("raid1"),
  v("raid4"),
  v("raid5"),
  v("raid6"),
  v("raid10"),
  ...["0", "stripe", "1", "mirror", "4", "5", "6", "10"].map((a) => v(a, undefined, true)),
];

const resourceDocs = (what: string): Record<string, FieldDoc> => ({
  source: { doc: `URL of ${what} (data, http(s), tftp, s3, gs, arn); may be omitted for an empty file` },
  compression: { doc: `Compression of the fetched bytes; "gzip" or empty for none`, values: [v(""), v("gzip")] },
  httpHeaders: { doc: `HTTP headers sent when fetching ${what} over http(s)` },
  verification: { doc: `Hash the fetched (decompressed) bytes must match` },
});

/** Every field's documentation, keyed "Struct.field". */
export const FIELD_DOCS: Readonly<Record<string, FieldDoc>> = {
  "Config.ignition": { doc: "Settings of the provisioning run itself: spec version, referenced configs, TLS, proxy, timeouts" },
  "Config.storage": { doc: "Disks, partitions, RAID, LUKS volumes, filesystems, files, directories and links" },
  "Config.systemd": { doc: "systemd units to write, enable, mask or extend with drop-ins" },
  "Config.passwd": { doc: "Users and groups to create, modify or delete" },
  "Config.kernelArguments": { doc: "Kernel arguments that must or must not be on the boot entry" },

  "Ignition.version": { doc: "Spec version of this config, such as 3.6.0" },
  "Ignition.config": { doc: "Other configs to merge into this one or to replace it with" },
  "Ignition.security": { doc: "TLS settings for fetching resources" },
  "Ignition.timeouts": { doc: "Time limits for HTTP fetches" },
  "Ignition.proxy": { doc: "HTTP(S) proxy used for fetches" },

  "IgnitionConfig.merge": { doc: "Configs fetched and merged over this one, in order" },
  "IgnitionConfig.replace": { doc: "A config fetched and used instead of this one" },

  ...prefixed("ConfigReference", resourceDocs("the referenced config")),
  ...prefixed("CaReference", resourceDocs("a PEM certificate authority")),
  ...prefixed("FileContents", resourceDocs("the contents")),
  ...prefixed("Resource", resourceDocs("the resource")),

  "HttpHeader.name": { doc: "Header name" },
  "HttpHeader.value": { doc: "Header value; a child config's header without a value removes the parent's" },
  "Verification.hash": { doc: 'Expected hash as "sha512-<hex>" (or "sha256-<hex>" from spec 3.1.0)' },

  "Security.tls": { doc: "Certificate authorities trusted for HTTPS fetches" },
  "Tls.certificateAuthorities": { doc: "PEM certificate authorities added to the system trust store for fetches" },
  "Timeouts.httpResponseHeaders": { doc: "Seconds to wait for the response headers of each HTTP request (default 10)" },
  "Timeouts.httpTotal": { doc: "Seconds an HTTP fetch may take in all, retries included (0: no limit)" },
  "Proxy.httpProxy": { doc: "Proxy URL for http:// fetches" },
  "Proxy.httpsProxy": { doc: "Proxy URL for https:// fetches" },
  "Proxy.noProxy": { doc: "Hosts, domains or addresses fetched without the proxy" },

  "Storage.disks": { doc: "Disks to partition" },
  "Storage.raid": { doc: "Software RAID arrays to create with mdadm" },
  "Storage.filesystems": { doc: "Filesystems to create or reuse, and where they mount during provisioning" },
  "Storage.files": { doc: "Regular files to write" },
  "Storage.directories": { doc: "Directories to create" },
  "Storage.links": { doc: "Symbolic and hard links to create" },
  "Storage.luks": { doc: "LUKS2 encrypted volumes to create and open" },

  "Disk.device": { doc: "Absolute path of the disk device, such as /dev/vda or /dev/disk/by-id/…", absolutePath: true },
  "Disk.wipeTable": { doc: "Erase the whole partition table before creating partitions" },
  "Disk.partitions": { doc: "Partitions to create, keep, resize or delete on this disk" },

  "Partition.label": { doc: "GPT partition name (at most 36 characters)" },
  "Partition.number": { doc: "Partition number; 0 means the next free number" },
  "Partition.sizeMiB": { doc: "Size in MiB; 0 means as large as the free space allows" },
  "Partition.startMiB": { doc: "Start in MiB; 0 means the first free aligned sector" },
  "Partition.typeGuid": { doc: "GPT partition type GUID" },
  "Partition.guid": { doc: "Unique GUID of the partition" },
  "Partition.wipePartitionEntry": { doc: "Delete an existing partition that does not match instead of failing" },
  "Partition.shouldExist": { doc: "false deletes the partition with this number" },
  "Partition.resize": { doc: "Grow or shrink an existing partition to sizeMiB instead of failing" },

  "Raid.name": { doc: "Array name; the device becomes /dev/md/<name>" },
  "Raid.level": { doc: "RAID level", values: RAID_LEVELS },
  "Raid.devices": { doc: "Absolute paths of the member devices" },
  "Raid.spares": { doc: "Number of spare devices among the members" },
  "Raid.options": { doc: "Extra mdadm --create options" },

  "Filesystem.device": { doc: "Absolute path of the block device, such as /dev/disk/by-label/data" },
  "Filesystem.format": { doc: "Filesystem type", values: FILESYSTEM_FORMATS },
  "Filesystem.wipeFilesystem": { doc: "Create the filesystem even when the device already holds one" },
  "Filesystem.label": { doc: "Filesystem label" },
  "Filesystem.uuid": { doc: "Filesystem UUID" },
  "Filesystem.options": { doc: "Extra options for the mkfs command" },
  "Filesystem.path": { doc: "Where the filesystem is mounted in the target root during provisioning", absolutePath: true },
  "Filesystem.mountOptions": { doc: "Options for mounting the filesystem during provisioning" },

  "File.path": { doc: "Absolute path of the file in the target root", absolutePath: true },
  "File.overwrite": { doc: "Replace an existing file (default false: an existing file fails the run unless contents are unset)" },
  "File.user": { doc: "Owner of the file (default root)" },
  "File.group": { doc: "Group of the file (default root)" },
  "File.mode": { doc: "Permission bits, such as 0o644 (default 0o644); special bits need spec 3.6.0" },
  "File.contents": { doc: "The file's contents" },
  "File.append": { doc: "Contents appended to the file, in order" },

  "Directory.path": { doc: "Absolute path of the directory in the target root", absolutePath: true },
  "Directory.overwrite": { doc: "Replace an existing non-directory at the path" },
  "Directory.user": { doc: "Owner of the directory (default root)" },
  "Directory.group": { doc: "Group of the directory (default root)" },
  "Directory.mode": { doc: "Permission bits, such as 0o755 (default 0o755); special bits need spec 3.6.0" },

  "Link.path": { doc: "Absolute path of the link in the target root", absolutePath: true },
  "Link.overwrite": { doc: "Replace an existing node at the path" },
  "Link.user": { doc: "Owner of a symbolic link (default root)" },
  "Link.group": { doc: "Group of a symbolic link (default root)" },
  "Link.target": { doc: "What the link points to" },
  "Link.hard": { doc: "Make a hard link instead of a symbolic link" },

  "NodeUser.id": { doc: "Numeric user id" },
  "NodeUser.name": { doc: "User name, looked up in the target root" },
  "NodeGroup.id": { doc: "Numeric group id" },
  "NodeGroup.name": { doc: "Group name, looked up in the target root" },

  "Luks.name": { doc: "Volume name; it opens as /dev/mapper/<name>" },
  "Luks.label": { doc: "LUKS header label" },
  "Luks.uuid": { doc: "LUKS header UUID" },
  "Luks.device": { doc: "Absolute path of the device to encrypt", absolutePath: true },
  "Luks.keyFile": { doc: "Key for the volume; a random key is generated when unset" },
  "Luks.wipeVolume": { doc: "Create the volume even when the device already holds one" },
  "Luks.clevis": { doc: "Bind the volume with clevis (TPM2, tang, or a custom pin) so it unlocks itself" },
  "Luks.options": { doc: "Extra cryptsetup luksFormat options" },
  "Luks.discard": { doc: "Let discard (TRIM) requests through the encryption layer" },
  "Luks.openOptions": { doc: "Extra options for opening the volume (crypttab and cryptsetup)" },
  "Luks.cex": { doc: "Protect the volume key with an IBM Crypto Express card (s390x)" },

  "Clevis.custom": { doc: "A clevis pin and its JSON configuration, used instead of tpm2/tang" },
  "Clevis.tpm2": { doc: "Bind to the machine's TPM2" },
  "Clevis.tang": { doc: "Tang servers to bind to" },
  "Clevis.threshold": { doc: "How many of the tpm2 and tang pins must succeed to unlock (default 1)" },
  "ClevisCustom.pin": { doc: "Clevis pin name", values: [v("tpm2"), v("tang"), v("sss")] },
  "ClevisCustom.config": { doc: "The pin's JSON configuration" },
  "ClevisCustom.needsNetwork": { doc: "The pin needs the network to unlock (adds _netdev to crypttab)" },
  "Tang.url": { doc: "URL of the tang server" },
  "Tang.thumbprint": { doc: "Thumbprint of a trusted tang signing key" },
  "Tang.advertisement": { doc: "The server's advertisement (JSON), so binding needs no network" },
  "Cex.enabled": { doc: "Use a Crypto Express card for this volume" },

  "Systemd.units": { doc: "Units to write, enable, mask or extend" },
  "Unit.name": { doc: "Unit name with its type suffix, such as app.service" },
  "Unit.enabled": { doc: "Enable (true) or disable (false) the unit through a preset; unset leaves it alone" },
  "Unit.mask": { doc: "Mask the unit (link it to /dev/null)" },
  "Unit.contents": { doc: "The unit file's contents" },
  "Unit.dropins": { doc: "Drop-in files in <unit>.d/" },
  "Dropin.name": { doc: "Drop-in file name, ending in .conf" },
  "Dropin.contents": { doc: "The drop-in's contents" },

  "Passwd.users": { doc: "Users to create, modify or delete" },
  "Passwd.groups": { doc: "Groups to create, modify or delete" },
  "PasswdUser.name": { doc: "User name" },
  "PasswdUser.passwordHash": { doc: "Password hash in crypt(3) format; never logged" },
  "PasswdUser.sshAuthorizedKeys": { doc: "SSH public keys allowed to log in as this user" },
  "PasswdUser.uid": { doc: "User id (default: the next free one)" },
  "PasswdUser.gecos": { doc: "GECOS field (full name)" },
  "PasswdUser.homeDir": { doc: "Home directory (default /home/<name>)" },
  "PasswdUser.noCreateHome": { doc: "Do not create the home directory" },
  "PasswdUser.primaryGroup": { doc: "Primary group name or id" },
  "PasswdUser.groups": { doc: "Supplementary groups" },
  "PasswdUser.noUserGroup": { doc: "Do not create a group with the user's name" },
  "PasswdUser.noLogInit": { doc: "Do not add the user to the lastlog and faillog databases" },
  "PasswdUser.shell": { doc: "Login shell" },
  "PasswdUser.system": { doc: "Create a system account (id from the system range)" },
  "PasswdUser.shouldExist": { doc: "false deletes the user" },
  "PasswdGroup.name": { doc: "Group name" },
  "PasswdGroup.gid": { doc: "Group id (default: the next free one)" },
  "PasswdGroup.passwordHash": { doc: "Group password hash in crypt(3) format; never logged" },
  "PasswdGroup.system": { doc: "Create a system group (id from the system range)" },
  "PasswdGroup.shouldExist": { doc: "false deletes the group" },

  "KernelArguments.shouldExist": { doc: "Arguments added to the boot entry when missing" },
  "KernelArguments.shouldNotExist": { doc: "Arguments removed from the boot entry when present" },
};

function prefixed(struct: string, docs: Record<string, FieldDoc>): Record<string, FieldDoc> {
  return Object.fromEntries(Object.entries(docs).map(([k, d]) => [`${struct}.${k}`, d]));
}
