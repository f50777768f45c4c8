// A model of shadow's account tools (useradd, usermod, userdel, groupadd, groupmod, groupdel of
// Debian's shadow 4.13, as run with --root) over the account databases held in memory and a
// model of the root's tree. Each method is one tool run with the flags Ignition passes: it
// checks what the tool checks, changes the databases as the tool does, and lists the
// filesystem work the tool would do. At the end of each run, every database the tool would
// rewrite is "written": its previous text becomes the "-" backup, as the tools leave them.
//
// Nothing here touches the disk. Failures are ToolError with the tool's exit code, raised
// before anything of that run is recorded.
import { cId, fromBytes, isCControl, isCSpace } from "./cnum.ts";
import {
  AccountDb,
  DB_CREATE_MODE,
  DB_NAMES,
  DB_PATH,
  type DbName,
  type GroupEntry,
  type GshadowEntry,
  type PasswdEntry,
  type ShadowEntry,
  type SubidEntry,
} from "./db.ts";
import { dayOf, LoginDefs, parseUseraddDefaults, type UseraddDefaults } from "./defaults.ts";
import type { AccountOp, OwnerChange } from "./ops.ts";
import { RootTree, type NodeInfo, type TreeReader } from "./tree.ts";

/** A tool run that fails, with the exit code the tool would give. */
export class ToolError extends Error {
  constructor(
    readonly tool: "useradd" | "usermod" | "userdel" | "groupadd" | "groupmod" | "groupdel",
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = "ToolError";
  }
}

/** Owner and mode of a database file on disk. */
export interface FileAttrs {
  mode: number;
  uid: number;
  gid: number;
}

/** A database file as the tools left it: its text and attributes (null text: no such file). */
export interface DbFile extends FileAttrs {
  text: string | null;
}

/** What the model starts from: the root as read under the locks. */
export interface AccountInputs {
  /** Each database's bytes (as latin1 text) and attributes; text null when the file is absent. */
  files: Record<DbName, DbFile>;
  loginDefs: string | null;
  useraddDefaults: string | null;
  /** Seconds since the epoch (SOURCE_DATE_EPOCH honoured by the caller, as gettime() does). */
  now: number;
  tree: TreeReader;
}

/** sizeof(struct lastlog) and sizeof(struct faillog) on x86_64. */
export const LASTLOG_RECORD = 292;
export const FAILLOG_RECORD = 32;
const LASTLOG_FILE = "/var/log/lastlog";
const FAILLOG_FILE = "/var/log/faillog";
/** Where the mail spool is when login.defs names neither MAIL_DIR nor MAIL_FILE (Debian's build). */
const MAIL_SPOOL_DIR = "/var/mail";
/** utmp's ut_user and Debian's --with-group-name-max-length. */
const NAME_MAX = 32;
const NO_ID = 0xffffffff;
const ULONG = 1n << 64n;

/** useradd's flags as Ignition passes them. */
export interface UseraddArgs {
  name: string;
  home?: string;
  createHome: boolean;
  noUserGroup: boolean;
  system: boolean;
  noLogInit: boolean;
  password: string;
  uid?: number;
  comment?: string;
  primaryGroup?: string;
  groups?: readonly string[];
  shell?: string;
}

/** usermod's flags as Ignition passes them. */
export interface UsermodArgs {
  name: string;
  home?: string;
  password?: string;
  uid?: number;
  comment?: string;
  primaryGroup?: string;
  groups?: readonly string[];
  shell?: string;
}

/** groupadd's and groupmod's flags as Ignition passes them. */
export interface GroupArgs {
  name: string;
  gid?: number;
  password?: string;
  system?: boolean;
}

type Dbs = { [K in DbName]: AccountDb<K> };

/** VALID(): no ':' and no newline. */
const valid = (s: string): boolean => !/[:\n]/.test(s);
/** shadow's valid_field() as the put functions use it: no ':'/newline and no control character. */
const validField = (s: string): boolean => valid(s) && ![...s].some(isCControl);

/** is_valid_user_name / is_valid_group_name with Debian's relaxed rule. */
function isValidName(name: string): boolean {
  if (name.length > NAME_MAX || name === "") return false;
  if ("-~+".includes(name[0]!)) return false;
  return ![...name].some((c) => c === ":" || c === "," || isCSpace(c));
}

/** The account databases and the tree as the tool runs so far have left them. */
export class AccountModel {
  readonly dbs: Dbs;
  /** Each database as on disk now. */
  readonly disk: Record<DbName, DbFile>;
  /** The "-" backups the tool runs wrote (the text a database had before its last rewrite). */
  readonly backups: Partial<Record<DbName, DbFile>> = {};
  /** Databases rewritten by at least one run. */
  readonly rewritten = new Set<DbName>();
  /** Whether any run took the password-file lock (and so created /etc/.pwd.lock). */
  locked = false;
  readonly ops: AccountOp[] = [];
  readonly warnings: string[] = [];
  readonly defs: LoginDefs;
  private readonly useraddDefaultsText: string | null;
  readonly tree: RootTree;
  /** Day number of "now", as the last-change field stores it. */
  readonly today: number;

