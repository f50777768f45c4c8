// HTTP/1.1 over a socket nexus-init opens itself, for the two requests fetch() cannot make: one
// from a chosen source port (Scaleway answers only ports below 1024) and one to an IPv6
// link-local address, which needs the interface as its zone (OpenStack's fallback). Plain HTTP
// only; the caller's retry loop, timeouts and status handling apply as for any request.
// parseHttpResponse() also reads responses that arrive by other channels (vsock via socat).
import { createConnection, type Socket } from "node:net";

/** How the socket is opened. */
export interface SocketRoute {
  /** Picks a local port for each connection (tried again with another one while it is in use). */
  localPort?: () => number;
  /** The interface an IPv6 link-local host is reached through. */
  zone?: string;
}

/** What sendOverSocket needs of the request. */
export interface SocketRequest {
  url: string;
  method: string;
  headers: readonly (readonly [string, string])[];
  body?: string;
  signal?: AbortSignal;
}

const PORT_TRIES = 32;

/** The request's bytes: HTTP/1.1 with Connection: close, so the body ends with the connection. */
export function formatHttpRequest(req: SocketRequest, hostHeader: string): string {
  const u = new URL(req.url);
  const lines = [`${req.method} ${u.pathname}${u.search} HTTP/1.1`, `Host: ${hostHeader}`, "Connection: close"];
  for (const [n, v] of req.headers) if (!/^(host|connection|content-length)$/i.test(n)) lines.push(`${n}: ${v}`);
  if (req.body !== undefined || req.method === "PUT" || req.method === "POST") lines.push(`Content-Length: ${Buffer.byteLength(req.body ?? "")}`);
  return lines.join("\r\n") + "\r\n\r\n" + (req.body ?? "");
}

/** Sends one request over a socket opened as `route` says and returns the whole response. */
export async function sendOverSocket(req: SocketRequest, route: SocketRoute): Promise<Response> {
  const u = new URL(req.url);
  if (u.protocol !== "http:") throw new Error(`Cannot send "${req.url}" over a raw socket: only http is supported`);
  const bare = u.hostname.replace(/^\[|\]$/g, "");
  const host = route.zone ? `${bare}%${route.zone}` : bare;
  const port = Number(u.port || 80);
  for (let i = 1; ; i++) {
    const localPort = route.localPort?.();
    try {
      const raw = await exchange(host, port, localPort, formatHttpRequest(req, u.host), req.signal);
      return parseHttpResponse(raw);
    } catch (e) {
      if (localPort !== undefined && (e as NodeJS.ErrnoException).code === "EADDRINUSE" && i < PORT_TRIES) continue;
      throw e;
    }
  }
}

function exchange(host: string, port: number, localPort: number | undefined, request: string, signal?: AbortSignal): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const parts: Buffer[] = [];
    const sock: Socket = createConnection({ host, port, ...(localPort !== undefined ? { localPort } : {}) });
    const onAbort = () => sock.destroy(signal!.reason instanceof Error ? signal!.reason : new Error("aborted"));
    signal?.addEventListener("abort", onAbort, { once: true });
    sock.on("connect", () => sock.write(request));
    sock.on("data", (d: Buffer) => parts.push(d));
    sock.on("error", (e) => {
      signal?.removeEventListener("abort", onAbort);
      reject(e);
    });
    sock.on("close", (hadError) => {
      signal?.removeEventListener("abort", onAbort);
      if (!hadError) resolve(new Uint8Array(Buffer.concat(parts)));
    });
  });
}

const NULL_BODY = new Set([101, 204, 205, 304]);

/** Parses a complete HTTP/1.x response (Content-Length, chunked, or read to the end). */
export function parseHttpResponse(raw: Uint8Array): Response {
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const end = buf.indexOf("\r\n\r\n");
  if (end < 0) throw new Error("Cannot parse HTTP response: no end of headers");
  const [statusLine, ...headerLines] = buf.subarray(0, end).toString("latin1").split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? "");
  if (!m) throw new Error(`Cannot parse HTTP response: bad status line "${(statusLine ?? "").slice(0, 40)}"`);
  const status = Number(m[1]);
  const headers = new Headers();
  for (const line of headerLines) {
    const i = line.indexOf(":");
    if (i > 0) headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  let body: Uint8Array = buf.subarray(end + 4);
  if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) body = dechunk(body);
  else if (headers.has("content-length")) body = body.subarray(0, Number(headers.get("content-length")));
  headers.delete("transfer-encoding");
  return new Response(NULL_BODY.has(status) || status < 200 ? null : body, { status: status < 200 ? 502 : status, headers });
}

function dechunk(data: Uint8Array): Uint8Array {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = buf.indexOf("\r\n", pos);
    if (eol < 0) throw new Error("Cannot parse HTTP response: truncated chunk header");
    const size = parseInt(buf.subarray(pos, eol).toString("latin1"), 16);
    if (!Number.isFinite(size)) throw new Error("Cannot parse HTTP response: bad chunk size");
    if (size === 0) break;
    if (eol + 2 + size > buf.length) throw new Error("Cannot parse HTTP response: truncated chunk");
    out.push(buf.subarray(eol + 2, eol + 2 + size));
    pos = eol + 2 + size + 2;
  }
  return new Uint8Array(Buffer.concat(out));
}
