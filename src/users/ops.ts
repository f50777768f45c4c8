// The filesystem operations an account plan makes besides rewriting the databases, one per
// action the tools (or Ignition around them) would take, in their order. The files stage applies
// them through Root; a journal can record and check each one.

/** Owner changes of chown_tree(): -1 means "any" for old ids and "keep" for new ones. */
export interface OwnerChange {
  oldUid: number;
  newUid: number;
  oldGid: number;
  newGid: number;
}

/** One filesystem operation of an account plan. Paths are inside the target root. */
export type AccountOp =
  /** A directory useradd creates: a missing parent of a home (root, 0755) or the home itself. */
  | { op: "mkdir"; path: string; mode: number; uid: number; gid: number; user: string }
  /** The skeleton directory's contents copied into a new home, every node owned by the user. */
  | { op: "copy-skel"; from: string; to: string; uid: number; gid: number; user: string }
  /** An empty mail spool file for a new user. */
  | { op: "create-mailbox"; path: string; mode: number; uid: number; gid: number; user: string }
  /** A record of lastlog or faillog zeroed, or copied from another uid's record (a uid change). */
  | { op: "login-record"; path: string; recordSize: number; uid: number; from?: number; user: string }
  /** A home directory moved (usermod --move-home), with the owner change made below it. */
  | { op: "move-home"; from: string; to: string; owners: OwnerChange | null; user: string }
  /** chown_tree() on a home after a uid or primary group change. */
  | { op: "chown-tree"; path: string; owners: OwnerChange; user: string }
  /** A mailbox handed to a user's new uid. */
  | { op: "chown"; path: string; uid: number; user: string }
  /** A deleted user's home directory removed with everything in it. */
  | { op: "remove-home"; path: string; user: string }
  /** A deleted user's mailbox removed. */
  | { op: "remove-mailbox"; path: string; user: string }
  /** A directory the mount stage created inside a home, handed to its user with mode 0700. */
  | { op: "adopt"; path: string; uid: number; gid: number; user: string }
  /** The user's authorized SSH keys. */
  | { op: "write-keys"; path: string; uid: number; gid: number; keys: readonly string[]; user: string };

const octal = (m: number) => "0" + m.toString(8).padStart(3, "0");

/** A one-line, secret-free description of an operation, for logs and plans. */
export function describeOp(o: AccountOp): string {
  switch (o.op) {
    case "mkdir":
      return `creating directory "${o.path}" (mode ${octal(o.mode)}, owner ${o.uid}:${o.gid})`;
    case "copy-skel":
      return `copying "${o.from}" into "${o.to}" for user "${o.user}"`;
    case "create-mailbox":
      return `creating mailbox "${o.path}" for user "${o.user}"`;
    case "login-record":
      return o.from === undefined ? `resetting the ${o.path} record of uid ${o.uid}` : `copying the ${o.path} record of uid ${o.from} to uid ${o.uid}`;
    case "move-home":
      return `moving home directory "${o.from}" to "${o.to}" for user "${o.user}"`;
    case "chown-tree":
      return `changing owners under "${o.path}" for user "${o.user}"`;
    case "chown":
      return `changing the owner of "${o.path}" to uid ${o.uid}`;
    case "remove-home":
      return `removing home directory "${o.path}" of user "${o.user}"`;
    case "remove-mailbox":
      return `removing mailbox "${o.path}" of user "${o.user}"`;
    case "adopt":
      return `handing directory "${o.path}" to user "${o.user}" (mode 0700)`;
    case "write-keys":
      return `adding ssh keys to user "${o.user}"`;
  }
}
