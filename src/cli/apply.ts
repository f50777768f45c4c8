// nexus-init apply --root DIR [--json] CONFIG|-
import { parseAnyConfig, takeUnreportedIssues } from "../acquire/document.ts";
import { formatIssue, type Issue } from "../config/index.ts";
import { runStages, type EngineResult } from "../executor/engine.ts";
import { Logger, stderrSink } from "../log/logger.ts";
import { openSession } from "../executor/session.ts";
import { STAGE_NAMES } from "../executor/names.ts";
import { ACCOUNTS_MODES, type AccountsMode } from "../executor/stage.ts";
import { Root } from "../system/root.ts";
import { accountsOption, parseCommandArgs, usageError, program } from "./args.ts";
import { readConfigArg, UsageError } from "./input.ts";

export const summary = "Provision a root directory from a config (all stages, one process)";

const USAGE = `Usage: nexus-init apply --root DIR [--json] [--accounts=native|tools] CONFIG|-

Parses and validates CONFIG (or standard input with "-"); when it is valid, runs every stage
against the root directory DIR in one process, logging each action on standard error and the
plan before acting. An invalid config touches nothing.
Exit status: 0 success, 1 invalid config or failed provisioning, 2 usage error.

Options:
  --root DIR   the target root directory (required)
  --json       end with a machine-readable report on standard output
  --accounts=native|tools
               write users and groups natively (default) or by running shadow's useradd,
               usermod, userdel, groupadd, groupmod and groupdel with --root, as Ignition does`;

/** Parsed command line, or the exit code of a usage problem already reported. */
export interface RootCommandArgs {
  root: string;
  json: boolean;
  configArg: string;
  accounts: AccountsMode;
}


/** Parses `--root DIR [--json] CONFIG` for apply and plan; prints usage problems. */
export function parseRootCommand(cmd: string, usage: string, args: string[]): RootCommandArgs | number {
  const parsed = parseCommandArgs(cmd, usage, args, { root: { type: "string" }, json: { type: "boolean" }, accounts: { type: "string" } });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (typeof values.root !== "string" || values.root === "") return usageError(cmd, usage, "--root DIR is required");
  if (positionals.length !== 1) return usageError(cmd, usage, 'expected exactly one config file (or "-")');
  const accounts = accountsOption(values.accounts);
  if (!(ACCOUNTS_MODES as readonly string[]).includes(accounts)) return usageError(cmd, usage, accounts);
  return { root: values.root, json: values.json === true, configArg: positionals[0]!, accounts: accounts as AccountsMode };
}

/** Reads, parses and validates the config and checks the root; prints what is wrong. */
export function loadInputs(
  cmd: string,
  a: RootCommandArgs,
): { ok: true; bytes: Uint8Array; config: import("../config/types.ts").Config; issues: Issue[] } | { ok: false; code: number; issues: Issue[] } {
  let bytes: Uint8Array;
  try {
    bytes = readConfigArg(a.configArg);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${program.name} ${cmd}: ${e.message}\n`);
    return { ok: false, code: 2, issues: [] };
  }
  try {
    Root.open(a.root);
  } catch (e) {
    process.stderr.write(`${program.name} ${cmd}: ${(e as Error).message}\n`);
    return { ok: false, code: 2, issues: [] };
  }
  const parsed = parseAnyConfig(bytes);
  for (const i of takeUnreportedIssues(parsed)) process.stderr.write(formatIssue(i) + "\n");
  if (!parsed.ok) return { ok: false, code: 1, issues: parsed.issues };
  return { ok: true, bytes, config: parsed.config, issues: parsed.issues };
}

/** Issues as JSON objects. */
export function issuesJson(issues: readonly Issue[]): object[] {
  return issues.map((i) => ({ severity: i.severity, path: i.path.join("."), message: i.message, ...(i.line !== undefined ? { line: i.line, column: i.column } : {}) }));
}

/** Runs the apply command. */
export async function main(args: string[]): Promise<number> {
  const a = parseRootCommand("apply", USAGE, args);
  if (typeof a === "number") return a;
  const input = loadInputs("apply", a);
  if (!input.ok) {
    if (a.json && input.code === 1) process.stdout.write(JSON.stringify({ outcome: "invalid", issues: issuesJson(input.issues) }) + "\n");
    return input.code;
  }
  const log = new Logger(stderrSink());
  const session = openSession({ root: a.root, configArg: a.configArg, bytes: input.bytes, config: input.config, log, accounts: a.accounts });
  let result: EngineResult;
  try {
    result = await runStages(STAGE_NAMES, session.options);
  } finally {
    session.close();
  }
  if (result.ok) log.info("apply: provisioning finished");
  else log.crit(`apply: provisioning failed in stage "${result.failedStage}": ${result.error}`);
  if (a.json) {
    const report = {
      outcome: result.ok ? "success" : "failure",
      root: a.root,
      configSource: session.options.configSource,
      ...(result.ok ? {} : { failedStage: result.failedStage, error: result.error }),
      stages: result.stages.map((s) => ({ ...s, ms: Math.round(s.ms * 10) / 10 })),
      plan: result.plan,
      operations: log.ops.map((o) => ({ ...o, ms: Math.round(o.ms * 10) / 10 })),
      issues: issuesJson(input.issues),
    };
    process.stdout.write(JSON.stringify(report) + "\n");
  }
  return result.ok ? 0 : 1;
}
