// Ignition's structure as one field table per spec version, read from the zod schemas and what
// they declare beside the shape (schema/declare.ts): every struct with its fields in
// declaration order, each field's kind, how a list merges and what identifies its entries, and
// the first spec version that has the field at that place. The config merge walks it, Butane
// derives its schema from it, and the DSL's types and the JSON Schema are generated from it.
import type { z } from "zod";
import { listDecl, structDecl } from "./schema/declare.ts";
import { SCHEMAS } from "./schema/versions.ts";
import { SPEC_VERSIONS, type SpecVersion } from "./types.ts";

/** The kind of a scalar field. */
export type ScalarKind = "string" | "int" | "bool";

/** The type of one field. */
export type FieldType =
  | { kind: ScalarKind }
  | {
      kind: "list";
      item: FieldType;
      /** "keyed": entries with the same key merge (the child's win); "append": lists concatenate. */
      merge: "keyed" | "append";
      /** Lists of one struct that share a key space (Ignition's merged keys: "node", "karg"). */
      group?: string;
    }
  | { kind: "struct"; struct: StructType };

/** A struct (a JSON object) at one place of the config. */
export interface StructType {
  /** Ignition's Go type name (File, PasswdUser, …). */
  name: string;
  /** Its fields, in the order the schema declares them. */
  fields: readonly Field[];
  /** Fields identifying an entry in a keyed list; the first one set counts (see entryKey). */
  key?: readonly string[];
  /** A keyed child entry with this field unset removes the parent's entry (HTTP headers). */
  removeWhenUnset?: string;
}

/** One field of a struct. */
export interface Field {
  /** The JSON key. */
  name: string;
  type: FieldType;
  /** The first spec version with this field at this place. */
  since: SpecVersion;
}

/** One row of the flattened table: `storage.files[].contents.source`, its kind and "since". */
export interface FieldRow {
  path: string;
  kind: FieldType["kind"];
  since: SpecVersion;
}

const tables = new Map<SpecVersion, StructType>();

/** The field table of a spec version: its root struct, "Config". */
export function configStructure(version: SpecVersion): StructType {
  let t = tables.get(version);
  if (!t) {
    const previous = SPEC_VERSIONS.indexOf(version) > 0 ? SPEC_VERSIONS[SPEC_VERSIONS.indexOf(version) - 1]! : null;
    const sinceOf = new Map((previous ? fieldRows(previous) : []).map((r) => [r.path, r.since]));
    t = readStruct(SCHEMAS[version], "", (path) => sinceOf.get(path) ?? version);
    tables.set(version, t);
  }
  return t;
}

/** Every field of a spec version, depth first in declaration order, as `a.b[].c` paths. */
export function fieldRows(version: SpecVersion): FieldRow[] {
  const out: FieldRow[] = [];
  const visit = (st: StructType, prefix: string) => {
    for (const f of st.fields) {
      const path = prefix + f.name;
      out.push({ path, kind: f.type.kind, since: f.since });
      let t = f.type;
      let p = path;
      while (t.kind === "list") {
        t = t.item;
        p += "[]";
      }
      if (t.kind === "struct") visit(t.struct, `${p}.`);
    }
  };
  visit(configStructure(version), "");
  return out;
}

/** The struct of a field, through lists: `storage.files` → File. */
export function structOf(t: FieldType): StructType | undefined {
  while (t.kind === "list") t = t.item;
  return t.kind === "struct" ? t.struct : undefined;
}

/**
 * The key of a list entry, as Ignition's Key() computes it: a scalar entry is its own key; a
 * struct entry is keyed by the first of its key fields that is set (an int 0 is unset), with the
 * field name when there are several ("number:1", "label:root"), or "" when none is set.
 */
export function entryKey(item: FieldType, value: unknown): string {
  if (item.kind !== "struct") return typeof value === "string" ? value : String(value ?? "");
  const key = item.struct.key ?? [];
  const obj = (value ?? {}) as Record<string, unknown>;
  for (const name of key) {
    const v = obj[name];
    if (v === undefined || v === null || v === 0) continue;
    return key.length > 1 ? `${name}:${String(v)}` : String(v);
  }
  return "";
}

type Since = (path: string) => SpecVersion;

/** Reads a struct schema at a path ("" for the root, "storage.files[]." for a file). */
function readStruct(schema: z.ZodType, prefix: string, since: Since): StructType {
  const decl = structDecl(schema);
  const def = schema._zod.def as { type: string; shape?: Record<string, z.ZodType> };
  if (!decl || def.type !== "object" || !def.shape) throw new Error(`Cannot read the config structure at "${prefix}": an object schema without a struct() declaration`);
  const fields = Object.entries(def.shape).map(([name, s]) => ({ name, type: readType(s, prefix + name, since), since: since(prefix + name) }));
  return { name: decl.name, fields, ...(decl.key ? { key: decl.key } : {}), ...(decl.removeWhenUnset ? { removeWhenUnset: decl.removeWhenUnset } : {}) };
}

