// The target root's account databases (/etc/passwd, shadow, group, gshadow, subuid, subgid),
// read and written as shadow's tools do (lib/commonio.c): every line is kept as it was unless
// its entry changes; a changed entry is written in the format of glibc's putpwent/putspent/
// putgrent and shadow's putsgent; a new entry goes before the first NIS line ("+"/"-") or at the
// end. Text is handled as bytes (one latin1 character per byte), so any encoding survives.
//
// A line the tools' parsers reject is an error naming the file and line (the tools keep such a
// line silently); blank lines, "#" comments and NIS lines are kept as they are.
import { cId, cULong, glibcShadowNumber, isCSpace, toCInt } from "./cnum.ts";

/** The six databases, in the order the tools write them. */
export const DB_NAMES = ["passwd", "shadow", "group", "gshadow", "subuid", "subgid"] as const;
export type DbName = (typeof DB_NAMES)[number];

/** Where each database lives in the root. */
export const DB_PATH: Record<DbName, string> = {
  passwd: "/etc/passwd",
  shadow: "/etc/shadow",
  group: "/etc/group",
  gshadow: "/etc/gshadow",
  subuid: "/etc/subuid",
  subgid: "/etc/subgid",
};

/** Mode a database gets when a tool creates it (shadow's db defaults, Debian's 0440 for the shadow files). */
export const DB_CREATE_MODE: Record<DbName, number> = { passwd: 0o644, shadow: 0o440, group: 0o644, gshadow: 0o440, subuid: 0o644, subgid: 0o644 };

/** One /etc/passwd entry. */
export interface PasswdEntry {
  name: string;
  passwd: string;
  uid: number;
  gid: number;
  gecos: string;
  home: string;
  shell: string;
}

/** One /etc/group entry. */
export interface GroupEntry {
  name: string;
  passwd: string;
  gid: number;
  members: string[];
}

/** One /etc/shadow entry; -1 is an empty field. */
export interface ShadowEntry {
  name: string;
  passwd: string;
  lastChange: number;
  min: number;
  max: number;
  warn: number;
  inactive: number;
  expire: number;
  /** The reserved flag field; null when empty. */
  flag: number | null;
}

/** One /etc/gshadow entry. */
export interface GshadowEntry {
  name: string;
  passwd: string;
  admins: string[];
  members: string[];
}

/** One /etc/subuid or /etc/subgid range. */
export interface SubidEntry {
  name: string;
  start: bigint;
  count: bigint;
}

export interface EntryOf {
  passwd: PasswdEntry;
  shadow: ShadowEntry;
  group: GroupEntry;
  gshadow: GshadowEntry;
  subuid: SubidEntry;
  subgid: SubidEntry;
}

/** A line of an existing database that the tools' parser rejects. */
export class AccountFileError extends Error {
  constructor(
    readonly path: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`Cannot read ${path}: line ${line} is malformed (${reason})`);
    this.name = "AccountFileError";
  }
}

/** An entry the tools refuse to change because its name appears more than once. */
export class DuplicateEntryError extends Error {
  constructor(
    readonly path: string,
    readonly entryName: string,
  ) {
    super(`Cannot change "${entryName}" in ${path}: the file has more than one entry of that name (fix it with pwck or grpck)`);
    this.name = "DuplicateEntryError";
  }
}

/** One line: its text as read (unchanged lines are written back as they were), its entry if any. */
export interface DbLine<T> {
  text: string;
  entry: T | null;
  changed: boolean;
}

/** Splits file text into lines as fgets does; group files join "\\\n" continuations (fgetsx). */
function splitLines(text: string, continuations: boolean): string[] {
  if (text === "") return [];
  const raw = text.endsWith("\n") ? text.slice(0, -1).split("\n") : text.split("\n");
  if (!continuations) return raw;
  const out: string[] = [];
  let pending: string | null = null;
  for (const l of raw) {
    const joined: string = pending === null ? l : pending + l;
    const bs = joined.lastIndexOf("\\");
    if (bs >= 0 && bs === joined.length - 1) {
      pending = joined.slice(0, bs);
      continue;
    }
    pending = null;
    out.push(joined);
  }
  if (pending !== null) out.push(pending + "\\");
  return out;
}

