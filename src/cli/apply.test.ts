import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../test/cli/run_cli.ts";

let dir: string;
let root: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "nexus-apply-"));
  root = join(dir, "root");
  mkdirSync(root);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const good = () =>
  file(
    "good.ign",
    JSON.stringify({
      ignition: { version: "3.4.0" },
      storage: { files: [{ path: "/etc/motd", contents: { source: "data:,TOPSECRET%20motd" }, mode: 420 }] },
      systemd: { units: [{ name: "hello.service", enabled: true, contents: "[Service]\nExecStart=/bin/true\n" }] },
    }),
  );

describe("nexus-init apply", () => {
  test.each([
    ["no --root", () => ["apply", "x.ign"], /--root DIR is required/],
    ["no config", () => ["apply", "--root", root], /expected exactly one config file/],
    ["an unknown option", () => ["apply", "--root", root, "--nope", "x.ign"], /Unknown option/],
    ["a missing config file", () => ["apply", "--root", root, join(dir, "missing.ign")], /Cannot read config ".*missing.ign": no such file/],
    ["a missing root", () => ["apply", "--root", join(dir, "nope"), good()], /Cannot use root ".*nope": no such directory/],
  ])("apply exits 2 on %s", async (_t, args, message) => {
    const r = await runCli(args());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  test("apply exits 1 on an invalid config and touches nothing", async () => {
    const bad = file("bad.ign", '{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/f","mode":"644"}]}}');
    const r = await runCli(["apply", "--root", root, "--json", bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error at storage\.files\.0\.mode/);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: "invalid" });
    expect(readdirSync(root)).toEqual([]);
  });

  test("apply provisions the root, writes the report and ends with a JSON report", async () => {
    const r = await runCli(["apply", "--root", root, "--json", good()]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(root, "etc/motd"), "utf8")).toBe("TOPSECRET motd");
    expect(readFileSync(join(root, "etc/systemd/system-preset/20-nexus.preset"), "utf8")).toBe("enable hello.service\n");
    const report = JSON.parse(readFileSync(join(root, "etc/.nexus-result.json"), "utf8"));
    expect(report).toMatchObject({ tool: "nexus-init", outcome: "success" });
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
    expect(out.outcome).toBe("success");
    expect(out.stages.map((s: { name: string }) => s.name)).toContain("files");
    const filesPlan = out.plan.filter((p: { stage: string }) => p.stage === "files");
    expect(filesPlan.map((p: { action: string; target: string }) => `${p.action} ${p.target}`)).toEqual([
      "create /etc/motd",
      "write-unit /etc/systemd/system/hello.service",
      "enable hello.service",
    ]);
    expect(out.operations.length).toBeGreaterThan(3);
    // The plan is logged before the first action.
    expect(r.stderr.indexOf("plan: create /etc/motd")).toBeLessThan(r.stderr.indexOf('[started]  writing file "/etc/motd"'));
    // Never file contents or data URLs in logs or reports.
    expect(r.stderr + r.stdout + JSON.stringify(report)).not.toContain("TOPSECRET");
  });

  test("apply reads the config from standard input", async () => {
    const r = await runCli(["apply", "--root", root, "-"], { stdin: readFileSync(good(), "utf8") });
    expect(r.code).toBe(0);
    expect(existsSync(join(root, "etc/motd"))).toBe(true);
    expect(JSON.parse(readFileSync(join(root, "etc/.nexus-result.json"), "utf8")).configSource).toBe("file:<stdin>");
  });

  test("apply exits 1 when a stage fails and reports the failing stage", async () => {
    const cfg = file(
      "fail.ign",
      JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files: [{ path: "/d/f", contents: { source: "data:,x", verification: { hash: "sha512-" + "0".repeat(128) } } }] } }),
    );
    const r = await runCli(["apply", "--root", root, "--json", cfg]);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
    expect(out).toMatchObject({ outcome: "failure", failedStage: "files" });
    expect(r.stderr).toMatch(/CRIT: .*provisioning failed in stage "files"/);
    expect(existsSync(join(root, "d"))).toBe(false);
  });
});

describe("apply with Butane", () => {
  test("apply provisions a Butane config like its Ignition translation", async () => {
    const root = mkdtempSync(join(tmpdir(), "nexus-apply-bu-"));
    try {
      const r = await runCli(["apply", "--root", root, "-"], {
        stdin: "variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /etc/motd\n      mode: 0640\n      contents:\n        inline: hello from butane\n",
      });
      expect(r.code).toBe(0);
      expect(readFileSync(join(root, "etc/motd"), "utf8")).toBe("hello from butane");
      expect(statSync(join(root, "etc/motd")).mode & 0o7777).toBe(0o640);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
