import { describe, expect, test } from "bun:test";
import { checkAbsolutePath, cleanPath, joinPath, pathDepth, pathExtension } from "./paths.ts";

describe("cleanPath()", () => {
  const cases: [string, string][] = [
    ["", "."],
    ["/", "/"],
    ["/etc/foo", "/etc/foo"],
    ["/etc//foo/", "/etc/foo"],
    ["/etc/./foo", "/etc/foo"],
    ["/etc/../foo", "/foo"],
    ["/../foo", "/foo"],
    ["a/../../b", "../b"],
    ["./", "."],
    ["/a/./b/../c", "/a/c"],
    ["/../../etc", "/etc"],
    ["//a//b/", "/a/b"],
    ["../x/../y", "../y"],
  ];
  for (const [input, want] of cases) {
    test(`cleanPath() turns ${JSON.stringify(input)} into ${JSON.stringify(want)}`, () => expect(cleanPath(input)).toBe(want));
  }
});

describe("pathDepth()", () => {
  test.each([
    ["/", 0],
    ["/a", 1],
    ["/a/b", 2],
  ])("pathDepth() counts %p as %p components", (path, want) => expect(pathDepth(path)).toBe(want));
});

describe("joinPath()", () => {
  const cases: [string[], string][] = [
    [["/foo", "bar"], "/foo/bar"],
    [["/foo", "../bar"], "/bar"],
    [["", "bar"], "bar"],
    [["", ""], ""],
  ];
  for (const [elems, want] of cases) {
    test(`joinPath() joins ${JSON.stringify(elems)} as ${JSON.stringify(want)}`, () => expect(joinPath(...elems)).toBe(want));
  }
});

describe("pathExtension()", () => {
  const cases: [string, string][] = [
    ["foo.service", ".service"],
    ["a.b/foo", ""],
    ["foo", ""],
    [".conf", ".conf"],
    ["x.tar.gz", ".gz"],
  ];
  for (const [input, want] of cases) {
    test(`pathExtension() of ${JSON.stringify(input)} is ${JSON.stringify(want)}`, () => expect(pathExtension(input)).toBe(want));
  }
});

describe("checkAbsolutePath()", () => {
  const cases: [string, string | null][] = [
    ["/good/path", null],
    ["/this one has spaces", null],
    ["", "missing"],
    ["relative/path", "relative"],
    ["/double//slash", "unclean"],
    ["/trailing/", "unclean"],
    ["/dot/./x", "unclean"],
  ];
  for (const [input, kind] of cases) {
    test(`checkAbsolutePath() reports ${kind ?? "nothing"} for ${JSON.stringify(input)}`, () => {
      expect<string | null>(checkAbsolutePath(input)?.kind ?? null).toBe(kind);
    });
  }
});
