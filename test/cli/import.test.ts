// `nexus import` end to end: the program on standard output or in a file with its local files,
// and `nexus provision` of it giving the config back.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { normalForm } from "../../src/authoring/import.ts";
import { runNexus } from "./run_cli.ts";

const dir = mkdtempSync(join(tmpdir(), "nexus-import-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TEXT_ONLY = JSON.stringify({ ignition: { version: "3.2.0" }, storage: { files: [{ path: "/etc/motd", mode: 420, contents: { source: "data:,hi%0A" } }] } });
const WITH_BINARY = JSON.stringify({
  ignition: { version: "3.4.0" },
  storage: { files: [{ path: "/usr/lib/blob", mode: 493, contents: { source: "data:;base64,AAECAwQ=" } }] },
  passwd: { users: [{ name: "core", passwordHash: "$6$salt$hashhash" }] },
});

function write(name: string, text: string): string {
  const path = join(dir, name);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
  return path;
}

describe("nexus import", () => {
  test("`nexus import` prints the program on standard output and says what it read", async () => {
    const r = await runNexus(["import", write("a.ign", TEXT_ONLY)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`export default system({ spec: "3.2.0" }, [\n  file("/etc/motd", { mode: 0o644, contents: "hi\\n" }),\n]);\n`);
    expect(r.stderr).toBe("nexus import: 1 declaration, spec 3.2.0\n");
  });

  test("`nexus import -` reads standard input", async () => {
    const r = await runNexus(["import", "-"], { stdin: TEXT_ONLY });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("from standard input (Ignition spec 3.2.0)");
  });

  test("`nexus import` without -o refuses contents that need local files, and says to pass -o", async () => {
    const r = await runNexus(["import", write("b.ign", WITH_BINARY)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("nexus import: contents that are binary or over 8 KiB become local files (files/usr_lib_blob): pass -o FILE to write the program and them beside it\n");
  });

  test("`nexus import -o` writes the program and its local files (making the folder), and `nexus provision` gives the config back", async () => {
    const out = join(dir, "proj", "new", "system.ts");
    const r = await runNexus(["import", write("c.ign", WITH_BINARY), "-o", out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`nexus import: wrote ${out} and 1 local file in ${join(dir, "proj", "new", "files")}/ (2 declarations, spec 3.4.0)\n`);
    expect(r.stderr).not.toContain("hashhash");
    expect([...readFileSync(join(dir, "proj", "new", "files", "usr_lib_blob"))]).toEqual([0, 1, 2, 3, 4]);
    expect(readFileSync(out, "utf8")).toContain(`file("/usr/lib/blob", { mode: 0o755, contents: read("./files/usr_lib_blob") }),`);
    const back = await runNexus(["provision", out]);
    expect(back.code).toBe(0);
    expect(normalForm(back.stdout)).toEqual(normalForm(WITH_BINARY));
  });

  test("`nexus import` reports an invalid config with its path and line, and writes nothing", async () => {
    const out = join(dir, "bad", "system.ts");
    const r = await runNexus(["import", write("bad.ign", '{"ignition":{"version":"3.4.0"},\n"storage":{"files":[{"path":"x"}]}}'), "-o", out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toStartWith("error at storage.files.0.path:");
    expect(r.stderr).toContain("(line 2,");
    expect(existsSync(out)).toBe(false);
  });

  test("`nexus import` without a config, or with two, is a usage error", async () => {
    expect((await runNexus(["import"])).code).toBe(2);
    expect((await runNexus(["import", "a.ign", "b.ign"])).code).toBe(2);
    expect((await runNexus(["import", join(dir, "missing.ign")])).stderr).toContain('Cannot read config "');
  });
});
