import { afterAll, describe, expect, test } from "bun:test";
import { createFetcher } from "./fetcher.ts";
import { formatHttpRequest, parseHttpResponse, sendOverSocket } from "./http_socket.ts";

const enc = (s: string) => new TextEncoder().encode(s);

describe("parseHttpResponse()", () => {
  test("parseHttpResponse() reads a Content-Length body", async () => {
    const r = parseHttpResponse(enc("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhelloEXTRA"));
    expect([r.status, r.headers.get("x-a"), await r.text()]).toEqual([200, "b", "hello"]);
  });

  test("parseHttpResponse() joins a chunked body", async () => {
    const r = parseHttpResponse(enc("HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
    expect([r.status, await r.text()]).toEqual([404, "abcde"]);
  });

  test("parseHttpResponse() reads to the end without a length, and refuses what is not HTTP", async () => {
    expect(await parseHttpResponse(enc("HTTP/1.0 200 OK\r\n\r\nall of it")).text()).toBe("all of it");
    expect(() => parseHttpResponse(enc("SSH-2.0-OpenSSH\r\n\r\n"))).toThrow(/bad status line/);
    expect(() => parseHttpResponse(enc("HTTP/1.1 200 OK\r\n"))).toThrow(/no end of headers/);
  });

  test("formatHttpRequest() sends Host, Connection: close and the body length", () => {
    const t = formatHttpRequest({ url: "http://[fe80::1]:8080/a?b=1", method: "POST", headers: [["X-Y", "z"]], body: "hé" }, "[fe80::1]:8080");
    expect(t).toBe("POST /a?b=1 HTTP/1.1\r\nHost: [fe80::1]:8080\r\nConnection: close\r\nX-Y: z\r\nContent-Length: 3\r\n\r\nhé");
  });
});

describe("sendOverSocket()", () => {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req, s) => new Response(`${req.method} ${new URL(req.url).pathname} ${s.requestIP(req)?.port}`) });
  afterAll(() => server.stop(true));

  test("sendOverSocket() connects from the chosen source port", async () => {
    const r = await sendOverSocket({ url: `http://127.0.0.1:${server.port}/x`, method: "GET", headers: [] }, { localPort: () => 777 });
    expect(await r.text()).toBe("GET /x 777");
  });

  test("the fetcher's request() retries through the socket route and keeps its status rules", async () => {
    let n = 0;
    const flaky = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(++n < 3 ? "" : "ok", { status: n < 2 ? 503 : n < 3 ? 429 : 200 }) });
    try {
      const f = createFetcher({ retry: { initialMs: 5, maxMs: 10 } });
      const res = await f.request({ url: `http://127.0.0.1:${flaky.port}/`, route: { localPort: () => 700 + n }, retryStatuses: [429] });
      const parts: Uint8Array[] = [];
      for await (const c of res.body) parts.push(c);
      expect([n, Buffer.concat(parts).toString()]).toEqual([3, "ok"]);
    } finally {
      flaky.stop(true);
    }
  });
});
