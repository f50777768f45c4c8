// Turns a translated (Ignition-shaped) object into the JSON value Butane prints: fields in the
// order of Ignition's Go structs, set pointers printed even when zero (`compression: ""`),
// value fields printed with their zero value, and empty objects and lists left out.
import { ignitionFields, type FieldType, type Obj, type StructType } from "./schema.ts";

// Integers beyond 2^53 are bigints (go-yaml decodes them exactly); JSON.stringify cannot print
// them, so they pass through as strings with a marker no config can guess.
const BIG = `bigint-${crypto.randomUUID()}:`;
const BIG_RE = new RegExp(`"${BIG}(-?\\d+)"`, "g");

/**
 * Serializes like Go's encoding/json, as Butane prints its output: `<`, `>`, `&`, U+2028 and
 * U+2029 escaped, integers exact however large.
 */
export function formatIgnitionJson(value: unknown, pretty = false): string {
  const replacer = (_k: string, v: unknown) => (typeof v === "bigint" ? BIG + v.toString() : v);
  const text = pretty ? JSON.stringify(value, replacer, 2) : JSON.stringify(value, replacer);
  return text
    .replace(BIG_RE, "$1")
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** True when a value of this type is empty in Go's omitempty sense (recursively for structs). */
export function isEmptyValue(t: FieldType, v: unknown, valueField = false): boolean {
  if (v === undefined || v === null) return true;
  if (t.kind === "list") return (v as unknown[]).length === 0;
  if (t.kind === "struct") {
    const obj = v as Obj;
    return ignitionFields(t.struct).every((f) => isEmptyValue(f.type, obj[f.json!], f.value === true));
  }
  // A set pointer is never empty; a value field is empty when zero.
  return valueField ? v === "" || v === 0 || v === false : false;
}

/** The printable form of a struct value. */
export function emitStruct(st: StructType, obj: Obj): Obj {
  const out: Obj = {};
  for (const f of ignitionFields(st)) {
    const v = obj[f.json!];
    const t = f.type;
    if (t.kind === "struct") {
      if (!isEmptyValue(t, v)) out[f.json!] = emitStruct(t.struct, v as Obj);
    } else if (t.kind === "list") {
      const items = v as unknown[] | undefined;
      if (items && items.length > 0) out[f.json!] = items.map((item) => emitItem(t.item, item));
    } else if (f.value) {
      const zero = t.kind === "string" ? "" : t.kind === "int" ? 0 : false;
      const val = v ?? zero;
      if (!(f.omitZero && val === zero)) out[f.json!] = val;
    } else if (v !== undefined) {
      out[f.json!] = v;
    }
  }
  return out;
}

function emitItem(t: FieldType, item: unknown): unknown {
  if (t.kind === "struct") return emitStruct(t.struct, (item as Obj) ?? {});
  if (t.kind === "list") return ((item as unknown[]) ?? []).map((x) => emitItem(t.item, x));
  return item;
}
