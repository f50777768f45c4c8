import { describe, expect, test } from "bun:test";
import type { PendingEntry } from "./report.ts";
import { baseChecks, checkDecimalMode } from "./validate.ts";

describe("checkDecimalMode()", () => {
  const cases: [number, boolean, boolean][] = [
    [644, false, true],
    [755, false, true],
    [600, false, true],
    [755, true, true],
    [420, false, false],
    [0o644, false, false],
    [0, false, false],
    [777, false, true],
    [5, false, false],
    [8000, false, false],
    [1755, true, true],
  ];
  for (const [mode, dir, want] of cases) {
    test(`checkDecimalMode() says ${want} for ${mode}${dir ? " on a directory" : ""}`, () => {
      expect(checkDecimalMode(mode, dir)).toBe(want);
    });
  }
});

describe("baseChecks()", () => {
  const run = (base: 1 | 2 | 3 | 4 | 5, type: string, v: Record<string, unknown>) => {
    const out: PendingEntry[] = [];
    baseChecks(base)[type]?.(v, ["x"], out);
    return out.map((e) => `${e.kind} ${e.path.join(".")}: ${e.message}`);
  };

  test("baseChecks() rejects a resource with two sources at the last one", () => {
    expect(run(5, "Resource", { inline: "a", source: "b" })).toEqual(["error x.source: only one of the following can be set: inline, local, source"]);
    expect(run(1, "FileContents", { inline: "a", source: "b" })).toEqual(["error x.inline: only one of the following can be set: inline, local, source"]);
  });

  test("baseChecks() requires mount-unit fields, swap needing no path from base 0.4", () => {
    expect(run(3, "Filesystem", { with_mount_unit: true })).toEqual([
      "error x.path: path is required if with_mount_unit is true and format is not swap",
      "error x.format: format is required if with_mount_unit is true",
    ]);
    expect(run(4, "Filesystem", { with_mount_unit: true })).toEqual(["error x.format: format is required if with_mount_unit is true"]);
    expect(run(4, "Filesystem", { with_mount_unit: true, format: "swap" })).toEqual([]);
    expect(run(3, "Filesystem", { with_mount_unit: true, format: "swap" })).toEqual([
      "error x.path: path is required if with_mount_unit is true and format is not swap",
    ]);
  });

  test("baseChecks() rejects units with both contents and contents_local from base 0.5", () => {
    expect(run(5, "Unit", { contents: "", contents_local: "u" })).toEqual([
      "error x.contents_local: only one of the following can be set: contents, contents_local",
    ]);
  });

  test("baseChecks() warns about decimal-looking modes on files and directories", () => {
    expect(run(5, "File", { mode: 644 })).toEqual([
      "warning x.mode: unreasonable mode would be reasonable if specified in octal; remember to add a leading zero",
    ]);
    expect(run(5, "Tree", {})).toEqual(["error x: local is required"]);
  });
});

describe("baseChecks() inline Ignition configs", () => {
  const run = (inline: string) => {
    const out: PendingEntry[] = [];
    baseChecks(7).Resource!({ inline }, ["ignition", "config", "merge", 0], out);
    return out.map((e) => `${e.kind} ${e.path.join(".")}: ${e.message}`);
  };

  test("baseChecks() checks configs merged inline from base 0.7", () => {
    expect(run('{"ignition":{"version":"3.6.0"},"storage":{"files":[{"path":"rel"}]}}')).toEqual([
      "error ignition.config.merge.0.inline.storage.files.0.path: path not absolute",
    ]);
    expect(run('{"ignition":{"version":"3.2.0"}}')).toEqual([
      "warning ignition.config.merge.0.inline.ignition.version: skipping validation for the merge/replace ignition config due to an unkown version",
    ]);
    expect(run("{not json")[0]).toStartWith("error ignition.config.merge.0.inline: invalid Ignition config: ");
  });

  test("baseChecks() leaves inline configs alone before base 0.7", () => {
    const out: PendingEntry[] = [];
    baseChecks(6).Resource!({ inline: "{not json" }, ["ignition", "config", "replace"], out);
    expect(out).toEqual([]);
  });
});
