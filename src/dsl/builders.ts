// The declarations a program writes: one builder per Ignition entry, field names as Ignition's,
// with a little sugar on top (contents as text, bytes, local files or secrets; owners as a name
// or an id; units from typed sections; mount units for filesystems). Every builder records the
// caller's line. Types are generic in the target spec V, inferred from the system (or generic
// fragment) the declaration is placed in, so a field the target spec lacks is a type error.
import { mountUnitFor } from "../butane/mount_units.ts";
import { captureOrigin, formatOrigin, type Origin } from "./origin.ts";
import { flattenParts, inFragment, makePart, RANK, SYSTEM, withRank, type Part, type Parts, type System, type SystemOptions } from "./parts.ts";
import type * as S from "./spec.generated.ts";
import type { Before, Latest, NeedsSpec, Spec, StructSince } from "./spec.generated.ts";
import { contentsKey, type Contents, type LocalFile, type Secret, type Text } from "./values.ts";

/** T, or NeedsSpec<M> when V is older than M: a declaration the target spec lacks entirely. */
export type Gate<V extends Spec, M extends Spec, T> = [V] extends [Before<M>] ? NeedsSpec<M> : T;

/** A node's owner: a name, an id, or Ignition's `{ id }` or `{ name }` (never both). */
export type Owner = string | number | { id: number; name?: never } | { name: string; id?: never };

/** Clevis: TPM2, tang servers and a threshold, or a custom pin instead of all of them. */
export type ClevisOptions<V extends Spec = Latest> =
  | (S.Clevis<V, "custom"> & { custom?: never })
  | ({ custom?: S.ClevisCustom<V> } & { tpm2?: never; tang?: never; threshold?: never });

/** Unit-file text: a string, a local file, or a `text` template. */
export type UnitText = string | LocalFile | Text;

export type FileOptions<V extends Spec = Latest> = S.File<V, "path" | "contents" | "append" | "user" | "group"> & {
  /** The file's contents: text, bytes, read("./local"), remote(url, …), a secret, or text`…`. */
  contents?: Contents<V>;
  /** Contents appended to the file, in order. */
  append?: readonly Contents<V>[];
  /** Owner of the file: a user name, a uid, or `{ id, name }` (default root). */
  user?: Owner;
  /** Group of the file: a group name, a gid, or `{ id, name }` (default root). */
  group?: Owner;
};
export type DirectoryOptions<V extends Spec = Latest> = S.Directory<V, "path" | "user" | "group"> & { user?: Owner; group?: Owner };
export type LinkOptions<V extends Spec = Latest> = S.Link<V, "path" | "user" | "group" | "target"> & {
  /** What the link points to. */
  target: string;
  user?: Owner;
  group?: Owner;
};
export type DropinOptions = { name: string; contents?: UnitText };
export type UnitOptions<V extends Spec = Latest> = S.Unit<V, "name" | "contents" | "dropins"> & {
  /** The unit file: text, read("./app.service"), or text`…`. */
  contents?: UnitText;
  /** Drop-in files in <unit>.d/. */
  dropins?: readonly DropinOptions[];
};
export type UserOptions<V extends Spec = Latest> = S.PasswdUser<V, "name" | "passwordHash" | "sshAuthorizedKeys"> & {
  /** Password hash in crypt(3) format, or a secret holding one. */
  passwordHash?: string | Secret;
  /** SSH public keys: key lines, or read("./key.pub") (one key per non-comment line). */
  sshAuthorizedKeys?: readonly (string | LocalFile)[];
};
export type GroupOptions<V extends Spec = Latest> = S.PasswdGroup<V, "name" | "passwordHash"> & { passwordHash?: string | Secret };
export type DiskOptions<V extends Spec = Latest> = S.Disk<V, "device">;
export type RaidOptions<V extends Spec = Latest> = S.Raid<V, "name">;
export type LuksOptions<V extends Spec = Latest> = S.Luks<V, "name" | "keyFile" | "clevis"> & {
  /** Bind the volume with clevis so it unlocks itself. */
  clevis?: ClevisOptions<V>;
  /** The volume key: a secret, a local file, or a remote resource (random when unset). */
  keyFile?: Contents<V>;
};
export type FilesystemOptions<V extends Spec = Latest> = S.Filesystem<V, "device"> & {
  /** Also declare a systemd mount (or swap) unit for it, as Butane's with_mount_unit does. */
  withMountUnit?: boolean;
};
export type ConfigReferenceOptions<V extends Spec = Latest> = S.ConfigReference<V, "source">;

