// Small steps several channel providers share: a host command as a logged operation whose
// failure names the platform and the step, and trimming the NUL padding devices add.
import type { CommandName } from "../system/commands.ts";
import type { ProviderContext } from "./types.ts";

/** Runs a command as a logged operation; a failure is an error naming the platform and the step. */
export async function runStep(ctx: ProviderContext, step: string, cmd: CommandName, args: string[]) {
  const r = await ctx.log.op(step, () => ctx.system.run(cmd, args));
  if (r.code !== 0) throw new Error(`Cannot fetch config on platform "${ctx.platform}": ${step} failed: ${(r.stderr || r.stdout).trim() || `exit code ${r.code}`}`);
  return r;
}

/** The bytes without leading and trailing NULs. */
export function trimNul(data: Uint8Array): Uint8Array {
  let a = 0;
  let b = data.length;
  while (a < b && data[a] === 0) a++;
  while (b > a && data[b - 1] === 0) b--;
  return data.subarray(a, b);
}

