import { describe, expect, test } from "bun:test";
import { RootTree, type NodeInfo, type TreeReader } from "./tree.ts";

/** An in-memory root: path → node (symlinks with their target). */
function memReader(nodes: Record<string, Partial<NodeInfo> & { target?: string }>): TreeReader & { reads: string[] } {
  const reads: string[] = [];
  const all: Record<string, Partial<NodeInfo> & { target?: string }> = { "/": { kind: "dir" }, ...nodes };
  return {
    reads,
    lstat(path) {
      reads.push(path);
      const n = all[path];
      if (!n) return null;
      return { kind: n.kind ?? (n.target !== undefined ? "symlink" : "file"), mode: n.mode ?? 0o755, uid: n.uid ?? 0, gid: n.gid ?? 0, size: n.size ?? 0 };
    },
    readlink: (path) => all[path]!.target!,
  };
}

describe("RootTree", () => {
  const reader = () =>
    memReader({
      "/etc": { kind: "dir" },
      "/home": { kind: "dir" },
      "/home/core": { kind: "dir", uid: 500, gid: 500 },
      "/home/core/f": { kind: "file", uid: 500, gid: 10 },
      "/home/link": { target: "/home/core" },
      "/home/rel": { target: "../home/core" },
      "/home/out": { target: "../../../../etc" },
      "/loop": { target: "/loop" },
    });

  test("RootTree follows symlinks inside the root: absolute ones from the root, \"..\" stopping at it", () => {
    const t = new RootTree(reader());
    expect(t.stat("/home/link/f")?.uid).toBe(500);
    expect(t.lstat("/home/link")?.kind).toBe("symlink");
    expect(t.where("/home/rel/f")).toBe("/home/core/f");
    expect(t.where("/home/out")).toBe("/etc");
    expect(t.exists("/loop")).toBe(false);
    expect(t.exists("/home/core/f/x")).toBe(false);
  });

  test("RootTree reads the real root lazily, only what is asked", () => {
    const r = reader();
    const t = new RootTree(r);
    t.exists("/home/core");
    expect(r.reads).toEqual(["/", "/home", "/home/core"]);
  });

  test("RootTree.create(), rename() and remove() change what later questions see", () => {
    const t = new RootTree(reader());
    t.create("/home/alice", { kind: "dir", mode: 0o700, uid: 1000, gid: 1000, size: 0 });
    expect(t.stat("/home/alice")).toMatchObject({ uid: 1000, mode: 0o700 });
    t.rename("/home/core", "/home/core2");
    expect(t.exists("/home/core")).toBe(false);
    expect(t.stat("/home/core2/f")?.uid).toBe(500);
    t.remove("/home/core2");
    expect(t.exists("/home/core2/f")).toBe(false);
    expect(() => t.create("/nope/x", { kind: "dir", mode: 0, uid: 0, gid: 0, size: 0 })).toThrow();
  });

  test("RootTree.chownTree() maps owners below a directory, also of nodes read later", () => {
    const t = new RootTree(reader());
    t.chownTree("/home/core", { oldUid: 500, newUid: 600, oldGid: 500, newGid: -1 });
    expect(t.stat("/home/core")).toMatchObject({ uid: 600, gid: 500 });
    expect(t.stat("/home/core/f")).toMatchObject({ uid: 600, gid: 10 });
  });
});
