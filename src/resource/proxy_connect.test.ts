import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFetcher } from "./index.ts";

// https through httpsProxy: a CONNECT tunnel to a TLS server whose certificate (made here with
// openssl) names www.fake.tld, so the client verifies the real host name end to end.
let dir: string;
let cert = "";
let tls: ReturnType<typeof Bun.serve>;
let proxy: Server;
const tunnels: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "nexus-connect-"));
  await Bun.$`openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=www.fake.tld -addext subjectAltName=DNS:www.fake.tld -keyout ${join(dir, "key.pem")} -out ${join(dir, "cert.pem")}`.quiet();
  cert = readFileSync(join(dir, "cert.pem"), "utf8");
  tls = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert, key: readFileSync(join(dir, "key.pem"), "utf8") },
    fetch: (req) => new Response(`tunnelled ${new URL(req.url).pathname}`),
  });
  proxy = createServer((client) => {
    client.once("data", (head) => {
      const m = /^CONNECT (\S+) HTTP\/1\.[01]\r\n/.exec(head.toString("latin1"));
      if (!m) {
        client.end("HTTP/1.1 405 Method Not Allowed\r\n\r\n");
        return;
      }
      tunnels.push(m[1]!);
      const upstream = connect(tls.port!, "127.0.0.1", () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        client.pipe(upstream).pipe(client);
      });
      upstream.on("error", () => client.destroy());
      client.on("error", () => upstream.destroy());
    });
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", () => r()));
});

afterAll(() => {
  tls?.stop(true);
  proxy?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("createFetcher() with httpsProxy", () => {
  test("`fetchBytes()` tunnels https requests through httpsProxy with CONNECT", async () => {
    const port = (proxy.address() as { port: number }).port;
    const body = await createFetcher().fetchBytes(
      { source: "https://www.fake.tld/config.ign" },
      { proxy: { httpsProxy: `127.0.0.1:${port}` }, certificateAuthorities: [cert] },
    );
    expect(new TextDecoder().decode(body)).toBe("tunnelled /config.ign");
    expect(tunnels).toEqual(["www.fake.tld:443"]);
  });
});
