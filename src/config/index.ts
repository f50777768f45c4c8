// The config engine's entry points: parse (upgrade, validate), merge, and the field table of
// Ignition's structure. Other rooms also import the model's types (types.ts) and the issue
// catalogue (issues.ts, messages.ts) directly.
import { hasErrors, type Issue } from "./issues.ts";
import { locateJson } from "./json_locate.ts";
import { applyLegacySemantics } from "./legacy.ts";
import { parseStructure, withPosition, type ParseOptions } from "./parse.ts";
import type { Config, SpecVersion } from "./types.ts";
import { validateConfig } from "./validate.ts";

export type { Issue, IssuePath } from "./issues.ts";
export { formatIssue, formatPath, hasErrors } from "./issues.ts";
export type * from "./types.ts";
export { NEWEST_STABLE, SPEC_VERSIONS } from "./types.ts";
export { validateConfig } from "./validate.ts";
export { mergeConfigs, mergeStruct, type MergeMapping, type MergeOptions, type MergePath } from "./merge.ts";
export { configStructure, entryKey, fieldRows, structOf, type Field, type FieldRow, type FieldType, type ScalarKind, type StructType } from "./structure.ts";
export { parseStructure, type ParseOptions } from "./parse.ts";

/** A config ready for the stages, or every issue that stops it. Warnings ride along. */
export type ParseResult =
  | { ok: true; config: Config; version: SpecVersion; issues: Issue[] }
  | { ok: false; issues: Issue[] };

/** Parses, upgrades and validates one config document (JSON). Never throws on bad input. */
export function parseConfig(input: string | Uint8Array, opts: ParseOptions = {}): ParseResult {
  const s = parseStructure(input, opts);
  if (!s.ok) return s;
  const found = validateConfig(s.config, s.version);
  let issues = s.issues;
  if (found.length > 0) {
    const loc = locateJson(typeof input === "string" ? input : new TextDecoder().decode(input));
    issues = [...issues, ...found.map((i) => withPosition(i, loc))];
  }
  if (hasErrors(issues)) return { ok: false, issues };
  return { ok: true, config: applyLegacySemantics(s.config, s.version), version: s.version, issues };
}
