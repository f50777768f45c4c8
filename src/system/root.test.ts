import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Root, SymlinkLoopError } from "./root.ts";

let base: string;
let dir: string;
let outside: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "nexus-root-"));
  dir = join(base, "root");
  outside = join(base, "outside");
  mkdirSync(dir);
  mkdirSync(outside);
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

const enc = (s: string) => new TextEncoder().encode(s);

describe("Root.resolve()", () => {
  test("resolve() follows an absolute symlink inside the root, never to the host", () => {
    mkdirSync(join(dir, "usr/etc"), { recursive: true });
    symlinkSync("/usr/etc", join(dir, "etc"));
    const root = Root.open(dir);
    expect(root.resolve("/etc/passwd")).toBe(join(dir, "usr/etc/passwd"));
    expect(root.resolveInRoot("/etc/passwd")).toBe("/usr/etc/passwd");
  });

  test.each([
    ["/../../../etc/shadow", "/etc/shadow"],
    ["/a/../../b", "/b"],
    ["x/y", "/x/y"],
  ])("resolve() clamps %p at the root to %p", (input, want) => {
    expect(Root.open(dir).resolveInRoot(input)).toBe(want);
  });

  test("resolve() clamps a relative symlink that climbs above the root", () => {
    mkdirSync(join(dir, "a"));
    symlinkSync("../../../../../../tmp", join(dir, "a/up"));
    expect(Root.open(dir).resolveInRoot("/a/up/file")).toBe("/tmp/file");
  });

  test("resolve() follows a symlink to the root itself", () => {
    symlinkSync("/", join(dir, "foo"));
    expect(Root.open(dir).resolveInRoot("/foo/bar/baz")).toBe("/bar/baz");
  });

  test("resolve() follows chains of symlinks and keeps the last component unless asked", () => {
    mkdirSync(join(dir, "c"));
    symlinkSync("/b", join(dir, "a"));
    symlinkSync("c", join(dir, "b"));
    symlinkSync("/c/real", join(dir, "c/last"));
    const root = Root.open(dir);
    expect(root.resolveInRoot("/a/last")).toBe("/c/last");
    expect(root.resolveInRoot("/a/last", true)).toBe("/c/real");
  });

  test("resolve() still follows symlinks after backing up out of a missing directory", () => {
    mkdirSync(join(dir, "usr/etc"), { recursive: true });
    symlinkSync("/usr/etc", join(dir, "etc"));
    const root = Root.open(dir);
    expect(root.resolveInRoot("/nope/../etc/x")).toBe("/usr/etc/x");
    expect(root.resolve("/nope/../etc/x")).toBe(join(dir, "usr/etc/x"));
    expect(root.lstat("/nope/x")).toBeNull();
  });

  test("resolve() throws SymlinkLoopError on a loop", () => {
    symlinkSync("/loop2", join(dir, "loop1"));
    symlinkSync("/loop1", join(dir, "loop2"));
    expect(() => Root.open(dir).resolve("/loop1/x")).toThrow(SymlinkLoopError);
  });

  test("open() refuses a missing directory and a file", () => {
    expect(() => Root.open(join(base, "nope"))).toThrow(/no such directory/);
    writeFileSync(join(base, "f"), "");
    expect(() => Root.open(join(base, "f"))).toThrow(/not a directory/);
  });
});

