// The live installer ISO: hybrid (El Torito for BIOS and UEFI, an MBR for USB sticks), built
// with xorriso from GRUB's BIOS and EFI images. GRUB boots the kernel with three initramfs
// archives: nexus-init's LiveCD initramfs, install.img (the self-booting disk of disk.ts with an
// empty embed area, as its non-zero MiB blocks and their map, gzipped) and /nexus/config.img
// (the embed area, embed.ts). The
// initramfs sees nexus.install.dest= and installs instead of provisioning: it writes the disk
// image to the machine's disk, copies the config into the disk's embed area, and reboots; the
// disk's first boot then provisions it like a raw image's. --replace-config rewrites
// /nexus/config.img in place (a fixed-size file at a fixed place in the ISO).
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildDiskImage, readAt, writeAt, type DiskImageInputs } from "./disk.ts";
import { buildEmbedArea, EMBED_AREA_BYTES, newcArchive, parentDirs, readEmbedArea } from "./embed.ts";
import { findPartition } from "./gpt.ts";
import { buildEfiImage } from "./efi.ts";
import { runTool } from "./tools.ts";
import { BOOT_PARTITIONS } from "./disk.ts";

/** Where the installer finds the disk image in its initramfs (initramfs/init's install mode). */
export const INSTALL_DIR = "usr/lib/nexus/install";
const MIB = 1024 * 1024;
/** The ISO file holding the embed area. */
export const ISO_CONFIG_PATH = ["nexus", "config.img"] as const;

const GRUB_BIOS_DIR = "/usr/lib/grub/i386-pc";
const GRUB_COMMON = ["iso9660", "part_msdos", "part_gpt", "search", "search_fs_file", "configfile", "normal", "linux", "echo", "test"];
const EFI_IMG_KIB = 4096;
const SECTOR = 2048;

export interface IsoInputs extends DiskImageInputs {
  /** The disk the installer writes to (default "auto": the first disk that is not the ISO). */
  installDest?: string;
}

/** GRUB's entry on the ISO: the live kernel with the installer's arguments and the three archives. */
export function isoGrubConfig(kernelopts: string, dest: string, areaSector: number): string {
  return `# NexusOS live installer (nexus image --format iso): writes the disk image to ${dest === "auto" ? "the first disk" : dest},
# copies the embedded config into the disk's embed area and reboots into the disk.
set timeout=0
echo "nexus-grub: installer, booting with ${kernelopts}"
linux /boot/vmlinuz ${kernelopts} nexus.install.dest=${dest} nexus.install.area=${areaSector}
initrd /boot/initramfs.img /boot/install.img /${ISO_CONFIG_PATH.join("/")}
boot
`;
}

/** Builds the hybrid ISO at `out` (written beside it, then renamed). */
export async function buildIsoImage(inputs: IsoInputs, out: string): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "nexus-iso-"));
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    // The disk the installer writes: the config goes in at install time, from the ISO's embed area.
    const disk = join(work, "disk.raw");
    await buildDiskImage({ ...inputs, config: null }, disk);
    const area = findPartition(disk, BOOT_PARTITIONS.config)!;
    const tree = join(work, "iso");
    mkdirSync(join(tree, "boot/grub"), { recursive: true });
    mkdirSync(join(tree, ISO_CONFIG_PATH[0]));
    const { map, blocks } = diskBlocks(disk);
    const installCpio = join(tree, "boot/install.img");
    writeFileSync(installCpio, newcArchive([
      ...parentDirs(`${INSTALL_DIR}/disk.map`),
      { name: `${INSTALL_DIR}/disk.map`, mode: 0o100644, data: new TextEncoder().encode(map) },
      { name: `${INSTALL_DIR}/disk.blocks`, mode: 0o100644, data: blocks },
    ]));
    rmSync(disk);
    await runTool("gzip", ["-n", "-6", installCpio]);
    renameSync(`${installCpio}.gz`, installCpio);
    writeFileSync(join(tree, "boot/vmlinuz"), readFileSync(inputs.kernel));
    writeFileSync(join(tree, "boot/initramfs.img"), readFileSync(inputs.initrd));
    writeFileSync(join(tree, ...ISO_CONFIG_PATH), buildEmbedArea(inputs.config));
    writeFileSync(join(tree, "boot/grub/grub.cfg"), isoGrubConfig(inputs.kernelopts, inputs.installDest ?? "auto", area.offset / 512));

    // GRUB for BIOS (El Torito, and the hybrid MBR for USB sticks) and for UEFI (BOOTX64.EFI in
    // a FAT image): both find the ISO by its config file, then read /boot/grub/grub.cfg.
    const early = join(work, "early.cfg");
    writeFileSync(early, `search --no-floppy --file --set=root /${ISO_CONFIG_PATH.join("/")}\nset prefix=($root)/boot/grub\n`);
    await runTool("grubMkimage", ["-O", "i386-pc-eltorito", "-d", GRUB_BIOS_DIR, "-c", early, "-p", "/boot/grub", "-o", join(tree, "boot/grub/eltorito.img"), "biosdisk", ...GRUB_COMMON]);
    const efiImg = join(tree, "boot/grub/efi.img");
    await buildEfiImage({ prefix: "/boot/grub", early, modules: GRUB_COMMON, work, sizeKiB: EFI_IMG_KIB, volumeId: "4e455855", label: "NEXUS-EFI", epoch: inputs.epoch }, efiImg);
    const epochEnv = { env: { SOURCE_DATE_EPOCH: String(inputs.epoch) } };

    await runTool("xorriso", [
      "-as", "mkisofs", "-o", tmp, "-r", "-V", "NEXUS_INSTALL",
      // Every date in the volume and its files is the epoch (the staged tree's times are not).
      `--modification-date=${isoDate(inputs.epoch)}`, "--set_all_file_dates", isoDate(inputs.epoch),
      "-b", "boot/grub/eltorito.img", "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table", "--grub2-boot-info",
      "--grub2-mbr", join(GRUB_BIOS_DIR, "boot_hybrid.img"),
      "--efi-boot", "boot/grub/efi.img", "-efi-boot-part", "--efi-boot-image", "--protective-msdos-label",
      tree,
    ], epochEnv);
    renameSync(tmp, out);
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(tmp, { force: true });
  }
}

