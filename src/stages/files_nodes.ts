// storage.files, storage.directories and storage.links with Ignition's semantics.
//
// Order: every node path is resolved (symlinks chased inside the root) up front; two nodes that
// resolve to the same place are an error. Directories, files and symlinks are then created from
// the shallowest resolved path to the deepest (stable for equal depth: directories, files,
// links, each in config order), and hard links last so they can point at deeper files.
//
// Each node: with overwrite, whatever is at the path is replaced. Without it (the default), an
// existing node of the wrong kind or a file with new contents is an error; an existing file is
// kept and only appended to, chmod-ed and chown-ed; an existing directory is kept; an existing
// link must already point where the config says. New files default to 0644, new directories
// and every created parent to 0755, owned by root; a kept node keeps its mode and owner unless
// the config sets them.
import { createHash } from "node:crypto";
import type { Stats } from "node:fs";
import { dirname } from "node:path";
import type { Directory, File, Link, NodeUser, Resource, Storage } from "../config/types.ts";
import type { PlanEntry } from "../executor/stage.ts";
import type { FetchOptions } from "../resource/types.ts";
import { cleanPath, pathDepth } from "../system/paths.ts";
import { Root, type WriteSink } from "../system/root.ts";
import { resolveOwner, type UserLookup } from "../users/owners.ts";

export const DEFAULT_FILE_MODE = 0o644;
export const DEFAULT_DIRECTORY_MODE = 0o755;

/** One node of the config, with where its path resolved when the stage planned. */
export type NodeEntry =
  | { kind: "directory"; path: string; resolved: string; node: Directory }
  | { kind: "file"; path: string; resolved: string; node: File }
  | { kind: "link"; path: string; resolved: string; node: Link };

/** What happens to one node, decided from the config and what is at its path now. */
export type NodeDecision =
  | { action: "create" }
  | { action: "overwrite"; existing: string }
  /** `base`: appends go after the first base bytes (an interrupted append being redone). */
  | { action: "keep"; existing: string; base?: number }
  | { action: "fail"; reason: string };

/** What a node is once applied: what checking it later needs (sizes and sums, never contents). */
export type NodeResult =
  | { kind: "file"; mode: number; uid: number; gid: number; size: number; sha256?: string }
  | { kind: "directory"; mode: number; uid: number; gid: number }
  | { kind: "symlink"; target: string; uid: number; gid: number }
  | { kind: "hardlink"; target: string };

/** Two config nodes that land on the same path after symlinks are resolved. */
export class NodeConflictError extends Error {
  constructor(
    readonly path: string,
    readonly resolved: string,
    readonly other: string,
  ) {
    super(`Cannot create "${path}": it resolves to "${resolved}" after following symlinks, like "${other}"`);
    this.name = "NodeConflictError";
  }
}

const hasSource = (r: Resource | null | undefined): boolean => r?.source !== null && r?.source !== undefined;

/** A readable kind for an existing node. */
export function describeStats(st: Stats): string {
  if (st.isSymbolicLink()) return "symlink";
  if (st.isDirectory()) return "directory";
  if (st.isFile()) return "file";
  return "special file";
}

/**
 * Resolves and orders every node of storage (see the file comment). `resolve` maps a config
 * path to its clean path inside the root after following symlinks, last component excluded.
 */
export function orderNodes(storage: Storage | null | undefined, resolve: (path: string) => string): NodeEntry[] {
  const seen = new Map<string, string>();
  const claim = (path: string): string => {
    const resolved = resolve(path);
    const other = seen.get(resolved);
    if (other !== undefined) throw new NodeConflictError(path, resolved, other);
    seen.set(resolved, path);
    return resolved;
  };
  const sorted: NodeEntry[] = [];
  const hard: NodeEntry[] = [];
  for (const d of storage?.directories ?? []) {
    const path = cleanPath(d.path ?? "/");
    sorted.push({ kind: "directory", path, resolved: claim(path), node: d });
  }
  for (const f of storage?.files ?? []) {
    const path = cleanPath(f.path ?? "/");
    sorted.push({ kind: "file", path, resolved: claim(path), node: f });
  }
  for (const l of storage?.links ?? []) {
    const path = cleanPath(l.path ?? "/");
    const e: NodeEntry = { kind: "link", path, resolved: claim(path), node: l };
    (l.hard === true ? hard : sorted).push(e);
  }
  // Array.prototype.sort is stable: equal depths keep directories, files, links in config order.
  sorted.sort((a, b) => pathDepth(a.resolved) - pathDepth(b.resolved));
  return [...sorted, ...hard];
}

