import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { formatIgnitionJson } from "./translate.ts";

const BUN = resolve(import.meta.dir, "../../node_modules/.bin/bun");
const MAIN = resolve(import.meta.dir, "../main.ts");
const dir = mkdtempSync(join(tmpdir(), "nexus-translate-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, "files"));
writeFileSync(join(dir, "files/motd"), "hello\n");
writeFileSync(join(dir, "ok.bu"), "variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /etc/motd\n      contents:\n        local: motd\n");
writeFileSync(join(dir, "warn.bu"), "variant: fcos\nversion: 1.5.0\nextra: 1\n");
writeFileSync(join(dir, "bad.bu"), "variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /a\n      contents:\n        local: motd\n");

function run(args: string[], stdin?: string) {
  const p = Bun.spawnSync([BUN, MAIN, ...args], { cwd: dir, stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin) });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

describe("nexus-init translate", () => {
  test("translate --from-butane writes Ignition JSON to stdout and exits 0", () => {
    const r = run(["translate", "--from-butane", "-d", "files", "ok.bu"]);
    expect(r.code).toBe(0);
    expect(r.err).toBe("");
    expect(JSON.parse(r.out)).toEqual({
      ignition: { version: "3.4.0" },
      storage: { files: [{ path: "/etc/motd", contents: { compression: "", source: "data:,hello%0A" } }] },
    });
    expect(r.out.endsWith("}\n")).toBe(true);
  });

  test("translate --pretty indents with two spaces", () => {
    expect(run(["translate", "--from-butane", "--pretty", "--files-dir", "files", "ok.bu"]).out).toStartWith('{\n  "ignition": {\n    "version": "3.4.0"');
  });

  test("translate reads standard input for - and prints warnings in Butane's format", () => {
    const r = run(["translate", "--from-butane", "-"], "variant: fcos\nversion: 1.5.0\nextra: 1\n");
    expect(r.code).toBe(0);
    expect(r.err).toBe("warning at $.extra, line 3 col 1: Unused key extra\n");
  });

  test("translate --strict fails on warnings", () => {
    const r = run(["translate", "--from-butane", "--strict", "warn.bu"]);
    expect(r).toEqual({
      code: 1,
      out: "",
      err: "warning at $.extra, line 3 col 1: Unused key extra\nConfig produced warnings and --strict was specified\n",
    });
  });

  test("translate exits 1 with the error and Butane's final line on a bad config", () => {
    const r = run(["translate", "--from-butane", "bad.bu"]);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toBe(
      "error at $.storage.files.0.contents.local, line 7 col 16: local file paths are relative to a files directory that must be specified with -d/--files-dir\nError translating config: source config is invalid\n",
    );
  });

  test("translate --check writes nothing and -o writes a file", () => {
    expect(run(["translate", "--from-butane", "-c", "-d", "files", "ok.bu"])).toEqual({ code: 0, out: "", err: "" });
    expect(run(["translate", "--from-butane", "-d", "files", "-o", "out.ign", "ok.bu"]).code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "out.ign"), "utf8")).ignition.version).toBe("3.4.0");
  });

  const usage: [string, string[]][] = [
    ["without --from-butane", ["translate", "ok.bu"]],
    ["with an unknown option", ["translate", "--from-butane", "--bogus", "ok.bu"]],
    ["with two inputs", ["translate", "--from-butane", "ok.bu", "warn.bu"]],
  ];
  for (const [what, args] of usage) {
    test(`translate exits 2 ${what}`, () => expect(run(args).code).toBe(2));
  }

  test("translate exits 1 when the input cannot be read", () => {
    const r = run(["translate", "--from-butane", "missing.bu"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('Cannot read config "missing.bu": no such file');
  });
});

describe("nexus-init init", () => {
  test("init --from-butane writes FILE.ign beside FILE", () => {
    const r = run(["init", "--from-butane", "ok.bu", "-d", "files"]);
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, "ok.ign"))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, "ok.ign"), "utf8")).storage.files[0].path).toBe("/etc/motd");
  });

  test("init fails without writing on a bad config", () => {
    const r = run(["init", "--from-butane", "bad.bu"]);
    expect(r.code).toBe(1);
    expect(existsSync(join(dir, "bad.ign"))).toBe(false);
  });

  test("init exits 2 without --from-butane FILE", () => expect(run(["init"]).code).toBe(2));
});

describe("formatIgnitionJson()", () => {
  test("formatIgnitionJson() escapes HTML characters as Go does", () => {
    expect(formatIgnitionJson({ s: "<a> & \u2028" }, false)).toBe('{"s":"\\u003ca\\u003e \\u0026 \\u2028"}');
  });
});
