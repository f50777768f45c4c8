// The native account plan: passwd.groups then passwd.users, walked in Ignition's order
// (internal/exec/stages/files/passwd.go): each group ensured (groupadd, groupmod or groupdel),
// then each user ensured (useradd, usermod or userdel), its mount-point directories handed to
// it, its password set again (SetPasswordHash runs usermod once more), its SSH keys written.
// Every tool run is modelled by AccountModel, so the plan holds the databases exactly as the
// tools would leave them (backups included) and the filesystem operations they would make.
// Pure: the caller reads the root (under the tools' locks) and applies the result.
import type { Group, Passwd, User } from "../config/types.ts";
import { fromBytes, toBytes } from "./cnum.ts";
import { DB_NAMES, DB_PATH, DuplicateEntryError, type DbName, type UserDb } from "./db.ts";
import { type AccountOp } from "./ops.ts";
import { authorizedKeysPath, shouldExist } from "./plan.ts";
import { AccountModel, ToolError, type AccountInputs, type DbFile } from "./shadow_model.ts";

/** What one config entry comes to, for plans and logs. */
export interface AccountStep {
  /** "add-group", "modify-group", "delete-group", "add-user", "modify-user", "delete-user", "keep". */
  action: string;
  /** "group NAME" or "user NAME". */
  target: string;
  detail?: string;
}

/** A database the plan rewrites: its new text and attributes, and the backup the tools leave. */
export interface DbWrite {
  name: DbName;
  path: string;
  file: DbFile & { text: string };
  /** The "-" file: the database as it was before its last rewrite (absent when it was created). */
  backup: DbFile | null;
}

/** The whole native account plan. */
export interface AccountPlan {
  steps: AccountStep[];
  /** Filesystem operations, in the order the tools (and Ignition) make them. */
  ops: AccountOp[];
  /** Databases to write, in the order the tools write them. */
  databases: DbWrite[];
  /** Whether some tool run would have taken the lock (and so left /etc/.pwd.lock). */
  locks: boolean;
  warnings: string[];
  /** Users and groups afterwards, for node owners. */
  owners: UserDb;
}

