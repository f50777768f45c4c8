// passwd.groups and passwd.users, in Ignition's order, one of two ways:
//   native (default): under the locks shadow's tools take, the root's account databases are read
//     once, planned in memory (users/accounts.ts models every tool run), and the home
//     operations and the database writes are applied as one transaction: each changed database
//     (with its "-" backup) is staged beside itself and renamed into place at the end; on any
//     failure everything done so far is taken back, so no database changes.
//   tools (`--accounts=tools`): shadow's useradd/usermod/userdel/groupadd/groupmod/groupdel run
//     with --root, one after another, with the flags current upstream Ignition passes.
// Both ways hand mount-point directories inside a home to its user and write SSH keys.
import { lstatSync } from "node:fs";
import type { Passwd, User } from "../config/types.ts";
import type { PlanEntry, StageContext } from "../executor/stage.ts";
import { FsTransaction } from "../system/fs_transaction.ts";
import type { Root } from "../system/root.ts";
import { AccountLocks } from "../system/shadow_lock.ts";
import { CommandError, type System } from "../system/system.ts";
import { planAccounts, type AccountPlan } from "../users/accounts.ts";
import { fromBytes, toBytes } from "../users/cnum.ts";
import { DB_NAMES, DB_PATH, findGroup, findUser, type DbName, type UserDb } from "../users/db.ts";
import { describeOp, type AccountOp } from "../users/ops.ts";
import { UserDbCache, type UserLookup } from "../users/owners.ts";
import {
  authorizedKeysPath,
  authorizedKeysText,
  describeCommand,
  directoriesWithin,
  planGroup,
  planPasswordCommand,
  planUser,
  redactArgs,
  shouldExist,
  writesKeysFragment,
  type AccountCommand,
} from "../users/plan.ts";
import type { AccountInputs, DbFile } from "../users/shadow_model.ts";
import type { NodeInfo, TreeReader } from "../users/tree.ts";

/** userdel's exit code for "account removed, but not its home directory or mail spool". */
const USERDEL_HOME_NOT_REMOVED = 12;

/** True when the config has accounts for this stage. */
export const hasAccounts = (p: Passwd | null | undefined): boolean => (p?.users?.length ?? 0) > 0 || (p?.groups?.length ?? 0) > 0;

/** gettime(): SOURCE_DATE_EPOCH when it is a valid time not in the future, else now (seconds). */
export function accountClock(system: System): number {
  const now = Math.floor(system.now() / 1000);
  const sde = system.env.SOURCE_DATE_EPOCH;
  if (sde !== undefined && /^\d+$/.test(sde)) {
    const v = Number(sde);
    if (v <= now) return v;
  }
  return now;
}

/** The root's tree as the account model reads it (paths are byte strings). */
function treeReader(root: Root): TreeReader {
  return {
    lstat(path: string): NodeInfo | null {
      const st = root.lstat(fromBytes(path));
      if (!st) return null;
      const kind = st.isDirectory() ? "dir" : st.isFile() ? "file" : st.isSymbolicLink() ? "symlink" : "other";
      return { kind, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: st.size };
    },
    readlink: (path) => Buffer.from(root.readlink(fromBytes(path)), "utf8").toString("latin1"),
  };
}

