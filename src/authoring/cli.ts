// The `nexus` authoring CLI: nexus-init's config commands (which here also take typed programs)
// plus the commands of the typed provisioning language. Commands load on demand.
import { program } from "../cli/args.ts";
import { VERSION } from "../cli/index.ts";

interface Entry {
  summary: string;
  load(): Promise<{ main(args: string[]): Promise<number> }>;
}

/** Every command, in the order help lists them. */
export const NEXUS_COMMANDS = {
  new: { summary: "Scaffold a typed project: system.ts, tsconfig.json and the library's types", load: () => import("./commands/new.ts") },
  check: { summary: "Type-check programs and validate what they declare", load: () => import("./commands/check.ts") },
  provision: { summary: "Compile typed programs (system.ts) to Ignition JSON", load: () => import("./commands/provision.ts") },
  import: { summary: "Turn an Ignition or Butane config into a typed program (system.ts)", load: () => import("./commands/import.ts") },
  validate: { summary: "Check a config or a program without touching anything", load: () => import("./commands/compiled.ts").then((m) => m.command("validate")) },
  plan: { summary: "Show what apply would do to a root directory, touching nothing", load: () => import("./commands/compiled.ts").then((m) => m.command("plan")) },
  apply: { summary: "Provision a root directory from a config or a program", load: () => import("./commands/compiled.ts").then((m) => m.command("apply")) },
  verify: { summary: "Report every difference between a provisioned root (and its disks) and a config or a program", load: () => import("./commands/compiled.ts").then((m) => m.command("verify")) },
  schema: { summary: "Print the JSON Schema of a spec version, for editors and CI", load: () => import("./commands/schema.ts") },
  image: { summary: "Build a bootable image (iso, raw, qcow2, gce) carrying a config for its first boot", load: () => import("./commands/image.ts") },
  translate: { summary: "Translate a Butane config (YAML) to an Ignition config (JSON)", load: () => import("../cli/translate.ts") },
} as const satisfies Record<string, Entry>;

const USAGE = `Usage: nexus <command> [options]

Commands:
${Object.entries(NEXUS_COMMANDS)
  .map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`)
  .join("\n")}

Run "nexus <command> --help" for a command's options.`;

/** Dispatches argv (without the program name); returns the exit code. */
export async function runNexusCli(argv: string[]): Promise<number> {
  program.name = "nexus";
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    (name === undefined ? process.stderr : process.stdout).write(USAGE + "\n");
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "version") {
    process.stdout.write(`nexus ${VERSION}\n`);
    return 0;
  }
  const entry = (NEXUS_COMMANDS as Record<string, Entry>)[name];
  if (!entry) {
    process.stderr.write(`nexus: unknown command "${name}"\n\n${USAGE}\n`);
    return 2;
  }
  return (await entry.load()).main(rest);
}
