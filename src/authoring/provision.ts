// `nexus provision`'s pipeline: run the programs, compose their declarations, choose the spec,
// emit Ignition JSON, and validate it with the validator nexus-init itself uses — every error
// pointing at the user's lines. Nothing is written unless every check passes; no message ever
// contains a secret's bytes.
import { parseConfig, type Issue, type IssuePath } from "../config/index.ts";
import { SPEC_VERSIONS, type SpecVersion } from "../config/types.ts";
import type { Origin } from "../dsl/origin.ts";
import type { PartData, SystemOptions } from "../dsl/parts.ts";
import { declaredParams, setParams } from "../dsl/values.ts";
import { formatDiagnostic, redactSecrets, type Diagnostic } from "./diagnostics.ts";

export { formatDiagnostic, redactSecrets, type Diagnostic };
import { composeParts, CONFLICT_HINT, describeConflict } from "./compose.ts";
import { emitConfig, originsAt } from "./emit.ts";
import { atLeast, featureUses, neededSpec, newerSpec, type FeatureUse } from "./gate.ts";
import { loadProgram, ProgramError, type LoadedProgram } from "./load.ts";
import { lintModes } from "./lint.ts";

/** Output targets: upstream Ignition, or what Flatcar's Ignition reads. */
export const TARGETS = ["ignition", "flatcar"] as const;
export type Target = (typeof TARGETS)[number];

/** The spec versions Flatcar's Ignition reads (those Butane's flatcar variants emit). */
export const FLATCAR_SPECS = ["3.3.0", "3.4.0", "3.6.0-experimental"] as const;
const FLATCAR_DEFAULT = "3.4.0";

export interface ProvisionOptions {
  programs: string[];
  target?: Target;
  /** The spec to emit (overrides the programs' own). */
  spec?: string;
  params?: ReadonlyMap<string, string>;
  pretty?: boolean;
}

export type ProvisionResult =
  | { ok: true; json: string; config: Record<string, unknown>; version: string; how: string; diagnostics: Diagnostic[] }
  | { ok: false; diagnostics: Diagnostic[] };

const err = (message: string, origins: Origin[] = [], path?: IssuePath): Diagnostic => ({ severity: "error", message, origins, path });

/** The spec and target the programs ask for; programs pinning different ones are an error. */
function chooseOptions(programs: LoadedProgram[], opts: ProvisionOptions, out: Diagnostic[]): { target: Target; spec?: string } {
  let pinned: { options: SystemOptions; origin?: Origin } | undefined;
  for (const p of programs) {
    if (p.options.spec === undefined && p.options.target === undefined) continue;
    if (pinned && (pinned.options.spec !== p.options.spec || (pinned.options.target ?? "ignition") !== (p.options.target ?? "ignition")) && opts.spec === undefined) {
      out.push(err(`The programs ask for different outputs: ${JSON.stringify(pinned.options)} and ${JSON.stringify(p.options)}; pass --spec (and --target) to choose`, [pinned.origin, p.origin].filter((o): o is Origin => !!o)));
    }
    pinned ??= p;
  }
  return { target: opts.target ?? pinned?.options.target ?? "ignition", spec: opts.spec ?? pinned?.options.spec };
}

/** The version to emit for the target; pushes an error for each feature it lacks. */
function chooseVersion(target: Target, pinned: string | undefined, uses: FeatureUse[], originsOf: (p: IssuePath) => Origin[], out: Diagnostic[]): { version: string; rules: SpecVersion; how: string } | undefined {
  const needed = neededSpec(uses);
  const allowed: readonly string[] = target === "flatcar" ? FLATCAR_SPECS : SPEC_VERSIONS;
  if (pinned !== undefined && !allowed.includes(pinned)) {
    out.push(err(`Cannot emit spec "${pinned}" for target ${target}: it reads ${allowed.join(", ")}`));
    return undefined;
  }
  let version: string;
  let how: string;
  if (pinned !== undefined) {
    version = pinned;
    how = `spec ${pinned} as asked`;
  } else if (target === "flatcar") {
    version = atLeast(needed, "3.5.0") ? "3.6.0-experimental" : FLATCAR_DEFAULT;
    how = `spec ${version}, ${version === FLATCAR_DEFAULT ? "Flatcar's default" : `the oldest Flatcar spec with every feature used (needs ${needed})`}`;
  } else {
    version = needed;
    how = `spec ${needed}, the oldest with every feature the program uses`;
  }
  const rules: SpecVersion = version === "3.6.0-experimental" ? "3.6.0" : (version as SpecVersion);
  for (const u of uses) {
    if (atLeast(rules, u.since)) continue;
    // The validator warns about what an older spec drops (special mode bits), at the same path.
    if (!u.droppedBefore) out.push(err(`${u.feature} needs spec ${u.since} or newer, but the output is spec ${version}`, originsOf(u.path), u.path));
  }
  return { version, rules, how };
}

