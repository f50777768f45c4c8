import { describe, expect, test } from "bun:test";
import type { Storage } from "../config/types.ts";
import { cleanPath } from "../system/paths.ts";
import { batchNodes, decideDirectory, decideFile, decideLink, orderNodes, NodeConflictError } from "./files_nodes.ts";

const identity = (p: string) => cleanPath(p);
const stats = (kind: "file" | "dir" | "symlink", ino = 1) =>
  ({ isFile: () => kind === "file", isDirectory: () => kind === "dir", isSymbolicLink: () => kind === "symlink", dev: 1, ino }) as never;

describe("orderNodes()", () => {
  test("orderNodes() sorts by resolved depth, stable for equal depth, hard links last", () => {
    const storage: Storage = {
      files: [{ path: "/a/b/c" }, { path: "/z" }],
      directories: [{ path: "/a/b" }, { path: "/y" }],
      links: [{ path: "/h", target: "/a/b/c", hard: true }, { path: "/l", target: "/z" }],
    };
    expect(orderNodes(storage, identity).map((e) => e.path)).toEqual(["/y", "/z", "/l", "/a/b", "/a/b/c", "/h"]);
  });

  test("orderNodes() orders by where a path resolves, not how it is written", () => {
    const resolve = (p: string) => (p.startsWith("/foo/bar/") ? cleanPath(p.slice("/foo/bar".length)) : cleanPath(p));
    const storage: Storage = { directories: [{ path: "/foo/bar/baz" }, { path: "/baz/quux" }] };
    expect(orderNodes(storage, resolve).map((e) => [e.path, e.resolved])).toEqual([
      ["/foo/bar/baz", "/baz"],
      ["/baz/quux", "/baz/quux"],
    ]);
  });

  test("orderNodes() throws NodeConflictError for two nodes resolving to one path", () => {
    const resolve = (p: string) => (p.startsWith("/foo/") ? cleanPath(p.slice(4)) : cleanPath(p));
    expect(() => orderNodes({ files: [{ path: "/foo/bar/baz" }, { path: "/bar/baz" }] }, resolve)).toThrow(NodeConflictError);
  });

  test("batchNodes() groups equal depths and isolates hard links", () => {
    const storage: Storage = {
      files: [{ path: "/a/x" }, { path: "/b/y" }, { path: "/c" }],
      links: [{ path: "/h1", target: "/c", hard: true }, { path: "/h2", target: "/c", hard: true }],
    };
    expect(batchNodes(orderNodes(storage, identity)).map((b) => b.map((e) => e.path))).toEqual([["/c"], ["/a/x", "/b/y"], ["/h1"], ["/h2"]]);
  });
});

describe("decisions", () => {
  test.each([
    ["nothing there", {}, null, "create"],
    ["a file, no contents: keep it", {}, stats("file"), "keep"],
    ["a file, new contents", { contents: { source: "data:,x" } }, stats("file"), "fail"],
    ["a directory", {}, stats("dir"), "fail"],
    ["a symlink, overwrite", { overwrite: true, contents: { source: "" } }, stats("symlink"), "overwrite"],
  ] as const)("decideFile() with %s", (_t, file, st, action) => {
    expect(decideFile({ path: "/f", ...file }, st).action).toBe(action);
  });

  test.each([
    ["nothing there", {}, null, "create"],
    ["a directory", {}, stats("dir"), "keep"],
    ["a file", {}, stats("file"), "fail"],
    ["a file, overwrite", { overwrite: true }, stats("file"), "overwrite"],
  ] as const)("decideDirectory() with %s", (_t, dir, st, action) => {
    expect(decideDirectory({ path: "/d", ...dir }, st).action).toBe(action);
  });

  test.each([
    ["a symlink with the same target", { target: "/t/" }, stats("symlink"), { stats: null, text: "//t" }, "keep"],
    ["a symlink elsewhere", { target: "/t" }, stats("symlink"), { stats: null, text: "/u" }, "fail"],
    ["the same inode for a hard link", { target: "/t", hard: true }, stats("file", 7), { stats: stats("file", 7), text: null }, "keep"],
    ["another inode for a hard link", { target: "/t", hard: true }, stats("file", 7), { stats: stats("file", 8), text: null }, "fail"],
    ["a file where a symlink goes", { target: "/t" }, stats("file"), { stats: null, text: null }, "fail"],
  ] as const)("decideLink() with %s", (_t, link, st, target, action) => {
    expect(decideLink({ path: "/l", ...link }, st, target as never).action).toBe(action);
  });
});
