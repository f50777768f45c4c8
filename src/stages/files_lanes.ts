// Which work of the files stage may run while shadow's tools create the accounts.
//
// Ignition creates groups and users first, then every node, then the units. The account tools
// run one after another (each locks the account files and syncs them several times), and on a
// real disk they are most of the stage's time; nodes and units that neither depend on them nor
// affect them can be written meanwhile without changing the result. A node is written early
// when all of these hold:
//   - every owner it names by name maps to an id known before the tools run: a user or group of
//     this config with an explicit uid/gid (the tools will give it exactly that id), or an
//     account the root already has that this config does not touch;
//   - its path is not in what the tools read or write ("account paths" below: the account
//     databases and their locks and backups, login.defs, /etc/default, /etc/skel, PAM and NSS
//     configuration, mail spools, the login logs, the cache flushers they run, every home of a
//     configured user and the default home base), nor an ancestor of one of them;
//   - no node written late is an ancestor of its path, and for a link, its target is not an
//     account path nor at or below a node written late.
// Units and drop-ins go early too (after the early nodes, as in Ignition's order) unless a late
// node is at, above or below the systemd configuration directories.
import type { NodeUser, Passwd } from "../config/types.ts";
import { findGroup, findUser, type UserDb } from "../users/db.ts";
import { shouldExist } from "../users/plan.ts";
import { cleanPath } from "../system/paths.ts";
import type { NodeEntry } from "./files_nodes.ts";

/** The account tools' files under /etc: these names and anything starting with them. */
const ETC_ACCOUNT_PREFIXES = ["passwd", "group", "shadow", "gshadow", "subuid", "subgid", ".pwd.lock"];
/** Other entries of /etc the tools read (configuration) or write. */
const ETC_ACCOUNT_NAMES = new Set([
  "login.defs",
  "default",
  "skel",
  "nsswitch.conf",
  "pam.d",
  "pam.conf",
  "security",
  "selinux",
  "libuser.conf",
  "nscd.conf",
  "ld.so.cache",
  "ld.so.conf",
  "ld.so.conf.d",
]);
/** Paths outside /etc the tools write or execute inside the root. */
const OTHER_ACCOUNT_PATHS = [
  "/var/mail",
  "/var/spool/mail",
  "/var/log/lastlog",
  "/var/log/faillog",
  "/var/log/tallylog",
  "/var/lib/sss",
  "/usr/sbin/nscd",
  "/usr/sbin/sss_cache",
  "/sbin/nscd",
  "/sbin/sss_cache",
];
/** Where systemd units, drop-ins and presets are written. */
export const SYSTEMD_DIR = "/etc/systemd";

/** How nodes and units are split around the account commands. */
export interface FilesLanes {
  /** Nodes written while the accounts are created, in the stage's order. */
  early: NodeEntry[];
  /** Nodes written after the accounts, in the stage's order. */
  late: NodeEntry[];
  /** Units are written right after the early nodes (otherwise after the late ones). */
  unitsEarly: boolean;
  /** Ids of the names early nodes use, as the databases will have them after the tools. */
  owners: UserDb;
}

/** True when a is b or inside it. */
const within = (a: string, b: string): boolean => a === b || b === "/" || a.startsWith(b + "/");
/** True when a and b are the same path or one contains the other. */
const related = (a: string, b: string): boolean => within(a, b) || within(b, a);

/** Where a link's target points, as a clean root path (relative targets from the link's directory). */
function linkTargetPath(e: NodeEntry & { kind: "link" }): string {
  const target = e.node.target ?? "";
  if (target.startsWith("/")) return cleanPath(target);
  return cleanPath(`${e.resolved.slice(0, e.resolved.lastIndexOf("/"))}/${target}`);
}

/**
 * The account paths of a config: fixed ones (each passed through `resolve`, which follows the
 * root's symlinks, since the tools see the root through them) and the homes of its users.
 */
