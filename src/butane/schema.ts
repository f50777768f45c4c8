// The Butane config structure per base version. Ignition's fields are not described here: they
// come from the field table of the Ignition spec the base version emits (config/structure.ts).
// This file adds only Butane's own facts — snake_case keys, its sugar fields (`inline`,
// `local`, `with_mount_unit`, trees, …), and, from the Go types of that spec, the value (not
// pointer) fields, the output order and the type names decode errors show.
import { configStructure, type Field, type FieldType as IgnitionType, type SpecVersion, type StructType as IgnitionStruct } from "../config/index.ts";

/** A Butane base version: 1 is base v0.1 (fcos 1.0) … 7 is base v0.7 (fcos 1.7). */
export type BaseVersion = 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** The Ignition spec whose structure each base version emits. */
export const BASE_SPECS: Record<BaseVersion, SpecVersion> = {
  1: "3.0.0",
  2: "3.1.0",
  3: "3.2.0",
  4: "3.3.0",
  5: "3.4.0",
  6: "3.5.0",
  7: "3.6.0",
};

/** The type of one field. */
export type FieldType =
  | { kind: "string" }
  | { kind: "int" }
  | { kind: "bool" }
  | { kind: "list"; item: FieldType }
  | { kind: "struct"; struct: StructType };

/** A struct: its fields in output order. */
export interface StructType {
  /** Go-style type name used in decode error messages. */
  name: string;
  fields: FieldSpec[];
}

/** One field of a struct. */
export interface FieldSpec {
  yaml: string;
  /** Ignition key, or null when the field is Butane sugar that translation consumes. */
  json: string | null;
  type: FieldType;
  /**
   * A Go value field (not a pointer): null leaves it unset, merging always takes the child's,
   * and output prints its zero value when the enclosing object is printed.
   */
  value?: boolean;
  /** A value field whose zero is omitted from output (partition `number`). */
  omitZero?: boolean;
  /** An Ignition field with no Butane key (set by translation, e.g. `ignition.version`). */
  outputOnly?: boolean;
}

/** A decoded object: keys are the schema's names; absent means unset. */
export type Obj = Record<string, unknown>;

const str: FieldType = { kind: "string" };
const int: FieldType = { kind: "int" };
const bool: FieldType = { kind: "bool" };
const strList = (): FieldType => ({ kind: "list", item: str });
const list = (s: StructType): FieldType => ({ kind: "list", item: { kind: "struct", struct: s } });
const struct = (s: StructType): FieldType => ({ kind: "struct", struct: s });

/** snake_case Butane key for an Ignition key (`sizeMiB` → `size_mib`), as Butane derives it. */
export function snakeCase(key: string): string {
  return key.replace(/(MiB|[A-Z])/g, "_$1").toLowerCase();
}

function sugar(yaml: string, type: FieldType, value = false): FieldSpec {
  return { yaml, json: null, type, ...(value ? { value } : {}) };
}

/**
 * Go value fields of the Ignition types, by struct: a field name, or [name, last base] for one
 * that became a pointer after that base's spec.
 */
const VALUE_FIELDS: Record<string, readonly (string | readonly [string, BaseVersion])[]> = {
  CaReference: ["source"],
  ClevisCustom: [["config", 3], ["pin", 3]],
  Directory: ["path"],
  Disk: ["device"],
  Dropin: ["name"],
  File: ["path"],
  Filesystem: ["device"],
  HTTPHeader: ["name"],
  Ignition: ["version"],
  Link: ["path", ["target", 3]],
  Luks: ["name"],
  Partition: ["number"],
  PasswdGroup: ["name"],
  PasswdUser: ["name"],
  Raid: ["name", ["level", 3]],
  Tang: ["url"],
  Unit: ["name"],
};

/** The Go value-field test of a base's Ignition types, as the config merge takes it. */
export function goValueFields(base: BaseVersion): (st: IgnitionStruct, f: Field) => boolean {
  return (st, f) => isValueField(base, st.name, f.name);
}

function isValueField(base: BaseVersion, struct: string, field: string): boolean {
  return (VALUE_FIELDS[struct] ?? []).some((v) => (typeof v === "string" ? v === field : v[0] === field && base <= v[1]));
}

/** Butane's names for Ignition's types where its Go package names them otherwise. */
const GO_NAMES: Partial<Record<BaseVersion, Record<string, string>>> = { 3: { ClevisCustom: "Custom" } };

/** The embedded Node of Go's File, Directory and Link: its fields come first in output. */
const NODE_FIELDS = ["group", "overwrite", "path", "user"];
const ACRONYMS = new Set(["http", "https", "ssh", "tls", "uuid", "guid", "url", "uid", "id"]);

