// The corpus's mock network, on 127.0.0.1 only: the fixed HTTP (port 8080) and TFTP (port 69)
// servers of fixtures/http/servers.json, and the per-case servers a case names by placeholder
// ($CUSTOM_CA_SERVER_URL, $PROXY_SERVER_URL, …). When a fixed port cannot be bound the server
// takes a free port and `rewrite` maps the corpus's literal URLs to it, as the corpus allows.
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { MockResource } from "./corpus.ts";

/** One endpoint as the corpus describes it (servers.json and mockResources). */
export interface MockEndpoint {
  protocol: "http" | "https" | "tftp";
  url: string | null;
  urlPlaceholder: string | null;
  matchAnyPath: boolean;
  tls: { certificatePem: string; privateKeyPem: string; serverName: string } | null;
  actsAsProxy: boolean;
  delaySeconds: number;
  requestChecks: {
    requiredHeaders: Record<string, string>;
    requiredHeaderPrefixes: Record<string, string>;
    forbiddenHeaders: string[];
    onFailure: { status: number };
  } | null;
  response: { status: number | string; body?: string; bodyBase64?: string; location?: string; error?: string };
  stateful: { kind: string; minSecondsSinceLastFailure: number; failureStatus: number } | null;
}

/** Running servers; stop() releases every socket. */
export interface MockNetwork {
  /** Maps corpus text (configs, bodies, Location headers) to the addresses actually served. */
  rewrite(text: string): string;
  stop(): Promise<void>;
}

/** Literal address of the fixed HTTP server as the corpus writes it. */
export const FIXED_HTTP_BASE = "http://127.0.0.1:8080";
/** Literal address of the fixed TFTP server as the corpus writes it. */
export const FIXED_TFTP_BASE = "tftp://127.0.0.1:69";

/** The fixed servers plus where they actually listen. */
export interface FixedServers extends MockNetwork {
  httpBase: string;
  tftpBase: string;
}

interface ServersJson {
  http: { endpoints: MockEndpoint[] };
  tftp: { examples: MockEndpoint[] };
}

/** Starts the fixed HTTP and TFTP servers of servers.json (ports 8080 and 69 when free). */
export async function startFixedServers(corpusDir: string, opts: { fixedPorts?: boolean } = {}): Promise<FixedServers> {
  const json = JSON.parse(readFileSync(join(corpusDir, "fixtures/http/servers.json"), "utf8")) as ServersJson;
  const byPath = new Map(json.http.endpoints.map((e) => [new URL(e.url!).pathname, e]));
  let rewrite = (t: string) => t;
  const state = new Map<string, number>();
  const http = serveOn(opts.fixedPorts === false ? 0 : 8080, (req) => {
    const ep = byPath.get(new URL(req.url).pathname);
    if (!ep) return new Response("404 page not found\n", { status: 404, headers: { "content-type": "text/plain; charset=utf-8" } });
    return answer(ep, req, rewrite, state);
  });
  const bodies = {
    contents: bodyOf(json.tftp.examples.find((e) => e.url?.endsWith("/contents"))!),
    config: bodyOf(json.tftp.examples.find((e) => e.url?.endsWith("/config"))!),
  };
  const tftp = await startTftpServer(opts.fixedPorts === false ? 0 : 69, (name) =>
    name.includes("contents") ? bodies.contents : name.includes("config") ? bodies.config : null,
  );
  const httpBase = `http://127.0.0.1:${http.port}`;
  const tftpBase = `tftp://127.0.0.1:${tftp.port}`;
  rewrite = (t) => t.replaceAll(FIXED_HTTP_BASE, httpBase).replaceAll(FIXED_TFTP_BASE, tftpBase);
  return {
    httpBase,
    tftpBase,
    rewrite,
    async stop() {
      await http.stop(true);
      tftp.close();
    },
  };
}

/** Starts the per-case servers named by placeholders; rewrite() substitutes their base URLs. */
export async function startCaseServers(resources: readonly MockResource[], fixed?: MockNetwork): Promise<MockNetwork> {
  const endpoints = (resources as unknown as MockEndpoint[]).filter((r) => r.urlPlaceholder && r.protocol !== "tftp");
  const urls = new Map<string, string>();
  const servers: ReturnType<typeof Bun.serve>[] = [];
  // Longest names first so no placeholder is a prefix of a longer one being replaced.
  const substitute = (t: string) => {
    let out = t;
    for (const [name, url] of [...urls].sort((a, b) => b[0].length - a[0].length)) out = out.replaceAll(name, url);
    return fixed ? fixed.rewrite(out) : out;
  };
  for (const ep of endpoints) {
    if (urls.has(ep.urlPlaceholder!)) continue;
    const state = new Map<string, number>();
    const server = serveOn(0, (req) => answer(ep, req, substitute, state), ep.tls ?? undefined);
    servers.push(server);
    urls.set(ep.urlPlaceholder!, `${ep.protocol}://127.0.0.1:${server.port}`);
  }
  return {
    rewrite: substitute,
    async stop() {
      await Promise.all(servers.map((s) => s.stop(true)));
    },
  };
}

function serveOn(
  port: number,
  handler: (req: Request) => Response | Promise<Response>,
  tls?: { certificatePem: string; privateKeyPem: string },
): ReturnType<typeof Bun.serve> {
  const make = (p: number) =>
    Bun.serve({
      hostname: "127.0.0.1",
      port: p,
      // Delay servers answer after up to 11 s; never let the idle timer cut them off.
      idleTimeout: 0,
      ...(tls ? { tls: { cert: tls.certificatePem, key: tls.privateKeyPem } } : {}),
      fetch: handler,
    });
  if (port === 0) return make(0);
  try {
    return make(port);
  } catch {
    return make(0);
  }
}

