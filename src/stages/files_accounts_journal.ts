// The accounts transaction in the journal (key "accounts"), for both ways of writing accounts.
// It is one operation: "intent" before anything changes, "done" with the sha256 of each account
// database once they are written. A resumed run skips it when the databases are still what the
// done record says; otherwise it takes back what the interrupted transaction left and runs it
// again, so that the result is the one an uninterrupted run makes (a home useradd finds already
// there would not get the skeleton, for one).
//
// Native way: the intent holds, besides what existed, the sums of every database before and the
// sums the plan will write, and the paths of its home operations. The home operations are made
// durable (syncfs) before the databases are renamed into place, and the renames are fsync'd, so
// a resumed run finds each database either as before or as planned:
//   - all as planned: the transaction was applied, only its set-aside files are left to delete;
//   - otherwise: each replaced database gets its old contents back (the hard link FsTransaction
//     keeps beside it), a database it created is removed, staged files are deleted, homes it
//     created are removed, a moved home is moved back and a removed one renamed back from where
//     it was set aside; then every database must be as before, else the run refuses.
// Tools way: the intent names the config's accounts that existed and the homes useradd would
// make; taking back is userdel/groupdel of what was added and removing those homes.
import { createHash } from "node:crypto";
import { basename, dirname } from "node:path";
import { JournalRefusal, type StageJournal } from "../executor/journal.ts";
import { opKey } from "../executor/journal_ops.ts";
import type { StageContext } from "../executor/stage.ts";
import type { Root } from "../system/root.ts";
import type { AccountPlan } from "../users/accounts.ts";
import { fromBytes } from "../users/cnum.ts";
import { DB_PATH } from "../users/db.ts";
import { directoriesWithin } from "../users/plan.ts";

/** The account databases a transaction writes (and whose sums the journal keeps). */
export const ACCOUNT_DB_PATHS: readonly string[] = Object.values(DB_PATH);

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

/** The sha256 of each account database (null when absent). No contents, no hashes of passwords in the clear. */
export function databaseSums(root: Root): Record<string, string | null> {
  const sums: Record<string, string | null> = {};
  for (const path of ACCOUNT_DB_PATHS) {
    const data = root.readFile(path);
    sums[path] = data === null ? null : sha256(data);
  }
  return sums;
}

/** True when the account databases match the recorded sums. */
export function databasesMatch(root: Root, recorded: unknown): boolean {
  if (!recorded || typeof recorded !== "object") return false;
  const now = databaseSums(root);
  return ACCOUNT_DB_PATHS.every((p) => (recorded as Record<string, unknown>)[p] === now[p]);
}

/**
 * Removes what an account writer the interruption stopped left in /etc: the tools' (and the
 * native locks') lock files — a lock names a process id, which after a reboot may well be a
 * live process (or this one), so they would refuse to run — and the tools' temp copies. No
 * account writer of this run is running yet.
 */
export function removeStaleAccountLocks(ctx: StageContext, root: Root): void {
  const names = ACCOUNT_DB_PATHS.map((p) => basename(p));
  for (const name of root.readdir("/etc")) {
    const db = names.find((d) => name === `${d}.lock` || name === `${d}+` || new RegExp(`^${d}\\.\\d+$`).test(name));
    if (!db) continue;
    root.unlink(`/etc/${name}`);
    ctx.log.info(`removed "/etc/${name}", left by an account writer the interruption stopped`);
  }
}

/** The hidden names FsTransaction gives what it sets aside beside a path: `.NAME.nexus-TAG-PID-N`. */
function setAside(root: Root, path: string, tag: "old" | "new" | "staged" | "removed"): string[] {
  const prefix = `.${basename(path).slice(0, 180)}.nexus-${tag}-`;
  return root
    .readdir(dirname(path))
    .filter((n) => n.startsWith(prefix) && /^\d+-\d+$/.test(n.slice(prefix.length)))
    .map((n) => `${dirname(path)}/${n}`);
}

/** The paths of a native plan's operations, by what taking them back needs. */
interface NativeIntentPaths {
  created: string[];
  moved: { from: string; to: string }[];
  removed: string[];
  keys: string[];
}

/** What the native transaction records before it starts: sums before and as planned, and the paths its operations touch. */
export function nativeIntent(root: Root, plan: AccountPlan): Record<string, unknown> {
  const before = databaseSums(root);
  const after = { ...before };
  for (const d of plan.databases) after[d.path] = sha256(Buffer.from(d.file.text, "latin1"));
  const paths: NativeIntentPaths = { created: [], moved: [], removed: [], keys: [] };
  for (const o of plan.ops) {
    if (o.op === "mkdir" || o.op === "create-mailbox") paths.created.push(fromBytes(o.path));
    else if (o.op === "move-home") paths.moved.push({ from: fromBytes(o.from), to: fromBytes(o.to) });
    else if (o.op === "remove-home" || o.op === "remove-mailbox") paths.removed.push(fromBytes(o.path));
    else if (o.op === "write-keys") paths.keys.push(fromBytes(o.path));
  }
  return { way: "native", before, after, ...paths };
}

