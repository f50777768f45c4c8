// nexus provision PROGRAM… [--target ignition|flatcar] [--spec VERSION] [--set K=V]… [-p] [-o OUT]
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { parseCommandArgs, usageError } from "../../cli/args.ts";
import { formatDiagnostic, provision, TARGETS, type ProvisionOptions, type ProvisionResult, type Target } from "../provision.ts";

export const summary = "Compile typed programs (system.ts) to Ignition JSON";

const USAGE = `Usage: nexus provision PROGRAM… [options]

Runs the TypeScript programs (each default-exports a system, a part or a list of parts),
combines their declarations in order, checks the result with the validator nexus-init boots
with, and writes Ignition JSON to standard output (or --output). Every error names the line of
the declaration that caused it. Nothing is written when any check fails.
Exit status: 0 written (warnings printed), 1 a check failed, 2 usage error.

Options:
  --target T         ignition (default) or flatcar
  --spec VERSION     the spec to emit (default: the program's, else the oldest that has every
                     feature used; flatcar: 3.4.0 unless a feature needs 3.6.0-experimental)
  --set NAME=VALUE   a parameter the programs declare with param() (repeatable)
  -p, --pretty       indent the output
  -o, --output FILE  write to FILE instead of standard output`;

/** The options the program-reading commands share (provision, check, and the compiling forms). */
export const PROGRAM_OPTIONS = {
  target: { type: "string" },
  spec: { type: "string" },
  set: { type: "string", multiple: true },
} as const;

/** ProvisionOptions from parsed flags; a string is a usage problem. */
export function provisionOptions(values: Record<string, unknown>, programs: string[]): ProvisionOptions | string {
  if (programs.length === 0) return "expected at least one program";
  const target = (values.target as string | undefined) ?? "ignition";
  if (!(TARGETS as readonly string[]).includes(target)) return `unknown --target "${target}": expected ${TARGETS.join(" or ")}`;
  const params = new Map<string, string>();
  for (const kv of (values.set as string[] | undefined) ?? []) {
    const eq = kv.indexOf("=");
    if (eq <= 0) return `--set expects NAME=VALUE, got "${kv}"`;
    params.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  return { programs, target: target as Target, spec: values.spec as string | undefined, params };
}

/** Prints a result's diagnostics (secrets redacted) on standard error. */
export function reportDiagnostics(r: ProvisionResult): void {
  for (const d of r.diagnostics) process.stderr.write(formatDiagnostic(d) + "\n");
}

/** Writes a file atomically: a temporary file beside it, then rename. */
export function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Runs the provision command. */
export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("provision", USAGE, args, {
    ...PROGRAM_OPTIONS,
    pretty: { type: "boolean", short: "p" },
    output: { type: "string", short: "o" },
  });
  if (typeof parsed === "number") return parsed;
  const opts = provisionOptions(parsed.values, parsed.positionals);
  if (typeof opts === "string") return usageError("provision", USAGE, opts);
  const result = await provision({ ...opts, pretty: parsed.values.pretty === true });
  reportDiagnostics(result);
  if (!result.ok) return 1;
  process.stderr.write(`nexus provision: ${result.how}\n`);
  const out = parsed.values.output as string | undefined;
  if (out) writeAtomically(out, result.json);
  else process.stdout.write(result.json);
  return 0;
}
