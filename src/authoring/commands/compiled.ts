// nexus validate|plan|apply|verify: nexus-init's commands, which here also take a typed program in
// place of the config — compiled first (its errors at the program's lines), then handed over as
// Ignition JSON. Flags for programs (--set, --target, --spec) are taken out before handing over.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isProgramPath } from "../../config/program.ts";
import { formatDiagnostic, provision } from "../provision.ts";
import { provisionOptions, reportDiagnostics, writeAtomically } from "./provision.ts";

type Name = "validate" | "plan" | "apply" | "verify";

const LOADERS: Record<Name, () => Promise<{ main(args: string[]): Promise<number> }>> = {
  validate: () => import("../../cli/validate.ts"),
  plan: () => import("../../cli/plan.ts"),
  apply: () => import("../../cli/apply.ts"),
  verify: () => import("../../cli/verify.ts"),
};

const PROGRAM_FLAGS = new Set(["--set", "--target", "--spec"]);

/** Splits argv into program flags (with values) and the rest. */
function splitProgramFlags(args: string[]): { programFlags: Record<string, string | string[]>; rest: string[] } {
  const programFlags: Record<string, string | string[]> = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf("=");
    const flag = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
    if (!PROGRAM_FLAGS.has(flag)) {
      rest.push(a);
      continue;
    }
    const value = eq > 0 && a.startsWith("--") ? a.slice(eq + 1) : args[++i] ?? "";
    const key = flag.slice(2);
    if (key === "set") programFlags.set = [...((programFlags.set as string[] | undefined) ?? []), value];
    else programFlags[key] = value;
  }
  return { programFlags, rest };
}

/** The command `name`, accepting a program where it takes a config. */
export function command(name: Name): { main(args: string[]): Promise<number> } {
  return {
    async main(args) {
      const { programFlags, rest } = splitProgramFlags(args);
      const programIndex = rest.findIndex((a) => !a.startsWith("-") && isProgramPath(a) && rest[rest.indexOf(a) - 1] !== "--root");
      const inner = await LOADERS[name]();
      if (programIndex < 0) return inner.main(rest);
      const opts = provisionOptions(programFlags, [rest[programIndex]!]);
      if (typeof opts === "string") {
        process.stderr.write(`nexus ${name}: ${opts}\n`);
        return 2;
      }
      const result = await provision(opts);
      if (name === "validate" && rest.includes("--json")) {
        const issues = result.diagnostics.map((d) => ({ severity: d.severity, path: (d.path ?? []).join("."), message: formatDiagnostic(d).split("\n")[0], ...(d.origins[0] ? { file: d.origins[0].file, line: d.origins[0].line, column: d.origins[0].column } : {}) }));
        process.stdout.write(JSON.stringify({ ok: result.ok, issues }) + "\n");
      }
      reportDiagnostics(result);
      if (!result.ok) return 1;
      if (name === "validate") return 0;
      const dir = mkdtempSync(join(tmpdir(), "nexus-compiled-"));
      try {
        const file = join(dir, "config.ign");
        writeAtomically(file, result.json);
        return await inner.main(rest.map((a, i) => (i === programIndex ? file : a)));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
