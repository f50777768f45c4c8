// Config documents as users hand them to nexus-init: Ignition JSON, or Butane YAML translated in
// memory. Every reader of configs (validate, apply, plan, the providers) goes through here.
import { parseConfig, type Issue, type ParseOptions, type ParseResult } from "../config/index.ts";
import { isButane, reportToIssues, translateButane } from "./index.ts";

export interface AnyConfigOptions extends ParseOptions {
  /** Directory Butane `local:` references are read from. */
  filesDir?: string;
}

/** The parse result plus which format the document was in. */
export type AnyConfigResult = ParseResult & { format: "ignition" | "butane" };

/** True when text is not JSON at all (so a YAML reading may apply). */
function isNotJson(text: string): boolean {
  const first = text.trimStart()[0];
  if (first !== "{" && first !== "[") return true;
  try {
    JSON.parse(text);
    return false;
  } catch {
    return true;
  }
}

/**
 * Parses a config document: JSON is tried first, then YAML with a `variant` key (Butane), whose
 * issues point at YAML lines. Never throws on bad input.
 */
export function parseAnyConfig(input: string | Uint8Array, opts: AnyConfigOptions = {}): AnyConfigResult {
  const text = typeof input === "string" ? input : new TextDecoder().decode(input);
  if (!isNotJson(text) || text.trim() === "" || !isButane(text)) {
    return { ...parseConfig(text, opts), format: "ignition" };
  }
  const t = translateButane(text, { filesDir: opts.filesDir, strict: opts.strict });
  const issues: Issue[] = reportToIssues(t.report);
  if (!t.ok) {
    if (!issues.some((i) => i.severity === "error")) issues.push({ severity: "error", path: [], message: t.fatal });
    return { ok: false, issues, format: "butane" };
  }
  // Butane already ran Ignition's validation on its output and reported it against the YAML;
  // parsing the generated JSON again yields the internal model (and catches anything else).
  const r = parseConfig(JSON.stringify(t.ignition), opts);
  const extra = r.issues.filter((i) => i.severity === "error").map(({ line: _l, column: _c, ...i }) => i);
  if (!r.ok) return { ok: false, issues: [...issues, ...extra], format: "butane" };
  return { ...r, issues, format: "butane" };
}
