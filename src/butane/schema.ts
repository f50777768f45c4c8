// The Butane config structure per base version, as one table of fields: the YAML key users
// write, the Ignition key it becomes (null for Butane-only sugar), its type, and how Ignition
// merges and prints it. Decoding, translation, merging and output all walk these descriptors.

/** A Butane base version: 1 is base v0.1 (fcos 1.0) … 7 is base v0.7 (fcos 1.7). */
export type BaseVersion = 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** The type of one field. */
export type FieldType =
  | { kind: "string" }
  | { kind: "int" }
  | { kind: "bool" }
  | { kind: "list"; item: FieldType; merge: "keyed" | "append" }
  | { kind: "struct"; struct: StructType };

/** A struct: its fields in output order, and Ignition's merge key for list entries. */
export interface StructType {
  /** Go-style type name used in decode error messages. */
  name: string;
  fields: FieldSpec[];
  /** Ignition's Key() for entries of keyed lists. */
  key?: (v: Obj) => string;
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
const strList = (merge: "keyed" | "append" = "keyed"): FieldType => ({ kind: "list", item: str, merge });
const list = (s: StructType, merge: "keyed" | "append" = "keyed"): FieldType => ({ kind: "list", item: { kind: "struct", struct: s }, merge });
const struct = (s: StructType): FieldType => ({ kind: "struct", struct: s });

/** snake_case Butane key for an Ignition key (`sizeMiB` → `size_mib`), as Butane derives it. */
export function snakeCase(key: string): string {
  return key.replace(/(MiB|[A-Z])/g, "_$1").toLowerCase();
}

function f(json: string, type: FieldType, extra: Partial<FieldSpec> = {}): FieldSpec {
  return { yaml: snakeCase(json), json, type, ...extra };
}
function sugar(yaml: string, type: FieldType): FieldSpec {
  return { yaml, json: null, type };
}

/** The key of a Go string-ish value (`*string` nil is ""). */
function s(v: unknown): string {
  return typeof v === "string" ? v : "";
}

/** The schema of one Butane base version (fields only, no variant sections). */
export interface BaseSchema {
  version: BaseVersion;
  config: StructType;
  types: Record<string, StructType>;
}

const cache = new Map<BaseVersion, BaseSchema>();

/** Builds (once) the schema of a base version. */
export function baseSchema(v: BaseVersion): BaseSchema {
  const hit = cache.get(v);
  if (hit) return hit;
  const since = (min: number, spec: FieldSpec): FieldSpec[] => (v >= min ? [spec] : []);

  const verification: StructType = { name: "Verification", fields: [f("hash", str)] };
  const httpHeader: StructType = {
    name: "HTTPHeader",
    fields: [f("name", str, { value: true }), f("value", str)],
    key: (o) => s(o.name),
  };
  const resource: StructType =
    v === 1
      ? { name: "FileContents", fields: [f("compression", str), f("source", str), sugar("inline", str), f("verification", struct(verification))] }
      : {
          name: "Resource",
          fields: [
            f("compression", str),
            f("httpHeaders", list(httpHeader)),
            f("source", str),
            sugar("inline", str),
            sugar("local", str),
            f("verification", struct(verification)),
          ],
          key: (o) => s(o.source),
        };
  const configReference: StructType =
    v === 1 ? { name: "ConfigReference", fields: [f("source", str), f("verification", struct(verification))], key: (o) => s(o.source) } : resource;
  const caReference: StructType =
    v === 1
      ? { name: "CaReference", fields: [f("source", str, { value: true }), f("verification", struct(verification))], key: (o) => s(o.source) }
      : resource;

  const ignitionConfig: StructType = {
    name: "IgnitionConfig",
    fields: [f("merge", list(configReference)), f("replace", struct(configReference))],
  };
  const proxy: StructType = { name: "Proxy", fields: [f("httpProxy", str), f("httpsProxy", str), f("noProxy", strList())] };
  const tls: StructType = { name: "TLS", fields: [f("certificateAuthorities", list(caReference))] };
  const security: StructType = { name: "Security", fields: [f("tls", struct(tls))] };
  const timeouts: StructType = { name: "Timeouts", fields: [f("httpResponseHeaders", int), f("httpTotal", int)] };
  const ignition: StructType = {
    name: "Ignition",
    fields: [
      f("config", struct(ignitionConfig)),
      ...since(2, f("proxy", struct(proxy))),
      f("security", struct(security)),
      f("timeouts", struct(timeouts)),
      { yaml: "", json: "version", type: str, value: true, outputOnly: true },
    ],
  };

  const nodeUser: StructType = { name: "NodeUser", fields: [f("id", int), f("name", str)] };
  const nodeGroup: StructType = { name: "NodeGroup", fields: [f("id", int), f("name", str)] };
  const nodeFields = [
    f("group", struct(nodeGroup)),
    f("overwrite", bool),
    f("path", str, { value: true }),
    f("user", struct(nodeUser)),
  ];
  const byPath = (o: Obj) => s(o.path);
  const file: StructType = {
    name: "File",
    fields: [...nodeFields, f("append", list(resource, "append")), f("contents", struct(resource)), f("mode", int)],
    key: byPath,
  };
  const directory: StructType = { name: "Directory", fields: [...nodeFields, f("mode", int)], key: byPath };
  const link: StructType = {
    name: "Link",
    fields: [...nodeFields, f("hard", bool), f("target", str, v <= 3 ? { value: true } : {})],
    key: byPath,
  };
  const partition: StructType = {
    name: "Partition",
    fields: [
      f("guid", str),
      f("label", str),
      f("number", int, { value: true, omitZero: true }),
      ...since(3, f("resize", bool)),
      f("shouldExist", bool),
      f("sizeMiB", int),
      f("startMiB", int),
      f("typeGuid", str),
      f("wipePartitionEntry", bool),
    ],
    key: (o) => (typeof o.number === "number" && o.number !== 0 ? `number:${o.number}` : typeof o.label === "string" ? `label:${o.label}` : ""),
  };
  const disk: StructType = {
    name: "Disk",
    fields: [f("device", str, { value: true }), f("partitions", list(partition)), f("wipeTable", bool)],
    key: (o) => s(o.device),
  };
  const raid: StructType = {
    name: "Raid",
    fields: [
      f("devices", strList()),
      f("level", str, v <= 3 ? { value: true } : {}),
      f("name", str, { value: true }),
      f("options", strList("append")),
      f("spares", int),
    ],
    key: (o) => s(o.name),
  };
  const filesystem: StructType = {
    name: "Filesystem",
    fields: [
      f("device", str, { value: true }),
      f("format", str),
      f("label", str),
      ...since(2, f("mountOptions", strList("append"))),
      f("options", strList("append")),
      f("path", str),
      f("uuid", str),
      f("wipeFilesystem", bool),
      ...since(2, sugar("with_mount_unit", bool)),
    ],
    key: (o) => s(o.device),
  };
  const tang: StructType = {
    name: "Tang",
    fields: [f("thumbprint", str), f("url", str, { value: true }), ...since(5, f("advertisement", str))],
    key: (o) => s(o.url),
  };
  const clevisCustom: StructType = {
    name: "ClevisCustom",
    fields: [f("config", str, v <= 3 ? { value: true } : {}), f("needsNetwork", bool), f("pin", str, v <= 3 ? { value: true } : {})],
  };
  const clevis: StructType = {
    name: "Clevis",
    fields: [f("custom", struct(clevisCustom)), f("tang", list(tang)), f("threshold", int), f("tpm2", bool)],
  };
  const cex: StructType = { name: "Cex", fields: [f("enabled", bool)] };
  const luks: StructType = {
    name: "Luks",
    fields: [
      ...since(6, f("cex", struct(cex))),
      f("clevis", struct(clevis)),
      f("device", str),
      ...since(5, f("discard", bool)),
      f("keyFile", struct(resource)),
      f("label", str),
      f("name", str, { value: true }),
      ...since(5, f("openOptions", strList("append"))),
      f("options", strList("append")),
      f("uuid", str),
      f("wipeVolume", bool),
    ],
    key: (o) => s(o.name),
  };
  const treeFields: FieldSpec[] = [sugar("local", str), sugar("path", str)];
  if (v >= 7) {
    treeFields.push(sugar("file_mode", int), sugar("dir_mode", int), sugar("user", struct(nodeUser)), sugar("group", struct(nodeGroup)));
  }
  // `local` is a Go value field (a tree without it is an error, not a nil pointer).
  treeFields[0]!.value = true;
  const tree: StructType = { name: "Tree", fields: treeFields };
  const storage: StructType = {
    name: "Storage",
    fields: [
      f("directories", list(directory)),
      f("disks", list(disk)),
      f("files", list(file)),
      f("filesystems", list(filesystem)),
      f("links", list(link)),
      ...since(3, f("luks", list(luks))),
      f("raid", list(raid)),
      ...since(2, sugar("trees", list(tree))),
    ],
  };
  const dropin: StructType = {
    name: "Dropin",
    fields: [f("contents", str), ...since(5, sugar("contents_local", str)), f("name", str, { value: true })],
    key: (o) => s(o.name),
  };
  const unit: StructType = {
    name: "Unit",
    fields: [
      f("contents", str),
      ...since(5, sugar("contents_local", str)),
      f("dropins", list(dropin)),
      f("enabled", bool),
      f("mask", bool),
      f("name", str, { value: true }),
    ],
    key: (o) => s(o.name),
  };
  const systemd: StructType = { name: "Systemd", fields: [f("units", list(unit))] };
  const group: StructType = {
    name: "PasswdGroup",
    fields: [
      f("gid", int),
      f("name", str, { value: true }),
      f("passwordHash", str),
      ...since(3, f("shouldExist", bool)),
      f("system", bool),
    ],
    key: (o) => s(o.name),
  };
  const user: StructType = {
    name: "PasswdUser",
    fields: [
      f("gecos", str),
      f("groups", strList()),
      f("homeDir", str),
      f("name", str, { value: true }),
      f("noCreateHome", bool),
      f("noLogInit", bool),
      f("noUserGroup", bool),
      f("passwordHash", str),
      f("primaryGroup", str),
      ...since(3, f("shouldExist", bool)),
      f("sshAuthorizedKeys", strList()),
      ...since(5, sugar("ssh_authorized_keys_local", strList())),
      f("shell", str),
      f("system", bool),
      f("uid", int),
    ],
    key: (o) => s(o.name),
  };
  const passwd: StructType = { name: "Passwd", fields: [f("groups", list(group)), f("users", list(user))] };
  const kernelArguments: StructType = {
    name: "KernelArguments",
    fields: [f("shouldExist", strList()), f("shouldNotExist", strList())],
  };
  const config: StructType = {
    name: "Config",
    fields: [
      sugar("version", str),
      sugar("variant", str),
      f("ignition", struct(ignition)),
      ...since(4, f("kernelArguments", struct(kernelArguments))),
      f("passwd", struct(passwd)),
      f("storage", struct(storage)),
      f("systemd", struct(systemd)),
    ],
  };
  for (const sugarField of config.fields.slice(0, 2)) sugarField.value = true;
  const schema: BaseSchema = {
    version: v,
    config,
    types: {
      resource,
      tang,
      luks,
      clevis,
      cex,
      filesystem,
      file,
      directory,
      link,
      disk,
      partition,
      raid,
      unit,
      dropin,
      user,
      group,
      storage,
      systemd,
      passwd,
      ignition,
      tree,
      nodeUser,
      nodeGroup,
      kernelArguments,
    },
  };
  cache.set(v, schema);
  return schema;
}

/** The Ignition-side view of a struct: its fields without Butane sugar. */
export function ignitionFields(t: StructType): FieldSpec[] {
  return t.fields.filter((x) => x.json !== null);
}

/** Ignition lists whose entries are deduplicated across lists sharing one handle. */
export const MERGED_LIST_HANDLES: Record<string, string> = {
  "Storage.directories": "node",
  "Storage.files": "node",
  "Storage.links": "node",
  "KernelArguments.shouldExist": "karg",
  "KernelArguments.shouldNotExist": "karg",
};

/** Builds the Config struct of a variant from the base's and the variant's extra sections. */
export function withSections(base: StructType, extra: FieldSpec[]): StructType {
  return { ...base, fields: [...base.fields, ...extra] };
}

/** Field type builders, for variant sections defined outside this file. */
export { bool as boolType, int as intType, str as strType, strList, list as listOf, struct as structOf, sugar as sugarField };
