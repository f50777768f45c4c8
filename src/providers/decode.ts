// Encodings platforms wrap user data in: base64 (Akamai, Azure IMDS, Oracle Cloud, VMware),
// gzip (Akamai when the data starts with gzip's magic; VMware's "gzip" encodings). A bad
// encoding is an error naming the platform and the source, never a silently empty config.

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Standard base64 (line breaks ignored, padding required, as Go's StdEncoding). */
export function decodeBase64(data: Uint8Array | string, platform: string, source: string): Uint8Array {
  const text = (typeof data === "string" ? data : new TextDecoder().decode(data)).replace(/[\r\n]/g, "");
  if (!BASE64.test(text) || text.length % 4 !== 0) {
    throw new Error(`Cannot decode config on platform "${platform}" from ${source}: invalid base64 data`);
  }
  return new Uint8Array(Buffer.from(text, "base64"));
}

/** True when the bytes start like a gzip stream (what Go's content sniffing calls application/x-gzip). */
export function isGzip(data: Uint8Array): boolean {
  return data.length >= 3 && data[0] === 0x1f && data[1] === 0x8b && data[2] === 0x08;
}

/** Gunzips, with an error naming the platform and the source. */
export function gunzip(data: Uint8Array, platform: string, source: string): Uint8Array {
  try {
    return Bun.gunzipSync(new Uint8Array(data));
  } catch (e) {
    throw new Error(`Cannot decompress config on platform "${platform}" from ${source}: ${(e as Error).message}`, { cause: e });
  }
}

/** Gunzips only what is gzip (Akamai's user data may or may not be compressed). */
export function gunzipIfGzip(data: Uint8Array, platform: string, source: string): Uint8Array {
  return isGzip(data) ? gunzip(data, platform, source) : data;
}
