import { describe, expect, test } from "bun:test";
import { ignitionPathFor } from "./init.ts";

describe("ignitionPathFor()", () => {
  const cases: [string, string][] = [
    ["config.bu", "config.ign"],
    ["dir/config.yaml", "dir/config.ign"],
    ["config", "config.ign"],
    [".hidden", ".hidden.ign"],
    ["a.b.bu", "a.b.ign"],
  ];
  for (const [input, want] of cases) {
    test(`ignitionPathFor() names the output of ${input} ${want}`, () => expect(ignitionPathFor(input)).toBe(want));
  }
});