/**
 * Splits ordered nodes into batches that may be written concurrently: consecutive nodes of the
 * same depth (none can be inside another, and their parents are done), the symlinks of a depth
 * after its other nodes (a symlink's default owner is its target's, which may be one of them),
 * and each hard link on its own, in order, after everything else.
 */
export function batchNodes(entries: readonly NodeEntry[]): NodeEntry[][] {
  const batches: NodeEntry[][] = [];
  let current = "";
  for (const e of entries) {
    const hard = e.kind === "link" && e.node.hard === true;
    const group = hard ? "" : `${pathDepth(e.resolved)}:${e.kind === "link" ? "link" : "node"}`;
    if (hard || group !== current || batches.length === 0) {
      batches.push([e]);
      current = group;
    } else {
      batches[batches.length - 1]!.push(e);
    }
  }
  return batches;
}

/** Decides a file node given what is at its path (st, null when nothing). */
export function decideFile(f: File, st: Stats | null): NodeDecision {
  if (!st) return { action: "create" };
  if (f.overwrite === true) return { action: "overwrite", existing: describeStats(st) };
  if (!st.isFile()) return { action: "fail", reason: `a ${describeStats(st)} exists there and overwrite is false` };
  if (hasSource(f.contents)) return { action: "fail", reason: "a file exists there and overwrite is false" };
  return { action: "keep", existing: "file" };
}

/** Decides a directory node given what is at its path. */
export function decideDirectory(d: Directory, st: Stats | null): NodeDecision {
  if (!st) return { action: "create" };
  if (d.overwrite === true) return { action: "overwrite", existing: describeStats(st) };
  if (!st.isDirectory()) return { action: "fail", reason: `a ${describeStats(st)} exists there and overwrite is false` };
  return { action: "keep", existing: "directory" };
}

/**
 * Decides a link node given what is at its path; for a hard link `target` is what is at the
 * link's target path, for a symlink the existing link's target text (null if not a symlink).
 */
export function decideLink(l: Link, st: Stats | null, target: { stats: Stats | null; text: string | null }): NodeDecision {
  if (!st) return { action: "create" };
  if (l.overwrite === true) return { action: "overwrite", existing: describeStats(st) };
  if (l.hard === true) {
    if (!target.stats) return { action: "fail", reason: `its target "${l.target}" does not exist` };
    if (st.dev === target.stats.dev && st.ino === target.stats.ino) return { action: "keep", existing: "hard link" };
    return { action: "fail", reason: `a ${describeStats(st)} that is not "${l.target}" exists there and overwrite is false` };
  }
  if (!st.isSymbolicLink()) return { action: "fail", reason: `a ${describeStats(st)} exists there and overwrite is false` };
  if (target.text !== null && cleanPath(target.text) === cleanPath(l.target ?? "")) return { action: "keep", existing: "symlink" };
  return { action: "fail", reason: `a symlink to "${target.text}" exists there and overwrite is false` };
}

/** What is at a config path right now, with a link's target details. */
function observe(root: Root, e: NodeEntry): { st: Stats | null; target: { stats: Stats | null; text: string | null } } {
  const st = root.lstat(e.path);
  let target = { stats: null as Stats | null, text: null as string | null };
  if (e.kind === "link" && st) {
    if (e.node.hard === true) target = { stats: root.lstat(e.node.target ?? ""), text: null };
    else if (st.isSymbolicLink()) target = { stats: null, text: root.readlink(e.path) };
  }
  return { st, target };
}

/** Decides any node from the root's current state. */
export function decideNode(root: Root, e: NodeEntry): NodeDecision {
  const { st, target } = observe(root, e);
  switch (e.kind) {
    case "file":
      return decideFile(e.node, st);
    case "directory":
      return decideDirectory(e.node, st);
    case "link":
      return decideLink(e.node, st, target);
  }
}

/** Everything applying nodes needs. */
export interface NodeApplyContext {
  root: Root;
  users: UserLookup;
  fetch(res: Resource, sink: { write(chunk: Uint8Array): void; reset(): void }, opts?: FetchOptions): Promise<void>;
}

