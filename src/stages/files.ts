// The files stage: users and groups first (so files can be owned by them), then files,
// directories and links, then systemd units — all inside the target root. Nodes and units that
// neither depend on the accounts nor affect them are written while shadow's tools run (see
// files_lanes.ts); the result is the one of the sequential order.
import type { Config, Passwd } from "../config/types.ts";
import { step, type PlanEntry, type Stage, type StageContext } from "../executor/stage.ts";
import { Root } from "../system/root.ts";
import { parseUserDb } from "../users/db.ts";
import { UserDbCache, type UserLookup } from "../users/owners.ts";
import { batchNodes, decideNode, orderNodes, planNodeEntry, type NodeApplyContext, type NodeEntry } from "./files_nodes.ts";
import { applyJournaledNode } from "./files_journal.ts";
import { journalOf } from "../executor/journal.ts";
import { accountPaths, splitLanes, SYSTEMD_DIR } from "./files_lanes.ts";
import { applyPasswd, homeBase, planPasswd } from "./files_passwd.ts";
import { applyUnits, planUnitEntries } from "./files_units.ts";
import { writeLuksTargetFiles } from "./files_luks.ts";
import { runLimited, writeConcurrency, type StopSignal } from "./run_limited.ts";

/** True when the config (and the disks stage's LUKS volumes) ask nothing of this stage. */
export function isFilesNoop(config: Config, luksVolumes = 0): boolean {
  const s = config.storage;
  const p = config.passwd;
  return (
    !(s?.files?.length || s?.directories?.length || s?.links?.length) &&
    !(p?.users?.length || p?.groups?.length) &&
    !config.systemd?.units?.length &&
    luksVolumes === 0
  );
}

/** Creates nodes (a subsequence of orderNodes' order) in that order (see batchNodes). */
async function createNodes(ctx: StageContext, root: Root, entries: readonly NodeEntry[], users: UserLookup, stop?: StopSignal): Promise<void> {
  const nctx: NodeApplyContext = {
    root,
    users,
    fetch: (res, sink, opts) => ctx.fetcher.fetchInto(res, sink, opts),
  };
  const limit = writeConcurrency(ctx.system.env);
  for (const batch of batchNodes(entries)) {
    if (stop?.stopped) return;
    await runLimited(batch, limit, (e) => applyJournaledNode(ctx, nctx, e), stop);
  }
}

/** Resolves a root path through the root's symlinks; a path that cannot be resolved stays as written. */
function resolvedOrSelf(root: Root, path: string): string {
  try {
    return root.resolveInRoot(path, true);
  } catch {
    return path;
  }
}

/**
 * Runs the account commands and, beside them, the nodes (and units) that do not depend on
 * them; then the remaining nodes. A failure on either side stops the other from starting
 * anything new; the first failure is thrown once both have settled.
 */
async function applyAccountsAndNodes(ctx: StageContext, root: Root, passwd: Passwd, entries: readonly NodeEntry[]): Promise<{ unitsDone: boolean }> {
  const db = new UserDbCache(root).get();
  const zone = accountPaths(passwd, db, homeBase(root), (p) => resolvedOrSelf(root, p));
  const lanes = splitLanes(entries, passwd, db, zone, { etc: resolvedOrSelf(root, "/etc"), systemd: resolvedOrSelf(root, SYSTEMD_DIR) });
  const units = ctx.config.systemd?.units ?? [];
  const unitsEarly = lanes.unitsEarly && units.length > 0;
  if (lanes.early.length > 0 || unitsEarly) {
    const what = `${lanes.early.length} of ${entries.length} node(s)${unitsEarly ? " and the units" : ""}`;
    ctx.log.info(`${what} do not depend on the accounts: written while the accounts are created`);
  }
  const stop: StopSignal = { stopped: false };
  let first: { error: unknown } | null = null;
  const lane = (p: Promise<void>) =>
    p.catch((e) => {
      stop.stopped = true;
      first ??= { error: e };
    });
  const fixed: UserLookup = { get: () => lanes.owners, touched: () => {} };
  await Promise.all([
    lane(step("create users and groups", () => applyPasswd(ctx, root, passwd, stop))),
    lane(
      (async () => {
        await step("create files, directories and links", () => createNodes(ctx, root, lanes.early, fixed, stop));
        if (unitsEarly && !stop.stopped) await step("write systemd units", () => applyUnits(ctx, root, units, stop));
      })(),
    ),
  ]);
  if (first) throw (first as { error: unknown }).error;
  await step("create files, directories and links", () => createNodes(ctx, root, lanes.late, new UserDbCache(root)));
  return { unitsDone: unitsEarly };
}

/** What plan() resolved, for run() with the same context. */
const planned = new WeakMap<StageContext, { root: Root; entries: NodeEntry[] }>();

export const filesStage: Stage = {
  name: "files",

  async plan(ctx) {
    const root = Root.open(ctx.root);
    const out: PlanEntry[] = [];
    const db = parseUserDb(root.readFile("/etc/passwd")?.toString("utf8") ?? null, root.readFile("/etc/group")?.toString("utf8") ?? null);
    out.push(...planPasswd(ctx.config.passwd, db, root.dir, ctx.system.env));
    try {
      const entries = orderNodes(ctx.config.storage, (p) => root.resolveInRoot(p));
      for (const e of entries) out.push(planNodeEntry(e, decideNode(root, e)));
      planned.set(ctx, { root, entries });
    } catch (e) {
      out.push({ stage: "files", action: "fail", target: "storage", detail: (e as Error).message });
    }
    out.push(...planUnitEntries(ctx.config.systemd?.units ?? []));
    return out;
  },

  async run(ctx) {
    if (isFilesNoop(ctx.config, ctx.state.luks.length)) {
      ctx.log.info("files: nothing to do");
      return;
    }
    // The engine plans a stage right before running it with the same context: nothing has
    // changed the root in between, so the plan's ordering (and its Root's lookups) still hold.
    const fromPlan = planned.get(ctx);
    planned.delete(ctx);
    const root = fromPlan?.root ?? Root.open(ctx.root);
    // Writes of an interrupted run may have left temp files next to what they were writing.
    if (journalOf(ctx).resuming) root.sweepStaleTemps();
    const entries = fromPlan?.entries ?? (await step("create files, directories and links", () => orderNodes(ctx.config.storage, (p) => root.resolveInRoot(p))));
    const passwd = ctx.config.passwd;
    let unitsDone = false;
    if (passwd?.users?.length || passwd?.groups?.length) {
      ({ unitsDone } = await applyAccountsAndNodes(ctx, root, passwd, entries));
    } else {
      await step("create files, directories and links", () => createNodes(ctx, root, entries, new UserDbCache(root)));
    }
    if (!unitsDone) await step("write systemd units", () => applyUnits(ctx, root, ctx.config.systemd?.units ?? []));
    await step("write LUKS key files and crypttab", () => writeLuksTargetFiles(ctx, root));
  },
};
