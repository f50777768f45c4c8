// The kernel's arguments: the command line read from /proc/cmdline (HOST_PATHS.cmdline, NEXUS_PATH_CMDLINE, or
// IGNITION_KERNEL_CMDLINE_PATH as the corpus sets it) and split the way the kernel does:
// whitespace separates arguments, double quotes group, the first "=" splits name and value.
import { readFile } from "node:fs/promises";
import { hostPath } from "../system/commands.ts";

/** Parsed arguments in order; a bare flag has value null. */
export type KernelArgs = readonly (readonly [name: string, value: string | null])[];

/** Where the kernel command line is read from. */
export function cmdlinePath(env: Record<string, string | undefined>): string {
  return env.NEXUS_PATH_CMDLINE ?? env.IGNITION_KERNEL_CMDLINE_PATH ?? hostPath("cmdline", env);
}

/** Splits a command line into arguments. */
export function parseKernelArgs(text: string): KernelArgs {
  const out: [string, string | null][] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    let token = "";
    let quoted = false;
    while (i < text.length && (quoted || !/\s/.test(text[i]!))) {
      const c = text[i++]!;
      if (c === '"') quoted = !quoted;
      else token += c;
    }
    const eq = token.indexOf("=");
    out.push(eq < 0 ? [token, null] : [token.slice(0, eq), token.slice(eq + 1)]);
  }
  return out;
}

/** The value of the last occurrence of any of names (the kernel's "last one wins"), or undefined. */
export function getKernelArg(args: KernelArgs, ...names: string[]): string | null | undefined {
  let found: string | null | undefined;
  for (const [n, v] of args) if (names.includes(n)) found = v;
  return found;
}

/** Reads and parses the kernel command line; a missing file reads as empty. */
export async function readKernelArgs(env: Record<string, string | undefined>): Promise<KernelArgs> {
  try {
    return parseKernelArgs(await readFile(cmdlinePath(env), "utf8"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new Error(`Cannot read kernel command line "${cmdlinePath(env)}": ${(e as Error).message}`, { cause: e });
  }
}
