// Rules for storage.files, storage.directories and storage.links: paths, modes, owners,
// overwrite, link targets, nodes created through links of the same config, hard links.
import type { IssuePath } from "../issues.ts";
import { MESSAGES } from "../messages.ts";
import { SPECIAL_MODE_BITS_SINCE, type Link, type NodeUser, type Storage } from "../types.ts";
import { describeAt, isBlank, type RuleContext } from "./context.ts";
import { cleanPath, joinPath } from "../../system/paths.ts";
import { checkResource } from "./resource.ts";

type Owner = NodeUser | null | undefined;

/** Validates every file, directory and link, and how they relate to each other. */
export function checkNodes(ctx: RuleContext, storage: Storage): void {
  const at: IssuePath = ["storage"];
  const files = storage.files ?? [];
  const dirs = storage.directories ?? [];
  const links = storage.links ?? [];

  files.forEach((f, i) => {
    const p = [...at, "files", i];
    checkNodeBasics(ctx, p, f.path, f.user, f.group);
    checkMode(ctx, [...p, "mode"], f.mode);
    if (f.overwrite === true && (f.contents?.source ?? undefined) === undefined) ctx.error([...p, "overwrite"], MESSAGES.overwriteWithoutSource());
    if (f.contents) checkResource(ctx, [...p, "contents"], f.contents);
    (f.append ?? []).forEach((a, j) => checkResource(ctx, [...p, "append", j], a));
  });
  dirs.forEach((d, i) => {
    const p = [...at, "directories", i];
    checkNodeBasics(ctx, p, d.path, d.user, d.group);
    checkMode(ctx, [...p, "mode"], d.mode);
  });
  links.forEach((l, i) => checkNodeBasics(ctx, [...at, "links", i], l.path, l.user, l.group));

  // Nothing may be created underneath a path this config makes a link.
  // A node is under link L when its path starts with L + "/": look up every prefix that ends
  // just before a "/" instead of comparing each node with each link.
  const linksByPath = new Map<string, number[]>();
  links.forEach((l, i) => {
    if (!isBlank(l.path)) linksByPath.set(l.path!, [...(linksByPath.get(l.path!) ?? []), i]);
  });
  const throughLink = (kind: string, path: IssuePath, nodePath: string | null | undefined) => {
    if (linksByPath.size === 0 || !nodePath) return;
    for (let k = nodePath.indexOf("/", 1); k > 0; k = nodePath.indexOf("/", k + 1)) {
      const prefix = nodePath.slice(0, k);
      for (const i of linksByPath.get(prefix) ?? []) ctx.error(path, MESSAGES.pathThroughLink(kind, prefix, describeAt([...at, "links", i])), [[...at, "links", i]]);
    }
  };
  dirs.forEach((d, i) => throughLink("directory", [...at, "directories", i], d.path));
  files.forEach((f, i) => throughLink("file", [...at, "files", i], f.path));
  links.forEach((l, i) => throughLink("link", [...at, "links", i], l.path));

  const dirPaths = new Set(dirs.map((d) => d.path ?? ""));
  links.forEach((l, i) => checkLink(ctx, [...at, "links", i], l, dirPaths));
}

function checkNodeBasics(ctx: RuleContext, path: IssuePath, nodePath: string | null | undefined, user: Owner, group: Owner): void {
  ctx.requireAbsolutePath([...path, "path"], nodePath ?? "", "path");
  for (const [key, owner] of [["user", user], ["group", group]] as const) {
    if (owner && owner.id !== undefined && owner.id !== null && !isBlank(owner.name)) ctx.error([...path, key], MESSAGES.ownerIdAndName());
  }
}

function checkMode(ctx: RuleContext, path: IssuePath, mode: number | null | undefined): void {
  if (mode === undefined || mode === null) return;
  if (mode < 0 || mode > 0o7777) ctx.error(path, MESSAGES.modeOutOfRange(mode));
  else if ((mode & 0o7000) !== 0 && !ctx.atLeast(SPECIAL_MODE_BITS_SINCE)) ctx.warning(path, MESSAGES.modeSpecialBits(mode, ctx.version));
}

function checkLink(ctx: RuleContext, path: IssuePath, l: Link, dirPaths: ReadonlySet<string>): void {
  // From spec 3.3 the target is optional in the schema and required here; before, it was a
  // plain string whose absence meant "".
  if (isBlank(l.target)) {
    if (ctx.atLeast("3.3.0")) {
      ctx.error([...path, "target"], MESSAGES.linkTargetRequired());
      return;
    }
  }
  if (l.hard !== true) return;
  const raw = l.target ?? "";
  let target = cleanPath(raw);
  // A relative hard link target is resolved against the link's own path, as Ignition does.
  if (!target.startsWith("/")) target = joinPath(l.path ?? "", raw);
  if (dirPaths.has(target)) ctx.error(path, MESSAGES.hardLinkToDirectory(raw));
  for (const [key, owner] of [["user", l.user], ["group", l.group]] as const) {
    if (!owner) continue;
    if (owner.id !== undefined && owner.id !== null) ctx.warning([...path, key, "id"], MESSAGES.hardLinkOwnerIgnored());
    if (owner.name !== undefined && owner.name !== null) ctx.warning([...path, key, "name"], MESSAGES.hardLinkOwnerIgnored());
  }
}
