import { describe, expect, test } from "bun:test";
import { checkDataUrl } from "./data_url.ts";

describe("checkDataUrl()", () => {
  const accepted = [
    "data:,",
    "data:,hello%20world%0A",
    "data:text/plain,abc",
    "data:text/plain;charset=utf-8,abc",
    "data:text/plain;charset=\"utf-8\",abc",
    "data:;base64,aGVsbG8=",
    "data:application/octet-stream;base64,YWJj",
    "data:text/plain;charset=US-ASCII;base64,",
    "data:x-custom/thing,ok",
    "data:,a?b=c&d",
  ];
  for (const url of accepted) {
    test(`checkDataUrl() accepts ${JSON.stringify(url)}`, () => expect(checkDataUrl(url)).toBeNull());
  }

  const rejected = [
    "DATA:,x",
    "data:",
    "data:hello",
    "data:foo/bar,x",
    "data:text/plain;,x",
    "data:text/plain;foo,x",
    "data:,hello world",
    "data:,a#b",
    "data:,%zz",
    "data:,caf\u00e9",
    "data:;base64,aGVsbG8",
    "data:;base64,a=GV",
    "data:;base64,a b",
    "data:text/plain;charset=\"unterminated,x",
    "data:text/plain;charset=\"bad\\q\",x",
    "data:text/plain;charset=%zz,x",
  ];
  for (const url of rejected) {
    test(`checkDataUrl() rejects ${JSON.stringify(url)}`, () => expect(checkDataUrl(url)).not.toBeNull());
  }
});