  constructor(inputs: AccountInputs) {
    this.disk = { ...inputs.files };
    const dbs = {} as Record<DbName, AccountDb<DbName>>;
    for (const n of DB_NAMES) dbs[n] = AccountDb.parse(n, inputs.files[n].text);
    this.dbs = dbs as Dbs;
    this.defs = LoginDefs.parse(inputs.loginDefs);
    this.useraddDefaultsText = inputs.useraddDefaults;
    this.tree = new RootTree(inputs.tree);
    const day = Math.floor(inputs.now / 86400);
    this.today = day === 0 ? -1 : day;
  }

  /** Whether a database file exists (the tools' access(F_OK) checks). */
  private present(n: DbName): boolean {
    return this.disk[n].text !== null;
  }

  // Lookups as NSS gives them inside the chroot (files): the databases as on disk.
  private getpwnam(name: string): PasswdEntry | undefined {
    return this.dbs.passwd.find(name);
  }
  private getpwuid(uid: number): PasswdEntry | undefined {
    return this.dbs.passwd.entries().find((p) => p.uid === uid);
  }
  private getgrnam(name: string): GroupEntry | undefined {
    return this.dbs.group.find(name);
  }
  private getgrgid(gid: number): GroupEntry | undefined {
    return this.dbs.group.entries().find((g) => g.gid === gid);
  }
  /** getgr_nam_gid(): a number is a gid, anything else a name. */
  private groupByNameOrGid(s: string): GroupEntry | undefined {
    const gid = cId(s);
    return gid !== null ? this.getgrgid(gid) : this.getgrnam(s);
  }

  /** The end of a tool run: every changed database is written, its old text kept as backup. */
  private close(): void {
    for (const n of DB_NAMES) {
      const db = this.dbs[n];
      if (!db.changed) continue;
      const cur = this.disk[n];
      if (cur.text !== null) {
        this.backups[n] = { text: cur.text, mode: cur.mode & 0o664, uid: cur.uid, gid: cur.gid };
        this.disk[n] = { text: db.text(), mode: cur.mode & 0o664, uid: cur.uid, gid: cur.gid };
      } else {
        // A new file: the db's default mode; Debian gives it the "shadow" group if there is one.
        const shadowGroup = this.disk.group.text !== null ? AccountDb.parse("group", this.disk.group.text).find("shadow") : undefined;
        this.disk[n] = { text: db.text(), mode: DB_CREATE_MODE[n] & 0o664, uid: 0, gid: shadowGroup?.gid ?? 0 };
      }
      db.markWritten();
      this.rewritten.add(n);
    }
  }

  /** Drops the changes of a failed run (the tools exit without writing). */
  private discard(): void {
    for (const n of DB_NAMES) {
      if (this.dbs[n].changed) (this.dbs as Record<DbName, AccountDb<DbName>>)[n] = AccountDb.parse(n, this.disk[n].text);
    }
  }

  /** Runs one tool: on failure nothing of the run stays. */
  private run<T>(fn: () => T): T {
    const ops = this.ops.length;
    const locked = this.locked;
    try {
      const r = fn();
      this.close();
      return r;
    } catch (e) {
      this.discard();
      this.ops.length = ops;
      this.locked = locked;
      throw e;
    }
  }

  /** find_new_uid/find_new_gid: the id the tools pick. */
  private findNewId(kind: "uid" | "gid", system: boolean, used: readonly number[], taken: (id: number) => boolean, preferred?: number): number | null {
    const X = kind === "uid" ? "UID" : "GID";
    const u32 = (v: bigint) => Number(BigInt.asUintN(32, v));
    let min: number;
    let max: number;
    let preferredMin: number;
    if (system) {
      preferredMin = 1;
      min = u32(this.defs.ulong(`SYS_${X}_MIN`, 101n));
      const defMax = u32(this.defs.ulong(`${X}_MIN`, 1000n) - 1n);
      max = u32(this.defs.ulong(`SYS_${X}_MAX`, BigInt(defMax)));
      if (max < min) return null;
      if (min === 0) min = 1;
    } else {
      min = u32(this.defs.ulong(`${X}_MIN`, 1000n));
      max = u32(this.defs.ulong(`${X}_MAX`, 60000n));
      preferredMin = min;
      if (max < min) return null;
    }
    if (preferred !== undefined && preferred >= preferredMin && preferred <= max && !taken(preferred)) return preferred;
    const inRange = new Set(used.filter((id) => id >= min && id <= max));
    let highest = min;
    let lowest = max;
    for (const id of used) {
      if (id <= lowest && id >= min) lowest = id - 1;
      if (id >= highest && id <= max) highest = id + 1;
    }
    const free = (id: number) => !inRange.has(id) && !taken(id);
    if (system) {
      if (lowest < min) lowest = max;
      for (let id = lowest; id >= min; id--) if (free(id)) return id;
      if (lowest !== max) for (let id = max; id >= min; id--) if (free(id)) return id;
    } else {
      if (highest > max) highest = min;
      for (let id = highest; id <= max; id++) if (free(id)) return id;
      if (highest !== min) for (let id = min; id <= max; id++) if (free(id)) return id;
    }
    return null;
  }

