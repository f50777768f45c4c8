// Inspecting a guest's disk image from the host after the guest powered off: the GPT read
// from the image file (sfdisk --json), and the partitions' filesystems mounted read-only
// through a read-only loop device. The host kernel has no GPT parser, so partitions are
// registered with `partx -a`. Everything is undone, also when the callback throws.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** One GPT entry of an image. */
export interface GptEntry {
  number: number;
  startMiB: number;
  sizeMiB: number;
  label: string;
  typeGuid: string;
  guid: string;
}

function run(argv: string[]): { code: number; stdout: string; stderr: string } {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

function check(argv: string[]): string {
  const r = run(argv);
  if (r.code !== 0) throw new Error(`Cannot run "${argv.join(" ")}": exit code ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** The partition table of an image file. */
export function readGpt(image: string): GptEntry[] {
  const json = JSON.parse(check(["sfdisk", "--json", image])) as {
    partitiontable: { sectorsize?: number; partitions?: { node: string; start: number; size: number; type: string; uuid: string; name?: string }[] };
  };
  const sector = json.partitiontable.sectorsize ?? 512;
  return (json.partitiontable.partitions ?? []).map((p) => ({
    number: Number(/(\d+)$/.exec(p.node)?.[1] ?? 0),
    startMiB: (p.start * sector) / 2 ** 20,
    sizeMiB: (p.size * sector) / 2 ** 20,
    label: p.name ?? "",
    typeGuid: p.type.toUpperCase(),
    guid: p.uuid.toUpperCase(),
  }));
}

/** What `blkid` says about a partition of an attached image. */
export interface Probe {
  TYPE?: string;
  LABEL?: string;
  UUID?: string;
  PARTLABEL?: string;
  [key: string]: string | undefined;
}

/** An image attached read-only, its partitions registered. */
export interface AttachedImage {
  device: string;
  /** The block device of partition n. */
  partition(n: number): string;
  probe(n: number): Probe;
  /** Mounts partition n read-only (no journal replay), runs fn with the mount point, unmounts. */
  withMount<T>(n: number, fn: (dir: string) => T | Promise<T>): Promise<T>;
}

/** Attaches an image read-only with its partitions for the callback, then detaches it. */
export async function withImage<T>(image: string, fn: (img: AttachedImage) => T | Promise<T>): Promise<T> {
  const device = check(["losetup", "--find", "--show", "--read-only", image]).trim();
  const mounts: string[] = [];
  try {
    check(["partx", "--add", device]);
    const partition = (n: number) => `${device}p${n}`;
    const probe = (n: number): Probe => {
      const out = run(["blkid", "--probe", "--output", "export", partition(n)]).stdout;
      return Object.fromEntries(out.split("\n").filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
    };
    const withMount = async <R,>(n: number, body: (dir: string) => R | Promise<R>): Promise<R> => {
      const type = probe(n).TYPE;
      const opts = type === "xfs" ? "ro,norecovery" : type === "ext4" || type === "ext3" ? "ro,noload" : "ro";
      const dir = mkdtempSync(join(tmpdir(), "nexus-qemu-mnt-"));
      check(["mount", "-o", opts, partition(n), dir]);
      mounts.push(dir);
      try {
        return await body(dir);
      } finally {
        run(["umount", dir]);
        mounts.splice(mounts.indexOf(dir), 1);
        rmSync(dir, { recursive: true, force: true });
      }
    };
    return await fn({ device, partition, probe, withMount });
  } finally {
    for (const dir of mounts) run(["umount", "--lazy", dir]);
    run(["partx", "--delete", device]);
    run(["losetup", "--detach", device]);
  }
}

/** SHA-256 of a whole file (a disk image), streamed. */
export async function hashFile(path: string): Promise<string> {
  const h = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) h.update(chunk);
  return h.digest("hex");
}

/** The partition number a config's device path names on an attached image, or null. */
export function partitionForDevice(device: string, gpt: GptEntry[], probe: (n: number) => Probe): number | null {
  let m = /^\/dev\/disk\/by-partlabel\/(.+)$/.exec(device);
  if (m) return gpt.find((p) => p.label === m![1])?.number ?? null;
  m = /^\/dev\/disk\/by-partuuid\/(.+)$/.exec(device);
  if (m) return gpt.find((p) => p.guid === m![1]!.toUpperCase())?.number ?? null;
  m = /^\/dev\/disk\/by-label\/(.+)$/.exec(device);
  if (m) return gpt.find((p) => probe(p.number).LABEL === m![1])?.number ?? null;
  m = /^\/dev\/(?:vd|sd|xvd)[a-z]+(\d+)$/.exec(device) ?? /^\/dev\/nvme\d+n\d+p(\d+)$/.exec(device);
  return m ? Number(m[1]) : null;
}

/**
 * Mounts an image's root (the partition whose filesystem is labelled rootLabel) and every
 * filesystem the config mounts at a path, read-only, and runs fn with a map from target
 * paths to host paths. Throws when a filesystem cannot be found on the image.
 */
export async function withProvisionedImage<T>(
  image: string,
  filesystems: { path: string; device: string }[],
  fn: (mounts: Record<string, string>, img: AttachedImage, gpt: GptEntry[]) => T | Promise<T>,
  rootLabel = "root",
): Promise<T> {
  const gpt = readGpt(image);
  return withImage(image, async (img) => {
    const rootPart = gpt.find((p) => img.probe(p.number).LABEL === rootLabel)?.number;
    if (rootPart === undefined) throw new Error(`Cannot find the root filesystem on "${image}": no partition has label "${rootLabel}"`);
    const parts = filesystems.map((f) => {
      const n = partitionForDevice(f.device, gpt, img.probe);
      if (n === null) throw new Error(`Cannot find filesystem "${f.device}" (${f.path}) on "${image}"`);
      return { path: f.path, n };
    });
    const mounts: Record<string, string> = {};
    const mountNext = async (i: number): Promise<T> => {
      if (i === parts.length) return fn(mounts, img, gpt);
      return img.withMount(parts[i]!.n, (dir) => {
        mounts[parts[i]!.path] = dir;
        return mountNext(i + 1);
      });
    };
    return img.withMount(rootPart, (dir) => {
      mounts["/"] = dir;
      return mountNext(0);
    });
  });
}
