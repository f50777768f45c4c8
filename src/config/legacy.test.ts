import { expect, test } from "bun:test";
import { applyLegacySemantics } from "./legacy.ts";
import type { Config } from "./types.ts";

const withMode = (mode: number): Config => ({ ignition: { version: "x" }, storage: { files: [{ path: "/f", mode }] } });

test.each([
  ["3.2.0", 0o6755, 0o755],
  ["3.5.0", 0o4755, 0o755],
  ["3.5.0", 0o2755, 0o755],
  ["3.5.0", 0o2745, 0o2745],
  ["3.5.0", 0o1755, 0o1755],
  ["3.6.0", 0o6755, 0o6755],
  ["3.7.0-experimental", 0o4755, 0o4755],
] as const)("applyLegacySemantics() at %s turns mode %o into %o", (version, mode, want) => {
  expect(applyLegacySemantics(withMode(mode), version).storage?.files?.[0]?.mode).toBe(want);
});

test("applyLegacySemantics() returns the same object when nothing changes", () => {
  const c = withMode(0o644);
  expect(applyLegacySemantics(c, "3.0.0")).toBe(c);
});