/** Streams resources one after another into a write sink, each restartable on its own. */
async function fillFrom(ctx: NodeApplyContext, sink: WriteSink, resources: readonly Resource[]): Promise<void> {
  for (const res of resources) {
    const start = sink.size;
    await ctx.fetch(res, { write: (c) => sink.write(c), reset: () => sink.truncate(start) });
  }
}

const octal = (m: number): string => "0" + m.toString(8).padStart(3, "0");

/** Applies one directory node. */
async function applyDirectory(ctx: NodeApplyContext, e: NodeEntry & { kind: "directory" }, decision: NodeDecision): Promise<NodeResult> {
  const { root } = ctx;
  const d = e.node;
  let existing: Stats | null = null;
  if (decision.action === "overwrite") root.removeAll(e.path);
  if (decision.action === "keep") existing = root.lstat(e.path);
  const owner = resolveOwner(d.user, d.group, existing ? { uid: existing.uid, gid: existing.gid } : { uid: 0, gid: 0 }, () => ctx.users.get());
  if (!existing) root.mkdirAll(e.path, DEFAULT_DIRECTORY_MODE);
  // Owner first: chown may clear setuid/setgid, which the mode then sets.
  root.lchown(e.path, owner.uid, owner.gid);
  if (d.mode !== null && d.mode !== undefined) root.chmod(e.path, d.mode);
  return { kind: "directory", ...attrsOf(root, e.path) };
}

/** A write sink that also hashes what is written; the sum is unknown once a fetch started over. */
function hashingSink(sink: WriteSink): { sink: WriteSink; sum(): string | undefined } {
  const hash = createHash("sha256");
  let exact = true;
  return {
    sink: {
      write(chunk) {
        hash.update(chunk);
        sink.write(chunk);
      },
      get size() {
        return sink.size;
      },
      truncate(n) {
        if (n !== sink.size) exact = false;
        sink.truncate(n);
      },
    },
    sum: () => (exact ? hash.digest("hex") : undefined),
  };
}

/** The sha256 of a file in the root (hex), or undefined when it is not there. */
export function hashRootFile(root: Root, path: string): string | undefined {
  const data = root.readFile(path);
  return data ? createHash("sha256").update(data).digest("hex") : undefined;
}

