// The resource fetcher contract: one place every stage and provider fetches through, and what
// a scheme handler gets to open one resource.
import type { HttpHeader, Proxy, Resource, Timeouts } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import type { SocketRoute } from "./http_socket.ts";
import type { RetryPolicy } from "./retry.ts";

/** Schemes the fetcher knows; which ones a config may use depends on its spec version. */
export const SCHEMES = ["data", "http", "https", "tftp", "s3", "arn", "gs"] as const;
/** One of SCHEMES. */
export type Scheme = (typeof SCHEMES)[number];

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

/** Endpoints of cloud services, overridable so tests can point at loopback mocks. */
export interface CloudEndpoints {
  /** AWS instance metadata service base URL (http://169.254.169.254). */
  awsImds: string;
  /** GCP metadata server base URL (http://metadata.google.internal). */
  gcpMetadata: string;
  /** S3 endpoint for a region; default https://s3.<region>.amazonaws.com (path-style requests). */
  s3Endpoint: (region: string) => string;
  /** Region used when none can be learned. */
  s3DefaultRegion: string;
  /** Google Cloud Storage base URL (https://storage.googleapis.com). */
  gcsEndpoint: string;
}

/** Timing of TFTP's lock-step exchange; tests shorten it. */
export interface TftpTiming {
  /** Silence after which the last packet is sent again, in milliseconds. */
  retransmitMs: number;
  /** Retransmissions before giving up. */
  retries: number;
}

/** How a fetcher is built. */
export interface FetcherOptions {
  /** Refuse every network scheme with NeedNetError (the fetch-offline stage). */
  offline?: boolean;
  log?: Logger;
  /** Applied under each call's options (the config's timeouts, proxy and CAs). */
  defaults?: FetchOptions;
  retry?: Partial<RetryPolicy>;
  userAgent?: string;
  cloud?: Partial<CloudEndpoints>;
  /** TFTP retransmission timing (default: 1 s, 5 retransmissions). */
  tftp?: Partial<TftpTiming>;
  /** The system CA bundle custom CAs are added to (default /etc/ssl/certs/ca-certificates.crt). */
  systemCaFile?: string;
  env?: Record<string, string | undefined>;
}

/** A successful HTTP response whose body has not been read yet. */
export interface HttpResponse {
  status: number;
  headers: Headers;
  body: AsyncIterable<Uint8Array>;
  /** Releases the connection without reading the body. */
  cancel(): Promise<void>;
}

/** A raw HTTP exchange through the fetcher's retry, timeout, proxy and CA settings. */
export interface RawRequest {
  url: string;
  method?: "GET" | "PUT" | "HEAD" | "POST";
  headers?: readonly (readonly [string, string])[];
  body?: string;
  /** Statuses returned instead of thrown (default 200 and 204). */
  isSuccess?: (status: number) => boolean;
  /** Statuses below 500 retried like a 5xx (Azure IMDS retries 404, 410 and 429). */
  retryStatuses?: readonly number[];
  /** Send over a socket of our own: a source port below 1024, an IPv6 link-local zone. */
  route?: SocketRoute;
  /** Overrides the retry policy's attempt limit (metadata probes use 1). */
  maxAttempts?: number;
  /** Overrides the response-header timeout, in milliseconds. */
  responseHeadersMs?: number;
  signal?: AbortSignal;
}

/** A Fetcher that also knows how it was built, so callers can derive one with other defaults. */
export interface ResourceFetcher extends Fetcher {
  readonly options: FetcherOptions;
  /** The cloud endpoints in effect (defaults with the options' overrides). */
  readonly cloud: CloudEndpoints;
  /** Sends one HTTP request with the shared retry policy (for metadata services). */
  request(req: RawRequest): Promise<HttpResponse>;
  /** A fetcher with the same settings and these defaults layered on top. */
  withDefaults(defaults: FetchOptions): ResourceFetcher;
  /** The scheme of a source, or null when the fetcher cannot fetch it. */
  schemeOf(source: string): Scheme | null;
}

/** Everything a scheme handler needs to open one resource, after options are merged. */
export interface FetchContext {
  url: string;
  /** The URL as logs and errors may show it (credentials redacted). */
  shown: string;
  headers: [string, string][];
  redirectHeaders: [string, string][];
  responseHeadersMs: number;
  signal?: AbortSignal;
  opts: FetchOptions;
  /** Trusted roots (system roots plus custom CAs), or undefined for the default. */
  ca?: readonly string[];
  retry: RetryPolicy;
  log?: Logger;
  cloud: CloudEndpoints;
  tftp: TftpTiming;
  fetcher: ResourceFetcher;
}
