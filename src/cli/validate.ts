// nexus-init validate [--strict] [--json] FILE|-
import { parseAnyConfig } from "../acquire/document.ts";
import { formatIssue, type Issue } from "../config/index.ts";
import { parseCommandArgs, usageError, program } from "./args.ts";
import { readConfigArg, UsageError } from "./input.ts";

export const summary = "Check a config (Ignition JSON or Butane YAML) without touching anything";

const USAGE = `Usage: nexus-init validate [--strict] [--json] FILE|-

Parses and validates FILE (or standard input with "-") exactly as the boot stages would.
FILE is Ignition JSON (spec 3.0.0–3.6.0, 3.7.0-experimental) or Butane YAML.
Exit status: 0 valid (warnings are printed), 1 invalid, 2 usage error.

Options:
  --strict   treat warnings (such as unknown keys) as errors
  --json     print {"ok":bool,"issues":[…]} on standard output
  --files-dir DIR  where Butane "local:" references are read from`;

/** Runs the validate command. */
export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("validate", USAGE, args, {
    strict: { type: "boolean" },
    json: { type: "boolean" },
    "files-dir": { type: "string", short: "d" },
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return usageError("validate", USAGE, 'expected exactly one config file (or "-")');
  let bytes: Uint8Array;
  try {
    bytes = readConfigArg(positionals[0]!);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${program.name} validate: ${e.message}\n`);
    return 2;
  }
  const strict = values.strict === true;
  const filesDir = typeof values["files-dir"] === "string" ? values["files-dir"] : undefined;
  const result = parseAnyConfig(bytes, { strict, filesDir });
  // --strict: warnings fail too (unknown keys already come back as errors).
  const ok = result.ok && !(strict && result.issues.some((i) => i.severity === "warning"));
  report(result.issues, values.json === true, ok);
  return ok ? 0 : 1;
}

function report(issues: readonly Issue[], json: boolean, ok: boolean): void {
  for (const i of issues) process.stderr.write(formatIssue(i) + "\n");
  if (json) {
    const out = {
      ok,
      issues: issues.map((i) => ({
        severity: i.severity,
        path: i.path.join("."),
        message: i.message,
        ...(i.line !== undefined ? { line: i.line, column: i.column } : {}),
      })),
    };
    process.stdout.write(JSON.stringify(out) + "\n");
  }
}
