// The resource fetcher: one place every stage and provider fetches through. Dispatches by
// URL scheme, then streams the body through decompression and hashing into the caller's sink
// (verify.ts). Network schemes retry transient failures with backoff (retry.ts) and honour the
// config's timeouts, proxy and certificate authorities.
import { existsSync, readFileSync } from "node:fs";
// Namespace import: a named import of rootCertificates would build the bundle at start-up.
import pkg from "../../package.json" with { type: "json" };
import type { Config, Resource } from "../config/types.ts";
import { NEWEST_STABLE } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import { redactUrl } from "../log/redact.ts";
import { decodeDataUrl } from "./data_url.ts";
import { HashMismatchError, HttpStatusError, NeedNetError, TftpError } from "./errors.ts";
import { openGs } from "./gs.ts";
import { mergeHeaders, openHttp, type HttpResponse } from "./http.ts";
import { openS3 } from "./s3.ts";
import { DEFAULT_TFTP_TIMING, openTftp, type TftpTiming } from "./tftp.ts";
import { computeBackoff, DEFAULT_RETRY, sleep, type RetryPolicy } from "./retry.ts";
import type { ByteSink, Fetcher, FetchOptions } from "./types.ts";
import { checkCompression, collectSink, deliverBytes, parseHash, streamBody, type StreamSpec } from "./verify.ts";

// The contract and the pieces callers need, re-exported so they import from one place.
export type { ByteSink, Fetcher, FetchOptions } from "./types.ts";
export { HashMismatchError, HttpStatusError, NeedNetError, TftpError, isNotFound } from "./errors.ts";
export { decodeDataUrl } from "./data_url.ts";
export { parseHash } from "./verify.ts";
export { DEFAULT_RETRY, type RetryPolicy } from "./retry.ts";
export type { HttpResponse } from "./http.ts";

/** The User-Agent nexus-init sends: starts with "Ignition/" as Ignition-aware servers expect. */
export const USER_AGENT = `Ignition/nexus-init-${pkg.version} nexus-init/${pkg.version}`;
/** The Accept header Ignition sends for every HTTP resource. */
export const ACCEPT = `application/vnd.coreos.ignition+json;version=${NEWEST_STABLE}, */*;q=0.1`;
/** Ignition's default wait for response headers, in seconds. */
export const DEFAULT_RESPONSE_HEADERS_TIMEOUT_S = 10;

/** Schemes the fetcher knows; which ones a config may use depends on its spec version. */
export const SCHEMES = ["data", "http", "https", "tftp", "s3", "arn", "gs"] as const;
/** One of SCHEMES. */
export type Scheme = (typeof SCHEMES)[number];

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

/** The real endpoints. */
export const DEFAULT_CLOUD: CloudEndpoints = {
  awsImds: "http://169.254.169.254",
  gcpMetadata: "http://169.254.169.254",
  s3Endpoint: (region) => `https://s3.${region}.amazonaws.com`,
  s3DefaultRegion: "us-east-1",
  gcsEndpoint: "https://storage.googleapis.com",
};

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

/** A raw HTTP exchange through the fetcher's retry, timeout, proxy and CA settings. */
export interface RawRequest {
  url: string;
  method?: "GET" | "PUT" | "HEAD";
  headers?: readonly (readonly [string, string])[];
  /** Statuses returned instead of thrown (default 200 and 204). */
  isSuccess?: (status: number) => boolean;
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

/** Everything one fetch needs after options are merged. */
export interface FetchContext {
  url: string;
  shown: string;
  headers: [string, string][];
  redirectHeaders: [string, string][];
  responseHeadersMs: number;
  signal?: AbortSignal;
  opts: FetchOptions;
  ca?: readonly string[];
  retry: RetryPolicy;
  log?: Logger;
  cloud: CloudEndpoints;
  fetcher: ResourceFetcher;
}

/**
 * Opens a body over HTTP(S) with the fetch's timeouts, proxy, CAs and retry policy. Status
 * errors name the resource as the user wrote it (gs:, s3: URLs become https requests).
 */
export async function openBodyOverHttp(
  ctx: FetchContext,
  url: string,
  headers: [string, string][],
  redirectHeaders: [string, string][],
): Promise<AsyncIterable<Uint8Array>> {
  try {
    const res = await openHttp({
      url,
      headers,
      redirectHeaders,
      responseHeadersMs: ctx.responseHeadersMs,
      signal: ctx.signal,
      proxy: ctx.opts.proxy,
      ca: ctx.ca,
      retry: ctx.retry,
      log: ctx.log,
    });
    return res.body;
  } catch (e) {
    if (e instanceof HttpStatusError && url !== ctx.url) throw new HttpStatusError(ctx.shown, e.status);
    throw e;
  }
}

/** A byte stream of the (still compressed) resource. */
type Opener = (ctx: FetchContext) => Promise<AsyncIterable<Uint8Array> | Iterable<Uint8Array>>;

const NETWORK_SCHEMES: ReadonlySet<Scheme> = new Set(["http", "https", "tftp", "s3", "arn", "gs"]);
const BODY_RETRY_SCHEMES: ReadonlySet<Scheme> = new Set(["http", "https", "s3", "arn", "gs"]);

/** Marks a failure while reading the body from the network (retried when the sink can reset). */
class TransportError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = "TransportError";
  }
}