/** A value or list of strings for one unit-file key; lists repeat the key. */
export type IniValue = string | number | boolean | readonly (string | number)[];
/** Keys of one unit-file section; unknown keys are written as given. */
export type Section<Known> = Known & { readonly [key: string]: IniValue | undefined };

export type UnitSection = Section<{
  Description?: string;
  Documentation?: IniValue;
  Requires?: IniValue;
  Wants?: IniValue;
  BindsTo?: IniValue;
  PartOf?: IniValue;
  Conflicts?: IniValue;
  Before?: IniValue;
  After?: IniValue;
  RequiresMountsFor?: IniValue;
  ConditionPathExists?: IniValue;
  ConditionFirstBoot?: boolean;
  DefaultDependencies?: boolean;
}>;
export type ServiceSection = Section<{
  Type?: "simple" | "exec" | "forking" | "oneshot" | "dbus" | "notify" | "notify-reload" | "idle";
  ExecStartPre?: IniValue;
  ExecStart?: IniValue;
  ExecStartPost?: IniValue;
  ExecReload?: IniValue;
  ExecStop?: IniValue;
  Restart?: "no" | "on-success" | "on-failure" | "on-abnormal" | "on-watchdog" | "on-abort" | "always";
  RestartSec?: string | number;
  RemainAfterExit?: boolean;
  User?: string;
  Group?: string;
  WorkingDirectory?: string;
  Environment?: IniValue;
  EnvironmentFile?: IniValue;
  TimeoutStartSec?: string | number;
}>;
export type InstallSection = Section<{
  WantedBy?: IniValue;
  RequiredBy?: IniValue;
  Alias?: IniValue;
  Also?: IniValue;
}>;

/** A service unit described by its sections. */
export interface ServiceOptions {
  unit?: UnitSection;
  service: ServiceSection;
  install?: InstallSection;
  /** Enable the unit (default: true when [Install] has WantedBy or RequiredBy). */
  enabled?: boolean;
  dropins?: readonly DropinOptions[];
}

const ownerOf = (o: Owner | undefined): { id?: number; name?: string } | undefined =>
  o === undefined ? undefined : typeof o === "string" ? { name: o } : typeof o === "number" ? { id: o } : { ...o };

/** Drops undefined fields so parts compare and merge by what was really declared. */
function defined<T extends Record<string, unknown>>(o: T): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function checkKey(what: string, key: unknown, origin: Origin | undefined): string {
  if (typeof key !== "string" || key === "") throw new TypeError(`${what} needs a non-empty string, got ${JSON.stringify(key)}, at ${formatOrigin(origin)}`);
  return key;
}

/** A regular file. */
export function file<V extends Spec = Latest>(path: S.AbsolutePath, options: FileOptions<V> = {} as FileOptions<V>): Part<V> {
  const origin = captureOrigin(file);
  const { user, group, ...rest } = options as FileOptions & Record<string, unknown>;
  const value = defined({ ...rest, path: checkKey("file() path", path, origin), user: ownerOf(user), group: ownerOf(group) });
  return makePart({ kind: "file", key: path, value, origin });
}

/** A directory. */
export function directory<V extends Spec = Latest>(path: S.AbsolutePath, options: DirectoryOptions<V> = {} as DirectoryOptions<V>): Part<V> {
  const origin = captureOrigin(directory);
  const { user, group, ...rest } = options as DirectoryOptions & Record<string, unknown>;
  const value = defined({ ...rest, path: checkKey("directory() path", path, origin), user: ownerOf(user), group: ownerOf(group) });
  return makePart({ kind: "directory", key: path, value, origin });
}

/** A symbolic (or, with `hard: true`, hard) link. */
export function link<V extends Spec = Latest>(path: S.AbsolutePath, options: LinkOptions<V>): Part<V> {
  const origin = captureOrigin(link);
  const { user, group, ...rest } = options as LinkOptions & Record<string, unknown>;
  const value = defined({ ...rest, path: checkKey("link() path", path, origin), user: ownerOf(user), group: ownerOf(group) });
  return makePart({ kind: "link", key: path, value, origin });
}

/** A systemd unit: contents, enabled, mask, drop-ins. */
export function unit<V extends Spec = Latest>(name: string, options: UnitOptions<V> = {} as UnitOptions<V>): Part<V> {
  const origin = captureOrigin(unit);
  return makePart({ kind: "unit", key: checkKey("unit() name", name, origin), value: defined({ ...options, name }), origin });
}

