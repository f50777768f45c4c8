// Scalar typing as Butane's YAML library (go-yaml v3) does it: YAML 1.2 core plus the YAML 1.1
// habits users rely on (`0644` is octal 420, `1_000` is 1000), and the Go conversions applied
// when a scalar is decoded into a string, integer or boolean field.
import type { YamlScalar } from "./yaml.ts";

/** A scalar's type and value after resolution (go-yaml's short tags without the `!!`). */
export type Resolved =
  | { tag: "null" }
  | { tag: "bool"; value: boolean }
  | { tag: "int"; value: number | bigint }
  | { tag: "float"; value: number }
  | { tag: "str"; value: string }
  | { tag: "merge" }
  | { tag: "timestamp"; value: string; time: string }
  | { tag: "binary"; value: string }
  | { tag: "other"; name: string; value: string };

/** Raised for scalars whose explicit tag contradicts their text (go-yaml aborts on these). */
export class TagMismatchError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

const RESOLVE_MAP: Record<string, Resolved> = {
  "": { tag: "null" },
  "~": { tag: "null" },
  null: { tag: "null" },
  Null: { tag: "null" },
  NULL: { tag: "null" },
  true: { tag: "bool", value: true },
  True: { tag: "bool", value: true },
  TRUE: { tag: "bool", value: true },
  false: { tag: "bool", value: false },
  False: { tag: "bool", value: false },
  FALSE: { tag: "bool", value: false },
  ".nan": { tag: "float", value: NaN },
  ".NaN": { tag: "float", value: NaN },
  ".NAN": { tag: "float", value: NaN },
  ".inf": { tag: "float", value: Infinity },
  ".Inf": { tag: "float", value: Infinity },
  ".INF": { tag: "float", value: Infinity },
  "+.inf": { tag: "float", value: Infinity },
  "+.Inf": { tag: "float", value: Infinity },
  "+.INF": { tag: "float", value: Infinity },
  "-.inf": { tag: "float", value: -Infinity },
  "-.Inf": { tag: "float", value: -Infinity },
  "-.INF": { tag: "float", value: -Infinity },
  "<<": { tag: "merge" },
};

const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const RESOLVABLE = new Set(["", "!!str", "!!bool", "!!int", "!!float", "!!null", "!!timestamp"]);

/** The short tag go-yaml shows in messages (`!!str`, `!!int`, …). */
export function shortTag(r: Resolved): string {
  return r.tag === "other" ? r.name : `!!${r.tag}`;
}

/** True when the scalar is a string no matter its text (quoted, block, or tagged `!!str`). */
export function isIndicatedString(n: YamlScalar): boolean {
  if (n.tag === "!!str") return true;
  return (n.tag === undefined || n.tag === "!") && n.style !== "plain";
}

/** Resolves a scalar node to its type and value. Throws TagMismatchError on `!!int abc`. */
export function resolveScalar(n: YamlScalar): Resolved {
  if (isIndicatedString(n)) return { tag: "str", value: n.value };
  const tag = n.tag === undefined || n.tag === "!" ? "" : n.tag;
  if (tag === "!!binary") return decodeBinary(n);
  if (!RESOLVABLE.has(tag)) return { tag: "other", name: tag, value: n.value };
  const r = resolvePlain(n.value, tag);
  if (tag === "" || tag === "!!str" || `!!${r.tag}` === tag) return r;
  if (tag === "!!float" && r.tag === "int" && (typeof r.value === "number" || r.value <= INT64_MAX)) return { tag: "float", value: Number(r.value) };
  throw new TagMismatchError(n.line, `cannot decode ${shortTag(r)} \`${n.value}\` as a ${tag}`);
}

function decodeBinary(n: YamlScalar): Resolved {
  const clean = n.value.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 !== 0) {
    throw new TagMismatchError(n.line, "!!binary value contains invalid base64 data");
  }
  return { tag: "binary", value: Buffer.from(clean, "base64").toString("latin1") };
}

