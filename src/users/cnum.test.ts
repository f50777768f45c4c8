import { describe, expect, test } from "bun:test";
import { cId, cLong, cULong, glibcShadowNumber, toCInt } from "./cnum.ts";

describe("C numbers", () => {
  test.each([
    ["1000", 1000n],
    ["0x10", 16n],
    ["017", 15n],
    ["  42", 42n],
    ["-1", -1n],
    ["+7", 7n],
    ["", null],
    ["12a", null],
    ["0x", null],
    ["9223372036854775808", null],
  ])("cLong() reads %p as getlong() does", (s, want) => {
    expect(cLong(s)).toBe(want as bigint | null);
  });

  test.each([
    ["65536", 65536n],
    ["0X1f", 31n],
    ["-1", (1n << 64n) - 1n],
    ["18446744073709551616", null],
    ["1 ", null],
  ])("cULong() reads %p as getulong() does (negative values wrap)", (s, want) => {
    expect(cULong(s)).toBe(want as bigint | null);
  });

  test.each([
    ["0", 0],
    ["4294967295", 4294967295],
    ["4294967296", null],
    ["-1", null],
    ["010", 10],
    ["0x10", null],
    [" 5", 5],
    ["", null],
  ])("cId() reads %p as get_uid() does (decimal, 32-bit)", (s, want) => {
    expect(cId(s)).toBe(want as number | null);
  });

  test("glibcShadowNumber() clamps to 0xffffffff and stops at the first non-digit, as nss_files does", () => {
    expect(glibcShadowNumber("abc:19000:x", 4)).toEqual({ value: 19000, end: 9 });
    expect(glibcShadowNumber("-5", 0)).toEqual({ value: 0xffffffff, end: 2 });
    expect(glibcShadowNumber("99999999999", 0)).toEqual({ value: 0xffffffff, end: 11 });
    expect(glibcShadowNumber(":", 0)).toBeNull();
    expect(toCInt(0xffffffff)).toBe(-1);
  });
});
