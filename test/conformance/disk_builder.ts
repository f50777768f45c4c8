// Builds the "in" disks of a corpus case exactly as the corpus README ("Building the in
// state") describes upstream doing it, and compares the "out" disks afterwards ("How out is
// compared"). Tables are written by sgdisk itself (one call per disk, as upstream), so the
// code under test never reads a table its own encoder wrote; filesystems are made with
// upstream's mkfs commands; nodes through a mount. Comparison reads tables with sfdisk
// (libfdisk) and probes filesystems with blkid (libblkid), both independent of nexus-init.
//
// sgdisk sleeps a second per write, so each case's disks are built once into image files and
// every variant runs on sparse copies of them, each attached as a loop device. The host kernel
// has no GPT parser: partitions of a loop device appear only through `partx --add`.
// Everything attached or mounted is recorded and released by `release()`, also on failure.
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, constants as FS } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { runStages, type EngineResult } from "../../src/executor/engine.ts";
import { Logger } from "../../src/log/logger.ts";
import { runPathsIn } from "../../src/executor/paths.ts";
import type { StageName } from "../../src/executor/names.ts";
import { realSystem } from "../../src/system/real.ts";
import type { System } from "../../src/system/system.ts";
import { parseBlkidExport, parseWipefsFirst } from "../../src/disks/filesystems.ts";
import { formatPartitionPath } from "../../src/disks/partitions.ts";
import { spawnCollect } from "../../src/system/real.ts";
import { Root } from "../../src/system/root.ts";
import type { CommandResult } from "../../src/system/system.ts";
import { fixturePath, UuidPlaceholders, type CorpusCase, type CorpusDisk, type CorpusPartition, type CorpusVariant } from "./corpus.ts";
import { buildInNodes, caseEnv, compareRoot, preparePasswdRoot, writeSystemConfigFiles } from "./root_runner.ts";

/** What this machine's kernel can do (the corpus needs vfat, md and dm for some cases). */
export interface HostCapabilities {
  vfat: boolean;
  md: boolean;
  dm: boolean;
  loop: boolean;
}

/** Probes the running kernel. */
export function probeHostCapabilities(): HostCapabilities {
  const fs = existsSync("/proc/filesystems") ? readFileSync("/proc/filesystems", "utf8") : "";
  return {
    vfat: /\bvfat\b/.test(fs),
    md: existsSync("/proc/mdstat"),
    // The driver's misc device, not /dev/mapper/control: libdevmapper creates that node on any
    // call (cryptsetup, dmsetup), so it can exist on a kernel without device-mapper.
    dm: existsSync("/sys/class/misc/device-mapper"),
    loop: existsSync("/dev/loop-control") && process.getuid?.() === 0,
  };
}

