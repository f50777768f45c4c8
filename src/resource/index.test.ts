import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { Resource } from "../config/types.ts";
import {
  ACCEPT,
  createFetcher,
  HashMismatchError,
  HttpStatusError,
  NeedNetError,
  fetcherForConfig,
  USER_AGENT,
  type ByteSink,
} from "./index.ts";

const FAST = { retry: { initialMs: 5, maxMs: 20 } };
const enc = new TextEncoder();
const dec = new TextDecoder();
const sha = (alg: "sha256" | "sha512", data: string | Uint8Array) => `${alg}-${new Bun.CryptoHasher(alg).update(data).digest("hex")}`;

const fixtures = join(import.meta.dir, "../../../shared/conformance/ignition/fixtures/tls");
const corpusTls = process.env.NEXUS_CONFORMANCE_DIR ? join(process.env.NEXUS_CONFORMANCE_DIR, "fixtures/tls") : fixtures;
const cert1 = readFileSync(join(corpusTls, "public-key.pem"), "utf8");
const key1 = readFileSync(join(corpusTls, "private-key.pem"), "utf8");
const cert2 = readFileSync(join(corpusTls, "public-key-2.pem"), "utf8");

/** A loopback HTTP server whose behaviour per path is scripted; counts hits per path. */
function startScripted(routes: Record<string, (req: Request, hit: number) => Response | Promise<Response>>) {
  const hits = new Map<string, number>();
  const seen: Request[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      const n = (hits.get(path) ?? 0) + 1;
      hits.set(path, n);
      seen.push(req);
      const r = routes[path];
      return r ? r(req, n) : new Response("nope", { status: 404 });
    },
  });
  return { url: (p: string) => `http://127.0.0.1:${server.port}${p}`, hits: (p: string) => hits.get(p) ?? 0, seen, server };
}

/** A raw TCP server: each connection gets `respond(n)` bytes and then is closed (n counts from 1). */
function startRaw(respond: (n: number) => string | null) {
  let n = 0;
  const listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket) {
        const out = respond(++n);
        if (out === null) {
          socket.terminate();
          return;
        }
        socket.write(out);
        socket.end();
      },
    },
  });
  return { url: (p: string) => `http://127.0.0.1:${listener.port}${p}`, count: () => n, listener };
}

function memorySink(): ByteSink & { text(): string; chunks: number } {
  const parts: Uint8Array[] = [];
  return {
    chunks: 0,
    write(c) {
      parts.push(c.slice());
      this.chunks++;
    },
    text: () => dec.decode(Buffer.concat(parts)),
  };
}

describe("createFetcher() with data URLs", () => {
  const f = createFetcher(FAST);
  const gz = gzipSync("zipped text").toString("base64");
  const cases: [string, Resource, string][] = [
    ["percent-encoded data", { source: "data:,a%20b" }, "a b"],
    ["base64 data", { source: "data:;base64,aGVsbG8=" }, "hello"],
    ["gzip data", { source: `data:;base64,${gz}`, compression: "gzip" }, "zipped text"],
    [
      "gzip data with a sha512 of the decompressed bytes",
      { source: `data:;base64,${gz}`, compression: "gzip", verification: { hash: sha("sha512", "zipped text") } },
      "zipped text",
    ],
    ["data with a sha256", { source: "data:,abc", verification: { hash: sha("sha256", "abc") } }, "abc"],
    [
      "every member of multi-member gzip data",
      { source: `data:;base64,${Buffer.concat([gzipSync("one "), gzipSync("two")]).toString("base64")}`, compression: "gzip" },
      "one two",
    ],
    [
      "gzip data inflating past the in-memory limit, streamed",
      { source: `data:;base64,${gzipSync("z".repeat(17 * 1024 * 1024)).toString("base64")}`, compression: "gzip", verification: { hash: sha("sha256", "z".repeat(17 * 1024 * 1024)) } },
      "z".repeat(17 * 1024 * 1024),
    ],
    ["an empty source", { source: "" }, ""],
    ["a null source", { source: null }, ""],
  ];
  for (const [what, res, want] of cases) {
    test(`\`fetchBytes()\` returns ${what}`, async () => {
      expect(dec.decode(await f.fetchBytes(res))).toBe(want);
    });
  }

  test("`fetchBytes()` throws HashMismatchError with both digests when the hash differs", async () => {
    const wrong = sha("sha256", "other");
    const e = await f.fetchBytes({ source: "data:,abc", verification: { hash: wrong } }).catch((x) => x);
    expect(e).toBeInstanceOf(HashMismatchError);
    expect((e as HashMismatchError).expected).toBe(wrong);
    expect((e as HashMismatchError).actual).toBe(sha("sha256", "abc"));
    expect((e as Error).message).not.toContain("abc%");
  });

  const failures: [string, Resource][] = [
    ["a malformed data URL", { source: "data:,%zz" }],
    ["an unknown hash algorithm", { source: "data:,a", verification: { hash: "md5-0cc175b9c0f1b6a831c399e269772661" } }],
    ["a malformed digest", { source: "data:,a", verification: { hash: "sha512-xyz" } }],
    ["an unknown compression", { source: "data:,a", compression: "xz" }],
    ["data that is not gzip when gzip is declared", { source: "data:,plain", compression: "gzip" }],
    ["gzip data followed by garbage", { source: `data:;base64,${Buffer.concat([gzipSync("x"), Buffer.from("junk")]).toString("base64")}`, compression: "gzip" }],
    ["an unknown scheme", { source: "ftp://example.com/x" }],
  ];
  for (const [what, res] of failures) {
    test(`\`fetchBytes()\` throws on ${what}`, async () => {
      await expect(f.fetchBytes(res)).rejects.toThrow();
    });
  }

  test("`fetchBytes()` still reads data URLs when the fetcher is offline", async () => {
    const off = createFetcher({ offline: true });
    expect(dec.decode(await off.fetchBytes({ source: "data:,x" }))).toBe("x");
    await expect(off.fetchBytes({ source: "http://127.0.0.1:9/" })).rejects.toBeInstanceOf(NeedNetError);
    await expect(off.fetchBytes({ source: "tftp://127.0.0.1/x" })).rejects.toBeInstanceOf(NeedNetError);
  });
});

