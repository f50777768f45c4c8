// Operation logging: every host action is an operation with [started]/[finished]/[failed],
// a sequence number and a duration. Lines carry journal priorities (<N>) when asked to,
// so the initramfs's journal keeps the levels. Never pass secrets in messages (see redact.ts).
import { writeSync } from "node:fs";

export type Level = "crit" | "err" | "warning" | "notice" | "info" | "debug";
const PRIORITY: Record<Level, number> = { crit: 2, err: 3, warning: 4, notice: 5, info: 6, debug: 7 };

export interface LogSink {
  (line: string): void;
}

/** A sink that batches lines, with a way to write out what is pending now. */
export interface FlushableSink extends LogSink {
  flush(): void;
}

/** A structured record of one finished operation, kept for the result report. */
export interface OpRecord {
  seq: number;
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}

/**
 * A sink writing to standard error, batched: the lines of one turn of the event loop go out in
 * one write (a stage with thousands of operations would otherwise make one system call per
 * line). Whatever is pending when the process exits is written synchronously; flush() writes
 * it at once (a long stretch of promise callbacks can hold the next turn back for seconds).
 */
export function stderrSink(): FlushableSink {
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const text = pending.join("\n") + "\n";
    pending = [];
    process.stderr.write(text);
  };
  process.once("exit", () => {
    if (pending.length > 0) writeSync(2, pending.join("\n") + "\n");
    pending = [];
  });
  const sink = (line: string) => {
    if (pending.length === 0) setImmediate(flush);
    pending.push(line);
  };
  return Object.assign(sink, { flush });
}

/** Logger for one process; stage names prefix each line. */
export class Logger {
  private seq = 0;
  readonly ops: OpRecord[] = [];
  constructor(
    private readonly sink: LogSink = (l) => process.stderr.write(l + "\n"),
    private readonly opts: { priorities?: boolean; prefix?: string; debug?: boolean } = {},
  ) {}

  /** A logger writing to the same sink with another prefix (e.g. the stage name). */
  child(prefix: string): Logger {
    const c = new Logger(this.sink, { ...this.opts, prefix });
    // Share the sequence and records with the parent so numbers stay unique.
    Object.defineProperty(c, "seq", { get: () => this.seq, set: (v: number) => (this.seq = v) });
    (c as unknown as { ops: OpRecord[] }).ops = this.ops;
    return c;
  }

  log(level: Level, msg: string): void {
    if (level === "debug" && !this.opts.debug) return;
    const pri = this.opts.priorities ? `<${PRIORITY[level]}>` : "";
    const pre = this.opts.prefix ? `${this.opts.prefix}: ` : "";
    this.sink(`${pri}${pre}${level === "info" || level === "notice" ? "" : level.toUpperCase() + ": "}${msg}`);
  }
  info(msg: string): void { this.log("info", msg); }
  warn(msg: string): void { this.log("warning", msg); }
  error(msg: string): void { this.log("err", msg); }
  crit(msg: string): void { this.log("crit", msg); }
  debug(msg: string): void { this.log("debug", msg); }

  /** Runs fn as a logged operation; rethrows its error after logging [failed]. */
  async op<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
    const seq = ++this.seq;
    const t0 = performance.now();
    this.info(`op(${seq}): [started]  ${name}`);
    try {
      const r = await fn();
      const ms = performance.now() - t0;
      this.ops.push({ seq, name, ok: true, ms });
      this.info(`op(${seq}): [finished] ${name} (${ms.toFixed(1)} ms)`);
      return r;
    } catch (e) {
      const ms = performance.now() - t0;
      const error = e instanceof Error ? e.message : String(e);
      this.ops.push({ seq, name, ok: false, ms, error });
      this.error(`op(${seq}): [failed]   ${name}: ${error}`);
      throw e;
    }
  }
}
