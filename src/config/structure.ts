// The field table: Ignition's config structure read off the zod schemas of every spec version —
// each struct by name, its fields in declaration order, their kinds, and the first spec version
// that has each. Authoring tools (the DSL's generated types, `nexus schema`, `nexus import`)
// walk this table instead of describing Ignition's structure again.
import type { z } from "zod";
import { SCHEMAS } from "./parse.ts";
import { SPEC_VERSIONS, type SpecVersion } from "./types.ts";

/** The kind of a field's value. */
export type FieldKind =
  | { kind: "string" }
  | { kind: "int" }
  | { kind: "bool" }
  | { kind: "struct"; struct: string }
  | { kind: "list"; item: Exclude<FieldKind, { kind: "list" }> };

/** One field of a struct across spec versions. */
export interface TableField {
  name: string;
  type: FieldKind;
  /** The first spec version in which this struct has the field. */
  since: SpecVersion;
}

/** One struct across spec versions. */
export interface TableStruct {
  name: string;
  fields: TableField[];
  /** The first spec version that has the struct. */
  since: SpecVersion;
  /** The fields each version has, by version. */
  byVersion: Map<SpecVersion, string[]>;
}

/** Every struct reachable from the config root, root first. */
export interface StructTable {
  structs: Map<string, TableStruct>;
}

// The name of the struct under `Parent.field`. Ignition reuses a few struct types in several
// places (a resource, a node owner); the names follow Ignition's Go types.
const CHILD_NAMES: Record<string, string> = {
  "Config.ignition": "Ignition",
  "Config.storage": "Storage",
  "Config.systemd": "Systemd",
  "Config.passwd": "Passwd",
  "Config.kernelArguments": "KernelArguments",
  "Ignition.config": "IgnitionConfig",
  "Ignition.security": "Security",
  "Ignition.timeouts": "Timeouts",
  "Ignition.proxy": "Proxy",
  "IgnitionConfig.merge": "ConfigReference",
  "IgnitionConfig.replace": "ConfigReference",
  "Security.tls": "Tls",
  "Tls.certificateAuthorities": "CaReference",
  "Storage.disks": "Disk",
  "Storage.raid": "Raid",
  "Storage.filesystems": "Filesystem",
  "Storage.files": "File",
  "Storage.directories": "Directory",
  "Storage.links": "Link",
  "Storage.luks": "Luks",
  "Disk.partitions": "Partition",
  "File.contents": "FileContents",
  "File.append": "FileContents",
  "Luks.keyFile": "Resource",
  "Luks.clevis": "Clevis",
  "Luks.cex": "Cex",
  "Clevis.custom": "ClevisCustom",
  "Clevis.tang": "Tang",
  "Systemd.units": "Unit",
  "Unit.dropins": "Dropin",
  "Passwd.users": "PasswdUser",
  "Passwd.groups": "PasswdGroup",
};

/** The struct name under `parent.field` (shared names for verification, headers and owners). */
function childName(parent: string, field: string): string {
  if (field === "verification") return "Verification";
  if (field === "httpHeaders") return "HttpHeader";
  if (field === "user" && ["File", "Directory", "Link"].includes(parent)) return "NodeUser";
  if (field === "group" && ["File", "Directory", "Link"].includes(parent)) return "NodeGroup";
  const name = CHILD_NAMES[`${parent}.${field}`];
  if (!name) throw new Error(`field table: no struct name for ${parent}.${field}`);
  return name;
}

type Def = { type: string; innerType?: z.ZodType; element?: z.ZodType; shape?: Record<string, z.ZodType> };
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

function unwrap(s: z.ZodType): z.ZodType {
  let cur = s;
  for (let d = defOf(cur); d.type === "optional" || d.type === "nullable"; d = defOf(cur)) cur = d.innerType!;
  return cur;
}

function kindOf(s: z.ZodType, parent: string, field: string, visit: (name: string, s: z.ZodType) => void): FieldKind {
  const inner = unwrap(s);
  const d = defOf(inner);
  switch (d.type) {
    case "string":
      return { kind: "string" };
    case "number":
      return { kind: "int" };
    case "boolean":
      return { kind: "bool" };
    case "object": {
      const name = childName(parent, field);
      visit(name, inner);
      return { kind: "struct", struct: name };
    }
    case "array": {
      const item = kindOf(d.element!, parent, field, visit);
      if (item.kind === "list") throw new Error(`field table: nested list at ${parent}.${field}`);
      return { kind: "list", item };
    }
    default:
      throw new Error(`field table: unexpected zod type "${d.type}" at ${parent}.${field}`);
  }
}

const sameKind = (a: FieldKind, b: FieldKind): boolean => JSON.stringify(a) === JSON.stringify(b);

let cached: StructTable | undefined;

/** The field table of every spec version (built once). */
export function structTable(): StructTable {
  if (cached) return cached;
  const structs = new Map<string, TableStruct>();
  for (const version of SPEC_VERSIONS) {
    const visit = (name: string, schema: z.ZodType) => {
      let s = structs.get(name);
      if (!s) structs.set(name, (s = { name, fields: [], since: version, byVersion: new Map() }));
      const seen = s.byVersion.get(version);
      const shape = defOf(schema).shape!;
      const names = Object.keys(shape);
      if (seen) {
        // A struct name used in several places must mean one shape in each version.
        if (seen.join() !== names.join()) throw new Error(`field table: ${name} differs between its uses in ${version}`);
        return;
      }
      s.byVersion.set(version, names);
      for (const field of names) {
        const kind = kindOf(shape[field]!, name, field, visit);
        const known = s.fields.find((f) => f.name === field);
        if (!known) s.fields.push({ name: field, type: kind, since: version });
        else if (!sameKind(known.type, kind)) throw new Error(`field table: ${name}.${field} changes kind in ${version}`);
      }
    };
    visit("Config", SCHEMAS[version]);
  }
  cached = { structs };
  return cached;
}

const fieldsCache = new Map<string, TableField[]>();

/** The fields `struct` has in `version` (declaration order), or [] when it has none. */
export function fieldsIn(struct: string, version: SpecVersion): TableField[] {
  const key = `${struct}\0${version}`;
  let hit = fieldsCache.get(key);
  if (!hit) {
    const s = structTable().structs.get(struct);
    const names = s?.byVersion.get(version);
    hit = !s || !names ? [] : names.map((n) => s.fields.find((f) => f.name === n)!);
    fieldsCache.set(key, hit);
  }
  return hit;
}
