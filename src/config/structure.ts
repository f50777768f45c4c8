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