/** Deletes what the transaction set aside for after its commit (replaced databases, removed homes, replaced keys). */
function deleteSetAside(root: Root, intent: Record<string, unknown>): void {
  const paths = intent as unknown as NativeIntentPaths;
  const beside = [...ACCOUNT_DB_PATHS, ...ACCOUNT_DB_PATHS.map((p) => `${p}-`)];
  for (const p of beside) for (const t of [...setAside(root, p, "old"), ...setAside(root, p, "staged")]) root.removeAll(t);
  for (const p of paths.removed ?? []) for (const t of setAside(root, p, "removed")) root.removeAll(t);
  for (const p of paths.keys ?? []) for (const t of [...setAside(root, p, "old"), ...setAside(root, p, "new")]) root.removeAll(t);
}

/**
 * Settles a native transaction the interruption stopped (its intent recorded, no done record):
 * "applied" when every database is as planned (what it set aside is deleted), else "taken back"
 * once the root is as before it; refuses when the databases are neither.
 */
export async function settleNative(ctx: StageContext, root: Root, intent: Record<string, unknown>): Promise<"applied" | "taken back"> {
  if (databasesMatch(root, intent.after)) {
    deleteSetAside(root, intent);
    ctx.log.info("accounts: the interrupted run had written every account database; what it set aside is deleted");
    return "applied";
  }
  const before = (intent.before ?? {}) as Record<string, string | null>;
  const after = (intent.after ?? {}) as Record<string, string | null>;
  await ctx.log.op("taking back the accounts transaction the interruption stopped", async () => {
    // Databases (and their "-" backups) the commit had replaced get their old contents back.
    for (const p of [...ACCOUNT_DB_PATHS, ...ACCOUNT_DB_PATHS.map((d) => `${d}-`)]) {
      const kept = setAside(root, p, "old");
      if (kept.length > 0) root.rename(kept[0]!, p);
      for (const t of [...kept.slice(1), ...setAside(root, p, "staged")]) root.removeAll(t);
    }
    // A database the commit created (none before) is removed.
    const now = databaseSums(root);
    for (const p of ACCOUNT_DB_PATHS) if (before[p] === null && now[p] !== null && now[p] === after[p]) root.unlink(p);
    const paths = intent as unknown as NativeIntentPaths;
    for (const p of paths.removed ?? []) {
      const aside = setAside(root, p, "removed");
      if (aside.length > 0 && !root.lstat(p)) root.rename(aside[0]!, p);
    }
    for (const m of [...(paths.moved ?? [])].reverse()) if (!root.lstat(m.from) && root.lstat(m.to)) root.rename(m.to, m.from);
    for (const p of paths.keys ?? []) for (const t of [...setAside(root, p, "old"), ...setAside(root, p, "new")]) root.removeAll(t);
    // Created paths, newest first; a home the mount stage put a filesystem in is not removed.
    for (const p of [...(paths.created ?? [])].reverse()) {
      if (!root.lstat(p) || directoriesWithin(ctx.state.notatedDirectories, p).length > 0) continue;
      root.removeAll(p);
    }
    root.forgetAll();
  });
  if (!databasesMatch(root, before)) {
    const differs = ACCOUNT_DB_PATHS.filter((p) => databaseSums(root)[p] !== before[p]);
    throw new JournalRefusal(
      `the account databases are neither as the interrupted run found them nor as it was writing them (${differs.map((p) => `"${p}"`).join(", ")})`,
      "restore the account databases from their \"-\" backups or reimage the disk and provision again",
    );
  }
  return "taken back";
}

/** How the accounts are written (`--accounts`); recorded in the transaction's intent. */
export type AccountsWay = "native" | "tools";

/**
 * The journal key of the accounts transaction and its record; refuses to resume a transaction
 * the interrupted run began, and did not finish, the other way (what it recorded is not what
 * this way takes back).
 */
export function accountsRecord(journal: StageJournal, way: AccountsWay) {
  const key = opKey.accounts();
  const rec = journal.recorded(key);
  const began = rec?.intent?.way;
  if (rec && !rec.done && began !== undefined && began !== way) {
    throw new JournalRefusal(
      `the interrupted run wrote the accounts with --accounts=${String(began)}, this one would with --accounts=${way}`,
      `run again with --accounts=${String(began)}`,
    );
  }
  return { key, rec };
}
