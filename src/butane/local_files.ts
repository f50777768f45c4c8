// Reading `local:` files relative to the files directory (-d/--files-dir), refusing paths that
// leave it. Errors read like Butane's (which are Go's), e.g. `open files/x: no such file or
// directory`, because users and tools match on them.
import { lstatSync, readFileSync, readlinkSync, readdirSync, statSync, type Stats } from "node:fs";
import { join, posix, resolve, sep } from "node:path";

/** Butane's message when a local path is used without a files directory. */
export const NO_FILES_DIR = "local file paths are relative to a files directory that must be specified with -d/--files-dir";
/** Butane's message for a local path that escapes the files directory. */
export const FILES_DIR_ESCAPE = "local file path traverses outside the files directory";

/** File contents, or the message describing why they could not be read. */
export type ReadResult = { ok: true; bytes: Uint8Array } | { ok: false; message: string };

/** Joins a slash-separated config path onto the files directory, as Go's filepath.Join does. */
export function joinFilesDir(filesDir: string, configPath: string): string {
  return join(filesDir, ...configPath.split("/"));
}

/** Null when `path` is `filesDir` or inside it, else Butane's escape message. */
export function checkWithinFilesDir(path: string, filesDir: string): string | null {
  const base = resolve(filesDir);
  const abs = resolve(path);
  return abs === base || abs.startsWith(base.endsWith(sep) ? base : base + sep) ? null : FILES_DIR_ESCAPE;
}

/** Reads a `local:` file: files directory required, path kept inside it. */
export function readLocalFile(configPath: string, filesDir: string | undefined): ReadResult {
  if (!filesDir) return { ok: false, message: NO_FILES_DIR };
  const path = joinFilesDir(filesDir, configPath);
  const escape = checkWithinFilesDir(path, filesDir);
  if (escape) return { ok: false, message: escape };
  try {
    return { ok: true, bytes: readFileSync(path) };
  } catch (e) {
    return { ok: false, message: goFileError(e, "open", path) };
  }
}

/** Go-style `op path: reason` text for a Node filesystem error. */
export function goFileError(e: unknown, op: string, path: string): string {
  const code = (e as NodeJS.ErrnoException)?.code ?? "";
  if (code === "EISDIR") return `read ${path}: is a directory`;
  return `${op} ${path}: ${GO_ERRNO[code] ?? (e instanceof Error ? e.message : String(e))}`;
}

const GO_ERRNO: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOTDIR: "not a directory",
  ELOOP: "too many levels of symbolic links",
  ENAMETOOLONG: "file name too long",
  EIO: "input/output error",
};

/** One entry met while walking a tree, in Go filepath.Walk order (lexical, root first). */
export interface TreeEntry {
  /** Path relative to the tree root, slash-separated; "." for the root. */
  rel: string;
  /** The path on disk (for error messages). */
  path: string;
  kind: "dir" | "file" | "symlink" | "other";
  stats?: Stats;
  error?: string;
}

/** Walks a directory tree without following symlinks, in lexical order like Go's Walk. */
export function walkTree(root: string): TreeEntry[] {
  const out: TreeEntry[] = [];
  const visit = (path: string, rel: string) => {
    let st: Stats;
    try {
      st = lstatSync(path);
    } catch (e) {
      out.push({ rel, path, kind: "other", error: goFileError(e, "lstat", path) });
      return;
    }
    const kind = st.isDirectory() ? "dir" : st.isFile() ? "file" : st.isSymbolicLink() ? "symlink" : "other";
    out.push({ rel, path, kind, stats: st });
    if (kind !== "dir") return;
    let names: string[];
    try {
      names = readdirSync(path).sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
    } catch (e) {
      out.push({ rel, path, kind: "other", error: goFileError(e, "open", path) });
      return;
    }
    for (const name of names) visit(join(path, name), rel === "." ? name : posix.join(rel, name));
  };
  visit(root, ".");
  return out;
}

/** Stats a path following symlinks; the Go-style error text on failure. */
export function statPath(path: string): { ok: true; stats: Stats } | { ok: false; message: string } {
  try {
    return { ok: true, stats: statSync(path) };
  } catch (e) {
    return { ok: false, message: goFileError(e, "stat", path) };
  }
}

/** Reads a symlink's target verbatim. */
export function readLink(path: string): { ok: true; target: string } | { ok: false; message: string } {
  try {
    return { ok: true, target: readlinkSync(path) };
  } catch (e) {
    return { ok: false, message: goFileError(e, "readlink", path) };
  }
}

/** Reads a file found while walking a tree. */
export function readTreeFile(path: string): ReadResult {
  try {
    return { ok: true, bytes: readFileSync(path) };
  } catch (e) {
    return { ok: false, message: goFileError(e, "open", path) };
  }
}
