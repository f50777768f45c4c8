// nexus-init init --from-butane FILE [-d DIR] [-s] [-p]
// The NexusOS spelling of a Butane translation: writes FILE's Ignition config beside it,
// named like FILE with the extension .ign (config.bu → config.ign).
import { basename, dirname, extname, join } from "node:path";
import { parseCommandArgs, usageError } from "./args.ts";
import { runButaneTranslation } from "./translate.ts";

/** One-line summary for `nexus-init help`. */
export const summary = "Translate a Butane config FILE to FILE.ign (config.bu → config.ign)";

const USAGE = `Usage: nexus-init init --from-butane FILE [options]

Translates the Butane config FILE and writes the Ignition config next to it, with FILE's
name and the extension .ign (config.bu → config.ign). Warnings and errors go to standard
error as "warning at $.path, line L col C: message".
Exit status: 0 success (warnings allowed unless --strict), 1 translation error, 2 usage error.

Options:
  --from-butane FILE     the Butane config to translate (required)
  -d, --files-dir DIR    allow embedding local files from DIR
  -s, --strict           fail on any warning
  -p, --pretty           indent the output`;

/** The Ignition file name for a Butane file: its extension replaced by `.ign`. */
export function ignitionPathFor(butanePath: string): string {
  const name = basename(butanePath);
  const ext = extname(name);
  const stem = ext && ext !== name ? name.slice(0, -ext.length) : name;
  return join(dirname(butanePath), `${stem}.ign`);
}

/** Entry point of `nexus-init init`. */
export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("init", USAGE, args, {
    "from-butane": { type: "string" },
    "files-dir": { type: "string", short: "d" },
    strict: { type: "boolean", short: "s" },
    pretty: { type: "boolean", short: "p" },
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const input = values["from-butane"] as string | undefined;
  if (!input || input === "-" || positionals.length > 0) {
    return usageError("init", USAGE, "expected --from-butane FILE (a file, not standard input)");
  }
  const output = ignitionPathFor(input);
  const { code } = runButaneTranslation(
    {
      input,
      filesDir: values["files-dir"] as string | undefined,
      strict: values.strict === true,
      pretty: values.pretty === true,
      check: false,
      output,
    },
    "init",
  );
  if (code === 0) process.stderr.write(`Wrote ${output}\n`);
  return code;
}
