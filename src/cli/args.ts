// Shared command-line parsing for the subcommands: node:util parseArgs plus the conventions
// every command follows (usage errors → exit 2 with usage on stderr, --help → usage on stdout).
import { parseArgs, type ParseArgsConfig } from "node:util";
import { ACCOUNTS_MODES, type AccountsMode } from "../executor/stage.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** The program the user ran: "nexus-init", or "nexus" when the authoring CLI reuses a command. */
export const program = { name: "nexus-init" };

/** Usage text as the running program is called. */
function named(usage: string): string {
  return program.name === "nexus-init" ? usage : usage.replace(/\bnexus-init (?=[a-z])/g, `${program.name} `);
}

/** Parsed flags and positionals, or the exit code (0 for --help, 2 for misuse) already reported. */
export function parseCommandArgs(
  cmd: string,
  usage: string,
  args: string[],
  options: Options,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } | number {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { ...options, help: { type: "boolean", short: "h" } } });
  } catch (e) {
    return usageError(cmd, usage, (e as Error).message);
  }
  if (parsed.values.help) {
    process.stdout.write(named(usage) + "\n");
    return 0;
  }
  return { values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals };
}

/** Prints a usage problem with the usage text; returns exit code 2. */
export function usageError(cmd: string, usage: string, message: string): number {
  process.stderr.write(`${program.name} ${cmd}: ${message}\n\n${named(usage)}\n`);
  return 2;
}

/** Reads --accounts=native|tools (default native); a usage problem comes back as its message. */
export function accountsOption(value: string | boolean | undefined): AccountsMode | string {
  if (value === undefined) return "native";
  if (typeof value === "string" && (ACCOUNTS_MODES as readonly string[]).includes(value)) return value as AccountsMode;
  return `--accounts must be one of ${ACCOUNTS_MODES.join(", ")}`;
}
