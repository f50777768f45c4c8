// Drift check: everything a config declares, compared with a provisioned root (and, when
// asked, with the disks): file contents, mode and owner; directories; links; users and groups
// (every field the config sets); units, drop-ins, masks and enablement; partitions,
// filesystems, LUKS volumes and RAID arrays. Only what the config sets is checked: an unset
// mode or owner of a node that existed before provisioning is whatever it was.
//
// It reads and never writes: files are opened O_RDONLY|O_NOATIME (where the kernel permits,
// i.e. as their owner or root), directories are never listed, devices are read and probed
// read-only. Reports never carry secrets: contents and password hashes are "differ", never
// shown. (The `verify` command also runs this in a mount namespace of its own, on a
// read-only, noatime view of the root: see cli/verify.ts.)
import { createHash } from "node:crypto";
import { closeSync, constants as C, openSync, readSync, type Stats } from "node:fs";
import type { Config, Directory, File, Link, NodeUser, Unit } from "../config/types.ts";
import { isBlockDeviceFilesystem } from "../config/types.ts";
import { inspectBlockDevice, readDiskTable } from "../disks/block_device.ts";
import { blkidLookup, resolveDevice } from "../disks/devices.ts";
import { canonicalizeFsUuid, parseBlkidExport } from "../disks/filesystems.ts";
import { canonicalizeGuid } from "../disks/gpt.ts";
import { formatRaidPath } from "../disks/raid.ts";
import type { Fetcher } from "../resource/types.ts";
import { cleanPath } from "../system/paths.ts";
import { Root } from "../system/root.ts";
import type { System } from "../system/system.ts";
import { dropinPath, MASK_TARGET, PRESET_PATH, unitPath, SYSTEM_UNITS_DIR } from "../units/plan.ts";
import { findGroup as findGroupBytes, findUser as findUserBytes, parseUserDb, type UserDb } from "../users/db.ts";
import { fromBytes, toBytes } from "../users/cnum.ts";

// The account databases are read as bytes (latin1 strings, as users/db.ts models them); the
// config's names and paths are UTF-8 and compared in that form.
const findUser = (db: UserDb, name: string) => {
  const u = findUserBytes(db, toBytes(name));
  return u && { ...u, gecos: fromBytes(u.gecos), home: fromBytes(u.home), shell: fromBytes(u.shell) };
};
const findGroup = (db: UserDb, name: string) => {
  const g = findGroupBytes(db, toBytes(name));
  return g && { ...g, members: g.members.map(fromBytes) };
};
import { authorizedKeysPath } from "../users/plan.ts";

/** What was compared. */
export type CheckKind = "file" | "directory" | "link" | "user" | "group" | "ssh-keys" | "unit" | "dropin" | "partition" | "filesystem" | "luks" | "raid";

/** One thing that is not as the config declares (or could not be checked). */
export interface Difference {
  kind: CheckKind;
  /** A path, account name, unit name or device. */
  target: string;
  /** What differs, never a secret ("contents differ"). */
  problem: string;
}

/** The outcome of a verification. */
export interface VerifyReport {
  /** How many things were compared. */
  checked: number;
  differences: Difference[];
  /** Things that could not be compared (a source that cannot be fetched now). */
  unchecked: Difference[];
}

/** What verifying needs besides the config and the root. */
export interface VerifyOptions {
  /** Fetches expected file contents (data: URLs locally, remote sources over the network). */
  fetcher: Fetcher;
  system: System;
  /** Also compare the disks the config names (partitions, filesystems, LUKS, RAID). */
  devices: boolean;
  /** Device paths of the config replaced by others (an image attached elsewhere). */
  deviceMap?: ReadonlyMap<string, string>;
}

const octal = (m: number): string => "0" + (m & 0o7777).toString(8).padStart(3, "0");

