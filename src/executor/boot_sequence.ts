// The first-boot sequence of `run` with several stages (the hand-built initramfs runs every
// stage in one process). Between the stages come the host steps a systemd initramfs orders as
// units of their own: the network before fetch (which runs only when fetch-offline asked for
// the network), the real root before mount, and a stop before disks when the kargs stage
// changed the boot entry: as in Ignition's flow, the machine reboots into the new kernel
// arguments first and the later stages run on that boot, once.
import type { CommandName } from "../system/commands.ts";
import { check, type System } from "../system/system.ts";
import type { StageDecision, StageHooks } from "./engine.ts";
import type { Logger } from "../log/logger.ts";
import type { StageName } from "./names.ts";
import type { StageState } from "./state.ts";

/** Runs a host step of the boot environment as a logged operation; its output lines are logged. */
async function hostStep(system: System, log: Logger, what: string, cmd: CommandName, args: string[]): Promise<void> {
  await log.op(what, async () => {
    const r = check(await system.run(cmd, args));
    for (const line of r.stdout.split("\n")) if (line.trim()) log.info(line);
  });
}

/** The hooks that make a multi-stage run the whole first boot of the initramfs. */
export function bootSequenceHooks(args: { system: System; log: Logger; root: string }): Required<Pick<StageHooks, "before">> {
  const { system, log, root } = args;
  return {
    async before(name: StageName, state: StageState): Promise<StageDecision> {
      switch (name) {
        case "fetch":
          if (!state.neednet) return "skip";
          await hostStep(system, log, "bringing up the network", "netUp", []);
          return "run";
        case "disks":
          if (!state.kargsReboot) return "run";
          log.log("notice", "Kernel arguments changed: stopping before disks; the later stages run after the reboot into them");
          return "stop";
        case "mount":
          await hostStep(system, log, `mounting the root at "${root}"`, "mountRoot", [root]);
          return "run";
        default:
          return "run";
      }
    },
  };
}
