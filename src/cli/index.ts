// Subcommand registry: argv[0] selects one; each module exports main(args) → exit code.
import * as apply from "./apply.ts";
import * as init from "./init.ts";
import * as plan from "./plan.ts";
import * as run from "./run.ts";
import * as translate from "./translate.ts";
import * as validate from "./validate.ts";

export interface Command {
  /** One-line summary for `nexus-init help`. */
  summary: string;
  main(args: string[]): Promise<number>;
}

/** Every subcommand, in the order help lists them. */
export const COMMANDS = {
  validate,
  plan,
  apply,
  run,
  translate,
  init,
} as const satisfies Record<string, Command>;
export type CommandName = keyof typeof COMMANDS;

const USAGE = `Usage: nexus-init <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`)
  .join("\n")}

Run "nexus-init <command> --help" for a command's options.`;

/** Dispatches argv (without the program name); returns the process exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    (name === undefined ? process.stderr : process.stdout).write(USAGE + "\n");
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "version") {
    process.stdout.write(`nexus-init ${VERSION}\n`);
    return 0;
  }
  const cmd = (COMMANDS as Record<string, Command>)[name];
  if (!cmd) {
    process.stderr.write(`nexus-init: unknown command "${name}"\n\n${USAGE}\n`);
    return 2;
  }
  return cmd.main(rest);
}

export const VERSION = "0.1.0";
