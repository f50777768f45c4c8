// Which Butane path each node of the generated Ignition config came from, so problems found in
// the Ignition config are reported at the YAML the user wrote.
import { configStructure, mergeStruct, type MergeMapping } from "../config/index.ts";
import type { ConfigPath } from "./report.ts";
import { BASE_SPECS, goValueFields, ignitionFields, snakeCase, type BaseVersion, type FieldType, type Obj } from "./schema.ts";

const keyOf = (p: ConfigPath) => p.join("\u0000");

/** Ignition path → Butane path entries. */
export class TranslationSet {
  private readonly map = new Map<string, { to: ConfigPath; from: ConfigPath }>();

  /** Records that the Ignition node at `to` came from the Butane node at `from`. */
  add(from: ConfigPath, to: ConfigPath): void {
    this.map.set(keyOf(to), { to, from });
  }

  /** The Butane path for an Ignition path, if recorded. */
  get(to: ConfigPath): ConfigPath | undefined {
    return this.map.get(keyOf(to))?.from;
  }

  has(to: ConfigPath): boolean {
    return this.map.has(keyOf(to));
  }

  /** Every entry (Ignition path, Butane path). */
  entries(): { to: ConfigPath; from: ConfigPath }[] {
    return [...this.map.values()];
  }

  /** Copies all entries of another set into this one. */
  merge(other: TranslationSet): void {
    for (const e of other.entries()) this.add(e.from, e.to);
  }

  /**
   * Records `to` and every populated node below it as coming from `from` (a generated value
   * whose parts all come from one Butane field).
   */
  addFromCommonSource(from: ConfigPath, to: ConfigPath, value: unknown, type: FieldType): void {
    this.add(from, to);
    if (type.kind === "struct" && value && typeof value === "object") {
      for (const f of ignitionFields(type.struct)) {
        const v = (value as Obj)[f.json!];
        if (v !== undefined) this.addFromCommonSource(from, [...to, f.json!], v, f.type);
      }
    } else if (type.kind === "list" && Array.isArray(value)) {
      value.forEach((item, i) => this.addFromCommonSource(from, [...to, i], item, type.item));
    }
  }

  /** Maps an Ignition path to Butane: the recorded entry, else the same path snake_cased. */
  translate(to: ConfigPath): ConfigPath {
    return this.get(to) ?? to.map((p) => (typeof p === "string" ? snakeCase(p) : p));
  }
}

/**
 * Merges two translated configs of a base version as Ignition does (the config engine's merge
 * with the Go value fields of that base's spec) and their translation sets: each result node
 * keeps the Butane origin of the side it came from, the child's where both contributed.
 * Butane merges the configs it generates (mount units, boot device, GRUB) as parents under
 * the user's config this way, so the user's fields win and lists merge by key.
 */
export function mergeTranslated(
  base: BaseVersion,
  parent: Obj,
  parentTs: TranslationSet,
  child: Obj,
  childTs: TranslationSet,
): { config: Obj; ts: TranslationSet } {
  const transcript: MergeMapping[] = [];
  const config = mergeStruct(configStructure(BASE_SPECS[base]), parent, child, { isValueField: goValueFields(base), transcript });
  const ts = new TranslationSet();
  for (const m of transcript) {
    const left = (m.side === "parent" ? parentTs : childTs).get(m.from);
    if (left === undefined) continue;
    if (ts.has(m.to) && m.side !== "child") continue;
    ts.add(left, m.to);
  }
  return { config, ts };
}
