import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkWithinFilesDir, FILES_DIR_ESCAPE, NO_FILES_DIR, readLocalFile, walkTree } from "./local_files.ts";

const dir = mkdtempSync(join(tmpdir(), "nexus-butane-files-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, "files/tree/sub"), { recursive: true });
writeFileSync(join(dir, "files/a.txt"), "A");
writeFileSync(join(dir, "files/tree/b"), "B");
writeFileSync(join(dir, "files/tree/sub/c"), "C");
writeFileSync(join(dir, "files/tree/Z"), "Z");
symlinkSync("sub/c", join(dir, "files/tree/link"));
chmodSync(join(dir, "files/tree/b"), 0o755);

describe("readLocalFile()", () => {
  const cases: [string, string, string | undefined, { ok: true; text: string } | { ok: false; message: string }][] = [
    ["a file in the files directory", "a.txt", join(dir, "files"), { ok: true, text: "A" }],
    ["a nested file", "tree/sub/c", join(dir, "files"), { ok: true, text: "C" }],
    ["without a files directory", "a.txt", undefined, { ok: false, message: NO_FILES_DIR }],
    ["a path leaving the files directory", "../x", join(dir, "files"), { ok: false, message: FILES_DIR_ESCAPE }],
    ["a missing file", "nope", "files", { ok: false, message: "open files/nope: no such file or directory" }],
    ["a directory", "tree", join(dir, "files"), { ok: false, message: `read ${join(dir, "files/tree")}: is a directory` }],
  ];
  for (const [what, path, filesDir, want] of cases) {
    test(`readLocalFile() handles ${what}`, () => {
      const cwd = process.cwd();
      process.chdir(dir);
      try {
        const r = readLocalFile(path, filesDir);
        expect(r.ok ? { ok: true, text: new TextDecoder().decode(r.bytes) } : r).toEqual(want);
      } finally {
        process.chdir(cwd);
      }
    });
  }
});

describe("checkWithinFilesDir()", () => {
  test("checkWithinFilesDir() accepts the directory itself and paths below it only", () => {
    expect(checkWithinFilesDir("/x/files", "/x/files")).toBeNull();
    expect(checkWithinFilesDir("/x/files/a/../b", "/x/files")).toBeNull();
    expect(checkWithinFilesDir("/x/filesevil", "/x/files")).toBe(FILES_DIR_ESCAPE);
  });
});

describe("walkTree()", () => {
  test("walkTree() lists entries in lexical byte order without following symlinks", () => {
    const entries = walkTree(join(dir, "files/tree")).map((e) => `${e.rel}:${e.kind}`);
    expect(entries).toEqual([".:dir", "Z:file", "b:file", "link:symlink", "sub:dir", "sub/c:file"]);
  });
});
