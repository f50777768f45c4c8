// The internal config model: the newest spec's structure. Every accepted config, whatever its
// version, is upgraded to this shape (see upgrade.ts) before validation, merging and the stages.
import type { z } from "zod";
import type * as latest from "./schema/v3_7_experimental.ts";

export type Config = z.infer<typeof latest.config>;

type NonNull<T> = Exclude<T, null | undefined>;
type Item<T> = NonNull<T> extends readonly (infer U)[] ? U : never;

export type Ignition = NonNull<Config["ignition"]>;
export type Storage = NonNull<Config["storage"]>;
export type Systemd = NonNull<Config["systemd"]>;
export type Passwd = NonNull<Config["passwd"]>;
export type KernelArguments = NonNull<Config["kernelArguments"]>;

export type Resource = NonNull<Ignition["config"]>["replace"] & {};
export type HttpHeader = Item<Resource["httpHeaders"]>;
export type Proxy = NonNull<Ignition["proxy"]>;
export type Timeouts = NonNull<Ignition["timeouts"]>;

export type File = Item<Storage["files"]>;
export type Directory = Item<Storage["directories"]>;
export type Link = Item<Storage["links"]>;
export type Disk = Item<Storage["disks"]>;
export type Partition = Item<Disk["partitions"]>;
export type Raid = Item<Storage["raid"]>;
export type Luks = Item<Storage["luks"]>;
export type Clevis = NonNull<Luks["clevis"]>;
export type Tang = Item<Clevis["tang"]>;
export type Filesystem = Item<Storage["filesystems"]>;
export type Unit = Item<Systemd["units"]>;
export type Dropin = Item<Unit["dropins"]>;
export type User = Item<Passwd["users"]>;
export type Group = Item<Passwd["groups"]>;
export type NodeUser = NonNull<File["user"]>;

/** Spec versions nexus-init reads, oldest first; the last is the internal model. */
export const SPEC_VERSIONS = [
  "3.0.0",
  "3.1.0",
  "3.2.0",
  "3.3.0",
  "3.4.0",
  "3.5.0",
  "3.6.0",
  "3.7.0-experimental",
] as const;
export type SpecVersion = (typeof SPEC_VERSIONS)[number];
/** The newest stable spec: announced in Accept headers, and the version of the empty config. */
export const NEWEST_STABLE: SpecVersion = "3.6.0";
/** The first spec whose setuid, setgid and sticky bits Ignition applies (older ones drop them). */
export const SPECIAL_MODE_BITS_SINCE: SpecVersion = "3.6.0";

/**
 * True when a filesystem is on a block device (Ignition's Filesystem.IsBlockDevice()): every
 * format but 3.7.0-experimental's virtiofs, whose device is a tag the host gives the share.
 */
export function isBlockDeviceFilesystem(f: { format?: string | null }): boolean {
  return f.format !== "virtiofs";
}
