// Butane YAML → Ignition JSON: the public entry points. The steps follow Butane's own order —
// header, strict decode, source checks, translation and sugar, field filters, then Ignition's
// validation of the result — and every report entry points at the YAML the user wrote.
import type { Issue } from "../config/issues.ts";
import { decodeConfig } from "./decode.ts";
import { emitStruct } from "./emit.ts";
import { checkIgnitionConfig } from "./ignition_check.ts";
import { hasReportErrors, locateEntry, type PendingEntry, type ReportEntry } from "./report.ts";
import { strType, type StructType } from "./schema.ts";
import { translateBase, type TranslateContext } from "./translate.ts";
import { TranslationSet } from "./translation_set.ts";
import { baseChecks, walkStructs } from "./validate.ts";
import { UNSUPPORTED_VARIANTS, VARIANTS, type VariantSpec } from "./variants.ts";
import { parseYaml, type YamlNode } from "./yaml.ts";

/** Report entries and their Butane-style rendering, for callers printing reports. */
export type { ReportEntry } from "./report.ts";
export { formatReportEntry } from "./report.ts";

/** Options of a translation. */
export interface ButaneOptions {
  /** Directory `local:` paths are read from (-d/--files-dir); without it they are errors. */
  filesDir?: string;
  /** Fail when the report has any entry, as `--strict` does. */
  strict?: boolean;
}

/** The Ignition config and the report, or the report and the fatal error that stopped it. */
export type ButaneResult =
  | { ok: true; ignition: Record<string, unknown>; report: ReportEntry[]; variant: string; version: string }
  | { ok: false; report: ReportEntry[]; fatal: string; at?: { line: number; col: number } };

/** Report entries as config issues (severity, path, line/column), for config loading. */
export function reportToIssues(report: readonly ReportEntry[]): Issue[] {
  return report.map((e) => ({
    severity: e.kind === "error" ? "error" : "warning",
    path: e.path,
    message: e.message,
    ...(e.line !== undefined ? { line: e.line, column: e.col ?? 1 } : {}),
  }));
}

/** Fatal texts, as Butane prints them after "Error translating config: ". */
export const FATAL = {
  noVariant: "error parsing variant; must be specified",
  badVersion: "error parsing version; must be a valid semver",
  sourceInvalid: "source config is invalid",
  generatedInvalid: "config generated was invalid",
  strict: "Config produced warnings and --strict was specified",
  rhcos: "rhcos variant has been removed; use openshift variant instead: https://coreos.github.io/butane/upgrading-openshift/",
} as const;

const HEADER: StructType = {
  name: "Common",
  fields: [
    { yaml: "variant", json: null, type: strType, value: true },
    { yaml: "version", json: null, type: strType, value: true },
  ],
};

/**
 * True when the text is a YAML mapping with a `variant` key (a Butane config, not JSON Ignition),
 * or YAML that does not parse but has a top-level `variant:` line (its syntax error is then
 * reported as Butane's, with its line).
 */
