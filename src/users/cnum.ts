// Numbers and characters as shadow's C code reads them (strtol/strtoul/strtoll with the C
// locale's ctype), so that ids, ages and ranges in the account files and in login.defs mean to
// us exactly what they mean to useradd and friends.

const LONG_MIN = -(1n << 63n);
const LONG_MAX = (1n << 63n) - 1n;
const ULONG_MAX = (1n << 64n) - 1n;
const UINT32_MAX = 0xffff_ffffn;

/** C's isspace() in the C locale. */
export const isCSpace = (c: string): boolean => c === " " || (c >= "\t" && c <= "\r");

/** C's iscntrl() in the C locale, for one byte (as a latin1 character). */
export const isCControl = (c: string): boolean => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f;

/** C's isdigit(). */
export const isCDigit = (c: string): boolean => c >= "0" && c <= "9";

/** What strto(u)l(l) consumed: the value (before any range check) and where it stopped. */
interface Scanned {
  value: bigint;
  end: number;
  negative: boolean;
}

/** strtol's scan: leading whitespace, a sign, and digits in `base` (0: 0x.. hex, 0.. octal, else decimal). */
function scan(s: string, base: 0 | 10): Scanned | null {
  let i = 0;
  while (i < s.length && isCSpace(s[i]!)) i++;
  let negative = false;
  if (s[i] === "+" || s[i] === "-") {
    negative = s[i] === "-";
    i++;
  }
  let radix: number = base === 0 ? 10 : base;
  if (base === 0 && s[i] === "0") {
    if ((s[i + 1] === "x" || s[i + 1] === "X") && /[0-9a-fA-F]/.test(s[i + 2] ?? "")) {
      radix = 16;
      i += 2;
    } else {
      radix = 8;
    }
  }
  const start = i;
  let value = 0n;
  for (; i < s.length; i++) {
    const d = parseInt(s[i]!, 36);
    if (Number.isNaN(d) || d >= radix) break;
    value = value * BigInt(radix) + BigInt(d);
  }
  if (i === start) return null;
  return { value, end: i, negative };
}

/** shadow's getlong(): strtol(s, base 0) over the whole string, in range. */
export function cLong(s: string): bigint | null {
  if (s === "") return null;
  const r = scan(s, 0);
  if (!r || r.end !== s.length) return null;
  const v = r.negative ? -r.value : r.value;
  return v < LONG_MIN || v > LONG_MAX ? null : v;
}

/** shadow's getulong(): strtoul(s, base 0) over the whole string ("-1" wraps around, as in C). */
export function cULong(s: string): bigint | null {
  if (s === "") return null;
  const r = scan(s, 0);
  if (!r || r.end !== s.length || r.value > ULONG_MAX) return null;
  return r.negative ? (ULONG_MAX + 1n - r.value) & ULONG_MAX : r.value;
}

/** shadow's get_uid()/get_gid(): strtoll(s, 10) over the whole string, a 32-bit unsigned value. */
export function cId(s: string): number | null {
  if (s === "") return null;
  const r = scan(s, 10);
  if (!r || r.end !== s.length || r.value > LONG_MAX + (r.negative ? 1n : 0n)) return null;
  const v = r.negative ? -r.value : r.value;
  return v < 0n || v > UINT32_MAX ? null : Number(v);
}

/**
 * glibc's reading of one numeric field of /etc/shadow (nss_files' strtou32: strtoul base 10,
 * clamped to 0xffffffff): the unsigned value and the index after the digits, or null when no
 * digit was read. Callers truncate to a C int where glibc does.
 */
export function glibcShadowNumber(s: string, from: number): { value: number; end: number } | null {
  const r = scan(s.slice(from), 10);
  if (!r) return null;
  let v = r.value > ULONG_MAX ? ULONG_MAX : r.value;
  if (r.negative) v = (ULONG_MAX + 1n - v) & ULONG_MAX;
  if (v > UINT32_MAX) v = UINT32_MAX;
  return { value: Number(v), end: from + r.end };
}

/** A C int from an unsigned 32-bit value ((int) cast). */
export const toCInt = (v: number): number => v | 0;

/** A C-string length in bytes of a latin1-encoded byte string. */
export const byteLength = (s: string): number => s.length;

/** UTF-8 text as a string of latin1 characters, one per byte (how the account files are handled). */
export const toBytes = (s: string): string => Buffer.from(s, "utf8").toString("latin1");

/** A byte string (latin1 characters) back to text, for messages. */
export const fromBytes = (s: string): string => Buffer.from(s, "latin1").toString("utf8");
