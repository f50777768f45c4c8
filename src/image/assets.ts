// What an image is built from when the command line names nothing: the project's own base OS
// image, kernel and LiveCD initramfs, as `make initramfs base-image` leaves them beside
// dist/nexus (dist/base-os.img, dist/initramfs.img, build/kernel/vmlinuz). They are found next
// to the running binary (or under ./dist for `bun src/nexus.ts`), not embedded: embedding them
// would add ~60 MB (kernel, initramfs, sparse base image) to every copy of `nexus`.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export interface ImageAssets {
  base: string;
  kernel: string;
  initrd: string;
}

/** The make target that builds each default asset. */
const MAKE_TARGET: Record<keyof ImageAssets, string> = { base: "base-image", kernel: "kernel", initrd: "initramfs" };
const FLAG: Record<keyof ImageAssets, string> = { base: "--base", kernel: "--kernel", initrd: "--initrd" };

/** The directories holding dist/ outputs, most specific first. */
function distDirs(): string[] {
  return [...new Set([dirname(process.execPath), resolve("dist")])];
}

/** Each asset the user named, else the project's default; a missing one is an error naming the make target. */
export function resolveAssets(given: Partial<ImageAssets>, env: Record<string, string | undefined> = process.env): ImageAssets | { error: string } {
  const defaults = (dir: string): ImageAssets => ({ base: join(dir, "base-os.img"), initrd: join(dir, "initramfs.img"), kernel: join(dir, "../build/kernel/vmlinuz") });
  const out: Partial<ImageAssets> = {};
  for (const key of ["base", "kernel", "initrd"] as const) {
    const named = given[key] ?? env[`NEXUS_IMAGE_${key.toUpperCase()}`];
    if (named) {
      if (!existsSync(named)) return { error: `Cannot find ${FLAG[key]} "${named}": no such file` };
      out[key] = named;
      continue;
    }
    const candidates = distDirs().map((d) => defaults(d)[key]);
    const hit = candidates.find((c) => existsSync(c));
    if (!hit) return { error: `Cannot find the default ${key === "initrd" ? "initramfs" : key === "base" ? "base OS image" : "kernel"} (looked at ${candidates.join(", ")}): run \`make ${MAKE_TARGET[key]}\` in the nexus-init checkout, or pass ${FLAG[key]}` };
    out[key] = hit;
  }
  return out as ImageAssets;
}
