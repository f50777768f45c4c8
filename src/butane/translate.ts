// Base translation shared by every variant: copies Butane fields to their Ignition names and
// expands the base sugar — `inline`/`local` resources, `contents_local`, local SSH keys, mount
// units and `storage.trees` — recording where each generated node came from.
import { makeDataUrl, escapeDataUrlBytes } from "./data_url.ts";
import {
  checkWithinFilesDir,
  joinFilesDir,
  NO_FILES_DIR,
  readLink,
  readLocalFile,
  readTreeFile,
  statPath,
  walkTree,
} from "./local_files.ts";
import { mountUnitFor } from "./mount_units.ts";
import { errorAt, type ConfigPath, type PendingEntry } from "./report.ts";
import type { BaseVersion, FieldType, Obj, StructType } from "./schema.ts";
import { mergeTranslated, TranslationSet } from "./translation_set.ts";
import { posix } from "node:path";

/** Options that change translation. */
export interface TranslateOptions {
  /** Directory `local:` paths are relative to (-d/--files-dir). */
  filesDir?: string;
}

/** Translation state: the base version, options, report and translation set being built. */
export interface TranslateContext {
  base: BaseVersion;
  opts: TranslateOptions;
  report: PendingEntry[];
  ts: TranslationSet;
}

/** A translated config (Ignition-shaped object) with its translation set. */
export interface Translated {
  config: Obj;
  ts: TranslationSet;
}

const encoder = new TextEncoder();

/** Copies one Butane value to its Ignition form, expanding resource/unit/user sugar. */
export function translateValue(t: FieldType, v: unknown, from: ConfigPath, to: ConfigPath, ctx: TranslateContext): unknown {
  if (t.kind === "struct") return translateStruct(t.struct, v as Obj, from, to, ctx);
  if (t.kind === "list") {
    const items = v as unknown[];
    const out = items.map((item, i) => translateValue(t.item, item, [...from, i], [...to, i], ctx));
    ctx.ts.add(from, to);
    return out;
  }
  ctx.ts.add(from, to);
  return v;
}

function translateStruct(st: StructType, from: Obj, fromPath: ConfigPath, toPath: ConfigPath, ctx: TranslateContext): Obj {
  const to: Obj = {};
  for (const f of st.fields) {
    if (f.json === null || f.outputOnly) continue;
    const v = from[f.yaml];
    if (v === undefined) continue;
    to[f.json] = translateValue(f.type, v, [...fromPath, f.yaml], [...toPath, f.json], ctx);
  }
  const hook = HOOKS[st.name];
  if (hook) hook(from, to, fromPath, toPath, ctx);
  ctx.ts.add(fromPath, toPath);
  return to;
}

type Hook = (from: Obj, to: Obj, fromPath: ConfigPath, toPath: ConfigPath, ctx: TranslateContext) => void;

