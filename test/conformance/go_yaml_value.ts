// go-yaml v3's decoding of a document into Go's `interface{}`, applied to our YAML reader's tree,
// so the reader can be compared with go-yaml's verdicts (test/conformance/yaml/go-yaml.json,
// written by scripts/yaml-reference). Values use the fixtures' tagged form: null, booleans and
// strings stand for themselves; {"int":"N"}, {"float":"F"}, {"time":"T"}, [...] for sequences,
// {"map":[[key, value], ...]} for mappings.
import { resolveScalar, TagMismatchError } from "../../src/butane/resolve.ts";
import { derefYaml, type YamlNode, type YamlResult, type YamlScalar } from "../../src/butane/yaml.ts";

/** A tagged value as the fixtures hold it. */
export type Tagged = null | boolean | string | { int: string } | { float: string } | { time: string } | Tagged[] | { map: [Tagged, Tagged][] };

/** go-yaml's verdict on one input: accepted with its value, or rejected with its error. */
export type Verdict = { ok: true; value?: Tagged } | { ok: false; error: string; line?: number };

class DecodeFailure extends Error {}

/** The verdict our reader's result gives once decoded the way go-yaml decodes into interface{}. */
export function verdictOf(result: YamlResult): Verdict {
  if (!result.ok) return rejected(result.error.message);
  if (result.root === null) return { ok: true };
  try {
    const d = new Decoder();
    const value = d.decode(result.root);
    if (d.terrors.length > 0) return rejected(`yaml: unmarshal errors:\n  ${d.terrors.join("\n  ")}`);
    return value === null ? { ok: true } : { ok: true, value };
  } catch (e) {
    if (e instanceof DecodeFailure) return rejected(`yaml: ${e.message}`);
    if (e instanceof TagMismatchError) return rejected(`yaml: ${e.message}`);
    throw e;
  }
}

function rejected(message: string): Verdict {
  const line = /line (\d+)/.exec(message);
  return line ? { ok: false, error: message, line: Number(line[1]) } : { ok: false, error: message };
}

/** Two verdicts agree: same acceptance, same value (map order aside), or an error on the same line. */
export function sameVerdict(a: Verdict, b: Verdict): boolean {
  if (a.ok !== b.ok) return false;
  if (a.ok && b.ok) return canonical(a.value ?? null) === canonical(b.value ?? null);
  return (a as { line?: number }).line === (b as { line?: number }).line;
}

/** A canonical JSON text of a tagged value: map pairs sorted by their own canonical text. */
export function canonical(v: Tagged): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object" && "map" in v) {
    const pairs = v.map.map(([k, val]) => `[${canonical(k)},${canonical(val)}]`).sort();
    return `{"map":[${pairs.join(",")}]}`;
  }
  return JSON.stringify(v);
}

/** Go's strconv.FormatFloat(f, 'g', -1, 64): shortest digits, exponent form outside 1e-4..1e6. */
function goFloat(f: number): string {
  if (Number.isNaN(f)) return "NaN";
  if (f === Infinity) return "+Inf";
  if (f === -Infinity) return "-Inf";
  if (f === 0) return Object.is(f, -0) ? "-0" : "0";
  const [mant, e] = f.toExponential().split("e") as [string, string];
  const x = Number(e);
  if (x < -4 || x >= 6) return `${mant}e${x < 0 ? "-" : "+"}${String(Math.abs(x)).padStart(2, "0")}`;
  return String(f);
}

class Decoder {
  readonly terrors: string[] = [];
  private readonly active = new Set<YamlNode>();

  decode(node: YamlNode): Tagged {
    if (node.kind === "alias") {
      if (this.active.has(node)) throw new DecodeFailure(`anchor '${node.name}' value contains itself`);
      this.active.add(node);
      try {
        return this.decode(node.target);
      } finally {
        this.active.delete(node);
      }
    }
    if (node.kind === "scalar") return this.scalar(node);
    if (node.kind === "seq") return node.items.map((i) => this.decode(i));
    return this.mapping(node, new Map(), null);
  }

  private scalar(n: YamlScalar): Tagged {
    const r = resolveScalar(n);
    switch (r.tag) {
      case "null":
        return null;
      case "bool":
        return r.value;
      case "int":
        return { int: String(r.value) };
      case "float":
        return { float: goFloat(r.value) };
      case "timestamp":
        return { time: r.time };
      case "binary":
        return goString(r.value);
      case "merge":
        return "<<";
      default:
        return r.value;
    }
  }

