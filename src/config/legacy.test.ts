import { expect, test } from "bun:test";
import { parseConfig } from "./index.ts";
import { applyLegacySemantics } from "./legacy.ts";
import type { Config, SpecVersion } from "./types.ts";

const withModes = (mode: number): Config => ({ ignition: { version: "x" }, storage: { files: [{ path: "/f", mode }], directories: [{ path: "/d", mode }] } });

test.each([
  ["3.2.0", 0o6755, 0o755],
  ["3.5.0", 0o4755, 0o755],
  ["3.5.0", 0o2755, 0o755],
  ["3.5.0", 0o2745, 0o745],
  ["3.3.0", 0o1777, 0o777],
  ["3.0.0", 0o7777, 0o777],
  ["3.6.0", 0o6755, 0o6755],
  ["3.6.0", 0o1777, 0o1777],
  ["3.7.0-experimental", 0o4755, 0o4755],
] as const)("applyLegacySemantics() at %s turns the file and directory mode %o into %o", (version, mode, want) => {
  const c = applyLegacySemantics(withModes(mode), version as SpecVersion);
  expect([c.storage?.files?.[0]?.mode, c.storage?.directories?.[0]?.mode]).toEqual([want, want]);
});

test("applyLegacySemantics() returns the same object when nothing changes", () => {
  const c = withModes(0o644);
  expect(applyLegacySemantics(c, "3.0.0")).toBe(c);
});

test("parseConfig() drops a sticky bit of spec 3.3 with a warning at the mode, and keeps it for 3.6", () => {
  const doc = (version: string) => JSON.stringify({ ignition: { version }, storage: { directories: [{ path: "/t", mode: 0o1777 }] } });
  const old = parseConfig(doc("3.3.0"));
  expect(old.ok && old.config.storage?.directories?.[0]?.mode).toBe(0o777);
  expect(old.issues.map((i) => `${i.severity} ${i.path.join(".")}`)).toEqual(["warning storage.directories.0.mode"]);
  expect(old.issues[0]?.message).toContain("dropped");
  const current = parseConfig(doc("3.6.0"));
  expect(current.ok && current.config.storage?.directories?.[0]?.mode).toBe(0o1777);
  expect(current.issues).toEqual([]);
});