export function accountPaths(passwd: Passwd | null | undefined, db: UserDb, homeBase: string, resolve: (p: string) => string): string[] {
  const paths = new Set<string>();
  const add = (p: string) => {
    paths.add(cleanPath(p));
    paths.add(resolve(p));
  };
  for (const p of OTHER_ACCOUNT_PATHS) add(p);
  for (const n of ETC_ACCOUNT_NAMES) add(`/etc/${n}`);
  add(homeBase);
  add("/home");
  for (const u of passwd?.users ?? []) {
    if (u.homeDir) add(u.homeDir);
    const existing = findUser(db, u.name ?? "");
    if (existing?.home) add(existing.home);
  }
  return [...paths];
}

/** True when path is an account path, inside one, or above one (or above /etc's account files). */
function touchesAccounts(path: string, zone: readonly string[], etc: string): boolean {
  if (zone.some((z) => related(path, z))) return true;
  if (within(etc, path) || within("/etc", path)) return true;
  if (!path.startsWith(etc + "/")) return false;
  const first = path.slice(etc.length + 1).split("/")[0]!;
  return ETC_ACCOUNT_NAMES.has(first) || ETC_ACCOUNT_PREFIXES.some((p) => first.startsWith(p));
}

/**
 * Ids that names will have once the account commands ran, for the names this can know in
 * advance (see the file comment); absent names are not known early.
 */
export function knownOwners(passwd: Passwd | null | undefined, db: UserDb): UserDb {
  const configUsers = new Set((passwd?.users ?? []).map((u) => u.name ?? ""));
  const configGroups = new Set((passwd?.groups ?? []).map((g) => g.name ?? ""));
  const out: UserDb = { users: [], groups: [] };
  for (const u of passwd?.users ?? []) {
    if (shouldExist(u) && u.uid !== null && u.uid !== undefined) out.users.push({ name: u.name ?? "", uid: u.uid, gid: -1, gecos: "", home: "", shell: "" });
  }
  for (const g of passwd?.groups ?? []) {
    if (shouldExist(g) && g.gid !== null && g.gid !== undefined) out.groups.push({ name: g.name ?? "", gid: g.gid, members: [] });
  }
  // Untouched accounts keep their ids; a new user may bring a group of its own name.
  for (const u of db.users) if (!configUsers.has(u.name)) out.users.push(u);
  for (const g of db.groups) if (!configGroups.has(g.name) && !configUsers.has(g.name)) out.groups.push(g);
  return out;
}

/** True when every owner name of a node is in `owners`. */
function ownersKnown(user: NodeUser | null | undefined, group: NodeUser | null | undefined, owners: UserDb): boolean {
  const userOk = user?.id !== null && user?.id !== undefined ? true : !user?.name || findUser(owners, user.name) !== undefined;
  const groupOk = group?.id !== null && group?.id !== undefined ? true : !group?.name || findGroup(owners, group.name) !== undefined;
  return userOk && groupOk;
}

/**
 * Splits ordered nodes (orderNodes) for a config with accounts. `zone` comes from accountPaths;
 * `etc` and `systemd` are where the root's /etc and /etc/systemd resolve.
 */
export function splitLanes(
  entries: readonly NodeEntry[],
  passwd: Passwd | null | undefined,
  db: UserDb,
  zone: readonly string[],
  where: { etc: string; systemd: string },
): FilesLanes {
  const { etc } = where;
  const owners = knownOwners(passwd, db);
  const early: NodeEntry[] = [];
  const late: NodeEntry[] = [];
  const lateRoots: string[] = [];
  const underLate = (p: string) => lateRoots.some((r) => within(p, r));
  for (const e of entries) {
    let isLate = touchesAccounts(e.resolved, zone, etc) || underLate(e.resolved) || !ownersKnown(e.node.user, e.node.group, owners);
    if (!isLate && e.kind === "link") {
      const target = linkTargetPath(e);
      isLate = touchesAccounts(target, zone, etc) || underLate(target);
    }
    if (isLate) {
      late.push(e);
      lateRoots.push(e.resolved);
    } else {
      early.push(e);
    }
  }
  const unitsEarly = [SYSTEMD_DIR, where.systemd].every((d) => !lateRoots.some((r) => related(r, d)) && !touchesAccounts(d, zone, etc));
  return { early, late, unitsEarly, owners };
}
