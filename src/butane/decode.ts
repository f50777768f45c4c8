// Decodes the YAML tree into a Butane config object following a schema, the way Butane's
// go-yaml decoder fills its Go structs: type mismatches and duplicate fields are fatal,
// unknown keys are dropped with an "Unused key" warning, anchors and `<<` merge keys resolve.
import { convertToBool, convertToInt, convertToString, resolveScalar, shortTag, TagMismatchError } from "./resolve.ts";
import { warningAt, type ConfigPath, type PendingEntry } from "./report.ts";
import type { FieldType, Obj, StructType } from "./schema.ts";
import { derefYaml, type YamlMap, type YamlNode } from "./yaml.ts";

/** A decoded config with its warnings, or go-yaml's fatal error text. */
export type DecodeResult =
  | { ok: true; value: Obj; warnings: PendingEntry[] }
  | { ok: false; message: string; at?: { line: number; col: number } };

/** Decodes `root` as `type`; `pkg` prefixes Go-style type names in error messages. */
export function decodeConfig(root: YamlNode | null, type: StructType, pkg: string): DecodeResult {
  const d = new Decoder(pkg);
  try {
    const value = root ? (d.decodeStruct(type, root, root, []) ?? {}) : {};
    if (d.terrors.length > 0) return { ok: false, message: `yaml: unmarshal errors:\n  ${d.terrors.join("\n  ")}`, at: d.firstAt };
    return { ok: true, value, warnings: d.warnings };
  } catch (e) {
    if (e instanceof TagMismatchError) return { ok: false, message: `yaml: ${e.message}`, at: { line: e.line, col: 1 } };
    if (e instanceof MergeError) return { ok: false, message: `yaml: ${e.message}` };
    throw e;
  }
}

class MergeError extends Error {}

const CONTEXT_MISMATCH = (path: ConfigPath) =>
  `context tree does not match content tree at ${["$", ...path.map(String)].join(".")}. Line and column reporting may be inconsistent. Unused keys may not be reported.`;

class Decoder {
  readonly terrors: string[] = [];
  /** Where the first type error is. */
  firstAt?: { line: number; col: number };
  readonly warnings: PendingEntry[] = [];
  constructor(private readonly pkg: string) {}

  private typeName(t: FieldType): string {
    switch (t.kind) {
      case "string":
        return "string";
      case "int":
        return "int";
      case "bool":
        return "bool";
      case "list":
        return `[]${this.typeName(t.item)}`;
      case "struct":
        return `${this.pkg}.${t.struct.name}`;
    }
  }

  private terror(node: YamlNode, t: FieldType, tag?: string): void {
    const n = derefYaml(node);
    let shown = "";
    let shownTag = tag;
    if (n.kind === "map") shownTag = "!!map";
    else if (n.kind === "seq") shownTag = "!!seq";
    else {
      shownTag ??= shortTag(resolveScalar(n));
      shown = n.value.length > 10 ? ` \`${n.value.slice(0, 7)}...\`` : ` \`${n.value}\``;
    }
    this.typeError(n, `cannot unmarshal ${shownTag}${shown} into ${this.typeName(t)}`);
  }

  private typeError(at: YamlNode, text: string): void {
    this.firstAt ??= { line: at.line, col: at.col };
    this.terrors.push(`line ${at.line}: ${text}`);
  }

  /** go-yaml refuses a mapping (any mapping, whatever it decodes into) with a key written twice. */
  private hasDuplicateKeys(map: YamlMap): boolean {
    const id = (k: YamlNode) => `${k.kind}\0${k.kind === "scalar" ? k.value : k.kind === "alias" ? k.name : ""}`;
    const ids = map.pairs.map((p) => id(p.key));
    if (new Set(ids).size === ids.length) return false;
    // Every pair of equal keys, as go-yaml lists them.
    for (let i = 0; i < ids.length; i++) {
      for (let j = i + 1; j < ids.length; j++) {
        if (ids[i] !== ids[j]) continue;
        const k = map.pairs[j]!.key;
        const shown = k.kind === "scalar" ? k.value : k.kind === "alias" ? k.name : "";
        this.typeError(k, `mapping key ${JSON.stringify(shown)} already defined at line ${map.pairs[i]!.key.line}`);
      }
    }
    return true;
  }

  private isNull(n: YamlNode): boolean {
    const d = derefYaml(n);
    return d.kind === "scalar" && resolveScalar(d).tag === "null";
  }

  /**
   * Decodes a value. `ctx` is the node at this path in the source as written (aliases not
   * followed), or null when the path is not in it; it drives unused-key warnings.
   */
  decode(t: FieldType, node: YamlNode, ctx: YamlNode | null, path: ConfigPath): unknown {
    switch (t.kind) {
      case "struct":
        return this.decodeStruct(t.struct, node, ctx, path);
      case "list":
        return this.decodeList(t, node, ctx, path);
      default:
        return this.decodeScalar(t, node);
    }
  }

  private decodeScalar(t: FieldType, node: YamlNode): unknown {
    const n = derefYaml(node);
    if (n.kind !== "scalar") {
      this.terror(n, t);
      return undefined;
    }
    const r = resolveScalar(n);
    if (r.tag === "null") return undefined;
    const c = t.kind === "string" ? convertToString(n, r) : t.kind === "int" ? convertToInt(r) : convertToBool(r);
    if (!c.ok) {
      this.terror(n, t, c.tag);
      return undefined;
    }
    return c.value;
  }

