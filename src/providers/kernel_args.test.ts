import { describe, expect, test } from "bun:test";
import { getKernelArg, parseKernelArgs } from "./kernel_args.ts";

describe("parseKernelArgs()", () => {
  const cases: [string, string, [string, string | null][]][] = [
    ["splits on any whitespace", " a=1\tb  c=x=y\n", [["a", "1"], ["b", null], ["c", "x=y"]]],
    ["keeps quoted spaces in a value", 'x="a b" y', [["x", "a b"], ["y", null]]],
    ["reads an empty value", "k=", [["k", ""]]],
    ["returns nothing for an empty line", "   ", []],
  ];
  for (const [what, text, want] of cases) test(`\`parseKernelArgs()\` ${what}`, () => expect(parseKernelArgs(text)).toEqual(want));
});

describe("getKernelArg()", () => {
  const args = parseKernelArgs("ignition.config.url=http://a/ nexus.config.url=http://b/ quiet ignition.config.url=http://c/");
  test("`getKernelArg()` returns the last occurrence of any alias", () => {
    expect(getKernelArg(args, "nexus.config.url", "ignition.config.url")).toBe("http://c/");
  });
  test("`getKernelArg()` returns null for a bare flag and undefined when absent", () => {
    expect(getKernelArg(args, "quiet")).toBeNull();
    expect(getKernelArg(args, "nope")).toBeUndefined();
  });
});