/** Colon-separated fields as shadow's parsers cut them (at most `max`, the rest stays in the last). */
function fields(line: string, max: number): { f: string[]; rest: boolean } {
  const f: string[] = [];
  let start = 0;
  while (f.length < max) {
    const i = line.indexOf(":", start);
    if (i < 0) {
      f.push(line.slice(start));
      return { f, rest: false };
    }
    f.push(line.slice(start, i));
    start = i + 1;
  }
  return { f, rest: true };
}

/** A comma list as shadow splits it: empty items kept, a trailing comma dropped. */
export function splitList(s: string): string[] {
  if (s === "") return [];
  const parts = s.split(",");
  if (parts[parts.length - 1] === "") parts.pop();
  return parts;
}

type Parser<T> = (line: string) => T | string;

const parsePasswd: Parser<PasswdEntry> = (line) => {
  const { f, rest } = fields(line, 7);
  if (rest || f.length !== 7) return "expected 7 colon-separated fields";
  const uid = cId(f[2]!);
  const gid = cId(f[3]!);
  if (uid === null) return `invalid user ID "${f[2]}"`;
  if (gid === null) return `invalid group ID "${f[3]}"`;
  return { name: f[0]!, passwd: f[1]!, uid, gid, gecos: f[4]!, home: f[5]!, shell: f[6]! };
};

const parseGroup: Parser<GroupEntry> = (line) => {
  const { f, rest } = fields(line, 4);
  if (rest || f.length !== 4) return "expected 4 colon-separated fields";
  const gid = cId(f[2]!);
  if (gid === null) return `invalid group ID "${f[2]}"`;
  return { name: f[0]!, passwd: f[1]!, gid, members: splitList(f[3]!) };
};

const parseGshadow: Parser<GshadowEntry> = (line) => {
  const { f, rest } = fields(line, 4);
  if (rest || f.length !== 4) return "expected 4 colon-separated fields";
  return { name: f[0]!, passwd: f[1]!, admins: splitList(f[2]!), members: splitList(f[3]!) };
};

const parseSubid: Parser<SubidEntry> = (line) => {
  const { f, rest } = fields(line, 3);
  if (rest || f.length !== 3 || f.some((x) => x === "")) return "expected 3 non-empty colon-separated fields";
  const start = cULong(f[1]!);
  const count = cULong(f[2]!);
  if (start === null || count === null) return "invalid number";
  return { name: f[0]!, start, count };
};

/** glibc's shadow line parser (nss_files' _nss_files_parse_spent, as sgetspent uses it). */
const parseShadow: Parser<ShadowEntry> = (line) => {
  let i = 0;
  const stringField = (): string => {
    const c = line.indexOf(":", i);
    const v = c < 0 ? line.slice(i) : line.slice(i, c);
    i = c < 0 ? line.length : c + 1;
    return v;
  };
  const bad = "a numeric field is malformed or missing";
  const intField = (last = false): number | string => {
    if (i >= line.length) return bad;
    const r = glibcShadowNumber(line, i);
    const end = r ? r.end : i;
    const value = r ? toCInt(r.value) : -1;
    if (line[end] === ":" && !last) i = end + 1;
    else if (end >= line.length) i = end;
    else return bad;
    return value;
  };
  const name = stringField();
  const passwd = stringField();
  const nums: number[] = [];
  for (let k = 0; k < 3; k++) {
    const v = intField();
    if (typeof v === "string") return v;
    nums.push(v);
  }
  let rest = i;
  while (rest < line.length && isCSpace(line[rest]!)) rest++;
  if (rest >= line.length) return { name, passwd, lastChange: nums[0]!, min: nums[1]!, max: nums[2]!, warn: -1, inactive: -1, expire: -1, flag: null };
  for (let k = 0; k < 3; k++) {
    const v = intField();
    if (typeof v === "string") return v;
    nums.push(v);
  }
  let flag: number | null = null;
  if (i < line.length) {
    const r = glibcShadowNumber(line, i);
    if (!r || r.end !== line.length) return bad;
    flag = r.value;
  }
  return { name, passwd, lastChange: nums[0]!, min: nums[1]!, max: nums[2]!, warn: nums[3]!, inactive: nums[4]!, expire: nums[5]!, flag };
};

