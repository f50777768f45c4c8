// `nexus import`: an Ignition config (any 3.x spec) or a Butane config (fcos, flatcar) turned
// into a typed program — one declaration per entry written with the builders, contents as
// readable text (binary or large contents as local files next to the program), modes in octal,
// owners as names or ids, remote contents as remote(url, …), the input's spec pinned. The config
// is read by the readers nexus-init itself uses, and the program is written by walking the
// field table, so a field added to the schemas needs no change here. `normalForm` is the
// contract: provisioning the program at the input's spec gives the same normal form.
import { gunzipSync } from "node:zlib";
import { isButane, reportToIssues, translateButane } from "../butane/index.ts";
import { parseAnyConfig } from "../acquire/document.ts";
import { mountUnitFor } from "../butane/mount_units.ts";
import { hasErrors, parseConfig, type Config, type Issue, type IssuePath } from "../config/index.ts";
import { error } from "../config/issues.ts";
import { structTable, type FieldKind, type TableField } from "../config/structure.ts";
import { decodeDataUrl } from "../resource/data_url.ts";
import type { Target } from "./provision.ts";

type Obj = Record<string, unknown>;

/** Options of an import. */
export interface ImportOptions {
  /** Directory Butane `local:` references are read from (-d). */
  filesDir?: string;
  /** How the program's header names the input (a file name; default "the input"). */
  name?: string;
}

/** A local file the program reads with read("./files/…"), relative to the program's directory. */
export interface LocalFileOutput {
  path: string;
  bytes: Uint8Array;
  mode: number;
}

/** The program and the local files it reads, or the issues that stop the import. */
export type ImportResult =
  | {
      ok: true;
      program: string;
      files: LocalFileOutput[];
      /** Warnings about the input (unknown keys dropped, …). */
      issues: Issue[];
      spec: string;
      target: Target;
      format: "ignition" | "butane";
      declarations: number;
    }
  | { ok: false; issues: Issue[] };

/** Contents up to this size that are text are written inline; larger ones go to local files. */
export const INLINE_LIMIT = 8 * 1024;
/** Inline gzip payloads inflating past this stay compressed in their local file. */
const GUNZIP_LIMIT = 256 * 1024 * 1024;
/** Where local files go, relative to the program. */
export const LOCAL_DIR = "files";
/** Lines longer than this are broken. */
const WIDTH = 100;

/** The spec whose rules read a config of `version` (3.6.0-experimental, which Flatcar reads, is 3.6.0). */
const rulesVersion = (version: string): string => (version === "3.6.0-experimental" ? "3.6.0" : version);

/** Parses an Ignition config object of any spec nexus-init emits, 3.6.0-experimental included. */
function parseEmitted(config: Obj): ReturnType<typeof parseConfig> {
  const ign = (config.ignition ?? {}) as Obj;
  const version = typeof ign.version === "string" ? ign.version : "";
  return parseConfig(JSON.stringify({ ...config, ignition: { ...ign, version: rulesVersion(version) } }));
}

type Input = { ok: true; config: Config; spec: string; target: Target; format: "ignition" | "butane"; issues: Issue[]; source: string } | { ok: false; issues: Issue[] };

/** Reads the config with nexus-init's readers: Butane through its translator, JSON as nexus-init does. */
function readInput(text: string, opts: ImportOptions): Input {
  const first = text.trimStart()[0];
  if (first !== "{" && first !== "[" && first !== undefined && isButane(text)) {
    const t = translateButane(text, { filesDir: opts.filesDir });
    const issues = reportToIssues(t.report);
    if (!t.ok) return { ok: false, issues: hasErrors(issues) ? issues : [...issues, error([], t.fatal)] };
    const r = parseEmitted(t.ignition);
    if (!r.ok) return { ok: false, issues: [...issues, ...r.issues.filter((i) => i.severity === "error")] };
    const spec = String((t.ignition.ignition as Obj).version);
    const target: Target = t.variant === "flatcar" ? "flatcar" : "ignition";
    return { ok: true, config: r.config, spec, target, format: "butane", issues, source: `Butane ${t.variant} ${t.version}, Ignition spec ${spec}` };
  }
  const r = parseAnyConfig(text, { filesDir: opts.filesDir });
  if (r.ok) return { ok: true, config: r.config, spec: r.version, target: "ignition", format: r.format, issues: r.issues, source: `Ignition spec ${r.version}` };
  // What Butane's flatcar 1.2.0-experimental writes: only Flatcar's Ignition reads this version.
  const flatcar = r.issues.some((i) => i.path.join(".") === "ignition.version") ? flatcarExperimental(text) : undefined;
  return flatcar ?? { ok: false, issues: r.issues };
}