/** The Go field name of a JSON key (`sshAuthorizedKeys` → `SSHAuthorizedKeys`), for Go's field order. */
function goFieldName(json: string): string {
  return json.replace(/^[a-z]+|[A-Z][a-z]+/g, (w) => (ACRONYMS.has(w.toLowerCase()) ? w.toUpperCase() : w[0]!.toUpperCase() + w.slice(1)));
}

/** Ignition's fields in the order Go prints them: the struct's fields sorted by Go name, Node's first. */
function goOrder(st: IgnitionStruct): Field[] {
  const rank = (f: Field) => (["File", "Directory", "Link"].includes(st.name) && NODE_FIELDS.includes(f.name) ? 0 : 1);
  return [...st.fields].sort((a, b) => rank(a) - rank(b) || (goFieldName(a.name) < goFieldName(b.name) ? -1 : 1));
}

/** The schema of one Butane base version (fields only, no variant sections). */
export interface BaseSchema {
  version: BaseVersion;
  config: StructType;
  /** Every struct of the schema by type name (the first one met, depth first). */
  types: Record<string, StructType>;
}

const cache = new Map<BaseVersion, BaseSchema>();

/** Builds (once) the schema of a base version. */
export function baseSchema(v: BaseVersion): BaseSchema {
  const hit = cache.get(v);
  if (hit) return hit;
  const builder = new SchemaBuilder(v);
  const config = builder.struct(configStructure(BASE_SPECS[v]));
  config.fields.unshift(sugar("version", str, true), sugar("variant", str, true));
  const schema: BaseSchema = { version: v, config, types: builder.types };
  cache.set(v, schema);
  return schema;
}

/** Butane's view of an Ignition field table, struct by struct. */
class SchemaBuilder {
  readonly types: Record<string, StructType> = {};
  private readonly names: Record<string, string>;

  constructor(private readonly v: BaseVersion) {
    this.names = GO_NAMES[v] ?? {};
  }

  struct(st: IgnitionStruct): StructType {
    const fields: FieldSpec[] = goOrder(st).map((f) => {
      const spec: FieldSpec = { yaml: snakeCase(f.name), json: f.name, type: this.type(f.type) };
      if (isValueField(this.v, st.name, f.name)) spec.value = true;
      if (st.name === "Partition" && f.name === "number") spec.omitZero = true;
      // Butane's Ignition section has no version: translation sets it.
      if (st.name === "Ignition" && f.name === "version") Object.assign(spec, { yaml: "", outputOnly: true });
      return spec;
    });
    const out: StructType = { name: this.names[st.name] ?? st.name, fields: [...fields, ...this.sugar(st)] };
    this.types[out.name] ??= out;
    return out;
  }

  private type(t: IgnitionType): FieldType {
    if (t.kind === "list") return { kind: "list", item: this.type(t.item) };
    if (t.kind === "struct") return struct(this.struct(t.struct));
    return { kind: t.kind };
  }

  /** Butane's sugar fields on an Ignition struct, from the first base version that has them. */
  private sugar(st: IgnitionStruct): FieldSpec[] {
    switch (st.name) {
      case "FileContents":
        return [sugar("inline", str)];
      case "Resource":
        return [sugar("inline", str), sugar("local", str)];
      case "Filesystem":
        return this.v >= 2 ? [sugar("with_mount_unit", bool)] : [];
      case "Storage":
        return this.v >= 2 ? [sugar("trees", list(this.tree()))] : [];
      case "Unit":
      case "Dropin":
        return this.v >= 5 ? [sugar("contents_local", str)] : [];
      case "PasswdUser":
        return this.v >= 5 ? [sugar("ssh_authorized_keys_local", strList())] : [];
      default:
        return [];
    }
  }

  /** storage.trees entries (Butane only); base 0.7 adds modes and owners, typed as nodes' owners. */
  private tree(): StructType {
    // `local` is a Go value field: a tree without it is an error, not a nil pointer.
    const fields = [sugar("local", str, true), sugar("path", str)];
    if (this.v >= 7) {
      fields.push(sugar("file_mode", int), sugar("dir_mode", int), sugar("user", struct(this.types.NodeUser!)), sugar("group", struct(this.types.NodeGroup!)));
    }
    const tree: StructType = { name: "Tree", fields };
    this.types.Tree = tree;
    return tree;
  }
}

/** The Ignition-side view of a struct: its fields without Butane sugar. */
export function ignitionFields(t: StructType): FieldSpec[] {
  return t.fields.filter((x) => x.json !== null);
}

/** Builds the Config struct of a variant from the base's and the variant's extra sections. */
export function withSections(base: StructType, extra: FieldSpec[]): StructType {
  return { ...base, fields: [...base.fields, ...extra] };
}

/** Field type builders, for variant sections defined outside this file. */
export { bool as boolType, int as intType, str as strType, strList, list as listOf, struct as structOf, sugar as sugarField };