const HOOKS: Record<string, Hook> = {
  FileContents: (from, to, fromPath, toPath, ctx) => {
    // Spec 1.0.0: inline contents are always percent-escaped, never compressed.
    if (typeof from.inline !== "string") return;
    to.source = "data:," + escapeDataUrlBytes(encoder.encode(from.inline));
    ctx.ts.add([...fromPath, "inline"], [...toPath, "source"]);
  },
  Resource: (from, to, fromPath, toPath, ctx) => {
    const embed = (bytes: Uint8Array, field: string) => {
      const { url, compression } = makeDataUrl(bytes, to.compression as string | undefined, true);
      to.source = url;
      ctx.ts.add([...fromPath, field], [...toPath, "source"]);
      if (compression !== undefined) {
        to.compression = compression;
        ctx.ts.add([...fromPath, field], [...toPath, "compression"]);
      }
    };
    if (typeof from.local === "string") {
      const r = readLocalFile(from.local, ctx.opts.filesDir);
      if (!r.ok) {
        ctx.report.push(errorAt([...fromPath, "local"], r.message));
        return;
      }
      embed(r.bytes, "local");
    }
    if (typeof from.inline === "string") embed(encoder.encode(from.inline), "inline");
  },
  Unit: (from, to, fromPath, toPath, ctx) => contentsLocal(from, to, fromPath, toPath, ctx),
  Dropin: (from, to, fromPath, toPath, ctx) => contentsLocal(from, to, fromPath, toPath, ctx),
  PasswdUser: (from, to, fromPath, toPath, ctx) => {
    const files = from.ssh_authorized_keys_local as string[] | undefined;
    if (!files || files.length === 0) return;
    const c = [...fromPath, "ssh_authorized_keys_local"];
    ctx.ts.add(c, [...toPath, "sshAuthorizedKeys"]);
    if (!ctx.opts.filesDir) {
      ctx.report.push(errorAt(c, NO_FILES_DIR));
      return;
    }
    const keys = ((to.sshAuthorizedKeys as string[] | undefined) ?? []).slice();
    files.forEach((file, i) => {
      const r = readLocalFile(file, ctx.opts.filesDir);
      if (!r.ok) {
        ctx.report.push(errorAt([...c, i], r.message));
        return;
      }
      for (const line of Buffer.from(r.bytes).toString("utf8").split(/\r?\n/)) {
        if (line === "") continue;
        ctx.ts.add([...c, i], [...toPath, "sshAuthorizedKeys", keys.length]);
        keys.push(line);
      }
    });
    if (keys.length > 0) to.sshAuthorizedKeys = keys;
  },
};

function contentsLocal(from: Obj, to: Obj, fromPath: ConfigPath, toPath: ConfigPath, ctx: TranslateContext): void {
  if (typeof from.contents_local !== "string" || from.contents_local === "") return;
  const r = readLocalFile(from.contents_local, ctx.opts.filesDir);
  if (!r.ok) {
    ctx.report.push(errorAt([...fromPath, "contents_local"], r.message));
    return;
  }
  to.contents = Buffer.from(r.bytes).toString("utf8");
  ctx.ts.add([...fromPath, "contents_local"], [...toPath, "contents"]);
}

/**
 * Translates the base part of a config (everything but variant sections): field copies and
 * resource sugar, then mount units, then trees — in Butane's order, so generated units come
 * before the user's and tree files after the user's files.
 */
export function translateBase(config: StructType, src: Obj, ignitionVersion: string, ctx: TranslateContext): Translated {
  const out: Obj = {};
  for (const f of config.fields) {
    if (f.json === null || f.type.kind !== "struct") continue;
    const v = src[f.yaml];
    if (v === undefined) continue;
    out[f.json] = translateValue(f.type, v, [f.yaml], [f.json], ctx);
  }
  out.ignition = { ...((out.ignition as Obj | undefined) ?? {}), version: ignitionVersion };
  ctx.ts.add(["version"], ["ignition", "version"]);
  ctx.ts.add(["ignition"], ["ignition"]);

  let result: Translated = { config: out, ts: ctx.ts };
  if (ctx.base >= 2) result = addMountUnits(config, src, result, ctx);
  if (ctx.base >= 2) processTrees(src, result, ctx);
  return result;
}