/** A JSON config of spec 3.6.0-experimental, read with 3.6.0's rules and targeting Flatcar. */
function flatcarExperimental(text: string): Input | undefined {
  let obj: Obj;
  try {
    obj = JSON.parse(text) as Obj;
  } catch {
    return undefined;
  }
  if (((obj?.ignition ?? {}) as Obj).version !== "3.6.0-experimental") return undefined;
  const r = parseEmitted(obj);
  if (!r.ok) return { ok: false, issues: r.issues };
  return { ok: true, config: r.config, spec: "3.6.0-experimental", target: "flatcar", format: "ignition", issues: r.issues, source: "Ignition spec 3.6.0-experimental, which Flatcar reads" };
}

// ---------------------------------------------------------------------------------------------
// Expressions of the program, rendered with line breaks only where a line would be too long.

type Expr = { raw: string } | { obj: [string, Expr][] } | { arr: Expr[] } | { call: string; args: Expr[] };

const raw = (s: string): Expr => ({ raw: s });
const lit = (v: string | number | boolean): Expr => raw(JSON.stringify(v));
const call = (name: string, ...args: Expr[]): Expr => ({ call: name, args });
const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const keyText = (k: string) => (IDENT.test(k) ? k : JSON.stringify(k));

function flat(e: Expr): string {
  if ("raw" in e) return e.raw;
  if ("obj" in e) return e.obj.length === 0 ? "{}" : `{ ${e.obj.map(([k, v]) => `${keyText(k)}: ${flat(v)}`).join(", ")} }`;
  if ("arr" in e) return `[${e.arr.map(flat).join(", ")}]`;
  return `${e.call}(${e.args.map(flat).join(", ")})`;
}

/** The one-line form of an expression when it has no line break and fits in `room` characters, else null. */
function oneLine(e: Expr, room: number): string | null {
  if ("raw" in e) return e.raw.length <= room && !e.raw.includes("\n") ? e.raw : null;
  let open: string;
  let close: string;
  let parts: (readonly [string, Expr])[];
  if ("obj" in e) [open, close, parts] = e.obj.length === 0 ? ["{", "}", []] : ["{ ", " }", e.obj.map(([k, v]) => [`${keyText(k)}: `, v] as const)];
  else if ("arr" in e) [open, close, parts] = ["[", "]", e.arr.map((v) => ["", v] as const)];
  else [open, close, parts] = [`${e.call}(`, ")", e.args.map((v) => ["", v] as const)];
  let out = open;
  for (const [i, [prefix, v]] of parts.entries()) {
    const sep = i > 0 ? ", " : "";
    const one = oneLine(v, room - out.length - close.length - sep.length - prefix.length);
    if (one === null) return null;
    out += sep + prefix + one;
  }
  out += close;
  return out.length <= room ? out : null;
}

/** Renders an expression that starts `used` characters into a line indented by `indent`. */
function render(e: Expr, indent: string, used: number): string {
  const one = oneLine(e, WIDTH - used);
  if (one !== null) return one;
  const inner = indent + "  ";
  if ("raw" in e) return e.raw;
  if ("obj" in e) return `{\n${e.obj.map(([k, v]) => `${inner}${keyText(k)}: ${render(v, inner, inner.length + keyText(k).length + 2)},\n`).join("")}${indent}}`;
  if ("arr" in e) return `[\n${e.arr.map((v) => `${inner}${render(v, inner, inner.length)},\n`).join("")}${indent}]`;
  const head = e.args.slice(0, -1).map(flat);
  const last = e.args[e.args.length - 1];
  if (!last) return `${e.call}()`;
  const prefix = `${e.call}(${head.map((h) => h + ", ").join("")}`;
  return `${prefix}${render(last, indent, used + prefix.length)})`;
}

