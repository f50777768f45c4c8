// TFTP read client (RFC 1350) over UDP: octet mode, 512-byte blocks, lock-step ACKs, the last
// packet retransmitted on silence. Blocks are handed on as they arrive and each is
// acknowledged only after the consumer took it, so a slow sink slows the server down.
import type { RemoteInfo, Socket } from "node:dgram";
import { TftpError } from "./errors.ts";
import type { FetchContext, TftpTiming } from "./types.ts";

const OP_RRQ = 1;
const OP_DATA = 3;
const OP_ACK = 4;
const OP_ERROR = 5;
const BLOCK_SIZE = 512;

/** One second per wait and five retransmissions, like common TFTP clients. */
export const DEFAULT_TFTP_TIMING: TftpTiming = { retransmitMs: 1000, retries: 5 };

/** Builds a read request packet. */
export function encodeReadRequest(filename: string, mode = "octet"): Uint8Array {
  return new Uint8Array(Buffer.concat([u16(OP_RRQ), Buffer.from(filename + "\0" + mode + "\0", "utf8")]));
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n & 0xffff);
  return b;
}

/** The file name a tftp:// URL asks for (the decoded path, as Ignition sends it). */
export function tftpTarget(url: string): { host: string; port: number; filename: string } {
  const u = new URL(url);
  const host = u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname;
  if (!host) throw new Error(`Cannot fetch resource "${url}": no TFTP host`);
  const filename = decodeURIComponent(u.pathname);
  if (filename === "" || filename === "/") throw new Error(`Cannot fetch resource "${url}": no file name`);
  return { host, port: u.port ? Number(u.port) : 69, filename };
}

/** Opens a TFTP transfer; the bytes arrive as the returned stream is read. */
export async function openTftp(ctx: FetchContext): Promise<AsyncIterable<Uint8Array>> {
  const target = tftpTarget(ctx.url);
  return receive(ctx, target, ctx.tftp);
}

interface Packet {
  msg: Buffer;
  rinfo: RemoteInfo;
}

async function* receive(
  ctx: FetchContext,
  target: { host: string; port: number; filename: string },
  timing: TftpTiming,
): AsyncGenerator<Uint8Array> {
  // Loaded on first use, like node:net: only TFTP needs them.
  const { createSocket } = await import("node:dgram");
  const { isIP } = await import("node:net");
  const socket: Socket = createSocket(isIP(target.host) === 6 ? "udp6" : "udp4");
  const queue: Packet[] = [];
  let waiter: (() => void) | null = null;
  let socketError: Error | null = null;
  socket.on("message", (msg, rinfo) => {
    queue.push({ msg, rinfo });
    waiter?.();
  });
  socket.on("error", (e) => {
    socketError = e;
    waiter?.();
  });
  const onAbort = () => waiter?.();
  ctx.signal?.addEventListener("abort", onAbort);

  const send = (pkt: Uint8Array, port: number, host: string) =>
    new Promise<void>((resolve, reject) => socket.send(pkt, port, host, (e) => (e ? reject(e) : resolve())));

  const next = (ms: number): Promise<Packet | null> =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (ctx.signal?.aborted) return reject(ctx.signal.reason);
        if (socketError) return reject(socketError);
        const p = queue.shift();
        if (p) return resolve(p);
        return false;
      };
      if (check() !== false) return;
      const timer = setTimeout(() => {
        waiter = null;
        resolve(null);
      }, ms);
      waiter = () => {
        if (check() !== false) {
          clearTimeout(timer);
          waiter = null;
        }
      };
    });

  try {
    ctx.log?.info(`TFTP read ${ctx.shown}`);
    let last = encodeReadRequest(target.filename);
    let lastPort = target.port;
    let serverHost: string | null = null;
    let serverPort: number | null = null;
    let expected = 1;
    await send(last, lastPort, target.host);
    let silent = 0;
    for (;;) {
      const p = await next(timing.retransmitMs);
      if (!p) {
        if (++silent > timing.retries) throw new Error(`no answer from the TFTP server after ${timing.retries} retransmissions`);
        await send(last, lastPort, serverHost ?? target.host);
        continue;
      }
      if (serverPort === null) {
        serverHost = p.rinfo.address;
        serverPort = p.rinfo.port;
      } else if (p.rinfo.port !== serverPort || p.rinfo.address !== serverHost) {
        // A stray packet from another transfer ID: tell it so and keep waiting (RFC 1350 §4).
        await send(errorPacket(5, "Unknown transfer ID"), p.rinfo.port, p.rinfo.address).catch(() => {});
        continue;
      }
      if (p.msg.length < 4) throw new Error("malformed TFTP packet");
      const op = p.msg.readUInt16BE(0);
      if (op === OP_ERROR) {
        const code = p.msg.readUInt16BE(2);
        const text = p.msg.subarray(4).toString("utf8").replace(/\0.*$/s, "");
        throw new TftpError(ctx.shown, code, text || "no detail");
      }
      if (op !== OP_DATA) throw new Error(`unexpected TFTP opcode ${op}`);
      const block = p.msg.readUInt16BE(2);
      if (block !== (expected & 0xffff)) {
        // A duplicate of the previous block: our ACK got lost, send it again.
        if (block === ((expected - 1) & 0xffff)) await send(u16ack(block), serverPort, serverHost!);
        continue;
      }
      silent = 0;
      const data = p.msg.subarray(4);
      if (data.length > 0) yield new Uint8Array(data);
      last = u16ack(block);
      lastPort = serverPort;
      await send(last, serverPort, serverHost!);
      expected++;
      if (data.length < BLOCK_SIZE) return;
    }
  } finally {
    ctx.signal?.removeEventListener("abort", onAbort);
    socket.close();
  }
}

function u16ack(block: number): Uint8Array {
  return new Uint8Array(Buffer.concat([u16(OP_ACK), u16(block)]));
}

function errorPacket(code: number, msg: string): Uint8Array {
  return new Uint8Array(Buffer.concat([u16(OP_ERROR), u16(code), Buffer.from(msg + "\0")]));
}
