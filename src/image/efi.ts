// GRUB for UEFI on a FAT image (the EFI System partition of a disk, the El Torito EFI image of
// an ISO): BOOTX64.EFI at the fallback path every firmware tries, built by grub-mkimage and put
// in a FAT filesystem with invariant ids and every time the epoch (mtools, no mount).
import { utimesSync } from "node:fs";
import { join } from "node:path";
import { runTool } from "./tools.ts";

const GRUB_EFI_DIR = "/usr/lib/grub/x86_64-efi";

export interface EfiImageInputs {
  /** Where GRUB looks for grub.cfg when `early` does not set it. */
  prefix: string;
  /** An early config built into the image (e.g. a search that sets $root and $prefix). */
  early?: string;
  modules: readonly string[];
  /** A scratch directory for BOOTX64.EFI. */
  work: string;
  sizeKiB: number;
  /** FAT volume id (8 hex digits) and label. */
  volumeId: string;
  label: string;
  epoch: number;
}

/** Writes a FAT image holding GRUB's EFI image as EFI/BOOT/BOOTX64.EFI at `out`. */
export async function buildEfiImage(inputs: EfiImageInputs, out: string): Promise<void> {
  const bootx64 = join(inputs.work, "BOOTX64.EFI");
  await runTool("grubMkimage", ["-O", "x86_64-efi", "-d", GRUB_EFI_DIR, ...(inputs.early ? ["-c", inputs.early] : []), "-p", inputs.prefix, "-o", bootx64, "efi_gop", ...inputs.modules]);
  const epochEnv = { env: { SOURCE_DATE_EPOCH: String(inputs.epoch) } };
  await runTool("mkfsVfat", ["-C", "--invariant", "-i", inputs.volumeId, "-n", inputs.label, out, String(inputs.sizeKiB)], epochEnv);
  utimesSync(bootx64, inputs.epoch, inputs.epoch);
  await runTool("mmd", ["-i", out, "::/EFI", "::/EFI/BOOT"], epochEnv);
  await runTool("mcopy", ["-m", "-i", out, bootx64, "::/EFI/BOOT/BOOTX64.EFI"], epochEnv);
}