  /** Decodes a mapping into `into` (keyed by canonical key); `taken` holds keys merges may not set. */
  private mapping(n: YamlNode & { kind: "map" }, into: Map<string, [Tagged, Tagged]>, taken: Set<string> | null): Tagged {
    const before = this.terrors.length;
    for (let i = 0; i < n.pairs.length; i++) {
      for (let j = i + 1; j < n.pairs.length; j++) {
        const a = n.pairs[i]!.key;
        const b = n.pairs[j]!.key;
        if (a.kind === b.kind && nodeValue(a) === nodeValue(b)) {
          this.terrors.push(`line ${b.line}: mapping key ${JSON.stringify(nodeValue(b))} already defined at line ${a.line}`);
        }
      }
    }
    if (this.terrors.length > before) return null;
    const stringKeys = n.pairs.every((p) => isStringKey(p.key));
    let mergeNode: YamlNode | null = null;
    for (const { key, value } of n.pairs) {
      if (isMerge(key)) {
        mergeNode = value;
        continue;
      }
      const k = stringKeys ? this.stringKey(key) : this.decode(key);
      if (k !== null && typeof k === "object" && ("map" in k || Array.isArray(k))) throw new DecodeFailure("invalid map key");
      const ck = canonical(k);
      if (taken) {
        if (taken.has(ck)) continue;
        taken.add(ck);
      }
      into.set(ck, [k, this.decode(value)]);
    }
    if (mergeNode) this.merge(n, mergeNode, into, taken);
    return { map: [...into.values()] };
  }

  private stringKey(key: YamlNode): Tagged {
    const d = derefYaml(key);
    return d.kind === "scalar" ? d.value : this.decode(key);
  }

  private merge(parent: YamlNode & { kind: "map" }, source: YamlNode, into: Map<string, [Tagged, Tagged]>, taken: Set<string> | null): void {
    const keys = taken ?? new Set(parent.pairs.filter((p) => !isMerge(p.key)).map((p) => canonical(this.decode(p.key))));
    const fail = () => new DecodeFailure("map merge requires map or sequence of maps as the value");
    const one = (s: YamlNode) => {
      const d = s.kind === "alias" ? this.followAlias(s) : s;
      if (d.kind !== "map") throw fail();
      this.mapping(d, into, keys);
    };
    if (source.kind === "map" || source.kind === "alias") one(source);
    else if (source.kind === "seq") for (const item of source.items) one(item);
    else throw fail();
  }

  private followAlias(a: YamlNode & { kind: "alias" }): YamlNode {
    if (this.active.has(a)) throw new DecodeFailure(`anchor '${a.name}' value contains itself`);
    return a.target;
  }
}

function nodeValue(n: YamlNode): string {
  if (n.kind === "scalar") return n.value;
  if (n.kind === "alias") return n.name;
  return "";
}

function isMerge(n: YamlNode): boolean {
  return n.kind === "scalar" && n.value === "<<" && (n.tag === undefined || n.tag === "!" || n.tag === "!!merge") && (n.style === "plain" || n.tag === "!!merge");
}

function isStringKey(n: YamlNode): boolean {
  const d = n.kind === "alias" ? derefYaml(n) : n;
  if (d.kind !== "scalar") return false;
  try {
    const t = resolveScalar(d).tag;
    return t === "str" || t === "merge";
  } catch {
    return false;
  }
}

/**
 * Bytes (one per char) as Go's encoding/json prints a string holding them: valid UTF-8 decoded,
 * every other byte replaced by U+FFFD.
 */
function goString(bytes: string): string {
  let out = "";
  for (let i = 0; i < bytes.length; ) {
    const b = bytes.charCodeAt(i);
    const n = b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    const seq = Uint8Array.from(bytes.slice(i, i + n), (c) => c.charCodeAt(0));
    const text = n > 0 && seq.length === n ? new TextDecoder("utf-8", { fatal: false }).decode(seq) : "\ufffd";
    if (n === 0 || text.includes("\ufffd")) {
      out += "\ufffd";
      i++;
    } else {
      out += text;
      i += n;
    }
  }
  return out;
}