const opt = (n: number): string => (n === -1 ? "" : String(n));

/** Each database's entry format as the tools write a changed entry. */
const FORMAT: { [K in DbName]: (e: EntryOf[K]) => string } = {
  passwd: (e) => `${e.name}:${e.passwd}:${e.uid}:${e.gid}:${e.gecos}:${e.home}:${e.shell}`,
  group: (e) => `${e.name}:${e.passwd}:${e.gid}:${e.members.join(",")}`,
  shadow: (e) =>
    `${e.name}:${e.passwd}:${opt(e.lastChange)}:${opt(e.min)}:${opt(e.max)}:${opt(e.warn)}:${opt(e.inactive)}:${opt(e.expire)}:${e.flag === null ? "" : String(e.flag)}`,
  gshadow: (e) => `${e.name}:${e.passwd}:${e.admins.join(",")}:${e.members.join(",")}`,
  subuid: (e) => `${e.name}:${e.start}:${e.count}`,
  subgid: (e) => `${e.name}:${e.start}:${e.count}`,
};

const PARSE: { [K in DbName]: Parser<EntryOf[K]> } = {
  passwd: parsePasswd,
  shadow: parseShadow,
  group: parseGroup,
  gshadow: parseGshadow,
  subuid: parseSubid,
  subgid: parseSubid,
};

/** True for lines the tools never parse (NIS compat entries). */
const isNisLine = (text: string): boolean => text.startsWith("+") || text.startsWith("-");
/** Lines we keep without parsing and without complaint: blank lines and comments. */
const isInert = (text: string): boolean => /^[ \t\r\v\f]*$/.test(text) || text.startsWith("#");

/** One database in memory. */
export class AccountDb<K extends DbName> {
  /** Set when an entry was added, changed, removed or reordered since the last markWritten(). */
  changed = false;

  private constructor(
    readonly kind: K,
    public lines: DbLine<EntryOf[K]>[],
  ) {}

  /** Parses a database's text (null: the file does not exist, read as empty). Throws AccountFileError. */
  static parse<K extends DbName>(kind: K, text: string | null, path: string = DB_PATH[kind]): AccountDb<K> {
    const lines: DbLine<EntryOf[K]>[] = [];
    splitLines(text ?? "", kind === "group" || kind === "gshadow").forEach((t, i) => {
      if (isNisLine(t) || isInert(t)) {
        lines.push({ text: t, entry: null, changed: false });
        return;
      }
      const r = PARSE[kind](t);
      if (typeof r === "string") throw new AccountFileError(path, i + 1, r);
      lines.push({ text: t, entry: r, changed: false });
    });
    return new AccountDb(kind, lines);
  }

  /** A deep copy (entries included). */
  clone(): AccountDb<K> {
    const c = new AccountDb(this.kind, this.lines.map((l) => ({ ...l, entry: l.entry === null ? null : cloneEntry(l.entry) })));
    c.changed = this.changed;
    return c;
  }

  /** Every parsed entry, in file order. */
  entries(): EntryOf[K][] {
    const out: EntryOf[K][] = [];
    for (const l of this.lines) if (l.entry) out.push(l.entry);
    return out;
  }

  /** The first entry with this name. */
  find(name: string): EntryOf[K] | undefined {
    for (const l of this.lines) if (l.entry?.name === name) return l.entry;
    return undefined;
  }

  private indexOfUnique(name: string): number {
    let found = -1;
    for (let i = 0; i < this.lines.length; i++) {
      if (this.lines[i]!.entry?.name !== name) continue;
      if (found >= 0) throw new DuplicateEntryError(DB_PATH[this.kind], name);
      found = i;
    }
    return found;
  }