async function run(argv: string[], what: string): Promise<CommandResult> {
  const r = await spawnCollect(argv);
  if (r.code !== 0) throw new Error(`Cannot ${what}: ${argv.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
  return r;
}

/** Every Resources with something still attached (for a last-resort release in afterAll). */
const LIVE = new Set<Resources>();

/** Releases whatever any variant left attached (a test that timed out never reaches its finally). */
export async function releaseAll(): Promise<string[]> {
  const problems: string[] = [];
  for (const r of [...LIVE]) problems.push(...(await r.release()));
  return problems;
}

/** Tracks loop devices and mounts so they can always be released, newest first. */
export class Resources {
  private readonly loops: string[] = [];
  private readonly mounts: string[] = [];

  constructor() {
    LIVE.add(this);
  }

  async attach(image: string): Promise<string> {
    const loop = (await run(["losetup", "--find", "--show", "--partscan", image], `attach "${image}"`)).stdout.trim();
    this.loops.push(loop);
    // Our kernel has no GPT parser: tell it about the partitions itself (fails harmlessly on
    // a disk without a table).
    await spawnCollect(["partx", "--add", loop]);
    return loop;
  }

  async mount(device: string, fsType: string, dir: string, readOnly = false): Promise<void> {
    mkdirSync(dir, { recursive: true });
    await run(["mount", "-t", fsType, ...(readOnly ? ["-o", "ro"] : []), device, dir], `mount "${device}"`);
    this.mounts.push(dir);
  }

  async unmount(dir: string): Promise<void> {
    await run(["umount", dir], `unmount "${dir}"`);
    this.mounts.splice(this.mounts.lastIndexOf(dir), 1);
  }

  /** Unmounts and detaches everything recorded, collecting (not throwing) problems. */
  async release(): Promise<string[]> {
    const problems: string[] = [];
    for (const dir of [...this.mounts].reverse()) {
      const r = await spawnCollect(["umount", dir]);
      if (r.code !== 0) {
        const lazy = await spawnCollect(["umount", "--lazy", dir]);
        if (lazy.code !== 0) problems.push(`umount ${dir}: ${r.stderr.trim()}`);
      }
    }
    this.mounts.length = 0;
    for (const loop of [...this.loops].reverse()) {
      await spawnCollect(["partx", "--delete", loop]);
      const r = await spawnCollect(["losetup", "--detach", loop]);
      if (r.code !== 0) problems.push(`losetup -d ${loop}: ${r.stderr.trim()}`);
    }
    this.loops.length = 0;
    LIVE.delete(this);
    return problems;
  }
}

/** Waits (bounded) until the kernel shows a device node. */
export async function waitForNode(path: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`Cannot find "${path}" after ${timeoutMs} ms`);
    await Bun.sleep(5);
  }
}

function listRealPartitions(d: CorpusDisk): CorpusPartition[] {
  return d.partitions.filter((p) => !p.blank);
}

/** The sgdisk arguments upstream uses to create a disk's table. */
export function buildSgdiskArgs(d: CorpusDisk, uuids: UuidPlaceholders): string[] {
  const args: string[] = [];
  const hybrids: number[] = [];
  for (const p of listRealPartitions(d)) {
    args.push(`--new=${p.number}:${p.offsetSectors}:+${p.lengthSectors}`, `--change-name=${p.number}:${p.label ?? ""}`);
    if (p.typeGuid) args.push(`--typecode=${p.number}:${uuids.render(p.typeGuid)}`);
    if (p.guid) args.push(`--partition-guid=${p.number}:${uuids.render(p.guid)}`);
    if (p.hybridMbr) hybrids.push(p.number);
  }
  if (hybrids.length > 0) args.push(`--hybrid=${hybrids.join(":")}`);
  return args;
}

/** Upstream's mkfs command for a partition of the in state (undefined: nothing to make). */
export function buildMkfsArgs(p: CorpusPartition, uuids: UuidPlaceholders, device: string): string[] | undefined {
  const label = p.fsLabel;
  const uuid = p.fsUuid ? uuids.render(p.fsUuid) : null;
  switch (p.fsType) {
    case "vfat":
      return ["mkfs.fat", ...(label ? ["-n", label] : []), ...(uuid ? ["-i", uuid] : []), device];
    case "ext2":
    case "ext4":
      return ["mke2fs", "-q", "-t", p.fsType, "-b", "4096", "-i", "4096", "-I", "128", "-e", "remount-ro", ...(label ? ["-L", label] : []), ...(uuid ? ["-U", uuid] : []), device];
    case "btrfs":
      return ["mkfs.btrfs", ...(label ? ["--label", label] : []), ...(uuid ? ["--uuid", uuid] : []), device];
    case "xfs":
      return ["mkfs.xfs", ...(label ? ["-L", label] : []), ...(uuid ? ["-m", `uuid=${uuid}`] : []), device];
    default:
      return undefined;
  }
}

function hasNodes(p: CorpusPartition): boolean {
  return p.files.length + p.directories.length + p.links.length > 0;
}

/** A filesystem type that holds nodes and can be mounted. */
function isNodeFs(t: string | null): t is string {
  return t !== null && t !== "swap" && t !== "blank" && t !== "image";
}

/** Why this host cannot build or check a disk set, or undefined when it can. */
export function hostBuildProblem(disks: readonly CorpusDisk[], caps: HostCapabilities): string | undefined {
  for (const d of disks) {
    for (const p of listRealPartitions(d)) {
      if (p.fsType === "vfat" && hasNodes(p) && !caps.vfat) return "nodes on a vfat partition need a kernel with vfat";
    }
  }
  return undefined;
}

/**
 * Builds every in-disk of a case as an image file in `dir` (sparse, created 0644), returning
 * their paths. Loop devices and mounts used on the way are released before returning.
 */
export async function buildInImages(c: CorpusCase, uuids: UuidPlaceholders, dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const images: string[] = [];
  const res = new Resources();
  try {
    for (const [i, d] of c.in.entries()) {
      const image = join(dir, `in${i}.img`);
      const fd = openSync(image, FS.O_CREAT | FS.O_WRONLY | FS.O_TRUNC, 0o644);
      closeSync(fd);
      await run(["truncate", "--size", String(d.imageSizeBytes), image], "size the image");
      images.push(image);
      const parts = listRealPartitions(d);
      if (parts.length === 0) continue;
      await run(["sgdisk", ...buildSgdiskArgs(d, uuids), image], `write the partition table of disk ${i}`);
      const work = parts.filter((p) => p.fsType !== null && p.fsType !== "swap" && p.fsType !== "blank");
      if (work.length > 0) {
        const loop = await res.attach(image);
        for (const p of work) {
          const node = formatPartitionPath(loop, p.number);
          await waitForNode(node);
          if (p.fsType === "image") {
            const bytes = await decodeFixture(p.fsImageFixture!);
            const out = openSync(node, "r+");
            try {
              writeSync(out, bytes, 0, bytes.length, 0);
            } finally {
              closeSync(out);
            }
            continue;
          }
          const mkfs = buildMkfsArgs(p, uuids, node);
          if (!mkfs) throw new Error(`Cannot build filesystem type "${p.fsType}" of ${c.id}`);
          await run(mkfs, `format partition ${p.number} of disk ${i}`);
        }
        for (const p of parts.filter((p) => isNodeFs(p.fsType) && hasNodes(p))) {
          const mnt = join(dir, `mnt-${i}-${p.number}`);
          await res.mount(formatPartitionPath(loop, p.number), p.fsType!, mnt);
          const old = process.umask(0o022);
          try {
            buildInNodes(mnt, p);
          } finally {
            process.umask(old);
          }
          await res.unmount(mnt);
        }
        const problems = await res.release();
        if (problems.length) throw new Error(`Cannot release the build devices: ${problems.join("; ")}`);
      }
      if (d.corruptTable) {
        const garbage = new Uint8Array(1536);
        crypto.getRandomValues(garbage);
        const out = openSync(image, "r+");
        try {
          writeSync(out, garbage, 0, garbage.length, 0);
        } finally {
          closeSync(out);
        }
      }
    }
    return images;
  } finally {
    await res.release();
  }
}

async function decodeFixture(rel: string): Promise<Uint8Array> {
  const b64 = readFileSync(fixturePath(...rel.replace(/^fixtures\//, "").split("/")), "utf8");
  const compressed = Buffer.from(b64, "base64");
  const p = Bun.spawn(["bunzip2", "-c"], { stdin: new Blob([compressed]), stdout: "pipe", stderr: "pipe" });
  const out = new Uint8Array(await new Response(p.stdout).arrayBuffer());
  if ((await p.exited) !== 0) throw new Error(`Cannot decompress fixture "${rel}"`);
  return out;
}

/** Sparse copies of the pristine images, for one variant. */
export async function copyImages(images: readonly string[], dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const out: string[] = [];
  for (const [i, img] of images.entries()) {
    const copy = join(dir, `disk${i}.img`);
    await run(["cp", "--sparse=always", img, copy], "copy a disk image");
    chmodSync(copy, 0o644);
    out.push(copy);
  }
  return out;
}

/**
 * Replaces the device placeholders of a config: per disk in order, its mntDevices
 * substitutions (first disk with a partition of that label wins), then `$disk<i>`.
 */
export function renderDevices(configText: string, c: CorpusCase, diskPath: (i: number) => string, partPath: (i: number, n: number) => string): string {
  let text = configText;
  const done = new Set<string>();
  for (const [i, d] of c.in.entries()) {
    for (const m of c.mntDevices) {
      if (done.has(m.substitution)) continue;
      const p = listRealPartitions(d).find((x) => x.label === m.label);
      if (!p) continue;
      text = text.replaceAll(m.substitution, partPath(i, p.number));
      done.add(m.substitution);
    }
    text = text.replaceAll(`$disk${i}`, diskPath(i));
  }
  const left = c.mntDevices.filter((m) => !done.has(m.substitution));
  if (left.length > 0) throw new Error(`Cannot substitute ${left.map((m) => m.substitution).join(", ")}: no partition has that label`);
  return text;
}

const hexOnly = (s: string) => s.replace(/-/g, "").toLowerCase();

interface SfdiskPartition {
  node: string;
  start: number;
  size: number;
  type: string;
  uuid?: string;
  name?: string;
}

/** The GPT partitions of a disk as sfdisk reads them, by number (empty: no GPT). */
export async function readTableWithSfdisk(disk: string): Promise<Map<number, SfdiskPartition>> {
  const r = await spawnCollect(["sfdisk", "--json", disk]);
  const out = new Map<number, SfdiskPartition>();
  if (r.code !== 0) return out;
  const t = (JSON.parse(r.stdout) as { partitiontable: { label: string; partitions?: SfdiskPartition[] } }).partitiontable;
  if (t.label !== "gpt") return out;
  for (const p of t.partitions ?? []) out.set(Number(/(\d+)$/.exec(p.node.slice(disk.length))![1]), p);
  return out;
}

/** Probes a device with libblkid (blkid -p); an ambivalent result is an error unless allowed. */
export async function probeWithBlkid(device: string, allowAmbivalent: boolean): Promise<{ type: string; uuid: string; label: string } | string> {
  const r = await spawnCollect(["blkid", "-p", "-o", "export", device]);
  if (r.code === 0) return parseBlkidExport(r.stdout);
  if (r.code === 2) return { type: "", uuid: "", label: "" };
  if (r.code === 8) {
    if (!allowAmbivalent) return `ambivalent probe of ${device}`;
    const w = await spawnCollect(["wipefs", "--no-act", "--json", device]);
    return parseWipefsFirst(w.stdout);
  }
  return `blkid ${device} exited ${r.code}: ${r.stderr.trim()}`;
}

/**
 * Compares every out disk with the attached disks: partition table, probed filesystems, and
 * nodes (mounted read-only under `mntDir`). Returns every difference.
 */
export async function compareOut(
  c: CorpusCase,
  uuids: UuidPlaceholders,
  loops: readonly string[],
  configText: string,
  res: Resources,
  mntDir: string,
): Promise<string[]> {
  const problems: string[] = [];
  for (const [i, out] of c.out.entries()) {
    const loop = loops[i]!;
    const table = await readTableWithSfdisk(loop);
    const expected = listRealPartitions(out);
    for (const p of expected) {
      const got = table.get(p.number);
      const where = `disk ${i} partition ${p.number}`;
      if (!got) {
        problems.push(`${where}: missing`);
        continue;
      }
      if ((got.name ?? "") !== (p.label ?? "")) problems.push(`${where}: name "${got.name ?? ""}", expected "${p.label}"`);
      if (got.size !== p.expectedSizeSectors) problems.push(`${where}: size ${got.size}, expected ${p.expectedSizeSectors}`);
      if (p.typeGuid && hexOnly(got.type) !== hexOnly(uuids.render(p.typeGuid))) problems.push(`${where}: type ${got.type}, expected ${uuids.render(p.typeGuid)}`);
      if (p.guid && hexOnly(got.uuid ?? "") !== hexOnly(uuids.render(p.guid))) problems.push(`${where}: guid ${got.uuid}, expected ${uuids.render(p.guid)}`);
    }
    const numbers = new Set(expected.map((p) => p.number));
    for (const n of table.keys()) if (!numbers.has(n)) problems.push(`disk ${i}: unexpected partition ${n}`);

    for (const p of expected) {
      const node = formatPartitionPath(loop, p.number);
      if (p.fsType || p.fsUuid || p.fsLabel) {
        if (!existsSync(node)) {
          problems.push(`disk ${i} partition ${p.number}: no device node to probe`);
          continue;
        }
        const probe = await probeWithBlkid(node, p.fsAmbivalent);
        if (typeof probe === "string") {
          problems.push(`disk ${i} partition ${p.number}: ${probe}`);
          continue;
        }
        if (p.fsType && probe.type !== p.fsType) problems.push(`disk ${i} partition ${p.number}: filesystem ${probe.type || "(none)"}, expected ${p.fsType}`);
        if (p.fsUuid && hexOnly(probe.uuid) !== hexOnly(uuids.render(p.fsUuid))) problems.push(`disk ${i} partition ${p.number}: fs uuid ${probe.uuid}, expected ${uuids.render(p.fsUuid)}`);
        if (p.fsLabel !== null && p.fsLabel !== undefined && probe.label !== p.fsLabel) problems.push(`disk ${i} partition ${p.number}: fs label "${probe.label}", expected "${p.fsLabel}"`);
      }
      if (isNodeFs(p.fsType) && (hasNodes(p) || p.removedNodes.length > 0)) {
        const mnt = join(mntDir, `out-${i}-${p.number}`);
        await res.mount(node, p.fsType, mnt, true);
        try {
          const inPart = c.in[i]?.partitions.find((x) => x.number === p.number && !x.blank) ?? p;
          problems.push(...compareRoot(Root.open(mnt), p, inPart, configText).map((m) => `disk ${i} partition ${p.number}: ${m}`));
        } finally {
          await res.unmount(mnt);
        }
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Running one variant on the host

/** Where a variant runs, and why. */
export type Backend = { kind: "host" } | { kind: "vm"; why: string };

/** Formats mounted by the mount stage (vfat needs a kernel with vfat). */
function mountsVfat(c: CorpusCase): boolean {
  return /"format"\s*:\s*"vfat"/.test(c.config) && /"path"\s*:/.test(c.config);
}

/** Chooses the backend for a case on a host with these capabilities. */
export function chooseBackend(c: CorpusCase, caps: HostCapabilities): Backend {
  const disks = [...c.in, ...c.out];
  const build = hostBuildProblem(disks, caps);
  if (build) return { kind: "vm", why: build };
  if (c.kind === "positive") {
    if (c.requirements.needsLuks && !caps.dm) return { kind: "vm", why: "LUKS needs device-mapper" };
    if (c.requirements.needsRaid && !caps.md) return { kind: "vm", why: "RAID needs md" };
    if (mountsVfat(c) && !caps.vfat) return { kind: "vm", why: "the mount stage mounts vfat" };
  }
  return { kind: "host" };
}

/**
 * True when a negative case failed for a reason the host imposes rather than the one the case
 * tests (a missing kernel feature): such a failure proves nothing.
 */
export function isEnvironmentalFailure(error: string, caps: HostCapabilities): boolean {
  if (!caps.vfat && /unknown filesystem type 'vfat'/.test(error)) return true;
  if (!caps.dm && /device-mapper|dm-crypt|Cannot initialize device/i.test(error)) return true;
  if (!caps.md && /mdadm/.test(error) && /not supported|No such device|md driver/i.test(error)) return true;
  return false;
}



/** The ROOT partition of the first disk that has one. */
export function findRootPartition(c: CorpusCase): { disk: number; part: CorpusPartition } | undefined {
  for (const [i, d] of c.in.entries()) {
    const part = listRealPartitions(d).find((p) => p.label === "ROOT");
    if (part) return { disk: i, part };
  }
  return undefined;
}

/** A variant's verdict with what went wrong. */
export interface BlockOutcome {
  passed: boolean;
  detail: string;
}

/**
 * Runs one variant on loop devices: copies of the case's pristine images, the stages in
 * upstream's order (fetch, disks, mount ROOT, mount, files, umount, unmount ROOT) through our
 * engine in-process, then the out comparison. Everything is released, also on failure.
 */
export async function runHostVariant(
  v: CorpusVariant,
  pristine: readonly string[],
  uuids: UuidPlaceholders,
  caps: HostCapabilities,
  rewrite: (config: string) => string = (t) => t,
): Promise<BlockOutcome> {
  const work = mkdtempSync(join(tmpdir(), "nexus-blk-"));
  chmodSync(work, 0o755);
  const res = new Resources();
  const lines: string[] = [];
  const tail = () => lines.slice(-25).join("\n");
  try {
    const c = v.case;
    const images = await copyImages(pristine, join(work, "disks"));
    const loops: string[] = [];
    for (const img of images) loops.push(await res.attach(img));
    for (const [i, d] of c.in.entries()) {
      if (d.corruptTable) continue;
      for (const p of listRealPartitions(d)) await waitForNode(formatPartitionPath(loops[i]!, p.number));
    }
    const configText = renderDevices(uuids.render(rewrite(v.config)), c, (i) => loops[i]!, (i, n) => formatPartitionPath(loops[i]!, n));
    writeFileSync(join(work, "config.ign"), configText);
    const dirs = writeSystemConfigFiles(work, c.systemConfigFiles, uuids);
    const system: System = { ...realSystem(), env: harnessEnv(c, work, dirs) };
    const log = new Logger((l) => lines.push(l));
    const root = join(work, "root");
    mkdirSync(root, { mode: 0o755 });
    const rootPart = findRootPartition(c);
    const rootNode = rootPart ? formatPartitionPath(loops[rootPart.disk]!, rootPart.part.number) : undefined;
    if (rootPart && configText.includes("passwd")) {
      await res.mount(rootNode!, rootPart.part.fsType!, root);
      preparePasswdRoot(root);
      await res.unmount(root);
    }
    const engine = (stages: StageName[]) =>
      runStages(stages, { root, platform: "file", system, log, paths: runPathsIn(join(work, "run")), configSource: "file:config.ign", persistState: true });
    const first = await engine(["fetch", "disks"]);
    if (!first.ok) return negativeOrFail(v, first, caps, tail);
    if (!rootPart) return { passed: false, detail: "the case has no ROOT partition" };
    await res.mount(rootNode!, rootPart.part.fsType!, root);
    const second = await engine(["mount", "files", "umount"]);
    await res.unmount(root);
    if (!second.ok) return negativeOrFail(v, second, caps, tail);
    if (c.kind === "negative") return { passed: false, detail: `expected failure and the engine succeeded\n${tail()}` };
    const problems = await compareOut(c, uuids, loops, configText, res, join(work, "mnt"));
    return { passed: problems.length === 0, detail: `${problems.join("\n")}\n${problems.length ? tail() : ""}` };
  } catch (e) {
    return { passed: false, detail: `runner error: ${(e as Error).stack ?? e}\n${tail()}` };
  } finally {
    const problems = await res.release();
    if (problems.length === 0) rmSync(work, { recursive: true, force: true });
    else console.error(`blockdev: could not release everything for ${v.name} (work dir ${work} kept): ${problems.join("; ")}`);
  }
}

function negativeOrFail(v: CorpusVariant, r: EngineResult, caps: HostCapabilities, tail: () => string): BlockOutcome {
  if (v.case.kind === "positive") return { passed: false, detail: `stage ${r.failedStage} failed: ${r.error}\n${tail()}` };
  if (isEnvironmentalFailure(r.error ?? "", caps)) {
    return { passed: false, detail: `inconclusive: stage ${r.failedStage} failed for a reason this host imposes: ${r.error}` };
  }
  return { passed: true, detail: `failed as expected in ${r.failedStage}: ${r.error}` };
}

// ---------------------------------------------------------------------------------------------
// Running variants in the test VM

/** One variant for the VM, with its case's pristine images. */
export interface VmVariantInput {
  v: CorpusVariant;
  images: string[];
  uuids: UuidPlaceholders;
}

/** A VM variant's verdict (same shape as a host variant's). */
export type VmVariantResult = BlockOutcome;

const guestDisk = (index: number) => `/dev/vd${String.fromCharCode(97 + index)}`;

/**
 * Brings dist/nexus-init and the test VM's initramfs up to date (make tracks the sources), so
 * the guest never runs a stale build.
 */
export async function ensureTestVmArtifacts(): Promise<void> {
  const repo = join(import.meta.dir, "../..");
  const r = await spawnCollect(["make", "-C", repo, "--no-print-directory", "kernel", "initramfs"]);
  if (r.code !== 0) throw new Error(`Cannot build the test VM artifacts (make kernel initramfs): ${r.stderr.trim() || r.stdout.trim()}`);
}

/** The bash function the guest runs per variant: upstream's stage order, one call per stage. */
const GUEST_RUNNER = `
run_variant() {
  local out="$NEXUS_RESULTS/$1"
  mkdir -p "$out"
  run_stages "$@"
  echo ok > "$out/done"
}
run_stages() {
  local k=$1 root=$2 fstype=$3 out="$NEXUS_RESULTS/$1" failed=""
  mkdir -p "/run/nx/$k" "/mnt/$k"
  export NEXUS_PATH_RUN_DIR="/run/nx/$k" IGNITION_CONFIG_FILE="/nexus-test/$k/config.ign" \\
    NEXUS_PATH_CMDLINE=/nexus-test/empty-cmdline NEXUS_DEVICE_TIMEOUT_MS=60000 NEXUS_CONFIG_DEVICE_WAIT=2
  stage() { echo "== $1" >> "$out/log"; nexus-init run --stage "$1" --platform file --root "/mnt/$k" >> "$out/log" 2>&1; }
  for s in fetch disks; do stage $s || { echo "$s" > "$out/failed"; return 0; }; done
  mount -t "$fstype" "$root" "/mnt/$k" || { echo "harness: mount ROOT" > "$out/failed"; return 0; }
  for s in mount files; do [ -n "$failed" ] || stage $s || failed=$s; done
  stage umount || [ -n "$failed" ] || failed=umount
  umount "/mnt/$k" || [ -n "$failed" ] || failed="harness: umount ROOT"
  for d in /dev/mapper/*; do [ "$d" = /dev/mapper/control ] || cryptsetup close "$d" 2>/dev/null; done
  [ -z "$failed" ] || echo "$failed" > "$out/failed"
}
`;

/**
 * Runs variants the host cannot run in one test-VM boot: each gets copies of its case's
 * images as virtio disks, the stages run in the guest as at boot (one `nexus-init run` per
 * stage), and the out disks are compared on the host afterwards.
 */
export async function runVmVariants(inputs: readonly VmVariantInput[], caps: HostCapabilities, dir: string): Promise<Map<string, VmVariantResult>> {
  const { runTestVm } = await import("../qemu/test_vm.ts");
  await ensureTestVmArtifacts();
  const results = new Map<string, VmVariantResult>();
  mkdirSync(dir, { recursive: true });
  const disks: string[] = [];
  const files: Record<string, string> = { "empty-cmdline": "" };
  const calls: string[] = [];
  const plan: { input: VmVariantInput; key: string; first: number; images: string[]; configText: string }[] = [];
  for (const [k, input] of inputs.entries()) {
    const c = input.v.case;
    const key = `v${k}`;
    const hasSystemFiles = Object.values(c.systemConfigFiles).some((l) => l.length > 0);
    const rootPart = findRootPartition(c);
    if (hasSystemFiles || !rootPart) {
      results.set(input.v.name, { passed: false, detail: "the VM runner does not support system config files or cases without ROOT" });
      continue;
    }
    const images = await copyImages(input.images, join(dir, key));
    const first = disks.length;
    disks.push(...images);
    const configText = renderDevices(input.uuids.render(input.v.config), c, (i) => guestDisk(first + i), (i, n) => formatPartitionPath(guestDisk(first + i), n));
    files[`${key}/config.ign`] = configText;
    calls.push(`run_variant ${key} ${formatPartitionPath(guestDisk(first + rootPart.disk), rootPart.part.number)} ${rootPart.part.fsType}`);
    plan.push({ input, key, first, images, configText });
  }
  if (plan.length === 0) return results;
  // Cases that bind to a TPM get a fresh software TPM 2.0 (swtpm, QEMU's tpm-tis device).
  const tpm = inputs.some((i) => i.v.case.requirements.needsTpm2) ? { stateDir: join(dir, "tpm") } : undefined;
  const vm = await runTestVm({
    tpm,
    script: `${GUEST_RUNNER}\n${calls.join("\n")}\n`,
    files,
    disks: disks.map((image, i) => ({ image, serial: `disk${i}` })),
    memMiB: 2048,
    timeoutMs: 600_000,
    workDir: join(dir, "vm"),
    serialLog: join(dir, "serial.log"),
  });
  try {
    for (const p of plan) {
      const read = (name: string) => {
        try {
          return vm.readResult(`${p.key}/${name}`).trim();
        } catch {
          return undefined;
        }
      };
      const log = read("log") ?? "";
      const logTail = log.split("\n").slice(-25).join("\n");
      if (read("done") === undefined) {
        results.set(p.input.v.name, { passed: false, detail: `the guest did not finish this variant (exit ${vm.exitCode}, timed out: ${vm.vm.timedOut})\n${logTail}\n${vm.vm.serial.split("\n").slice(-15).join("\n")}` });
        continue;
      }
      const failed = read("failed");
      const c = p.input.v.case;
      if (failed !== undefined) {
        if (c.kind === "negative" && !failed.startsWith("harness") && !isEnvironmentalFailure(log, { vfat: true, md: true, dm: true, loop: true })) {
          results.set(p.input.v.name, { passed: true, detail: `failed as expected in ${failed}` });
        } else results.set(p.input.v.name, { passed: false, detail: `stage ${failed} failed in the guest\n${logTail}` });
        continue;
      }
      if (c.kind === "negative") {
        results.set(p.input.v.name, { passed: false, detail: `expected failure and the guest run succeeded\n${logTail}` });
        continue;
      }
      const res = new Resources();
      try {
        const loops: string[] = [];
        for (const img of p.images) loops.push(await res.attach(img));
        const problems = await compareOut(c, p.input.uuids, loops, p.configText, res, join(dir, p.key, "mnt"));
        results.set(p.input.v.name, { passed: problems.length === 0, detail: `${problems.join("\n")}\n${problems.length ? logTail : ""}` });
      } catch (e) {
        results.set(p.input.v.name, { passed: false, detail: `comparison error: ${(e as Error).message}` });
      } finally {
        await res.release();
      }
    }
  } finally {
    vm.cleanup();
  }
  return results;
}

/** The environment upstream's harness gives Ignition, mapped to our engine's variables. */
export function harnessEnv(c: CorpusCase, work: string, dirs: Record<string, string>): Record<string, string | undefined> {
  return caseEnv(c, work, dirs, { NEXUS_DEVICE_TIMEOUT_MS: "10000" });
}
