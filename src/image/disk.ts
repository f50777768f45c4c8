// A disk image that boots on its own, from a base OS image: partition 2 "BIOS-BOOT" holds GRUB's
// core image (boot.img in the MBR's code area), partition 3, an ext4 filesystem labelled "boot",
// the kernel, the initramfs and the boot entry (kernel arguments in GRUB's environment block,
// which the kargs stage edits, and the first-boot stamp), partition 4 "nexus-config" the embed
// area (embed.ts) that the entry loads as a second initramfs, partition 5 "EFI-SYSTEM" GRUB for
// UEFI firmware (efi.ts), reading the same boot filesystem and entry. Made without loop devices or
// mounts (sgdisk on the file, mke2fs -d, grub-mkimage), and byte for byte the same from the same
// inputs: fixed times, GUIDs and UUIDs derived from the inputs, no random salt.
import { createHash } from "node:crypto";
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, utimesSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildEfiImage } from "./efi.ts";
import { buildEmbedArea, EMBED_AREA_BYTES } from "./embed.ts";
import { findPartition, readGptPartitions } from "./gpt.ts";
import { runTool } from "./tools.ts";

/** The partition names this layout adds after the base image's own. */
export const BOOT_PARTITIONS = { biosBoot: "BIOS-BOOT", boot: "boot", config: "nexus-config", esp: "EFI-SYSTEM" } as const;
/** The first partition number a config can add to the image's disk (1 is the root, 2–5 boot). */
export const FIRST_FREE_PARTITION = 6;

const BIOS_BOOT_TYPE = "21686148-6449-6E6F-744E-656564454649";
const LINUX_FS_TYPE = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
const ESP_TYPE = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
const ESP_MIB = 16;
const BOOT_MIB = 192;
const GRUB_BIOS_DIR = "/usr/lib/grub/i386-pc";
const GRUB_MODULES = ["biosdisk", "part_gpt", "ext2", "normal", "configfile", "linux", "loadenv", "test", "echo"];

export interface DiskImageInputs {
  base: string;
  kernel: string;
  initrd: string;
  /** Kernel arguments of the boot entry (kernelopts). */
  kernelopts: string;
  /** The config to embed (null: an empty embed area). */
  config: Uint8Array | null;
  /** Seconds since the epoch for every timestamp written (SOURCE_DATE_EPOCH). */
  epoch: number;
}

/** A UUID derived from the inputs' digest and a role, so the same inputs give the same one. */
export function derivedUuid(seed: string, role: string): string {
  const h = createHash("sha256").update(seed).update("\0").update(role).digest("hex");
  // Version 4 and variant bits, so tools that check the form accept it.
  const v = `4${h.slice(13, 16)}`;
  const r = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16) + h.slice(17, 20);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${v}-${r}-${h.slice(20, 32)}`;
}

const sha256File = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

/** GRUB's entry: kernel arguments from the environment block, the stamp, the embed area as a second initramfs. */
export function grubConfig(configPartition: number): string {
  const sectors = EMBED_AREA_BYTES / 512;
  return `# NexusOS boot entry (nexus image): kernel arguments from the environment block (the kargs
# stage edits kernelopts); the first-boot stamp decides nexus.firstboot; partition
# ${configPartition} (nexus-config) is the embed area, read as one more initramfs.
set timeout=0
load_env -f ($root)/grub/grubenv
if [ -f ($root)/nexus.firstboot ]; then
  set firstboot=nexus.firstboot
else
  set firstboot=nexus.firstboot=0
