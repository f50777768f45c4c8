// Running a user's program: the `nexus` module it imports is this process's own DSL instance
// (a virtual module, so a stale or foreign `node_modules/nexus` can never be picked up), and
// the program's default export — a system, a part, or a list of parts — is what it declares.
// This runs the user's code with the user's privileges, like any build script; the boot side
// (nexus-init) never gets here.
import { resolve } from "node:path";
import * as dsl from "../dsl/index.ts";
import { flattenParts, isSystem, SYSTEM, type PartData, type SystemOptions } from "../dsl/parts.ts";
import type { Origin } from "../dsl/origin.ts";
import { declaredParams, redeclareParams, type DeclaredParam } from "../dsl/values.ts";

/** The module name programs import the library by. */
export const DSL_MODULE = "nexus";

let registered = false;

/** Makes `import … from "nexus"` resolve to this process's DSL (once per process). */
export function registerDslModule(): void {
  if (registered) return;
  Bun.plugin({
    name: "nexus-dsl",
    setup(build) {
      build.module(DSL_MODULE, () => ({ exports: dsl as unknown as Record<string, unknown>, loader: "object" }));
    },
  });
  registered = true;
}

/** What one program declared. */
export interface LoadedProgram {
  file: string;
  parts: PartData[];
  options: SystemOptions;
  /** Where system() was called, when the program exported one. */
  origin?: Origin;
}

/** A program that could not run: its error, with the user's line when the stack has one. */
export class ProgramError extends Error {
  override name = "ProgramError";
  constructor(
    readonly file: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

// A module runs once per process: a program asked for again gets its first run's declarations,
// which is only right when its parameters are the same.
const evaluatedWith = new Map<string, { paramsKey: string; params: DeclaredParam[] }>();

/** Runs one program file and collects its declarations. */
export async function loadProgram(path: string, paramsKey = ""): Promise<LoadedProgram> {
  registerDslModule();
  const file = resolve(path);
  const before = evaluatedWith.get(file);
  if (before && before.paramsKey !== paramsKey) {
    throw new ProgramError(file, `Cannot run program "${path}" again with other parameters in this process: run another nexus process`);
  }
  if (before) redeclareParams(before.params);
  const known = new Set(declaredParams().map((p) => p.name));
  let mod: { default?: unknown };
  try {
    mod = (await import(file)) as { default?: unknown };
  } catch (e) {
    const err = e as Error;
    const text = err?.message ?? String(e);
    throw new ProgramError(file, `Cannot run program "${path}": ${text}`, { cause: e });
  }
  if (!before) evaluatedWith.set(file, { paramsKey, params: declaredParams().filter((p) => !known.has(p.name)) });
  if (!("default" in mod) || mod.default === undefined) {
    throw new ProgramError(file, `Cannot use program "${path}": it has no default export (end it with \`export default system({ … }, [ … ])\`)`);
  }
  const exported = mod.default;
  if (isSystem(exported)) {
    const sys = exported[SYSTEM];
    return { file, parts: sys.parts, options: sys.options, origin: sys.origin };
  }
  try {
    return { file, parts: flattenParts(exported, "the default export"), options: {} };
  } catch (e) {
    throw new ProgramError(file, `Cannot use program "${path}": ${(e as Error).message}`, { cause: e });
  }
}
