// nexus-init translate --from-butane [-d DIR] [-s] [-p] [-c] [-o FILE] [FILE|-]
// Mirrors Butane's CLI: Ignition JSON on stdout, report lines on stderr in Butane's format.
import { readFileSync, writeFileSync } from "node:fs";
import { parseCommandArgs, usageError, program } from "./args.ts";
import { formatIgnitionJson } from "../butane/emit.ts";
import { formatReportEntry, translateButane, type ButaneResult } from "../butane/index.ts";

export { formatIgnitionJson };

/** One-line summary for `nexus-init help`. */
export const summary = "Translate a Butane config (YAML) to an Ignition config (JSON)";

const USAGE = `Usage: nexus-init translate --from-butane [options] [FILE|-]

Translates the Butane config FILE (standard input when FILE is "-" or absent) to an
Ignition config, like Butane does: the JSON goes to standard output (or --output), and
warnings and errors go to standard error as "warning at $.path, line L col C: message".
Supported variants: fcos 1.0.0-1.7.0 and 1.7.0-experimental, flatcar 1.0.0-1.1.0 and
1.2.0-experimental.
Exit status: 0 success (warnings allowed unless --strict), 1 translation error, 2 usage error.

Options:
  --from-butane          the input is a Butane config (required)
  -d, --files-dir DIR    allow embedding local files from DIR
  -s, --strict           fail on any warning
  -p, --pretty           indent the output
  -c, --check            check the config only; write no output
  -o, --output FILE      write the output to FILE instead of standard output
  -r, --raw              accepted for compatibility (OpenShift MachineConfig output is not supported)`;

/** Butane-compatible translation options shared by `translate` and `init`. */
export interface ButaneCliOptions {
  input: string;
  filesDir?: string;
  strict: boolean;
  pretty: boolean;
  check: boolean;
  output?: string;
}

/** Parses the translate command line; a number is the exit code of a usage problem. */
function parseTranslateArgs(args: string[]): ButaneCliOptions | number {
  const parsed = parseCommandArgs("translate", USAGE, args, {
    "from-butane": { type: "boolean" },
    "files-dir": { type: "string", short: "d" },
    strict: { type: "boolean", short: "s" },
    pretty: { type: "boolean", short: "p" },
    check: { type: "boolean", short: "c" },
    output: { type: "string", short: "o" },
    raw: { type: "boolean", short: "r" },
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (!values["from-butane"]) return usageError("translate", USAGE, "--from-butane is required (Butane is the only input format)");
  if (positionals.length > 1) return usageError("translate", USAGE, "expected at most one input file");
  return {
    input: positionals[0] ?? "-",
    filesDir: values["files-dir"] as string | undefined,
    strict: values.strict === true,
    pretty: values.pretty === true,
    check: values.check === true,
    output: values.output as string | undefined,
  };
}

/** Runs one Butane translation with CLI semantics; returns the exit code. */
export function runButaneTranslation(o: ButaneCliOptions, cmd: string): { code: number; result?: ButaneResult } {
  let text: string;
  try {
    text = new TextDecoder().decode(o.input === "-" ? readFileSync(0) : readFileSync(o.input));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (e as Error).message;
    process.stderr.write(`${program.name} ${cmd}: Cannot read config "${o.input}": ${why}\n`);
    return { code: 1 };
  }
  const result = translateButane(text, { filesDir: o.filesDir, strict: o.strict });
  for (const e of result.report) process.stderr.write(formatReportEntry(e) + "\n");
  if (!result.ok) {
    process.stderr.write(result.fatal + "\n");
    return { code: 1, result };
  }
  if (o.check) return { code: 0, result };
  const out = formatIgnitionJson(result.ignition, o.pretty) + "\n";
  if (o.output) {
    try {
      writeFileSync(o.output, out);
    } catch (e) {
      process.stderr.write(`${program.name} ${cmd}: Cannot write "${o.output}": ${(e as Error).message}\n`);
      return { code: 1, result };
    }
  } else {
    process.stdout.write(out);
  }
  return { code: 0, result };
}

/** Entry point of `nexus-init translate`. */
export async function main(args: string[]): Promise<number> {
  const parsed = parseTranslateArgs(args);
  if (typeof parsed === "number") return parsed;
  return runButaneTranslation(parsed, "translate").code;
}