/** One drop-in of a unit (merged with the unit's other declarations). */
export function dropin<V extends Spec = Latest>(unitName: string, name: string, contents: UnitText): Part<V> {
  const origin = captureOrigin(dropin);
  checkKey("dropin() name", name, origin);
  return makePart({ kind: "unit", key: checkKey("dropin() unit", unitName, origin), value: { name: unitName, dropins: [{ name, contents }] }, origin });
}

/** Renders unit-file sections: lists repeat their key, booleans are yes/no. */
export function renderUnitSections(sections: readonly [string, Record<string, IniValue | undefined> | undefined][]): string {
  const blocks: string[] = [];
  for (const [title, keys] of sections) {
    if (!keys) continue;
    const lines = [`[${title}]`];
    for (const [k, v] of Object.entries(keys)) {
      if (v === undefined) continue;
      for (const item of Array.isArray(v) ? v : [v]) lines.push(`${k}=${typeof item === "boolean" ? (item ? "yes" : "no") : String(item)}`);
    }
    blocks.push(lines.join("\n") + "\n");
  }
  return blocks.join("\n");
}

/**
 * A service from typed sections. `service("app.service", { unit: { Description: "App" },
 * service: { ExecStart: "/usr/bin/app" }, install: { WantedBy: "multi-user.target" } })`
 * declares the unit `{"name":"app.service","enabled":true,"contents":"[Unit]\nDescription=App\n\n
 * [Service]\nExecStart=/usr/bin/app\n\n[Install]\nWantedBy=multi-user.target\n"}`.
 */
export function service<V extends Spec = Latest>(name: string, options: ServiceOptions): Part<V> {
  const origin = captureOrigin(service);
  const contents = renderUnitSections([
    ["Unit", options.unit],
    ["Service", options.service],
    ["Install", options.install],
  ]);
  const installs = options.install && (options.install.WantedBy !== undefined || options.install.RequiredBy !== undefined);
  const enabled = options.enabled ?? (installs ? true : undefined);
  const value = defined({ name: checkKey("service() name", name, origin), contents, enabled, dropins: options.dropins });
  return makePart({ kind: "unit", key: name, value, origin });
}

/** A user account. */
export function user<V extends Spec = Latest>(name: string, options: UserOptions<V> = {} as UserOptions<V>): Part<V> {
  const origin = captureOrigin(user);
  return makePart({ kind: "user", key: checkKey("user() name", name, origin), value: defined({ ...options, name }), origin });
}

/** A group. */
export function group<V extends Spec = Latest>(name: string, options: GroupOptions<V> = {} as GroupOptions<V>): Part<V> {
  const origin = captureOrigin(group);
  return makePart({ kind: "group", key: checkKey("group() name", name, origin), value: defined({ ...options, name }), origin });
}

/** A disk and its partitions. */
export function disk<V extends Spec = Latest>(device: S.AbsolutePath, options: DiskOptions<V> = {} as DiskOptions<V>): Part<V> {
  const origin = captureOrigin(disk);
  return makePart({ kind: "disk", key: checkKey("disk() device", device, origin), value: defined({ ...options, device }), origin });
}

/** A software RAID array (/dev/md/<name>). */
export function raid<V extends Spec = Latest>(name: string, options: RaidOptions<V>): Part<V> {
  const origin = captureOrigin(raid);
  return makePart({ kind: "raid", key: checkKey("raid() name", name, origin), value: defined({ ...options, name }), origin });
}

/** A LUKS2 volume (/dev/mapper/<name>). Needs spec 3.2.0. */
export function luks<V extends Spec = Latest>(name: string, options: Gate<V, StructSince["Luks"], LuksOptions<V>>): Part<V> {
  const origin = captureOrigin(luks);
  return makePart({ kind: "luks", key: checkKey("luks() name", name, origin), value: defined({ ...(options as object), name }), origin });
}

