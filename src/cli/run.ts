// nexus-init run --stage NAME|all|NAME,NAME… --platform ID [--root /sysroot] [--accounts=native|tools]
import { accountsOption, parseCommandArgs, usageError } from "./args.ts";
import { bootSequenceHooks } from "../executor/boot_sequence.ts";
import { runStages, type StageHooks } from "../executor/engine.ts";
import { Logger, stderrSink } from "../log/logger.ts";
import { defaultRunPaths } from "../executor/paths.ts";
import { isStageName, STAGE_NAMES, type StageName } from "../executor/names.ts";
import { realSystem } from "../system/real.ts";
import type { AccountsMode } from "../executor/stage.ts";

export const summary = "Run provisioning stages: one (what the initramfs units call) or all (one process)";

const USAGE = `Usage: nexus-init run --stage NAME|all|NAME,NAME... --platform ID [--root DIR] [--accounts=native|tools]

Runs stages as the initramfs does at first boot: ${STAGE_NAMES.join(", ")}.
The fetch stages cache the rendered config in the run directory (/run/nexus, or
NEXUS_PATH_RUN_DIR); later stages read it, and every stage adds its timing to the state file
there. Log lines carry journal priorities.

With one stage (a systemd unit per stage, as the dracut module does), exactly that stage runs.
With "all" or a comma list, the stages run in boot order in this one process, as the whole
first boot of the hand-built initramfs: fetch runs only when fetch-offline flagged that the
network is needed, after the command nexus-net-up brought it up; the command
nexus-mount-root DIR mounts the real root before the mount stage; when the kargs stage changed
the boot entry, the run stops before disks (the flag file kargs-reboot in the run directory
asks for a reboot into the new arguments; the later stages run on that boot). Each stage
prints "stage NAME: started" and "stage NAME: finished in N ms" (or "failed after N ms").
A failed stage ends the run: no later stage runs (umount still releases what mount mounted).
Exit status: 0 success (also when stopped for a reboot), 1 a stage failed, 2 usage error.

Options:
  --stage NAME     the stage, "all", or a comma-separated list of stages (required)
  --platform ID    the platform the config comes from, e.g. qemu, gcp, aws, file (required)
  --root DIR       the target root (default /sysroot)
  --accounts=native|tools
                   write users and groups natively (default) or with shadow's tools`;

/** The stages a --stage value names, in boot order, or an error message. */
export function parseStageList(value: string): StageName[] | string {
  if (value === "all") return [...STAGE_NAMES];
  const names = value.split(",").map((s) => s.trim());
  const unknown = names.find((n) => !isStageName(n));
  if (unknown !== undefined) return unknown === "" ? `empty stage name in "${value}"` : `unknown stage "${unknown}"`;
  const wanted = new Set(names);
  if (wanted.size !== names.length) return `a stage is named twice in "${value}"`;
  return STAGE_NAMES.filter((n) => wanted.has(n));
}

/** Runs the run command. */
export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("run", USAGE, args, {
    stage: { type: "string" },
    platform: { type: "string" },
    root: { type: "string" },
    accounts: { type: "string" },
  });
  if (typeof parsed === "number") return parsed;
  const values = parsed.values as { stage?: string; platform?: string; root?: string; accounts?: string };
  if (parsed.positionals.length > 0) return usageError("run", USAGE, `unexpected argument "${parsed.positionals[0]}"`);
  const stages = values.stage ? parseStageList(values.stage) : "--stage NAME is required";
  if (typeof stages === "string") {
    process.stderr.write(`nexus-init run: ${stages} (stages: ${STAGE_NAMES.join(", ")}, or all)\n`);
    return 2;
  }
  if (!values.platform) {
    process.stderr.write(`nexus-init run: --platform ID is required\n`);
    return 2;
  }
  const accounts = accountsOption(values.accounts);
  if (accounts !== "native" && accounts !== "tools") return usageError("run", USAGE, accounts);
  const root = values.root ?? "/sysroot";
  const system = realSystem();
  const sink = stderrSink();
  const log = new Logger(sink, { priorities: true });
  const result = await runStages(stages, {
    root,
    platform: values.platform,
    system,
    log,
    paths: defaultRunPaths(system.env),
    configSource: `platform ${values.platform}`,
    persistState: true,
    accounts: accounts as AccountsMode,
    hooks: stages.length > 1 ? progressHooks(log, sink.flush, bootSequenceHooks({ system, log, root })) : undefined,
  });
  return result.ok ? 0 : 1;
}

/**
 * The boot sequence's hooks plus one line when each stage starts and ends, written out at once
 * (the initramfs stamps these lines with the uptime as they arrive).
 */
function progressHooks(log: Logger, flush: () => void, boot: StageHooks): StageHooks {
  return {
    async before(name, state) {
      const decision = (await boot.before?.(name, state)) ?? "run";
      if (decision === "run") {
        log.log("notice", `stage ${name}: started`);
        flush();
      }
      return decision;
    },
    after(rec) {
      const ms = Math.round(rec.ms);
      log.log("notice", rec.ok ? `stage ${rec.name}: finished in ${ms} ms` : `stage ${rec.name}: failed after ${ms} ms`);
      flush();
    },
  };
}
