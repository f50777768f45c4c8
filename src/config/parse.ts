// Parsing: bytes → JSON → spec version → structural schema → internal model, with issues that
// name the JSON path (and line/column). Cross-field rules run afterwards in validate.ts.
import type { z } from "zod";
import { error, type Issue, type IssuePath } from "./issues.ts";
import { locateJson, type JsonLocations } from "./json_locate.ts";
import { SCHEMAS } from "./schema/versions.ts";
import type { Config, SpecVersion } from "./types.ts";
import { upgradeConfig } from "./upgrade.ts";
import { detectVersion, typeName } from "./version.ts";

export interface ParseOptions {
  /** Unknown keys are errors instead of warnings. */
  strict?: boolean;
}

/** A structurally valid config in the internal model, or the issues that stop it. */
export type StructureResult =
  | { ok: true; config: Config; version: SpecVersion; issues: Issue[]; raw: unknown }
  | { ok: false; issues: Issue[] };

/** Parses config text and checks its structure against its version's schema. */
export function parseStructure(input: string | Uint8Array, opts: ParseOptions = {}): StructureResult {
  const text = typeof input === "string" ? input : new TextDecoder().decode(input);
  if (text.trim() === "") return { ok: false, issues: [error([], "the config is empty")] };

  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    const loc = locateJson(text);
    const e = loc.syntaxError ?? { message: "invalid JSON", line: 1, column: 1 };
    return { ok: false, issues: [{ severity: "error", path: [], message: `invalid JSON: ${e.message}`, line: e.line, column: e.column }] };
  }
  let locations: JsonLocations | undefined;
  const locate = () => (locations ??= locateJson(text));
  const finish = (issues: Issue[]) => issues.map((i) => withPosition(i, locate()));

  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { ok: false, issues: finish([error([], `expected the config to be a JSON object, got ${typeName(raw)}`)]) };
  }
  const ign = (raw as Record<string, unknown>).ignition;
  if (ign !== undefined && ign !== null && (typeof ign !== "object" || Array.isArray(ign))) {
    return { ok: false, issues: finish([error(["ignition"], `expected an object, got ${typeName(ign)}`)]) };
  }
  const v = detectVersion((ign as Record<string, unknown> | null | undefined)?.version);
  if (!v.ok) return { ok: false, issues: finish([error(["ignition", "version"], v.message)]) };

  const schema = SCHEMAS[v.version];
  const first = schema.safeParse(raw);
  let parsed: unknown;
  const issues: Issue[] = [];
  if (first.success) {
    parsed = first.data;
  } else {
    const unknownKeys: (string | number)[][] = [];
    for (const zi of first.error.issues) {
      if (zi.code === "unrecognized_keys") {
        for (const k of zi.keys) {
          unknownKeys.push([...(zi.path as (string | number)[]), k]);
          issues.push({
            severity: opts.strict ? "error" : "warning",
            path: [...(zi.path as (string | number)[]), k],
            message: `unknown key "${k}" is not part of spec ${v.version}${opts.strict ? "" : " and is ignored"}`,
          });
        }
      } else {
        issues.push(error(zi.path as (string | number)[], describeZodIssue(zi, raw)));
      }
    }
    if (issues.some((i) => i.severity === "error")) return { ok: false, issues: finish(issues) };
    const cleaned = structuredClone(raw);
    for (const p of unknownKeys) deleteAt(cleaned, p);
    const second = schema.safeParse(cleaned);
    if (!second.success) {
      // Cannot happen unless the schema is inconsistent; report rather than crash.
      for (const zi of second.error.issues) issues.push(error(zi.path as (string | number)[], describeZodIssue(zi, cleaned)));
      return { ok: false, issues: finish(issues) };
    }
    parsed = second.data;
  }
  const config = upgradeConfig(v.version, stripNulls(parsed));
  return { ok: true, config, version: v.version, issues: finish(issues), raw };
}

/** Adds line/column of the key (unknown keys) or value at the issue's path, when known. */
export function withPosition(issue: Issue, loc: JsonLocations): Issue {
  if (issue.line !== undefined) return issue;
  for (let p: IssuePath = issue.path; ; p = p.slice(0, -1)) {
    const pos = p.length === issue.path.length && issue.message.startsWith("unknown key") ? loc.key(p) : loc.value(p);
    if (pos) return { ...issue, line: pos.line, column: pos.column };
    if (p.length === 0) return issue;
  }
}

function valueAt(doc: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = doc;
  for (const k of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

const EXPECTED: Record<string, string> = {
  number: "an integer",
  int: "an integer",
  string: "a string",
  boolean: "a boolean (true or false)",
  object: "an object",
  array: "a list",
};

/** A readable message for one zod issue, naming what was expected and what was found. */
function describeZodIssue(zi: z.core.$ZodIssue, doc: unknown): string {
  const actual = valueAt(doc, zi.path);
  if (zi.code === "invalid_type") {
    const expected = EXPECTED[zi.expected] ?? zi.expected;
    return `expected ${expected}, got ${typeName(actual)}`;
  }
  if (zi.code === "too_big" || zi.code === "too_small" || zi.code === "invalid_format") return zi.message;
  return `${zi.message.replace(/^Invalid input: /, "")}`;
}

function deleteAt(doc: unknown, path: readonly (string | number)[]): void {
  const parent = valueAt(doc, path.slice(0, -1));
  if (parent && typeof parent === "object") delete (parent as Record<string | number, unknown>)[path[path.length - 1]!];
}

/** Removes null members recursively: in Ignition a null leaf means "unset". */
export function stripNulls<T>(v: T): T {
  if (Array.isArray(v)) return v.map(stripNulls) as T;
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = stripNulls(x);
    return out as T;
  }
  return v;
}