function addMountUnits(config: StructType, src: Obj, current: Translated, ctx: TranslateContext): Translated {
  const filesystems = ((src.storage as Obj | undefined)?.filesystems as Obj[] | undefined) ?? [];
  if (filesystems.length === 0) return current;
  const luks = ((src.storage as Obj | undefined)?.luks as Obj[] | undefined) ?? [];
  const units: Obj[] = [];
  const ts = new TranslationSet();
  ts.add(["storage", "filesystems"], ["systemd"]);
  ts.add(["storage", "filesystems"], ["systemd", "units"]);
  const unitType = unitFieldType(config);
  filesystems.forEach((fs, i) => {
    if (fs.with_mount_unit !== true) return;
    const device = (fs.device as string | undefined) ?? "";
    let remote = false;
    if (device.startsWith("/dev/mapper/") || device.startsWith("/dev/disk/by-id/dm-name-")) {
      for (const l of luks) {
        const name = (l.name as string | undefined) ?? "";
        if (device === `/dev/mapper/${name}` || device === `/dev/disk/by-id/dm-name-${name}`) {
          const tang = ((l.clevis as Obj | undefined)?.tang as unknown[] | undefined) ?? [];
          if (tang.length > 0) {
            remote = true;
            break;
          }
        }
      }
    }
    const unit = mountUnitFor(fs, remote, ctx.base);
    ts.addFromCommonSource(["storage", "filesystems", i, "with_mount_unit"], ["systemd", "units", units.length], unit, unitType);
    units.push(unit);
  });
  if (units.length === 0) return current;
  const merged = mergeTranslated(ctx.base, { systemd: { units } }, ts, current.config, current.ts);
  return { config: merged.config, ts: merged.ts };
}

function unitFieldType(config: StructType): FieldType {
  const systemd = config.fields.find((f) => f.json === "systemd")!.type;
  if (systemd.kind !== "struct") throw new Error("schema: systemd is not a struct");
  return (systemd.struct.fields.find((f) => f.json === "units")!.type as FieldType & { kind: "list" }).item;
}

/** Tracks files, directories and links by path while trees add entries. */
class NodeTracker {
  constructor(private readonly storage: Obj) {}
  private list(kind: "files" | "directories" | "links"): Obj[] {
    return ((this.storage[kind] as Obj[] | undefined) ??= []);
  }
  find(kind: "files" | "directories" | "links", path: string): number {
    const items = (this.storage[kind] as Obj[] | undefined) ?? [];
    let found = -1;
    items.forEach((n, i) => {
      if (((n.path as string | undefined) ?? "") === path) found = i;
    });
    return found;
  }
  exists(path: string): boolean {
    return this.find("files", path) >= 0 || this.find("directories", path) >= 0 || this.find("links", path) >= 0;
  }
  add(kind: "files" | "directories" | "links", node: Obj): number {
    const items = this.list(kind);
    items.push(node);
    return items.length - 1;
  }
  get(kind: "files" | "directories" | "links", i: number): Obj {
    return this.list(kind)[i]!;
  }
}

const NODE_EXISTS = "matching filesystem node has existing contents or different type";

