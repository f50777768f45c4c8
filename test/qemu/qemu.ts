// QEMU runner shared by the boot scenarios, the test VM, `make demo` and the boot benchmark:
// builds the argv for one TCG boot of a kernel + initramfs against virtio disks, runs it
// with a hard timeout, streams the serial console, and keeps at most NEXUS_QEMU_PARALLEL
// (default 2) machines running at once in this process.
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** A disk image attached as a virtio-blk device (guest names follow the array order: vda, vdb…). */
export interface VmDisk {
  path: string;
  format?: "raw" | "qcow2";
  /** virtio serial (≤ 20 characters): /sys/block/vdX/serial, /dev/disk/by-id/virtio-<serial>. */
  serial?: string;
  readOnly?: boolean;
}

/** A guest TCP endpoint forwarded to a port on the host's loopback (slirp guestfwd). */
export interface GuestForward {
  guestIp: string;
  guestPort: number;
  hostPort: number;
}

/** No network, or slirp user networking (the host's loopback is 10.0.2.2 in the default net). */
export type VmNet = { mode: "none" } | { mode: "user"; net?: string; forwards?: GuestForward[] };

/** Everything one boot needs. */
export interface VmSpec {
  /** Direct kernel boot (with initrd and cmdline); without it the firmware boots the first disk's boot loader. */
  kernel?: string;
  initrd?: string;
  /**
   * Kernel command line words of a direct kernel boot; `console=ttyS0 no_timer_check` always come
   * first (under TCG on a loaded host the kernel's IO-APIC timer check can time out and panic).
   */
  cmdline: string[];
  disks: VmDisk[];
  /** fw_cfg blobs, e.g. { name: "opt/com.coreos/config", file: "config.ign" }. */
  fwCfg?: { name: string; file: string }[];
  /** ISO or UDF images as CD-ROMs on a virtio-scsi controller (sr0, sr1…; SCSI type 5). */
  cdroms?: string[];
  /** One network, or several NICs (eth0, eth1… in order), each on its own slirp network. */
  net: VmNet | readonly VmNet[];
  memMiB?: number;
  /** UEFI firmware image (e.g. OVMF.fd of Debian's ovmf) instead of SeaBIOS. */
  uefiFirmware?: string;
  /** A guest reboot restarts the machine (default: QEMU exits, -no-reboot). */
  reboot?: boolean;
  /** A TPM 2.0: a running swtpm's control socket (see swtpm.ts), as a TIS (default) or CRB device. */
  tpm?: { socket: string; model?: "tpm-tis" | "tpm-crb" };
}

/** How one boot ended. QEMU exits 0 on any guest power-off and 1 on a pvpanic panic. */
export interface VmResult {
  exitCode: number | null;
  timedOut: boolean;
  /** The serial console, carriage returns and terminal escapes removed. */
  serial: string;
  /** Wall time from spawning QEMU to its exit. */
  durationMs: number;
  /** Milliseconds from spawning QEMU to the first serial line matching each `marks` entry. */
  marks: Record<string, number>;
  /** QEMU's own stderr (option errors and the like). */
  stderr: string;
  /** The power was cut (cutAfter), with the console lines seen before it. */
  cut?: { atMs: number; linesBefore: number };
  /** Stopped by BootOptions.until. */
  stopped: boolean;
}

export interface BootOptions {
  /** Kill QEMU after this long; every boot has one. */
  timeoutMs: number;
  /** Write the raw console here as it arrives (for CI artifacts and `tail -f`). */
  serialLog?: string;
  /** Called with each console line as it arrives (cleaned like VmResult.serial). */
  onLine?: (line: string) => void;
  /** Named patterns whose first matching line's time goes to VmResult.marks. */
  marks?: Record<string, RegExp>;
  /** Stop the machine as soon as a console line matches (VmResult.stopped; exitCode null). */
  until?: RegExp;
  qemuBinary?: string;
  /**
   * A power cut: called with each console line; a number is a delay in milliseconds after
   * which QEMU is killed (SIGKILL: the guest gets no chance to flush anything), at most once.
   */
  cutAfter?: (line: string) => number | null;
}

export const QEMU_BINARY = "qemu-system-x86_64";

