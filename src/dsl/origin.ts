// Where a declaration was made: the user's file, line and column of the builder call, plus
// the outer user frames it came through (a helper or fragment function called elsewhere).
// Captured on every builder call (a few microseconds) so every later error — a conflict, a
// validation rule, a spec gate — can name the user's line instead of a JSON path of output.
import { dirname, relative } from "node:path";

/** A place in a source file; line and column are 1-based. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** A declaration's origin: the innermost user frame, and up to three outer user frames. */
export interface Origin extends SourceLocation {
  via: SourceLocation[];
}

// This library's own files: frames inside them are never the user's. In the compiled `nexus`
// binary every bundled module sits under /$bunfs/; from source, under src/ (tests excepted).
const LIBRARY_ROOT = dirname(import.meta.dir);
const FRAME = /\(?((?:\/|[A-Za-z]:\\)[^()]*?):(\d+):(\d+)\)?$/;

function isLibraryFile(file: string): boolean {
  if (file.startsWith("/$bunfs/")) return true;
  return file.startsWith(LIBRARY_ROOT + "/") && !file.endsWith(".test.ts");
}

/** Parses "    at fn (/path/file.ts:3:14)" or "    at /path/file.ts:3:14". */
function parseFrame(line: string): SourceLocation | undefined {
  const m = FRAME.exec(line.trim());
  if (!m) return undefined;
  return { file: m[1]!, line: Number(m[2]), column: Number(m[3]) };
}

/**
 * The origin of the call to `fn` (a builder), or undefined when no user frame is on the stack
 * (a declaration made by the library itself). JavaScriptCore drops frames of functions that
 * return a call directly (proper tail calls), so a helper frame can be missing: the outer
 * frame that remains still points at a line the user wrote.
 */
export function captureOrigin(fn: Function): Origin | undefined {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 16;
  Error.captureStackTrace(holder, fn);
  Error.stackTraceLimit = limit;
  const user: SourceLocation[] = [];
  for (const line of (holder.stack ?? "").split("\n").slice(1)) {
    const at = parseFrame(line);
    if (at && !isLibraryFile(at.file)) user.push(at);
    if (user.length === 4) break;
  }
  const [first, ...via] = user;
  return first ? { ...first, via } : undefined;
}

/** "file.ts:3:14", the file relative to `cwd` when it lies below it. */
export function formatLocation(at: SourceLocation, cwd = process.cwd()): string {
  const rel = relative(cwd, at.file);
  const shown = rel && !rel.startsWith("..") ? rel : at.file;
  return `${shown}:${at.line}:${at.column}`;
}

/** "file.ts:3:14 (via file.ts:20:3)", naming the outer frames a declaration came through. */
export function formatOrigin(origin: Origin | undefined, cwd = process.cwd()): string {
  if (!origin) return "(declared by nexus itself)";
  const via = origin.via.length > 0 ? ` (via ${origin.via.map((v) => formatLocation(v, cwd)).join(", ")})` : "";
  return formatLocation(origin, cwd) + via;
}
