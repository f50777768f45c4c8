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

/** Writes a user's authorized keys as the user owns them: dirs 0700, file 0600. */
async function writeKeys(ctx: StageContext, root: Root, users: UserDbCache, u: User): Promise<void> {
  const keys = u.sshAuthorizedKeys ?? [];
  if (keys.length === 0) return;
  const name = u.name ?? "";
  await ctx.log.op(`adding ssh keys to user "${name}"`, async () => {
    const entry = findUser(users.get(), name);
    if (!entry) throw new Error(`Cannot add SSH keys to user "${name}": no such user in the root's /etc/passwd`);
    const path = authorizedKeysPath(entry.home, writesKeysFragment(ctx.system.env));
    const owner = { uid: entry.uid, gid: entry.gid };
    const text = new TextEncoder().encode(authorizedKeysText(keys));
    await root.writeFileWithParents(path, { mode: 0o600, ...owner }, (sink) => sink.write(text), { parentMode: 0o700, parentOwner: owner });
  });
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
  for (const g of passwd?.groups ?? []) {
    if (stop?.stopped) return;
    const c = planGroup(g, findGroup(users.get(), g.name ?? "") !== undefined, root.dir);
    if (!c) continue;
    await runAccountCommand(ctx, c).finally(() => root.forgetAll());
    users.touched("/etc/group");
  }
  for (const u of passwd?.users ?? []) {
    if (stop?.stopped) return;
    const c = planUser(u, findUser(users.get(), u.name ?? "") !== undefined, root.dir);
    if (c) {
      // The tool changed the tree behind Root's back (homes created, moved, removed).
      await runAccountCommand(ctx, c).finally(() => root.forgetAll());
      users.touched("/etc/passwd");
      if (c.cmd === "useradd") adoptNotatedDirectories(ctx, root, users, u.name ?? "");
    }
    if (shouldExist(u)) await writeKeys(ctx, root, users, u);
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
