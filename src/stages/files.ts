// The files stage, in Ignition's order: users and groups (so that files can be owned by them),
// then files, directories and links, then systemd units, then the LUKS key files the disks
// stage left — all inside the target root.
import type { Config } from "../config/types.ts";
import { step, type PlanEntry, type Stage, type StageContext } from "../executor/stage.ts";
import { Root } from "../system/root.ts";
import { parseUserDb } from "../users/db.ts";
import type { UserLookup } from "../users/owners.ts";
import {
  applyNode,
  batchNodes,
  decideNode,
  describeNodeOp,
  orderNodes,
  planNodeEntry,
  type NodeApplyContext,
  type NodeEntry,
} from "./files_nodes.ts";
import { applyPasswd, hasAccounts, planNative, planWithTools } from "./files_passwd.ts";
import { applyUnits, planUnitEntries } from "./files_units.ts";
import { writeLuksTargetFiles } from "./files_luks.ts";
import { runLimited, writeConcurrency } from "./run_limited.ts";

/** True when the config (and the disks stage's LUKS volumes) ask nothing of this stage. */
export function isFilesNoop(config: Config, luksVolumes = 0): boolean {
  const s = config.storage;
  return !(s?.files?.length || s?.directories?.length || s?.links?.length) && !hasAccounts(config.passwd) && !config.systemd?.units?.length && luksVolumes === 0;
}

/** Creates nodes in orderNodes' order, a batch of independent ones at a time (see batchNodes). */
async function createNodes(ctx: StageContext, root: Root, entries: readonly NodeEntry[], users: UserLookup): Promise<void> {
  const nctx: NodeApplyContext = {
    root,
    users,
    fetch: (res, sink, opts) => ctx.fetcher.fetchInto(res, sink, opts),
  };
  const limit = writeConcurrency(ctx.system.env);
  for (const batch of batchNodes(entries)) {
    await runLimited(batch, limit, (e) => ctx.log.op(describeNodeOp(e), () => applyNode(nctx, e)));
  }
}

/** What plan() resolved, for run() with the same context. */
const planned = new WeakMap<StageContext, { root: Root; entries: NodeEntry[] }>();

export const filesStage: Stage = {
  name: "files",

  async plan(ctx) {
    const root = Root.open(ctx.root);
    const out: PlanEntry[] = [];
    const passwd = ctx.config.passwd;
    if (ctx.accounts === "tools") {
      const db = parseUserDb(root.readFile("/etc/passwd")?.toString("latin1") ?? null, root.readFile("/etc/group")?.toString("latin1") ?? null);
      out.push(...planWithTools(passwd, db, root.dir, ctx.system.env));
    } else {
      out.push(...planNative(ctx, root, passwd));
    }
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
    // changed the root in between, so the plan's ordering (and its Root's lookups) still hold
    // until the accounts change the tree.
    const fromPlan = planned.get(ctx);
    planned.delete(ctx);
    const root = fromPlan?.root ?? Root.open(ctx.root);
    const users = await step("create users and groups", () => applyPasswd(ctx, root, ctx.config.passwd));
    const entries =
      fromPlan && !hasAccounts(ctx.config.passwd)
        ? fromPlan.entries
        : await step("create files, directories and links", () => orderNodes(ctx.config.storage, (p) => root.resolveInRoot(p)));
    await step("create files, directories and links", () => createNodes(ctx, root, entries, users));
    await step("write systemd units", () => applyUnits(ctx, root, ctx.config.systemd?.units ?? []));
    await step("write LUKS key files and crypttab", () => writeLuksTargetFiles(ctx, root));
  },
};
