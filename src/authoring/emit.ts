// Composed entries → an Ignition config object, with every JSON path's declaring lines. Contents
// become resources: inline text, bytes, local files, templates and secrets are embedded as data
// URLs the way Butane embeds them (the shortest of percent-escaped, base64 and gzip+base64),
// remote resources keep their URL. Fields are written in the field table's order for the spec,
// so the same program gives the same bytes.
import { makeDataUrl } from "../butane/data_url.ts";
import { fieldsIn } from "../config/structure.ts";
import type { SpecVersion } from "../config/types.ts";
import type { Origin } from "../dsl/origin.ts";
import type { PartKind } from "../dsl/parts.ts";
import { inlineBytes, isInlineContents, isValue, VALUE, type Contents, type LocalFile, type Remote, type Secret } from "../dsl/values.ts";
import type { ComposedEntry } from "./compose.ts";

type Obj = Record<string, unknown>;

/** The emitted config (latest model, JSON-ready) and the lines behind each JSON path. */
export interface Emitted {
  config: Obj;
  /** JSON path ("storage.files.0.mode") → the declarations it came from. */
  origins: Map<string, Origin[]>;
}

// Where each kind of entry goes in the config, and the struct its fields follow.
const PLACE: Partial<Record<PartKind, { path: string[]; struct: string }>> = {
  file: { path: ["storage", "files"], struct: "File" },
  directory: { path: ["storage", "directories"], struct: "Directory" },
  link: { path: ["storage", "links"], struct: "Link" },
  unit: { path: ["systemd", "units"], struct: "Unit" },
  user: { path: ["passwd", "users"], struct: "PasswdUser" },
  group: { path: ["passwd", "groups"], struct: "PasswdGroup" },
  disk: { path: ["storage", "disks"], struct: "Disk" },
  raid: { path: ["storage", "raid"], struct: "Raid" },
  luks: { path: ["storage", "luks"], struct: "Luks" },
  filesystem: { path: ["storage", "filesystems"], struct: "Filesystem" },
  mergeConfig: { path: ["ignition", "config", "merge"], struct: "ConfigReference" },
  certificateAuthority: { path: ["ignition", "security", "tls", "certificateAuthorities"], struct: "CaReference" },
};

/** A resource from contents; `compressible` when the struct has `compression` in this spec. */
export function resourceFrom(c: Contents, compressible: boolean, shapeOnly = false): Obj {
  if (isInlineContents(c)) {
    // Inline bytes with resource options: the options stay; the bytes are embedded as given
    // when the user set `compression` (already compressed), else as the shortest data URL.
    const { inline, ...options } = c;
    if (shapeOnly) return { ...options, source: "data:," };
    const d = makeDataUrl(inlineBytes(inline)!, options.compression, compressible);
    return { ...options, source: d.url, ...(compressible && d.compression !== undefined ? { compression: d.compression } : {}) };
  }
  if (shapeOnly && !isValue(c, "remote") && (typeof c !== "object" || c instanceof Uint8Array || VALUE in c)) return { source: "data:," };
  const bytes = inlineBytes(c);
  if (bytes) {
    const d = makeDataUrl(bytes, undefined, compressible);
    return compressible && d.compression !== undefined ? { compression: d.compression, source: d.url } : { source: d.url };
  }
  if (isValue(c, "remote")) return { ...(c as Remote).resource };
  return { ...(c as Obj) };
}

/** Text of unit-file contents (a string, a local file, a template). */
function unitText(v: unknown): string {
  const bytes = inlineBytes(v as Contents);
  return bytes ? new TextDecoder().decode(bytes) : String(v);
}

/** SSH keys: strings as given; a local file gives one key per non-blank, non-comment line. */
function sshKeys(keys: readonly unknown[]): string[] {
  return keys.flatMap((k) =>
    isValue(k, "local")
      ? new TextDecoder()
          .decode((k as LocalFile).bytes)
          .split(/\r?\n/)
          .map((l) => l.trim())
          .filter((l) => l !== "" && !l.startsWith("#"))
      : [String(k)],
  );
}

const hasField = (struct: string, field: string, version: SpecVersion) => fieldsIn(struct, version).some((f) => f.name === field);