function resolvePlain(text: string, tag: string): Resolved {
  if (tag === "!!str") return { tag: "str", value: text };
  const known = RESOLVE_MAP[text];
  if (known) return known;
  const c = text[0] ?? "";
  if (c === ".") {
    const f = parseGoFloat(text);
    if (f !== null) return { tag: "float", value: f };
  } else if ((c >= "0" && c <= "9") || c === "+" || c === "-") {
    if (tag === "" || tag === "!!timestamp") {
      const time = goTimestamp(text);
      if (time !== null) return { tag: "timestamp", value: text, time };
    }
    const plain = text.replaceAll("_", "");
    const i = parseGoInt(plain);
    if (i !== null) return { tag: "int", value: i };
    if (YAML_STYLE_FLOAT.test(plain)) {
      const f = parseGoFloat(plain);
      if (f !== null) return { tag: "float", value: f };
    }
    const prefixed = /^(-?)0([bo])(.*)$/.exec(plain);
    if (prefixed) {
      const digits = prefixed[3]!;
      const re = prefixed[2] === "b" ? /^[01]+$/ : /^[0-7]+$/;
      if (re.test(digits)) {
        const v = BigInt((prefixed[2] === "b" ? "0b" : "0o") + digits) * (prefixed[1] === "-" ? -1n : 1n);
        if (v >= INT64_MIN && v <= UINT64_MAX) return { tag: "int", value: exactInt(v) };
      }
    }
  }
  return { tag: "str", value: text };
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** An integer as a number when doubles hold it exactly, else as a bigint. */
function exactInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Go's strconv.ParseInt(s, 0, 64), then ParseUint: base prefixes, leading-zero octal. */
function parseGoInt(s: string): number | bigint | null {
  const m = /^([+-]?)(.*)$/s.exec(s)!;
  const body = m[2]!;
  let digits: string;
  let base: number;
  if (/^0[xX]/.test(body)) {
    digits = body.slice(2);
    base = 16;
  } else if (/^0[bB]/.test(body)) {
    digits = body.slice(2);
    base = 2;
  } else if (/^0[oO]/.test(body)) {
    digits = body.slice(2);
    base = 8;
  } else if (body.length > 1 && body[0] === "0") {
    digits = body.slice(1);
    base = 8;
  } else {
    digits = body;
    base = 10;
  }
  const valid = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ }[base as 2 | 8 | 10 | 16];
  if (!valid.test(digits)) return null;
  const big = (m[1] === "-" ? -1n : 1n) * BigInt((base === 10 ? "" : base === 16 ? "0x" : base === 8 ? "0o" : "0b") + digits);
  // int64 range, or uint64 for unsigned values ("+" is allowed only by ParseInt).
  if (big < INT64_MIN || big > (m[1] === "+" ? INT64_MAX : UINT64_MAX)) return null;
  return exactInt(big);
}

/** Go's strconv.ParseFloat(s, 64) for decimal text: out-of-range values are errors, not ±Inf. */
function parseGoFloat(s: string): number | null {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return null;
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
}

/**
 * A timestamp as go-yaml accepts one (Go's time.Parse with `2006-1-2T15:4:5.999999999Z07:00`,
 * the same with `t`, `2006-1-2 15:4:5.999999999` or `2006-1-2`), formatted as Go's
 * RFC3339Nano; null when go-yaml reads the text as something else.
 */
export function goTimestamp(s: string): string | null {
  const m = /^(\d{4})-(\d\d?)-(\d\d?)(?:([Tt ])(\d\d?):(\d\d?):(\d\d?)(?:[.,](\d+))?(Z|[+-]\d\d:\d\d)?)?$/.exec(s);
  if (!m) return null;
  const [, y, mo, d, sep, h, mi, se, frac, zone] = m;
  if (sep !== undefined && (sep === " ") !== (zone === undefined)) return null;
  const year = Number(y);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][Number(mo) - 1];
  if (!days || Number(d) < 1 || Number(d) > days || Number(h ?? 0) > 23 || Number(mi ?? 0) > 59 || Number(se ?? 0) > 59) return null;
  if (zone !== undefined && zone !== "Z" && (Number(zone.slice(1, 3)) > 24 || Number(zone.slice(4)) > 60)) return null;
  const two = (v: string | undefined) => (v ?? "0").padStart(2, "0");
  const f = (frac ?? "").slice(0, 9).replace(/0+$/, "");
  const z = zone === undefined || zone === "Z" || /^[+-]00:00$/.test(zone) ? "Z" : zone;
  return `${y}-${two(mo)}-${two(d)}T${two(h)}:${two(mi)}:${two(se)}${f ? "." + f : ""}${z}`;
}

/** Outcome of converting a scalar for a typed field; `error` holds go-yaml's description. */
export type Converted<T> = { ok: true; value: T } | { ok: false; tag: string };

/** A scalar decoded into a Go string field: the raw text for any non-null scalar. */
export function convertToString(n: YamlScalar, r: Resolved): Converted<string> {
  if (r.tag === "binary") return { ok: true, value: r.value };
  return { ok: true, value: n.value };
}

/**
 * A scalar decoded into a Go int field (64 bits): integers in range, and floats truncated toward
 * zero. Integers beyond 2^53 stay exact as bigints.
 */
export function convertToInt(r: Resolved): Converted<number | bigint> {
  if (r.tag === "int" && (typeof r.value === "number" || r.value <= INT64_MAX)) return { ok: true, value: r.value };
  if (r.tag === "float" && Number.isFinite(r.value) && r.value < 2 ** 63 && r.value >= -(2 ** 63)) {
    return { ok: true, value: exactInt(BigInt(Math.trunc(r.value))) };
  }
  return { ok: false, tag: shortTag(r) };
}

const YAML11_TRUE = new Set(["y", "Y", "yes", "Yes", "YES", "on", "On", "ON"]);
const YAML11_FALSE = new Set(["n", "N", "no", "No", "NO", "off", "Off", "OFF"]);

/** A scalar decoded into a Go bool field: booleans, plus YAML 1.1's yes/no/on/off words. */
export function convertToBool(r: Resolved): Converted<boolean> {
  if (r.tag === "bool") return { ok: true, value: r.value };
  if (r.tag === "str") {
    if (YAML11_TRUE.has(r.value)) return { ok: true, value: true };
    if (YAML11_FALSE.has(r.value)) return { ok: true, value: false };
  }
  return { ok: false, tag: shortTag(r) };
}
