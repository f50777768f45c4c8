// nexus schema --spec VERSION [--draft 07|2020-12] [-o FILE]: the JSON Schema of one spec version,
// for editors (VS Code's json.schemas) and CI.
import { parseCommandArgs, usageError } from "../../cli/args.ts";
import { SPEC_VERSIONS, type SpecVersion } from "../../config/types.ts";
import { DRAFTS, schemaText, type Draft } from "../schema.ts";
import { writeAtomically } from "./provision.ts";

export const summary = "Print the JSON Schema of a spec version, for editors and CI";

const USAGE = `Usage: nexus schema --spec VERSION [--draft 07|2020-12] [-o FILE]

Prints a JSON Schema of Ignition config spec VERSION, generated from the schemas the validator
parses with: every property described, required keys, the version, path and URL patterns,
hash formats, closed value sets and the other rules JSON Schema can state. Unknown keys are
flagged (the validator only warns about them). Editors: see "Editor support for .ign files"
in the README.

Options:
  --spec VERSION     ${SPEC_VERSIONS.join(", ")}
  --draft D          07 (default: every VS Code version reads it) or 2020-12
  -o, --output FILE  write to FILE instead of standard output`;

/** Runs the schema command. */
export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("schema", USAGE, args, {
    spec: { type: "string" },
    draft: { type: "string" },
    output: { type: "string", short: "o" },
  });
  if (typeof parsed === "number") return parsed;
  if (parsed.positionals.length > 0) return usageError("schema", USAGE, `unexpected argument "${parsed.positionals[0]}"`);
  const spec = parsed.values.spec as string | undefined;
  if (spec === undefined) return usageError("schema", USAGE, "--spec is required");
  if (!(SPEC_VERSIONS as readonly string[]).includes(spec)) {
    return usageError("schema", USAGE, `unknown --spec "${spec}": expected one of ${SPEC_VERSIONS.join(", ")}`);
  }
  const draft = (parsed.values.draft as string | undefined) ?? "07";
  if (!(DRAFTS as readonly string[]).includes(draft)) return usageError("schema", USAGE, `unknown --draft "${draft}": expected ${DRAFTS.join(" or ")}`);
  const text = schemaText(spec as SpecVersion, draft as Draft);
  const out = parsed.values.output as string | undefined;
  if (out) writeAtomically(out, text);
  else process.stdout.write(text);
  return 0;
}