/** Reads a whole file without touching its access time where the kernel allows it. */
export function readQuietly(host: string): Buffer | null {
  let fd: number;
  try {
    fd = openSync(host, C.O_RDONLY | C.O_NOATIME | C.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ELOOP" || code === "ENOTDIR") return null;
    if (code !== "EPERM") throw e;
    // O_NOATIME is only for the owner (or CAP_FOWNER).
    fd = openSync(host, C.O_RDONLY | C.O_NOFOLLOW);
  }
  try {
    const chunks: Buffer[] = [];
    const buf = Buffer.alloc(1 << 16);
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) chunks.push(Buffer.from(buf.subarray(0, n)));
    return Buffer.concat(chunks);
  } finally {
    closeSync(fd);
  }
}

/** The checks of one verification, collecting what differs. */
class Checker {
  readonly report: VerifyReport = { checked: 0, differences: [], unchecked: [] };
  readonly db: UserDb;
  /** Password hashes by name, from /etc/shadow and /etc/gshadow (compared, never shown). */
  readonly shadow: Map<string, string>;
  readonly gshadow: Map<string, string>;

  constructor(
    readonly root: Root,
    readonly opts: VerifyOptions,
  ) {
    const text = (p: string) => this.read(p)?.toString("utf8") ?? null;
    const bytes = (p: string) => this.read(p)?.toString("latin1") ?? null;
    this.db = parseUserDb(bytes("/etc/passwd"), bytes("/etc/group"));
    const hashes = (t: string | null) => new Map((t ?? "").split("\n").filter((l) => l.includes(":")).map((l) => [l.split(":")[0]!, l.split(":")[1] ?? ""] as const));
    this.shadow = hashes(text("/etc/shadow"));
    this.gshadow = hashes(text("/etc/gshadow"));
  }

  /** Records one comparison: problems (empty when it matched). */
  check(kind: CheckKind, target: string, problems: readonly string[]): void {
    this.report.checked++;
    if (problems.length > 0) this.report.differences.push({ kind, target, problem: problems.join("; ") });
  }

  unchecked(kind: CheckKind, target: string, problem: string): void {
    this.report.unchecked.push({ kind, target, problem });
  }

  /** The bytes of a root path's node itself (a symlink is not followed), or null. */
  read(path: string): Buffer | null {
    return readQuietly(this.root.resolve(path));
  }

  /** The bytes of a root path, following symlinks inside the root, or null. */
  readFollowing(path: string): Buffer | null {
    return readQuietly(this.root.resolve(path, true));
  }

  /** Mode and owner problems of a node against what the config sets. */
  attributes(st: Stats, mode: number | null | undefined, user: NodeUser | null | undefined, group: NodeUser | null | undefined, withMode = true): string[] {
    const out: string[] = [];
    if (withMode && mode !== null && mode !== undefined && (st.mode & 0o7777) !== mode) out.push(`mode is ${octal(st.mode)}, the config wants ${octal(mode)}`);
    const uid = user?.id ?? (user?.name ? findUser(this.db, user.name)?.uid : undefined);
    if (user?.name && uid === undefined) out.push(`its user "${user.name}" does not exist`);
    else if (uid !== undefined && st.uid !== uid) out.push(`owner is ${st.uid}, the config wants ${uid}${user?.name ? ` (${user.name})` : ""}`);
    const gid = group?.id ?? (group?.name ? findGroup(this.db, group.name)?.gid : undefined);
    if (group?.name && gid === undefined) out.push(`its group "${group.name}" does not exist`);
    else if (gid !== undefined && st.gid !== gid) out.push(`group is ${st.gid}, the config wants ${gid}${group?.name ? ` (${group.name})` : ""}`);
    return out;
  }

  /** The sha256 of what resources fetch to (decompressed, verified), one after another, or why it is unknown. */
  async expectedSum(resources: readonly NonNullable<File["contents"]>[]): Promise<string | { error: string }> {
    const hash = createHash("sha256");
    try {
      for (const res of resources) {
        // A fetch that starts over resets what this resource wrote so far.
        let chunks: Uint8Array[] = [];
        await this.opts.fetcher.fetchInto(res, { write: (chunk) => void chunks.push(chunk), reset: () => void (chunks = []) });
        for (const chunk of chunks) hash.update(chunk);
      }
    } catch (e) {
      return { error: `cannot fetch its expected contents: ${(e as Error).message}` };
    }
    return hash.digest("hex");
  }
}