/** A JavaScript string literal for text: plain quotes for one line, a template literal for several. */
export function textLiteral(s: string): string {
  const body = s.endsWith("\n") ? s.slice(0, -1) : s;
  if (!body.includes("\n")) return JSON.stringify(s);
  const escaped = s
    .replace(/\\/g, "\\\\")
    .replace(/`/g, "\\`")
    .replace(/\$\{/g, "\\${")
    .replace(/\r/g, "\\r")
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
  return "`" + escaped + "`";
}

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The bytes as text when they are valid UTF-8 without control characters (tab, CR, LF allowed). */
function asText(bytes: Uint8Array): string | null {
  let s: string;
  try {
    s = UTF8.decode(bytes);
  } catch {
    return null;
  }
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s) ? null : s;
}

// ---------------------------------------------------------------------------------------------
// Where entries go: the config's lists (and single objects) that a builder declares, by the
// struct field that holds them. Structs on the way to them are walked; anything else a config
// can hold and no builder takes is an error naming its path, never silently dropped.

interface EntryRule {
  builder: string;
  /** The field passed as the builder's first argument. */
  key?: string;
  /** The builder takes its options object even when it is empty. */
  options?: "always";
}

const ENTRY_RULES: Record<string, EntryRule> = {
  "IgnitionConfig.merge": { builder: "mergeConfig", key: "source" },
  "IgnitionConfig.replace": { builder: "replaceConfig", key: "source" },
  "Tls.certificateAuthorities": { builder: "certificateAuthority" },
  "Ignition.timeouts": { builder: "timeouts", options: "always" },
  "Ignition.proxy": { builder: "proxy", options: "always" },
  "Storage.disks": { builder: "disk", key: "device" },
  "Storage.raid": { builder: "raid", key: "name", options: "always" },
  "Storage.luks": { builder: "luks", key: "name", options: "always" },
  "Storage.filesystems": { builder: "filesystem", key: "device", options: "always" },
  "Storage.files": { builder: "file", key: "path" },
  "Storage.directories": { builder: "directory", key: "path" },
  "Storage.links": { builder: "link", key: "path", options: "always" },
  "Systemd.units": { builder: "unit", key: "name" },
  "Passwd.users": { builder: "user", key: "name" },
  "Passwd.groups": { builder: "group", key: "name" },
  "Config.kernelArguments": { builder: "kernelArguments", options: "always" },
};

/** Fields the program states otherwise (the spec is pinned in system()). */
const PINNED = new Set(["Ignition.version"]);
/** Structs that are resources: file contents and key files become Contents values. */
const CONTENTS_STRUCTS = new Set(["FileContents", "Resource", "CaReference"]);
/** Structs that are node owners: a name or an id (the validator refuses both). */
const OWNER_STRUCTS = new Set(["NodeUser", "NodeGroup"]);
/** String fields holding unit-file text. */
const UNIT_TEXT = new Set(["Unit.contents", "Dropin.contents"]);

const isEmpty = (v: unknown): boolean =>
  v === undefined || v === null || (Array.isArray(v) && v.length === 0) || (typeof v === "object" && !Array.isArray(v) && Object.values(v as Obj).every(isEmpty));

const fieldsOf = (struct: string): TableField[] => structTable().structs.get(struct)?.fields ?? [];

/** Writes the program for one parsed config. */
class ProgramWriter {
  readonly builders = new Set<string>(["system"]);
  readonly files: LocalFileOutput[] = [];
  readonly issues: Issue[] = [];
  private readonly names = new Set<string>();
  private readonly decls: Expr[] = [];
  /** Units declared by a filesystem's withMountUnit, by name. */
  private readonly mountUnits = new Map<string, Obj>();

  constructor(private readonly config: Config) {}

  /** The declarations of the whole config, in the field table's order. */
  declarations(): Expr[] {
    this.planMountUnits();
    this.walk("Config", this.config as Obj, []);
    return this.decls;
  }

  private walk(struct: string, value: Obj, path: IssuePath): void {
    for (const f of fieldsOf(struct)) {
      const v = value[f.name];
      if (isEmpty(v) || PINNED.has(`${struct}.${f.name}`)) continue;
      const at = [...path, f.name];
      const rule = ENTRY_RULES[`${struct}.${f.name}`];
      const item = f.type.kind === "list" ? f.type.item : f.type;
      if (rule && item.kind === "struct") {
        const entries = Array.isArray(v) ? (v as Obj[]) : [v as Obj];
        entries.forEach((e, i) => this.entry(rule, item.struct, e, Array.isArray(v) ? [...at, i] : at));
      } else if (f.type.kind === "struct") {
        this.walk(f.type.struct, v as Obj, at);
      } else {
        this.issues.push(error(at, `cannot be imported: no builder declares ${struct}.${f.name}`));
      }
    }
  }

  private entry(rule: EntryRule, struct: string, value: Obj, path: IssuePath): void {
    const args: Expr[] = [];
    if (rule.key !== undefined) {
      const key = value[rule.key];
      if (typeof key !== "string" || key === "") {
        this.issues.push(error([...path, rule.key], `cannot be imported: ${rule.builder}() needs a non-empty ${rule.key}`));
        return;
      }
      args.push(lit(key));
    }
    const hint = rule.key !== undefined ? String(value[rule.key]) : rule.builder;
    if (rule.builder === "certificateAuthority") return this.declare(rule.builder, [this.contents(struct, value, `ca-${Number(path[path.length - 1]) + 1}.pem`, 0o644)]);
    if (rule.builder === "unit") return this.unit(value, args);
    const omit = new Set(rule.key !== undefined ? [rule.key] : []);
    const options = this.struct(struct, value, omit, hint);
    if (rule.builder === "filesystem" && this.mountUnitOf(value)) options.obj.push(["withMountUnit", raw("true")]);
    if (options.obj.length > 0 || rule.options === "always") args.push(options);
    this.declare(rule.builder, args);
  }

  private declare(builder: string, args: Expr[]): void {
    this.builders.add(builder);
    this.decls.push(call(builder, ...args));
  }

  /** A unit: drop-ins alone become dropin() declarations; a mount unit already declared by its filesystem keeps only what the filesystem does not say. */
  private unit(value: Obj, args: Expr[]): void {
    const name = String(value.name);
    const generated = this.mountUnits.get(name);
    const rest: Obj = generated ? { ...value, enabled: undefined, contents: undefined } : value;
    const own = Object.entries(rest).filter(([k, v]) => k !== "name" && !isEmpty(v));
    if (generated && own.length === 0) return;
    const dropins = rest.dropins as Obj[] | undefined;
    if (own.length === 1 && own[0]![0] === "dropins" && dropins!.every((d) => typeof d.contents === "string")) {
      for (const d of dropins!) this.declare("dropin", [lit(name), lit(String(d.name)), raw(textLiteral(String(d.contents)))]);
      return;
    }
    const options = this.struct("Unit", rest, new Set(["name"]), name);
    if (options.obj.length > 0) args.push(options);
    this.declare("unit", args);
  }

  /** A struct's fields as an object literal, in the field table's order. */
  private struct(struct: string, value: Obj, omit: ReadonlySet<string>, hint: string): { obj: [string, Expr][] } {
    const out: [string, Expr][] = [];
    const known = fieldsOf(struct);
    for (const f of known) {
      if (omit.has(f.name) || isEmpty(value[f.name])) continue;
      out.push([f.name, this.value(struct, f, value[f.name], hint)]);
    }
    for (const k of Object.keys(value)) {
      if (!known.some((f) => f.name === k) && !isEmpty(value[k])) this.issues.push(error([k], `cannot be imported: ${struct} has no field "${k}" in the field table`));
    }
    return { obj: out };
  }

  private value(struct: string, f: TableField, v: unknown, hint: string): Expr {
    if (f.type.kind === "list") {
      const item = f.type.item;
      return { arr: (v as unknown[]).map((x, i) => this.item(item, x, f.name === "append" ? `${hint}.append-${i + 1}` : hint)) };
    }
    if (f.type.kind === "int" && f.name === "mode") return raw(`0o${(v as number).toString(8).padStart(3, "0")}`);
    if (UNIT_TEXT.has(`${struct}.${f.name}`)) return raw(textLiteral(String(v)));
    if (f.type.kind === "struct" && struct === "Luks" && f.name === "keyFile") return this.contents(f.type.struct, v as Obj, `luks-${hint}.key`, 0o600);
    return this.item(f.type, v, hint);
  }

  private item(kind: Exclude<FieldKind, { kind: "list" }>, v: unknown, hint: string): Expr {
    if (kind.kind !== "struct") return lit(v as string | number | boolean);
    const o = v as Obj;
    if (CONTENTS_STRUCTS.has(kind.struct)) return this.contents(kind.struct, o, hint, 0o644);
    if (OWNER_STRUCTS.has(kind.struct)) {
      if (o.name !== undefined && o.name !== null && (o.id === undefined || o.id === null)) return lit(String(o.name));
      if (o.id !== undefined && o.id !== null && (o.name === undefined || o.name === null)) return lit(Number(o.id));
    }
    return this.struct(kind.struct, o, new Set(), hint);
  }

  /**
   * Contents: decoded inline text, a local file for binary or large bytes, remote(url, …) for
   * fetched ones; hashes and headers of inline bytes ride along as `{ inline, … }`.
   */
  private contents(struct: string, res: Obj, hint: string, mode: number): Expr {
    const source = res.source;
    if (typeof source === "string" && /^data:/i.test(source)) {
      const d = decodeDataUrl(source);
      if (d.ok) {
        let bytes = d.bytes;
        let keepCompression = false;
        if (res.compression === "gzip") {
          try {
            bytes = new Uint8Array(gunzipSync(bytes, { maxOutputLength: GUNZIP_LIMIT }));
          } catch {
            // Not gzip, or a bomb: the bytes stay compressed, and so marked.
            keepCompression = true;
          }
        }
        const value = this.bytes(bytes, hint, mode);
        const options = this.struct(struct, res, new Set(keepCompression ? ["source"] : ["source", "compression"]), hint);
        return options.obj.length === 0 ? value : { obj: [["inline", value], ...options.obj] };
      }
    }
    if (typeof source === "string" && source !== "") {
      this.builders.add("remote");
      const options = this.struct(struct, res, new Set(["source"]), hint);
      return options.obj.length === 0 ? call("remote", lit(source)) : call("remote", lit(source), options);
    }
    // No source (or an empty one): the resource's fields as they are.
    return this.struct(struct, res, new Set(), hint);
  }

  /** Bytes as a text literal, or read("./files/…") of a local file written beside the program. */
  private bytes(bytes: Uint8Array, hint: string, mode: number): Expr {
    const text = asText(bytes);
    if (text !== null && bytes.length <= INLINE_LIMIT) return raw(textLiteral(text));
    const path = this.localName(hint);
    this.files.push({ path, bytes, mode });
    this.builders.add("read");
    return call("read", lit(`./${path}`));
  }

  /** A fresh local file name from an entry's path or name: files/etc_motd, files/etc_motd-2, … */
  private localName(hint: string): string {
    const base = hint.replace(/^\/+/, "").replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^\.+/, "_") || "contents";
    let name = base;
    for (let n = 2; this.names.has(name.toLowerCase()); n++) name = `${base}-${n}`;
    this.names.add(name.toLowerCase());
    return `${LOCAL_DIR}/${name}`;
  }

  /**
   * Filesystems whose mount (or swap) unit is exactly the one withMountUnit declares, when
   * declaring it that way keeps the units' order: those units lead the unit list, in the
   * filesystems' order, since filesystems are declared before units.
   */
  private planMountUnits(): void {
    const units = this.config.systemd?.units ?? [];
    let next = 0;
    for (const fs of this.config.storage?.filesystems ?? []) {
      const u = units[next];
      const want = this.generatedUnit(fs as Obj);
      if (!u || !want || u.name !== want.name || u.contents !== want.contents || u.enabled !== true) continue;
      this.mountUnits.set(String(u.name), fs as Obj);
      next++;
    }
  }

  private generatedUnit(fs: Obj): Obj | undefined {
    const format = typeof fs.format === "string" ? fs.format : "";
    if (typeof fs.device !== "string" || format === "" || (format !== "swap" && typeof fs.path !== "string")) return undefined;
    return mountUnitFor({ device: fs.device, format, path: fs.path, mount_options: fs.mountOptions }, false, 7);
  }

  private mountUnitOf(fs: Obj): boolean {
    const u = this.generatedUnit(fs);
    return u !== undefined && this.mountUnits.get(String(u.name)) === fs;
  }
}

