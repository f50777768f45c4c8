// Hyper-V's key-value pair exchange (KVP) as the hv_utils driver offers it on /dev/vmbus/hv_kvp:
// the reader registers, the driver answers with the register message, then hands over each
// key-value pair the host set (one fixed-size message per pair, which must be acknowledged),
// and goes quiet. This is what Hyper-V's KVP daemon does at start-up, done once by nexus-init.
import { closeSync, openSync, readSync, writeSync, constants } from "node:fs";

/** sizeof(struct hv_kvp_msg) of <linux/hyperv.h>. */
export const KVP_MSG_SIZE = 7432;
export const KVP_MAX_KEY = 512;
export const KVP_MAX_VALUE = 2048;
export const KVP_OP_SET = 1;
export const KVP_OP_REGISTER1 = 100;
const HV_S_OK = 0;
const HV_E_FAIL = 0x80004005;
/** Offsets in a message: header (op, pool), then value_type, key_size, value_size, key, value. */
const OFF = { op: 0, pool: 1, keySize: 8, valueSize: 12, key: 16, value: 16 + KVP_MAX_KEY } as const;
/** Silence after which the host has nothing more to send (the daemon's poll timeout). */
export const KVP_QUIET_MS = 1000;

/** The driver's side of the exchange: fixed-size writes and non-blocking reads. */
export interface KvpChannel {
  write(msg: Uint8Array): number;
  /** Bytes read, or "again" when nothing is waiting. */
  read(into: Uint8Array): number | "again";
  close(): void;
}

/** One key-value pair and its pool. */
export interface KvpPair {
  pool: number;
  key: string;
  value: string;
}

/** Opens the kernel device non-blocking. */
export function openKvpDevice(path: string): KvpChannel {
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  return {
    write: (msg) => writeSync(fd, msg),
    read(into) {
      try {
        return readSync(fd, into);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "EAGAIN" || code === "EWOULDBLOCK" || code === "EINTR") return "again";
        throw e;
      }
    },
    close: () => closeSync(fd),
  };
}

const dec = new TextDecoder();

/** Registers and collects every pair the host sends until it goes quiet. */
export async function readKvpPairs(channel: KvpChannel, quietMs = KVP_QUIET_MS): Promise<KvpPair[]> {
  const register = new Uint8Array(KVP_MSG_SIZE);
  register[OFF.op] = KVP_OP_REGISTER1;
  if (channel.write(register) !== KVP_MSG_SIZE) throw new Error("Cannot register with hv_kvp: short write");
  const pairs: KvpPair[] = [];
  const msg = new Uint8Array(KVP_MSG_SIZE);
  const view = new DataView(msg.buffer);
  let last = performance.now();
  for (;;) {
    const n = channel.read(msg);
    if (n === "again") {
      if (performance.now() - last >= quietMs) return pairs;
      await Bun.sleep(10);
      continue;
    }
    last = performance.now();
    if (n !== KVP_MSG_SIZE) throw new Error(`Cannot read from hv_kvp: ${n}-byte message, expected ${KVP_MSG_SIZE}`);
    const op = msg[OFF.op]!;
    if (op === KVP_OP_REGISTER1) continue;
    const reply = new Uint8Array(KVP_MSG_SIZE);
    if (op === KVP_OP_SET) {
      // Sizes count the terminating NUL.
      const keySize = Math.min(view.getUint32(OFF.keySize, true), KVP_MAX_KEY);
      const valueSize = Math.min(view.getUint32(OFF.valueSize, true), KVP_MAX_VALUE);
      pairs.push({
        pool: msg[OFF.pool]!,
        key: dec.decode(msg.subarray(OFF.key, OFF.key + Math.max(keySize - 1, 0))),
        value: dec.decode(msg.subarray(OFF.value, OFF.value + Math.max(valueSize - 1, 0))),
      });
      new DataView(reply.buffer).setUint32(0, HV_S_OK, true);
    } else {
      new DataView(reply.buffer).setUint32(0, HV_E_FAIL, true);
    }
    if (channel.write(reply) !== KVP_MSG_SIZE) throw new Error("Cannot acknowledge a hv_kvp message: short write");
  }
}

/** A pool file as hv_kvp_daemon writes it: each pair as a NUL-padded 512-byte key and 2048-byte value. */
export function encodePoolFile(pairs: readonly KvpPair[]): Uint8Array {
  const out = new Uint8Array(pairs.length * (KVP_MAX_KEY + KVP_MAX_VALUE));
  const enc = new TextEncoder();
  pairs.forEach((p, i) => {
    const at = i * (KVP_MAX_KEY + KVP_MAX_VALUE);
    out.set(enc.encode(p.key).subarray(0, KVP_MAX_KEY), at);
    out.set(enc.encode(p.value).subarray(0, KVP_MAX_VALUE), at + KVP_MAX_KEY);
  });
  return out;
}
