// Who owns a node: the ids a config's user and group name, looked up in the target root's own
// account databases (never the host's), read once until something rewrites them. Names are
// compared as bytes, as the databases hold them.
import type { NodeUser } from "../config/types.ts";
import type { Root } from "../system/root.ts";
import { toBytes } from "./cnum.ts";
import { findGroup, findUser, parseUserDb, type UserDb } from "./db.ts";

/** Owner ids from a node's user/group (id wins over name), names looked up in the root. */
export function resolveOwner(
  user: NodeUser | null | undefined,
  group: NodeUser | null | undefined,
  defaults: { uid: number; gid: number },
  db: () => UserDb,
): { uid: number; gid: number } {
  let { uid, gid } = defaults;
  if (user?.id !== null && user?.id !== undefined) uid = user.id;
  else if (user?.name) {
    const u = findUser(db(), toBytes(user.name));
    if (!u) throw new Error(`Cannot find user "${user.name}" in the root's /etc/passwd`);
    uid = u.uid;
  }
  if (group?.id !== null && group?.id !== undefined) gid = group.id;
  else if (group?.name) {
    const g = findGroup(db(), toBytes(group.name));
    if (!g) throw new Error(`Cannot find group "${group.name}" in the root's /etc/group`);
    gid = g.gid;
  }
  return { uid, gid };
}

/** Reads the root's user database once, until a node rewrites /etc/passwd or /etc/group. */
export class UserDbCache implements UserLookup {
  private db: UserDb | null = null;
  constructor(private readonly root: Root) {}
  get(): UserDb {
    this.db ??= parseUserDb(
      this.root.readFile("/etc/passwd")?.toString("latin1") ?? null,
      this.root.readFile("/etc/group")?.toString("latin1") ?? null,
    );
    return this.db;
  }
  /** Forgets the cache when a write touched one of the databases. */
  touched(resolved: string): void {
    if (resolved === "/etc/passwd" || resolved === "/etc/group") this.db = null;
  }
}

/** Where node owners' names are looked up. */
export interface UserLookup {
  get(): UserDb;
  /** Told about every file written (so a cache can drop a rewritten database). */
  touched(resolved: string): void;
}