/** Turns a config (Ignition JSON of any 3.x spec, or Butane YAML) into a typed program. */
export function importConfig(text: string, opts: ImportOptions = {}): ImportResult {
  const input = readInput(text, opts);
  if (!input.ok) return input;
  const writer = new ProgramWriter(input.config);
  const decls = writer.declarations();
  if (hasErrors(writer.issues)) return { ok: false, issues: [...input.issues, ...writer.issues] };
  const pin: [string, Expr][] = [["spec", lit(input.spec)]];
  if (input.target !== "ignition") pin.push(["target", lit(input.target)]);
  const list: Expr = { arr: decls };
  const body = decls.length === 0 ? "[]" : render(list, "", WIDTH + 1);
  const program =
    `// Imported by \`nexus import\` from ${opts.name ?? "the input"} (${input.source}).\n` +
    `// \`nexus provision\` of this program gives the same config.\n` +
    `import { ${[...writer.builders].sort().join(", ")} } from "nexus";\n\n` +
    `export default system(${flat({ obj: pin })}, ${body});\n`;
  return { ok: true, program, files: writer.files, issues: input.issues, spec: input.spec, target: input.target, format: input.format, declarations: decls.length };
}

// ---------------------------------------------------------------------------------------------
// The normal form two configs are compared in.

