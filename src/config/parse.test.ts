import { describe, expect, test } from "bun:test";
import { parseStructure, stripNulls } from "./parse.ts";
import { SPEC_VERSIONS } from "./types.ts";

const cfg = (version: string, rest: Record<string, unknown> = {}) => JSON.stringify({ ignition: { version }, ...rest });

describe("parseStructure()", () => {
  test.each(SPEC_VERSIONS.map((v) => [v]))("parseStructure() accepts a minimal %s config", (v) => {
    const r = parseStructure(cfg(v));
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.version).toBe(v);
  });

  test.each([
    ["2.3.0", /no longer supported/],
    ["2.5.0-experimental", /no longer supported/],
    ["3.8.0-experimental", /only experimental version read is 3.7.0-experimental/],
    ["3.6.0-experimental", /only experimental version read/],
    ["3.9.0", /unsupported spec version "3.9.0"/],
    ["4.0.0", /unsupported spec version/],
    ["3.1", /not a valid version/],
    ["", /not a valid version/],
  ])("parseStructure() rejects version %p", (v, msg) => {
    const r = parseStructure(cfg(v));
    expect(r.ok).toBe(false);
    expect(r.issues[0]?.path).toEqual(["ignition", "version"]);
    expect(r.issues[0]?.message).toMatch(msg);
  });

  test("parseStructure() rejects a missing version at ignition.version", () => {
    const r = parseStructure("{}");
    expect(r.ok).toBe(false);
    expect(r.issues[0]?.path).toEqual(["ignition", "version"]);
  });

  test("parseStructure() rejects empty input and non-objects", () => {
    expect(parseStructure("").ok).toBe(false);
    expect(parseStructure("  \n").issues[0]?.message).toBe("the config is empty");
    expect(parseStructure("[]").issues[0]?.message).toMatch(/JSON object, got an array/);
    expect(parseStructure('{"ignition": 3}').issues[0]?.path).toEqual(["ignition"]);
  });

  test("parseStructure() reports JSON syntax errors with line and column", () => {
    const r = parseStructure('{\n  "ignition": {"version": "3.0.0"},\n  "storage": {"files": [],}\n}');
    expect(r.ok).toBe(false);
    expect(r.issues[0]).toMatchObject({ line: 3, column: 27 });
    expect(r.issues[0]?.message).toMatch(/trailing comma/);
  });

  test("parseStructure() names the path, expectation and position of a type error", () => {
    const text = '{\n "ignition": {"version": "3.4.0"},\n "storage": {"files": [{"path": "/a"}, {"path": "/b", "mode": "0644"}]}\n}';
    const r = parseStructure(text);
    expect(r.ok).toBe(false);
    expect(r.issues).toHaveLength(1);
    expect(r.issues[0]).toMatchObject({
      severity: "error",
      path: ["storage", "files", 1, "mode"],
      message: "expected an integer, got a string",
      line: 3,
    });
  });

  test("parseStructure() rejects a non-integer where an integer is required", () => {
    const r = parseStructure(cfg("3.0.0", { storage: { files: [{ path: "/a", mode: 4.5 }] } }));
    expect(r.ok).toBe(false);
    expect(r.issues[0]?.path).toEqual(["storage", "files", 0, "mode"]);
  });

  test("parseStructure() warns about unknown keys and drops them", () => {
    const text = '{"ignition": {"version": "3.0.0", "colour": 1},\n "storage": {"files": [{"path": "/a", "contents": {"source": "data:,", "x": 1}}]}}';
    const r = parseStructure(text);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.issues.map((i) => [i.severity, i.path.join(".")])).toEqual([
      ["warning", "ignition.colour"],
      ["warning", "storage.files.0.contents.x"],
    ]);
    expect(r.issues[1]?.line).toBe(2);
    expect(JSON.stringify(r.config)).not.toContain('"x"');
  });

  test("parseStructure() makes unknown keys errors when strict", () => {
    const r = parseStructure(cfg("3.0.0", { bogus: true }), { strict: true });
    expect(r.ok).toBe(false);
    expect(r.issues[0]).toMatchObject({ severity: "error", path: ["bogus"] });
  });

  test("parseStructure() treats fields newer than the config's version as unknown", () => {
    const r = parseStructure(cfg("3.2.0", { kernelArguments: { shouldExist: ["quiet"] } }));
    expect(r.ok).toBe(true);
    expect(r.issues[0]).toMatchObject({ severity: "warning", path: ["kernelArguments"] });
    const r2 = parseStructure(cfg("3.3.0", { kernelArguments: { shouldExist: ["quiet"] } }));
    expect(r2.ok && r2.issues.length).toBe(0);
  });

  test("parseStructure() reads version-specific fields into the internal model", () => {
    const r = parseStructure(
      cfg("3.5.0", { storage: { luks: [{ name: "x", device: "/dev/vda", cex: { enabled: true }, discard: true }] } }),
    );
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.config.storage?.luks?.[0]?.cex?.enabled).toBe(true);
    const old = parseStructure(cfg("3.1.0", { storage: { luks: [{ name: "x" }] } }));
    expect(old.ok && old.issues[0]?.path).toEqual(["storage", "luks"]);
  });

  test("parseStructure() treats null leaves as unset", () => {
    const r = parseStructure(cfg("3.0.0", { storage: { files: [{ path: "/a", mode: null, contents: null }] }, systemd: null }));
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.config).toEqual({ ignition: { version: "3.0.0" }, storage: { files: [{ path: "/a" }] } });
  });
});

describe("stripNulls()", () => {
  test("stripNulls() removes null members at any depth and keeps falsy values", () => {
    expect(stripNulls<unknown>({ a: null, b: [{ c: null, d: 0, e: false, f: "" }] })).toEqual({ b: [{ d: 0, e: false, f: "" }] });
  });
});

test("parseStructure() keeps file compression in a 3.0 config", () => {
  const r = parseStructure(cfg("3.0.0", { storage: { files: [{ path: "/a", contents: { source: "data:,x", compression: "gzip" } }] } }));
  expect(r.ok && r.issues).toEqual([]);
  if (r.ok) expect(r.config.storage?.files?.[0]?.contents?.compression).toBe("gzip");
});
