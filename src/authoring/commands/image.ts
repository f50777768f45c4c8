// nexus image --config C --format iso|raw|qcow2|gce [--base IMG] [--kernel K] [--initrd I] -o OUT
// nexus image --show-config IMAGE | --replace-config C IMAGE
import { existsSync } from "node:fs";
import { parseCommandArgs, usageError } from "../../cli/args.ts";
import { resolveAssets } from "../../image/assets.ts";
import { loadImageConfig } from "../../image/config_input.ts";
import { buildImage, DEFAULT_PLATFORM, detectFormat, digestFile, IMAGE_FORMATS, readDiskConfig, replaceDiskConfig, type ImageFormat } from "../../image/formats.ts";
import { buildIsoImage, readIsoConfig, replaceIsoConfig } from "../../image/iso.ts";
import { PROGRAM_OPTIONS, provisionOptions } from "./provision.ts";

export const summary = "Build a bootable image (iso, raw, qcow2, gce) carrying a config for its first boot";

const USAGE = `Usage: nexus image --config C --format iso|raw|qcow2|gce [options] -o OUT
       nexus image --show-config IMAGE
       nexus image --replace-config C IMAGE

Validates C (a typed program, an Ignition config or a Butane config) as \`nexus validate\` does,
then builds a bootable image that provisions the machine on its first boot with it. An invalid
config builds nothing. The config sits in the image's embed area (partition "nexus-config" of a
disk, /nexus/config.img of an ISO), which the boot loader hands to the kernel as one more
initramfs; --show-config prints it and --replace-config swaps it (validated first) without a
rebuild. The same inputs and SOURCE_DATE_EPOCH give the same bytes; the build prints the
image's size and sha256.
Exit status: 0 built, 1 invalid config or failed build, 2 usage error.

Formats:
  iso     hybrid ISO (BIOS and UEFI, also for a USB stick): a live installer that writes the
          base image to the machine's first disk, then provisions it
  raw     the base image with GRUB on it (BIOS and UEFI)
  qcow2   the same disk as qcow2
  gce     disk.raw (whole GiB) in a GNU sparse .tar.gz, for Compute Engine's image import;
          without --config the machine reads user-data from the metadata server

Options:
  --config C         the config to embed (optional: without it the platform provides one)
  --format F         iso, raw, qcow2 or gce
  -o, --output OUT   the image to write
  --base IMG         base OS disk image (default: dist/base-os.img, \`make base-image\`)
  --kernel K         kernel (default: build/kernel/vmlinuz, \`make kernel\`)
  --initrd I         nexus-init initramfs (default: dist/initramfs.img, \`make initramfs\`)
  --platform ID      nexus.platform.id of the boot entry (default: iso/raw metal, qcow2 qemu, gce gcp)
  --install-disk DEV iso: the disk the installer writes (default: the first disk that is not the ISO)
  --karg ARG         one more kernel argument for the boot entry (repeatable)
  --target, --spec, --set   as for \`nexus provision\`, when C is a program
  --show-config      print the config IMAGE embeds (exit 1 when it embeds none)
  --replace-config C replace the config IMAGE embeds with C`;

const OPTIONS = {
  ...PROGRAM_OPTIONS,
  config: { type: "string" },
  format: { type: "string" },
  output: { type: "string", short: "o" },
  base: { type: "string" },
  kernel: { type: "string" },
  initrd: { type: "string" },
  platform: { type: "string" },
  karg: { type: "string", multiple: true },
  "install-disk": { type: "string" },
  "show-config": { type: "boolean" },
  "replace-config": { type: "string" },
} as const;

const fail = (message: string) => {
  process.stderr.write(`nexus image: ${message}\n`);
  return 1;
};

/** The validated config at `path` (messages printed), or null when it is invalid. */
async function configBytes(path: string, values: Record<string, unknown>): Promise<Uint8Array | null | "invalid"> {
  const opts = provisionOptions(values, [path]);
  const r = await loadImageConfig(path, typeof opts === "string" ? {} : opts);
  for (const m of r.messages) process.stderr.write(m + "\n");
  if (!r.ok) {
    process.stderr.write(`nexus image: config "${path}" is invalid: nothing built or changed\n`);
    return "invalid";
  }
  return r.bytes;
}

