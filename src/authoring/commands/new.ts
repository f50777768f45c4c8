// nexus new DIR [--force]: a typed project an editor understands with no npm install — an
// example system.ts, a tsconfig.json mapping "nexus" to the library's declarations, and those
// declarations under .nexus/types/ (refreshed on every run, so `nexus new .` updates them).
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseCommandArgs, usageError } from "../../cli/args.ts";
import { dslDeclarations } from "../toolchain.ts";

export const summary = "Scaffold a typed project: system.ts, tsconfig.json and the library's types";

const USAGE = `Usage: nexus new DIR [--force]

Creates DIR (if needed) with an example system.ts, a tsconfig.json and the nexus library's
type declarations in DIR/.nexus/types, so editors complete and check programs with no npm
install. Existing system.ts and tsconfig.json are kept unless --force; the declarations are
always refreshed. Then: nexus check DIR/system.ts, nexus provision DIR/system.ts.

Options:
  --force   overwrite an existing system.ts and tsconfig.json`;

/** The tsconfig.json of a new project (no baseUrl: TypeScript 7 rejects it). */
export const PROJECT_TSCONFIG = {
  compilerOptions: {
    strict: true,
    noEmit: true,
    target: "ES2022",
    module: "ESNext",
    moduleResolution: "bundler",
    lib: ["ES2023"],
    types: [],
    allowImportingTsExtensions: true,
    skipLibCheck: true,
    paths: { nexus: ["./.nexus/types/index.d.ts"] },
  },
  include: ["**/*.ts"],
  exclude: ["node_modules", ".nexus"],
};

/** The example program of a new project. */
export const EXAMPLE_PROGRAM = `// A machine described as a typed program. Check it with \`nexus check system.ts\`,
// compile it with \`nexus provision system.ts -o system.ign\`.
import { directory, file, param, service, system, user } from "nexus";

const hostname = param("hostname", "node-1"); // nexus provision system.ts --set hostname=web-3

export default system({ spec: "3.4.0" }, [
  file("/etc/hostname", { contents: \`\${hostname}\\n\`, mode: 0o644, overwrite: true }),
  file("/etc/motd", { contents: "Provisioned by nexus.\\n", mode: 0o644 }),
  directory("/var/lib/app", { mode: 0o750, user: "core" }),
  user("core", {
    groups: ["wheel"],
    sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyReplaceMe core@example"],
  }),
  service("app.service", {
    unit: { Description: "Example application", After: "network-online.target" },
    service: { Type: "simple", ExecStart: "/usr/bin/sleep infinity", Restart: "on-failure" },
    install: { WantedBy: "multi-user.target" },
  }),
]);
`;

function writeUnlessPresent(path: string, text: string, force: boolean, wrote: string[]): void {
  if (existsSync(path) && !force) return;
  writeFileSync(path, text);
  wrote.push(path);
}

/** Runs the new command. */
export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("new", USAGE, args, { force: { type: "boolean" } });
  if (typeof parsed === "number") return parsed;
  if (parsed.positionals.length !== 1) return usageError("new", USAGE, "expected exactly one directory");
  const dir = parsed.positionals[0]!;
  const force = parsed.values.force === true;
  mkdirSync(dir, { recursive: true });
  const wrote: string[] = [];
  writeUnlessPresent(join(dir, "system.ts"), EXAMPLE_PROGRAM, force, wrote);
  writeUnlessPresent(join(dir, "tsconfig.json"), JSON.stringify(PROJECT_TSCONFIG, null, 2) + "\n", force, wrote);
  for (const [name, text] of Object.entries(await dslDeclarations())) {
    const path = join(dir, ".nexus/types", name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  wrote.push(join(dir, ".nexus/types/"));
  process.stderr.write(`nexus new: wrote ${wrote.join(", ")}\n`);
  return 0;
}
