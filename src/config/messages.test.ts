import { describe, expect, test } from "bun:test";
import { listOr, MESSAGES, quote, quoteUrl } from "./messages.ts";

describe("messages", () => {
  test("quote() shows a value as a JSON string and shortens long ones", () => {
    expect(quote("etc/foo")).toBe('"etc/foo"');
    expect(quote("a\nb")).toBe('"a\\nb"');
    expect(quote("x".repeat(500)).length).toBeLessThan(130);
  });

  test("quoteUrl() hides data URL contents and credentials", () => {
    expect(quoteUrl("data:,secret")).not.toContain("secret");
    expect(quoteUrl("https://user:pw@host/x?token=abc")).not.toContain("pw");
    expect(quoteUrl("https://user:pw@host/x?token=abc")).not.toContain("abc");
  });

  test("listOr() joins items as an English alternative", () => {
    expect(listOr([])).toBe("");
    expect(listOr(["a"])).toBe("a");
    expect(listOr(["a", "b", "c"])).toBe("a, b or c");
  });

  test("messages start in lower case (or with a name) and have no final period", () => {
    const samples = [
      MESSAGES.pathRelative("path", "etc/foo"),
      MESSAGES.modeOutOfRange(4096),
      MESSAGES.duplicate("unit name", '"a.service"', "systemd.units.0"),
      MESSAGES.fsFormatRequired(["path", "label"]),
      MESSAGES.hashWrongLength("sha512", 128, 3),
    ];
    for (const m of samples) {
      expect(m.endsWith(".")).toBe(false);
      expect(m[0]).toBe(m[0]!.toLowerCase());
    }
    expect(MESSAGES.pathRelative("path", "etc/foo")).toBe('path must be absolute, got "etc/foo"');
    expect(MESSAGES.modeOutOfRange(4096)).toBe("mode must be between 0 and 07777 (decimal 4095), got 4096 (010000)");
  });
});
