// passwd.groups then passwd.users, through shadow's tools with --root, then each user's SSH
// keys. Whether an account exists is read from the root's /etc/passwd and /etc/group right
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

/** What a done account operation left: the fields checked when resuming. */
function accountResult(db: UserDb, kind: "user" | "group", name: string): Record<string, unknown> {
  if (kind === "group") {
    const g = findGroup(db, name);
    return g ? { gid: g.gid } : { absent: true };
  }
  const u = findUser(db, name);
  return u ? { uid: u.uid, gid: u.gid, home: u.home, shell: u.shell } : { absent: true };
}

/** True when an account is still what its done record says. */
function accountHolds(db: UserDb, kind: "user" | "group", name: string, result: Record<string, unknown> | undefined): boolean {
  if (!result) return false;
  const now = accountResult(db, kind, name);
  return Object.keys(result).length === Object.keys(now).length && Object.entries(result).every(([k, v]) => now[k] === v);
}

/**
 * Before adding a user again whose adding the interrupted run began but did not finish:
 * takes back what it left — the account (userdel, keeping files) and a home it created that
 * no mounted filesystem lives in — so that useradd makes it whole, as in one run.
 */
async function takeBackHalfAddedUser(ctx: StageContext, root: Root, users: UserDbCache, u: User, intent: Record<string, unknown>): Promise<void> {
  const name = u.name ?? "";
  if (findUser(users.get(), name)) {
    await runAccountCommand(ctx, { cmd: "userdel", args: ["--root", root.dir, name], name }).finally(() => root.forgetAll());
    users.touched("/etc/passwd");
  } else if (intent.groupExisted === false && findGroup(users.get(), name)) {
    // useradd had made the user's own group when it stopped.
    await runAccountCommand(ctx, { cmd: "groupdel", args: ["--root", root.dir, name], name }).finally(() => root.forgetAll());
    users.touched("/etc/group");
  }
  const home = String(intent.home ?? "");
  if (intent.homeExisted === false && home !== "" && root.lstat(home) && directoriesWithin(ctx.state.notatedDirectories, home).length === 0) {
    await ctx.log.op(`removing the home "${home}" the interrupted run began for user "${name}"`, () => root.removeAll(home));
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
  const users = new UserDbCache(root);
  const journal = journalOf(ctx);
  if (journal.resuming) removeStaleAccountLocks(ctx, root);
  for (const g of passwd?.groups ?? []) {
    if (stop?.stopped) return;
    const name = g.name ?? "";
    const key = opKey.group(name);
    if (journal.recorded(key)?.done && accountHolds(users.get(), "group", name, journal.recorded(key)?.result)) {
      ctx.log.info(`group "${name}": done by the interrupted run and still so`);
      continue;
    }
    const rec = journal.recorded(key);
    if (rec?.intent?.added === true && !rec.done && findGroup(users.get(), name)) {
      // groupadd stopped half way (in /etc/group, not yet in /etc/gshadow): taken back and made whole.
      await runAccountCommand(ctx, { cmd: "groupdel", args: ["--root", root.dir, name], name }).finally(() => root.forgetAll());
      users.touched("/etc/group");
    }
    const c = planGroup(g, findGroup(users.get(), name) !== undefined, root.dir);
    if (c?.cmd === "groupadd" && !rec?.intent) await journal.intent(key, { added: true });
    if (c) {
      await runAccountCommand(ctx, c).finally(() => root.forgetAll());
      users.touched("/etc/group");
    }
    await journal.done(key, accountResult(users.get(), "group", name));
  }
  for (const u of passwd?.users ?? []) {
    if (stop?.stopped) return;
    const name = u.name ?? "";
    const key = opKey.user(name);
    const rec = journal.recorded(key);
    if (rec?.done && accountHolds(users.get(), "user", name, rec.result)) {
      ctx.log.info(`user "${name}": done by the interrupted run and still so`);
    } else {
      if (rec?.intent?.added === true && !rec.done) await takeBackHalfAddedUser(ctx, root, users, u, rec.intent);
      const exists = findUser(users.get(), name) !== undefined;
      const c = planUser(u, exists, root.dir);
      if (c?.cmd === "useradd" && !rec?.intent) {
        const home = u.homeDir || `${homeBase(root)}/${name}`;
        await journal.intent(key, { added: true, home, homeExisted: root.lstat(home) !== null, groupExisted: findGroup(users.get(), name) !== undefined });
      }
      if (c) {
        // The tool changed the tree behind Root's back (homes created, moved, removed).
        await runAccountCommand(ctx, c).finally(() => root.forgetAll());
        users.touched("/etc/passwd");
        if (c.cmd === "useradd") adoptNotatedDirectories(ctx, root, users, name);
      }
      await journal.done(key, accountResult(users.get(), "user", name));
    }
    if (shouldExist(u)) await writeKeys(ctx, root, users, u, journal);
  }
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