const hasSource = (r: { source?: string | null } | null | undefined): r is { source: string } => r?.source !== null && r?.source !== undefined;

async function checkFile(c: Checker, f: File): Promise<void> {
  const path = cleanPath(f.path ?? "/");
  const st = c.root.lstat(path);
  if (!st || !st.isFile()) {
    c.check("file", path, [st ? `it is a ${st.isDirectory() ? "directory" : st.isSymbolicLink() ? "symlink" : "special file"}, not a file` : "it does not exist"]);
    return;
  }
  const problems = c.attributes(st, f.mode, f.user, f.group);
  const appends = (f.append ?? []).filter(hasSource);
  const contents = hasSource(f.contents) ? [f.contents] : [];
  if (contents.length + appends.length > 0) {
    const data = c.read(path) ?? Buffer.alloc(0);
    if (contents.length > 0) {
      const want = await c.expectedSum([...contents, ...appends]);
      if (typeof want !== "string") c.unchecked("file", path, want.error);
      else if (createHash("sha256").update(data).digest("hex") !== want) problems.push("contents differ");
    } else {
      // Appends to a file that was there: it must end with them.
      const chunks: Uint8Array[] = [];
      let error = "";
      for (const a of appends) {
        try {
          chunks.push(await c.opts.fetcher.fetchBytes(a));
        } catch (e) {
          error = `cannot fetch what is appended: ${(e as Error).message}`;
        }
      }
      const tail = Buffer.concat(chunks);
      if (error) c.unchecked("file", path, error);
      else if (data.length < tail.length || !data.subarray(data.length - tail.length).equals(tail)) problems.push("appended contents differ");
    }
  }
  c.check("file", path, problems);
}

function checkDirectory(c: Checker, d: Directory): void {
  const path = cleanPath(d.path ?? "/");
  const st = c.root.lstat(path);
  if (!st?.isDirectory()) {
    c.check("directory", path, [st ? "it is not a directory" : "it does not exist"]);
    return;
  }
  c.check("directory", path, c.attributes(st, d.mode, d.user, d.group));
}

function checkLink(c: Checker, l: Link): void {
  const path = cleanPath(l.path ?? "/");
  const st = c.root.lstat(path);
  if (!st) {
    c.check("link", path, ["it does not exist"]);
    return;
  }
  if (l.hard === true) {
    const t = c.root.lstat(l.target ?? "");
    c.check("link", path, t && t.dev === st.dev && t.ino === st.ino ? [] : [`it is not a hard link to "${l.target}"`]);
    return;
  }
  if (!st.isSymbolicLink()) {
    c.check("link", path, ["it is not a symlink"]);
    return;
  }
  const problems = c.attributes(st, null, l.user, l.group, false);
  const want = l.target ?? "";
  const target = c.root.readlink(path);
  if (cleanPath(target) !== cleanPath(want)) problems.push(`it points to "${target}", the config wants "${want}"`);
  c.check("link", path, problems);
}

function checkGroup(c: Checker, g: NonNullable<NonNullable<Config["passwd"]>["groups"]>[number]): void {
  const name = g.name ?? "";
  const found = findGroup(c.db, name);
  if (g.shouldExist === false) {
    c.check("group", name, found ? ["it exists, the config wants it removed"] : []);
    return;
  }
  if (!found) {
    c.check("group", name, ["it does not exist"]);
    return;
  }
  const problems: string[] = [];
  if (g.gid !== null && g.gid !== undefined && found.gid !== g.gid) problems.push(`gid is ${found.gid}, the config wants ${g.gid}`);
  if (g.passwordHash && c.gshadow.get(name) !== g.passwordHash) problems.push("password hash differs");
  c.check("group", name, problems);
}

