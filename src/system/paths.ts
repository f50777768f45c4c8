// Slash-separated path helpers with the semantics of Go's `path` package, which Ignition's
// validation and its path handling rely on: the one path cleaner of the tree, joining,
// extensions, components and depth. Pure string functions.

/** Lexically simplifies a slash path: no empty, "." or resolvable ".." segments. */
export function cleanPath(p: string): string {
  if (p === "") return ".";
  const rooted = p.startsWith("/");
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!rooted) out.push("..");
      continue;
    }
    out.push(part);
  }
  const joined = out.join("/");
  if (rooted) return "/" + joined;
  return joined === "" ? "." : joined;
}

/** The components of a path, without empty ones and "." (".." kept: see cleanPath). */
export function splitPath(path: string): string[] {
  return path.split("/").filter((c) => c !== "" && c !== ".");
}

/** The number of components of a clean absolute path ("/" is 0, "/a/b" is 2). */
export function pathDepth(path: string): number {
  return splitPath(path).length;
}

/** Joins non-empty elements with "/" and cleans the result ("" when all are empty). */
export function joinPath(...elems: string[]): string {
  const kept = elems.filter((e) => e !== "");
  return kept.length === 0 ? "" : cleanPath(kept.join("/"));
}

/** The suffix from the last "." of the last path element, or "" when it has none. */
export function pathExtension(p: string): string {
  for (let i = p.length - 1; i >= 0 && p[i] !== "/"; i--) {
    if (p[i] === ".") return p.slice(i);
  }
  return "";
}

/** Why a path is not an absolute, clean path, or null when it is. */
export type PathProblem = { kind: "missing" } | { kind: "relative" } | { kind: "unclean"; clean: string };

// Anything cleaning could change: "//", a "." or ".." segment, or a trailing "/".
const UNCLEAN = /\/\/|\/\.\.?(?:\/|$)|\/$/;

/** Checks that p is non-empty, absolute and already in cleaned form. */
export function checkAbsolutePath(p: string): PathProblem | null {
  if (p === "") return { kind: "missing" };
  if (!p.startsWith("/")) return { kind: "relative" };
  if (p === "/" || !UNCLEAN.test(p)) return null;
  const clean = cleanPath(p);
  if (clean !== p) return { kind: "unclean", clean };
  return null;
}