/** An entry's fields as Ignition JSON values (contents resolved). */
function resolveEntry(e: ComposedEntry, version: SpecVersion, shapeOnly: boolean): Obj {
  const v = { ...e.value };
  const resourceOf = (c: Contents, compressible: boolean) => resourceFrom(c, compressible, shapeOnly);
  switch (e.kind) {
    case "file": {
      if (v.contents !== undefined) v.contents = resourceOf(v.contents as Contents, true);
      if (Array.isArray(v.append)) v.append = v.append.map((c) => resourceOf(c as Contents, true));
      return v;
    }
    case "unit": {
      if (v.contents !== undefined) v.contents = unitText(v.contents);
      if (Array.isArray(v.dropins)) v.dropins = (v.dropins as Obj[]).map((d) => (d.contents === undefined ? d : { ...d, contents: unitText(d.contents) }));
      return v;
    }
    case "user":
    case "group": {
      if (v.passwordHash !== undefined) v.passwordHash = unitText(v.passwordHash as Secret);
      if (Array.isArray(v.sshAuthorizedKeys)) v.sshAuthorizedKeys = sshKeys(v.sshAuthorizedKeys);
      return v;
    }
    case "luks": {
      if (v.keyFile !== undefined) v.keyFile = resourceOf(v.keyFile as Contents, hasField("Resource", "compression", version));
      return v;
    }
    case "certificateAuthority":
      return resourceOf(v.contents as Contents, hasField("CaReference", "compression", version));
    default:
      return v;
  }
}

/** Orders an object's fields as the struct declares them in `version`; recurses into structs. */
export function orderFields(struct: string, value: Obj, version: SpecVersion): Obj {
  const out: Obj = {};
  const fields = fieldsIn(struct, version);
  for (const f of fields) {
    const x = value[f.name];
    if (x === undefined) continue;
    if (f.type.kind === "struct") out[f.name] = orderFields(f.type.struct, x as Obj, version);
    else if (f.type.kind === "list" && f.type.item.kind === "struct") {
      const item = f.type.item.struct;
      out[f.name] = (x as Obj[]).map((i) => orderFields(item, i, version));
    } else out[f.name] = x;
  }
  // Fields the spec lacks stay, after the known ones: the spec gate and validation report them.
  for (const [k, x] of Object.entries(value)) if (!(k in out) && x !== undefined) out[k] = x;
  return out;
}

function slot(config: Obj, path: string[]): unknown[] {
  let cur = config;
  for (const p of path.slice(0, -1)) cur = (cur[p] ??= {}) as Obj;
  const last = path[path.length - 1]!;
  return ((cur[last] ??= []) as unknown[]);
}

function recordOrigins(origins: Map<string, Origin[]>, base: string, e: ComposedEntry): void {
  origins.set(base, e.origins);
  for (const [rel, o] of e.fieldOrigins) origins.set(`${base}.${rel}`, o);
}

/**
 * Builds the config (before version stamping) and its origins from composed entries. With
 * `shapeOnly`, inline contents are not encoded (a placeholder data URL stands in): enough to
 * see which features the config uses before the spec version is chosen.
 */
export function emitConfig(entries: readonly ComposedEntry[], version: SpecVersion, shapeOnly = false): Emitted {
  const config: Obj = {};
  const origins = new Map<string, Origin[]>();
  const should: string[] = [];
  const shouldNot: string[] = [];
  for (const e of entries) {
    const place = PLACE[e.kind];
    if (place) {
      const list = slot(config, place.path);
      recordOrigins(origins, `${place.path.join(".")}.${list.length}`, e);
      list.push(resolveEntry(e, version, shapeOnly));
      continue;
    }
    switch (e.kind) {
      case "kernelArgument": {
        const list = e.value.exist ? should : shouldNot;
        const at = `kernelArguments.${e.value.exist ? "shouldExist" : "shouldNotExist"}.${list.length}`;
        origins.set(at, e.origins);
        list.push(e.key);
        break;
      }
      case "replaceConfig":
        (((config.ignition ??= {}) as Obj).config ??= {}) as Obj;
        ((config.ignition as Obj).config as Obj).replace = e.value;
        recordOrigins(origins, "ignition.config.replace", e);
        break;
      case "proxy":
      case "timeouts":
        ((config.ignition ??= {}) as Obj)[e.kind] = e.value;
        recordOrigins(origins, `ignition.${e.kind}`, e);
        break;
    }
  }
  if (should.length || shouldNot.length) {
    config.kernelArguments = { ...(should.length ? { shouldExist: should } : {}), ...(shouldNot.length ? { shouldNotExist: shouldNot } : {}) };
  }
  return { config: orderFields("Config", config, version), origins };
}

/** The origins of a JSON path: its own, or its nearest ancestor's. */
export function originsAt(origins: ReadonlyMap<string, Origin[]>, path: readonly (string | number)[]): Origin[] {
  for (let n = path.length; n >= 0; n--) {
    const hit = origins.get(path.slice(0, n).join("."));
    if (hit && hit.length > 0) return hit;
  }
  return [];
}