fi
echo "nexus-grub: booting with $kernelopts $firstboot"
linux ($root)/vmlinuz $kernelopts $firstboot
initrd ($root)/initramfs.img (hd0,gpt${configPartition})0+${sectors}
boot
`;
}

const ZERO_BLOCK = Buffer.alloc(4096);

/** Copies `src` into `fd` at `offset`, skipping all-zero blocks (the target stays sparse). */
function copySparse(src: string, fd: number, offset: number): void {
  const input = openSync(src, "r");
  const buf = Buffer.alloc(1024 * 1024);
  try {
    for (let at = 0; ; ) {
      const n = readSync(input, buf, 0, buf.length, at);
      if (n === 0) break;
      for (let b = 0; b < n; b += ZERO_BLOCK.length) {
        const block = buf.subarray(b, Math.min(b + ZERO_BLOCK.length, n));
        if (!ZERO_BLOCK.subarray(0, block.length).equals(block)) writeSync(fd, block, 0, block.length, offset + at + b);
      }
      at += n;
    }
  } finally {
    closeSync(input);
  }
}

/** Writes bytes into a file at an offset. */
export function writeAt(path: string, offset: number, bytes: Uint8Array): void {
  const fd = openSync(path, "r+");
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes the embed area for `config` at `offset`: its archive, and zeros only where the area
 * held something before, so a fresh area stays a hole (sparse images, GNU tar's sparse map)
 * and a replaced one ends up with the same bytes as a fresh build.
 */
export function writeEmbedArea(path: string, offset: number, config: Uint8Array | null): void {
  const area = buildEmbedArea(config);
  const old = readAt(path, offset, area.length);
  let end = old.length;
  while (end > 0 && old[end - 1] === 0) end--;
  let used = area.length;
  while (used > 0 && area[used - 1] === 0) used--;
  writeAt(path, offset, area.subarray(0, Math.max(end, used)));
}

/** Reads `length` bytes of a file at an offset. */
export function readAt(path: string, offset: number, length: number): Uint8Array {
  const fd = openSync(path, "r");
  try {
    const buf = new Uint8Array(length);
    const n = readSync(fd, buf, 0, length, offset);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/**
 * GRUB's BIOS boot code, as grub-bios-setup would install it (which insists on probing the
 * host's disks): boot.img learns core.img's first sector (le64 at 0x5c) and loses its floppy
 * check (the jump at 0x66 becomes two nops); core.img's first sector learns where its other
 * sectors start (le64 at 500).
 */
export function patchGrubBoot(bootImg: Uint8Array, coreImg: Uint8Array, coreLba: number): { mbrCode: Uint8Array; core: Uint8Array } {
  const mbrCode = bootImg.slice(0, 440);
  new DataView(mbrCode.buffer).setBigUint64(0x5c, BigInt(coreLba), true);
  mbrCode[0x66] = 0x90;
  mbrCode[0x67] = 0x90;
  const core = coreImg.slice();
  new DataView(core.buffer).setBigUint64(500, BigInt(coreLba + 1), true);
  return { mbrCode, core };
}

/** Builds the self-booting raw disk image at `out` (written beside it, then renamed). */
export async function buildDiskImage(inputs: DiskImageInputs, out: string): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "nexus-image-"));
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    const seed = [sha256File(inputs.kernel), sha256File(inputs.initrd), readGptPartitions(inputs.base).map((p) => `${p.number}:${p.name}:${p.firstLba}`).join(","), inputs.kernelopts].join("\n");
    rmSync(tmp, { force: true });
    const copy = openSync(tmp, "w");
    try {
      ftruncateSync(copy, statSync(inputs.base).size);
      copySparse(inputs.base, copy, 0);
    } finally {
      closeSync(copy);
    }
    const taken = readGptPartitions(tmp).map((p) => p.number);
    const clash = [2, 3, 4, 5].filter((n) => taken.includes(n));
    if (clash.length) throw new Error(`Cannot add the boot partitions to base image "${inputs.base}": it already has partition ${clash.join(", ")}`);
    const p = BOOT_PARTITIONS;
    await runTool("sgdisk", [
      `--new=2:0:+1MiB`, `--typecode=2:${BIOS_BOOT_TYPE}`, `--change-name=2:${p.biosBoot}`, `--partition-guid=2:${derivedUuid(seed, p.biosBoot)}`,
      `--new=3:0:+${BOOT_MIB}MiB`, `--typecode=3:${LINUX_FS_TYPE}`, `--change-name=3:${p.boot}`, `--partition-guid=3:${derivedUuid(seed, p.boot)}`,
      `--new=4:0:+${EMBED_AREA_BYTES / 1024}KiB`, `--typecode=4:${LINUX_FS_TYPE}`, `--change-name=4:${p.config}`, `--partition-guid=4:${derivedUuid(seed, p.config)}`,
      `--new=5:0:+${ESP_MIB}MiB`, `--typecode=5:${ESP_TYPE}`, `--change-name=5:${p.esp}`, `--partition-guid=5:${derivedUuid(seed, p.esp)}`,
      tmp,
    ]);

    // The boot filesystem, from a staged tree whose every time is the epoch.
    const boot = join(work, "boot");
    mkdirSync(join(boot, "grub"), { recursive: true });
    writeFileSync(join(boot, "vmlinuz"), readFileSync(inputs.kernel));
    writeFileSync(join(boot, "initramfs.img"), readFileSync(inputs.initrd));
    writeFileSync(join(boot, "nexus.firstboot"), "");
    writeFileSync(join(boot, "grub/grub.cfg"), grubConfig(4));
    await runTool("grubEditenv", [join(boot, "grub/grubenv"), "create"]);
    await runTool("grubEditenv", [join(boot, "grub/grubenv"), "set", `kernelopts=${inputs.kernelopts}`]);
    const staged = ["vmlinuz", "initramfs.img", "nexus.firstboot", "grub/grub.cfg", "grub/grubenv", "grub", "."];
    for (const f of staged) utimesSync(join(boot, f), inputs.epoch, inputs.epoch);
    const bootFs = join(work, "boot.ext4");
    const bootUuid = derivedUuid(seed, "boot filesystem");
    const fakeTime = { env: { E2FSPROGS_FAKE_TIME: String(inputs.epoch) } };
    await runTool("mke2fs", ["-q", "-F", "-t", "ext4", "-b", "4096", "-L", "boot", "-U", bootUuid, "-E", `root_owner=0:0,hash_seed=${bootUuid}`, "-d", boot, bootFs, `${BOOT_MIB}M`], fakeTime);
    // mke2fs -d copies each staged file's ctime, which only the clock sets: set it to the epoch.
    const fixCtimes = join(work, "ctimes.debugfs");
    writeFileSync(fixCtimes, staged.map((f) => `set_inode_field /${f === "." ? "" : f} ctime @${inputs.epoch}\n`).join(""));
    await runTool("debugfs", ["-w", "-f", fixCtimes, bootFs], fakeTime);
    const bootPart = findPartition(tmp, p.boot)!;
    const fd = openSync(tmp, "r+");
    try {
      copySparse(bootFs, fd, bootPart.offset);
    } finally {
      closeSync(fd);
    }

    // GRUB: a core image with its prefix on the boot filesystem, in BIOS-BOOT; boot.img in the MBR.
    const coreFile = join(work, "core.img");
    await runTool("grubMkimage", ["-O", "i386-pc", "-d", GRUB_BIOS_DIR, "-o", coreFile, "-p", "(hd0,gpt3)/grub", ...GRUB_MODULES]);
    const biosBoot = findPartition(tmp, p.biosBoot)!;
    const core = new Uint8Array(readFileSync(coreFile));
    if (core.length > biosBoot.length) throw new Error(`Cannot embed GRUB: its core image (${core.length} bytes) is larger than BIOS-BOOT`);
    const patched = patchGrubBoot(new Uint8Array(readFileSync(join(GRUB_BIOS_DIR, "boot.img"))), core, biosBoot.offset / 512);
    writeAt(tmp, 0, patched.mbrCode);
    writeAt(tmp, biosBoot.offset, patched.core);

    // GRUB for UEFI: the same modules (the firmware reads the disk), the same grub.cfg.
    const espImg = join(work, "esp.img");
    const efiModules = GRUB_MODULES.filter((m) => m !== "biosdisk");
    await buildEfiImage({ prefix: "(hd0,gpt3)/grub", modules: efiModules, work, sizeKiB: ESP_MIB * 1024, volumeId: derivedUuid(seed, "esp").slice(0, 8), label: "EFI-SYSTEM", epoch: inputs.epoch }, espImg);
    const espFd = openSync(tmp, "r+");
    try {
      copySparse(espImg, espFd, findPartition(tmp, p.esp)!.offset);
    } finally {
      closeSync(espFd);
    }

    writeEmbedArea(tmp, findPartition(tmp, p.config)!.offset, inputs.config);
    renameSync(tmp, out);
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(tmp, { force: true });
  }
}
