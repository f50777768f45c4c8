// One streaming pass over a resource body: decompress, hash and hand each chunk to the sink,
// then compare the digest. Memory stays bounded by the chunk size whatever the resource size.
import type { ByteSink } from "./types.ts";
import { HashMismatchError } from "./errors.ts";

/** Hash algorithms verification.hash may name, with their hex digest lengths. */
export const HASH_ALGORITHMS = { sha256: 64, sha512: 128 } as const;
/** A key of HASH_ALGORITHMS. */
export type HashAlgorithm = keyof typeof HASH_ALGORITHMS;

/** A parsed verification.hash. */
export interface ExpectedHash {
  algorithm: HashAlgorithm;
  hex: string;
}

/** Parses "<algorithm>-<hex>"; throws on an unknown algorithm or a malformed digest. */
export function parseHash(spec: string): ExpectedHash {
  const dash = spec.indexOf("-");
  const algorithm = spec.slice(0, dash) as HashAlgorithm;
  const hex = spec.slice(dash + 1).toLowerCase();
  if (dash < 0 || !(algorithm in HASH_ALGORITHMS)) {
    throw new Error(`Cannot use verification hash "${spec}": unsupported hash algorithm`);
  }
  if (hex.length !== HASH_ALGORITHMS[algorithm] || !/^[0-9a-f]+$/.test(hex)) {
    throw new Error(`Cannot use verification hash "${spec}": malformed ${algorithm} digest`);
  }
  return { algorithm, hex };
}

/** Compression values a resource may name ("" and null mean none). */
export function checkCompression(compression: string | null | undefined): "gzip" | null {
  if (!compression) return null;
  if (compression === "gzip") return "gzip";
  throw new Error(`Cannot decompress with "${compression}": unsupported compression`);
}

/** Gunzips a byte stream chunk by chunk; a truncated or corrupt stream throws. */
export async function* gunzipChunks(src: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  // Loaded on first use: node:zlib costs several milliseconds of start-up to every call.
  const { createGunzip } = await import("node:zlib");
  const { Readable } = await import("node:stream");
  const gz = createGunzip();
  const input = Readable.from(src, { objectMode: false });
  input.on("error", (e) => gz.destroy(e));
  input.pipe(gz);
  try {
    for await (const chunk of gz as AsyncIterable<Buffer>) yield chunk;
  } finally {
    input.unpipe(gz);
    input.destroy();
    gz.destroy();
  }
}

/** What streamBody needs besides the body: the URL for messages, compression and hash. */
export interface StreamSpec {
  /** Redacted URL for error messages. */
  url: string;
  compression: "gzip" | null;
  hash: ExpectedHash | null;
}

/** Streams body through decompression and hashing into sink; throws HashMismatchError at the end. */
export async function streamBody(body: AsyncIterable<Uint8Array>, spec: StreamSpec, sink: ByteSink): Promise<number> {
  const hasher = spec.hash ? new Bun.CryptoHasher(spec.hash.algorithm) : null;
  const chunks = spec.compression === "gzip" ? gunzipChunks(body) : body;
  let total = 0;
  for await (const chunk of chunks) {
    if (chunk.length === 0) continue;
    hasher?.update(chunk);
    total += chunk.length;
    const w = sink.write(chunk);
    if (w) await w;
  }
  if (hasher && spec.hash) {
    const actual = hasher.digest("hex");
    if (actual !== spec.hash.hex) {
      throw new HashMismatchError(spec.url, `${spec.hash.algorithm}-${spec.hash.hex}`, `${spec.hash.algorithm}-${actual}`);
    }
  }
  return total;
}

/** Largest decompressed size deliverBytes handles in one piece; anything larger is streamed. */
export const IN_MEMORY_GUNZIP_LIMIT = 16 * 1024 * 1024;

/**
 * Like streamBody for a body already in memory (a data URL): decompressed in one call, hashed
 * in one update and verified before the sink sees a byte. A payload that inflates past
 * IN_MEMORY_GUNZIP_LIMIT, or a corrupt one, goes through streamBody, so memory stays bounded
 * and errors read the same. (node:zlib, not Bun.gunzipSync: the latter silently stops after
 * the first gzip member and ignores trailing garbage.)
 */
export async function deliverBytes(body: Uint8Array, spec: StreamSpec, sink: ByteSink): Promise<number> {
  let data = body;
  if (spec.compression === "gzip") {
    const { gunzipSync } = await import("node:zlib");
    try {
      data = gunzipSync(body, { maxOutputLength: IN_MEMORY_GUNZIP_LIMIT });
    } catch {
      return streamBody(once(body), spec, sink);
    }
  }
  if (spec.hash) {
    const actual = new Bun.CryptoHasher(spec.hash.algorithm).update(data).digest("hex");
    if (actual !== spec.hash.hex) {
      throw new HashMismatchError(spec.url, `${spec.hash.algorithm}-${spec.hash.hex}`, `${spec.hash.algorithm}-${actual}`);
    }
  }
  if (data.length > 0) {
    const w = sink.write(data);
    if (w) await w;
  }
  return data.length;
}

async function* once(chunk: Uint8Array): AsyncGenerator<Uint8Array> {
  yield chunk;
}

/** A sink that keeps every chunk in memory (for configs, CAs and other small resources). */
export function collectSink(): ByteSink & { bytes(): Uint8Array; reset(): void } {
  let parts: Uint8Array[] = [];
  return {
    write(chunk) {
      // Copy: some sources reuse their buffers after the write returns.
      parts.push(chunk.slice());
    },
    reset() {
      parts = [];
    },
    bytes() {
      return new Uint8Array(Buffer.concat(parts));
    },
  };
}
