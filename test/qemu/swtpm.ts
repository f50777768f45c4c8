// A software TPM 2.0 (swtpm) whose state lives in a directory, for the clevis tests and
// `make demo TPM=DIR`: attached to a QEMU guest through a control socket (QEMU's tpm-tis or
// tpm-crb device, the guest kernel's /dev/tpmrm0), or served on loopback TCP so that host tools
// (tpm2-tools through the swtpm TCTI, as clevis runs them) use the very same TPM state after the
// guest is gone. A fresh directory is a fresh TPM: another storage seed, so what one sealed,
// another cannot unseal.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";

export const SWTPM = process.env.NEXUS_SWTPM ?? "swtpm";

/** A running swtpm. */
export interface Swtpm {
  stateDir: string;
  /** For QEMU: the control socket (VmSpec.tpm.socket). */
  socket?: string;
  /** For host tools: TPM2TOOLS_TCTI, e.g. "swtpm:host=127.0.0.1,port=…". */
  tcti?: string;
  stop(): Promise<void>;
}

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, proc: ReturnType<typeof Bun.spawn>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await ok())) {
    if (proc.exitCode !== null) throw new Error(`Cannot start swtpm: it exited with ${proc.exitCode} before ${what}`);
    if (Date.now() > deadline) throw new Error(`Cannot start swtpm: no ${what} after 20 s`);
    await Bun.sleep(50);
  }
}

function stopper(proc: ReturnType<typeof Bun.spawn>): () => Promise<void> {
  return async () => {
    if (proc.exitCode === null) proc.kill("SIGTERM");
    await proc.exited;
  };
}

/** Starts swtpm for one QEMU guest (it ends when the guest disconnects, or on stop()). */
export async function startSwtpmForQemu(stateDir: string): Promise<Swtpm> {
  mkdirSync(stateDir, { recursive: true });
  const socket = join(stateDir, "swtpm-sock");
  const proc = Bun.spawn([SWTPM, "socket", "--tpm2", "--tpmstate", `dir=${stateDir}`, "--ctrl", `type=unixio,path=${socket}`, "--terminate"], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "inherit",
  });
  await waitFor(`socket "${socket}"`, () => existsSync(socket), proc);
  return { stateDir, socket, stop: stopper(proc) };
}

async function isListening(port: number): Promise<boolean> {
  try {
    const s = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    s.end();
    return true;
  } catch {
    return false;
  }
}

/** Starts swtpm on loopback TCP (a port pair, data and control) for host tools. */
export async function startSwtpmForHost(stateDir: string): Promise<Swtpm> {
  mkdirSync(stateDir, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 20_000) * 2;
    if ((await isListening(port)) || (await isListening(port + 1))) continue;
    const proc = Bun.spawn(
      [SWTPM, "socket", "--tpm2", "--tpmstate", `dir=${stateDir}`, "--server", `type=tcp,port=${port},bindaddr=127.0.0.1`,
        "--ctrl", `type=tcp,port=${port + 1},bindaddr=127.0.0.1`, "--flags", "not-need-init,startup-clear"],
      { stdin: "ignore", stdout: "ignore", stderr: "pipe" },
    );
    try {
      await waitFor(`port ${port}`, () => isListening(port), proc);
      const tcti = `swtpm:host=127.0.0.1,port=${port}`;
      const stop = stopper(proc);
      // An orderly TPM2_Shutdown first: a TPM stopped without one counts it against dictionary-
      // attack protection at the next startup, and a few such stops lock out the very keys
      // clevis sealed (tpm:warn "DA lockout mode").
      const shutdown = async () => {
        if (proc.exitCode === null) await Bun.spawn(["tpm2_shutdown"], { env: { ...process.env, TPM2TOOLS_TCTI: tcti }, stdout: "ignore", stderr: "ignore" }).exited;
        await stop();
      };
      return { stateDir, tcti, stop: shutdown };
    } catch (e) {
      if (attempt >= 5) throw e;
    }
  }
}
