// Reading a boot's serial console: the initramfs's "nexus-boot:" lines (stage timings,
// errors) and the tiny OS's "nexus-tinyos: key=value" report ending in "nexus-tinyos: ready".

/** The tiny OS's report; null when its marker line never came (it did not boot). */
export interface TinyOsReport {
  ready: boolean;
  fields: Record<string, string>;
}

/** Line the tiny OS prints after its report, just before it powers off. */
export const TINYOS_READY = /^nexus-tinyos: ready$/m;

/** Parses the tiny OS's key=value lines and whether it reached its marker line. */
export function parseTinyOsReport(serial: string): TinyOsReport {
  const fields: Record<string, string> = {};
  let ready = false;
  for (const line of serial.split("\n")) {
    const m = /^nexus-tinyos: ([a-z0-9-]+)=(.*)$/.exec(line);
    if (m) fields[m[1]!] = m[2]!;
    else if (line === "nexus-tinyos: ready") ready = true;
  }
  return { ready, fields };
}

/** A comma list of the report ("-" is the empty list). */
export function splitList(value: string | undefined): string[] {
  if (value === undefined || value === "" || value === "-") return [];
  return value.split(",");
}

/** One stage as the initramfs timed it. */
export interface StageTiming {
  stage: string;
  ms: number;
}

/** What the initramfs's own lines say about a boot. */
export interface BootLog {
  stages: StageTiming[];
  /** Kernel uptime (ms) when provisioning completed, if it did. */
  provisionedAtMs: number | null;
  /** Kernel start → /init (ms), and the part spent unpacking the initramfs, as /init read them. */
  kernelToInitMs: number | null;
  unpackMs: number | null;
  /** "nexus-boot: ERROR: …" messages. */
  errors: string[];
}

/** Parses the initramfs's "nexus-boot:" lines. */
export function parseBootLog(serial: string): BootLog {
  const stages: StageTiming[] = [];
  const errors: string[] = [];
  let provisionedAtMs: number | null = null;
  let kernelToInitMs: number | null = null;
  let unpackMs: number | null = null;
  for (const line of serial.split("\n")) {
    let m = /^nexus-boot: \[\s*[\d.]+\] stage (\S+): finished in (\d+) ms$/.exec(line);
    if (m) stages.push({ stage: m[1]!, ms: Number(m[2]) });
    m = /^nexus-boot: \[\s*[\d.]+\] provisioning complete after (\d+) ms of boot$/.exec(line);
    if (m) provisionedAtMs = Number(m[1]);
    m = /^nexus-boot: ERROR: (.*)$/.exec(line);
    if (m) errors.push(m[1]!);
    m = /^nexus-boot: \[\s*[\d.]+\] kernel → \/init: ([\d.]+) s(?: \(initramfs unpacked in ([\d.]+) s\))?$/.exec(line);
    if (m && kernelToInitMs === null) {
      kernelToInitMs = Math.round(Number(m[1]) * 1000);
      unpackMs = m[2] === undefined ? null : Math.round(Number(m[2]) * 1000);
    }
  }
  return { stages, provisionedAtMs, kernelToInitMs, unpackMs, errors };
}
