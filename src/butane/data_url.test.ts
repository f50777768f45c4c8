import { describe, expect, test } from "bun:test";
import { gunzipSync } from "node:zlib";
import { escapeDataUrlBytes, gzipLikeGo, makeDataUrl } from "./data_url.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const lines = Array.from({ length: 40 }, (_, i) => `line ${String(i + 1).padStart(3, "0")}: The quick brown fox jumps over the lazy dog.\n`).join("");

describe("escapeDataUrlBytes()", () => {
  test("escapeDataUrlBytes() keeps unreserved characters and escapes every other byte in upper-case hex", () => {
    expect(escapeDataUrlBytes(bytes("Aa0-_.!~*'() #/%é"))).toBe("Aa0-_.!~*'()%20%23%2F%25%C3%A9");
  });
});

describe("makeDataUrl()", () => {
  const cases: [string, Uint8Array, string | undefined, { url: string; compression?: string } | ((r: { url: string; compression?: string }) => void)][] = [
    ["short text is percent-escaped with compression set to empty", bytes("hello world"), undefined, { url: "data:,hello%20world", compression: "" }],
    ["empty contents", bytes(""), undefined, { url: "data:,", compression: "" }],
    ["binary data is base64 when shorter", Uint8Array.from({ length: 64 }, (_, i) => i), undefined, (r) => {
      expect(r.url.startsWith("data:;base64,")).toBe(true);
      expect(r.compression).toBe("");
    }],
    ["repetitive text is gzipped", bytes(lines), undefined, (r) => {
      expect(r.compression).toBe("gzip");
      expect(new TextDecoder().decode(gunzipSync(Buffer.from(r.url.slice("data:;base64,".length), "base64")))).toBe(lines);
    }],
    ["user-compressed contents are embedded as they are", bytes(lines), "gzip", (r) => {
      expect(r.compression).toBeUndefined();
      expect(r.url.startsWith("data:;base64,bGluZSAwMDE6")).toBe(true);
    }],
    ["an empty user compression still allows gzip", bytes(lines), "", (r) => expect(r.compression).toBe("gzip")],
  ];
  for (const [what, input, compression, want] of cases) {
    test(`makeDataUrl() encodes ${what}`, () => {
      const r = makeDataUrl(input, compression, true);
      if (typeof want === "function") want(r);
      else expect(r).toEqual(want);
    });
  }

  test("makeDataUrl() picks gzip only when it saves more than the 4 bytes of its name", () => {
    for (let n = 1; n < 200; n += 7) {
      const data = bytes("ab".repeat(n));
      const r = makeDataUrl(data, undefined, true);
      const escaped = "data:," + escapeDataUrlBytes(data);
      const gz = "data:;base64," + Buffer.from(gzipLikeGo(data)).toString("base64");
      expect(r.compression === "gzip").toBe(gz.length + 4 < escaped.length);
    }
  });
});

describe("gzipLikeGo()", () => {
  test("gzipLikeGo() writes Go's BestCompression header and a valid stream", () => {
    const gz = gzipLikeGo(bytes(lines));
    expect(Buffer.from(gz.subarray(0, 10)).toString("hex")).toBe("1f8b08000000000002ff");
    expect(new TextDecoder().decode(gunzipSync(gz))).toBe(lines);
  });
});