  private newUid(system: boolean): number | null {
    const ids = this.dbs.passwd.entries().map((p) => p.uid);
    return this.findNewId("uid", system, ids, (id) => this.getpwuid(id) !== undefined);
  }

  private newGid(system: boolean, preferred?: number): number | null {
    const ids = this.dbs.group.entries().map((g) => g.gid);
    return this.findNewId("gid", system, ids, (id) => this.getgrgid(id) !== undefined, preferred);
  }

  /** find_new_sub_uids/gids with find_free_range(): sorts the database, then the lowest hole. */
  private newSubRange(kind: "subuid" | "subgid"): { start: bigint; count: bigint } | null {
    const X = kind === "subuid" ? "UID" : "GID";
    const min = this.defs.ulong(`SUB_${X}_MIN`, 100000n);
    const max = this.defs.ulong(`SUB_${X}_MAX`, 600100000n);
    const count = this.defs.ulong(`SUB_${X}_COUNT`, 65536n);
    if (min > max || count >= max || (min + count - 1n) % ULONG > max) return null;
    const db = this.dbs[kind];
    db.sort((a, b) => (a.start !== b.start ? (a.start < b.start ? -1 : 1) : a.count !== b.count ? (a.count < b.count ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (count === 0n) return null;
    let low = min;
    for (const r of db.entries()) {
      const first = r.start;
      const last = (first + r.count - 1n + ULONG) % ULONG;
      let high = first;
      if (high > max + 1n) high = max + 1n;
      if (high > low && high - low >= count) return { start: low, count };
      if (low < (last + 1n) % ULONG) low = (last + 1n) % ULONG;
      if (low > max) return null;
    }
    return max - low + 1n >= count ? { start: low, count } : null;
  }

  /** remove_range(owner, 0, ULONG_MAX) as userdel does it. */
  private removeSubRanges(kind: "subuid" | "subgid", owner: string): void {
    const db = this.dbs[kind];
    const start = 0n;
    const end = ULONG - 2n;
    for (const r of [...db.entries()]) {
      if (r.name !== owner) continue;
      const first = r.start;
      const last = (first + r.count - 1n + ULONG) % ULONG;
      if (end < first || start > last) continue;
      if (end >= last) db.removeEntry(r);
      else {
        r.start = end + 1n;
        r.count = last - r.start + 1n;
        db.touch(r);
      }
    }
  }

  /** lckpwdf and the .lock files of one run. */
  private lock(): void {
    this.locked = true;
  }

  /** Adds a filesystem operation and its effect on the modelled tree. */
  private op(o: AccountOp): void {
    this.ops.push(o);
  }

  // ---------------------------------------------------------------- groups

  /** groupadd [--gid N] [--password P] [--system] NAME */
  groupadd(a: GroupArgs): void {
    this.run(() => {
      const T = "groupadd";
      if (!isValidName(a.name)) throw new ToolError(T, 3, `"${fromBytes(a.name)}" is not a valid group name`);
      if (this.getgrnam(a.name)) throw new ToolError(T, 9, `group "${fromBytes(a.name)}" already exists`);
      if (a.gid !== undefined && (a.gid >= NO_ID || !Number.isInteger(a.gid) || a.gid < 0)) throw new ToolError(T, 3, `invalid group ID "${a.gid}"`);
      if (a.gid !== undefined && this.getgrgid(a.gid)) throw new ToolError(T, 4, `GID ${a.gid} already exists`);
      if (a.password !== undefined && !validField(a.password)) throw new ToolError(T, 10, "the password hash contains a colon, a newline or a control character");
      const shadowGrp = this.present("gshadow");
      this.lock();
      const gid = a.gid ?? this.newGid(a.system === true);
      if (gid === null) throw new ToolError(T, 4, "no GID is free in the configured range");
      const pflg = a.password !== undefined;
      this.dbs.group.update({ name: a.name, passwd: pflg && !shadowGrp ? a.password! : "x", gid, members: [] });
      if (shadowGrp) this.dbs.gshadow.update({ name: a.name, passwd: pflg ? a.password! : "!", admins: [], members: [] });
    });
  }

  /** groupmod [--gid N] [--password P] NAME */
  groupmod(a: GroupArgs): void {
    this.run(() => {
      const T = "groupmod";
      const grp = this.getgrnam(a.name);
      if (!grp) throw new ToolError(T, 6, `group "${fromBytes(a.name)}" does not exist`);
      if (a.gid !== undefined && (a.gid >= NO_ID || a.gid < 0)) throw new ToolError(T, 3, `invalid group ID "${a.gid}"`);
      if (a.password !== undefined && !validField(a.password)) throw new ToolError(T, 10, "the password hash contains a colon, a newline or a control character");
      const gflg = a.gid !== undefined && a.gid !== grp.gid;
      if (gflg && this.getgrgid(a.gid!)) throw new ToolError(T, 4, `GID ${a.gid} already exists`);
      const pflg = a.password !== undefined;
      const shadowGrp = this.present("gshadow");
      this.lock();
      const old = this.dbs.group.find(a.name)!;
      const ngrp: GroupEntry = { ...old, members: [...old.members] };
      if (gflg) ngrp.gid = a.gid!;
      if (pflg && (!shadowGrp || ngrp.passwd !== "x")) ngrp.passwd = a.password!;
      let nsgrp: GshadowEntry | undefined;
      if (shadowGrp && pflg) {
        const os = this.dbs.gshadow.find(a.name);
        if (os) nsgrp = { ...os, admins: [...os.admins], members: [...os.members], passwd: a.password! };
        else if (ngrp.passwd === "x") nsgrp = { name: ngrp.name, passwd: a.password!, admins: [], members: [...ngrp.members] };
      }
      if (gflg) {
        for (const p of this.dbs.passwd.entries()) {
          if (p.gid !== old.gid) continue;
          const l = this.dbs.passwd.find(p.name)!;
          this.dbs.passwd.update({ ...l, gid: a.gid! });
        }
      }
      this.dbs.group.update(ngrp);
      if (nsgrp) this.dbs.gshadow.update(nsgrp);
    });
  }

  /** groupdel NAME */
  groupdel(a: { name: string }): void {
    this.run(() => {
      const T = "groupdel";
      const grp = this.getgrnam(a.name);
      if (!grp) throw new ToolError(T, 6, `group "${fromBytes(a.name)}" does not exist`);
      const user = this.dbs.passwd.entries().find((p) => p.gid === grp.gid);
      if (user) throw new ToolError(T, 8, `cannot remove the primary group of user "${fromBytes(user.name)}"`);
      this.lock();
      this.dbs.group.remove(a.name);
      if (this.present("gshadow") && this.dbs.gshadow.find(a.name)) this.dbs.gshadow.remove(a.name);
    });
  }

  // ---------------------------------------------------------------- users

  private useraddDefaults(): UseraddDefaults {
    return parseUseraddDefaults(this.useraddDefaultsText);
  }

  /** Resolves -G's list to group names (get_groups()); a missing group fails with 6. */
  private groupNames(tool: "useradd" | "usermod", list: readonly string[]): string[] {
    const names: string[] = [];
    for (const item of list.join(",").split(",")) {
      const g = this.groupByNameOrGid(item);
      if (!g) throw new ToolError(tool, 6, `group "${fromBytes(item)}" does not exist`);
      names.push(g.name);
    }
    return names;
  }

  /** -g's group (a name or a gid) as its gid; a missing group fails with 6. */
  private primaryGid(tool: "useradd" | "usermod", group: string | undefined): number | undefined {
    if (group === undefined) return undefined;
    const g = this.groupByNameOrGid(group);
    if (!g) throw new ToolError(tool, 6, `group "${fromBytes(group)}" does not exist`);
    return g.gid;
  }

  /** Checks -c, -d, -s, -p and -u as useradd does. */
  private checkFields(tool: "useradd" | "usermod", a: { comment?: string; home?: string; shell?: string; password?: string; uid?: number }): void {
    if (a.uid !== undefined && (a.uid < 0 || a.uid >= NO_ID || !Number.isInteger(a.uid))) throw new ToolError(tool, 3, `invalid user ID "${a.uid}"`);
    if (a.comment !== undefined && !validField(a.comment)) throw new ToolError(tool, 3, `invalid comment "${fromBytes(a.comment)}"`);
    if (a.home !== undefined && (!validField(a.home) || !a.home.startsWith("/"))) throw new ToolError(tool, 3, `invalid home directory "${fromBytes(a.home)}"`);
    if (a.shell !== undefined && (!validField(a.shell) || (a.shell !== "" && !a.shell.startsWith("/") && !a.shell.startsWith("*")))) {
      throw new ToolError(tool, 3, `invalid shell "${fromBytes(a.shell)}"`);
    }
    if (a.password !== undefined && !validField(a.password)) throw new ToolError(tool, 3, "invalid password hash: it contains a colon, a newline or a control character");
  }

  /** useradd with Ignition's flags. */
  useradd(a: UseraddArgs): void {
    this.run(() => this.useraddRun(a));
  }

  private useraddRun(a: UseraddArgs): void {
    const T = "useradd";
    const defs = this.defs;
    const d = this.useraddDefaults();
    this.warnings.push(...d.warnings);
    let defGroup = 100;
    if (d.group !== undefined) {
      const g = this.groupByNameOrGid(d.group);
      if (g) defGroup = g.gid;
      else this.warnings.push(`useradd: group "${fromBytes(d.group)}" of GROUP= in /etc/default/useradd does not exist; ignored`);
    }
    this.checkFields(T, a);
    const gid = this.primaryGid(T, a.primaryGroup);
    const groups = a.groups && a.groups.length > 0 ? this.groupNames(T, a.groups) : [];
    const Uflg = gid === undefined && !a.noUserGroup && defs.bool("USERGROUPS_ENAB");
    if (!isValidName(a.name)) throw new ToolError(T, 3, `invalid user name "${fromBytes(a.name)}"`);
    const home = a.home ?? `${d.home}/${a.name}`;
    const expire = dayOf(d.expire);
    if (expire === null) throw new ToolError(T, 3, `EXPIRE=${fromBytes(d.expire)} in /etc/default/useradd is not a date nexus-init reads (a day number or YYYY-MM-DD)`);
    const shell = a.shell ?? d.shell;
    const logInit = !a.noLogInit && d.logInit !== "no";
    const mflg = a.createHome;

    const uidMin = BigInt.asUintN(32, defs.ulong("UID_MIN", 1000n));
    const uidMax = BigInt.asUintN(32, defs.ulong("UID_MAX", 60000n));
    const inSubRange = a.uid === undefined || a.uid === 0 || (BigInt(a.uid) <= uidMax && BigInt(a.uid) >= uidMin);
    const subUidCount = defs.ulong("SUB_UID_COUNT", 65536n);
    const subGidCount = defs.ulong("SUB_GID_COUNT", 65536n);
    const isSubUid = subUidCount > 0n && this.present("subuid") && !a.system && inSubRange;
    const isSubGid = subGidCount > 0n && this.present("subgid") && !a.system && inSubRange;

    if (this.getpwnam(a.name)) throw new ToolError(T, 9, `user "${fromBytes(a.name)}" already exists`);
    if (Uflg && this.getgrnam(a.name)) throw new ToolError(T, 9, `group "${fromBytes(a.name)}" exists - if you want to add this user to that group, use -g`);
    this.lock();
    let uid: number;
    if (a.uid === undefined) {
      const n = this.newUid(a.system);
      if (n === null) throw new ToolError(T, 4, "no UID is free in the configured range");
      uid = n;
    } else {
      if (this.getpwuid(a.uid)) throw new ToolError(T, 4, `UID ${a.uid} is not unique`);
      uid = a.uid;
    }
    const shadowPwd = this.present("shadow");
    const shadowGrp = this.present("gshadow");
    let userGid = gid ?? defGroup;
    if (Uflg) {
      const g = this.newGid(a.system, uid);
      if (g === null) throw new ToolError(T, 4, "no GID is free in the configured range");
      userGid = g;
      this.dbs.group.update({ name: a.name, passwd: shadowGrp ? "x" : "!", gid: userGid, members: [] });
      if (shadowGrp) this.dbs.gshadow.update({ name: a.name, passwd: "!", admins: [], members: [] });
    }
    const subuid = isSubUid ? this.newSubRange("subuid") : null;
    if (isSubUid && !subuid) throw new ToolError(T, 16, "no subordinate UID range is free");
    const subgid = isSubGid ? this.newSubRange("subgid") : null;
    if (isSubGid && !subgid) throw new ToolError(T, 18, "no subordinate GID range is free");

    // usr_update()
    if (logInit && !this.getpwuid(uid)) {
      this.resetLoginRecord(FAILLOG_FILE, FAILLOG_RECORD, uid, a.name);
      const lastlogMax = defs.ulong("LASTLOG_UID_MAX", 0xffffffffn);
      if (BigInt(uid) <= BigInt.asUintN(32, lastlogMax)) this.resetLoginRecord(LASTLOG_FILE, LASTLOG_RECORD, uid, a.name);
    }
    this.dbs.passwd.update({ name: a.name, passwd: shadowPwd ? "x" : a.password, uid, gid: userGid, gecos: a.comment ?? "", home, shell });
    if (shadowPwd) {
      const age = (k: string) => (a.system ? -1 : scaleAge(defs.num(k, -1)));
      this.dbs.shadow.update({
        name: a.name,
        passwd: a.password,
        lastChange: this.today,
        min: age("PASS_MIN_DAYS"),
        max: age("PASS_MAX_DAYS"),
        warn: age("PASS_WARN_AGE"),
        inactive: a.system ? -1 : scaleAge(d.inactive),
        expire: a.system ? -1 : scaleAge(expire),
        flag: null,
      });
    }
    if (subuid) this.dbs.subuid.append({ name: a.name, start: subuid.start, count: subuid.count });
    if (subgid) this.dbs.subgid.append({ name: a.name, start: subgid.start, count: subgid.count });
    if (groups.length > 0 || Uflg) {
      for (const g of this.dbs.group.entries()) {
        if (!groups.includes(g.name)) continue;
        if (g.members.includes(a.name)) {
          this.dbs.group.update({ ...g });
          continue;
        }
        this.dbs.group.update({ ...g, members: [...g.members, a.name] });
      }
      if (shadowGrp) {
        for (const s of this.dbs.gshadow.entries()) {
          if (!this.dbs.group.find(s.name) || !groups.includes(s.name)) continue;
          this.dbs.gshadow.update({ ...s, admins: [...s.admins], members: s.members.includes(a.name) ? [...s.members] : [...s.members, a.name] });
        }
      }
    }
    // After close_files(): the home, then the mailbox.
    if (mflg) this.createHome(home, uid, userGid, d.skel, a.name);
    if (!a.system) this.createMailbox(d.createMailSpool, a.name, uid, userGid);
  }

  /** faillog_reset()/lastlog_reset(): zeroes the uid's record when the file already reaches it. */
  private resetLoginRecord(path: string, size: number, uid: number, user: string): void {
    const st = this.tree.stat(path);
    if (!st || st.size <= size * uid) return;
    this.op({ op: "login-record", path, recordSize: size, uid, user });
  }

  /** create_home() and the skeleton copy. */
  private createHome(home: string, uid: number, gid: number, skel: string, user: string): void {
    if (this.tree.exists(home)) {
      this.warnings.push(`useradd: the home directory ${fromBytes(home)} already exists; nothing is copied from ${fromBytes(skel)} into it`);
      return;
    }
    const parts = home.split("/").filter((p) => p !== "");
    let path = "";
    for (const c of parts) {
      path = home.startsWith("/") || path !== "" ? `${path}/${c}` : c;
      if (this.tree.exists(path)) continue;
      if (this.tree.lstat(path) || !this.tree.where(path, false)) throw new ToolError("useradd", 12, `cannot create directory ${fromBytes(path)}`);
      this.tree.create(path, { kind: "dir", mode: 0o755, uid: 0, gid: 0, size: 0 });
      this.op({ op: "mkdir", path, mode: 0o755, uid: 0, gid: 0, user });
    }
    const mode = this.defs.num("HOME_MODE", 0o777 & ~this.defs.num("UMASK", 0o22)) & 0o7777;
    // The last mkdir above made the home with 0755 root:root; chown then chmod make it the user's.
    const last = this.ops[this.ops.length - 1];
    if (last?.op === "mkdir") {
      last.mode = mode;
      last.uid = uid;
      last.gid = gid;
    }
    this.tree.chown(home, uid, gid);
    this.tree.chmod(home, mode);
    const skelSt = this.tree.lstat(skel);
    if (skelSt?.kind === "dir") this.op({ op: "copy-skel", from: skel, to: home, uid, gid, user });
  }

  /** create_mail(): an empty mailbox when CREATE_MAIL_SPOOL=yes. */
  private createMailbox(createMailSpool: string, name: string, uid: number, userGid: number): void {
    if (createMailSpool.toLowerCase() !== "yes") return;
    const spool = this.mailDir();
    if (spool === null) return;
    const path = `${spool}/${name}`;
    if (this.tree.lstat(path) || this.tree.stat(spool)?.kind !== "dir") {
      this.warnings.push(`useradd: cannot create mailbox ${fromBytes(path)}`);
      return;
    }
    const mail = this.getgrnam("mail");
    const st = { kind: "file" as const, mode: mail ? 0o660 : 0o600, uid, gid: mail ? mail.gid : userGid, size: 0 };
    this.tree.create(path, st);
    this.op({ op: "create-mailbox", path, mode: st.mode, uid, gid: st.gid, user: name });
  }

  /** MAIL_DIR, or the compiled-in spool unless MAIL_FILE is set; null: no spool. */
  private mailDir(): string | null {
    const dir = this.defs.str("MAIL_DIR");
    if (dir !== undefined) return dir;
    return this.defs.str("MAIL_FILE") === undefined ? MAIL_SPOOL_DIR : null;
  }

  /** usermod with Ignition's flags; false when the tool has nothing to change ("no changes"). */
  usermod(a: UsermodArgs): boolean {
    return this.run(() => this.usermodRun(a));
  }

  private usermodRun(a: UsermodArgs): boolean {
    const T = "usermod";
    this.checkFields(T, a);
    const newGid = this.primaryGid(T, a.primaryGroup);
    const Gflg = a.groups !== undefined && a.groups.length > 0;
    const groups = Gflg ? this.groupNames(T, a.groups!) : [];
    const pw = this.getpwnam(a.name);
    if (!pw) throw new ToolError(T, 6, `user "${fromBytes(a.name)}" does not exist`);
    const uflg = a.uid !== undefined && a.uid !== pw.uid;
    const gflg = newGid !== undefined && newGid !== pw.gid;
    const sflg = a.shell !== undefined && a.shell !== pw.shell;
    const dflg = a.home !== undefined && a.home !== pw.home;
    const mflg = dflg;
    const cflg = a.comment !== undefined && a.comment !== pw.gecos;
    const pflg = a.password !== undefined;
    if (!(uflg || sflg || pflg || mflg || Gflg || gflg || dflg || cflg)) return false;
    if (uflg && this.getpwuid(a.uid!)) throw new ToolError(T, 4, `UID ${a.uid} already exists`);
    const shadowPwd = this.present("shadow");
    const shadowGrp = this.present("gshadow");
    this.lock();
    const userId = pw.uid;
    const userGid = pw.gid;
    const oldHome = pw.home;
    const newId = uflg ? a.uid! : userId;
    let newHome = a.home;
    // usr_update()
    const local = this.dbs.passwd.find(a.name)!;
    const pwent: PasswdEntry = { ...local };
    if (!shadowPwd || pwent.passwd !== "x") {
      if (pflg) pwent.passwd = a.password!;
    }
    if (uflg) pwent.uid = newId;
    if (gflg) pwent.gid = newGid!;
    if (cflg) pwent.gecos = a.comment!;
    if (dflg) {
      if (newHome!.length > 1 && newHome!.endsWith("/")) newHome = newHome!.slice(0, -1);
      pwent.home = newHome!;
    }
    if (sflg) pwent.shell = a.shell!;
    let spent: ShadowEntry | undefined;
    if (shadowPwd) {
      const sp = this.dbs.shadow.find(a.name);
      if (sp) {
        spent = { ...sp };
        if (pflg) {
          spent.passwd = a.password!;
          spent.lastChange = this.today;
        }
      } else if (pflg && pwent.passwd === "x") {
        spent = {
          name: a.name,
          passwd: a.password!,
          lastChange: this.today,
          min: this.defs.num("PASS_MIN_DAYS", -1),
          max: this.defs.num("PASS_MAX_DAYS", -1),
          warn: this.defs.num("PASS_WARN_AGE", -1),
          inactive: -1,
          expire: -1,
          flag: null,
        };
      }
    }
    if (uflg || gflg || cflg || dflg || sflg || pflg) this.dbs.passwd.update(pwent);
    if (spent && pflg) this.dbs.shadow.update(spent);
    if (Gflg) {
      for (const g of this.dbs.group.entries()) {
        const was = g.members.includes(a.name);
        const is = groups.includes(g.name);
        if (!was && !is) continue;
        if (was && !is) this.dbs.group.update({ ...g, members: g.members.filter((m) => m !== a.name) });
        else if (!was && is) this.dbs.group.update({ ...g, members: [...g.members, a.name] });
      }
      if (shadowGrp) {
        for (const s of this.dbs.gshadow.entries()) {
          const was = s.members.includes(a.name);
          const is = groups.includes(s.name);
          if (!was && !is) continue;
          if (was && !is) this.dbs.gshadow.update({ ...s, admins: [...s.admins], members: s.members.filter((m) => m !== a.name) });
          else if (!was && is) this.dbs.gshadow.update({ ...s, admins: [...s.admins], members: [...s.members, a.name] });
        }
      }
    }
    // After close_files(): the home, the mailbox, the login records.
    const owners: OwnerChange = { oldUid: userId, newUid: uflg ? newId : -1, oldGid: userGid, newGid: gflg ? newGid! : -1 };
    if (mflg) this.moveHome(oldHome, newHome!, uflg || gflg ? owners : null, a.name);
    if (uflg) {
      const spool = this.mailDir();
      if (spool !== null) {
        const box = `${spool}/${a.name}`;
        const st = this.tree.stat(box);
        if (st && st.uid === userId) {
          this.tree.chown(this.tree.where(box) ?? box, newId, st.gid);
          this.op({ op: "chown", path: box, uid: newId, user: a.name });
        } else if (st) this.warnings.push(`usermod: ${fromBytes(box)} is not owned by ${fromBytes(a.name)}; left alone`);
      }
      const lastlogMax = BigInt.asUintN(32, this.defs.ulong("LASTLOG_UID_MAX", 0xffffffffn));
      if (BigInt(newId) <= lastlogMax) this.moveLoginRecord(LASTLOG_FILE, LASTLOG_RECORD, userId, newId, a.name);
      this.moveLoginRecord(FAILLOG_FILE, FAILLOG_RECORD, userId, newId, a.name);
    }
    if (!mflg && (uflg || gflg)) {
      const path = dflg ? newHome! : oldHome;
      const st = this.tree.stat(path);
      if (st && ((uflg && st.uid === newId) || st.uid === userId)) {
        if (st.kind !== "dir" || this.tree.lstat(path)?.kind !== "dir") throw new ToolError(T, 12, `cannot change the owners under the home directory ${fromBytes(path)}`);
        this.tree.chownTree(path, owners);
        this.op({ op: "chown-tree", path, owners, user: a.name });
      }
    }
    return true;
  }

  /** update_lastlog()/update_faillog(): copies the old uid's record to the new uid, or zeroes the new one. */
  private moveLoginRecord(path: string, size: number, from: number, to: number, user: string): void {
    const st = this.tree.stat(path);
    if (!st) return;
    if (st.size >= size * (from + 1)) {
      this.op({ op: "login-record", path, recordSize: size, uid: to, from, user });
      if (st.size < size * (to + 1)) this.tree.setSize(path, size * (to + 1));
    } else if (st.size >= size * (to + 1)) {
      this.op({ op: "login-record", path, recordSize: size, uid: to, user });
    }
  }

  /** move_home(). */
  private moveHome(from: string, to: string, owners: OwnerChange | null, user: string): void {
    const T = "usermod";
    if (this.tree.exists(to)) throw new ToolError(T, 12, `directory ${fromBytes(to)} exists`);
    const st = this.tree.stat(from);
    if (!st) {
      this.warnings.push(`usermod: the previous home directory (${fromBytes(from)}) does not exist or is inaccessible; move cannot be completed`);
      return;
    }
    if (st.kind !== "dir") throw new ToolError(T, 12, `the previous home directory (${fromBytes(from)}) was not a directory; it is not removed and no home directories are created`);
    // rename() moves a symlink itself; chown_tree() then refuses it and usermod fails.
    if (this.tree.lstat(from)?.kind !== "dir") throw new ToolError(T, 12, `cannot move home directory ${fromBytes(from)}: it is a symbolic link`);
    const src = this.tree.where(from, false);
    const dstParent = this.tree.stat(to.replace(/\/[^/]*\/*$/, "") || "/");
    if (!src || !dstParent || dstParent.kind !== "dir") throw new ToolError(T, 12, `cannot rename directory ${fromBytes(from)} to ${fromBytes(to)}`);
    this.tree.rename(src, to);
    if (owners) this.tree.chownTree(to, owners);
    this.op({ op: "move-home", from, to, owners, user });
  }

  /** userdel --remove; warnings (not failures) when the home or mailbox cannot be removed. */
  userdel(a: { name: string }): void {
    this.run(() => {
      const T = "userdel";
      const pw = this.dbs.passwd.find(a.name);
      if (!pw) throw new ToolError(T, 6, `user "${fromBytes(a.name)}" does not exist`);
      this.lock();
      const { uid, gid, home } = pw;
      const diskPasswd = this.dbs.passwd.entries().map((p) => ({ ...p }));
      this.dbs.passwd.remove(a.name);
      if (this.present("shadow") && this.dbs.shadow.find(a.name)) this.dbs.shadow.remove(a.name);
      if (this.present("subuid")) this.removeSubRanges("subuid", a.name);
      if (this.present("subgid")) this.removeSubRanges("subgid", a.name);
      for (const g of this.dbs.group.entries()) {
        if (g.members.includes(a.name)) this.dbs.group.update({ ...g, members: g.members.filter((m) => m !== a.name) });
      }
      if (this.defs.bool("USERGROUPS_ENAB")) {
        const grp = this.dbs.group.find(a.name);
        if (grp && grp.gid === gid && grp.members.length === 0) {
          const other = diskPasswd.find((p) => p.name !== a.name && p.gid === grp.gid);
          if (other) this.warnings.push(`userdel: group ${fromBytes(grp.name)} is the primary group of another user and is not removed`);
          else {
            this.dbs.group.remove(a.name);
            if (this.dbs.gshadow.find(a.name)) this.dbs.gshadow.remove(a.name);
          }
        } else if (grp && grp.gid !== gid) this.warnings.push(`userdel: group ${fromBytes(grp.name)} not removed because it is not the primary group of user ${fromBytes(a.name)}`);
        else if (grp) this.warnings.push(`userdel: group ${fromBytes(grp.name)} not removed because it has other members`);
      }
      if (this.present("gshadow")) {
        for (const s of this.dbs.gshadow.entries()) {
          const m = s.members.includes(a.name);
          const ad = s.admins.includes(a.name);
          if (!m && !ad) continue;
          this.dbs.gshadow.update({ ...s, members: s.members.filter((x) => x !== a.name), admins: s.admins.filter((x) => x !== a.name) });
        }
      }
      // remove_mailbox()
      const spool = this.mailDir();
      if (spool !== null) {
        const box = `${spool}/${a.name}`;
        const st = this.tree.stat(box);
        if (st && st.uid !== uid) this.warnings.push(`userdel: ${fromBytes(box)} not owned by ${fromBytes(a.name)}, not removing`);
        else if (st) {
          this.tree.remove(box);
          this.op({ op: "remove-mailbox", path: box, user: a.name });
        }
      }
      const hst = this.tree.stat(home);
      if (hst && hst.uid !== uid) this.warnings.push(`userdel: ${fromBytes(home)} not owned by ${fromBytes(a.name)}, not removing`);
      else if (hst && this.tree.lstat(home)?.kind !== "dir") this.warnings.push(`userdel: error removing directory ${fromBytes(home)}`);
      else if (hst) {
        this.tree.remove(home);
        this.op({ op: "remove-home", path: home, user: a.name });
      }
    });
  }

  /** Records an operation Ignition makes itself (keys, notated directories) and its effect. */
  addIgnitionOp(o: AccountOp & ({ op: "adopt" } | { op: "write-keys" })): void {
    if (o.op === "adopt") {
      this.tree.chown(o.path, o.uid, o.gid);
      this.tree.chmod(o.path, 0o700);
    } else {
      // Missing parents of the keys file are made as the user, 0700 (as_user.MkdirAll).
      const parts = o.path.split("/").filter((p) => p !== "");
      let dir = "";
      for (const c of parts.slice(0, -1)) {
        dir += "/" + c;
        if (!this.tree.exists(dir) && !this.tree.lstat(dir) && this.tree.where(dir, false)) this.tree.create(dir, { kind: "dir", mode: 0o700, uid: o.uid, gid: o.gid, size: 0 });
      }
      if (this.tree.where(o.path, false) && !this.tree.lstat(o.path)) this.tree.create(o.path, { kind: "file", mode: 0o600, uid: o.uid, gid: o.gid, size: 0 });
    }
    this.ops.push(o);
  }

  /** The user entry of a name now (for keys and notated directories). */
  user(name: string): PasswdEntry | undefined {
    return this.getpwnam(name);
  }

  /** Which of an op's paths the tree model knows as a directory (used by callers' checks). */
  lstat(path: string): NodeInfo | null {
    return this.tree.lstat(path);
  }
}

/** scale_age(): ages are stored in days as given; non-positive values unchanged. */
const scaleAge = (x: number): number => x;

/** Subordinate-id entry type, re-exported for callers building inputs. */
export type { SubidEntry };

/** DB_PATH re-exported for the plan. */
export { DB_PATH };