/** A config entry the tools would refuse, named by its path in the config. */
export class AccountPlanError extends Error {
  constructor(
    readonly path: (string | number)[],
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${message} (at ${path.join(".")})`, options);
    this.name = "AccountPlanError";
  }
}

const nonEmpty = (s: string | null | undefined): s is string => typeof s === "string" && s !== "";
const b = (s: string | null | undefined): string | undefined => (s === null || s === undefined ? undefined : toBytes(s));

/** Options of one plan. */
export interface AccountPlanOptions {
  /** Root paths of directories the mount stage created (handed to the users whose home holds them). */
  notatedDirectories: readonly string[];
  /** Keys go to ~/.ssh/authorized_keys.d/nexus (true) or ~/.ssh/authorized_keys. */
  keysFragment: boolean;
}

/** Runs one modelled tool, naming the config entry in any failure. */
function attempt<T>(path: (string | number)[], what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ToolError || e instanceof DuplicateEntryError) throw new AccountPlanError(path, `Cannot ${what}: ${e.message}`, { cause: e });
    throw e;
  }
}

function planGroups(m: AccountModel, groups: readonly Group[], steps: AccountStep[]): void {
  groups.forEach((g, i) => {
    const name = toBytes(g.name ?? "");
    const shown = g.name ?? "";
    const path = ["passwd", "groups", i];
    const exists = m.dbs.group.find(name) !== undefined;
    if (!shouldExist(g)) {
      if (!exists) {
        steps.push({ action: "keep", target: `group ${shown}`, detail: "absent, as the config wants" });
        return;
      }
      attempt(path, `delete group "${shown}"`, () => m.groupdel({ name }));
      steps.push({ action: "delete-group", target: `group ${shown}` });
      return;
    }
    const args = { name, gid: g.gid ?? undefined, password: nonEmpty(g.passwordHash) ? toBytes(g.passwordHash) : undefined };
    if (exists) attempt(path, `modify group "${shown}"`, () => m.groupmod(args));
    else attempt(path, `add group "${shown}"`, () => m.groupadd({ ...args, system: g.system === true }));
    const now = m.dbs.group.find(name)!;
    const detail = [`gid ${now.gid}`, g.system && !exists ? "system" : "", args.password !== undefined ? "password hash set" : ""].filter(Boolean).join(", ");
    steps.push({ action: exists ? "modify-group" : "add-group", target: `group ${shown}`, detail });
  });
}

function planUser(m: AccountModel, u: User, i: number, opts: AccountPlanOptions, steps: AccountStep[]): void {
  const name = toBytes(u.name ?? "");
  const shown = u.name ?? "";
  const path = ["passwd", "users", i];
  const exists = m.user(name) !== undefined;
  if (!shouldExist(u)) {
    if (!exists) {
      steps.push({ action: "keep", target: `user ${shown}`, detail: "absent, as the config wants" });
      return;
    }
    const before = m.ops.length;
    attempt(path, `delete user "${shown}"`, () => m.userdel({ name }));
    const removed = m.ops.slice(before).some((o) => o.op === "remove-home");
    steps.push({ action: "delete-user", target: `user ${shown}`, detail: removed ? "home directory removed" : "home directory kept" });
    return;
  }
  const hash = u.passwordHash === null || u.passwordHash === undefined ? undefined : u.passwordHash === "" ? "*" : toBytes(u.passwordHash);
  const common = {
    name,
    uid: u.uid ?? undefined,
    comment: nonEmpty(u.gecos) ? toBytes(u.gecos) : undefined,
    primaryGroup: nonEmpty(u.primaryGroup) ? toBytes(u.primaryGroup) : undefined,
    groups: u.groups && u.groups.length > 0 ? u.groups.map((g) => toBytes(g)) : undefined,
    shell: nonEmpty(u.shell) ? toBytes(u.shell) : undefined,
  };
  if (exists) {
    attempt(path, `modify user "${shown}"`, () => m.usermod({ ...common, home: nonEmpty(u.homeDir) ? toBytes(u.homeDir) : undefined, password: hash }));
  } else {
    attempt(path, `add user "${shown}"`, () =>
      m.useradd({
        ...common,
        home: b(nonEmpty(u.homeDir) ? u.homeDir : undefined),
        createHome: u.noCreateHome !== true,
        noUserGroup: u.noUserGroup === true,
        system: u.system === true,
        noLogInit: u.noLogInit === true,
        password: hash ?? "*",
      }),
    );
  }
  const entry = m.user(name)!;
  // ModifyHomeDirPermissions: the mount stage's directories inside the home become the user's.
  if (u.noCreateHome !== true) {
    for (const dir of opts.notatedDirectories) {
      const d = toBytes(dir);
      if (d === entry.home || d.startsWith(entry.home + "/")) m.addIgnitionOp({ op: "adopt", path: d, uid: entry.uid, gid: entry.gid, user: name });
    }
  }
  // SetPasswordHash: Ignition runs usermod --password once more.
  if (hash !== undefined) attempt(path, `set the password of user "${shown}"`, () => m.usermod({ name, password: hash }));
  const keys = u.sshAuthorizedKeys ?? [];
  if (keys.length > 0) {
    const user = m.user(name)!;
    m.addIgnitionOp({ op: "write-keys", path: authorizedKeysPath(user.home, opts.keysFragment), uid: user.uid, gid: user.gid, keys, user: name });
  }
  const now = m.user(name)!;
  const detail = [
    `uid ${now.uid}`,
    `gid ${now.gid}`,
    `home ${fromBytes(now.home)}`,
    u.system && !exists ? "system" : "",
    (hash ?? (exists ? undefined : "*")) === undefined ? "" : (hash ?? "*") === "*" ? "password login disabled" : "password hash set",
    keys.length > 0 ? `${keys.length} SSH key${keys.length === 1 ? "" : "s"}` : "",
  ]
    .filter(Boolean)
    .join(", ");
  steps.push({ action: exists ? "modify-user" : "add-user", target: `user ${shown}`, detail });
}

/**
 * Plans passwd.groups and passwd.users against the root's databases, settings and tree. Throws
 * AccountFileError for a malformed database line and AccountPlanError for an entry the tools
 * would refuse; nothing is planned partly.
 */
export function planAccounts(passwd: Passwd | null | undefined, inputs: AccountInputs, opts: AccountPlanOptions): AccountPlan {
  const m = new AccountModel(inputs);
  const steps: AccountStep[] = [];
  planGroups(m, passwd?.groups ?? [], steps);
  (passwd?.users ?? []).forEach((u, i) => planUser(m, u, i, opts, steps));
  const databases: DbWrite[] = [];
  for (const n of DB_NAMES) {
    if (!m.rewritten.has(n)) continue;
    const file = m.disk[n];
    databases.push({ name: n, path: DB_PATH[n], file: { ...file, text: file.text ?? "" }, backup: m.backups[n] ?? null });
  }
  return {
    steps,
    ops: m.ops,
    databases,
    locks: m.locked,
    warnings: [...new Set(m.warnings)],
    owners: { users: m.dbs.passwd.entries(), groups: m.dbs.group.entries() },
  };
}
