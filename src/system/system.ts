// The System port: the only way stages touch the host (processes, environment, clock).
// The real implementation lives in real.ts; tests use a fake that records calls.
import type { CommandName } from "./commands.ts";

/** What a finished command returned. */
export interface CommandResult {
  argv: readonly string[];
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Bytes written to the command's standard input. */
  stdin?: string | Uint8Array;
  /** Extra environment for the command. */
  env?: Record<string, string>;
  /** Strings that must never appear in logs (e.g. a key passed on stdin). */
  secret?: boolean;
}

/** The host as stages see it. */
export interface System {
  /** Runs a command from the command table with arguments; never throws on exit status. */
  run(cmd: CommandName, args: readonly string[], opts?: RunOptions): Promise<CommandResult>;
  /** The process environment. */
  env: Record<string, string | undefined>;
  /** Milliseconds since the epoch. */
  now(): number;
}

/** A command that exited non-zero, with what it printed. */
export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly code: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(
      `Cannot run ${argv.map(quoteArg).join(" ")}: exit code ${code}` +
        (stderr.trim() ? `: ${stderr.trim()}` : ""),
    );
    this.name = "CommandError";
  }
}

/** Throws CommandError unless the command succeeded; returns it otherwise. */
export function check(result: CommandResult): CommandResult {
  if (result.code !== 0) throw new CommandError(result.argv, result.code, result.stdout, result.stderr);
  return result;
}

/** Shell-style quoting of one argument, for messages only. */
export function quoteArg(a: string): string {
  return /^[A-Za-z0-9_./:=,+@%-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}
