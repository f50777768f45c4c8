// passwd.groups then passwd.users, through shadow's tools with --root, as one journaled accounts
// transaction (recorded as applied with the sums of the databases it wrote), then each user's
// SSH keys. Whether an account exists is read from the root's /etc/passwd and /etc/group right
// before its command, so earlier commands of the same config are seen.
import type { Group, Passwd, User } from "../config/types.ts";
import type { PlanEntry, StageContext } from "../executor/stage.ts";
import { CommandError } from "../system/system.ts";
import type { Root } from "../system/root.ts";
import { findGroup, findUser, type UserDb } from "../users/db.ts";
import {
  authorizedKeysPath,
  authorizedKeysText,
  describeCommand,
  planGroup,
  planUser,
  redactArgs,
  shouldExist,
  writesKeysFragment,
  type AccountCommand,
} from "../users/plan.ts";
import { directoriesWithin } from "../users/plan.ts";
import { UserDbCache } from "../users/owners.ts";
import type { StopSignal } from "./run_limited.ts";
import { createHash } from "node:crypto";
import { journalOf, type StageJournal } from "../executor/journal.ts";
import { opKey } from "../executor/journal_ops.ts";

/** userdel's exit code for "account removed, but not its home directory or mail spool". */
const USERDEL_HOME_NOT_REMOVED = 12;

const VERBS: Record<AccountCommand["cmd"], string> = {
  groupadd: "adding group",
  groupmod: "modifying group",
  groupdel: "deleting group",
  useradd: "adding user",
  usermod: "modifying user",
  userdel: "deleting user",
};

/** Runs one account command as a logged operation; secrets never reach logs or errors. */
async function runAccountCommand(ctx: StageContext, c: AccountCommand): Promise<void> {
  await ctx.log.op(`${VERBS[c.cmd]} "${c.name}"`, async () => {
    const r = await ctx.system.run(c.cmd, c.args);
    if (r.code === 0) return;
    const shown = [r.argv[0] ?? c.cmd, ...redactArgs(c.args)];
    if (c.cmd === "userdel" && r.code === USERDEL_HOME_NOT_REMOVED) {
      // The account is gone; only its home (e.g. "/", not owned by the user) stayed.
      ctx.log.warn(`userdel removed "${c.name}" but not its home directory: ${r.stderr.trim()}`);
      return;
    }
    throw new CommandError(shown, r.code, r.stdout, r.stderr);
  });
}

/** The base of new users' homes: HOME in the root's /etc/default/useradd, else /home. */
export function homeBase(root: Root): string {
  const text = root.readFile("/etc/default/useradd")?.toString("utf8") ?? "";
  const m = /^\s*HOME\s*=\s*"?([^"\s]+)"?\s*$/m.exec(text);
  return m?.[1]?.startsWith("/") ? m[1] : "/home";
}

/** Writes a user's authorized keys as the user owns them: dirs 0700, file 0600 (skipped when the interrupted run did). */
async function writeKeys(ctx: StageContext, root: Root, users: UserDbCache, u: User, journal: StageJournal): Promise<void> {
  const keys = u.sshAuthorizedKeys ?? [];
  if (keys.length === 0) return;
  const name = u.name ?? "";
  const entry = findUser(users.get(), name);
  const text = new TextEncoder().encode(authorizedKeysText(keys));
  const sum = createHash("sha256").update(text).digest("hex");
  const key = opKey.sshKeys(name);
  if (entry && journal.recorded(key)?.done) {
    const path = authorizedKeysPath(entry.home, writesKeysFragment(ctx.system.env));
    const st = root.lstat(path);
    const data = st?.isFile() ? root.readFile(path) : null;
    if (st && data && (st.mode & 0o7777) === 0o600 && st.uid === entry.uid && st.gid === entry.gid && createHash("sha256").update(data).digest("hex") === sum) {
      ctx.log.info(`SSH keys of user "${name}": written by the interrupted run and still so`);
      return;
    }
  }
  await ctx.log.op(`adding ssh keys to user "${name}"`, async () => {
    if (!entry) throw new Error(`Cannot add SSH keys to user "${name}": no such user in the root's /etc/passwd`);
    const path = authorizedKeysPath(entry.home, writesKeysFragment(ctx.system.env));
    const owner = { uid: entry.uid, gid: entry.gid };
    await root.writeFileWithParents(path, { mode: 0o600, ...owner }, (sink) => sink.write(text), { parentMode: 0o700, parentOwner: owner });
  });
  await journal.done(key, { sha256: sum });
}

/** The account databases shadow's tools lock and rewrite. */
const ACCOUNT_DATABASES = ["passwd", "group", "shadow", "gshadow", "subuid", "subgid"];