/** Flatcar's own limits beyond the spec (clevis before 3.6.0-experimental, cex). */
function checkFlatcar(config: Record<string, unknown>, version: string, originsOf: (p: IssuePath) => Origin[], out: Diagnostic[]): void {
  const luks = ((config.storage as { luks?: Record<string, unknown>[] } | undefined)?.luks ?? []) as Record<string, unknown>[];
  luks.forEach((l, i) => {
    const clevis = l.clevis as Record<string, unknown> | undefined;
    if (clevis && Object.values(clevis).some((v) => v !== undefined && !(Array.isArray(v) && v.length === 0)) && version !== "3.6.0-experimental") {
      const path = ["storage", "luks", i, "clevis"];
      out.push(err(`Flatcar reads clevis only from spec 3.6.0-experimental (output is ${version})`, originsOf(path), path));
    }
    if (l.cex) {
      const path = ["storage", "luks", i, "cex"];
      out.push(err("Flatcar does not support cex", originsOf(path), path));
    }
  });
}

/** Validation issues of the emitted config, each with the declarations behind it. */
function validationDiagnostics(issues: readonly Issue[], originsOf: (p: IssuePath) => Origin[]): Diagnostic[] {
  return issues.map((i) => {
    const origins = [...originsOf(i.path)];
    for (const r of i.related ?? []) for (const o of originsOf(r)) if (!origins.includes(o)) origins.push(o);
    return { severity: i.severity, message: i.message, origins, path: i.path };
  });
}

/** Runs the pipeline; never throws for a user's mistake. */
export async function provision(opts: ProvisionOptions): Promise<ProvisionResult> {
  const diagnostics: Diagnostic[] = [];
  setParams(opts.params ?? new Map());
  const programs: LoadedProgram[] = [];
  for (const file of opts.programs) {
    try {
      programs.push(await loadProgram(file, JSON.stringify([...(opts.params ?? new Map())].sort())));
    } catch (e) {
      if (!(e instanceof ProgramError)) throw e;
      return { ok: false, diagnostics: [err(e.message)] };
    }
  }
  const declared = new Set(declaredParams().map((p) => p.name));
  for (const name of opts.params?.keys() ?? []) {
    if (!declared.has(name)) diagnostics.push(err(`Unknown parameter "${name}" in --set: the programs declare ${declared.size ? [...declared].join(", ") : "no parameters"}`));
  }
  const parts: PartData[] = programs.flatMap((p) => p.parts);
  diagnostics.push(...lintModes(parts));

  const composed = composeParts(parts);
  for (const c of composed.conflicts) {
    const first = c.sides.find((s) => s.origin)?.origin;
    diagnostics.push({ ...err(describeConflict(c), first ? [first] : []), detail: [...c.sides, `hint: ${CONFLICT_HINT}`] });
  }
  const { target, spec } = chooseOptions(programs, opts, diagnostics);

  const shape = emitConfig(composed.entries, SPEC_VERSIONS[SPEC_VERSIONS.length - 1]!, true);
  const originsOf = (p: IssuePath) => originsAt(shape.origins, p);
  const chosen = chooseVersion(target, spec, featureUses(shape.config), originsOf, diagnostics);
  if (!chosen) return { ok: false, diagnostics };
  if (target === "flatcar") checkFlatcar(shape.config, chosen.version, originsOf, diagnostics);

  // With features the chosen spec lacks (already reported), validate at the spec that has
  // them, so the rest of the config is still checked without repeating those errors.
  const rulesVersion = newerSpec(chosen.rules, neededSpec(featureUses(shape.config).filter((u) => !u.droppedBefore)));
  if (rulesVersion !== chosen.rules) {
    const emitted = emitConfig(composed.entries, rulesVersion);
    const parsed = parseConfig(JSON.stringify({ ...emitted.config, ignition: { ...((emitted.config.ignition as object) ?? {}), version: rulesVersion } }));
    diagnostics.push(...validationDiagnostics(parsed.issues, (p) => originsAt(emitted.origins, p)));
    return { ok: false, diagnostics };
  }
  const emitted = emitConfig(composed.entries, chosen.rules);
  const config = { ignition: { version: chosen.version, ...((emitted.config.ignition as object | undefined) ?? {}) }, ...withoutIgnition(emitted.config) };
  const forRules = chosen.rules === chosen.version ? config : { ...config, ignition: { ...config.ignition, version: chosen.rules } };
  const parsed = parseConfig(JSON.stringify(forRules));
  diagnostics.push(...validationDiagnostics(parsed.issues, (p) => originsAt(emitted.origins, p)));
  if (!parsed.ok || diagnostics.some((d) => d.severity === "error")) return { ok: false, diagnostics };
  const json = opts.pretty ? JSON.stringify(config, null, 2) + "\n" : JSON.stringify(config) + "\n";
  return { ok: true, json, config, version: chosen.version, how: chosen.how, diagnostics };
}

function withoutIgnition(c: Record<string, unknown>): Record<string, unknown> {
  const { ignition: _i, ...rest } = c;
  return rest;
}