/** The QEMU argv (without the binary) for a spec: TCG, `-cpu max` (Bun needs more than the default CPU), pvpanic exits 1. */
export function buildQemuArgs(spec: VmSpec): string[] {
  const args = [
    "-accel", "tcg",
    "-cpu", "max",
    "-smp", "1",
    "-m", String(spec.memMiB ?? 1024),
    "-display", "none",
    "-monitor", "none",
    "-serial", "stdio",
    ...(spec.reboot ? [] : ["-no-reboot"]),
    ...(spec.uefiFirmware ? ["-bios", spec.uefiFirmware] : []),
    "-device", "pvpanic",
    "-action", "panic=exit-failure",
  ];
  if (spec.kernel !== undefined) {
    args.push("-kernel", spec.kernel, "-append", ["console=ttyS0", "no_timer_check", ...spec.cmdline].join(" "));
    if (spec.initrd !== undefined) args.push("-initrd", spec.initrd);
  }
  // -drive if=none + -device keeps PCI slots, and so vda, vdb…, in array order.
  spec.disks.forEach((d, i) => {
    const drive = [`file=${escapeOpt(d.path)}`, `format=${d.format ?? "raw"}`, "if=none", `id=disk${i}`];
    if (d.readOnly) drive.push("readonly=on");
    if (d.serial !== undefined && !/^[A-Za-z0-9._-]{1,20}$/.test(d.serial)) {
      throw new Error(`Cannot attach disk "${d.path}": serial "${d.serial}" must be 1–20 characters [A-Za-z0-9._-]`);
    }
    args.push("-drive", drive.join(","), "-device", `virtio-blk-pci,drive=disk${i}${d.serial ? `,serial=${d.serial}` : ""}`);
  });
  for (const f of spec.fwCfg ?? []) args.push("-fw_cfg", `name=${f.name},file=${escapeOpt(f.file)}`);
  if (spec.tpm) {
    args.push("-chardev", `socket,id=chrtpm,path=${escapeOpt(spec.tpm.socket)}`, "-tpmdev", "emulator,id=tpm0,chardev=chrtpm");
    args.push("-device", `${spec.tpm.model ?? "tpm-tis"},tpmdev=tpm0`);
  }
  if (spec.cdroms?.length) {
    args.push("-device", "virtio-scsi-pci,id=scsi0");
    spec.cdroms.forEach((file, i) => {
      args.push("-drive", `file=${escapeOpt(file)},format=raw,if=none,id=cd${i},media=cdrom,readonly=on`, "-device", `scsi-cd,drive=cd${i},bus=scsi0.0`);
    });
  }
  const nets = (Array.isArray(spec.net) ? spec.net : [spec.net]) as readonly VmNet[];
  if (nets.every((n) => n.mode === "none")) args.push("-nic", "none");
  nets.forEach((n, i) => {
    if (n.mode === "none") return;
    const netdev = ["user", `id=net${i}`];
    if (n.net) netdev.push(`net=${n.net}`);
    for (const f of n.forwards ?? []) {
      // The -cmd: form spawns one connector per guest connection; the -tcp: form hangs on the second.
      netdev.push(`guestfwd=tcp:${f.guestIp}:${f.guestPort}-cmd:busybox nc 127.0.0.1 ${f.hostPort}`);
    }
    args.push("-netdev", netdev.join(","), "-device", `virtio-net-pci,netdev=net${i}`);
  });
  return args;
}

// QEMU option values escape a comma by doubling it.
function escapeOpt(v: string): string {
  return v.replaceAll(",", ",,");
}

/** Removes carriage returns and terminal escape sequences from console text. */
export function cleanConsole(text: string): string {
  return text
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "")
    .replace(/\x1b[()][A-Za-z0-9]/g, "")
    .replace(/\x1bc/g, "")
    .replace(/\r/g, "");
}

/** A counting semaphore: at most `limit` holders at once. */
export class Slots {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(readonly limit: number) {}

  async acquire(): Promise<() => void> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }
}

/** The process-wide limit on concurrent machines (two cores; TCG uses one per machine). */
export const VM_SLOTS = new Slots(Math.max(1, Number(process.env.NEXUS_QEMU_PARALLEL ?? 2) || 2));

/** Boots one machine and waits for it to exit or time out. */
export async function bootVm(spec: VmSpec, opts: BootOptions): Promise<VmResult> {
  const release = await VM_SLOTS.acquire();
  try {
    return await runQemu(spec, opts);
  } finally {
    release();
  }
}

async function runQemu(spec: VmSpec, opts: BootOptions): Promise<VmResult> {
  if (opts.serialLog) {
    mkdirSync(dirname(opts.serialLog), { recursive: true });
    writeFileSync(opts.serialLog, "");
  }
  const t0 = performance.now();
  const proc = Bun.spawn([opts.qemuBinary ?? QEMU_BINARY, ...buildQemuArgs(spec)], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let timedOut = false;
  let stopped = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, opts.timeoutMs);

  const marks: Record<string, number> = {};
  const lines: string[] = [];
  let partial = "";
  let cut: VmResult["cut"];
  let cutPending = false;
  const onText = (text: string) => {
    if (opts.serialLog) appendFileSync(opts.serialLog, text);
    const parts = (partial + text).split("\n");
    partial = parts.pop() ?? "";
    for (const raw of parts) takeLine(raw);
  };
  const takeLine = (raw: string) => {
    const line = cleanConsole(raw);
    lines.push(line);
    for (const [name, re] of Object.entries(opts.marks ?? {})) {
      if (marks[name] === undefined && re.test(line)) marks[name] = performance.now() - t0;
    }
    opts.onLine?.(line);
    const delay = cutPending || cut ? null : (opts.cutAfter?.(line) ?? null);
    if (delay !== null) {
      cutPending = true;
      setTimeout(() => {
        cut = { atMs: performance.now() - t0, linesBefore: lines.length };
        proc.kill("SIGKILL");
      }, delay);
    }
    if (opts.until?.test(line) && !stopped) {
      stopped = true;
      proc.kill("SIGKILL");
    }
  };
  const decoder = new TextDecoder();
  const stderrText = new Response(proc.stderr).text();
  for await (const chunk of proc.stdout) onText(decoder.decode(chunk, { stream: true }));
  onText(decoder.decode());
  if (partial) takeLine(partial);
  const exitCode = await proc.exited;
  clearTimeout(timer);
  return {
    exitCode: timedOut || stopped ? null : exitCode,
    timedOut,
    serial: lines.join("\n"),
    durationMs: performance.now() - t0,
    marks,
    stderr: await stderrText,
    ...(cut ? { cut } : {}),
    stopped,
  };
}