/**
 * Removes what an account tool killed by the interruption left in /etc: its lock files (a
 * lock names a process id, which after a reboot may well be a live process, so the tools
 * would refuse to run) and the temp copies it was writing. No tool of this run is running yet.
 */
function removeStaleAccountLocks(ctx: StageContext, root: Root): void {
  for (const name of root.readdir("/etc")) {
    const db = ACCOUNT_DATABASES.find((d) => name === `${d}.lock` || name === `${d}+` || new RegExp(`^${d}\\.\\d+$`).test(name));
    if (!db) continue;
    root.unlink(`/etc/${name}`);
    ctx.log.info(`removed "/etc/${name}", left by an account tool the interruption stopped`);
  }
}

/** The account databases whose sums record an applied accounts transaction. */
const RECORDED_DATABASES = ["/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow"];

/**
 * What the accounts transaction left: the sha256 of each account database (null when absent).
 * Recorded at this level — "the transaction is applied, the databases are these" — it does
 * not depend on how the databases were written (shadow's tools here, or natively).
 */
function databaseSums(root: Root): Record<string, string | null> {
  const sums: Record<string, string | null> = {};
  for (const path of RECORDED_DATABASES) {
    const data = root.readFile(path);
    sums[path] = data === null ? null : createHash("sha256").update(data).digest("hex");
  }
  return sums;
}

/** True when the account databases are still what the done record of the transaction says. */
function databasesHold(root: Root, result: Record<string, unknown> | undefined): boolean {
  const recorded = result?.databases as Record<string, unknown> | undefined;
  if (!recorded) return false;
  const now = databaseSums(root);
  return RECORDED_DATABASES.every((path) => recorded[path] === now[path]);
}

/**
 * What the accounts transaction is about to change, recorded before it starts: which of the
 * config's accounts existed already, and the homes of those it adds (and whether each existed).
 * Names and paths only, never a password hash.
 */
function transactionIntent(root: Root, db: UserDb, passwd: Passwd): Record<string, unknown> {
  const names = new Set([...(passwd.groups ?? []).map((g) => g.name ?? ""), ...(passwd.users ?? []).map((u) => u.name ?? "")]);
  const base = homeBase(root);
  const homes = (passwd.users ?? [])
    .filter((u) => shouldExist(u) && !findUser(db, u.name ?? ""))
    .map((u) => {
      const home = u.homeDir || `${base}/${u.name ?? ""}`;
      return { user: u.name ?? "", home, existed: root.lstat(home) !== null };
    });
  return {
    users: [...names].filter((n) => findUser(db, n)).sort(),
    groups: [...names].filter((n) => findGroup(db, n)).sort(),
    homes,
  };
}

/**
 * Takes back what an accounts transaction the interruption stopped had added — the config's
 * accounts that did not exist before it (userdel keeping files, then groupdel of groups it
 * made, a user's own group included) and the homes it created that no mounted filesystem
 * lives in — so that running the transaction again makes them whole, as one run would.
 * Changes to accounts that existed before are simply made again (usermod, groupmod).
 */
async function takeBackInterruptedTransaction(ctx: StageContext, root: Root, users: UserDbCache, passwd: Passwd, intent: Record<string, unknown>): Promise<void> {
  const hadUsers = new Set((intent.users as string[] | undefined) ?? []);
  const hadGroups = new Set((intent.groups as string[] | undefined) ?? []);
  for (const u of passwd.users ?? []) {
    const name = u.name ?? "";
    if (hadUsers.has(name) || !findUser(users.get(), name)) continue;
    await runAccountCommand(ctx, { cmd: "userdel", args: ["--root", root.dir, name], name }).finally(() => root.forgetAll());
    users.touched("/etc/passwd");
  }
  const groupNames = new Set([...(passwd.groups ?? []).map((g) => g.name ?? ""), ...(passwd.users ?? []).map((u) => u.name ?? "")]);
  for (const name of groupNames) {
    if (hadGroups.has(name) || !findGroup(users.get(), name)) continue;
    await runAccountCommand(ctx, { cmd: "groupdel", args: ["--root", root.dir, name], name }).finally(() => root.forgetAll());
    users.touched("/etc/group");
  }
  for (const h of (intent.homes as { user: string; home: string; existed: boolean }[] | undefined) ?? []) {
    if (h.existed || !root.lstat(h.home) || directoriesWithin(ctx.state.notatedDirectories, h.home).length > 0) continue;
    await ctx.log.op(`removing the home "${h.home}" the interrupted run began for user "${h.user}"`, () => root.removeAll(h.home));
  }
}

/**
 * Hands a new user the directories the mount stage created inside its home (the home itself
 * included): useradd leaves an existing home alone, so without this a home that only exists
 * because a filesystem is mounted below it would stay root's. Owner the user, mode 0700, as
 * useradd would have made it; a directory entry of the config may change the mode later.
 */
