// The few C library calls Node's fs does not offer: fcntl record locks (what lckpwdf() uses on
// /etc/.pwd.lock) and mknod (special files in a skeleton directory). Loaded on first use through
// bun:ffi, so nothing is paid when no account is touched.
import { dlopen, FFIType, ptr } from "bun:ffi";

const F_SETLK = 6;
const F_WRLCK = 1;
const F_UNLCK = 2;

type Libc = {
  symbols: {
    fcntl: (fd: number, cmd: number, arg: unknown) => number;
    mknod: (path: unknown, mode: number, dev: bigint) => number;
  };
};

let libc: Libc | null = null;

function load(): Libc {
  libc ??= dlopen("libc.so.6", {
    fcntl: { args: [FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    mknod: { args: [FFIType.ptr, FFIType.u32, FFIType.u64], returns: FFIType.i32 },
  }) as unknown as Libc;
  return libc;
}

/** A struct flock covering the whole file (x86_64 layout). */
function flock(type: number): Uint8Array {
  const buf = new Uint8Array(32);
  const v = new DataView(buf.buffer);
  v.setInt16(0, type, true);
  v.setInt16(2, 0, true); // SEEK_SET; start 0, len 0: the whole file
  return buf;
}

/** fcntl(F_SETLK) write lock on an open file: true when taken, false when another process holds it. */
export function tryWriteLock(fd: number): boolean {
  const l = flock(F_WRLCK);
  return load().symbols.fcntl(fd, F_SETLK, ptr(l)) === 0;
}

/** Releases a record lock taken with tryWriteLock (closing the file releases it too). */
export function unlock(fd: number): void {
  const l = flock(F_UNLCK);
  load().symbols.fcntl(fd, F_SETLK, ptr(l));
}

/** mknod(2); throws with the errno's name when it fails. */
export function mknod(path: string, mode: number, dev: number): void {
  const r = load().symbols.mknod(ptr(Buffer.from(path + "\0")), mode, BigInt(dev));
  if (r !== 0) throw new Error(`Cannot create special file "${path}": mknod failed`);
}