/** Creates the fetcher every stage and provider uses. */
export function createFetcher(options: FetcherOptions = {}): ResourceFetcher {
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const cloud: CloudEndpoints = { ...DEFAULT_CLOUD, ...options.cloud };
  const userAgent = options.userAgent ?? USER_AGENT;
  let systemRoots: string[] | null = null;

  const openers: Record<Exclude<Scheme, "data">, Opener> = {
    http: openHttpBody,
    https: openHttpBody,
    tftp: (ctx) => openTftp(ctx, { ...DEFAULT_TFTP_TIMING, ...options.tftp }),
    s3: openS3,
    arn: openS3,
    gs: openGs,
  };

  function trustedRoots(custom: readonly string[] | undefined): readonly string[] | undefined {
    if (!custom || custom.length === 0) return undefined;
    if (!systemRoots) {
      const file = options.systemCaFile ?? options.env?.SSL_CERT_FILE ?? "/etc/ssl/certs/ca-certificates.crt";
      systemRoots = existsSync(file) ? splitPem(readFileSync(file, "utf8")) : [...(require("node:tls") as typeof import("node:tls")).rootCertificates];
    }
    return [...systemRoots, ...custom.flatMap(splitPem)];
  }

  function schemeOf(source: string): Scheme | null {
    const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(source);
    const s = m?.[1]!.toLowerCase();
    return s && (SCHEMES as readonly string[]).includes(s) ? (s as Scheme) : null;
  }

  async function fetchInto(res: Resource, sink: ByteSink, callOpts: FetchOptions = {}): Promise<void> {
    const source = res.source ?? "";
    const shown = redactUrl(source);
    const spec: StreamSpec = {
      url: shown,
      compression: checkCompression(res.compression),
      hash: res.verification?.hash ? parseHash(res.verification.hash) : null,
    };
    if (source === "") {
      await streamBody(guardTransport([]), spec, sink);
      return;
    }
    const scheme = schemeOf(source);
    if (!scheme) throw new Error(`Cannot fetch resource "${shown}": unsupported URL scheme`);
    if (options.offline && NETWORK_SCHEMES.has(scheme)) throw new NeedNetError(shown);
    if (scheme === "data") {
      // Inline data needs no transport, timeouts or retries: decoded and delivered in one piece.
      const r = decodeDataUrl(source);
      if (!r.ok) throw new Error(`Cannot decode data URL: ${r.reason}`);
      await deliverBytes(r.bytes, spec, sink);
      return;
    }

    const opts = mergeOptions(options.defaults, callOpts);
    const totalS = opts.timeouts?.httpTotal ?? 0;
    const signals = [opts.signal, totalS > 0 ? AbortSignal.timeout(totalS * 1000) : undefined].filter(
      (s): s is AbortSignal => s !== undefined,
    );
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    const defaults: [string, string][] = [
      ["Accept", ACCEPT],
      ["Accept-Encoding", "identity"],
      ["User-Agent", userAgent],
    ];
    const configHeaders = [...(opts.headers ?? []), ...(res.httpHeaders ?? [])]
      .filter((h) => h.name)
      .map((h) => [h.name!, h.value ?? ""] as [string, string]);
    const ctx: FetchContext = {
      url: source,
      shown,
      headers: mergeHeaders(defaults, configHeaders),
      redirectHeaders: defaults,
      responseHeadersMs: (opts.timeouts?.httpResponseHeaders ?? DEFAULT_RESPONSE_HEADERS_TIMEOUT_S) * 1000,
      signal,
      opts,
      ca: trustedRoots(opts.certificateAuthorities),
      retry,
      log: options.log,
      cloud,
      fetcher: self,
    };

    for (let attempt = 1; ; attempt++) {
      try {
        const body = await openers[scheme](ctx);
        await streamBody(guardTransport(body), spec, sink);
        return;
      } catch (e) {
        if (signal?.aborted && !(e instanceof HashMismatchError)) {
          const why = opts.signal?.aborted ? "cancelled" : `timed out after ${totalS} s (ignition.timeouts.httpTotal)`;
          throw new Error(`Cannot fetch resource "${shown}": ${why}`, { cause: e });
        }
        // A body cut short over HTTP is a network error like any other; TFTP has its own
        // retransmissions and Ignition does not retry it.
        const retriable =
          e instanceof TransportError && BODY_RETRY_SCHEMES.has(scheme) && typeof sink.reset === "function" && attempt < retry.maxAttempts;
        if (!retriable) throw e instanceof TransportError ? new Error(`Cannot fetch resource "${shown}": ${e.message}`, { cause: e.cause }) : e;
        options.log?.info(`Reading ${shown} failed (${e.message}); retrying`);
        await sink.reset!();
        await sleep(computeBackoff(retry, attempt), signal);
      }
    }
  }

  async function openHttpBody(ctx: FetchContext): Promise<AsyncIterable<Uint8Array>> {
    return openBodyOverHttp(ctx, ctx.url, ctx.headers, ctx.redirectHeaders);
  }

  async function request(req: RawRequest): Promise<HttpResponse> {
    if (options.offline) throw new NeedNetError(redactUrl(req.url));
    const d = options.defaults ?? {};
    const totalS = d.timeouts?.httpTotal ?? 0;
    const signals = [req.signal, d.signal, totalS > 0 ? AbortSignal.timeout(totalS * 1000) : undefined].filter(
      (s): s is AbortSignal => s !== undefined,
    );
    const headers = mergeHeaders([["User-Agent", userAgent]], req.headers ?? []);
    return openHttp({
      url: req.url,
      method: req.method,
      headers,
      redirectHeaders: headers,
      responseHeadersMs:
        req.responseHeadersMs ?? (d.timeouts?.httpResponseHeaders ?? DEFAULT_RESPONSE_HEADERS_TIMEOUT_S) * 1000,
      signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0],
      proxy: d.proxy,
      ca: trustedRoots(d.certificateAuthorities),
      retry: req.maxAttempts ? { ...retry, maxAttempts: req.maxAttempts } : retry,
      log: options.log,
      isSuccess: req.isSuccess,
    });
  }

  const self: ResourceFetcher = {
    options,
    cloud,
    schemeOf,
    request,
    withDefaults: (d) => createFetcher({ ...options, defaults: mergeOptions(options.defaults, d) }),
    fetchInto,
    async fetchBytes(res, opts) {
      const sink = collectSink();
      await fetchInto(res, sink, opts);
      return sink.bytes();
    },
  };
  return self;
}

