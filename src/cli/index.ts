// Subcommand registry: argv[0] selects one; each module exports main(args) → exit code.
// Modules load on demand: the initramfs starts the binary once per stage, and every import
// a stage does not need is start-up time on each boot.

export interface Command {
  /** One-line summary for `nexus-init help`. */
  summary: string;
  main(args: string[]): Promise<number>;
}

interface Entry {
  summary: string;
  load(): Promise<Command>;
}

/** Every subcommand, in the order help lists them. */
export const COMMANDS = {
  validate: { summary: "Check a config (Ignition JSON or Butane YAML) without touching anything", load: () => import("./validate.ts") },
  plan: { summary: "Show what apply would do to a root directory, touching nothing", load: () => import("./plan.ts") },
  apply: { summary: "Provision a root directory from a config (all stages, one process)", load: () => import("./apply.ts") },
  run: { summary: "Run provisioning stages: one (what the initramfs units call) or all (one process)", load: () => import("./run.ts") },
  translate: { summary: "Translate a Butane config (YAML) to an Ignition config (JSON)", load: () => import("./translate.ts") },
  init: { summary: "Translate a Butane config FILE to FILE.ign (config.bu → config.ign)", load: () => import("./init.ts") },
  verify: { summary: "Report every difference between a provisioned root (and its disks) and a config", load: () => import("./verify.ts") },
} as const satisfies Record<string, Entry>;
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
  const entry = (COMMANDS as Record<string, Entry>)[name];
  if (!entry) {
    process.stderr.write(`nexus-init: unknown command "${name}"\n\n${USAGE}\n`);
    return 2;
  }
  return (await entry.load()).main(rest);
}

export const VERSION = "0.1.0";
