// The resource fetcher contract: one place every stage and provider fetches through.
import type { HttpHeader, Proxy, Resource, Timeouts } from "../config/types.ts";

/** Options that come from the config's ignition section and the caller. */
export interface FetchOptions {
  /** Extra headers (the resource's httpHeaders are applied by the fetcher itself). */
  headers?: readonly HttpHeader[];
  timeouts?: Timeouts;
  proxy?: Proxy;
  /** PEM certificate authorities added to the system roots. */
  certificateAuthorities?: readonly string[];
  signal?: AbortSignal;
}

/** Where streamed, decompressed, verified bytes go. */
export interface ByteSink {
  write(chunk: Uint8Array): Promise<void> | void;
  /**
   * Optional: discard everything written so far (e.g. truncate the temp file). When present,
   * the fetcher may start a download over after the connection broke mid-body; without it,
   * such a failure is thrown. The fetcher never calls it after a hash mismatch.
   */
  reset?(): Promise<void> | void;
}

/** Fetches resources by scheme, decompressing and verifying in one streaming pass. */
export interface Fetcher {
  /** The whole resource in memory (configs, CAs, key files): decompressed and verified. */
  fetchBytes(res: Resource, opts?: FetchOptions): Promise<Uint8Array>;
  /** Streams the resource into sink; throws (HashMismatchError, …) after a bad or partial body. */
  fetchInto(res: Resource, sink: ByteSink, opts?: FetchOptions): Promise<void>;
}
