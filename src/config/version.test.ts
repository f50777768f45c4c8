import { expect, test } from "bun:test";
import { detectVersion, typeName } from "./version.ts";

test.each([
  ["3.0.0", true],
  ["3.6.0", true],
  ["3.7.0-experimental", true],
  ["3.6.0+build", false],
  ["03.0.0", false],
  [3, false],
  [null, false],
])("detectVersion() on %p accepts: %p", (v, ok) => {
  expect(detectVersion(v).ok).toBe(ok);
});

test("typeName() names JSON types for messages", () => {
  expect([null, [], {}, 1, 1.5, "s", true].map(typeName)).toEqual([
    "null", "an array", "an object", "an integer", "a number", "a string", "a boolean",
  ]);
});
