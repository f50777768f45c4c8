// The test VM: runs a bash script inside the Debian cloud kernel booted with the LiveCD
// initramfs (dist/nexus-init, the stage tools, md/dm-crypt/vfat modules, udev), against
// fresh or given virtio disks, and brings back what the script left in $NEXUS_RESULTS.
// For checks the host kernel cannot make (no md, device-mapper, vfat or GPT parser there).
//
// How: the payload (script + files) becomes a small uncompressed cpio appended to the
// initramfs (the kernel unpacks concatenated archives); `nexus.test=/nexus-test/run.sh`
// makes /init run it instead of provisioning; /init then writes $NEXUS_RESULTS as a tar
// archive onto a raw results disk (serial "nexus-results") and powers off.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ARTIFACTS, requireArtifact } from "./paths.ts";
import { bootVm, type VmDisk, type VmNet, type VmResult } from "./qemu.ts";
import { startSwtpmForQemu } from "./swtpm.ts";

/** A payload file: text or bytes (mode 0644), or a host file to copy (its mode kept). */
export type PayloadFile = string | Uint8Array | { copyFrom: string; mode?: number };

/** A disk for the guest: a fresh sparse image of sizeMiB, or an existing image used in place. */
export type TestVmDisk = { sizeMiB: number; serial?: string } | { image: string; serial?: string; format?: "raw" | "qcow2" };

export interface TestVmOptions {
  /** Bash script run as /nexus-test/run.sh (working directory /nexus-test); its exit code is reported. */
  script: string;
  /** More files under /nexus-test, by relative path. */
  files?: Record<string, PayloadFile>;
  /** Disks in order: vda, vdb…; each gets serial "diskN" unless given (/dev/disk/by-id/virtio-diskN). */
  disks?: TestVmDisk[];
  /** Default 180 s. */
  timeoutMs?: number;
  memMiB?: number;
  /** Size of the results disk (default 64 MiB): the tar of $NEXUS_RESULTS must fit. */
  resultsMiB?: number;
  /** Extra kernel command line words. */
  cmdline?: string[];
  /** Networks (default none); "user" is slirp, the host's loopback at 10.0.2.2. The script brings
   *  its interfaces up itself (udhcpc, or nexus-net-up; nexus-init run does when fetch-offline
   *  flags the network). */
  net?: VmNet | VmNet[];
  /** ISO or UDF images attached as CD-ROMs (sr0, sr1…). */
  cdroms?: string[];
  /** Default dist/initramfs.img and build/kernel/vmlinuz. */
  initramfs?: string;
  kernel?: string;
  /** Where disk images, the initrd and results go (default: a new temp dir). */
  workDir?: string;
  /** Raw console copy, e.g. for CI artifacts. */
  serialLog?: string;
  onLine?: (line: string) => void;
  /** A software TPM 2.0 whose state lives in stateDir (see swtpm.ts); the guest sees /dev/tpmrm0. */
  tpm?: { stateDir: string; model?: "tpm-tis" | "tpm-crb" };
}

export interface TestVmResult {
  /** The script's exit code; null when the guest never reported one (crash, timeout). */
  exitCode: number | null;
  vm: VmResult;
  workDir: string;
  /** Host directory holding what the script left in $NEXUS_RESULTS. */
  resultsDir: string;
  /** Host paths of the guest's disks, in order, for inspection after the run. */
  disks: string[];
  /** Reads a results file as text (throws when the script did not leave it). */
  readResult(name: string): string;
  /** Removes the work directory (fresh disks included; given images are left alone). */
  cleanup(): void;
}