/**
 * A config's normal form: parsed by nexus-init's parser at its own spec, data URLs decoded to
 * their bytes (gzip inflated), and null, empty lists and empty objects dropped; list order
 * kept. Two configs with equal normal forms provision a machine the same way.
 */
export function normalForm(config: string | Obj): { ok: true; version: string; model: unknown } | { ok: false; issues: Issue[] } {
  let obj: Obj;
  try {
    obj = typeof config === "string" ? (JSON.parse(config) as Obj) : config;
  } catch (e) {
    return { ok: false, issues: [error([], `invalid JSON: ${(e as Error).message}`)] };
  }
  const r = parseEmitted(obj);
  if (!r.ok) return r;
  return { ok: true, version: String(((obj.ignition ?? {}) as Obj).version), model: normalize(r.config) ?? {} };
}

function normalize(v: unknown): unknown {
  if (v === null || v === undefined) return undefined;
  if (Array.isArray(v)) {
    const items = v.map((x) => normalize(x) ?? null);
    return items.length === 0 ? undefined : items;
  }
  if (typeof v !== "object") return v;
  const o = v as Obj;
  const out: Obj = {};
  const data = typeof o.source === "string" && /^data:/i.test(o.source) ? decodeDataUrl(o.source) : undefined;
  for (const [k, x] of Object.entries(o)) {
    if (data?.ok && (k === "source" || k === "compression")) continue;
    const n = normalize(x);
    if (n !== undefined) out[k] = n;
  }
  if (data?.ok) {
    let bytes = data.bytes;
    if (o.compression === "gzip") {
      try {
        bytes = new Uint8Array(gunzipSync(bytes));
      } catch {
        out.compression = "gzip";
      }
    }
    out.data = Buffer.from(bytes).toString("base64");
  }
  return Object.keys(out).length === 0 ? undefined : out;
}