/** The mode and owner of a node now (not following it), as a result records them. */
function attrsOf(root: Root, path: string): { mode: number; uid: number; gid: number } {
  const st = root.lstat(path);
  if (!st) throw new Error(`Cannot check "${path}": it does not exist after being written`);
  return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

/** Applies one file node: a single atomic write of base contents plus appends. */
async function applyFile(ctx: NodeApplyContext, e: NodeEntry & { kind: "file" }, decision: NodeDecision): Promise<NodeResult> {
  const { root } = ctx;
  const f = e.node;
  const kept = decision.action === "keep" ? root.lstat(e.path) : null;
  const defaults = kept ? { uid: kept.uid, gid: kept.gid } : { uid: 0, gid: 0 };
  const owner = resolveOwner(f.user, f.group, defaults, () => ctx.users.get());
  const mode = f.mode ?? (kept ? kept.mode & 0o7777 : DEFAULT_FILE_MODE);
  const appends = (f.append ?? []).filter(hasSource);
  if (kept && appends.length === 0) {
    // Nothing to write: only permissions, as Ignition does for an existing file.
    root.lchown(e.path, owner.uid, owner.gid);
    if (f.mode !== null && f.mode !== undefined) root.chmod(e.path, f.mode);
    return { kind: "file", ...attrsOf(root, e.path), size: root.lstat(e.path)!.size };
  }
  let sum: () => string | undefined = () => undefined;
  let size = 0;
  await root.writeFileWithParents(
    e.path,
    { mode, ...owner },
    async (raw) => {
      const hashed = hashingSink(raw);
      const sink = hashed.sink;
      sum = hashed.sum;
      if (kept) {
        const old = root.readFile(e.path);
        const base = decision.action === "keep" ? decision.base : undefined;
        if (old) sink.write(base === undefined ? old : old.subarray(0, base));
      } else if (hasSource(f.contents)) {
        await fillFrom(ctx, sink, [f.contents!]);
      }
      await fillFrom(ctx, sink, appends);
      size = sink.size;
    },
    { parentMode: DEFAULT_DIRECTORY_MODE, replaceDirectory: decision.action === "overwrite" },
  );
  ctx.users.touched(e.resolved);
  return { kind: "file", mode: mode & 0o7777, ...owner, size, sha256: sum() ?? hashRootFile(root, e.path) };
}

/** Applies one link node. */
async function applyLink(ctx: NodeApplyContext, e: NodeEntry & { kind: "link" }, decision: NodeDecision): Promise<NodeResult> {
  const { root } = ctx;
  const l = e.node;
  const result = (): NodeResult =>
    l.hard === true ? { kind: "hardlink", target: l.target ?? "" } : { kind: "symlink", target: root.readlink(e.path), ...attrsOf(root, e.path) };
  if (decision.action === "keep") return result();
  if (decision.action === "overwrite") root.removeAll(e.path);
  await root.inDirectory(
    dirname(e.path),
    async () => {
      if (l.hard === true) {
        await root.link(l.target ?? "", e.path);
        return;
      }
      await root.symlink(l.target ?? "", e.path);
      const target = root.stat(e.path);
      const owner = resolveOwner(l.user, l.group, target ? { uid: target.uid, gid: target.gid } : { uid: 0, gid: 0 }, () => ctx.users.get());
      root.lchown(e.path, owner.uid, owner.gid);
    },
    DEFAULT_DIRECTORY_MODE,
  );
  return result();
}

/**
 * Creates one node after deciding from the root's state right now (or as `decided` says: an
 * interrupted run's operation being redone); returns the decision and what the node is now.
 */
export async function applyNode(ctx: NodeApplyContext, e: NodeEntry, decided?: NodeDecision): Promise<{ decision: NodeDecision; result: NodeResult }> {
  const decision = decided ?? decideNode(ctx.root, e);
  if (decision.action === "fail") throw new Error(`Cannot create ${e.kind} "${e.path}": ${decision.reason}`);
  switch (e.kind) {
    case "directory":
      return { decision, result: await applyDirectory(ctx, e, decision) };
    case "file":
      return { decision, result: await applyFile(ctx, e, decision) };
    case "link":
      return { decision, result: await applyLink(ctx, e, decision) };
  }
}

/** The operation name logged for a node. */
export function describeNodeOp(e: NodeEntry): string {
  switch (e.kind) {
    case "directory":
      return `creating directory "${e.path}"`;
    case "file":
      return hasSource(e.node.contents) || !(e.node.append ?? []).some(hasSource)
        ? `writing file "${e.path}"`
        : `appending to file "${e.path}"`;
    case "link":
      return `writing ${e.node.hard === true ? "hard link" : "symlink"} "${e.path}" -> "${e.node.target}"`;
  }
}

/** A plan line for a node: what would happen, with mode and owner as the config sets them. */
export function planNodeEntry(e: NodeEntry, decision: NodeDecision): PlanEntry {
  const details: string[] = [];
  if (e.resolved !== e.path) details.push(`resolves to ${e.resolved}`);
  if (decision.action === "overwrite") details.push(`replaces a ${decision.existing}`);
  if (decision.action === "fail") details.push(decision.reason);
  let action: string = decision.action;
  const modeText = (m: number | null | undefined, fallback: number) =>
    `mode ${m !== null && m !== undefined ? octal(m) : decision.action === "keep" ? "kept" : octal(fallback)}`;
  if (e.kind === "file") {
    const f = e.node;
    const appends = (f.append ?? []).filter(hasSource).length;
    if (decision.action === "keep") action = appends > 0 ? "append" : "keep";
    if (appends > 0) details.push(`${appends} append${appends === 1 ? "" : "s"}`);
    if (f.contents?.compression) details.push(`${f.contents.compression}-compressed`);
    if (f.contents?.verification?.hash) details.push(`verified ${f.contents.verification.hash.split("-")[0]}`);
    details.push(modeText(f.mode, DEFAULT_FILE_MODE));
  } else if (e.kind === "directory") {
    details.push(modeText(e.node.mode, DEFAULT_DIRECTORY_MODE));
  } else {
    details.push(`${e.node.hard === true ? "hard link" : "symlink"} to ${e.node.target}`);
  }
  if (!(e.kind === "link" && e.node.hard === true)) {
    const kept = decision.action === "keep" ? "kept" : "root";
    details.push(`owner ${ownerPart(e.node.user, kept)}:${ownerPart(e.node.group, kept)}`);
  }
  return { stage: "files", action, target: e.path, detail: `${e.kind}: ${details.join(", ")}` };
}

function ownerPart(n: NodeUser | null | undefined, fallback: string): string {
  return n?.id !== null && n?.id !== undefined ? String(n.id) : n?.name ? n.name : fallback;
}