  /** commonio_update: replaces the entry of that name, or adds it before the first NIS line. */
  update(entry: EntryOf[K]): void {
    const i = this.indexOfUnique(entry.name);
    this.changed = true;
    if (i >= 0) {
      this.lines[i] = { text: this.lines[i]!.text, entry, changed: true };
      return;
    }
    const nis = this.lines.findIndex((l) => l.entry === null && isNisLine(l.text));
    const line = { text: "", entry, changed: true };
    if (nis < 0) this.lines.push(line);
    else this.lines.splice(nis, 0, line);
  }

  /** commonio_append: adds an entry at the very end. */
  append(entry: EntryOf[K]): void {
    this.changed = true;
    this.lines.push({ text: "", entry, changed: true });
  }

  /** commonio_remove: removes the entry of that name; false when there is none. */
  remove(name: string): boolean {
    const i = this.indexOfUnique(name);
    if (i < 0) return false;
    this.lines.splice(i, 1);
    this.changed = true;
    return true;
  }

  /** Removes one line by its entry object (commonio_del_entry). */
  removeEntry(entry: EntryOf[K]): void {
    const i = this.lines.findIndex((l) => l.entry === entry);
    if (i >= 0) this.lines.splice(i, 1);
    this.changed = true;
  }

  /** Marks an entry object changed after editing it in place. */
  touch(entry: EntryOf[K]): void {
    const l = this.lines.find((x) => x.entry === entry);
    if (l) l.changed = true;
    this.changed = true;
  }

  /**
   * commonio_sort: sorts the lines before the first NIS line with `cmp` (stably; lines without
   * an entry go after those with one) and marks the database changed, unless it has fewer than
   * two such lines.
   */
  sort(cmp: (a: EntryOf[K], b: EntryOf[K]) => number): void {
    const nis = this.lines.findIndex((l) => l.entry === null && isNisLine(l.text));
    const head = nis < 0 ? this.lines : this.lines.slice(0, nis);
    if (head.length <= 1) return;
    const sorted = [...head.filter((l) => l.entry), ...head.filter((l) => !l.entry)];
    const withEntry = sorted.filter((l) => l.entry);
    withEntry.sort((a, b) => cmp(a.entry!, b.entry!));
    this.lines = [...withEntry, ...sorted.filter((l) => !l.entry), ...(nis < 0 ? [] : this.lines.slice(nis))];
    this.changed = true;
  }

  /** The file text the tools would write now. */
  text(): string {
    let out = "";
    for (const l of this.lines) out += (l.changed && l.entry ? (FORMAT[this.kind] as (e: EntryOf[K]) => string)(l.entry) : l.text) + "\n";
    return out;
  }

  /** After a write: every line is now what the file holds. */
  markWritten(): void {
    for (const l of this.lines) {
      if (l.changed && l.entry) l.text = (FORMAT[this.kind] as (e: EntryOf[K]) => string)(l.entry);
      l.changed = false;
    }
    this.changed = false;
  }
}

function cloneEntry<T>(e: T): T {
  const c = { ...e } as Record<string, unknown>;
  for (const [k, v] of Object.entries(c)) if (Array.isArray(v)) c[k] = [...v];
  return c as T;
}

/** Both name databases of one root, as node owners are looked up. */
export interface UserDb {
  users: PasswdEntry[];
  groups: GroupEntry[];
}

/** Entries of a database's text that parse, skipping any that do not (for lookups only). */
function lenientEntries<K extends "passwd" | "group">(kind: K, text: string | null): EntryOf[K][] {
  const out: EntryOf[K][] = [];
  for (const t of splitLines(text ?? "", kind === "group")) {
    if (isNisLine(t) || isInert(t)) continue;
    const r = PARSE[kind](t);
    if (typeof r !== "string") out.push(r as EntryOf[K]);
  }
  return out;
}

/** Builds a lookup database from the two files' text (null: the file does not exist). */
export function parseUserDb(passwd: string | null, group: string | null): UserDb {
  return { users: lenientEntries("passwd", passwd), groups: lenientEntries("group", group) };
}

/** The first user entry with this name. */
export function findUser(db: UserDb, name: string): PasswdEntry | undefined {
  return db.users.find((u) => u.name === name);
}

/** The first group entry with this name. */
export function findGroup(db: UserDb, name: string): GroupEntry | undefined {
  return db.groups.find((g) => g.name === name);
}
