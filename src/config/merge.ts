// Ignition's parent/child config merge, as one walk of the field table (structure.ts):
// - a value the child sets replaces the parent's; values it leaves unset keep the parent's
//   (Go value fields, when the caller names them, always take the child's, set or not);
// - structs merge field by field;
// - append lists (file appends, command options) concatenate;
// - keyed lists merge entries with the same key (entryKey) and append the child's others;
//   lists of one group share a key space, so a parent entry whose key the child puts in a
//   sibling list leaves its own list (a file replaced by a directory);
// - a keyed child entry with its removeWhenUnset field unset removes the parent's entry
//   (an HTTP header without a value).
// The inputs are never modified. Optionally the walk records where each populated node of the
// result came from, as Ignition's MergeStructTranscribe does; Butane needs that transcript.
import { configStructure, entryKey, type Field, type FieldType, type StructType } from "./structure.ts";
import { SPEC_VERSIONS, type Config } from "./types.ts";

type Obj = Record<string, unknown>;

/** A path into a config: keys and list indexes. */
export type MergePath = readonly (string | number)[];

/** One transcript entry: a node of the result and the parent or child node it came from. */
export interface MergeMapping {
  side: "parent" | "child";
  from: MergePath;
  to: MergePath;
}

/** How a merge runs besides the table. */
export interface MergeOptions {
  /**
   * Go value (not pointer) fields of the spec at hand: the child's value always wins, set or
   * not, and a zero value is not transcribed. Without it every field is a pointer, as in the
   * internal model.
   */
  isValueField?: (st: StructType, field: Field) => boolean;
  /** Receives where each populated node of the result came from. */
  transcript?: MergeMapping[];
}

/** Merges a child config into its parent as Ignition does (the internal model's table). */
export function mergeConfigs(parent: Config, child: Config): Config {
  // The table is built on first use (a few milliseconds): most calls of nexus-init never merge.
  return mergeStruct(configStructure(SPEC_VERSIONS[SPEC_VERSIONS.length - 1]!), parent as Obj, child as Obj) as Config;
}

/** Merges `child` over `parent`, both of struct type `type`. */
export function mergeStruct(type: StructType, parent: Obj, child: Obj, opts: MergeOptions = {}): Obj {
  return new Merge(opts).struct(type, parent, [], child, [], []);
}