/** The image's format, or an error message. */
function imageFormat(path: string): ImageFormat | string {
  if (!existsSync(path)) return `Cannot read image "${path}": no such file`;
  return detectFormat(path) ?? `Cannot read image "${path}": not an ISO, GPT disk, qcow2 or gce tarball`;
}

/** Runs the image command. */
export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("image", USAGE, args, OPTIONS);
  if (typeof parsed === "number") return parsed;
  const v = parsed.values as Record<string, unknown>;
  const pos = parsed.positionals;

  if (v["show-config"] || v["replace-config"] !== undefined) {
    if (pos.length !== 1) return usageError("image", USAGE, "expected exactly one IMAGE");
    const image = pos[0]!;
    const format = imageFormat(image);
    if (!(IMAGE_FORMATS as readonly string[]).includes(format)) return fail(format);
    try {
      if (v["show-config"]) {
        const config = format === "iso" ? readIsoConfig(image) : await readDiskConfig(image);
        if (config === null) return fail(`image "${image}" embeds no config`);
        process.stdout.write(config);
        return 0;
      }
      const bytes = await configBytes(v["replace-config"] as string, v);
      if (bytes === "invalid") return 1;
      if (format === "iso") replaceIsoConfig(image, bytes);
      else await replaceDiskConfig(image, bytes);
      report(image);
      return 0;
    } catch (e) {
      return fail((e as Error).message);
    }
  }

  const format = v.format as string | undefined;
  if (!format || !(IMAGE_FORMATS as readonly string[]).includes(format)) return usageError("image", USAGE, `expected --format ${IMAGE_FORMATS.join("|")}`);
  const out = v.output as string | undefined;
  if (!out) return usageError("image", USAGE, "expected -o OUT");
  if (pos.length) return usageError("image", USAGE, `unexpected argument "${pos[0]}"`);
  // Validate first: an invalid config builds nothing.
  const config = v.config === undefined ? null : await configBytes(v.config as string, v);
  if (config === "invalid") return 1;
  const assets = resolveAssets({ base: v.base as string | undefined, kernel: v.kernel as string | undefined, initrd: v.initrd as string | undefined });
  if ("error" in assets) return fail(assets.error);
  const platform = (v.platform as string | undefined) ?? DEFAULT_PLATFORM[format as ImageFormat];
  const kernelopts = [`nexus.platform.id=${platform}`, "console=tty0", "console=ttyS0,115200n8", ...((v.karg as string[] | undefined) ?? [])].join(" ");
  const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? DEFAULT_EPOCH);
  if (!Number.isInteger(epoch) || epoch < DEFAULT_EPOCH) return fail(`SOURCE_DATE_EPOCH must be a whole number of seconds from ${DEFAULT_EPOCH} (1980-01-01) on, got "${process.env.SOURCE_DATE_EPOCH}"`);
  const started = performance.now();
  try {
    const inputs = { ...assets, kernelopts, config, epoch };
    if (format === "iso") await buildIsoImage({ ...inputs, installDest: v["install-disk"] as string | undefined }, out);
    else await buildImage(format as Exclude<ImageFormat, "iso">, inputs, out);
  } catch (e) {
    return fail((e as Error).message);
  }
  report(out, format, performance.now() - started);
  return 0;
}

/** Every timestamp's default: 1980-01-01, the oldest time FAT (the ISO's EFI image) can hold. */
const DEFAULT_EPOCH = 315532800;

function report(path: string, format?: string, ms?: number): void {
  const { sha256, size } = digestFile(path);
  const what = format ? `${format} image` : "image";
  const time = ms === undefined ? "" : ` in ${(ms / 1000).toFixed(1)} s`;
  process.stdout.write(`${what} ${path}: ${size} bytes, sha256 ${sha256}${time}\n`);
}
