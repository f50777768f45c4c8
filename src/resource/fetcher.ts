// The resource fetcher: dispatches by URL scheme to a handler that opens the (still compressed)
// body, then streams it through decompression and hashing into the caller's sink (verify.ts).
// Network schemes retry transient failures with backoff (retry.ts) and honour the fetch
// options' timeouts, proxy and certificate authorities.
import pkg from "../../package.json" with { type: "json" };
import type { Resource } from "../config/types.ts";
import { NEWEST_STABLE } from "../config/types.ts";
import { redactUrl } from "../log/redact.ts";
import { trustedRootsLoader } from "./certificates.ts";
import { decodeDataUrl } from "./data_url.ts";
import { HashMismatchError, HttpStatusError, NeedNetError, TftpError } from "./errors.ts";
import { openGs } from "./gs.ts";
import { mergeHeaders, openBodyOverHttp, openHttp } from "./http.ts";
import { combineSignals, mergeOptions } from "./options.ts";
import { DEFAULT_RETRY, retrying, type RetryPolicy } from "./retry.ts";
import { openS3 } from "./s3.ts";
import { DEFAULT_TFTP_TIMING, openTftp } from "./tftp.ts";
import {
  SCHEMES,
  type ByteSink,
  type CloudEndpoints,
  type FetchContext,
  type FetcherOptions,
  type FetchOptions,
  type HttpResponse,
  type RawRequest,
  type ResourceFetcher,
  type Scheme,
} from "./types.ts";
import { checkCompression, collectSink, deliverBytes, parseHash, streamBody, type StreamSpec } from "./verify.ts";

/** The User-Agent nexus-init sends: starts with "Ignition/" as Ignition-aware servers expect. */
export const USER_AGENT = `Ignition/nexus-init-${pkg.version} nexus-init/${pkg.version}`;
/** The Accept header Ignition sends for every HTTP resource. */
export const ACCEPT = `application/vnd.coreos.ignition+json;version=${NEWEST_STABLE}, */*;q=0.1`;
/** Ignition's default wait for response headers, in seconds. */
export const DEFAULT_RESPONSE_HEADERS_TIMEOUT_S = 10;

/** The real endpoints. */
export const DEFAULT_CLOUD: CloudEndpoints = {
  awsImds: "http://169.254.169.254",
  gcpMetadata: "http://169.254.169.254",
  s3Endpoint: (region) => `https://s3.${region}.amazonaws.com`,
  s3DefaultRegion: "us-east-1",
  gcsEndpoint: "https://storage.googleapis.com",
};

/** Opens a byte stream of the (still compressed) resource a context names. */
type Opener = (ctx: FetchContext) => Promise<AsyncIterable<Uint8Array> | Iterable<Uint8Array>>;

/** The handler of each network scheme. */
const OPENERS: Record<Exclude<Scheme, "data">, Opener> = {
  http: (ctx) => openBodyOverHttp(ctx, ctx.url, ctx.headers, ctx.redirectHeaders),
  https: (ctx) => openBodyOverHttp(ctx, ctx.url, ctx.headers, ctx.redirectHeaders),
  tftp: openTftp,
  s3: openS3,
  arn: openS3,
  gs: openGs,
};

/** Schemes whose body may be read again from the start after the connection broke (not TFTP). */
const BODY_RETRY_SCHEMES: ReadonlySet<Scheme> = new Set(["http", "https", "s3", "arn", "gs"]);

/** The scheme of a source, or null when no handler knows it. */
export function schemeOf(source: string): Scheme | null {
  const s = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(source)?.[1]!.toLowerCase();
  return s && (SCHEMES as readonly string[]).includes(s) ? (s as Scheme) : null;
}

/** Marks a failure while reading the body from the network (retried when the sink can reset). */
class TransportError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = "TransportError";
  }
}

/** Tags errors raised while reading the source so a fetch can tell them from sink errors. */
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

/** The fetcher every stage and provider uses. */
class SchemeFetcher implements ResourceFetcher {
  readonly cloud: CloudEndpoints;
  private readonly retry: RetryPolicy;
  private readonly userAgent: string;
  private readonly trustedRoots: (custom: readonly string[] | undefined) => readonly string[] | undefined;

