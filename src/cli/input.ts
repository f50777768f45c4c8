// Reading a config argument: a file path or "-" for standard input.
import { readFileSync } from "node:fs";

/** The bytes of FILE, or of standard input for "-". Throws with a clear message otherwise. */
export function readConfigArg(arg: string): Uint8Array {
  try {
    return arg === "-" ? readFileSync(0) : readFileSync(arg);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (e as Error).message;
    throw new UsageError(`Cannot read config "${arg}": ${why}`);
  }
}

/** A command-line mistake: printed with usage, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}
