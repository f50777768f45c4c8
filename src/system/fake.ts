// A System for tests: a fixed environment and clock, and every command recorded. A command gets
// the answer of `respond`; one it does not answer fails the test loudly, unless the test opts
// into the real host with `real: true` (then the real tool runs, with the test's environment,
// and the test can still assert on the exact argv).
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
  /** Answers a command; undefined leaves it unanswered. */
  respond?: (cmd: CommandName, args: readonly string[]) => CommandResult | undefined;
  /** Run unanswered commands on this host for real (default: they throw). */
  real?: boolean;
}

/** A command the fake System was not told how to answer. */
export class UnansweredCommandError extends Error {
  constructor(
    readonly cmd: CommandName,
    readonly args: readonly string[],
  ) {
    super(`Cannot run "${[cmd, ...args].join(" ")}" in a test: fakeSystem has no answer for it (give respond, or real: true)`);
    this.name = "UnansweredCommandError";
  }
}

/** Creates a recording System. */
export function fakeSystem(opts: FakeSystemOptions = {}): FakeSystem {
  const env = opts.env ?? {};
  const real = opts.real ? realSystem(env) : null;
  const calls: RecordedCall[] = [];
  return {
    calls,
    env,
    now: () => opts.now ?? Date.now(),
    async run(cmd, args, runOpts) {
      calls.push({ cmd, args, opts: runOpts });
      const answer = opts.respond?.(cmd, args);
      if (answer) return answer;
      if (!real) throw new UnansweredCommandError(cmd, args);
      return real.run(cmd, args, runOpts);
    },
  };
}
