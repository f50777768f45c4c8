// nexus-init run --stage NAME --platform ID [--root /sysroot]
import { parseCommandArgs, usageError } from "./args.ts";
import { runStages } from "../executor/engine.ts";
import { Logger, stderrSink } from "../log/logger.ts";
import { defaultRunPaths } from "../executor/paths.ts";
import { isStageName, STAGE_NAMES } from "../executor/names.ts";
import { realSystem } from "../system/real.ts";
import { BootHome, bootRootSpec, DirectoryHome } from "../executor/journal_home.ts";
import { readKernelArgs } from "../providers/kernel_args.ts";
import { join } from "node:path";

export const summary = "Run one provisioning stage (what the initramfs units call)";

const USAGE = `Usage: nexus-init run --stage NAME --platform ID [--root DIR]

Runs one stage, as the initramfs does at first boot: ${STAGE_NAMES.join(", ")}.
The fetch stages cache the rendered config in the run directory (/run/nexus, or
NEXUS_PATH_RUN_DIR); later stages read it, and every stage adds its timing to the state file
there. Log lines carry journal priorities.
Exit status: 0 success, 1 the stage failed, 2 usage error.

Options:
  --stage NAME     the stage to run (required)
  --platform ID    the platform the config comes from, e.g. qemu, gcp, aws, file (required)
  --root DIR       the target root (default /sysroot)`;

/** Runs the run command. */
export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("run", USAGE, args, {
    stage: { type: "string" },
    platform: { type: "string" },
    root: { type: "string" },
  });
  if (typeof parsed === "number") return parsed;
  const values = parsed.values as { stage?: string; platform?: string; root?: string };
  if (parsed.positionals.length > 0) return usageError("run", USAGE, `unexpected argument "${parsed.positionals[0]}"`);
  if (!values.stage || !isStageName(values.stage)) {
    const got = values.stage ? `unknown stage "${values.stage}"` : "--stage NAME is required";
    process.stderr.write(`nexus-init run: ${got} (stages: ${STAGE_NAMES.join(", ")})\n`);
    return 2;
  }
  if (!values.platform) {
    process.stderr.write(`nexus-init run: --platform ID is required\n`);
    return 2;
  }
  const system = realSystem();
  const log = new Logger(stderrSink(), { priorities: true });
  const root = values.root ?? "/sysroot";
  const paths = defaultRunPaths(system.env);
  const spec = bootRootSpec(await readKernelArgs(system.env));
  const result = await runStages([values.stage], {
    root,
    platform: values.platform,
    system,
    log,
    paths,
    configSource: `platform ${values.platform}`,
    persistState: true,
    journal: { home: new BootHome(root, spec, system, join(paths.runDir, "journal-home")), copy: new DirectoryHome(paths.runDir) },
  });
  return result.ok ? 0 : 1;
}
