import { describe, expect, test } from "bun:test";
import { parseUrl, queryValues } from "./go_url.ts";

describe("parseUrl()", () => {
  const accepted: [string, string][] = [
    ["http://example.com/path?x=1#frag", "http"],
    ["HTTPS://Example.COM", "https"],
    ["tftp://127.0.0.1:69/file", "tftp"],
    ["s3://bucket/key", "s3"],
    ["data:,hello", "data"],
    ["arn:aws:s3:::bucket/key", "arn"],
    ["http://user:pa%20ss@host/", "http"],
    ["http://[::1]:8080/", "http"],
    ["http://[fe80::1%25eth0]/", "http"],
    ["relative/path", ""],
    ["", ""],
    ["1http/x", ""],
  ];
  for (const [url, scheme] of accepted) {
    test(`parseUrl() accepts ${JSON.stringify(url)} with scheme ${JSON.stringify(scheme)}`, () => {
      const r = parseUrl(url);
      expect(r.ok).toBe(true);
      if (r.ok) expect(r.url.scheme).toBe(scheme);
    });
  }

  const rejected: string[] = [
    "http://example.com/\u0001",
    "://missing-scheme",
    "a b:c",
    "1http://x",
    "http://[::1",
    "http://[::1]a",
    "http://host:port/",
    "http://ho st/",
    "http://host/%zz",
    "http://host/#%zz",
    "http://us{er@host/",
    "http://%41host/",
  ];
  for (const url of rejected) {
    test(`parseUrl() rejects ${JSON.stringify(url)}`, () => expect(parseUrl(url).ok).toBe(false));
  }

  test("parseUrl() keeps the opaque part of scheme:rest URLs", () => {
    const r = parseUrl("arn:aws:s3:::bucket/key?versionId=3");
    expect(r.ok && r.url.opaque).toBe("aws:s3:::bucket/key");
    expect(r.ok && r.url.rawQuery).toBe("versionId=3");
  });
});

describe("queryValues()", () => {
  const cases: [string, string[] | undefined][] = [
    ["versionId=abc", ["abc"]],
    ["versionId=", [""]],
    ["versionId", [""]],
    ["a=1&versionId=x+y&versionId=2", ["x y", "2"]],
    ["a=1", undefined],
    ["versionId=1;x", undefined],
    ["versionId=%zz", undefined],
  ];
  for (const [query, want] of cases) {
    test(`queryValues() reads versionId from ${JSON.stringify(query)}`, () => expect(queryValues(query, "versionId")).toEqual(want));
  }
});
