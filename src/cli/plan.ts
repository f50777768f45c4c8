// nexus-init plan --root DIR [--json] CONFIG|-
import { planStages } from "../executor/engine.ts";
import { Logger } from "../log/logger.ts";
import { openSession } from "../executor/session.ts";
import { STAGE_NAMES } from "../executor/names.ts";
import type { PlanEntry } from "../executor/stage.ts";
import { issuesJson, loadInputs, parseRootCommand } from "./apply.ts";
import { program } from "./args.ts";

export const summary = "Show what apply would do to a root directory, touching nothing";

const USAGE = `Usage: nexus-init plan --root DIR [--json] [--accounts=native|tools] CONFIG|-

Prints what "nexus-init apply" would do to DIR: nodes created, overwritten, appended or left
alone; users and groups added, modified or deleted; units written, enabled, masked; drop-ins.
Nothing in DIR is touched. The plan is of DIR as it is now (filesystems the config would mount
are not mounted).
Exit status: 0 the plan can be applied, 1 invalid config or a step that would fail, 2 usage error.

Options:
  --root DIR   the target root directory (required)
  --json       print {"ok":bool,"plan":[…]} on standard output instead of text
  --accounts=native|tools
               plan users and groups as apply would write them (default native)`;

/** The plan as aligned text lines. */
export function formatPlan(plan: readonly PlanEntry[]): string {
  if (plan.length === 0) return "Nothing to do.\n";
  const w = Math.max(...plan.map((p) => p.action.length));
  return plan.map((p) => `${p.stage.padEnd(6)} ${p.action.padEnd(w)}  ${p.target}${p.detail ? `  (${p.detail})` : ""}\n`).join("");
}

/** Runs the plan command. */
export async function main(args: string[]): Promise<number> {
  const a = parseRootCommand("plan", USAGE, args);
  if (typeof a === "number") return a;
  const input = loadInputs("plan", a);
  if (!input.ok) {
    if (a.json && input.code === 1) process.stdout.write(JSON.stringify({ ok: false, issues: issuesJson(input.issues), plan: [] }) + "\n");
    return input.code;
  }
  // Only problems reach standard error: the plan itself is the output.
  const log = new Logger((l) => {
    if (/(^|: )(WARNING|ERR|CRIT): /.test(l)) process.stderr.write(l + "\n");
  });
  const session = openSession({ root: a.root, configArg: a.configArg, bytes: input.bytes, config: input.config, log, accounts: a.accounts });
  let result: Awaited<ReturnType<typeof planStages>>;
  try {
    result = await planStages(STAGE_NAMES, session.options);
  } finally {
    session.close();
  }
  if (result.error) process.stderr.write(`${program.name} plan: ${result.error}\n`);
  if (a.json) {
    process.stdout.write(JSON.stringify({ ok: result.ok, ...(result.error ? { error: result.error } : {}), plan: result.plan, issues: issuesJson(input.issues) }) + "\n");
  } else {
    process.stdout.write(formatPlan(result.plan));
  }
  return result.ok ? 0 : 1;
}
