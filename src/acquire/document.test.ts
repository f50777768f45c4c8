import { describe, expect, test } from "bun:test";
import { parseAnyConfig } from "./document.ts";

describe("parseAnyConfig()", () => {
  test("parseAnyConfig() reads Ignition JSON as before", () => {
    const r = parseAnyConfig('{"ignition":{"version":"3.4.0"}}');
    expect(r.ok && r.format).toBe("ignition");
  });

  test("parseAnyConfig() translates Butane YAML in memory", () => {
    const r = parseAnyConfig("variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /etc/motd\n      contents:\n        inline: hi\n");
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.format).toBe("butane");
    expect(r.version).toBe("3.4.0");
    expect(r.config.storage?.files?.[0]?.path).toBe("/etc/motd");
  });

  test("parseAnyConfig() reports Butane errors at the YAML line", () => {
    const r = parseAnyConfig("variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: etc/motd\n");
    expect(r.ok).toBe(false);
    expect(r.format).toBe("butane");
    const e = r.issues.find((i) => i.severity === "error");
    expect(e?.line).toBe(5);
    expect(e?.path.join(".")).toContain("storage.files.0.path");
  });

  test("parseAnyConfig() keeps JSON syntax errors for text that is neither", () => {
    const r = parseAnyConfig('{"ignition": {"version": "3.0.0"},}');
    expect(r.ok).toBe(false);
    expect(r.format).toBe("ignition");
    expect(r.issues[0]?.message).toMatch(/invalid JSON/);
  });

  test("parseAnyConfig() rejects a YAML document without a variant as not a config", () => {
    const r = parseAnyConfig("storage: {}\n");
    expect(r.ok).toBe(false);
    expect(r.format).toBe("ignition");
  });
});