const isSet = (v: unknown): boolean => v !== undefined && v !== null;
const asObj = (v: unknown): Obj => (v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const isZeroScalar = (v: unknown): boolean => !isSet(v) || v === "" || v === 0 || v === false;

/** A child list entry found by its (group, key). */
interface ChildEntry {
  field: string;
  index: number;
  value: unknown;
}

class Merge {
  constructor(private readonly opts: MergeOptions) {}

  private isValue(st: StructType, f: Field): boolean {
    return this.opts.isValueField?.(st, f) ?? false;
  }

  struct(st: StructType, parent: Obj, pPath: MergePath, child: Obj, cPath: MergePath, rPath: MergePath): Obj {
    const out: Obj = {};
    const childEntries = indexChildEntries(st, child);
    for (const f of st.fields) {
      const p = parent[f.name];
      const c = child[f.name];
      const pp = [...pPath, f.name];
      const cp = [...cPath, f.name];
      const rp = [...rPath, f.name];
      const t = f.type;
      if (t.kind === "struct") {
        if (!isSet(p) && !isSet(c)) continue;
        const merged = this.struct(t.struct, asObj(p), pp, asObj(c), cp, rp);
        if (Object.keys(merged).length > 0) out[f.name] = merged;
      } else if (t.kind === "list") {
        const merged = t.merge === "append" ? this.append(t, asList(p), pp, asList(c), cp, rp) : this.keyed(f, t, asList(p), pp, asList(c), cp, rp, childEntries);
        if (merged.length > 0) out[f.name] = merged;
      } else if (this.isValue(st, f)) {
        if (isSet(c)) out[f.name] = c;
        this.transcribe("child", cp, rp, c, t, true);
      } else if (isSet(c)) {
        out[f.name] = c;
        this.transcribe("child", cp, rp, c, t, false);
      } else if (isSet(p)) {
        out[f.name] = p;
        this.transcribe("parent", pp, rp, p, t, false);
      }
    }
    return out;
  }

  private append(t: FieldType & { kind: "list" }, parent: unknown[], pp: MergePath, child: unknown[], cp: MergePath, rp: MergePath): unknown[] {
    const out: unknown[] = [];
    parent.forEach((item, i) => out.push(this.take("parent", [...pp, i], [...rp, out.length], item, t.item)));
    child.forEach((item, i) => out.push(this.take("child", [...cp, i], [...rp, out.length], item, t.item)));
    return out;
  }

  private keyed(
    f: Field,
    t: FieldType & { kind: "list" },
    parent: unknown[],
    pp: MergePath,
    child: unknown[],
    cp: MergePath,
    rp: MergePath,
    childEntries: ReadonlyMap<string, ChildEntry>,
  ): unknown[] {
    const handle = t.group ?? f.name;
    const out: unknown[] = [];
    const parentKeys = new Set(parent.map((item) => entryKey(t.item, item)));
    parent.forEach((item, i) => {
      const hit = childEntries.get(`${handle}\u0000${entryKey(t.item, item)}`);
      if (!hit) {
        out.push(this.take("parent", [...pp, i], [...rp, out.length], item, t.item));
        return;
      }
      // The child moved this key to a sibling list (a file became a directory): it goes there.
      if (hit.field !== f.name) return;
      const childPath = [...cp.slice(0, -1), f.name, hit.index];
      if (t.item.kind !== "struct") {
        out.push(this.take("child", childPath, [...rp, out.length], hit.value, t.item));
        return;
      }
      const childItem = asObj(hit.value);
      const removes = t.item.struct.removeWhenUnset;
      if (removes && !isSet(childItem[removes])) return;
      out.push(this.struct(t.item.struct, asObj(item), [...pp, i], childItem, childPath, [...rp, out.length]));
    });
    child.forEach((item, i) => {
      if (!parentKeys.has(entryKey(t.item, item))) out.push(this.take("child", [...cp, i], [...rp, out.length], item, t.item));
    });
    return out;
  }

  /** A value taken whole from one side: copied, and transcribed when asked to. */
  private take(side: "parent" | "child", from: MergePath, to: MergePath, value: unknown, t: FieldType): unknown {
    this.transcribe(side, from, to, value, t, true);
    return value !== null && typeof value === "object" ? structuredClone(value) : value;
  }

  /** Records every populated leaf (and each struct holding one) of a value taken from one side. */
  private transcribe(side: "parent" | "child", from: MergePath, to: MergePath, value: unknown, t: FieldType, valueField: boolean): boolean {
    const transcript = this.opts.transcript;
    if (!transcript) return false;
    if (t.kind === "struct") {
      const obj = asObj(value);
      let any = false;
      for (const f of t.struct.fields) {
        const v = obj[f.name];
        if (v === undefined) continue;
        any = this.transcribe(side, [...from, f.name], [...to, f.name], v, f.type, this.isValue(t.struct, f)) || any;
      }
      if (any) transcript.push({ side, from, to });
      return any;
    }
    if (t.kind === "list") {
      let any = false;
      asList(value).forEach((item, i) => {
        any = this.transcribe(side, [...from, i], [...to, i], item, t.item, true) || any;
      });
      return any;
    }
    if (value === undefined || (valueField && isZeroScalar(value))) return false;
    transcript.push({ side, from, to });
    return true;
  }
}

/**
 * The child's entries of every keyed list of a struct by (group or field, key). Fields are
 * indexed in name order, as Ignition walks its Go structs, so when a child repeats a key in two
 * lists of one group the same entry wins as in Ignition.
 */
function indexChildEntries(st: StructType, child: Obj): Map<string, ChildEntry> {
  const out = new Map<string, ChildEntry>();
  const fields = st.fields.filter((f) => f.type.kind === "list" && f.type.merge === "keyed").sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const f of fields) {
    const t = f.type as FieldType & { kind: "list" };
    const handle = t.group ?? f.name;
    asList(child[f.name]).forEach((value, index) => out.set(`${handle}\u0000${entryKey(t.item, value)}`, { field: f.name, index, value }));
  }
  return out;
}