/**
 * The disk as the installer writes it: its MiB blocks holding any non-zero byte, concatenated,
 * and a map with one "DEST_MIB COUNT" line per run of them. Writing only those (as partclone
 * restores only used blocks) keeps the install to the ~70 MB the base holds instead of the whole
 * 1 GiB disk; a block is written whole, so every table and superblock in it replaces the old.
 */
export function diskBlocks(disk: string): { map: string; blocks: Uint8Array } {
  const size = statSync(disk).size;
  const runs: [number, number][] = [];
  const kept: Buffer[] = [];
  const zero = Buffer.alloc(MIB);
  const block = Buffer.alloc(MIB);
  const fd = openSync(disk, "r");
  try {
    for (let mib = 0; mib * MIB < size; mib++) {
      block.fill(0, readSync(fd, block, 0, MIB, mib * MIB));
      if (block.equals(zero)) continue;
      kept.push(Buffer.from(block));
      const last = runs.at(-1);
      if (last && last[0] + last[1] === mib) last[1]++;
      else runs.push([mib, 1]);
    }
  } finally {
    closeSync(fd);
  }
  return { map: runs.map(([d, n]) => `${d} ${n}\n`).join(""), blocks: Buffer.concat(kept) };
}

/** xorriso's YYYYMMDDhhmmsscc form of a time (UTC). */
const isoDate = (epoch: number) => new Date(epoch * 1000).toISOString().replace(/[-:T]/g, "").slice(0, 14) + "00";

/** The byte offset and size of a file of an ISO 9660 image, found through its directories. */
export function findIsoFile(iso: string, path: readonly string[]): { offset: number; size: number } {
  const pvd = readAt(iso, 16 * SECTOR, SECTOR);
  if (new TextDecoder().decode(pvd.subarray(1, 6)) !== "CD001") throw new Error(`Cannot read ISO "${iso}": no ISO 9660 volume descriptor`);
  let dir = record(pvd, 156);
  for (const [i, want] of path.entries()) {
    const data = readAt(iso, dir.lba * SECTOR, dir.size);
    let hit: ReturnType<typeof record> | undefined;
    for (let at = 0; at < data.length; ) {
      const len = data[at]!;
      if (len === 0) {
        at = (Math.floor(at / SECTOR) + 1) * SECTOR; // records never cross a sector
        continue;
      }
      const r = record(data, at);
      if (r.name.replace(/;1$/, "").replace(/\.$/, "").toLowerCase() === want.toLowerCase()) hit = r;
      at += len;
    }
    if (!hit || hit.isDir !== i < path.length - 1) throw new Error(`Cannot find "/${path.join("/")}" in ISO "${iso}" (not made by nexus image)`);
    dir = hit;
  }
  return { offset: dir.lba * SECTOR, size: dir.size };
}

function record(buf: Uint8Array, at: number): { lba: number; size: number; isDir: boolean; name: string } {
  const v = new DataView(buf.buffer, buf.byteOffset + at);
  const nameLen = buf[at + 32]!;
  return { lba: v.getUint32(2, true), size: v.getUint32(10, true), isDir: (buf[at + 25]! & 2) !== 0, name: new TextDecoder("latin1").decode(buf.subarray(at + 33, at + 33 + nameLen)) };
}

function isoConfigArea(iso: string): number {
  const f = findIsoFile(iso, ISO_CONFIG_PATH);
  if (f.size !== EMBED_AREA_BYTES) throw new Error(`Cannot use the embed area of ISO "${iso}": ${f.size} bytes, expected ${EMBED_AREA_BYTES}`);
  return f.offset;
}

/** The config an ISO embeds (null: none). */
export function readIsoConfig(iso: string): Uint8Array | null {
  return readEmbedArea(readAt(iso, isoConfigArea(iso), EMBED_AREA_BYTES));
}

/** Replaces the config an ISO embeds, in place. */
export function replaceIsoConfig(iso: string, config: Uint8Array | null): void {
  writeAt(iso, isoConfigArea(iso), buildEmbedArea(config));
}