function bodyOf(ep: MockEndpoint): Uint8Array {
  if (ep.response.bodyBase64 !== undefined) return new Uint8Array(Buffer.from(ep.response.bodyBase64, "base64"));
  return new TextEncoder().encode(ep.response.body ?? "");
}

/** Answers one request the way the corpus describes the endpoint. */
async function answer(
  ep: MockEndpoint,
  req: Request,
  rewrite: (t: string) => string,
  state: Map<string, number>,
): Promise<Response> {
  if (ep.delaySeconds > 0) await Bun.sleep(ep.delaySeconds * 1000);
  if (ep.stateful?.kind === "throttled") {
    const u = new URL(req.url);
    const key = u.pathname + u.search;
    const last = state.get(key);
    const now = performance.now();
    if (last === undefined || now - last <= ep.stateful.minSecondsSinceLastFailure * 1000) {
      state.set(key, now);
      return new Response("", { status: ep.stateful.failureStatus });
    }
  }
  const body = ep.response.bodyBase64 !== undefined ? bodyOf(ep) : new TextEncoder().encode(rewrite(ep.response.body ?? ""));
  const problem = checkRequest(ep, req);
  if (problem) {
    const msg = new TextEncoder().encode(problem + "\n");
    return new Response(Buffer.concat([msg, body]), { status: ep.requestChecks!.onFailure.status });
  }
  const status = typeof ep.response.status === "number" ? ep.response.status : 200;
  const headers: Record<string, string> = {};
  if (ep.response.location) headers.location = rewrite(ep.response.location);
  return new Response(status === 204 || status === 304 ? null : body, { status, headers });
}

function checkRequest(ep: MockEndpoint, req: Request): string | null {
  const c = ep.requestChecks;
  if (!c) return null;
  for (const [name, want] of Object.entries(c.requiredHeaders)) {
    const got = req.headers.get(name);
    if (got !== want) return `header ${name} is ${JSON.stringify(got)}, want ${JSON.stringify(want)}`;
  }
  for (const [name, prefix] of Object.entries(c.requiredHeaderPrefixes)) {
    const got = req.headers.get(name);
    if (!got?.startsWith(prefix)) return `header ${name} is ${JSON.stringify(got)}, want prefix ${JSON.stringify(prefix)}`;
  }
  for (const name of c.forbiddenHeaders) {
    if (req.headers.has(name)) return `header ${name} must not be sent`;
  }
  return null;
}

/** A read-only RFC 1350 server: each request gets its own socket (transfer ID). */
export interface TftpServer {
  port: number;
  close(): void;
}

/** Starts a TFTP server answering read requests with lookup(filename) or a "no such file" error. */
export async function startTftpServer(
  port: number,
  lookup: (filename: string) => Uint8Array | null,
  opts: { retransmitMs?: number; blockSize?: number } = {},
): Promise<TftpServer> {
  const main = createSocket("udp4");
  const bind = (p: number) =>
    new Promise<void>((resolve, reject) => {
      main.once("error", reject);
      main.bind(p, "127.0.0.1", () => {
        main.off("error", reject);
        resolve();
      });
    });
  try {
    await bind(port);
  } catch (e) {
    if (port === 0) throw e;
    await bind(0);
  }
  const transfers = new Set<Socket>();
  main.on("message", (msg, rinfo) => {
    if (msg.length < 4 || msg.readUInt16BE(0) !== 1) return;
    const [filename = ""] = msg.subarray(2).toString("utf8").split("\0");
    const data = lookup(filename);
    const sock = createSocket("udp4");
    transfers.add(sock);
    sock.bind(0, "127.0.0.1", () => serveTransfer(sock, rinfo, filename, data, opts, () => transfers.delete(sock)));
  });
  return {
    port: main.address().port,
    close() {
      main.close();
      for (const s of transfers) s.close();
    },
  };
}

function serveTransfer(
  sock: Socket,
  peer: RemoteInfo,
  filename: string,
  data: Uint8Array | null,
  opts: { retransmitMs?: number; blockSize?: number },
  done: () => void,
): void {
  const finish = () => {
    sock.close();
    done();
  };
  if (!data) {
    const text = Buffer.from(`no such file ${JSON.stringify(filename)}\0`);
    const pkt = Buffer.concat([Buffer.from([0, 5, 0, 1]), text]);
    sock.send(pkt, peer.port, peer.address, finish);
    return;
  }
  const size = opts.blockSize ?? 512;
  let block = 1;
  let tries = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const packet = () => {
    const start = (block - 1) * size;
    const head = Buffer.alloc(4);
    head.writeUInt16BE(3, 0);
    head.writeUInt16BE(block & 0xffff, 2);
    return Buffer.concat([head, data.subarray(start, start + size)]);
  };
  const sendBlock = () => {
    if (timer) clearTimeout(timer);
    sock.send(packet(), peer.port, peer.address);
    timer = setTimeout(() => (++tries > 5 ? finish() : sendBlock()), opts.retransmitMs ?? 1000);
  };
  sock.on("message", (msg, from) => {
    if (from.port !== peer.port || msg.length < 4 || msg.readUInt16BE(0) !== 4) return;
    if (msg.readUInt16BE(2) !== (block & 0xffff)) return;
    tries = 0;
    const sent = (block - 1) * size;
    if (sent + size > data.length) {
      if (timer) clearTimeout(timer);
      finish();
      return;
    }
    block++;
    sendBlock();
  });
  sendBlock();
}