function processTrees(src: Obj, current: Translated, ctx: TranslateContext): void {
  const trees = ((src.storage as Obj | undefined)?.trees as Obj[] | undefined) ?? [];
  if (trees.length === 0) return;
  const storage = ((current.config.storage as Obj | undefined) ??= {});
  const tracker = new NodeTracker(storage);
  const ts = current.ts;
  ts.add(["storage"], ["storage"]);
  for (let i = 0; i < trees.length; i++) {
    const tree = trees[i]!;
    const yamlPath: ConfigPath = ["storage", "trees", i];
    const err = (message: string) => ctx.report.push(errorAt(yamlPath, message));
    /** True for a successful read; a failed one is reported. */
    const succeeded = (r: { ok: true } | { ok: false; message: string }): r is { ok: true } => {
      if (r.ok) return true;
      err(r.message);
      return false;
    };
    if (!ctx.opts.filesDir) {
      err(NO_FILES_DIR);
      return;
    }
    const srcBase = joinFilesDir(ctx.opts.filesDir, (tree.local as string | undefined) ?? "");
    const escape = checkWithinFilesDir(srcBase, ctx.opts.filesDir);
    if (escape) {
      err(escape);
      continue;
    }
    const st = statPath(srcBase);
    if (!st.ok) {
      err(st.message);
      continue;
    }
    if (!st.stats.isDirectory()) {
      err("root of tree must be a directory");
      continue;
    }
    const destBase = typeof tree.path === "string" && tree.path !== "" ? tree.path : "/";
    const owner = {
      user: tree.user as Obj | undefined,
      group: tree.group as Obj | undefined,
      fileMode: tree.file_mode as number | undefined,
      dirMode: tree.dir_mode as number | undefined,
    };
    const hasOwner = (o: Obj | undefined) => o !== undefined && (o.id !== undefined || o.name !== undefined);
    const node = (path: string): Obj => {
      const n: Obj = { path };
      if (hasOwner(owner.user)) n.user = { ...owner.user };
      if (hasOwner(owner.group)) n.group = { ...owner.group };
      return n;
    };
    // The entry a tree file or symlink fills: one the config already has at dest unless it is
    // already filled, else a new one; null (reported) when dest is taken.
    const claim = (section: "files" | "links", dest: string, filled: (o: Obj) => boolean): { idx: number; obj: Obj } | null => {
      const found = tracker.find(section, dest);
      if (found >= 0) {
        const obj = tracker.get(section, found);
        if (!filled(obj)) return { idx: found, obj };
      } else if (!tracker.exists(dest)) {
        const obj = node(dest);
        const idx = tracker.add(section, obj);
        addNodeTranslations(ts, yamlPath, ["storage", section, idx], obj);
        if (idx === 0) ts.add(yamlPath, ["storage", section]);
        return { idx, obj };
      }
      err(NODE_EXISTS);
      return null;
    };
    for (const entry of walkTree(srcBase)) {
      if (entry.error) {
        err(entry.error);
        continue;
      }
      const dest = posix.join(destBase, entry.rel);
      if (entry.kind === "dir") {
        if (owner.dirMode === undefined && !hasOwner(owner.user) && !hasOwner(owner.group)) continue;
        if (tracker.exists(dest)) {
          err(NODE_EXISTS);
          continue;
        }
        const dir = { ...node(dest), mode: owner.dirMode ?? 0o755 };
        const idx = tracker.add("directories", dir);
        addNodeTranslations(ts, yamlPath, ["storage", "directories", idx], dir);
        if (idx === 0) ts.add(yamlPath, ["storage", "directories"]);
      } else if (entry.kind === "file") {
        const claimed = claim("files", dest, (f) => {
          const source = (f.contents as Obj | undefined)?.source;
          return typeof source === "string" && source !== "";
        });
        const data = claimed && readTreeFile(entry.path);
        if (!claimed || !data || !succeeded(data)) continue;
        const { idx, obj: file } = claimed;
        const contents = ((file.contents as Obj | undefined) ?? {}) as Obj;
        const { url, compression } = makeDataUrl(data.bytes, contents.compression as string | undefined, true);
        contents.source = url;
        ts.add(yamlPath, ["storage", "files", idx, "contents", "source"]);
        if (compression !== undefined) {
          contents.compression = compression;
          ts.add(yamlPath, ["storage", "files", idx, "contents", "compression"]);
        }
        file.contents = contents;
        ts.add(yamlPath, ["storage", "files", idx, "contents"]);
        if (file.mode === undefined) {
          file.mode = owner.fileMode ?? ((entry.stats!.mode & 0o111) !== 0 ? 0o755 : 0o644);
          ts.add(yamlPath, ["storage", "files", idx, "mode"]);
        }
      } else if (entry.kind === "symlink") {
        const claimed = claim("links", dest, (l) => typeof l.target === "string" && l.target !== "");
        const target = claimed && readLink(entry.path);
        if (!claimed || !target || !succeeded(target)) continue;
        const { idx, obj: link } = claimed;
        link.target = target.target;
        ts.add(yamlPath, ["storage", "links", idx, "target"]);
      } else {
        err("trees may only contain files, directories, and symlinks");
      }
    }
  }
}

function addNodeTranslations(ts: TranslationSet, from: ConfigPath, to: ConfigPath, node: Obj): void {
  ts.add(from, to);
  for (const [k, v] of Object.entries(node)) {
    ts.add(from, [...to, k]);
    if (v && typeof v === "object") for (const k2 of Object.keys(v)) ts.add(from, [...to, k, k2]);
  }
}
