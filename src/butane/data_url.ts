// Embedding bytes as `data:` URLs the way Butane chooses them: the shortest of percent-escaped
// text, base64, and base64 of gzip (when the user did not set `compression` themselves).

// Bytes kept as-is in the percent-escaped form (RFC 2396 unreserved characters).
const UNRESERVED = new Uint8Array(256);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()") UNRESERVED[c.charCodeAt(0)] = 1;
const HEX = "0123456789ABCDEF";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Percent-escapes every byte outside the unreserved set, with upper-case hex. */
export function escapeDataUrlBytes(bytes: Uint8Array): string {
  // Valid UTF-8 (nearly all contents): encodeURIComponent escapes exactly the bytes outside
  // this unreserved set, natively — a byte loop costs ~0.25 µs a byte before the JIT warms up.
  let text: string | undefined;
  try {
    text = utf8.decode(bytes);
  } catch {
    text = undefined;
  }
  if (text !== undefined) return encodeURIComponent(text);
  let out = "";
  for (const b of bytes) out += UNRESERVED[b] ? String.fromCharCode(b) : "%" + HEX[b >> 4] + HEX[b & 15];
  return out;
}

/**
 * gzip with the header Go's compress/gzip writes at BestCompression (no name, mtime 0,
 * XFL 2, OS 255). The deflate stream comes from zlib level 9, so the bytes can differ from
 * Go's while decoding to the same data.
 */
export function gzipLikeGo(data: Uint8Array): Uint8Array {
  // Raw deflate, as node:zlib deflateRawSync (without loading node:zlib at start-up).
  const body = Bun.deflateSync(data as Uint8Array<ArrayBuffer>, { level: 9 });
  const out = new Uint8Array(10 + body.length + 8);
  out.set([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x02, 0xff], 0);
  out.set(body, 10);
  const view = new DataView(out.buffer);
  view.setUint32(10 + body.length, Bun.hash.crc32(data) >>> 0, true);
  view.setUint32(14 + body.length, data.length >>> 0, true);
  return out;
}

/** A data URL and the `compression` value to set (undefined: leave the field alone). */
export interface DataUrl {
  url: string;
  compression?: string;
}

/**
 * Encodes contents as a data URL. With `currentCompression` unset or empty, compression is
 * set explicitly ("" or "gzip") so a parent config's compression cannot leak into a child;
 * otherwise the user compressed the bytes themselves and they are embedded as they are.
 */
export function makeDataUrl(contents: Uint8Array, currentCompression: string | undefined, allowCompression: boolean): DataUrl {
  const userCompressed = currentCompression !== undefined && currentCompression !== "";
  let opaque = "," + escapeDataUrlBytes(contents);
  const b64 = ";base64," + Buffer.from(contents).toString("base64");
  if (b64.length < opaque.length) opaque = b64;
  let compression: string | undefined = userCompressed ? undefined : "";
  if (!userCompressed && allowCompression) {
    const gz = ";base64," + Buffer.from(gzipLikeGo(contents)).toString("base64");
    if (gz.length + "gzip".length < opaque.length) {
      opaque = gz;
      compression = "gzip";
    }
  }
  return compression === undefined ? { url: "data:" + opaque } : { url: "data:" + opaque, compression };
}
