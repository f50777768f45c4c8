// Initramfs compression benchmark (issue 16; not a test): the LiveCD initramfs's archive
// (build/initramfs/initramfs.cpio, left by `make initramfs`) compressed with each format the
// Debian cloud kernel unpacks (CONFIG_RD_*: gzip, bzip2, lzma, xz, lzo, lz4, zstd), at a few
// levels. For each: the size, the compression time, the host's decompression time (the
// userspace tool, best of 3), and under TCG the kernel's own unpack time and kernel → /init
// (median of --runs boots, alternating the candidates; each boot stops at /init's
// "kernel → /init" line, read from the kernel's log by /init).
// Usage: bun run bench/initramfs.ts [--runs N] [--only name,name]
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { REPO, requireArtifact } from "../test/qemu/paths.ts";
import { bootVm } from "../test/qemu/qemu.ts";
import { parseBootLog } from "../test/qemu/serial.ts";

const WORK = join(REPO, "build/bench/initramfs");
const CPIO = join(REPO, "build/initramfs/initramfs.cpio");
const KERNEL_LINE = /^nexus-boot: \[.*\] kernel → \/init: /;

interface Candidate {
  name: string;
  /** Reads the archive on stdin, writes the compressed image on stdout. */
  compress: string;
  /** Decompresses stdin to stdout. */
  decompress: string;
}

// xz: the kernel's decoder checks only CRC32 (--check=crc32); its BCJ x86 filter is built in
// (CONFIG_XZ_DEC_X86). lz4: the kernel reads only the legacy frame format (-l).
const CANDIDATES: Candidate[] = [
  { name: "gzip -9", compress: "gzip -9 -n", decompress: "gzip -dc" },
  { name: "lz4 -l -9", compress: "lz4 -l -9 -q", decompress: "lz4 -dc" },
  { name: "zstd -3", compress: "zstd -q -T1 -3", decompress: "zstd -dc" },
  { name: "zstd -12", compress: "zstd -q -T1 -12", decompress: "zstd -dc" },
  { name: "zstd -19", compress: "zstd -q -T1 -19", decompress: "zstd -dc" },
  { name: "zstd -19 --long=27", compress: "zstd -q -T1 -19 --long=27", decompress: "zstd -dc --long=27" },
  { name: "zstd -22 --ultra", compress: "zstd -q -T1 --ultra -22", decompress: "zstd -dc --memory=2048MB" },
  { name: "zstd -22 --ultra --long=27", compress: "zstd -q -T1 --ultra -22 --long=27", decompress: "zstd -dc --long=27" },
  { name: "xz -6", compress: "xz -T1 -6 --check=crc32", decompress: "xz -dc" },
  { name: "xz --x86 -9", compress: "xz -T1 --check=crc32 --x86 --lzma2=preset=9", decompress: "xz -dc" },
];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function sh(command: string, stdin: string, stdout: string): number {
  const t0 = performance.now();
  const r = Bun.spawnSync(["sh", "-c", `${command} <"$1" >"$2"`, "sh", stdin, stdout], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`Cannot run "${command}": ${r.stderr.toString().trim()}`);
  return performance.now() - t0;
}

/** The candidate's image, made again only when the archive is newer. */
function image(c: Candidate): { path: string; compressMs: number | null } {
  const path = join(WORK, `${c.name.replace(/[^a-z0-9]+/gi, "_")}.img`);
  if (existsSync(path) && statSync(path).mtimeMs > statSync(CPIO).mtimeMs) return { path, compressMs: null };
  process.stderr.write(`compressing with ${c.compress}…\n`);
  return { path, compressMs: sh(c.compress, CPIO, path) };
}

async function bootOnce(initrd: string, log: string): Promise<{ initS: number; unpackS: number }> {
  const vm = await bootVm(
    { kernel: requireArtifact("kernel"), initrd, cmdline: ["loglevel=4"], disks: [], net: { mode: "none" } },
    { timeoutMs: 300_000, serialLog: log, until: KERNEL_LINE },
  );
  const boot = parseBootLog(vm.serial);
  if (boot.kernelToInitMs === null) throw new Error(`Cannot read kernel → /init from the boot with "${initrd}" (${vm.timedOut ? "timed out" : `exit ${vm.exitCode}`}; see ${log})`);
  return { initS: boot.kernelToInitMs / 1000, unpackS: (boot.unpackMs ?? NaN) / 1000 };
}

async function main() {
  const { values } = parseArgs({ args: Bun.argv.slice(2), options: { runs: { type: "string" }, only: { type: "string" } } });
  const runs = Number(values.runs ?? 2);
  const only = values.only?.split(",");
  if (!existsSync(CPIO)) throw new Error(`Cannot find "${CPIO}": run make initramfs first`);
  mkdirSync(WORK, { recursive: true });
  const chosen = CANDIDATES.filter((c) => !only || only.includes(c.name));
  const rows = chosen.map((c) => {
    const img = image(c);
    const hostMs = [0, 1, 2].map(() => sh(c.decompress, img.path, "/dev/null"));
    return { c, ...img, bytes: statSync(img.path).size, hostMs: Math.min(...hostMs), init: [] as number[], unpack: [] as number[] };
  });
  // One machine at a time, the candidates alternating, so a busy host slows them all alike.
  for (let i = 0; i < runs; i++) {
    for (const r of rows) {
      const b = await bootOnce(r.path, join(WORK, `${r.c.name.replace(/[^a-z0-9]+/gi, "_")}-${i}.log`));
      r.init.push(b.initS);
      r.unpack.push(b.unpackS);
      process.stderr.write(`${r.c.name} #${i + 1}: kernel → /init ${b.initS.toFixed(2)} s, unpacked in ${b.unpackS.toFixed(2)} s\n`);
    }
  }
  const cpioBytes = statSync(CPIO).size;
  const lines = [
    `Initramfs compression (archive ${(cpioBytes / 1e6).toFixed(1)} MB; TCG: median of ${runs} boots)`,
    "",
    "| compressor | size | compress (host) | decompress (host, userspace) | kernel unpack (TCG) | kernel → /init (TCG) |",
    "|---|---|---|---|---|---|",
    ...rows.map((r) =>
      `| ${r.c.name} | ${(r.bytes / 1e6).toFixed(1)} MB | ${r.compressMs === null ? "(cached)" : `${(r.compressMs / 1000).toFixed(1)} s`} | ` +
        `${(r.hostMs / 1000).toFixed(2)} s | ${median(r.unpack).toFixed(2)} s | ${median(r.init).toFixed(2)} s |`,
    ),
  ];
  writeFileSync(join(WORK, "result.md"), lines.join("\n") + "\n");
  process.stdout.write(lines.join("\n") + "\n");
}

await main();
