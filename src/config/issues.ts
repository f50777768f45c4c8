// Config issues: what validation and parsing report, and how they are printed.

/** A path into the config document: object keys and array indexes. Empty is the document. */
export type IssuePath = readonly (string | number)[];

/** One finding about a config. Errors stop the config; warnings are reported only. */
export interface Issue {
  severity: "error" | "warning";
  path: IssuePath;
  message: string;
  line?: number;
  column?: number;
  /** Other places the issue involves (the first of two duplicates, the link a path runs through). */
  related?: IssuePath[];
}

/** Renders a path as the CLI prints it: `storage.files.2.mode`, or `""` for the document. */
export function formatPath(path: IssuePath): string {
  return path.length === 0 ? '""' : path.join(".");
}

/** One human line: `error at storage.files.2.mode: <message> (line L, column C)`. */
export function formatIssue(issue: Issue): string {
  const where = issue.line !== undefined ? ` (line ${issue.line}, column ${issue.column ?? 1})` : "";
  return `${issue.severity} at ${formatPath(issue.path)}: ${issue.message}${where}`;
}

/** Builds an error issue. */
export function error(path: IssuePath, message: string): Issue {
  return { severity: "error", path, message };
}

/** Builds a warning issue. */
export function warning(path: IssuePath, message: string): Issue {
  return { severity: "warning", path, message };
}

/** True when any issue is an error. */
export function hasErrors(issues: readonly Issue[]): boolean {
  return issues.some((i) => i.severity === "error");
}