/** A filesystem on a device; with `withMountUnit`, also its mount (or swap) unit. */
export function filesystem<V extends Spec = Latest>(device: string, options: FilesystemOptions<V>): Parts<V> {
  const origin = captureOrigin(filesystem);
  const { withMountUnit, ...rest } = options as FilesystemOptions & Record<string, unknown>;
  checkKey("filesystem() device", device, origin);
  const fsPart = makePart<V>({ kind: "filesystem", key: device, value: defined({ ...rest, device }), origin });
  if (!withMountUnit) return [fsPart];
  const format = String(rest.format ?? "");
  if (format !== "swap" && typeof rest.path !== "string") {
    throw new TypeError(`filesystem("${device}") with withMountUnit needs a path (or format "swap"), at ${formatOrigin(origin)}`);
  }
  const mount = mountUnitFor({ device, format, path: rest.path, mount_options: rest.mountOptions }, false, 7);
  return [fsPart, makePart<V>({ kind: "unit", key: String(mount.name), value: mount, origin })];
}

/** Kernel arguments that must (or, in shouldNotExist, must not) be on the boot entry. Needs spec 3.3.0. */
export function kernelArguments<V extends Spec = Latest>(args: Gate<V, StructSince["KernelArguments"], S.KernelArguments<V>>): Parts<V> {
  const origin = captureOrigin(kernelArguments);
  const a = args as S.KernelArguments;
  const part = (arg: string, exist: boolean) => makePart<V>({ kind: "kernelArgument", key: checkKey("kernel argument", arg, origin), value: { exist }, origin });
  return [...(a.shouldExist ?? []).map((x) => part(x, true)), ...(a.shouldNotExist ?? []).map((x) => part(x, false))];
}

/** A config fetched at provisioning time and merged over this one. */
export function mergeConfig<V extends Spec = Latest>(source: string, options: ConfigReferenceOptions<V> = {} as ConfigReferenceOptions<V>): Part<V> {
  const origin = captureOrigin(mergeConfig);
  return makePart({ kind: "mergeConfig", key: checkKey("mergeConfig() source", source, origin), value: defined({ ...options, source }), origin });
}

/** A config fetched at provisioning time and used instead of this one. */
export function replaceConfig<V extends Spec = Latest>(source: string, options: ConfigReferenceOptions<V> = {} as ConfigReferenceOptions<V>): Part<V> {
  const origin = captureOrigin(replaceConfig);
  return makePart({ kind: "replaceConfig", key: "replace", value: defined({ ...options, source: checkKey("replaceConfig() source", source, origin) }), origin });
}

/** A PEM certificate authority trusted for HTTPS fetches: inline text, a local file, or a URL. */
export function certificateAuthority<V extends Spec = Latest>(ca: Contents<V>): Part<V> {
  const origin = captureOrigin(certificateAuthority);
  const key = contentsKey(ca as Contents);
  return makePart({ kind: "certificateAuthority", key, value: { contents: ca }, origin });
}

/** The HTTP(S) proxy for fetches. Needs spec 3.1.0. */
export function proxy<V extends Spec = Latest>(options: Gate<V, StructSince["Proxy"], S.Proxy<V>>): Part<V> {
  const origin = captureOrigin(proxy);
  return makePart({ kind: "proxy", key: "proxy", value: defined(options as Record<string, unknown>), origin });
}

/** Time limits for HTTP fetches. */
export function timeouts<V extends Spec = Latest>(options: S.Timeouts<V>): Part<V> {
  const origin = captureOrigin(timeouts);
  return makePart({ kind: "timeouts", key: "timeouts", value: defined(options as Record<string, unknown>), origin });
}

/** Named parts: errors about them say which fragment they came through. */
export function fragment<V extends Spec = Latest>(name: string, parts: Parts<V>): Parts<V> {
  return inFragment(name, parts);
}

/** Declarations that yield to any normal declaration of the same entry field. */
export function mkDefault<T extends Part | Parts>(parts: T): T {
  return withRank(RANK.default, parts);
}

/** Declarations that win over normal ones of the same entry field. */
export function mkForce<T extends Part | Parts>(parts: T): T {
  return withRank(RANK.force, parts);
}

/** The whole machine: the spec and target to emit, and its declarations. */
export function system<const V extends Spec = Latest>(options: SystemOptions<V>, parts: Parts<V>): System<V>;
export function system<V extends Spec = Latest>(parts: Parts<V>): System<V>;
export function system<V extends Spec>(a: SystemOptions<V> | Parts<V>, b?: Parts<V>): System<V> {
  const origin = captureOrigin(system);
  const [options, parts] = Array.isArray(a) ? [{}, a] : [a as SystemOptions<V>, b ?? []];
  return { [SYSTEM]: { options, parts: flattenParts(parts, "system() parts"), origin } };
}
