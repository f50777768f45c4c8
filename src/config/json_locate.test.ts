import { describe, expect, test } from "bun:test";
import { locateJson } from "./json_locate.ts";

describe("locateJson()", () => {
  test("locateJson() finds values and keys by path", () => {
    const loc = locateJson('{\n  "a": [1,\n    {"b": true}]\n}');
    expect(loc.syntaxError).toBeUndefined();
    expect(loc.value(["a"])).toEqual({ line: 2, column: 8 });
    expect(loc.value(["a", 1, "b"])).toEqual({ line: 3, column: 11 });
    expect(loc.key(["a", 1, "b"])).toEqual({ line: 3, column: 6 });
    expect(loc.value(["zzz"])).toBeUndefined();
  });

  test.each([
    ['{"a": 1,}', 1, 9, /trailing comma/],
    ['{"a" 1}', 1, 6, /":" after an object key/],
    ['{\n"a": tru}', 2, 6, /expected a JSON value/],
    ['{"a": "x', 1, 7, /unterminated string/],
    ["{} {}", 1, 4, /after the JSON document/],
    ["{'a': 1}", 1, 2, /quoted object key/],
  ])("locateJson() reports %p at line %d column %d", (text, line, column, msg) => {
    const e = locateJson(text).syntaxError;
    expect(e).toMatchObject({ line, column });
    expect(e?.message).toMatch(msg);
  });
});
