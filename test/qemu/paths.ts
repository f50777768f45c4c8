// Where the boot artifacts live (built by mk/boot.mk), relative to the repository root.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** The repository root (this file is test/qemu/paths.ts). */
export const REPO = resolve(import.meta.dir, "../..");

const env = process.env;

/** Build outputs the QEMU harness boots (each overridable, e.g. to try another initramfs). */
export const ARTIFACTS = {
  kernel: env.NEXUS_QEMU_KERNEL ?? join(REPO, "build/kernel/vmlinuz"),
  kernelRelease: join(REPO, "build/kernel/kver"),
  initramfs: env.NEXUS_QEMU_INITRAMFS ?? join(REPO, "dist/initramfs.img"),
  /** The test VM's extra tools, an archive built beside the initramfs (initramfs/test-tools.list). */
  testTools: env.NEXUS_QEMU_TEST_TOOLS ?? join(REPO, "dist/initramfs-test-tools.img"),
  dracutInitramfs: env.NEXUS_QEMU_DRACUT_INITRAMFS ?? join(REPO, "dist/initramfs-dracut.img"),
  baseImage: env.NEXUS_QEMU_BASE_IMAGE ?? join(REPO, "dist/base-os.img"),
  binary: join(REPO, "dist/nexus-init"),
  nexus: join(REPO, "dist/nexus"),
  /** The demo machine, compiled from examples/demo/system.ts by `make build`. */
  demoConfig: join(REPO, "dist/demo.ign"),
} as const;
export type ArtifactName = keyof typeof ARTIFACTS;

/** The artifact's path; throws with the make target to run when it is missing. */
export function requireArtifact(name: ArtifactName): string {
  const p = ARTIFACTS[name];
  if (!existsSync(p)) {
    const target = { dracutInitramfs: "initramfs-dracut", baseImage: "base-image", kernelRelease: "kernel", kernel: "kernel", binary: "build", testTools: "initramfs", nexus: "build", demoConfig: "build" }[name as string] ?? name;
    throw new Error(`Cannot find ${name} "${p}": run \`make ${target}\` first`);
  }
  return p;
}

/** The downloaded kernel's release string (e.g. 6.1.0-56-cloud-amd64). */
export function kernelRelease(): string {
  return readFileSync(requireArtifact("kernelRelease"), "utf8").trim();
}
