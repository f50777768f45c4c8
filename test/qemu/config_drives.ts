// Config drive images for the platform scenarios, built on the host without mounting anything:
// ISO 9660 (genisoimage, Rock Ridge + Joliet), ISO 9660 with a UDF bridge (what blkid reports as
// udf, as Azure's OVF CD-ROM), and vfat (mkfs.vfat, then mtools copies the tree in).
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

function run(argv: string[]): void {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`Cannot run "${argv.join(" ")}": exit code ${r.exitCode}: ${r.stderr.toString().trim()}`);
}

function writeTree(dir: string, files: Record<string, string>): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), body);
  }
}

/** An image at `out` labelled `label` holding `files`: "iso", "udf" (ISO with a UDF bridge) or "vfat". */
export function makeConfigDrive(out: string, kind: "iso" | "udf" | "vfat", label: string, files: Record<string, string>): string {
  const tree = `${out}.d`;
  writeTree(tree, files);
  rmSync(out, { force: true });
  if (kind === "vfat") {
    run(["mkfs.vfat", "-C", "-n", label, out, "4096"]);
    for (const top of new Set(Object.keys(files).map((p) => p.split("/")[0]!))) run(["mcopy", "-i", out, "-s", join(tree, top), "::/"]);
  } else {
    run(["genisoimage", "-quiet", ...(kind === "udf" ? ["-udf"] : []), "-r", "-J", "-V", label, "-o", out, tree]);
  }
  rmSync(tree, { recursive: true, force: true });
  return out;
}
