// RFC 2397 data URLs: `data:[<mediatype>][;base64],<data>`, the payload percent-encoded or
// base64. Decoding is strict: a malformed escape or base64 text is an error, never guessed.

/** The decoded payload of a data URL, or why it cannot be decoded. */
export type DataUrlResult = { ok: true; mediaType: string; bytes: Uint8Array } | { ok: false; reason: string };

/** Decodes a data URL into its bytes. */
export function decodeDataUrl(url: string): DataUrlResult {
  if (!/^data:/i.test(url)) return { ok: false, reason: "not a data URL" };
  const comma = url.indexOf(",");
  if (comma < 0) return { ok: false, reason: "no comma before the data" };
  const params = url.slice(5, comma).split(";");
  const isBase64 = params.length > 1 && params[params.length - 1]!.toLowerCase() === "base64";
  if (isBase64) params.pop();
  const mediaType = params.join(";") || "text/plain;charset=US-ASCII";
  const payload = url.slice(comma + 1);
  // Without escapes (the usual base64 payload) the text is the data: no byte round trip.
  const escaped = payload.includes("%");
  if (isBase64 && !escaped) {
    const bytes = decodeBase64(payload);
    return bytes === null ? { ok: false, reason: "malformed base64 data" } : { ok: true, mediaType, bytes };
  }
  const raw = escaped ? percentDecode(payload) : new TextEncoder().encode(payload);
  if (raw === null) return { ok: false, reason: "malformed percent escape" };
  if (!isBase64) return { ok: true, mediaType, bytes: raw };
  const bytes = decodeBase64(new TextDecoder("latin1").decode(raw));
  if (bytes === null) return { ok: false, reason: "malformed base64 data" };
  return { ok: true, mediaType, bytes };
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Percent-decodes to bytes (the text is taken as UTF-8); null on a malformed escape. */
function percentDecode(s: string): Uint8Array | null {
  const src = new TextEncoder().encode(s);
  const out = new Uint8Array(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c !== 0x25) {
      out[n++] = c;
      continue;
    }
    const hi = i + 1 < src.length ? hexValue(src[i + 1]!) : -1;
    const lo = i + 2 < src.length ? hexValue(src[i + 2]!) : -1;
    if (hi < 0 || lo < 0) return null;
    out[n++] = (hi << 4) | lo;
    i += 2;
  }
  return out.subarray(0, n);
}

/** Standard base64 (padding optional, whitespace ignored); null when malformed. */
function decodeBase64(text: string): Uint8Array | null {
  const s = text.replace(/[\t\n\r ]/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null;
  const body = s.replace(/=+$/, "");
  if (body.length % 4 === 1) return null;
  if (s.length !== body.length && s.length % 4 !== 0) return null;
  return new Uint8Array(Buffer.from(body, "base64"));
}