function checkUser(c: Checker, u: NonNullable<NonNullable<Config["passwd"]>["users"]>[number]): void {
  const name = u.name ?? "";
  const found = findUser(c.db, name);
  if (u.shouldExist === false) {
    c.check("user", name, found ? ["it exists, the config wants it removed"] : []);
    return;
  }
  if (!found) {
    c.check("user", name, ["it does not exist"]);
    return;
  }
  const problems: string[] = [];
  const field = (what: string, have: string | number, want: string | number | null | undefined) => {
    if (want !== null && want !== undefined && want !== "" && have !== want) problems.push(`${what} is ${JSON.stringify(have)}, the config wants ${JSON.stringify(want)}`);
  };
  field("uid", found.uid, u.uid);
  field("comment", found.gecos, u.gecos);
  field("home", found.home, u.homeDir);
  field("shell", found.shell, u.shell);
  if (u.primaryGroup) {
    const g = /^\d+$/.test(u.primaryGroup) ? Number(u.primaryGroup) : findGroup(c.db, u.primaryGroup)?.gid;
    if (g === undefined) problems.push(`its primary group "${u.primaryGroup}" does not exist`);
    else if (found.gid !== g) problems.push(`primary group is ${found.gid}, the config wants ${g} (${u.primaryGroup})`);
  }
  // useradd makes the home unless noCreateHome (an existing one, e.g. a mount point, is kept).
  if (u.noCreateHome !== true && !c.root.stat(found.home)?.isDirectory()) problems.push(`its home directory "${found.home}" does not exist`);
  const missing = (u.groups ?? []).filter((g) => !findGroup(c.db, g)?.members.includes(name));
  if (missing.length > 0) problems.push(`not a member of ${missing.join(", ")}`);
  if (u.passwordHash !== null && u.passwordHash !== undefined) {
    const want = u.passwordHash === "" ? "*" : u.passwordHash;
    if (c.shadow.get(name) !== want) problems.push("password hash differs");
  }
  c.check("user", name, problems);
  const keys = u.sshAuthorizedKeys ?? [];
  if (keys.length > 0) {
    const text = [authorizedKeysPath(found.home, true), authorizedKeysPath(found.home, false)]
      .map((p) => c.readFollowing(p)?.toString("utf8") ?? "")
      .join("\n");
    const lines = new Set(text.split("\n").map((l) => l.trim()));
    const absent = keys.filter((k) => !lines.has(k.trim()));
    c.check("ssh-keys", name, absent.length > 0 ? [`${absent.length} of ${keys.length} SSH key(s) are not authorized`] : []);
  }
}

/** The targets a unit is installed into ([Install] WantedBy=/RequiredBy=/UpheldBy=), with their link directories. */
function enablementLinks(contents: string, name: string): string[] {
  const out: string[] = [];
  let install = false;
  for (const raw of contents.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("[")) install = line === "[Install]";
    const m = install ? /^(WantedBy|RequiredBy|UpheldBy)\s*=\s*(.*)$/.exec(line) : null;
    if (!m) continue;
    const dir = { WantedBy: "wants", RequiredBy: "requires", UpheldBy: "upholds" }[m[1] as "WantedBy"];
    for (const t of m[2]!.split(/\s+/).filter(Boolean)) out.push(`${SYSTEM_UNITS_DIR}/${t}.${dir}/${name}`);
  }
  return out;
}

