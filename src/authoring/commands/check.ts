// nexus check PROGRAM… [--target T] [--spec VERSION] [--set NAME=VALUE]…
// A real type check of the programs (the native TypeScript checker nexus carries), then the
// same checks `provision` runs on what they declare — without writing anything.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { parseCommandArgs, usageError } from "../../cli/args.ts";
import { provision } from "../provision.ts";
import { toolchain, type Toolchain } from "../toolchain.ts";
import { PROGRAM_OPTIONS, provisionOptions, reportDiagnostics } from "./provision.ts";

export const summary = "Type-check programs and validate what they declare";

const USAGE = `Usage: nexus check PROGRAM… [options]

Type-checks the programs with TypeScript (strict; "nexus" resolves to this nexus's library),
then runs them and checks what they declare exactly as "nexus provision" does, writing nothing.
Errors name file:line:column. Exit status: 0 no error (warnings printed), 1 errors, 2 usage error.

Options:
  --target T         ignition (default) or flatcar
  --spec VERSION     the spec to check against (default: the program's own)
  --set NAME=VALUE   a parameter the programs declare with param() (repeatable)`;

/** The compiler options programs are checked with. */
export function checkTsconfig(tc: Toolchain, programs: string[]): Record<string, unknown> {
  const project = dirname(programs[0]!);
  const typeRoots = join(project, "node_modules/@types");
  return {
    compilerOptions: {
      strict: true,
      noEmit: true,
      pretty: false,
      target: "ES2022",
      module: "ESNext",
      moduleResolution: "bundler",
      lib: ["ES2023"],
      allowImportingTsExtensions: true,
      resolveJsonModule: true,
      skipLibCheck: true,
      noErrorTruncation: true,
      ...(existsSync(typeRoots) ? { typeRoots: [typeRoots] } : { types: [] }),
      paths: { nexus: [join(tc.typesDir, "index.d.ts")] },
    },
    files: programs,
  };
}

/** Runs the type checker; returns its diagnostics as `file:line:col: error TS…: …` lines. */
export async function typeCheck(programs: string[], cwd = process.cwd()): Promise<{ ok: boolean; lines: string[] }> {
  const tc = await toolchain();
  const dir = mkdtempSync(join(tmpdir(), "nexus-check-"));
  try {
    const config = join(dir, "tsconfig.json");
    writeFileSync(config, JSON.stringify(checkTsconfig(tc, programs.map((p) => resolve(p)))));
    const proc = Bun.spawn([tc.tsc, "-p", config], { cwd, stdout: "pipe", stderr: "pipe" });
    const [out, errText, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    const lines = (out + errText)
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => {
        const m = /^(.+?)\((\d+),(\d+)\): (error|warning) (TS\d+: .*)$/.exec(l);
        if (!m) return l;
        const file = resolve(cwd, m[1]!);
        const rel = relative(cwd, file);
        return `${rel.startsWith("..") ? file : rel}:${m[2]}:${m[3]}: ${m[4]} ${m[5]}`;
      });
    return { ok: code === 0, lines };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the check command. */
export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("check", USAGE, args, PROGRAM_OPTIONS);
  if (typeof parsed === "number") return parsed;
  const opts = provisionOptions(parsed.values, parsed.positionals);
  if (typeof opts === "string") return usageError("check", USAGE, opts);
  const [types, result] = await Promise.all([typeCheck(opts.programs), provision(opts)]);
  for (const l of types.lines) process.stderr.write(l + "\n");
  reportDiagnostics(result);
  const ok = types.ok && result.ok;
  process.stderr.write(ok ? `nexus check: ok (${result.ok ? result.how : ""})\n` : "nexus check: failed\n");
  return ok ? 0 : 1;
}
