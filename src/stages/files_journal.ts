// The files stage and the journal (executor/journal.ts): each node is one operation. Before a
// node is written whose second application would differ from the first (a new file when
// overwrite is false: it would then "exist"; an append: it would append twice; a new symlink:
// its owner would be left alone), an intent records what the stage found; a done record says
// what the node is afterwards. Resuming, a node done and still so is skipped; one the
// interrupted run began or finished but that no longer holds is written again as its intent
// says (over its own half-made self, or appending after the original bytes once more).
import { createHash } from "node:crypto";
import { JournalRefusal, journalOf, type RecordedOp } from "../executor/journal.ts";
import { opKey } from "../executor/journal_ops.ts";
import type { StageContext } from "../executor/stage.ts";
import type { Root } from "../system/root.ts";
import {
  applyNode,
  decideNode,
  describeNodeOp,
  describeStats,
  hashRootFile,
  type NodeApplyContext,
  type NodeDecision,
  type NodeEntry,
  type NodeResult,
} from "./files_nodes.ts";

const hasSource = (r: { source?: string | null } | null | undefined): boolean => r?.source !== null && r?.source !== undefined;

/** True when the node is still what a done record says it became. */
export function nodeHolds(root: Root, e: NodeEntry, result: NodeResult | undefined): boolean {
  if (!result) return false;
  const st = root.lstat(e.path);
  if (!st) return false;
  const same = (r: { mode?: number; uid: number; gid: number }) => (r.mode === undefined || (st.mode & 0o7777) === r.mode) && st.uid === r.uid && st.gid === r.gid;
  switch (result.kind) {
    case "file":
      return st.isFile() && same(result) && st.size === result.size && (result.sha256 === undefined || hashRootFile(root, e.path) === result.sha256);
    case "directory":
      return st.isDirectory() && same(result);
    case "symlink":
      return st.isSymbolicLink() && root.readlink(e.path) === result.target && same({ uid: result.uid, gid: result.gid });
    case "hardlink": {
      const t = root.lstat(result.target);
      return !!t && t.dev === st.dev && t.ino === st.ino;
    }
  }
}

/** The intent to record before applying a node with this decision; undefined when redoing it is harmless anyway. */
export function intentFor(root: Root, e: NodeEntry, decision: NodeDecision): Record<string, unknown> | undefined {
  if (e.kind === "file") {
    if (decision.action === "create") return { decision: "create" };
    if (decision.action === "keep" && (e.node.append ?? []).some(hasSource)) {
      const st = root.lstat(e.path);
      return { decision: "append", size: st?.size ?? 0, sha256: hashRootFile(root, e.path) };
    }
  }
  if (e.kind === "link" && e.node.hard !== true && decision.action === "create") return { decision: "create" };
  return undefined;
}

/** How to apply a node again that the interrupted run began or finished (see the file comment). */
export function redoDecision(root: Root, e: NodeEntry, rec: RecordedOp): NodeDecision {
  const intent = rec.intent;
  if (!intent) return decideNode(root, e);
  if (intent.decision === "create") {
    const st = root.lstat(e.path);
    return st ? { action: "overwrite", existing: describeStats(st) } : { action: "create" };
  }
  if (intent.decision === "append") {
    const size = Number(intent.size);
    const current = root.readFile(e.path);
    if (current && createHash("sha256").update(current).digest("hex") === intent.sha256) return { action: "keep", existing: "file" };
    if (current && current.length >= size && createHash("sha256").update(current.subarray(0, size)).digest("hex") === intent.sha256) {
      return { action: "keep", existing: "file", base: size };
    }
    throw new JournalRefusal(
      `"${e.path}" no longer starts with the contents it had before the interrupted run appended to it`,
      `restore "${e.path}" or reimage the disk and provision again`,
    );
  }
  return decideNode(root, e);
}

/** Applies one node as a journaled operation (see the file comment). */
export async function applyJournaledNode(ctx: StageContext, nctx: NodeApplyContext, e: NodeEntry): Promise<void> {
  const journal = journalOf(ctx);
  const key = opKey.node(e.path);
  const rec = journal.recorded(key);
  if (rec?.done && nodeHolds(nctx.root, e, rec.result as NodeResult | undefined)) {
    ctx.log.info(`"${e.path}": written by the interrupted run and still as it left it`);
    return;
  }
  const decision = rec ? redoDecision(nctx.root, e, rec) : decideNode(nctx.root, e);
  if (!rec?.intent && decision.action !== "fail") {
    const intent = intentFor(nctx.root, e, decision);
    if (intent) await journal.intent(key, intent);
  }
  const { result } = await ctx.log.op(describeNodeOp(e), () => applyNode(nctx, e, decision));
  await journal.done(key, result);
}

const sha256 = (data: Uint8Array): string => createHash("sha256").update(data).digest("hex");

/** Where a journaled append to a whole file (presets, crypttab) starts. */
export type AppendStart =
  /** The interrupted run's append is there and complete. */
  | "done"
  | {
      /** How many bytes of the file to keep before appending (null: none, start a new file). */
      keep: number | null;
      /** The intent to record first, when none is recorded yet. */
      intent?: { before: { size: number; sha256: string } | null };
    };

/**
 * Decides where appending to `path` starts, given what is recorded for the operation: after
 * the whole file (a first attempt), after what was there before the interrupted run appended,
 * or nowhere ("done"). Contents that no longer start with what was there refuse the run.
 */
export function appendStart(root: Root, path: string, rec: RecordedOp | undefined): AppendStart {
  const current = root.lstat(path)?.isFile() ? root.readFile(path) : null;
  if (rec?.done && current && sha256(current) === rec.result?.sha256) return "done";
  const before = rec?.intent?.before as { size: number; sha256: string } | null | undefined;
  if (!rec?.intent || before === undefined) {
    return { keep: current ? current.length : null, intent: { before: current ? { size: current.length, sha256: sha256(current) } : null } };
  }
  if (before === null) return { keep: null };
  if (current && current.length >= before.size && sha256(current.subarray(0, before.size)) === before.sha256) return { keep: before.size };
  throw new JournalRefusal(`"${path}" no longer starts with what it held before the interrupted run appended to it`, `restore "${path}" or reimage the disk and provision again`);
}
