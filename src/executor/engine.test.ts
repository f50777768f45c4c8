import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "../config/types.ts";
import { fakeSystem } from "../system/fake.ts";
import { runStages, planStages, type EngineOptions } from "./engine.ts";
import { Logger } from "../log/logger.ts";
import { runPathsIn } from "./paths.ts";
import { buildReport, RESULT_PATH } from "./report.ts";
import { emptyState, saveState } from "./state.ts";

let base: string;
let root: string;
let lines: string[];
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "nexus-engine-"));
  root = join(base, "root");
  mkdirSync(root);
  lines = [];
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

const config = (c: Omit<Config, "ignition">): Config => ({ ignition: { version: "3.6.0" }, ...c }) as Config;

function options(over: Partial<EngineOptions> = {}): EngineOptions {
  return {
    root,
    platform: "file",
    system: fakeSystem({ env: {}, now: Date.UTC(2025, 0, 2, 3, 4, 5) }),
    log: new Logger((l) => lines.push(l)),
    paths: runPathsIn(join(base, "run")),
    configSource: "file:/tmp/config.ign",
    persistState: false,
    ...over,
  };
}

const report = () => JSON.parse(readFileSync(join(root, RESULT_PATH), "utf8"));

describe("runStages()", () => {
  test("runStages() runs the files stage, logs its plan before acting and writes the report", async () => {
    const c = config({ storage: { files: [{ path: "/etc/motd", contents: { source: "data:,hi" } }] } });
    const r = await runStages(["files"], options({ config: c }));
    expect(r.ok).toBe(true);
    expect(r.plan.map((p) => [p.action, p.target])).toEqual([["create", "/etc/motd"]]);
    const firstPlan = lines.findIndex((l) => l.includes("plan: create /etc/motd"));
    const firstOp = lines.findIndex((l) => l.includes('[started]  writing file "/etc/motd"'));
    expect(firstPlan).toBeGreaterThanOrEqual(0);
    expect(firstPlan).toBeLessThan(firstOp);
    expect(lines.some((l) => /\[finished\] stage files \(\d+\.\d ms\)/.test(l))).toBe(true);
    const rep = report();
    expect(rep).toMatchObject({ tool: "nexus-init", provisioningDate: "2025-01-02T03:04:05.000Z", configSource: "file:/tmp/config.ign", outcome: "success" });
    expect(rep.stages.map((s: { name: string; ok: boolean }) => [s.name, s.ok])).toEqual([["files", true]]);
  });

  test("runStages() reports a failure, names the stage and leaves no partial file", async () => {
    const c = config({ storage: { files: [{ path: "/a/f", contents: { source: "data:,x", verification: { hash: "sha256-" + "0".repeat(64) } } }] } });
    const r = await runStages(["files"], options({ config: c }));
    expect(r.ok).toBe(false);
    expect(r.failedStage).toBe("files");
    expect(r.error).toMatch(/Cannot create files, directories and links/);
    expect(lines.some((l) => l.startsWith("CRIT: files: stage failed"))).toBe(true);
    expect(report()).toMatchObject({ outcome: "failure", failedStage: "files" });
    expect(readdirSync(root)).toEqual(["etc"]);
    expect(readdirSync(join(root, "etc"))).toEqual([".nexus-result.json"]);
  });

  test("runStages() in boot mode reads the cached config and adds its record to the saved state", async () => {
    const paths = runPathsIn(join(base, "run"));
    mkdirSync(paths.runDir);
    writeFileSync(paths.config, JSON.stringify(config({ storage: { directories: [{ path: "/d" }] } })));
    saveState(paths.state, {
      ...emptyState(),
      fetched: [{ kind: "user", source: "fw_cfg opt/com.coreos/config", referenced: false }],
      stages: [{ name: "fetch", ok: true, ms: 12, startedAt: "2025-01-01T00:00:00.000Z" }],
    });
    const r = await runStages(["files"], options({ paths, persistState: true }));
    expect(r.ok).toBe(true);
    expect(existsSync(join(root, "d"))).toBe(true);
    const state = JSON.parse(readFileSync(paths.state, "utf8"));
    expect(state.stages.map((s: { name: string }) => s.name)).toEqual(["fetch", "files"]);
    // At boot the report comes after the last stage only.
    expect(existsSync(join(root, RESULT_PATH))).toBe(false);
    expect((await runStages(["umount"], options({ paths, persistState: true }))).ok).toBe(true);
    const rep = report();
    expect(rep.configSource).toBe("fw_cfg opt/com.coreos/config");
    expect(rep.stages.map((s: { name: string }) => s.name)).toEqual(["fetch", "files", "umount"]);
  });

  test("runStages() fails clearly when no rendered config is cached", async () => {
    const r = await runStages(["files"], options({ persistState: true }));
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/Cannot read the rendered config ".*config.json": no such file \(run the fetch stages first\)/);
  });
});

describe("runStages() hooks", () => {
  const c = config({ storage: { directories: [{ path: "/d" }] } });

  test("runStages() skips a stage a hook passes over and ends successfully where a hook stops", async () => {
    const seen: string[] = [];
    const r = await runStages(["kargs", "disks", "files", "umount"], options({
      config: c,
      hooks: {
        before: async (name) => (name === "kargs" ? "skip" : name === "files" ? "stop" : "run"),
        after: (rec) => seen.push(`${rec.name} ${rec.ok}`),
      },
    }));
    expect(r).toMatchObject({ ok: true, stoppedBefore: "files" });
    expect(r.stages.map((s) => s.name)).toEqual(["disks"]);
    expect(seen).toEqual(["disks true"]);
    expect(existsSync(join(root, "d"))).toBe(false);
  });

  test("runStages() fails the stage whose before-hook throws, and runs nothing after it", async () => {
    const seen: string[] = [];
    const r = await runStages(["disks", "mount", "files", "umount"], options({
      config: c,
      hooks: {
        before: async (name) => {
          if (name === "mount") throw new Error("Cannot find root device");
          return "run";
        },
        after: (rec) => seen.push(`${rec.name} ${rec.ok}`),
      },
    }));
    expect(r).toMatchObject({ ok: false, failedStage: "mount", error: "Cannot find root device" });
    expect(seen).toEqual(["disks true", "mount false"]);
    expect(existsSync(join(root, "d"))).toBe(false);
  });
});

describe("planStages()", () => {
  test("planStages() plans without touching the root", async () => {
    const c = config({ storage: { files: [{ path: "/x", contents: { source: "data:,x" } }] }, systemd: { units: [{ name: "a.service", mask: true }] } });
    const r = await planStages(["files"], options({ config: c }));
    expect(r.ok).toBe(true);
    expect(r.plan.map((p) => p.action)).toEqual(["create", "mask"]);
    expect(readdirSync(root)).toEqual([]);
  });
});

describe("buildReport()", () => {
  test("buildReport() redacts credentials in a URL source", () => {
    const r = buildReport({ now: 0, configSource: "https://user:pw@example.com/c.ign?token=abc", stages: [] });
    expect(r.configSource).not.toContain("pw");
    expect(r.configSource).not.toContain("abc");
    expect(buildReport({ now: 0, configSource: "data:,secret", stages: [] }).configSource).toBe("data:<redacted>");
  });
});