  constructor(readonly options: FetcherOptions) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.cloud = { ...DEFAULT_CLOUD, ...options.cloud };
    this.userAgent = options.userAgent ?? USER_AGENT;
    this.trustedRoots = trustedRootsLoader(options.systemCaFile ?? options.env?.SSL_CERT_FILE);
  }

  schemeOf(source: string): Scheme | null {
    return schemeOf(source);
  }

  withDefaults(defaults: FetchOptions): ResourceFetcher {
    return new SchemeFetcher({ ...this.options, defaults: mergeOptions(this.options.defaults, defaults) });
  }

  async fetchBytes(res: Resource, opts?: FetchOptions): Promise<Uint8Array> {
    const sink = collectSink();
    await this.fetchInto(res, sink, opts);
    return sink.bytes();
  }

  async fetchInto(res: Resource, sink: ByteSink, callOpts: FetchOptions = {}): Promise<void> {
    const source = res.source ?? "";
    const spec: StreamSpec = {
      url: redactUrl(source),
      compression: checkCompression(res.compression),
      hash: res.verification?.hash ? parseHash(res.verification.hash) : null,
    };
    if (source === "") {
      await streamBody(guardTransport([]), spec, sink);
      return;
    }
    const scheme = schemeOf(source);
    if (!scheme) throw new Error(`Cannot fetch resource "${spec.url}": unsupported URL scheme`);
    if (scheme === "data") {
      // Inline data needs no transport, timeouts or retries: decoded and delivered in one piece.
      const r = decodeDataUrl(source);
      if (!r.ok) throw new Error(`Cannot decode data URL: ${r.reason}`);
      await deliverBytes(r.bytes, spec, sink);
      return;
    }
    if (this.options.offline) throw new NeedNetError(spec.url);
    await this.streamFromNetwork(scheme, this.contextFor(res, mergeOptions(this.options.defaults, callOpts)), spec, sink);
  }

  /** What a scheme handler needs for one resource: headers, timeouts, proxy, CAs, retries. */
  private contextFor(res: Resource, opts: FetchOptions): FetchContext {
    const source = res.source ?? "";
    const defaults: [string, string][] = [
      ["Accept", ACCEPT],
      ["Accept-Encoding", "identity"],
      ["User-Agent", this.userAgent],
    ];
    const configHeaders = [...(opts.headers ?? []), ...(res.httpHeaders ?? [])]
      .filter((h) => h.name)
      .map((h) => [h.name!, h.value ?? ""] as [string, string]);
    return {
      url: source,
      shown: redactUrl(source),
      headers: mergeHeaders(defaults, configHeaders),
      redirectHeaders: defaults,
      responseHeadersMs: (opts.timeouts?.httpResponseHeaders ?? DEFAULT_RESPONSE_HEADERS_TIMEOUT_S) * 1000,
      signal: combineSignals([opts.signal], opts.timeouts?.httpTotal ?? 0),
      opts,
      ca: this.trustedRoots(opts.certificateAuthorities),
      retry: this.retry,
      log: this.options.log,
      cloud: this.cloud,
      tftp: { ...DEFAULT_TFTP_TIMING, ...this.options.tftp },
      fetcher: this,
    };
  }

  /**
   * Opens the body and streams it into the sink. A body cut short over HTTP is a network error
   * like any other and is read again from the start when the sink can reset; TFTP has its own
   * retransmissions and Ignition does not retry it.
   */
  private async streamFromNetwork(scheme: Exclude<Scheme, "data">, ctx: FetchContext, spec: StreamSpec, sink: ByteSink): Promise<void> {
    const { signal } = ctx;
    const canReadAgain = async (e: unknown): Promise<boolean> => {
      if (signal?.aborted || !(e instanceof TransportError) || !BODY_RETRY_SCHEMES.has(scheme) || typeof sink.reset !== "function") return false;
      this.options.log?.info(`Reading ${ctx.shown} failed (${e.message}); retrying`);
      await sink.reset();
      return true;
    };
    const readOnce = async (): Promise<void> => {
      const body = await OPENERS[scheme](ctx);
      await streamBody(guardTransport(body), spec, sink);
    };
    try {
      await retrying(this.retry, signal, readOnce, canReadAgain);
    } catch (e) {
      if (signal?.aborted && !(e instanceof HashMismatchError)) {
        const totalS = ctx.opts.timeouts?.httpTotal ?? 0;
        const why = ctx.opts.signal?.aborted ? "cancelled" : `timed out after ${totalS} s (ignition.timeouts.httpTotal)`;
        throw new Error(`Cannot fetch resource "${ctx.shown}": ${why}`, { cause: e });
      }
      throw e instanceof TransportError ? new Error(`Cannot fetch resource "${ctx.shown}": ${e.message}`, { cause: e.cause }) : e;
    }
  }

  async request(req: RawRequest): Promise<HttpResponse> {
    if (this.options.offline) throw new NeedNetError(redactUrl(req.url));
    const d = this.options.defaults ?? {};
    const headers = mergeHeaders([["User-Agent", this.userAgent]], req.headers ?? []);
    return openHttp({
      url: req.url,
      method: req.method,
      body: req.body,
      retryStatuses: req.retryStatuses,
      route: req.route,
      headers,
      redirectHeaders: headers,
      responseHeadersMs: req.responseHeadersMs ?? (d.timeouts?.httpResponseHeaders ?? DEFAULT_RESPONSE_HEADERS_TIMEOUT_S) * 1000,
      signal: combineSignals([req.signal, d.signal], d.timeouts?.httpTotal ?? 0),
      proxy: d.proxy,
      ca: this.trustedRoots(d.certificateAuthorities),
      retry: req.maxAttempts ? { ...this.retry, maxAttempts: req.maxAttempts } : this.retry,
      log: this.options.log,
      isSuccess: req.isSuccess,
    });
  }
}

/** Creates the fetcher every stage and provider uses. */
export function createFetcher(options: FetcherOptions = {}): ResourceFetcher {
  return new SchemeFetcher(options);
}
