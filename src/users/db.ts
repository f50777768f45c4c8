// The target root's user and group databases (/etc/passwd, /etc/group), read as files: the
// root's own entries decide who exists and which ids names map to, never the host's.

/** One /etc/passwd entry. */
export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  gecos: string;
  home: string;
  shell: string;
}

/** One /etc/group entry. */
export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** Both databases of one root. */
export interface UserDb {
  users: PasswdEntry[];
  groups: GroupEntry[];
}

/** Lines that are entries: not blank, not comments, not NIS compat markers (+/-). */
function entryLines(text: string): string[][] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "" && !/^[#+-]/.test(l))
    .map((l) => l.split(":"));
}

/** Parses /etc/passwd text; malformed lines are skipped. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const f of entryLines(text)) {
    if (f.length < 7) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid) || f[2] === "" || f[3] === "") continue;
    out.push({ name: f[0]!, uid, gid, gecos: f[4]!, home: f[5]!, shell: f[6]! });
  }
  return out;
}

/** Parses /etc/group text; malformed lines are skipped. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const f of entryLines(text)) {
    if (f.length < 4) continue;
    const gid = Number(f[2]);
    if (!Number.isInteger(gid) || f[2] === "") continue;
    out.push({ name: f[0]!, gid, members: f[3]! === "" ? [] : f[3]!.split(",") });
  }
  return out;
}

/** Builds a database from the two files' text (null: the file does not exist). */
export function parseUserDb(passwd: string | null, group: string | null): UserDb {
  return { users: parsePasswd(passwd ?? ""), groups: parseGroup(group ?? "") };
}

/** The first user entry with this name. */
export function findUser(db: UserDb, name: string): PasswdEntry | undefined {
  return db.users.find((u) => u.name === name);
}

/** The first group entry with this name. */
export function findGroup(db: UserDb, name: string): GroupEntry | undefined {
  return db.groups.find((g) => g.name === name);
}
