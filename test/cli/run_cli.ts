// Runs the nexus-init CLI from source (same code as dist/nexus-init) for end-to-end CLI tests.
import { resolve } from "node:path";

const MAIN = resolve(import.meta.dir, "../../src/main.ts");
const NEXUS = resolve(import.meta.dir, "../../src/nexus.ts");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `nexus-init ...args` with optional stdin and environment. */
export async function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return run(MAIN, args, opts);
}

/** Runs `nexus ...args` (the authoring CLI) from source. */
export async function runNexus(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return run(NEXUS, args, opts);
}

export interface CliOptions {
  stdin?: string;
  env?: Record<string, string>;
  cwd?: string;
}

async function run(entry: string, args: string[], opts: CliOptions): Promise<CliResult> {
  const p = Bun.spawn([process.execPath, entry, ...args], {
    cwd: opts.cwd,
    stdin: opts.stdin === undefined ? "ignore" : new Blob([opts.stdin]),
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...opts.env },
  });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}
