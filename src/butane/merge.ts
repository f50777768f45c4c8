// Ignition's config merge (parent + child → result) over Ignition-shaped objects, with the
// transcript of where each result field came from. Butane merges the configs it generates
// (mount units, boot device, GRUB) as parents under the user's config this way, so the
// user's fields win and lists merge by key.
import type { ConfigPath } from "./report.ts";
import { ignitionFields, MERGED_LIST_HANDLES, type FieldSpec, type FieldType, type Obj, type StructType } from "./schema.ts";
import { TranslationSet } from "./translation_set.ts";

/** One transcript entry: the result path and the parent or child path it came from. */
export interface MergeMapping {
  side: "parent" | "child";
  from: ConfigPath;
  to: ConfigPath;
}

/** Merges `child` over `parent` (both of struct type `type`), returning the transcript too. */
export function mergeObjects(type: StructType, parent: Obj, child: Obj): { result: Obj; transcript: MergeMapping[] } {
  const transcript: MergeMapping[] = [];
  const result = mergeStruct(type, parent, [], child, [], [], transcript);
  return { result, transcript };
}

/**
 * Merges two translated configs and their translation sets: each result node keeps the
 * Butane origin of the side it came from, preferring the child's where both contributed.
 */
export function mergeTranslated(
  type: StructType,
  parent: Obj,
  parentTs: TranslationSet,
  child: Obj,
  childTs: TranslationSet,
): { config: Obj; ts: TranslationSet } {
  const { result, transcript } = mergeObjects(type, parent, child);
  const ts = new TranslationSet();
  for (const m of transcript) {
    const left = (m.side === "parent" ? parentTs : childTs).get(m.from);
    if (left === undefined) continue;
    if (ts.has(m.to) && m.side !== "child") continue;
    ts.add(left, m.to);
  }
  return { config: result, ts };
}

function keyOfItem(t: FieldType, item: unknown): string {
  if (t.kind === "struct") return t.struct.key ? t.struct.key(item as Obj) : "";
  return String(item ?? "");
}

function isZeroScalar(v: unknown): boolean {
  return v === undefined || v === "" || v === 0 || v === false;
}

function mergeStruct(
  st: StructType,
  parent: Obj,
  pPath: ConfigPath,
  child: Obj,
  cPath: ConfigPath,
  rPath: ConfigPath,
  out: MergeMapping[],
): Obj {
  const result: Obj = {};
  // Child list entries by (handle, key), for lists merged by key.
  const childIndex = new Map<string, { list: string; index: number; value: unknown }>();
  const handleOf = (f: FieldSpec) => MERGED_LIST_HANDLES[`${st.name}.${f.json}`] ?? f.json!;
  for (const f of ignitionFields(st)) {
    if (f.type.kind !== "list" || f.type.merge === "append") continue;
    const items = (child[f.json!] as unknown[] | undefined) ?? [];
    items.forEach((item, i) => {
      childIndex.set(`${handleOf(f)}\u0000${keyOfItem(f.type.kind === "list" ? f.type.item : f.type, item)}`, {
        list: f.json!,
        index: i,
        value: item,
      });
    });
  }
  for (const f of ignitionFields(st)) {
    const name = f.json!;
    const pv = parent[name];
    const cv = child[name];
    const pp = [...pPath, name];
    const cp = [...cPath, name];
    const rp = [...rPath, name];
    const t = f.type;
    if (t.kind === "struct") {
      const merged = mergeStruct(t.struct, (pv as Obj) ?? {}, pp, (cv as Obj) ?? {}, cp, rp, out);
      if (Object.keys(merged).length > 0) result[name] = merged;
      continue;
    }
    if (t.kind !== "list") {
      if (f.value) {
        // Go value fields: the child's value always wins, zero or not.
        if (cv !== undefined) result[name] = cv;
        transcribe("child", cp, rp, cv, t, true, out);
      } else if (cv !== undefined) {
        result[name] = cv;
        transcribe("child", cp, rp, cv, t, false, out);
      } else if (pv !== undefined) {
        result[name] = pv;
        transcribe("parent", pp, rp, pv, t, false, out);
      }
      continue;
    }
    const pItems = (pv as unknown[] | undefined) ?? [];
    const cItems = (cv as unknown[] | undefined) ?? [];
    if (pItems.length + cItems.length === 0) continue;
    const items: unknown[] = [];
    if (t.merge === "append") {
      pItems.forEach((item, i) => {
        transcribe("parent", [...pp, i], [...rp, items.length], item, t.item, true, out);
        items.push(item);
      });
      cItems.forEach((item, i) => {
        transcribe("child", [...cp, i], [...rp, items.length], item, t.item, true, out);
        items.push(item);
      });
      result[name] = items;
      continue;
    }
    const parentKeys = new Set(pItems.map((item) => keyOfItem(t.item, item)));
    pItems.forEach((item, i) => {
      const hit = childIndex.get(`${handleOf(f)}\u0000${keyOfItem(t.item, item)}`);
      const resultPath = [...rp, items.length];
      if (!hit) {
        transcribe("parent", [...pp, i], resultPath, item, t.item, true, out);
        items.push(item);
        return;
      }
      // Same key in another list (a file replaced by a link): the child's entry wins there.
      if (hit.list !== name) return;
      const childItemPath = [...cPath, name, hit.index];
      if (t.item.kind === "struct") {
        // A child HTTP header without a value removes the parent's header.
        if (name === "httpHeaders" && (hit.value as Obj).value === undefined) return;
        items.push(mergeStruct(t.item.struct, item as Obj, [...pp, i], hit.value as Obj, childItemPath, resultPath, out));
      } else {
        transcribe("child", childItemPath, resultPath, hit.value, t.item, true, out);
        items.push(hit.value);
      }
    });
    cItems.forEach((item, i) => {
      if (parentKeys.has(keyOfItem(t.item, item))) return;
      transcribe("child", [...cp, i], [...rp, items.length], item, t.item, true, out);
      items.push(item);
    });
    if (items.length > 0) result[name] = items;
  }
  return result;
}

/** Records every populated leaf (and wholly copied struct) of a value taken from one side. */
function transcribe(
  side: "parent" | "child",
  from: ConfigPath,
  to: ConfigPath,
  value: unknown,
  t: FieldType,
  valueField: boolean,
  out: MergeMapping[],
): boolean {
  if (t.kind === "struct") {
    let any = false;
    const obj = (value as Obj) ?? {};
    for (const f of ignitionFields(t.struct)) {
      const v = obj[f.json!];
      if (v === undefined) continue;
      any = transcribe(side, [...from, f.json!], [...to, f.json!], v, f.type, f.value === true, out) || any;
    }
    if (any) out.push({ side, from, to });
    return any;
  }
  if (t.kind === "list") {
    let any = false;
    ((value as unknown[]) ?? []).forEach((item, i) => {
      any = transcribe(side, [...from, i], [...to, i], item, t.item, true, out) || any;
    });
    return any;
  }
  if (value === undefined) return false;
  if (valueField && isZeroScalar(value)) return false;
  out.push({ side, from, to });
  return true;
}
