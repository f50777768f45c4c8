// The real System: runs programs with Bun.spawn. Only src/system/ may spawn processes.
import { commandPath, type CommandName } from "./commands.ts";
import type { CommandResult, RunOptions, System } from "./system.ts";

/** Runs argv directly (absolute program or PATH lookup) and collects its output. */
export async function spawnCollect(argv: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
  const proc = Bun.spawn([...argv], {
    stdin: opts.stdin === undefined ? "ignore" : new Blob([opts.stdin]),
    stdout: "pipe",
    stderr: "pipe",
    env: opts.env ? { ...process.env, ...opts.env } : process.env,
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { argv, code, stdout, stderr };
}

/** The System that acts on this machine; `env` also decides which program runs for a role. */
export function realSystem(env: Record<string, string | undefined> = process.env): System {
  return {
    env,
    now: () => Date.now(),
    async run(cmd: CommandName, args: readonly string[], opts?: RunOptions) {
      const program = commandPath(cmd, env);
      try {
        return await spawnCollect([program, ...args], opts);
      } catch (e) {
        // Program not found or not executable: report like a failed command (exit 127).
        return { argv: [program, ...args], code: 127, stdout: "", stderr: String((e as Error).message) };
      }
    },
  };
}

/** The argv that starts this program again (the compiled binary, or bun with the entry script). */
export function selfCommand(): string[] {
  const script = process.argv[1];
  return script && !script.startsWith("/$bunfs/") ? [process.execPath, script] : [process.execPath];
}
