// A System for tests: a fixed environment and clock, and every command recorded. Commands get
// the answer of `respond` (by default: passed to the real System, so tests still run the real
// tools while asserting on the exact argv).
import type { CommandName } from "./commands.ts";
import { realSystem } from "./real.ts";
import type { CommandResult, RunOptions, System } from "./system.ts";

/** One recorded command. */
export interface RecordedCall {
  cmd: CommandName;
  args: readonly string[];
  opts?: RunOptions;
}

/** A System that records its calls. */
export interface FakeSystem extends System {
  readonly calls: RecordedCall[];
}

export interface FakeSystemOptions {
  env?: Record<string, string | undefined>;
  /** Fixed clock in ms since the epoch (default: the real clock). */
  now?: number;
  /** Answers a command; return undefined to run it for real. */
  respond?: (cmd: CommandName, args: readonly string[]) => CommandResult | undefined;
}

/** Creates a recording System. */
export function fakeSystem(opts: FakeSystemOptions = {}): FakeSystem {
  const real = realSystem();
  const calls: RecordedCall[] = [];
  return {
    calls,
    env: opts.env ?? {},
    now: () => opts.now ?? Date.now(),
    async run(cmd, args, runOpts) {
      calls.push({ cmd, args, opts: runOpts });
      const answer = opts.respond?.(cmd, args);
      return answer ?? real.run(cmd, args, runOpts);
    },
  };
}