/** Reads the type of the field (or list entry) at path. */
function readType(schema: z.ZodType, path: string, since: Since): FieldType {
  let s = schema;
  let list: z.ZodType | null = null;
  for (;;) {
    const def = s._zod.def as { type: string; innerType?: z.ZodType; element?: z.ZodType };
    switch (def.type) {
      case "optional":
      case "nullable":
        // The outermost wrapper of a list carries its declaration (schema/declare.ts list()).
        list ??= s;
        s = def.innerType!;
        continue;
      case "array": {
        const decl = listDecl(list ?? s);
        const item = readType(def.element!, `${path}[]`, since);
        if (decl.merge === "keyed" && item.kind === "struct" && !item.struct.key) {
          throw new Error(`Cannot read the config structure at "${path}": a keyed list of ${item.struct.name}, which declares no key`);
        }
        return { kind: "list", item, merge: decl.merge, ...(decl.group ? { group: decl.group } : {}) };
      }
      case "object":
        return { kind: "struct", struct: readStruct(s, `${path}.`, since) };
      case "string":
        return { kind: "string" };
      case "boolean":
        return { kind: "bool" };
      case "number":
        if ((s as z.ZodNumber).isInt) return { kind: "int" };
        break;
    }
    throw new Error(`Cannot read the config structure at "${path}": unsupported schema type "${def.type}"`);
  }
}

// The same table seen by struct across every spec version: what authoring tools walk when they
// describe a struct once for all versions (the DSL's generated types, the JSON Schema, `nexus
// import`). Derived from configStructure(); nothing here describes Ignition's fields again. A
// struct is named by its place, so a place keeps one name in every version (Ignition's Go types
// rename some: 3.0's FileContents, ConfigReference and CaReference are all Resource from 3.1).

/** A field's kind in the by-struct view: structs by their view name. */
export type FieldKind =
  | { kind: ScalarKind }
  | { kind: "struct"; struct: string }
  | { kind: "list"; item: Exclude<FieldKind, { kind: "list" }> };

/** One field of a struct, across spec versions. */
export interface TableField {
  name: string;
  type: FieldKind;
  /** The first spec version in which this struct has the field. */
  since: SpecVersion;
}

/** One struct across spec versions. */
export interface TableStruct {
  name: string;
  /** Every field any version has, in first-seen order. */
  fields: TableField[];
  /** The first spec version that has the struct. */
  since: SpecVersion;
  /** The fields each version has, in declaration order. */
  byVersion: Map<SpecVersion, string[]>;
}

/** Every struct reachable from the config root, root first. */
export interface StructTable {
  structs: Map<string, TableStruct>;
}

// The view name of the struct under `Parent.field`, where it is not Ignition's (newest) type
// name: places sharing a Go type whose shape differed in old versions get names of their own.
const PLACE_NAMES: Record<string, string> = {
  "IgnitionConfig.merge": "ConfigReference",
  "IgnitionConfig.replace": "ConfigReference",
  "Tls.certificateAuthorities": "CaReference",
  "File.contents": "FileContents",
  "File.append": "FileContents",
  "Luks.keyFile": "Resource",
  "Security.tls": "Tls",
};

/** The view name of a struct at `parent.field` (Go's name unless PLACE_NAMES says otherwise). */
function viewName(parent: string, field: string, st: StructType): string {
  if (field === "httpHeaders") return "HttpHeader";
  if (field === "user" && ["File", "Directory", "Link"].includes(parent)) return "NodeUser";
  if (field === "group" && ["File", "Directory", "Link"].includes(parent)) return "NodeGroup";
  return PLACE_NAMES[`${parent}.${field}`] ?? st.name;
}

let byStruct: StructTable | undefined;

/** The field table by struct, across versions (built once, on first use). */
export function structTable(): StructTable {
  if (byStruct) return byStruct;
  const structs = new Map<string, TableStruct>();
  for (const version of SPEC_VERSIONS) {
    const visit = (st: StructType, name: string) => {
      let s = structs.get(name);
      if (!s) structs.set(name, (s = { name, fields: [], since: version, byVersion: new Map() }));
      const names = st.fields.map((f) => f.name);
      const seen = s.byVersion.get(version);
      if (seen) {
        if (seen.join() !== names.join()) throw new Error(`Cannot describe ${name} once: its places differ in ${version}`);
        return;
      }
      s.byVersion.set(version, names);
      for (const f of st.fields) {
        const child = structOf(f.type);
        const childName = child ? viewName(name, f.name, child) : "";
        if (!s.fields.some((x) => x.name === f.name)) s.fields.push({ name: f.name, type: kindOf(f.type, childName), since: version });
        if (child) visit(child, childName);
      }
    };
    visit(configStructure(version), "Config");
  }
  byStruct = { structs };
  return byStruct;
}

function kindOf(t: FieldType, structName: string): FieldKind {
  if (t.kind === "struct") return { kind: "struct", struct: structName };
  if (t.kind === "list") {
    const item = kindOf(t.item, structName);
    if (item.kind === "list") throw new Error("Cannot describe a list of lists in the field table");
    return { kind: "list", item };
  }
  return { kind: t.kind };
}

const fieldsCache = new Map<string, TableField[]>();

/** The fields `struct` has in `version` (declaration order), or [] when it has none. */
export function fieldsIn(struct: string, version: SpecVersion): TableField[] {
  const key = `${struct}\u0000${version}`;
  let hit = fieldsCache.get(key);
  if (!hit) {
    const s = structTable().structs.get(struct);
    const names = s?.byVersion.get(version);
    hit = !s || !names ? [] : names.map((n) => s.fields.find((f) => f.name === n)!);
    fieldsCache.set(key, hit);
  }
  return hit;
}
