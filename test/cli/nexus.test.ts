// The `nexus` CLI end to end, and nexus-init's refusal to run programs.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli, runNexus } from "./run_cli.ts";

const dir = mkdtempSync(join(tmpdir(), "nexus-cli-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const GOOD = `import { system, file, unit } from "nexus";
export default system({ spec: "3.3.0" }, [
  file("/etc/motd", { contents: "hello\\n", mode: 0o644 }),
  unit("app.service", { contents: "[Service]\\nExecStart=/bin/true\\n[Install]\\nWantedBy=multi-user.target\\n", enabled: true }),
]);
`;
const BAD = `import { system, file } from "nexus";
export default system([
  file("/etc/x/", { contents: "x" }),
]);
`;

function write(name: string, text: string): string {
  const path = join(dir, name);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
  return path;
}

describe("nexus", () => {
  test("`nexus provision` writes the JSON and says which spec it chose", async () => {
    const p = write("good/system.ts", GOOD);
    const r = await runNexus(["provision", p]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).ignition.version).toBe("3.3.0");
    expect(r.stderr).toBe("nexus provision: spec 3.3.0 as asked\n");
  });

  test("`nexus provision -o` writes nothing when a check fails, and names the line", async () => {
    const p = write("bad/system.ts", BAD);
    const out = join(dir, "bad/out.ign");
    const r = await runNexus(["provision", p, "-o", out], { cwd: join(dir, "bad") });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("system.ts:3:3: error: path must be in canonical form");
    expect(existsSync(out)).toBe(false);
  });

  test("`nexus provision` rejects an unknown target and a --set without a value as usage errors", async () => {
    expect((await runNexus(["provision", "--target", "coreos", "x.ts"])).code).toBe(2);
    expect((await runNexus(["provision", "--set", "novalue", "x.ts"])).code).toBe(2);
  });

  test("`nexus new` scaffolds a project that `nexus check` and `nexus provision` accept", async () => {
    const proj = join(dir, "proj");
    const made = await runNexus(["new", proj]);
    expect(made.code).toBe(0);
    expect(existsSync(join(proj, ".nexus/types/index.d.ts"))).toBe(true);
    expect(JSON.parse(readFileSync(join(proj, "tsconfig.json"), "utf8")).compilerOptions.paths.nexus).toEqual(["./.nexus/types/index.d.ts"]);
    const checked = await runNexus(["check", join(proj, "system.ts")]);
    expect(checked.stderr).toContain("nexus check: ok");
    expect(checked.code).toBe(0);
    const out = await runNexus(["provision", join(proj, "system.ts"), "--set", "hostname=web-3"]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("data:,web-3%0A");
  });

  test("`nexus check` reports type errors and validation errors at the program's lines", async () => {
    const p = write("check/system.ts", `import { system, file } from "nexus";\nexport default system([\n  file("/etc/a", { mode: "0644" }),\n  file("/etc/b/", {}),\n]);\n`);
    const r = await runNexus(["check", "system.ts"], { cwd: join(dir, "check") });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("system.ts:3:20: error TS2322: Type 'string' is not assignable to type 'number'");
    // At run time the same mistake is caught again by the validator, at the same line.
    expect(r.stderr).toContain("system.ts:3:3: error: expected an integer, got a string [storage.files.0.mode]");
    expect(p).toBeTruthy();
  });

  test("`nexus validate`, `plan` and `apply` take a program in place of a config", async () => {
    const p = write("apply/system.ts", GOOD);
    const root = join(dir, "apply/root");
    mkdirSync(join(root, "etc"), { recursive: true });
    const v = await runNexus(["validate", "--json", p]);
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout).ok).toBe(true);
    const plan = await runNexus(["plan", "--root", root, p]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain("/etc/motd");
    const applied = await runNexus(["apply", "--root", root, p]);
    expect(applied.code).toBe(0);
    expect(readFileSync(join(root, "etc/motd"), "utf8")).toBe("hello\n");
    const bad = await runNexus(["validate", write("apply/bad.ts", BAD)]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("bad.ts:3:3: error: path must be in canonical form");
  });

  test("`nexus verify` takes a program: 0 on the root it provisioned, 1 and the difference (never the contents) once it drifted", async () => {
    const p = write("verify/system.ts", GOOD);
    const root = join(dir, "verify/root");
    mkdirSync(join(root, "etc"), { recursive: true });
    expect((await runNexus(["apply", "--root", root, p])).code).toBe(0);
    const same = await runNexus(["verify", "--root", root, p]);
    expect(same.code, same.stdout + same.stderr).toBe(0);
    expect(same.stdout).toMatch(/^\d+ checked, nothing differs from the config\n$/);
    writeFileSync(join(root, "etc/motd"), "drifted\n");
    const drifted = await runNexus(["verify", "--root", root, "--json", p]);
    expect(drifted.code).toBe(1);
    expect(JSON.parse(drifted.stdout)).toMatchObject({ ok: false, differences: [{ kind: "file", target: "/etc/motd", problem: "contents differ" }] });
    expect(drifted.stdout).not.toContain("hello");
    expect(drifted.stdout).not.toContain("drifted");
    // Usage errors and a program that does not compile are reported as nexus's, at the program's line.
    const usage = await runNexus(["verify", p]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("nexus verify: --root DIR is required");
    expect(usage.stderr).toContain("Usage: nexus verify --root DIR");
    const bad = await runNexus(["verify", "--root", root, write("verify/bad.ts", BAD)]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("bad.ts:3:3: error: path must be in canonical form");
  }, 60_000);
});

describe("nexus-init", () => {
  test("`nexus-init validate` refuses a TypeScript program and runs none of it", async () => {
    const marker = join(dir, "ran-marker");
    const p = write("refuse/system.ts", `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(marker)}, "ran");\nexport default {};\n`);
    for (const args of [["validate", p], ["validate", "-"]]) {
      const r = await runCli(args, { stdin: readFileSync(p, "utf8") });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("this is a TypeScript/JavaScript program, not a config: nexus-init never runs code from a config");
    }
    const applied = await runCli(["apply", "--root", dir, p]);
    expect(applied.code).toBe(1);
    expect(existsSync(marker)).toBe(false);
  });
});
