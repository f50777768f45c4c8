import { describe, expect, test } from "bun:test";
import { convertToBool, convertToInt, convertToString, resolveScalar, TagMismatchError, type Resolved } from "./resolve.ts";
import type { ScalarStyle, YamlScalar } from "./yaml.ts";

const scalar = (value: string, style: ScalarStyle = "plain", tag?: string): YamlScalar => ({ kind: "scalar", value, style, line: 1, col: 1, ...(tag ? { tag } : {}) });

describe("resolveScalar()", () => {
  const cases: [string, YamlScalar, Resolved][] = [
    ["YAML 1.1 octal", scalar("0644"), { tag: "int", value: 420 }],
    ["YAML 1.2 octal", scalar("0o644"), { tag: "int", value: 420 }],
    ["hexadecimal", scalar("0x1a4"), { tag: "int", value: 420 }],
    ["binary", scalar("0b101"), { tag: "int", value: 5 }],
    ["a signed octal", scalar("-0644"), { tag: "int", value: -420 }],
    ["underscores", scalar("1_000"), { tag: "int", value: 1000 }],
    ["a decimal", scalar("420"), { tag: "int", value: 420 }],
    ["an invalid octal as a float", scalar("0800"), { tag: "float", value: 800 }],
    ["a float", scalar("1.5e3"), { tag: "float", value: 1500 }],
    ["a dot float", scalar(".5"), { tag: "float", value: 0.5 }],
    ["infinity", scalar("-.inf"), { tag: "float", value: -Infinity }],
    ["true", scalar("True"), { tag: "bool", value: true }],
    ["YAML 1.1 yes as a string", scalar("yes"), { tag: "str", value: "yes" }],
    ["null words", scalar("~"), { tag: "null" }],
    ["an empty plain scalar", scalar(""), { tag: "null" }],
    ["a merge key", scalar("<<"), { tag: "merge" }],
    ["a quoted number as a string", scalar("0644", "double"), { tag: "str", value: "0644" }],
    ["a block scalar as a string", scalar("12\n", "literal"), { tag: "str", value: "12\n" }],
    ["!!str on a number", scalar("0644", "plain", "!!str"), { tag: "str", value: "0644" }],
    ["!!int on a quoted number", scalar("12", "single", "!!int"), { tag: "int", value: 12 }],
    ["!!float on an integer", scalar("3", "plain", "!!float"), { tag: "float", value: 3 }],
    ["a date", scalar("2001-12-14"), { tag: "timestamp", value: "2001-12-14", time: "2001-12-14T00:00:00Z" }],
    ["a version-like string", scalar("1.5.0"), { tag: "str", value: "1.5.0" }],
    ["a custom tag", scalar("x", "plain", "!foo"), { tag: "other", name: "!foo", value: "x" }],
    ["base64 binary", scalar("aGk=", "plain", "!!binary"), { tag: "binary", value: "hi" }],
  ];
  for (const [what, node, want] of cases) {
    test(`resolveScalar() reads ${what}`, () => {
      expect(resolveScalar(node)).toEqual(want);
    });
  }

  test("resolveScalar() throws TagMismatchError when the tag contradicts the text", () => {
    expect(() => resolveScalar(scalar("abc", "plain", "!!int"))).toThrow(TagMismatchError);
  });
});

describe("Go field conversions", () => {
  test("convertToString() keeps a scalar's text as written", () => {
    const n = scalar("0644");
    expect(convertToString(n, resolveScalar(n))).toEqual({ ok: true, value: "0644" });
  });

  const ints: [Resolved, ReturnType<typeof convertToInt>][] = [
    [{ tag: "int", value: 420 }, { ok: true, value: 420 }],
    [{ tag: "float", value: 420.9 }, { ok: true, value: 420 }],
    [{ tag: "float", value: NaN }, { ok: false, tag: "!!float" }],
    [{ tag: "str", value: "abc" }, { ok: false, tag: "!!str" }],
    [{ tag: "bool", value: true }, { ok: false, tag: "!!bool" }],
  ];
  for (const [r, want] of ints) {
    test(`convertToInt() converts ${JSON.stringify(r)}`, () => expect(convertToInt(r)).toEqual(want));
  }

  const bools: [Resolved, ReturnType<typeof convertToBool>][] = [
    [{ tag: "bool", value: false }, { ok: true, value: false }],
    [{ tag: "str", value: "yes" }, { ok: true, value: true }],
    [{ tag: "str", value: "Off" }, { ok: true, value: false }],
    [{ tag: "str", value: "maybe" }, { ok: false, tag: "!!str" }],
    [{ tag: "int", value: 1 }, { ok: false, tag: "!!int" }],
  ];
  for (const [r, want] of bools) {
    test(`convertToBool() converts ${JSON.stringify(r)}`, () => expect(convertToBool(r)).toEqual(want));
  }
});
