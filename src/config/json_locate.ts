// A small JSON scanner that reports syntax errors with line and column and records where each
// value (and each object key) starts, so config issues can point at the user's text.
// It only runs when something must be reported: the fast path is JSON.parse.
import type { IssuePath } from "./issues.ts";

export interface Position {
  line: number;
  column: number;
}

export interface JsonSyntaxError {
  message: string;
  line: number;
  column: number;
}

/** Where things are in a JSON text: value starts by path, and key starts by path of the value. */
export interface JsonLocations {
  syntaxError?: JsonSyntaxError;
  /** Start of the value at a path. */
  value(path: IssuePath): Position | undefined;
  /** Start of the key naming the member at a path (falls back to the value). */
  key(path: IssuePath): Position | undefined;
}

const pathKey = (path: IssuePath) => JSON.stringify(path);

/** Scans text; never throws. */
export function locateJson(text: string): JsonLocations {
  const values = new Map<string, number>();
  const keys = new Map<string, number>();
  let i = 0;
  const n = text.length;

  class Fail extends Error {
    constructor(readonly at: number, msg: string) {
      super(msg);
    }
  }
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const describe = (at: number) =>
    at >= n ? "end of input" : `character ${JSON.stringify(text[at])}`;
  const expect = (ch: string, what: string) => {
    if (text[i] !== ch) throw new Fail(i, `expected ${what}, found ${describe(i)}`);
    i++;
  };
  const str = (): string => {
    const start = i;
    expect('"', "a string");
    let out = "";
    for (;;) {
      if (i >= n) throw new Fail(start, "unterminated string");
      const c = text[i]!;
      if (c === '"') {
        i++;
        return out;
      }
      if (c === "\\") {
        const e = text[i + 1];
        const map: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
        if (e !== undefined && e in map) {
          out += map[e];
          i += 2;
        } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else throw new Fail(i, "invalid escape sequence in string");
      } else if (c.charCodeAt(0) < 0x20) {
        throw new Fail(i, "control character in string (escape it)");
      } else {
        out += c;
        i++;
      }
    }
  };
  /** After an entry of an object or array: true when another one follows, false at the end. */
  const another = (close: "}" | "]", what: string): boolean => {
    ws();
    if (text[i] === ",") {
      i++;
      ws();
      if (text[i] === close) throw new Fail(i, `trailing comma before "${close}"`);
      return true;
    }
    expect(close, `"," or "${close}" in ${what}`);
    return false;
  };
  const value = (path: (string | number)[]): void => {
    ws();
    values.set(pathKey(path), i);
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        const keyAt = i;
        if (text[i] !== '"') throw new Fail(i, `expected a quoted object key, found ${describe(i)}`);
        const k = str();
        const child = [...path, k];
        keys.set(pathKey(child), keyAt);
        ws();
        expect(":", '":" after an object key');
        value(child);
        if (!another("}", "an object")) return;
      }
    } else if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (let idx = 0; ; idx++) {
        value([...path, idx]);
        if (!another("]", "an array")) return;
      }
    } else if (c === '"') {
      str();
    } else if (c !== undefined && /[-0-9]/.test(c)) {
      const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
      if (!m) throw new Fail(i, "invalid number");
      i += m[0].length;
    } else {
      for (const lit of ["true", "false", "null"]) {
        if (text.startsWith(lit, i)) {
          i += lit.length;
          return;
        }
      }
      throw new Fail(i, `expected a JSON value, found ${describe(i)}`);
    }
  };

  let syntaxError: JsonSyntaxError | undefined;
  // Line starts are computed lazily, once.
  let lineStarts: number[] | undefined;
  const position = (offset: number): Position => {
    if (!lineStarts) {
      lineStarts = [0];
      for (let j = 0; j < n; j++) if (text.charCodeAt(j) === 0x0a) lineStarts.push(j + 1);
    }
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - lineStarts[lo]! + 1 };
  };
  try {
    value([]);
    ws();
    if (i < n) throw new Fail(i, `unexpected ${describe(i)} after the JSON document`);
  } catch (e) {
    if (!(e instanceof Fail)) throw e;
    syntaxError = { message: e.message, ...position(e.at) };
  }
  const at = (m: Map<string, number>, path: IssuePath) => {
    const o = m.get(pathKey(path));
    return o === undefined ? undefined : position(o);
  };
  return {
    syntaxError,
    value: (p) => at(values, p),
    key: (p) => at(keys, p) ?? at(values, p),
  };
}
