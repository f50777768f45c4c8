// Which Butane path each node of the generated Ignition config came from, so problems found in
// the Ignition config are reported at the YAML the user wrote.
import type { ConfigPath } from "./report.ts";
import { ignitionFields, snakeCase, type FieldType, type Obj } from "./schema.ts";

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