describe("Root writes", () => {
  test("writeFile() sets owner and mode and leaves no temp file", async () => {
    const root = Root.open(dir);
    await root.writeFile("/f", { mode: 0o6755, uid: 1001, gid: 1002 }, (s) => s.write(enc("hello")));
    const st = lstatSync(join(dir, "f"));
    expect(st.mode & 0o7777).toBe(0o6755);
    expect([st.uid, st.gid]).toEqual([1001, 1002]);
    expect(readFileSync(join(dir, "f"), "utf8")).toBe("hello");
    expect(readdirSync(dir)).toEqual(["f"]);
  });

  test("writeFile() leaves the target untouched and no temp file when filling fails", async () => {
    writeFileSync(join(dir, "f"), "old");
    const root = Root.open(dir);
    const fail = root.writeFile("/f", { mode: 0o644, uid: 0, gid: 0 }, (s) => {
      s.write(enc("partial"));
      throw new Error("boom");
    });
    await expect(fail).rejects.toThrow("boom");
    expect(readFileSync(join(dir, "f"), "utf8")).toBe("old");
    expect(readdirSync(dir)).toEqual(["f"]);
  });

  test("writeFile() truncates to what a restarted fill wrote", async () => {
    const root = Root.open(dir);
    await root.writeFile("/f", { mode: 0o644, uid: 0, gid: 0 }, (s) => {
      s.write(enc("base-"));
      const start = s.size;
      s.write(enc("a long first attempt"));
      s.truncate(start);
      s.write(enc("ok"));
    });
    expect(readFileSync(join(dir, "f"), "utf8")).toBe("base-ok");
  });

  test("writeFile() replaces a final symlink pointing outside instead of writing through it", async () => {
    writeFileSync(join(outside, "secret"), "host data");
    symlinkSync(join(outside, "secret"), join(dir, "f"));
    await Root.open(dir).writeFile("/f", { mode: 0o644, uid: 0, gid: 0 }, (s) => s.write(enc("new")));
    expect(readFileSync(join(outside, "secret"), "utf8")).toBe("host data");
    expect(lstatSync(join(dir, "f")).isFile()).toBe(true);
  });

  test("writeFile() through a directory symlink to an absolute host path lands inside the root", async () => {
    symlinkSync(outside, join(dir, "d"));
    const root = Root.open(dir);
    root.mkdirAll("/d");
    await root.writeFile("/d/x", { mode: 0o644, uid: 0, gid: 0 }, (s) => s.write(enc("in root")));
    expect(existsSync(join(outside, "x"))).toBe(false);
    expect(readFileSync(join(dir, outside, "x"), "utf8")).toBe("in root");
  });

  test("mkdirAll() creates missing parents with the exact mode and reports them", () => {
    const root = Root.open(dir);
    const created = root.mkdirAll("/a/b/c", 0o755);
    expect(created).toEqual([join(dir, "a"), join(dir, "a/b"), join(dir, "a/b/c")]);
    expect(lstatSync(join(dir, "a/b")).mode & 0o7777).toBe(0o755);
    root.removeCreated(created);
    expect(existsSync(join(dir, "a"))).toBe(false);
  });

  test("mkdirAll() refuses to go through a file", () => {
    writeFileSync(join(dir, "a"), "");
    expect(() => Root.open(dir).mkdirAll("/a/b")).toThrow(/a non-directory exists there/);
  });

  test("removeAll() removes a symlink, not its target, and refuses the root", () => {
    writeFileSync(join(outside, "keep"), "");
    symlinkSync(outside, join(dir, "l"));
    const root = Root.open(dir);
    root.removeAll("/l");
    expect(existsSync(join(outside, "keep"))).toBe(true);
    expect(() => root.removeAll("/..")).toThrow(/the root itself/);
  });

  test("symlink() keeps the target text verbatim", async () => {
    const root = Root.open(dir);
    await root.symlink("../x/../y", "/s");
    expect(readlinkSync(join(dir, "s"))).toBe("../x/../y");
  });
});

describe("Root directory cache", () => {
  test("resolve() sees a directory replaced by a symlink through removeAll() and symlink()", async () => {
    mkdirSync(join(dir, "a"));
    const root = Root.open(dir);
    expect(root.resolveInRoot("/a/x")).toBe("/a/x");
    root.removeAll("/a");
    await root.symlink("/b", "/a");
    expect(root.resolveInRoot("/a/x")).toBe("/b/x");
  });

  test("resolve() follows a symlink created through symlink() where nothing was before", async () => {
    const root = Root.open(dir);
    expect(root.resolveInRoot("/a/x")).toBe("/a/x");
    await root.symlink("/b", "/a");
    expect(root.resolveInRoot("/a/x")).toBe("/b/x");
  });

  test("mkdirAll() and writeFile() under a path found missing create it, and resolve() then sees it", async () => {
    const root = Root.open(dir);
    expect(root.resolveInRoot("/n/m/f")).toBe("/n/m/f");
    root.mkdirAll("/n/m");
    await root.writeFile("/n/m/f", { mode: 0o644, uid: 0, gid: 0 }, (s) => s.write(enc("x")));
    expect(readFileSync(join(dir, "n/m/f"), "utf8")).toBe("x");
    await root.symlink("/n/m", "/l");
    expect(root.resolveInRoot("/l/f")).toBe("/n/m/f");
  });

  test("forgetAll() makes resolve() see a symlink another program made where nothing was", () => {
    const root = Root.open(dir);
    expect(root.resolveInRoot("/a/x")).toBe("/a/x");
    symlinkSync("/c", join(dir, "a"));
    root.forgetAll();
    expect(root.resolveInRoot("/a/x")).toBe("/c/x");
  });

  test("forgetAll() makes resolve() see changes made by other programs", () => {
    mkdirSync(join(dir, "a"));
    const root = Root.open(dir);
    expect(root.resolveInRoot("/a/x")).toBe("/a/x");
    rmSync(join(dir, "a"), { recursive: true });
    symlinkSync("/c", join(dir, "a"));
    root.forgetAll();
    expect(root.resolveInRoot("/a/x")).toBe("/c/x");
  });
});