export function isButane(text: string): boolean {
  const parsed = parseYaml(text);
  if (!parsed.ok) return /^["']?variant["']?[ \t]*:/m.test(text);
  if (!parsed.root || parsed.root.kind !== "map") return false;
  return parsed.root.pairs.some((p) => p.key.kind === "scalar" && p.key.value === "variant");
}

/** Translates Butane YAML text to an Ignition config object. Never throws on bad input. */
export function translateButane(text: string, opts: ButaneOptions = {}): ButaneResult {
  const parsed = parseYaml(text);
  if (!parsed.ok) return fail([], `Error unmarshaling yaml: ${parsed.error.message}`, parsed.error);
  const root = parsed.root;

  const header = decodeConfig(root, HEADER, "common");
  if (!header.ok) return fail([], `Error unmarshaling yaml: ${header.message}`, header.at);
  const variant = (header.value.variant as string | undefined) ?? "";
  if (variant === "") return fail([], FATAL.noVariant);
  const version = normalizeSemver((header.value.version as string | undefined) ?? "");
  if (version === null) return fail([], FATAL.badVersion);
  const spec = VARIANTS.get(`${variant}+${version}`);
  if (!spec) {
    if (variant === "rhcos" && version === "0.1.0") return fail([], FATAL.rhcos);
    if ((UNSUPPORTED_VARIANTS as readonly string[]).includes(variant)) {
      return fail([], `variant ${variant} is not supported by nexus-init (supported: fcos, flatcar)`);
    }
    return fail([], `No translator exists for variant ${variant} with version ${version}`);
  }
  return translateSpec(spec, root, opts);
}

function translateSpec(spec: VariantSpec, root: YamlNode | null, opts: ButaneOptions): ButaneResult {
  const decoded = decodeConfig(root, spec.config, spec.pkg);
  if (!decoded.ok) return fail([], `Error unmarshaling yaml: ${decoded.message}`, decoded.at);
  const cfg = decoded.value;
  const place = (entries: PendingEntry[], ts?: TranslationSet) =>
    entries.map((e) => locateEntry(root, e.json && ts ? { ...e, path: ts.translate(e.path), json: false } : e));

  // Source checks: unknown keys, Butane's checks, the variant's checks.
  const source: PendingEntry[] = [...decoded.warnings];
  const checks = baseChecks(spec.base);
  walkStructs(spec.config, cfg, [], (st, v, path) => checks[st.name]?.(v, path, source));
  spec.validate(cfg, source);
  const report = place(source);
  if (hasReportErrors(report)) return fail(report, FATAL.sourceInvalid);

  // Translation and sugar.
  const ctx: TranslateContext = { base: spec.base, opts: { filesDir: opts.filesDir }, report: [], ts: new TranslationSet() };
  const jsonReport: PendingEntry[] = [];
  let translated = translateBase(spec.config, cfg, spec.ignition, ctx);
  if (!hasReportErrors(ctx.report)) translated = spec.translate(cfg, translated, ctx, jsonReport);
  report.push(...place(ctx.report), ...place(jsonReport, translated.ts));
  if (hasReportErrors(report)) return fail(report, FATAL.sourceInvalid);

  // Fields this spec forbids, then Ignition's own validation of the result.
  const filtered: PendingEntry[] = [];
  spec.filter(translated.config, filtered);
  report.push(...place(filtered, translated.ts));
  if (hasReportErrors(report)) return fail(report, FATAL.sourceInvalid);
  const ignition = emitStruct(spec.config, translated.config);
  report.push(...place(checkIgnitionConfig(ignition, spec.ignition), translated.ts));
  if (hasReportErrors(report)) return fail(report, FATAL.generatedInvalid);
  if (opts.strict && report.length > 0) return { ok: false, report, fatal: FATAL.strict };
  return { ok: true, ignition, report, variant: spec.variant, version: spec.version };
}

function fail(report: ReportEntry[], fatal: string, at?: { line: number; col: number }): ButaneResult {
  const r: ButaneResult = { ok: false, report, fatal: fatal === FATAL.strict ? fatal : `Error translating config: ${fatal}` };
  if (at) r.at = { line: at.line, col: at.col };
  return r;
}

/** go-semver's parse and print: "1.5.0" stays, "01.5.0" becomes "1.5.0", "1.5" is null. */
export function normalizeSemver(v: string): string | null {
  let rest = v;
  let metadata = "";
  let pre = "";
  const plus = rest.indexOf("+");
  if (plus >= 0) {
    metadata = rest.slice(plus + 1);
    rest = rest.slice(0, plus);
  }
  const dash = rest.indexOf("-");
  if (dash >= 0) {
    pre = rest.slice(dash + 1);
    rest = rest.slice(0, dash);
  }
  const parts = rest.split(".");
  if (parts.length < 3) return null;
  const [maj, min, ...patchParts] = parts;
  const patch = patchParts.join(".");
  const ident = /^[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*$/;
  if ((pre !== "" && !ident.test(pre)) || (metadata !== "" && !ident.test(metadata))) return null;
  const nums = [maj!, min!, patch].map((p) => (/^[+-]?\d+$/.test(p) ? BigInt(p) : null));
  if (nums.some((n) => n === null || n > 2n ** 63n - 1n || n < -(2n ** 63n))) return null;
  return `${nums[0]}.${nums[1]}.${nums[2]}` + (pre ? `-${pre}` : "") + (metadata ? `+${metadata}` : "");
}
