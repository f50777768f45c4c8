// The files stage: users and groups first (so files can be owned by them), then files,
// directories and links, then systemd units — all inside the target root.
import type { Config } from "../config/types.ts";
import type { PlanEntry, Stage, StageContext } from "../executor/stage.ts";
import { Root } from "../system/root.ts";
import { parseUserDb } from "../users/db.ts";
import { applyNode, batchNodes, decideNode, describeNodeOp, orderNodes, planNodeEntry, UserDbCache, type NodeApplyContext } from "./files_nodes.ts";
import { applyPasswd, planPasswd } from "./files_passwd.ts";
import { applyUnits, planUnitEntries } from "./files_units.ts";
import { readLuksRecords, writeLuksTargetFiles } from "./disks.ts";
import { runLimited, writeConcurrency } from "./run_limited.ts";

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

/** Runs one step, naming it in any failure while keeping the original as cause. */
async function step(what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    throw new Error(`Cannot ${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/** Creates every node of the config in Ignition's order (see batchNodes). */
async function createNodes(ctx: StageContext, root: Root): Promise<void> {
  const nctx: NodeApplyContext = {
    root,
    users: new UserDbCache(root),
    fetch: (res, sink, opts) => ctx.fetcher.fetchInto(res, sink, opts),
  };
  const limit = writeConcurrency(ctx.system.env);
  for (const batch of batchNodes(orderNodes(ctx.config.storage, (p) => root.resolveInRoot(p)))) {
    await runLimited(batch, limit, (e) => ctx.log.op(describeNodeOp(e), () => applyNode(nctx, e)));
  }
}

export const filesStage: Stage = {
  name: "files",

  async plan(ctx) {
    const root = Root.open(ctx.root);
    const out: PlanEntry[] = [];
    const db = parseUserDb(root.readFile("/etc/passwd")?.toString("utf8") ?? null, root.readFile("/etc/group")?.toString("utf8") ?? null);
    out.push(...planPasswd(ctx.config.passwd, db, root.dir, ctx.system.env));
    try {
      for (const e of orderNodes(ctx.config.storage, (p) => root.resolveInRoot(p))) out.push(planNodeEntry(e, decideNode(root, e)));
    } catch (e) {
      out.push({ stage: "files", action: "fail", target: "storage", detail: (e as Error).message });
    }
    out.push(...planUnitEntries(ctx.config.systemd?.units ?? []));
    return out;
  },

  async run(ctx) {
    if (isFilesNoop(ctx.config, readLuksRecords(ctx.state).length)) {
      ctx.log.info("files: nothing to do");
      return;
    }
    const root = Root.open(ctx.root);
    await step("create users and groups", () => applyPasswd(ctx, root, ctx.config.passwd));
    await step("create files, directories and links", () => createNodes(ctx, root));
    await step("write systemd units", () => applyUnits(ctx, root, ctx.config.systemd?.units ?? []));
    await step("write LUKS key files and crypttab", () => writeLuksTargetFiles(ctx, root));
  },
};
