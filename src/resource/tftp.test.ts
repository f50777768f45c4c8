import { afterAll, describe, expect, test } from "bun:test";
import { createSocket } from "node:dgram";
import { startTftpServer } from "../../test/conformance/mock_servers.ts";
import { createFetcher, TftpError, isNotFound } from "./index.ts";
import { encodeReadRequest, tftpTarget } from "./tftp.ts";

const files: Record<string, Uint8Array> = {
  "/small": new TextEncoder().encode("asdf\nfdsa"),
  "/exact": new Uint8Array(1024).fill(65),
  "/large": new Uint8Array(200_000).map((_, i) => i & 0xff),
  "/empty": new Uint8Array(0),
};
const server = await startTftpServer(0, (name) => files[name] ?? null, { retransmitMs: 200 });
afterAll(() => server.close());
const f = createFetcher({ retry: { initialMs: 5, maxMs: 20 }, tftp: { retransmitMs: 200 } });
const url = (p: string) => `tftp://127.0.0.1:${server.port}${p}`;

describe("TFTP fetches", () => {
  for (const name of Object.keys(files)) {
    test(`\`fetchBytes()\` reads ${name} (${files[name]!.length} bytes) over TFTP`, async () => {
      expect(Buffer.from(await f.fetchBytes({ source: url(name) })).equals(Buffer.from(files[name]!))).toBe(true);
    });
  }

  test("`fetchBytes()` verifies a TFTP resource's hash", async () => {
    const hash = `sha512-${new Bun.CryptoHasher("sha512").update(files["/large"]!).digest("hex")}`;
    expect((await f.fetchBytes({ source: url("/large"), verification: { hash } })).length).toBe(200_000);
  });

  test("`fetchBytes()` throws a not-found TftpError when the server has no such file", async () => {
    const e = await f.fetchBytes({ source: url("/missing") }).catch((x) => x);
    expect(e).toBeInstanceOf(TftpError);
    expect((e as TftpError).code).toBe(1);
    expect(isNotFound(e)).toBe(true);
  });

  test("`fetchBytes()` sends the read request again when the server stays silent", async () => {
    const sock = createSocket("udp4");
    let requests = 0;
    sock.on("message", (msg, peer) => {
      if (msg.readUInt16BE(0) !== 1) return;
      if (++requests === 1) return; // the first request is "lost"
      const reply = createSocket("udp4");
      reply.bind(0, "127.0.0.1", () => {
        reply.send(Buffer.concat([Buffer.from([0, 3, 0, 1]), Buffer.from("late")]), peer.port, peer.address);
        reply.on("message", () => reply.close());
      });
    });
    await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
    try {
      const body = await f.fetchBytes({ source: `tftp://127.0.0.1:${sock.address().port}/x` });
      expect(new TextDecoder().decode(body)).toBe("late");
      expect(requests).toBe(2);
    } finally {
      sock.close();
    }
  });
});

describe("tftpTarget()", () => {
  test("`tftpTarget()` defaults the port to 69 and keeps the leading slash of the path", () => {
    expect(tftpTarget("tftp://10.0.0.1/boot/config.ign")).toEqual({ host: "10.0.0.1", port: 69, filename: "/boot/config.ign" });
  });
  test("`tftpTarget()` rejects a URL without a file name", () => {
    expect(() => tftpTarget("tftp://10.0.0.1/")).toThrow();
  });
  test("`encodeReadRequest()` builds an octet-mode RRQ", () => {
    expect(Buffer.from(encodeReadRequest("/a")).toString("latin1")).toBe("\0\u0001/a\0octet\0");
  });
});

describe("TFTP failures", () => {
  test("`fetchBytes()` gives up, without starting over, when the TFTP server never answers", async () => {
    const sock = createSocket("udp4");
    let requests = 0;
    sock.on("message", () => void requests++);
    await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
    try {
      const t0 = performance.now();
      await expect(f.fetchBytes({ source: `tftp://127.0.0.1:${sock.address().port}/x` })).rejects.toThrow(/no answer from the TFTP server/);
      expect(requests).toBe(6);
      expect(performance.now() - t0).toBeLessThan(3000);
    } finally {
      sock.close();
    }
  });
});
