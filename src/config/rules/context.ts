// What every validation rule receives: the config's declared spec version and the issue list.
import { formatPath, error, warning, type Issue, type IssuePath } from "../issues.ts";
import { MESSAGES } from "../messages.ts";
import { SPEC_VERSIONS, type SpecVersion } from "../types.ts";
import { checkAbsolutePath } from "../../system/paths.ts";

/** Collects issues for one config of one spec version. */
export class RuleContext {
  readonly issues: Issue[] = [];
  constructor(readonly version: SpecVersion) {}

  /** True when the config's version is `v` or newer. */
  atLeast(v: SpecVersion): boolean {
    return SPEC_VERSIONS.indexOf(this.version) >= SPEC_VERSIONS.indexOf(v);
  }

  /** Reports an error; `related` names the other places involved (an earlier duplicate, a link). */
  error(path: IssuePath, message: string, related?: IssuePath[]): void {
    this.issues.push(related ? { ...error(path, message), related } : error(path, message));
  }

  warning(path: IssuePath, message: string): void {
    this.issues.push(warning(path, message));
  }

  /** Reports unless p is a non-empty, absolute, clean path. `what` names the field. */
  requireAbsolutePath(path: IssuePath, p: string, what: string): void {
    const problem = checkAbsolutePath(p);
    if (!problem) return;
    if (problem.kind === "missing") this.error(path, MESSAGES.pathRequired(what));
    else if (problem.kind === "relative") this.error(path, MESSAGES.pathRelative(what, p));
    else this.error(path, MESSAGES.pathUnclean(what, p, problem.clean));
  }
}

/** Where an earlier entry lives, as messages print it. */
export function describeAt(path: IssuePath): string {
  return formatPath(path);
}

/** True for null/undefined and "". */
export function isBlank(s: string | null | undefined): boolean {
  return s === null || s === undefined || s === "";
}

/** Byte length of a string in UTF-8 (how the tools count label lengths). */
export function byteLength(s: string): number {
  return new TextEncoder().encode(s).length;
}
