// passwd.users and passwd.groups as shadow's tools run them (the `--accounts=tools` way): which
// tool runs with which arguments, exactly as Ignition drives useradd/usermod/userdel/groupadd/
// groupmod/groupdel with --root; plus what both ways share (where keys go, their text). Whether
// an account exists is decided by the caller from the root's own databases.
import type { Group, User } from "../config/types.ts";
import type { CommandName } from "../system/commands.ts";

/** One shadow-utils invocation. */
export interface AccountCommand {
  cmd: Extract<CommandName, "useradd" | "usermod" | "userdel" | "groupadd" | "groupmod" | "groupdel">;
  /** Arguments after the program name, `--root <dir>` included. */
  args: string[];
  /** The account acted on. */
  name: string;
}

/** Where a user's SSH keys go. */
export const KEYS_FRAGMENT_NAME = "nexus";

/** Argument options whose value must never be logged. */
const SECRET_OPTIONS = new Set(["--password", "-p"]);

const isTrue = (b: boolean | null | undefined): boolean => b === true;
const nonEmpty = (s: string | null | undefined): s is string => typeof s === "string" && s !== "";

/** True unless shouldExist is explicitly false. */
export function shouldExist(a: { shouldExist?: boolean | null }): boolean {
  return a.shouldExist !== false;
}

/**
 * The command that brings one group to its described state, or null when nothing is to do
 * (a group that should not exist and does not). An existing group is modified, not re-added.
 */
export function planGroup(g: Group, exists: boolean, root: string): AccountCommand | null {
  const name = g.name ?? "";
  if (!shouldExist(g)) {
    return exists ? { cmd: "groupdel", args: ["--root", root, name], name } : null;
  }
  const args = ["--root", root];
  if (g.gid !== null && g.gid !== undefined) args.push("--gid", String(g.gid));
  if (nonEmpty(g.passwordHash)) args.push("--password", g.passwordHash);
  if (!exists && isTrue(g.system)) args.push("--system");
  args.push(name);
  return { cmd: exists ? "groupmod" : "groupadd", args, name };
}

/**
 * The command that brings one user to its described state, or null when nothing is to do.
 * New users get a home unless noCreateHome, and the password "*" (no password login) unless
 * a hash is given; existing users are modified with the fields the config sets.
 */
export function planUser(u: User, exists: boolean, root: string): AccountCommand | null {
  const name = u.name ?? "";
  if (!shouldExist(u)) {
    return exists ? { cmd: "userdel", args: ["--remove", "--root", root, name], name } : null;
  }
  const args = ["--root", root];
  if (exists) {
    if (nonEmpty(u.homeDir)) args.push("--home", u.homeDir, "--move-home");
  } else {
    if (nonEmpty(u.homeDir)) args.push("--home-dir", u.homeDir);
    args.push(isTrue(u.noCreateHome) ? "--no-create-home" : "--create-home");
    if (isTrue(u.noUserGroup)) args.push("--no-user-group");
    if (isTrue(u.system)) args.push("--system");
    if (isTrue(u.noLogInit)) args.push("--no-log-init");
  }
  if (u.passwordHash !== null && u.passwordHash !== undefined) {
    args.push("--password", u.passwordHash === "" ? "*" : u.passwordHash);
  } else if (!exists) {
    args.push("--password", "*");
  }
  if (u.uid !== null && u.uid !== undefined) args.push("--uid", String(u.uid));
  if (nonEmpty(u.gecos)) args.push("--comment", u.gecos);
  if (nonEmpty(u.primaryGroup)) args.push("--gid", u.primaryGroup);
  if (u.groups && u.groups.length > 0) args.push("--groups", u.groups.join(","));
  if (nonEmpty(u.shell)) args.push("--shell", u.shell);
  args.push(name);
  return { cmd: exists ? "usermod" : "useradd", args, name };
}

/**
 * The second usermod Ignition runs for a user with a password hash (SetPasswordHash), after
 * creating or modifying it; null without a hash.
 */
export function planPasswordCommand(u: User, root: string): AccountCommand | null {
  if (u.passwordHash === null || u.passwordHash === undefined) return null;
  const name = u.name ?? "";
  return { cmd: "usermod", args: ["--root", root, "--password", u.passwordHash === "" ? "*" : u.passwordHash, name], name };
}

/** The argument list with every secret value replaced, for logs and errors. */
export function redactArgs(args: readonly string[]): string[] {
  return args.map((a, i) => (i > 0 && SECRET_OPTIONS.has(args[i - 1]!) ? "<redacted>" : a));
}

/** The authorized_keys file for a home directory: the nexus fragment or the classic file. */
export function authorizedKeysPath(home: string, fragment: boolean): string {
  const base = home.replace(/\/+$/, "");
  return fragment ? `${base}/.ssh/authorized_keys.d/${KEYS_FRAGMENT_NAME}` : `${base}/.ssh/authorized_keys`;
}

/** The file text for a user's keys: one per line, newline-terminated. */
export function authorizedKeysText(keys: readonly string[]): string {
  const text = keys.join("\n");
  return text.endsWith("\n") ? text : text + "\n";
}

/**
 * Whether keys go to the authorized_keys.d fragment (default) or ~/.ssh/authorized_keys, from
 * NEXUS_WRITE_AUTHORIZED_KEYS_FRAGMENT or Ignition's IGNITION_WRITE_AUTHORIZED_KEYS_FRAGMENT.
 */
export function writesKeysFragment(env: Record<string, string | undefined>): boolean {
  const v = env.NEXUS_WRITE_AUTHORIZED_KEYS_FRAGMENT ?? env.IGNITION_WRITE_AUTHORIZED_KEYS_FRAGMENT;
  return v === undefined || !/^(false|0|no)$/i.test(v.trim());
}

/** A one-line, secret-free summary of what a command does to an account, for plans. */
export function describeCommand(c: AccountCommand, keys = 0): string {
  const parts: string[] = [];
  const a = c.args;
  const val = (opt: string) => {
    const i = a.indexOf(opt);
    return i >= 0 ? a[i + 1] : undefined;
  };
  for (const [opt, label] of [
    ["--uid", "uid"],
    ["--gid", c.cmd.startsWith("group") ? "gid" : "primary group"],
    ["--groups", "groups"],
    ["--home-dir", "home"],
    ["--home", "home"],
    ["--shell", "shell"],
    ["--comment", "comment"],
  ] as const) {
    const v = val(opt);
    if (v !== undefined) parts.push(`${label} ${v}`);
  }
  if (a.includes("--system")) parts.push("system");
  if (a.includes("--no-create-home")) parts.push("no home");
  if (a.includes("--no-user-group")) parts.push("no user group");
  const pw = val("--password");
  if (pw !== undefined) parts.push(pw === "*" ? "password login disabled" : "password hash set");
  if (keys > 0) parts.push(`${keys} SSH key${keys === 1 ? "" : "s"}`);
  return parts.join(", ");
}

/** The directories of `dirs` (root paths) at or below a home directory. */
export function directoriesWithin(dirs: readonly string[], home: string): string[] {
  const base = home.replace(/\/+$/, "") || "/";
  return dirs.filter((d) => d === base || d.startsWith(base + "/"));
}