function adoptNotatedDirectories(ctx: StageContext, root: Root, users: UserDbCache, name: string): void {
  const entry = findUser(users.get(), name);
  if (!entry) return;
  for (const dir of directoriesWithin(ctx.state.notatedDirectories, entry.home)) {
    root.lchown(dir, entry.uid, entry.gid);
    root.chmod(dir, 0o700);
  }
}

/**
 * Creates, modifies and deletes the config's groups, then its users with their keys. Once
 * `stop` is set (work running beside this failed), no further command starts.
 */
export async function applyPasswd(ctx: StageContext, root: Root, passwd: Passwd | null | undefined, stop?: StopSignal): Promise<void> {
  if (!passwd || ((passwd.groups ?? []).length === 0 && (passwd.users ?? []).length === 0)) return;
  const users = new UserDbCache(root);
  const journal = journalOf(ctx);
  const key = opKey.accounts();
  const rec = journal.recorded(key);
  if (journal.resuming) removeStaleAccountLocks(ctx, root);
  if (rec?.done && databasesHold(root, rec.result)) {
    ctx.log.info("accounts: the transaction was applied by the interrupted run and the databases are still so");
  } else {
    if (rec?.intent && !rec.done) await takeBackInterruptedTransaction(ctx, root, users, passwd, rec.intent);
    if (!rec?.intent) await journal.intent(key, transactionIntent(root, users.get(), passwd));
    if (!(await applyAccounts(ctx, root, users, passwd, stop))) return;
    await journal.done(key, { databases: databaseSums(root) });
  }
  for (const u of passwd.users ?? []) {
    if (stop?.stopped) return;
    if (shouldExist(u)) await writeKeys(ctx, root, users, u, journal);
  }
}

/** The accounts transaction: groups, then users, each by its command. False when stopped part way. */
async function applyAccounts(ctx: StageContext, root: Root, users: UserDbCache, passwd: Passwd, stop?: StopSignal): Promise<boolean> {
  for (const g of passwd.groups ?? []) {
    if (stop?.stopped) return false;
    const c = planGroup(g, findGroup(users.get(), g.name ?? "") !== undefined, root.dir);
    if (!c) continue;
    await runAccountCommand(ctx, c).finally(() => root.forgetAll());
    users.touched("/etc/group");
  }
  for (const u of passwd.users ?? []) {
    if (stop?.stopped) return false;
    const c = planUser(u, findUser(users.get(), u.name ?? "") !== undefined, root.dir);
    if (!c) continue;
    // The tool changed the tree behind Root's back (homes created, moved, removed).
    await runAccountCommand(ctx, c).finally(() => root.forgetAll());
    users.touched("/etc/passwd");
    if (c.cmd === "useradd") adoptNotatedDirectories(ctx, root, users, u.name ?? "");
  }
  return true;
}

/**
 * The plan for passwd, simulating earlier entries' effect on which accounts exist (a group
 * added by this config is modified by a later entry, not added twice).
 */
export function planPasswd(passwd: Passwd | null | undefined, db: UserDb, rootDir: string, env: Record<string, string | undefined>): PlanEntry[] {
  const groups = new Set(db.groups.map((g) => g.name));
  const userSet = new Set(db.users.map((u) => u.name));
  const out: PlanEntry[] = [];
  const add = (c: AccountCommand | null, target: string, keys = 0) => {
    if (!c) {
      out.push({ stage: "files", action: "keep", target, detail: "absent, as the config wants" });
      return;
    }
    const action = { groupadd: "add-group", groupmod: "modify-group", groupdel: "delete-group", useradd: "add-user", usermod: "modify-user", userdel: "delete-user" }[c.cmd];
    out.push({ stage: "files", action, target, detail: describeCommand(c, keys) || undefined });
  };
  for (const g of passwd?.groups ?? []) {
    const name = g.name ?? "";
    add(planGroup(g as Group, groups.has(name), rootDir), `group ${name}`);
    if (shouldExist(g)) groups.add(name);
    else groups.delete(name);
  }
  const fragment = writesKeysFragment(env);
  for (const u of passwd?.users ?? []) {
    const name = u.name ?? "";
    const c = planUser(u, userSet.has(name), rootDir);
    add(c, `user ${name}`, shouldExist(u) ? (u.sshAuthorizedKeys ?? []).length : 0);
    if (shouldExist(u)) {
      userSet.add(name);
      const keys = u.sshAuthorizedKeys ?? [];
      if (keys.length > 0) {
        const home = findUser(db, name)?.home ?? u.homeDir ?? `/home/${name}`;
        out.push({ stage: "files", action: "write-keys", target: authorizedKeysPath(home, fragment), detail: `${keys.length} SSH key${keys.length === 1 ? "" : "s"} for ${name}, mode 0600` });
      }
    } else userSet.delete(name);
  }
  return out;
}