/** True when f is a ResourceFetcher (so callers can derive fetchers with other settings). */
export function isResourceFetcher(f: Fetcher): f is ResourceFetcher {
  return typeof (f as Partial<ResourceFetcher>).withDefaults === "function" && "options" in f;
}

/** Tags errors raised while reading the source so fetchInto can tell them from sink errors. */
async function* guardTransport(body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const it: AsyncIterator<Uint8Array> | Iterator<Uint8Array> =
    Symbol.asyncIterator in body ? body[Symbol.asyncIterator]() : body[Symbol.iterator]();
  try {
    for (;;) {
      let r: IteratorResult<Uint8Array>;
      try {
        r = await it.next();
      } catch (e) {
        if (e instanceof HttpStatusError || e instanceof TftpError || e instanceof TransportError) throw e;
        throw new TransportError(e);
      }
      if (r.done) return;
      yield r.value;
    }
  } finally {
    await it.return?.();
  }
}

/** Layers call options over defaults field by field (headers concatenate). */
export function mergeOptions(base: FetchOptions | undefined, over: FetchOptions): FetchOptions {
  if (!base) return over;
  return {
    headers: [...(base.headers ?? []), ...(over.headers ?? [])],
    timeouts: { ...base.timeouts, ...stripNullish(over.timeouts) },
    proxy: over.proxy ?? base.proxy,
    certificateAuthorities: [...(base.certificateAuthorities ?? []), ...(over.certificateAuthorities ?? [])],
    signal: over.signal ?? base.signal,
  };
}

function stripNullish<T extends object>(o: T | undefined): Partial<T> {
  if (!o) return {};
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as Partial<T>;
}

/** Splits a PEM bundle into its certificates. */
export function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/**
 * Fetches the config's certificate authorities and returns the fetch options its ignition
 * section implies (timeouts, proxy, CAs). CAs are fetched with the timeouts and proxy already
 * applied, and each must hold at least one PEM certificate.
 */
export async function resolveConfigOptions(config: Config, fetcher: ResourceFetcher): Promise<FetchOptions> {
  const ign = config.ignition ?? {};
  const base: FetchOptions = {
    timeouts: stripNullish(ign.timeouts ?? undefined),
    ...(ign.proxy ? { proxy: ign.proxy } : {}),
  };
  const cas: string[] = [];
  for (const ref of ign.security?.tls?.certificateAuthorities ?? []) {
    const text = new TextDecoder().decode(await fetcher.fetchBytes(ref, base));
    const certs = splitPem(text);
    if (certs.length === 0) {
      throw new Error(`Cannot use certificate authority "${redactUrl(ref.source ?? "")}": no PEM certificate found`);
    }
    fetcher.options.log?.info(`Adding ${certs.length} certificate(s) from ${redactUrl(ref.source ?? "")} to the trusted CAs`);
    cas.push(...certs);
  }
  return { ...base, certificateAuthorities: cas };
}
