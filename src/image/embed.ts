// The embed area: where a bootable image carries its config. A fixed-size region (a partition of
// a disk image, a file of an ISO) holding a newc cpio archive with one file,
// usr/lib/nexus/user.ign, padded with zeros. The boot loader hands the region to the kernel as
// one more initramfs (the kernel skips the zero padding), so the config lands where nexus-init's
// system provider reads user.ign, on any platform and before the platform's own provider.
// Because the region has a fixed size and place, `--replace-config` rewrites it in place: the
// result is the same bytes as a fresh build with the new config. Same idea as
// coreos-installer's ISO embed area.

/** The size of every embed area: configs with inline files fit; the boot loader reads it all. */
export const EMBED_AREA_BYTES = 4 * 1024 * 1024;
/** Where the config lands in the initramfs (the vendor system config directory). */
export const EMBEDDED_CONFIG_PATH = "usr/lib/nexus/user.ign";

const TRAILER = "TRAILER!!!";
const MAGIC = "070701";

const hex8 = (n: number) => n.toString(16).padStart(8, "0");
const pad4 = (n: number) => (4 - (n % 4)) % 4;

/** One newc entry: header, NUL-terminated name, data, each padded to 4 bytes. */
function entry(ino: number, name: string, mode: number, data: Uint8Array): Uint8Array {
  const nameBytes = new TextEncoder().encode(name + "\0");
  const isDir = (mode & 0o170000) === 0o040000;
  // ino, mode, uid, gid, nlink, mtime (0: the image's bytes must not depend on the clock),
  // filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check.
  const fields = [ino, mode, 0, 0, isDir ? 2 : 1, 0, data.length, 0, 0, 0, 0, nameBytes.length, 0];
  const header = new TextEncoder().encode(MAGIC + fields.map(hex8).join(""));
  const headLen = header.length + nameBytes.length;
  const out = new Uint8Array(headLen + pad4(headLen) + data.length + pad4(data.length));
  out.set(header, 0);
  out.set(nameBytes, header.length);
  out.set(data, headLen + pad4(headLen));
  return out;
}

/** One member of a newc archive. */
export interface ArchiveEntry {
  name: string;
  /** Full st_mode: 0o040755 for a directory, 0o100600 for a file… */
  mode: number;
  data?: Uint8Array;
}

/** A newc cpio archive of `entries`, in order, owned by root, every time 0 (the bytes depend on the entries only). */
export function newcArchive(entries: readonly ArchiveEntry[]): Uint8Array {
  const parts = entries.map((e, i) => entry(i + 1, e.name, e.mode, e.data ?? new Uint8Array()));
  parts.push(entry(0, TRAILER, 0, new Uint8Array()));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The directories above a path in an archive, parents first ("a/b/c" → a, a/b). */
export function parentDirs(path: string): ArchiveEntry[] {
  const parts = path.split("/").slice(0, -1);
  return parts.map((_, i) => ({ name: parts.slice(0, i + 1).join("/"), mode: 0o040755 }));
}

/** The cpio archive carrying `config` (no config: the directories only, nothing for the system provider). */
export function buildConfigArchive(config: Uint8Array | null): Uint8Array {
  return newcArchive([...parentDirs(EMBEDDED_CONFIG_PATH), ...(config ? [{ name: EMBEDDED_CONFIG_PATH, mode: 0o100600, data: config }] : [])]);
}

/** A config that does not fit the embed area. */
export class EmbedAreaFullError extends Error {
  constructor(readonly needed: number, readonly available: number) {
    super(`Cannot embed the config: it needs ${needed} bytes with its archive, the embed area holds ${available}`);
    this.name = "EmbedAreaFullError";
  }
}

/** The whole embed area for `config`: its archive, then zeros. */
export function buildEmbedArea(config: Uint8Array | null, size = EMBED_AREA_BYTES): Uint8Array {
  const archive = buildConfigArchive(config);
  if (archive.length > size) throw new EmbedAreaFullError(archive.length, size);
  const area = new Uint8Array(size);
  area.set(archive, 0);
  return area;
}

/** An embed area this module did not write (or a damaged one). */
export class NotAnEmbedAreaError extends Error {
  override name = "NotAnEmbedAreaError";
}

/** The config in an embed area, or null when the area holds none. Throws NotAnEmbedAreaError for anything else. */
export function readEmbedArea(area: Uint8Array): Uint8Array | null {
  const dec = new TextDecoder();
  let at = 0;
  for (;;) {
    if (at + 110 > area.length || dec.decode(area.subarray(at, at + 6)) !== MAGIC) {
      throw new NotAnEmbedAreaError(`Cannot read the embed area: no cpio header at byte ${at}`);
    }
    const field = (i: number) => parseInt(dec.decode(area.subarray(at + 6 + 8 * i, at + 14 + 8 * i)), 16);
    const size = field(6);
    const nameSize = field(11);
    const name = dec.decode(area.subarray(at + 110, at + 110 + nameSize - 1));
    const dataAt = at + 110 + nameSize + pad4(110 + nameSize);
    if (name === TRAILER) return null;
    if (dataAt + size > area.length) throw new NotAnEmbedAreaError(`Cannot read the embed area: entry "${name}" runs past its end`);
    if (name === EMBEDDED_CONFIG_PATH) return area.slice(dataAt, dataAt + size);
    at = dataAt + size + pad4(size);
  }
}
