// The image formats `nexus image` writes, and reading or replacing the config each one embeds.
// raw is the disk itself (disk.ts); qcow2 is the same disk converted by qemu-img; gce is the raw
// disk, a whole number of GiB, as disk.raw in a GNU-format sparse tar, gzipped (what Compute
// Engine's image import takes). Changing the config of a qcow2 or gce image goes through the raw
// disk and back, so the result is what a fresh build with that config gives.
import { createHash } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readSync, renameSync, rmSync, statSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { buildEmbedArea, readEmbedArea, EMBED_AREA_BYTES } from "./embed.ts";
import { buildDiskImage, readAt, writeEmbedArea, BOOT_PARTITIONS, type DiskImageInputs } from "./disk.ts";
import { findPartition } from "./gpt.ts";
import { runTool } from "./tools.ts";

/** Every format, in the order help lists them. */
export const IMAGE_FORMATS = ["iso", "raw", "qcow2", "gce"] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/** The platform each format's boot entry names unless --platform says otherwise. */
export const DEFAULT_PLATFORM: Record<ImageFormat, string> = { iso: "metal", raw: "metal", qcow2: "qemu", gce: "gcp" };

const GIB = 1024 ** 3;

/** What a file is, from its first bytes. */
export function detectFormat(path: string): ImageFormat | null {
  const head = readAt(path, 0, 0x8006);
  const text = (a: number, b: number) => new TextDecoder("latin1").decode(head.subarray(a, b));
  if (text(0x8001, 0x8006) === "CD001") return "iso";
  if (text(0, 4) === "QFI\xfb") return "qcow2";
  if (head[0] === 0x1f && head[1] === 0x8b) return "gce";
  if (text(512, 520) === "EFI PART") return "raw";
  return null;
}

/** Builds one image of `format` at `out` from the disk inputs. */
export async function buildImage(format: Exclude<ImageFormat, "iso">, inputs: DiskImageInputs, out: string): Promise<void> {
  if (format === "raw") return buildDiskImage(inputs, out);
  const work = mkdtempSync(join(tmpdir(), "nexus-image-"));
  try {
    const disk = join(work, "disk.raw");
    await buildDiskImage(inputs, disk);
    await packDisk(format, disk, out, inputs.epoch);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Turns the raw disk at `disk` into a qcow2 or gce image at `out` (written beside it, then renamed). */
async function packDisk(format: "qcow2" | "gce", disk: string, out: string, epoch: number): Promise<void> {
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    if (format === "qcow2") {
      await runTool("qemuImg", ["convert", "-q", "-f", "raw", "-O", "qcow2", disk, tmp]);
    } else {
      // Compute Engine imports disks of whole GiB only; the backup GPT moves to the new end.
      const size = statSync(disk).size;
      if (size % GIB !== 0) {
        truncateSync(disk, Math.ceil(size / GIB) * GIB);
        await runTool("sgdisk", ["--move-second-header", disk]);
      }
      await runTool("tar", ["--format=gnu", "--sparse", "--hole-detection=raw", "--sort=name", `--mtime=@${epoch}`, "--owner=0", "--group=0", "--numeric-owner", "--mode=0644",
        "--use-compress-program=gzip -n -6", "-C", dirname(disk), "-cf", tmp, "disk.raw"]);
    }
    renameSync(tmp, out);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Runs `fn` on the raw disk inside an image (unpacked to a temporary file); repacks it when `fn` changed it. */
async function withRawDisk<T>(image: string, fn: (disk: string) => T, write: boolean): Promise<T> {
  const format = detectFormat(image);
  if (format === "raw") return fn(image);
  if (format === null) throw new Error(`Cannot read image "${image}": not an ISO, raw GPT disk, qcow2 or gce tarball`);
  if (format === "iso") throw new Error(`Cannot read image "${image}": ISO images are read by iso.ts`);
  const work = mkdtempSync(join(tmpdir(), "nexus-image-"));
  try {
    const disk = join(work, "disk.raw");
    if (format === "qcow2") await runTool("qemuImg", ["convert", "-q", "-f", "qcow2", "-O", "raw", image, disk]);
    else await runTool("tar", ["--sparse", "-xzf", image, "-C", work, "disk.raw"]);
    // tar restored the build's time on disk.raw; the repacked tarball keeps it.
    const epoch = Math.floor(statSync(disk).mtimeMs / 1000);
    const result = fn(disk);
    if (write) await packDisk(format, disk, image, epoch);
    return result;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function embedAreaOf(disk: string): number {
  const p = findPartition(disk, BOOT_PARTITIONS.config);
  if (!p) throw new Error(`Cannot find the embed area in "${disk}": no partition named "${BOOT_PARTITIONS.config}" (not made by nexus image)`);
  if (p.length < EMBED_AREA_BYTES) throw new Error(`Cannot use the embed area of "${disk}": ${p.length} bytes, expected ${EMBED_AREA_BYTES}`);
  return p.offset;
}

/** The config a raw, qcow2 or gce image embeds (null: none). */
export async function readDiskConfig(image: string): Promise<Uint8Array | null> {
  return withRawDisk(image, (disk) => readEmbedArea(readAt(disk, embedAreaOf(disk), EMBED_AREA_BYTES)), false);
}

/** Replaces the config a raw, qcow2 or gce image embeds, in place. */
export async function replaceDiskConfig(image: string, config: Uint8Array | null): Promise<void> {
  buildEmbedArea(config); // refuses a config too large before anything is touched
  await withRawDisk(image, (disk) => writeEmbedArea(disk, embedAreaOf(disk), config), true);
}

/** sha256 (hex) and size of a file. */
export function digestFile(path: string): { sha256: string; size: number } {
  const h = createHash("sha256");
  const fd = openSync(path, "r");
  const buf = new Uint8Array(4 * 1024 * 1024);
  let size = 0;
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, size)) > 0; size += n) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return { sha256: h.digest("hex"), size };
}