/** Reads one database file: its bytes and attributes; a symlink is refused as the tools refuse it. */
function readDb(root: Root, name: DbName): DbFile {
  const path = DB_PATH[name];
  const st = root.lstat(path);
  if (!st) return { text: null, mode: 0, uid: 0, gid: 0 };
  if (st.isSymbolicLink()) throw new Error(`Cannot update ${path}: it is a symbolic link (shadow's tools refuse it too)`);
  if (!st.isFile()) throw new Error(`Cannot update ${path}: not a regular file`);
  return { text: root.readFile(path)!.toString("latin1"), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

/** Everything the account model reads from the root. */
export function readAccountInputs(root: Root, system: System): AccountInputs {
  const files = {} as Record<DbName, DbFile>;
  for (const n of DB_NAMES) files[n] = readDb(root, n);
  return {
    files,
    loginDefs: root.readFile("/etc/login.defs")?.toString("latin1") ?? null,
    useraddDefaults: root.readFile("/etc/default/useradd")?.toString("latin1") ?? null,
    now: accountClock(system),
    tree: treeReader(root),
  };
}

/** Hooks the tools would run inside the root, which native mode does not run. */
function warnAboutHooks(ctx: StageContext, root: Root, plan: AccountPlan): void {
  for (const dir of ["/etc/shadow-maint/useradd-pre.d", "/etc/shadow-maint/useradd-post.d", "/etc/shadow-maint/userdel-pre.d", "/etc/shadow-maint/userdel-post.d"]) {
    if (root.readdir(dir).length > 0) ctx.log.warn(`${dir} has entries; nexus-init does not run them (shadow's tools would)`);
  }
  if (plan.steps.some((s) => s.action === "delete-user") && /^\s*USERDEL_CMD\s/m.test(root.readFile("/etc/login.defs")?.toString("latin1") ?? "")) {
    ctx.log.warn("USERDEL_CMD of /etc/login.defs is not run (userdel would run it)");
  }
  const writesGroup = plan.databases.some((d) => d.name === "group");
  if (writesGroup && /^\s*MAX_MEMBERS_PER_GROUP\s+[1-9]/m.test(root.readFile("/etc/login.defs")?.toString("latin1") ?? "")) {
    throw new Error("Cannot write /etc/group: MAX_MEMBERS_PER_GROUP in /etc/login.defs (split group lines) is not supported");
  }
}

/** Applies one planned operation inside the transaction. */
function applyOp(tx: FsTransaction, o: AccountOp): void {
  const p = (s: string) => fromBytes(s);
  switch (o.op) {
    case "mkdir":
      return tx.mkdir(p(o.path), o.mode, o.uid, o.gid);
    case "copy-skel":
      return tx.copySkeleton(p(o.from), p(o.to), o.uid, o.gid);
    case "create-mailbox":
      return tx.createFile(p(o.path), o.mode, o.uid, o.gid);
    case "login-record":
      return tx.writeRecord(p(o.path), o.recordSize, o.uid, o.from);
    case "move-home":
      return tx.move(p(o.from), p(o.to), o.owners);
    case "chown-tree":
      return tx.chownTree(p(o.path), o.owners);
    case "chown":
      return tx.chown(p(o.path), o.uid);
    case "remove-home":
    case "remove-mailbox":
      return tx.remove(p(o.path));
    case "adopt":
      return tx.chownChmod(p(o.path), o.uid, o.gid, 0o700);
    case "write-keys": {
      const owner = { uid: o.uid, gid: o.gid };
      return tx.replaceFile(p(o.path), new TextEncoder().encode(authorizedKeysText(o.keys)), { mode: 0o600, ...owner }, { mode: 0o700, ...owner });
    }
  }
}

/** Times of a file, to give its backup (as the tools' utime() does). */
function timesOf(root: Root, path: string): { atime: number; mtime: number } | undefined {
  try {
    const st = lstatSync(root.resolve(path));
    return { atime: st.atimeMs / 1000, mtime: st.mtimeMs / 1000 };
  } catch {
    return undefined;
  }
}

/**
 * The native way: locks, one read, one plan, one transaction. Returns where node owners are
 * looked up afterwards (the databases as written, without reading them again).
 */
async function applyNative(ctx: StageContext, root: Root, passwd: Passwd): Promise<UserLookup> {
  const locks = await ctx.log.op("locking the account databases", () => AccountLocks.acquire(root, Object.values(DB_PATH)));
  let plan: AccountPlan | null = null;
  let committed = false;
  try {
    plan = planAccounts(passwd, readAccountInputs(root, ctx.system), {
      notatedDirectories: ctx.state.notatedDirectories,
      keysFragment: writesKeysFragment(ctx.system.env),
    });
    warnAboutHooks(ctx, root, plan);
    for (const w of plan.warnings) ctx.log.warn(fromBytes(w));
    const tx = new FsTransaction(root);
    let done = 0;
    try {
      for (const o of plan.ops) {
        await ctx.log.op(describeOp(o), () => applyOp(tx, o));
        done++;
      }
      for (const db of plan.databases) {
        if (db.backup) tx.stage({ path: `${db.path}-`, data: Buffer.from(db.backup.text!, "latin1"), mode: db.backup.mode, uid: db.backup.uid, gid: db.backup.gid, times: timesOf(root, db.path) });
        tx.stage({ path: db.path, data: Buffer.from(db.file.text, "latin1"), mode: db.file.mode, uid: db.file.uid, gid: db.file.gid });
      }
      if (plan.databases.length > 0) await ctx.log.op(`writing ${plan.databases.map((d) => d.path).join(", ")}`, () => tx.commit());
    } catch (e) {
      const problems = tx.rollback();
      const left = problems.length === 0 ? "every account database and home is as it was" : `these could not be taken back: ${problems.join("; ")}`;
      throw new Error(`${(e as Error).message}; ${plan.ops.length - done} of ${plan.ops.length} home operation(s) and the writes of ${plan.databases.length} database(s) were not done, ${left}`, { cause: e });
    }
    committed = true;
    tx.finish();
  } finally {
    // A /etc/.pwd.lock this run created stays only when the tools would have left one too.
    locks.release(!(committed && plan?.locks));
  }
  const owners: UserDb = plan.owners;
  return { get: () => owners, touched: () => {} };
}

// ------------------------------------------------------------------ tools

const VERBS: Record<AccountCommand["cmd"], string> = {
  groupadd: "adding group",
  groupmod: "modifying group",
  groupdel: "deleting group",
  useradd: "adding user",
  usermod: "modifying user",
  userdel: "deleting user",
};

/** Runs one account command as a logged operation; secrets never reach logs or errors. */
async function runAccountCommand(ctx: StageContext, c: AccountCommand, verb = VERBS[c.cmd]): Promise<void> {
  await ctx.log.op(`${verb} "${c.name}"`, async () => {
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

/** Writes a user's authorized keys as the user owns them: dirs 0700, file 0600. */
async function writeKeys(ctx: StageContext, root: Root, users: UserDbCache, u: User): Promise<void> {
  const keys = u.sshAuthorizedKeys ?? [];
  if (keys.length === 0) return;
  const name = u.name ?? "";
  await ctx.log.op(`adding ssh keys to user "${name}"`, async () => {
    const entry = findUser(users.get(), toBytes(name));
    if (!entry) throw new Error(`Cannot add SSH keys to user "${name}": no such user in the root's /etc/passwd`);
    const path = fromBytes(authorizedKeysPath(entry.home, writesKeysFragment(ctx.system.env)));
    const owner = { uid: entry.uid, gid: entry.gid };
    const text = new TextEncoder().encode(authorizedKeysText(keys));
    await root.writeFileWithParents(path, { mode: 0o600, ...owner }, (sink) => sink.write(text), { parentMode: 0o700, parentOwner: owner });
  });
}

/** ModifyHomeDirPermissions: the mount stage's directories inside a home become the user's, 0700. */
function adoptNotatedDirectories(ctx: StageContext, root: Root, users: UserDbCache, u: User): void {
  if (u.noCreateHome === true) return;
  const entry = findUser(users.get(), toBytes(u.name ?? ""));
  if (!entry) return;
  for (const dir of directoriesWithin(ctx.state.notatedDirectories, fromBytes(entry.home))) {
    root.lchown(dir, entry.uid, entry.gid);
    root.chmod(dir, 0o700);
  }
}

/** The tools way: each group, then each user, as upstream Ignition runs them. */
async function applyWithTools(ctx: StageContext, root: Root, passwd: Passwd): Promise<UserLookup> {
  const users = new UserDbCache(root);
  const bytes = toBytes;
  for (const g of passwd.groups ?? []) {
    const c = planGroup(g, findGroup(users.get(), bytes(g.name ?? "")) !== undefined, root.dir);
    if (!c) continue;
    await runAccountCommand(ctx, c).finally(() => root.forgetAll());
    users.touched("/etc/group");
  }
  for (const u of passwd.users ?? []) {
    const c = planUser(u, findUser(users.get(), bytes(u.name ?? "")) !== undefined, root.dir);
    if (c) {
      // The tool changed the tree behind Root's back (homes created, moved, removed).
      await runAccountCommand(ctx, c).finally(() => root.forgetAll());
      users.touched("/etc/passwd");
    }
    if (!shouldExist(u)) continue;
    adoptNotatedDirectories(ctx, root, users, u);
    const pw = planPasswordCommand(u, root.dir);
    if (pw) {
      await runAccountCommand(ctx, pw, "setting password for").finally(() => root.forgetAll());
      users.touched("/etc/passwd");
    }
    await writeKeys(ctx, root, users, u);
  }
  return new UserDbCache(root);
}

/**
 * Creates, modifies and deletes the config's groups and users (ctx.accounts picks the way);
 * returns where node owners are to be looked up afterwards.
 */
export async function applyPasswd(ctx: StageContext, root: Root, passwd: Passwd | null | undefined): Promise<UserLookup> {
  if (!passwd || !hasAccounts(passwd)) return new UserDbCache(root);
  return ctx.accounts === "tools" ? applyWithTools(ctx, root, passwd) : applyNative(ctx, root, passwd);
}

// ------------------------------------------------------------------ plan

/** Plan lines for the native way: one per config entry, one per home operation, one per database. */
export function planNative(ctx: StageContext, root: Root, passwd: Passwd | null | undefined): PlanEntry[] {
  if (!passwd || !hasAccounts(passwd)) return [];
  let plan: AccountPlan;
  try {
    plan = planAccounts(passwd, readAccountInputs(root, ctx.system), {
      notatedDirectories: ctx.state.notatedDirectories,
      keysFragment: writesKeysFragment(ctx.system.env),
    });
  } catch (e) {
    return [{ stage: "files", action: "fail", target: "passwd", detail: (e as Error).message }];
  }
  const out: PlanEntry[] = plan.steps.map((s) => ({ stage: "files", action: s.action, target: s.target, detail: s.detail || undefined }));
  for (const o of plan.ops) out.push({ stage: "files", action: o.op, target: fromBytes("path" in o ? o.path : o.to), detail: describeOp(o) });
  for (const d of plan.databases) out.push({ stage: "files", action: "write", target: d.path, detail: d.backup ? `previous contents kept in ${d.path}-` : "created" });
  return out;
}

/**
 * Plan lines for the tools way, simulating earlier entries' effect on which accounts exist (a
 * group added by this config is modified by a later entry, not added twice).
 */
export function planWithTools(passwd: Passwd | null | undefined, db: UserDb, rootDir: string, env: Record<string, string | undefined>): PlanEntry[] {
  const groups = new Set(db.groups.map((g) => g.name));
  const userSet = new Set(db.users.map((u) => u.name));
  const bytes = toBytes;
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
    add(planGroup(g, groups.has(bytes(name)), rootDir), `group ${name}`);
    if (shouldExist(g)) groups.add(bytes(name));
    else groups.delete(bytes(name));
  }
  const fragment = writesKeysFragment(env);
  for (const u of passwd?.users ?? []) {
    const name = u.name ?? "";
    const c = planUser(u, userSet.has(bytes(name)), rootDir);
    add(c, `user ${name}`, shouldExist(u) ? (u.sshAuthorizedKeys ?? []).length : 0);
    if (shouldExist(u)) {
      userSet.add(bytes(name));
      const keys = u.sshAuthorizedKeys ?? [];
      if (keys.length > 0) {
        const home = findUser(db, bytes(name))?.home ?? u.homeDir ?? `/home/${name}`;
        out.push({ stage: "files", action: "write-keys", target: fromBytes(authorizedKeysPath(home, fragment)), detail: `${keys.length} SSH key${keys.length === 1 ? "" : "s"} for ${name}, mode 0600` });
      }
    } else userSet.delete(bytes(name));
  }
  return out;
}