function run(argv: string[], stdin?: Uint8Array): void {
  const r = Bun.spawnSync(argv, { stdin: stdin ?? "ignore", stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`Cannot run "${argv.join(" ")}": exit code ${r.exitCode}: ${r.stderr.toString().trim()}`);
}

/** Writes the payload tree and packs it as a newc cpio archive (owner root). */
function packPayload(dir: string, script: string, files: Record<string, PayloadFile>, out: string): void {
  const base = join(dir, "nexus-test");
  mkdirSync(base, { recursive: true });
  const put = (rel: string, f: PayloadFile, mode: number) => {
    if (rel.startsWith("/") || rel.split("/").includes("..")) throw new Error(`Cannot add payload file "${rel}": path must stay inside /nexus-test`);
    const dest = join(base, rel);
    mkdirSync(dirname(dest), { recursive: true });
    if (typeof f === "string" || f instanceof Uint8Array) {
      writeFileSync(dest, f);
      chmodSync(dest, mode);
    } else {
      copyFileSync(f.copyFrom, dest);
      chmodSync(dest, f.mode ?? statSync(f.copyFrom).mode & 0o7777);
    }
  };
  put("run.sh", script, 0o755);
  for (const [rel, f] of Object.entries(files)) put(rel, f, 0o644);
  const list = Bun.spawnSync(["find", "nexus-test"], { cwd: dir, stdout: "pipe" }).stdout;
  const cpio = Bun.spawnSync(["cpio", "-o", "-H", "newc", "-R", "0:0", "--quiet"], { cwd: dir, stdin: list, stdout: "pipe", stderr: "pipe" });
  if (cpio.exitCode !== 0) throw new Error(`Cannot pack the test payload: ${cpio.stderr.toString().trim()}`);
  writeFileSync(out, cpio.stdout);
}

/** Concatenates archives into one initrd: the kernel finds an archive after a compressed one only at a 4-byte boundary, skipping zero bytes. */
function joinInitrd(parts: readonly string[], out: string): void {
  const chunks: Buffer[] = [];
  let size = 0;
  for (const p of parts) {
    const pad = (4 - (size % 4)) % 4;
    const data = readFileSync(p);
    chunks.push(Buffer.alloc(pad), data);
    size += pad + data.length;
  }
  writeFileSync(out, Buffer.concat(chunks));
}

/** Boots the test VM once and returns the script's outcome and results. */
export async function runTestVm(opts: TestVmOptions): Promise<TestVmResult> {
  const kernel = opts.kernel ?? requireArtifact("kernel");
  const initramfs = opts.initramfs ?? requireArtifact("initramfs");
  const workDir = opts.workDir ?? mkdtempSync(join(tmpdir(), "nexus-test-vm-"));
  mkdirSync(workDir, { recursive: true });
  const payloadDir = join(workDir, "payload");
  rmSync(payloadDir, { recursive: true, force: true });
  packPayload(payloadDir, opts.script, opts.files ?? {}, join(workDir, "payload.cpio"));
  const initrd = join(workDir, "initrd.img");
  joinInitrd([initramfs, requireArtifact("testTools"), join(workDir, "payload.cpio")], initrd);

  const fresh: string[] = [];
  const disks: VmDisk[] = (opts.disks ?? []).map((d, i) => {
    if ("image" in d) return { path: d.image, format: d.format ?? "raw", serial: d.serial ?? `disk${i}` };
    const path = join(workDir, `disk${i}.img`);
    rmSync(path, { force: true });
    run(["truncate", "-s", `${d.sizeMiB}M`, path]);
    fresh.push(path);
    return { path, serial: d.serial ?? `disk${i}` };
  });
  const resultsImage = join(workDir, "results.img");
  rmSync(resultsImage, { force: true });
  run(["truncate", "-s", `${opts.resultsMiB ?? 64}M`, resultsImage]);

  const swtpm = opts.tpm ? await startSwtpmForQemu(opts.tpm.stateDir) : undefined;
  let vm: VmResult;
  try {
    vm = await bootVm(
      {
        kernel,
        initrd,
        cmdline: ["loglevel=4", "nexus.test=/nexus-test/run.sh", ...(opts.cmdline ?? [])],
        disks: [...disks, { path: resultsImage, serial: "nexus-results" }],
        cdroms: opts.cdroms,
        net: opts.net ?? { mode: "none" },
        memMiB: opts.memMiB,
        ...(swtpm ? { tpm: { socket: swtpm.socket!, model: opts.tpm!.model } } : {}),
      },
      { timeoutMs: opts.timeoutMs ?? 180_000, serialLog: opts.serialLog, onLine: opts.onLine },
    );
  } finally {
    await swtpm?.stop();
  }

  const resultsDir = join(workDir, "results");
  rmSync(resultsDir, { recursive: true, force: true });
  mkdirSync(resultsDir);
  // An untouched (all-zero) results disk reads as an empty archive.
  Bun.spawnSync(["tar", "-xf", resultsImage, "-C", resultsDir], { stdout: "ignore", stderr: "ignore" });
  const m = /^nexus-test: exit=(\d+)$/m.exec(vm.serial);
  const readResult = (name: string) => readFileSync(join(resultsDir, name), "utf8");
  return {
    exitCode: m ? Number(m[1]) : null,
    vm,
    workDir,
    resultsDir,
    disks: disks.map((d) => d.path),
    readResult,
    cleanup: () => {
      if (opts.workDir) {
        for (const p of [...fresh, initrd, resultsImage, join(workDir, "payload.cpio")]) rmSync(p, { force: true });
        rmSync(payloadDir, { recursive: true, force: true });
        rmSync(resultsDir, { recursive: true, force: true });
      } else rmSync(workDir, { recursive: true, force: true });
    },
  };
}

/** The default artifacts the test VM boots (for callers that want to check them up front). */
export const TEST_VM_ARTIFACTS = { kernel: ARTIFACTS.kernel, initramfs: ARTIFACTS.initramfs } as const;