describe("createFetcher() with HTTP", () => {
  const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) & 0xff);
  const bigGz = gzipSync(big);
  const s = startScripted({
    "/ok": () => new Response("hello"),
    "/empty": () => new Response(null, { status: 204 }),
    "/404": () => new Response("no", { status: 404 }),
    "/403": () => new Response("no", { status: 403 }),
    "/flaky": (_r, n) => (n <= 2 ? new Response("busy", { status: 503 }) : new Response("finally")),
    "/always500": () => new Response("broken", { status: 500 }),
    "/headers": (req) => new Response(JSON.stringify(Object.fromEntries(req.headers))),
    "/redirect": () => new Response(null, { status: 302, headers: { location: "/headers" } }),
    "/big": () => new Response(big),
    "/big.gz": () => new Response(bigGz),
    "/slow-once": async (_r, n) => {
      if (n === 1) await Bun.sleep(1600);
      return new Response("patient");
    },
    "/slow": async () => {
      await Bun.sleep(3000);
      return new Response("too late");
    },
  });
  afterAll(() => s.server.stop(true));
  const f = createFetcher(FAST);

  test("`fetchBytes()` returns the body of a 200 answer", async () => {
    expect(dec.decode(await f.fetchBytes({ source: s.url("/ok") }))).toBe("hello");
  });

  test("`fetchBytes()` returns no bytes for a 204 answer", async () => {
    expect((await f.fetchBytes({ source: s.url("/empty") })).length).toBe(0);
  });

  for (const status of [404, 403]) {
    test(`\`fetchBytes()\` throws HttpStatusError at once when the server answers ${status}`, async () => {
      const before = s.hits(`/${status}`);
      const e = await f.fetchBytes({ source: s.url(`/${status}`) }).catch((x) => x);
      expect(e).toBeInstanceOf(HttpStatusError);
      expect((e as HttpStatusError).status).toBe(status);
      expect(s.hits(`/${status}`) - before).toBe(1);
    });
  }

  test("`fetchBytes()` retries 5xx answers until one succeeds", async () => {
    expect(dec.decode(await f.fetchBytes({ source: s.url("/flaky") }))).toBe("finally");
    expect(s.hits("/flaky")).toBe(3);
  });

  test("`fetchBytes()` gives up on 5xx when the attempt limit is reached", async () => {
    const limited = createFetcher({ retry: { initialMs: 1, maxMs: 2, maxAttempts: 4 } });
    const before = s.hits("/always500");
    await expect(limited.fetchBytes({ source: s.url("/always500") })).rejects.toThrow(/HTTP 500 after 4 attempts/);
    await Bun.sleep(100);
    expect(s.hits("/always500") - before).toBe(4);
  });

  test("`fetchBytes()` stops retrying 5xx when httpTotal runs out", async () => {
    const t0 = performance.now();
    const e = await f.fetchBytes({ source: s.url("/always500") }, { timeouts: { httpTotal: 1 } }).catch((x) => x);
    expect((e as Error).message).toContain("timed out after 1 s");
    expect(performance.now() - t0).toBeLessThan(2500);
  });

  test("`fetchBytes()` sends Ignition's Accept, Accept-Encoding and User-Agent by default", async () => {
    const h = JSON.parse(dec.decode(await f.fetchBytes({ source: s.url("/headers") })));
    expect(h.accept).toBe(ACCEPT);
    expect(h["accept-encoding"]).toBe("identity");
    expect(h["user-agent"]).toBe(USER_AGENT);
    expect(USER_AGENT.startsWith("Ignition/")).toBe(true);
  });

  test("`fetchBytes()` lets httpHeaders replace the defaults and add new headers", async () => {
    const h = JSON.parse(
      dec.decode(
        await f.fetchBytes({
          source: s.url("/headers"),
          httpHeaders: [
            { name: "Accept", value: "application/json" },
            { name: "User-Agent", value: "MyUA" },
            { name: "X-Auth", value: "secret" },
          ],
        }),
      ),
    );
    expect(h.accept).toBe("application/json");
    expect(h["user-agent"]).toBe("MyUA");
    expect(h["x-auth"]).toBe("secret");
  });

  test("`fetchBytes()` drops config headers when following a redirect", async () => {
    const h = JSON.parse(
      dec.decode(await f.fetchBytes({ source: s.url("/redirect"), httpHeaders: [{ name: "X-Auth", value: "secret" }] })),
    );
    expect(h["x-auth"]).toBeUndefined();
    expect(h.accept).toBe(ACCEPT);
  });

  test("`fetchInto()` streams a large body in many chunks and verifies its sha512", async () => {
    const sink = memorySink();
    let bytes = 0;
    await f.fetchInto({ source: s.url("/big"), verification: { hash: sha("sha512", big) } }, {
      write(c) {
        bytes += c.length;
        sink.chunks++;
      },
    });
    expect(bytes).toBe(big.length);
    expect(sink.chunks).toBeGreaterThan(1);
  });

  test("`fetchInto()` gunzips and verifies in the same pass", async () => {
    let bytes = 0;
    await f.fetchInto(
      { source: s.url("/big.gz"), compression: "gzip", verification: { hash: sha("sha256", big) } },
      { write: (c) => void (bytes += c.length) },
    );
    expect(bytes).toBe(big.length);
  });

  test("`fetchBytes()` throws HashMismatchError without retrying when the hash differs", async () => {
    const before = s.hits("/ok");
    const e = await f.fetchBytes({ source: s.url("/ok"), verification: { hash: sha("sha256", "other") } }).catch((x) => x);
    expect(e).toBeInstanceOf(HashMismatchError);
    expect(s.hits("/ok") - before).toBe(1);
  });

  test("`fetchBytes()` retries an attempt whose headers do not arrive within httpResponseHeaders", async () => {
    const t0 = performance.now();
    const body = await f.fetchBytes({ source: s.url("/slow-once") }, { timeouts: { httpResponseHeaders: 1 } });
    expect(dec.decode(body)).toBe("patient");
    expect(s.hits("/slow-once")).toBe(2);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(1000);
  });

  test("`fetchBytes()` fails when httpTotal ends before slow headers arrive", async () => {
    const t0 = performance.now();
    const e = await f
      .fetchBytes({ source: s.url("/slow") }, { timeouts: { httpResponseHeaders: 10, httpTotal: 1 } })
      .catch((x) => x);
    expect((e as Error).message).toMatch(/timed out after 1 s/);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe("createFetcher() against broken servers", () => {
  test("`fetchBytes()` retries a connection that is reset before any answer", async () => {
    const raw = startRaw((n) => (n === 1 ? null : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"));
    try {
      expect(dec.decode(await createFetcher(FAST).fetchBytes({ source: raw.url("/") }))).toBe("ok");
      expect(raw.count()).toBe(2);
    } finally {
      raw.listener.stop(true);
    }
  });

  test("`fetchBytes()` starts again after a truncated body and keeps none of the first attempt", async () => {
    const raw = startRaw((n) =>
      n === 1
        ? "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nhalf"
        : "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\ncomplete!!",
    );
    try {
      expect(dec.decode(await createFetcher(FAST).fetchBytes({ source: raw.url("/") }))).toBe("complete!!");
      expect(raw.count()).toBe(2);
    } finally {
      raw.listener.stop(true);
    }
  });

  test("`fetchInto()` fails on a truncated body when the sink cannot start over", async () => {
    const raw = startRaw(() => "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nhalf");
    try {
      const e = await createFetcher(FAST).fetchInto({ source: raw.url("/") }, { write() {} }).catch((x) => x);
      expect(e).toBeInstanceOf(Error);
      expect(raw.count()).toBe(1);
    } finally {
      raw.listener.stop(true);
    }
  });

  test("`fetchBytes()` retries a server that refuses connections until httpTotal", async () => {
    const raw = startRaw(() => null);
    const port = raw.listener.port;
    raw.listener.stop(true);
    const e = await createFetcher(FAST)
      .fetchBytes({ source: `http://127.0.0.1:${port}/` }, { timeouts: { httpTotal: 1 } })
      .catch((x) => x);
    expect((e as Error).message).toContain("timed out");
  });
});

describe("createFetcher() with TLS", () => {
  let dir: string;
  const tls = Bun.serve({ hostname: "127.0.0.1", port: 0, tls: { cert: cert1, key: key1 }, fetch: () => new Response("secure") });
  const url = `https://127.0.0.1:${tls.port}/`;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "nexus-ca-"));
  });
  afterAll(() => {
    tls.stop(true);
    rmSync(dir, { recursive: true, force: true });
  });

  test("`fetchBytes()` fails at once, without retrying, when the server's certificate is not trusted", async () => {
    const t0 = performance.now();
    await expect(createFetcher(FAST).fetchBytes({ source: url })).rejects.toThrow(/certificate/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  test("`fetchBytes()` trusts a server signed by a configured certificate authority", async () => {
    const body = await createFetcher(FAST).fetchBytes({ source: url }, { certificateAuthorities: [cert1] });
    expect(dec.decode(body)).toBe("secure");
  });

  test("`fetchBytes()` keeps the system roots when custom certificate authorities are added", async () => {
    const bundle = join(dir, "system.pem");
    writeFileSync(bundle, cert1);
    const f = createFetcher({ ...FAST, systemCaFile: bundle });
    expect(dec.decode(await f.fetchBytes({ source: url }, { certificateAuthorities: [cert2] }))).toBe("secure");
  });

  test("`fetcherForConfig()` fetches the config's CAs once and the fetcher then trusts them", async () => {
    const f = createFetcher(FAST);
    const caUrl = `data:;base64,${Buffer.from(cert1).toString("base64")}`;
    const cfg = { ignition: { version: "3.4.0", security: { tls: { certificateAuthorities: [{ source: caUrl }] } } } };
    const derived = await fetcherForConfig(f, cfg);
    expect(derived).not.toBe(f);
    expect(derived.options.defaults?.certificateAuthorities).toHaveLength(1);
    expect(dec.decode(await derived.fetchBytes({ source: url }))).toBe("secure");
    expect(await fetcherForConfig(f, structuredClone(cfg))).toBe(derived);
  });

  test("`fetcherForConfig()` returns the base fetcher for a config without fetch settings", async () => {
    const f = createFetcher(FAST);
    expect(await fetcherForConfig(f, { ignition: { version: "3.4.0" } })).toBe(f);
  });

  test("`fetcherForConfig()` rejects a CA resource holding no certificate", async () => {
    const cfg = { ignition: { version: "3.4.0", security: { tls: { certificateAuthorities: [{ source: "data:,nope" }] } } } };
    await expect(fetcherForConfig(createFetcher(FAST), cfg)).rejects.toThrow(/no PEM certificate/);
  });
});

describe("createFetcher() through a proxy", () => {
  const proxied: string[] = [];
  const proxy = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      proxied.push(req.url);
      return new Response("via proxy");
    },
  });
  const origin = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("direct") });
  afterAll(() => {
    proxy.stop(true);
    origin.stop(true);
  });
  const p = { httpProxy: `http://127.0.0.1:${proxy.port}`, httpsProxy: `http://127.0.0.1:${proxy.port}` };

  test("`fetchBytes()` sends http requests for other hosts through httpProxy", async () => {
    const body = await createFetcher(FAST).fetchBytes({ source: "http://www.fake.tld/config" }, { proxy: p });
    expect(dec.decode(body)).toBe("via proxy");
    expect(proxied.at(-1)).toBe("http://www.fake.tld/config");
  });

  test("`fetchBytes()` connects directly to hosts listed in noProxy and to loopback", async () => {
    const body = await createFetcher(FAST).fetchBytes({ source: `http://127.0.0.1:${origin.port}/` }, { proxy: { ...p, noProxy: ["127.0.0.1"] } });
    expect(dec.decode(body)).toBe("direct");
  });
});