function checkUnit(c: Checker, u: Unit, presets: string[]): void {
  const name = u.name ?? "";
  const problems: string[] = [];
  const path = unitPath(name);
  const st = c.root.lstat(path);
  const masked = !!st?.isSymbolicLink() && c.root.readlink(path) === MASK_TARGET;
  if (u.mask === true && !masked) problems.push("it is not masked");
  if (u.mask !== true && masked) problems.push("it is masked");
  if (u.contents !== null && u.contents !== undefined && u.mask !== true) {
    const data = st?.isFile() ? c.read(path) : null;
    if (!data) problems.push("its unit file does not exist");
    else if (!data.equals(Buffer.from(u.contents))) problems.push("its unit file's contents differ");
  }
  if (u.enabled === true || u.enabled === false) {
    const unitText = u.contents ?? c.readFollowing(path)?.toString("utf8") ?? c.readFollowing(`/usr/lib/systemd/system/${name}`)?.toString("utf8") ?? "";
    const linked = enablementLinks(unitText, name).some((p) => c.root.lstat(p)?.isSymbolicLink());
    const preset = presets.find((l) => l.split(/\s+/)[1] === name || l.split(/\s+/).slice(2).some((i) => `${l.split(/\s+/)[1]!.replace("@.", `@${i}.`)}` === name));
    const verb = preset?.split(/\s+/)[0];
    if (u.enabled && !linked && verb !== "enable") problems.push("it is not enabled (no enablement symlink, no enable preset)");
    if (!u.enabled && (linked || verb === "enable")) problems.push(linked ? "it is enabled (an enablement symlink exists)" : "an enable preset exists for it");
  }
  c.check("unit", name, problems);
  for (const d of u.dropins ?? []) {
    if (d.contents === null || d.contents === undefined) continue;
    const p = dropinPath(name, d.name ?? "");
    const data = c.root.lstat(p)?.isFile() ? c.read(p) : null;
    c.check("dropin", `${name}/${d.name}`, !data ? ["it does not exist"] : data.equals(Buffer.from(d.contents)) ? [] : ["contents differ"]);
  }
}

async function checkDisks(c: Checker, config: Config): Promise<void> {
  const { system, deviceMap } = c.opts;
  const lookup = blkidLookup(system);
  const device = async (p: string) => resolveDevice(deviceMap?.get(p) ?? p, lookup);
  for (const disk of config.storage?.disks ?? []) {
    const name = disk.device ?? "";
    const dev = await device(name);
    if (!dev) {
      c.check("partition", name, ["the disk does not exist"]);
      continue;
    }
    const t = readDiskTable(inspectBlockDevice(dev));
    const table = t.kind === "gpt" ? t.table : null;
    const mib = (table?.sectorSize ?? 512) / 512;
    for (const p of disk.partitions ?? []) {
      const target = `${name} partition ${p.number || p.label || "?"}`;
      const found = table?.partitions.find((q) => (p.number ? q.number === p.number : q.label === p.label));
      if (p.shouldExist === false) {
        c.check("partition", target, found ? ["it exists, the config wants it removed"] : []);
        continue;
      }
      if (!found) {
        c.check("partition", target, [table ? "it does not exist" : "the disk has no GPT"]);
        continue;
      }
      const problems: string[] = [];
      if (p.label !== null && p.label !== undefined && found.label !== p.label) problems.push(`label is ${JSON.stringify(found.label)}, the config wants ${JSON.stringify(p.label)}`);
      if (p.typeGuid && canonicalizeGuid(p.typeGuid) !== found.typeGuid) problems.push(`type is ${found.typeGuid}, the config wants ${p.typeGuid.toUpperCase()}`);
      if (p.guid && canonicalizeGuid(p.guid) !== found.guid) problems.push(`GUID is ${found.guid}, the config wants ${p.guid.toUpperCase()}`);
      const sectorsPerMiB = 2048 / mib;
      if (p.startMiB && found.start !== p.startMiB * sectorsPerMiB) problems.push(`it starts at ${found.start / sectorsPerMiB} MiB, the config wants ${p.startMiB}`);
      if (p.sizeMiB && found.size !== p.sizeMiB * sectorsPerMiB) problems.push(`its size is ${found.size / sectorsPerMiB} MiB, the config wants ${p.sizeMiB}`);
      c.check("partition", target, problems);
    }
  }
  for (const raid of config.storage?.raid ?? []) {
    const path = formatRaidPath(raid.name ?? "");
    const r = await system.run("mdadm", ["--detail", "--export", deviceMap?.get(path) ?? path]);
    const level = /^MD_LEVEL=(.*)$/m.exec(r.stdout)?.[1]?.trim();
    c.check("raid", raid.name ?? "", r.code !== 0 ? ["the array is not there"] : raid.level && level !== raid.level && level !== `raid${raid.level}` ? [`level is ${level}, the config wants ${raid.level}`] : []);
  }
  for (const luks of config.storage?.luks ?? []) {
    const dev = await device(luks.device ?? "");
    if (!dev) {
      c.check("luks", luks.name ?? "", [`its device "${luks.device}" does not exist`]);
      continue;
    }
    const problems: string[] = [];
    if ((await system.run("cryptsetup", ["isLuks", dev])).code !== 0) problems.push(`"${luks.device}" holds no LUKS volume`);
    else if (luks.uuid) {
      const uuid = (await system.run("cryptsetup", ["luksUUID", dev])).stdout.trim();
      if (uuid.toLowerCase() !== luks.uuid.toLowerCase()) problems.push(`UUID is ${uuid}, the config wants ${luks.uuid}`);
    }
    c.check("luks", luks.name ?? "", problems);
  }
  for (const fs of (config.storage?.filesystems ?? []).filter(isBlockDeviceFilesystem)) {
    if (!fs.format) continue;
    const name = fs.device ?? "";
    const dev = await device(name);
    if (!dev) {
      c.check("filesystem", name, ["the device does not exist"]);
      continue;
    }
    const r = await system.run("blkid", ["-p", "-o", "export", dev]);
    const found = r.code === 0 ? parseBlkidExport(r.stdout) : { type: "", uuid: "", label: "" };
    const want = fs.format === "none" ? "" : fs.format;
    const problems: string[] = [];
    if (found.type !== want) problems.push(found.type ? `it holds ${found.type}, the config wants ${fs.format}` : `it holds no filesystem, the config wants ${fs.format}`);
    else {
      if (fs.label !== null && fs.label !== undefined && found.label !== fs.label) problems.push(`label is ${JSON.stringify(found.label)}, the config wants ${JSON.stringify(fs.label)}`);
      if (fs.uuid && canonicalizeFsUuid(found.type, found.uuid) !== canonicalizeFsUuid(want, fs.uuid)) problems.push(`UUID is ${found.uuid}, the config wants ${fs.uuid}`);
    }
    c.check("filesystem", name, problems);
  }
}