  private decodeList(t: FieldType & { kind: "list" }, node: YamlNode, ctx: YamlNode | null, path: ConfigPath): unknown[] | undefined {
    const n = derefYaml(node);
    if (n.kind !== "seq") {
      if (!this.isNull(n)) this.terror(n, t);
      return undefined;
    }
    const ctxSeq = ctx && ctx.kind === "seq" ? ctx : null;
    return n.items.map((item, i) => {
      const v = this.decode(t.item, item, ctxSeq ? (ctxSeq.items[i] ?? null) : null, [...path, i]);
      // Go leaves a zero value in the slot of an element that failed or was null.
      return v ?? zeroOf(t.item);
    });
  }

  decodeStruct(st: StructType, node: YamlNode, ctx: YamlNode | null, path: ConfigPath): Obj | undefined {
    const n = derefYaml(node);
    if (n.kind !== "map" && !this.isNull(n)) {
      this.terror(n, { kind: "struct", struct: st });
      return undefined;
    }
    // Butane's unused-key check wants a mapping at every struct it visits; an alias or a null
    // written there is a leaf to it.
    if (ctx && ctx.kind !== "map") this.warnings.push(warningAt(path, CONTEXT_MISMATCH(path)));
    if (n.kind !== "map" || this.hasDuplicateKeys(n)) return undefined;
    const out: Obj = {};
    const byName = new Map(inputFields(st).map((f) => [f.yaml, f]));
    const done = new Set<string>();
    let mergeNode: YamlNode | null = null;
    const explicitKeys = new Set<string>();
    for (const pair of n.pairs) {
      const key = derefYaml(pair.key);
      if (key.kind === "scalar" && isMergeKey(key)) {
        mergeNode = pair.value;
        continue;
      }
      if (key.kind !== "scalar") {
        this.terror(key, { kind: "string" });
        continue;
      }
      if (this.isNull(key) && key.tag === undefined) {
        // A null key decodes to "" in Go, which matches no field.
        explicitKeys.add("");
        continue;
      }
      const name = key.value;
      explicitKeys.add(name);
      const field = byName.get(name);
      if (!field) continue;
      if (done.has(name)) {
        this.typeError(key, `field ${name} already set in type ${this.pkg}.${st.name}`);
        continue;
      }
      done.add(name);
      const childCtx = ctx && ctx.kind === "map" ? pairValue(ctx, name) : null;
      const v = this.decode(field.type, pair.value, childCtx, [...path, name]);
      if (v !== undefined) out[name] = v;
    }
    if (mergeNode) this.applyMerge(st, mergeNode, out, explicitKeys, path);
    if (ctx && ctx.kind === "map") this.checkUnusedKeys(st, ctx, path);
    return out;
  }

  /** Applies `<<` merge keys: merged mappings fill only fields not set explicitly or earlier. */
  private applyMerge(st: StructType, mergeNode: YamlNode, out: Obj, taken: Set<string>, path: ConfigPath): void {
    const wantMap = () => new MergeError("map merge requires map or sequence of maps as the value");
    const sources: YamlMap[] = [];
    const m = derefYaml(mergeNode);
    if (m.kind === "map") sources.push(m);
    else if (m.kind === "seq") {
      for (const item of m.items) {
        const d = derefYaml(item);
        if (d.kind !== "map") throw wantMap();
        sources.push(d);
      }
    } else throw wantMap();
    const byName = new Map(inputFields(st).map((f) => [f.yaml, f]));
    for (const src of sources) {
      const sub: Obj = {};
      const decoded = this.decodeMergedMap(st, src, path, sub);
      for (const name of decoded) {
        if (taken.has(name)) continue;
        taken.add(name);
        if (byName.has(name) && sub[name] !== undefined) out[name] = sub[name];
      }
    }
  }

  private decodeMergedMap(st: StructType, src: YamlMap, path: ConfigPath, into: Obj): string[] {
    const names: string[] = [];
    const byName = new Map(inputFields(st).map((f) => [f.yaml, f]));
    for (const pair of src.pairs) {
      const key = derefYaml(pair.key);
      if (key.kind !== "scalar" || isMergeKey(key)) continue;
      names.push(key.value);
      const field = byName.get(key.value);
      if (!field || key.value in into) continue;
      const v = this.decode(field.type, pair.value, null, [...path, key.value]);
      if (v !== undefined) into[key.value] = v;
    }
    return names;
  }

  private checkUnusedKeys(st: StructType, ctx: YamlMap, path: ConfigPath): void {
    const known = new Set(inputFields(st).map((f) => f.yaml));
    const seen = new Set<string>();
    for (const pair of ctx.pairs) {
      const k = pair.key;
      const name = k.kind === "scalar" ? k.value : k.kind === "alias" ? k.name : "";
      if (known.has(name) || seen.has(name)) continue;
      seen.add(name);
      this.warnings.push({ ...warningAt([...path, name], `Unused key ${name}`), keyOf: true });
    }
  }
}

function inputFields(st: StructType) {
  return st.fields.filter((f) => !f.outputOnly);
}

function isMergeKey(key: YamlNode & { kind: "scalar" }): boolean {
  return (key.style === "plain" && key.tag === undefined && key.value === "<<") || key.tag === "!!merge";
}

function pairValue(map: YamlMap, name: string): YamlNode | null {
  let found: YamlNode | null = null;
  for (const p of map.pairs) {
    if (p.key.kind === "scalar" && p.key.value === name) found = p.value;
  }
  return found;
}

/** The Go zero value of a type, as our objects represent it. */
export function zeroOf(t: FieldType): unknown {
  switch (t.kind) {
    case "string":
      return "";
    case "int":
      return 0;
    case "bool":
      return false;
    case "list":
      return [];
    case "struct":
      return {};
  }
}
