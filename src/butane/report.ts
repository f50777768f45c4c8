// Translation reports: warnings and errors with a path into the Butane config and the YAML
// line/column they point at, printed exactly as Butane prints them so tools that parse
// Butane's stderr keep working.
import { derefYaml, type YamlNode } from "./yaml.ts";

/** A path into a config: object keys and list indexes. */
export type ConfigPath = readonly (string | number)[];

/** One report entry. `path` is in the Butane config; line/col are 1-based, when known. */
export interface ReportEntry {
  kind: "error" | "warning" | "info";
  path: ConfigPath;
  message: string;
  line?: number;
  col?: number;
}

/** An entry still to be placed: `keyOf` marks an unused-key entry (pointing at the key). */
export interface PendingEntry {
  kind: ReportEntry["kind"];
  path: ConfigPath;
  message: string;
  keyOf?: boolean;
  /** The path is in the generated Ignition config and still needs translating. */
  json?: boolean;
}

/** Builds an error entry on a Butane path. */
export function errorAt(path: ConfigPath, message: string): PendingEntry {
  return { kind: "error", path, message };
}

/** Builds a warning entry on a Butane path. */
export function warningAt(path: ConfigPath, message: string): PendingEntry {
  return { kind: "warning", path, message };
}

/** True when any entry is an error. */
export function hasReportErrors(entries: readonly { kind: string }[]): boolean {
  return entries.some((e) => e.kind === "error");
}

/** Renders a path as Butane does: `$.storage.files.0.path`. */
export function formatReportPath(path: ConfigPath): string {
  return ["$", ...path.map(String)].join(".");
}

/** One stderr line: `warning at $.storage.files.0.mode, line 6 col 13: message`. */
export function formatReportEntry(e: ReportEntry): string {
  const where: string[] = [];
  if (e.path.length > 0) where.push(formatReportPath(e.path));
  if (e.line !== undefined) where.push(`line ${e.line} col ${e.col ?? 1}`);
  return where.length > 0 ? `${e.kind} at ${where.join(", ")}: ${e.message}` : `${e.kind}: ${e.message}`;
}

/**
 * Places an entry in the YAML source: the deepest node the path reaches (aliases are leaves,
 * as in Butane's context tree), or the key itself for unused-key entries.
 */
export function locateEntry(root: YamlNode | null, e: PendingEntry): ReportEntry {
  const out: ReportEntry = { kind: e.kind, path: e.path, message: e.message };
  if (!root) return out;
  let node: YamlNode = root;
  let mark: { line: number; col: number } = node;
  for (let i = 0; i < e.path.length; i++) {
    const step = e.path[i]!;
    const last = i === e.path.length - 1;
    if (node.kind === "map" && typeof step === "string") {
      const pair = findPair(node, step);
      if (!pair) break;
      if (last && e.keyOf) {
        mark = pair.key;
        break;
      }
      node = pair.value;
    } else if (node.kind === "seq" && typeof step === "number" && step < node.items.length) {
      node = node.items[step]!;
    } else {
      break;
    }
    mark = node;
  }
  out.line = mark.line;
  out.col = mark.col;
  return out;
}

function findPair(map: YamlNode & { kind: "map" }, key: string) {
  let found: (typeof map.pairs)[number] | undefined;
  for (const p of map.pairs) {
    const k = derefYaml(p.key);
    if (k.kind === "scalar" && k.value === key) found = p;
  }
  return found;
}
