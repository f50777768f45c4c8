import { describe, expect, test } from "bun:test";
import { decodeDataUrl } from "./data_url.ts";

const text = (u: string) => {
  const r = decodeDataUrl(u);
  return r.ok ? new TextDecoder().decode(r.bytes) : `!${r.reason}`;
};

describe("decodeDataUrl()", () => {
  const cases: [string, string, string][] = [
    ["percent-encoded text", "data:,example%20file%0A", "example file\n"],
    ["plain text with a media type", "data:text/plain,hello", "hello"],
    ["base64 with parameters", "data:text/plain;charset=utf-8;base64,aGVsbG8=", "hello"],
    ["base64 without padding", "data:;base64,aGVsbG8", "hello"],
    ["percent-escaped base64", "data:;base64,aGVsbG8%3D", "hello"],
    ["an empty payload", "data:,", ""],
    ["UTF-8 text as is", "data:,h\u00e9", "h\u00e9"],
    ["an upper-case BASE64 flag", "data:;BASE64,aGk=", "hi"],
  ];
  for (const [what, url, want] of cases) {
    test(`\`decodeDataUrl()\` decodes ${what}`, () => expect(text(url)).toBe(want));
  }

  const bad: [string, string][] = [
    ["a malformed percent escape", "data:,abc%zz"],
    ["a truncated percent escape", "data:,abc%4"],
    ["no comma", "data:text/plain"],
    ["invalid base64", "data:;base64,a$b="],
    ["base64 of impossible length", "data:;base64,a"],
    ["another scheme", "http://x/"],
  ];
  for (const [what, url] of bad) {
    test(`\`decodeDataUrl()\` rejects ${what}`, () => expect(decodeDataUrl(url).ok).toBe(false));
  }
});