/** Compares a provisioned root (and the disks, with `devices`) with what a config declares. */
export async function verifyRoot(config: Config, rootDir: string, opts: VerifyOptions): Promise<VerifyReport> {
  const c = new Checker(Root.open(rootDir), opts);
  const s = config.storage;
  for (const d of s?.directories ?? []) checkDirectory(c, d);
  for (const f of s?.files ?? []) await checkFile(c, f);
  for (const l of s?.links ?? []) checkLink(c, l);
  for (const g of config.passwd?.groups ?? []) checkGroup(c, g);
  for (const u of config.passwd?.users ?? []) checkUser(c, u);
  const presets = (c.readFollowing(PRESET_PATH)?.toString("utf8") ?? "").split("\n").map((l) => l.trim()).filter((l) => /^(enable|disable)\s/.test(l));
  for (const u of config.systemd?.units ?? []) checkUnit(c, u, presets);
  if (opts.devices) await checkDisks(c, config);
  return c.report;
}

/** The report as text, one line per difference. */
export function formatVerifyReport(r: VerifyReport): string {
  const lines = [
    ...r.differences.map((d) => `${d.kind} ${d.target}: ${d.problem}`),
    ...r.unchecked.map((d) => `${d.kind} ${d.target}: not checked: ${d.problem}`),
  ];
  const summary =
    r.differences.length === 0 && r.unchecked.length === 0
      ? `${r.checked} checked, nothing differs from the config`
      : `${r.checked} checked, ${r.differences.length} differ${r.unchecked.length ? `, ${r.unchecked.length} could not be checked` : ""}`;
  return [...lines, summary].join("\n") + "\n";
}
