// Config documents as users hand them to nexus-init: Ignition JSON, or Butane YAML translated in
// memory. Every reader of configs (validate, apply, plan, the fetch stages) goes through here.
import { formatIssue, parseConfig, type Config, type Issue, type ParseOptions, type ParseResult, type SpecVersion } from "../config/index.ts";
import { looksLikeProgram, PROGRAM_REFUSAL } from "../config/program.ts";
import { formatIgnitionJson } from "../butane/emit.ts";
import { isButane, reportToIssues, translateButane } from "../butane/index.ts";
import type { Logger } from "../log/logger.ts";
import { rememberParsed } from "./parse_cache.ts";

export interface AnyConfigOptions extends ParseOptions {
  /** Directory Butane `local:` references are read from. */
  filesDir?: string;
}

/** The parse result plus which format the document was in. */
export type AnyConfigResult = ParseResult & { format: "ignition" | "butane" };

/** True when text is not JSON at all (so a YAML reading may apply). */
function isNotJson(text: string): boolean {
  try {
    JSON.parse(text);
    return false;
  } catch {
    return true;
  }
}

/** Parse results whose issues were shown to the user already. */
const reported = new WeakSet<AnyConfigResult>();

/**
 * The issues of a parse result not shown yet, marking them shown. `apply` and `plan` print a
 * config's issues, then the engine reads the same bytes again through the file platform (the
 * same cached result): its fetch stage must not print them a second time.
 */
export function takeUnreportedIssues(result: AnyConfigResult): readonly Issue[] {
  if (reported.has(result)) return [];
  reported.add(result);
  return result.issues;
}

/**
 * Parses a config document: JSON is tried first, then YAML with a `variant` key (Butane), whose
 * issues point at YAML lines. Never throws on bad input. The same text with the same options
 * parsed again in one process (apply validates, then the file platform reads it) gives the same
 * result, which callers must treat as read-only.
 */
export function parseAnyConfig(input: string | Uint8Array, opts: AnyConfigOptions = {}): AnyConfigResult {
  const text = typeof input === "string" ? input : new TextDecoder().decode(input);
  return rememberParsed("document", [opts.strict === true, opts.filesDir, text], () => parseText(text, opts));
}

/** Parses one config document; throws with every error (never the document) when it is invalid. */
export function parseOrThrow(raw: Uint8Array, what: string, log: Logger): { config: Config; version: SpecVersion } {
  const r = parseAnyConfig(raw);
  // Warnings once: apply and plan have printed those of the config they were given.
  for (const i of takeUnreportedIssues(r)) if (i.severity !== "error") log.warn(`${what}: ${formatIssue(i)}`);
  if (!r.ok) {
    throw new Error(`Cannot parse ${what}: ${r.issues.filter((i) => i.severity === "error").map(formatIssue).join("; ")}`);
  }
  return { config: r.config, version: r.version };
}

function parseText(text: string, opts: AnyConfigOptions): AnyConfigResult {
  if (looksLikeProgram(text)) return { ok: false, issues: [{ severity: "error", path: [], message: PROGRAM_REFUSAL }], format: "ignition" };
  const first = text.trimStart()[0];
  const maybeJson = first === "{" || first === "[";
  if (!maybeJson && first !== undefined && isButane(text)) return parseButane(text, opts);
  const r = parseConfig(text, opts);
  // Flow-style YAML ("{variant: fcos, ...}") looks like JSON until it fails to parse as JSON.
  if (r.ok || !maybeJson || !isButane(text) || !isNotJson(text)) return { ...r, format: "ignition" };
  return parseButane(text, opts);
}

function parseButane(text: string, opts: AnyConfigOptions): AnyConfigResult {
  const t = translateButane(text, { filesDir: opts.filesDir, strict: opts.strict });
  const issues: Issue[] = reportToIssues(t.report);
  if (!t.ok) {
    if (!issues.some((i) => i.severity === "error")) {
      issues.push({ severity: "error", path: [], message: t.fatal, ...(t.at ? { line: t.at.line, column: t.at.col } : {}) });
    }
    return { ok: false, issues, format: "butane" };
  }
  // Butane already ran Ignition's validation on its output and reported it against the YAML;
  // parsing the generated JSON again yields the internal model (and catches anything else).
  const r = parseConfig(formatIgnitionJson(t.ignition), opts);
  const extra = r.issues.filter((i) => i.severity === "error").map(({ line: _l, column: _c, ...i }) => i);
  if (!r.ok) return { ok: false, issues: [...issues, ...extra], format: "butane" };
  return { ...r, issues, format: "butane" };
}
