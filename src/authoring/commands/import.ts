// nexus import CONFIG [-d FILES_DIR] [-o system.ts]
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { parseCommandArgs, usageError } from "../../cli/args.ts";
import { formatIssue } from "../../config/index.ts";
import { importConfig, LOCAL_DIR } from "../import.ts";
import { writeAtomically } from "./provision.ts";

export const summary = "Turn an Ignition or Butane config into a typed program (system.ts)";

const USAGE = `Usage: nexus import CONFIG [options]

Reads an Ignition config (any 3.x spec) or a Butane config (fcos, flatcar) — "-" reads standard
input — and writes a typed program declaring the same machine: one declaration per entry,
contents as text, modes in octal, the input's spec pinned. "nexus provision" of the program
gives the same config. Binary or large contents (over 8 KiB) become local files in ${LOCAL_DIR}/
next to the program, so they need --output. Unknown keys are dropped with a warning.
Exit status: 0 written (warnings printed), 1 the config cannot be read or imported, 2 usage error.

Options:
  -d, --files-dir DIR  directory Butane "local:" references are read from
  -o, --output FILE    write the program to FILE (and local files to ${LOCAL_DIR}/ beside it)
                       instead of standard output`;

/** Runs the import command. */
export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("import", USAGE, args, {
    "files-dir": { type: "string", short: "d" },
    output: { type: "string", short: "o" },
  });
  if (typeof parsed === "number") return parsed;
  if (parsed.positionals.length !== 1) return usageError("import", USAGE, parsed.positionals.length === 0 ? "expected a config to import" : "expected one config");
  const input = parsed.positionals[0]!;
  let text: string;
  try {
    text = input === "-" ? await Bun.stdin.text() : readFileSync(input, "utf8");
  } catch (e) {
    process.stderr.write(`nexus import: Cannot read config "${input}": ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}\n`);
    return 1;
  }
  const result = importConfig(text, { filesDir: parsed.values["files-dir"] as string | undefined, name: input === "-" ? "standard input" : basename(input) });
  for (const i of result.issues) process.stderr.write(`${formatIssue(i)}\n`);
  if (!result.ok) {
    process.stderr.write("nexus import: failed\n");
    return 1;
  }
  const output = parsed.values.output as string | undefined;
  const what = `${plural(result.declarations, "declaration")}, spec ${result.spec}${result.target === "flatcar" ? " (flatcar)" : ""}`;
  if (!output) {
    if (result.files.length > 0) {
      const names = result.files.map((f) => f.path);
      const shown = names.length > 3 ? [...names.slice(0, 3), "…"] : names;
      process.stderr.write(`nexus import: contents that are binary or over 8 KiB become local files (${shown.join(", ")}): pass -o FILE to write the program and them beside it\n`);
      return 1;
    }
    process.stdout.write(result.program);
    process.stderr.write(`nexus import: ${what}\n`);
    return 0;
  }
  const dir = dirname(resolve(output));
  try {
    mkdirSync(dir, { recursive: true });
    for (const f of result.files) {
      const path = join(dir, f.path);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, f.bytes, { mode: f.mode });
    }
    writeAtomically(output, result.program);
  } catch (e) {
    process.stderr.write(`nexus import: Cannot write "${output}" and its local files: ${(e as Error).message}\n`);
    return 1;
  }
  const local = result.files.length > 0 ? ` and ${plural(result.files.length, "local file")} in ${join(dirname(output), LOCAL_DIR)}/` : "";
  process.stderr.write(`nexus import: wrote ${output}${local} (${what})\n`);
  return 0;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 || word.endsWith("s") ? "" : "s"}`;
