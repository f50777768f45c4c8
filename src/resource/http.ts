// HTTP(S) through Bun's fetch: per-attempt response-header timeout, retries with backoff on
// network errors and 5xx, redirects followed by hand so config headers never leave the first
// host, custom CAs, proxies. The body is handed back as a stream; nothing is buffered here.
import type { Proxy } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import { redactUrl } from "../log/redact.ts";
import { HttpStatusError } from "./errors.ts";
import { selectProxy } from "./proxy.ts";
import { sendOverSocket, type SocketRoute } from "./http_socket.ts";
import { retrying, type RetryPolicy } from "./retry.ts";
import type { FetchContext, HttpResponse } from "./types.ts";

/** One HTTP request as the fetcher and the providers describe it. */
export interface HttpRequest {
  url: string;
  method?: "GET" | "PUT" | "HEAD" | "POST";
  /** Request body (PUT and POST; PUT sends an empty one by default). */
  body?: string;
  /** Headers of the first request; a repeated name sends several values (see mergeHeaders). */
  headers: readonly (readonly [string, string])[];
  /** Headers sent after a redirect (config headers stay with the first host). */
  redirectHeaders: readonly (readonly [string, string])[];
  /** Milliseconds to wait for response headers on each attempt; 0 waits forever. */
  responseHeadersMs: number;
  /** Aborts everything: the caller's signal combined with the total timeout. */
  signal?: AbortSignal;
  proxy?: Proxy | null;
  /** Full list of trusted roots (system roots plus custom CAs), or undefined for the default. */
  ca?: readonly string[];
  retry: RetryPolicy;
  log?: Logger;
  /** Statuses that count as success (default 200 and 204, as Ignition). */
  isSuccess?: (status: number) => boolean;
  /** Statuses below 500 retried like a 5xx (Azure IMDS: 404, 410, 429). */
  retryStatuses?: readonly number[];
  /** Send over a socket of our own: a chosen source port or an IPv6 zone (see http_socket.ts). */
  route?: SocketRoute;
}

const MAX_REDIRECTS = 10;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Layers header groups: a name set in a later group replaces all its values from earlier ones. */
export function mergeHeaders(
  ...groups: readonly (readonly (readonly [string, string])[])[]
): [string, string][] {
  let out: [string, string][] = [];
  for (const group of groups) {
    const names = new Set(group.map(([n]) => n.toLowerCase()));
    out = out.filter(([n]) => !names.has(n.toLowerCase()));
    for (const [n, v] of group) out.push([n, v]);
  }
  return out;
}

/** A failure worth another attempt: a network error or a 5xx answer. */
class TransientHttpError extends Error {}

/** Sends the request, retrying transient failures, and returns the successful response. */
export async function openHttp(req: HttpRequest): Promise<HttpResponse> {
  const isSuccess = req.isSuccess ?? ((s: number) => s === 200 || s === 204);
  const shown = redactUrl(req.url);
  const attempt = async (n: number): Promise<HttpResponse> => {
    req.log?.info(`${req.method ?? "GET"} ${shown}: attempt #${n}`);
    let failure: string;
    try {
      const res = await followRedirects(req);
      req.log?.info(`${req.method ?? "GET"} result: ${res.status} ${res.statusText}`.trimEnd());
      if (res.status < 500 && !req.retryStatuses?.includes(res.status)) {
        if (isSuccess(res.status)) return wrapResponse(res);
        await res.body?.cancel().catch(() => {});
        throw new HttpStatusError(shown, res.status);
      }
      await res.body?.cancel().catch(() => {});
      failure = `HTTP ${res.status}`;
    } catch (e) {
      if (e instanceof HttpStatusError) throw e;
      if (req.signal?.aborted) throw req.signal.reason;
      failure = describeNetworkError(e);
      // A certificate the trusted roots reject will be rejected again: fail now (Ignition would
      // retry until httpTotal, which defaults to forever).
      if (isTlsVerificationError(e)) {
        throw new Error(`Cannot fetch resource "${shown}": TLS certificate verification failed: ${failure}`, { cause: e });
      }
      req.log?.info(`${req.method ?? "GET"} error: ${failure}`);
    }
    if (n >= req.retry.maxAttempts) throw new Error(`Cannot fetch resource "${shown}": ${failure} after ${n} attempts`);
    throw new TransientHttpError(failure);
  };
  return retrying(req.retry, req.signal, attempt, (e) => e instanceof TransientHttpError);
}

/**
 * Opens a resource body over HTTP(S) with a fetch's timeouts, proxy, CAs and retry policy.
 * Status errors name the resource as the user wrote it (gs:, s3: URLs become https requests).
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

function wrapResponse(res: Response): HttpResponse {
  const stream = res.body;
  return {
    status: res.status,
    headers: res.headers,
    body: stream ? (stream as unknown as AsyncIterable<Uint8Array>) : emptyBody(),
    cancel: async () => {
      await stream?.cancel().catch(() => {});
    },
  };
}

async function* emptyBody(): AsyncGenerator<Uint8Array> {}

/** True for errors that say the server's certificate is not trusted (not a transient fault). */
export function isTlsVerificationError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY|DECRYPT)|ALTNAME|HOSTNAME_MISMATCH/.test(code);
}

function describeNetworkError(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: string }).code;
    return code && !e.message.includes(code) ? `${e.message} (${code})` : e.message;
  }
  return String(e);
}

/** One attempt: the request and any redirects, each hop with its own header timeout. */
async function followRedirects(req: HttpRequest): Promise<Response> {
  let url = req.url;
  let headers = req.headers;
  let method = req.method ?? "GET";
  for (let hop = 0; ; hop++) {
    const res = await sendOnce(req, url, method, headers);
    const location = res.headers.get("location");
    if (!REDIRECT_STATUSES.has(res.status) || !location) return res;
    await res.body?.cancel().catch(() => {});
    if (hop >= MAX_REDIRECTS) throw new Error(`stopped after ${MAX_REDIRECTS} redirects`);
    url = new URL(location, url).toString();
    headers = req.redirectHeaders;
    if (res.status === 303) method = "GET";
    req.log?.info(`${method} redirected to ${redactUrl(url)}`);
  }
}

async function sendOnce(
  req: HttpRequest,
  url: string,
  method: string,
  headerList: readonly (readonly [string, string])[],
): Promise<Response> {
  const headers = new Headers();
  for (const [name, value] of headerList) headers.append(name, value);
  const attempt = new AbortController();
  const signal = req.signal ? AbortSignal.any([req.signal, attempt.signal]) : attempt.signal;
  const timer =
    req.responseHeadersMs > 0
      ? setTimeout(
          () => attempt.abort(new Error(`no response headers within ${req.responseHeadersMs / 1000} s`)),
          req.responseHeadersMs,
        )
      : null;
  try {
    if (req.route) return await sendOverSocket({ url, method, headers: headerList, body: req.body, signal }, req.route);
    const proxyUrl = selectProxy(new URL(url), req.proxy);
    const res = await fetch(url, {
      method,
      headers,
      signal,
      redirect: "manual",
      decompress: false,
      proxy: proxyUrl ? { url: proxyUrl, respectNoProxy: false } : false,
      ...(req.ca ? { tls: { ca: [...req.ca] } } : {}),
      ...(req.body !== undefined || method === "PUT" ? { body: req.body ?? "" } : {}),
    });
    return res;
  } catch (e) {
    if (attempt.signal.aborted && !req.signal?.aborted) throw attempt.signal.reason;
    throw e;
  } finally {
    if (timer) clearTimeout(timer);
  }
}
