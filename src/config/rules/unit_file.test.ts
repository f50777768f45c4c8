import { describe, expect, test } from "bun:test";
import { hasInstallSection, parseUnitContents } from "./unit_file.ts";

describe("parseUnitContents()", () => {
  const accepted: [string, string, number][] = [
    ["empty text", "", 0],
    ["a section without options", "[Service]\n", 0],
    ["a full unit", "[Unit]\nDescription=x\n\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n", 3],
    ["comments and blank lines", "# c\n; c\n[Unit]\n  # indented comment\n\nA=1\n", 1],
    ["text before the first section", "junk\n[Unit]\nA=1", 1],
    ["a continued value", "[Service]\nExecStart=/bin/sh -c \\\n  'echo hi'\n", 1],
    ["CRLF line ends", "[Unit]\r\nA=1\r\n", 1],
    ["a value without a final newline", "[Unit]\nA=1", 1],
    ["a long line in a comment before any section", "#" + "x".repeat(1000) + "\n[Unit]\nA=1\n", 1],
  ];
  for (const [what, text, count] of accepted) {
    test(`parseUnitContents() accepts ${what}`, () => {
      const r = parseUnitContents(text);
      expect(r.ok).toBe(true);
      if (r.ok) expect(r.options.length).toBe(count);
    });
  }

  const rejected: [string, string][] = [
    ["an unterminated section header", "[Unit\nA=1\n"],
    ["text after a section header", "[Unit] extra\nA=1\n"],
    ["an option without =", "[Unit]\nDescription\n"],
    ["a last line without =", "[Unit]\nDescription"],
    ["a line of 2048 bytes", "[Unit]\nA=" + "x".repeat(2046) + "\n"],
  ];
  for (const [what, text] of rejected) {
    test(`parseUnitContents() rejects ${what}`, () => expect(parseUnitContents(text).ok).toBe(false));
  }

  test("parseUnitContents() accepts a line of 2047 bytes", () => {
    expect(parseUnitContents("[Unit]\nA=" + "x".repeat(2045) + "\n").ok).toBe(true);
  });

  test("parseUnitContents() reports sections, names and joined continuation values", () => {
    const r = parseUnitContents("[Service]\nExecStart=/bin/a \\\n b\n[Install]\n WantedBy = x.target \n");
    expect(r).toEqual({
      ok: true,
      options: [
        { section: "Service", name: "ExecStart", value: "/bin/a \\\n b" },
        { section: "Install", name: "WantedBy", value: "x.target" },
      ],
    });
  });
});

describe("hasInstallSection()", () => {
  test("hasInstallSection() is true only when an option is in [Install]", () => {
    const opts = (text: string) => {
      const r = parseUnitContents(text);
      return r.ok ? r.options : [];
    };
    expect(hasInstallSection(opts("[Install]\nWantedBy=a\n"))).toBe(true);
    expect(hasInstallSection(opts("[Install]\n[Service]\nA=1\n"))).toBe(false);
  });
});
