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
    const rep = report();
    expect(rep.configSource).toBe("fw_cfg opt/com.coreos/config");
    expect(rep.stages.map((s: { name: string }) => s.name)).toEqual(["fetch", "files"]);
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

describe("runStages() and the platform's hooks", () => {
  test("runStages() on packet posts each stage's outcome, the failure with its error", async () => {
    const posts: { state: string; message: string }[] = [];
    const srv = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req, server): Promise<Response> {
        const p = new URL(req.url).pathname;
        if (p === "/metadata") return Response.json({ phone_home_url: `http://127.0.0.1:${server.port}/phone-home` });
        if (p === "/events" && req.method === "POST") posts.push((await req.json()) as { state: string; message: string });
        return new Response("", { status: 204 });
      },
    });
    try {
      const env = { NEXUS_URL_PACKET: `http://127.0.0.1:${srv.port}` };
      const ok = config({ storage: { files: [{ path: "/etc/motd", contents: { source: "data:,hi" } }] } });
      await runStages(["files"], options({ platform: "packet", config: ok, system: fakeSystem({ env }) }));
      const bad = config({ storage: { files: [{ path: "/a/f", contents: { source: "data:,x", verification: { hash: "sha256-" + "0".repeat(64) } } }] } });
      await runStages(["files"], options({ platform: "packet", config: bad, system: fakeSystem({ env }) }));
      expect(posts.map((p) => p.state)).toEqual(["running", "failed"]);
      expect(posts[0]!.message).toBe("[files] Ignition status: finished successfully");
      expect(posts[1]!.message).toMatch(/^\[files\] Ignition error: .*hash/);
    } finally {
      srv.stop(true);
    }
  });

  test("runStages() deletes the config from vmware after a successful umount, and not after a failure", async () => {
    const store = new Map([["ignition.config.data", '{"ignition":{"version":"3.4.0"}}']]);
    const respond = (cmd: string, args: readonly string[]) => {
      if (cmd !== "vmwareRpctool") return cmd === "umount" ? { argv: [cmd, ...args], code: 0, stdout: "", stderr: "" } : undefined;
      const get = /^info-get guestinfo\.(\S+)$/.exec(args[0]!);
      if (get) return store.has(get[1]!) ? { argv: args, code: 0, stdout: store.get(get[1]!)! + "\n", stderr: "" } : { argv: args, code: 1, stdout: "", stderr: "No value found" };
      const set = /^info-set guestinfo\.(\S+) (.*)$/.exec(args[0]!)!;
      store.set(set[1]!, set[2]!);
      return { argv: args, code: 0, stdout: "", stderr: "" };
    };
    const failed = await runStages(["files", "umount"], options({ platform: "vmware", config: config({ storage: { files: [{ path: "/a/f", contents: { source: "data:,x", verification: { hash: "sha256-" + "0".repeat(64) } } }] } }), system: fakeSystem({ env: {}, respond }) }));
    expect(failed.ok).toBe(false);
    expect(store.get("ignition.config.data")).toContain("3.4.0");
    const r = await runStages(["umount"], options({ platform: "vmware", config: config({}), system: fakeSystem({ env: {}, respond }) }));
    expect(r.ok).toBe(true);
    expect(store.get("ignition.config.data")).toBe("e30K");
    expect(lines.some((l) => l.includes('deleting the config from platform "vmware"'))).toBe(true);
  });
});
