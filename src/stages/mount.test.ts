// virtiofs shares (3.7.0-experimental): not block devices, so the disks stage neither waits for
// nor formats them and the mount stage mounts them by tag. The host kernel cannot mount
// virtiofs, so mount(8) is answered by the fake System; any other command fails the test.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../config/index.ts";
import type { StageContext } from "../executor/stage.ts";
import { emptyState } from "../executor/state.ts";
import { Logger } from "../log/logger.ts";
import { createFetcher } from "../resource/index.ts";
import { fakeSystem, type FakeSystem } from "../system/fake.ts";
import { disksStage } from "./disks.ts";
import { mountStage } from "./mount.ts";

const work = mkdtempSync(join(tmpdir(), "nexus-mount-stage-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function context(system: FakeSystem): StageContext {
  const r = parseConfig(
    JSON.stringify({
      ignition: { version: "3.7.0-experimental" },
      storage: { filesystems: [{ device: "myshare", format: "virtiofs", path: "/srv/share", mountOptions: ["dax", "ro"] }] },
    }),
  );
  if (!r.ok) throw new Error(r.issues.map((i) => i.message).join("; "));
  const root = mkdtempSync(join(work, "root-"));
  return { config: r.config, root, system, log: new Logger(() => {}), fetcher: createFetcher({ offline: true }), platform: "file", state: emptyState() };
}

describe("virtiofs", () => {
  test("`disksStage` plans and runs nothing for a virtiofs share (no device wait, no mkfs)", async () => {
    const ctx = context(fakeSystem());
    expect(await disksStage.plan(ctx)).toEqual([]);
    await disksStage.run(ctx);
    expect((ctx.system as FakeSystem).calls).toEqual([]);
  });

  test("`mountStage.run()` mounts a virtiofs share by its tag with its mount options", async () => {
    const system = fakeSystem({ respond: (cmd, args) => (cmd === "mount" ? { argv: [cmd, ...args], code: 0, stdout: "", stderr: "" } : undefined) });
    const ctx = context(system);
    await mountStage.run(ctx);
    const host = join(ctx.root, "srv/share");
    expect(system.calls.map((c) => [c.cmd, ...c.args])).toEqual([["mount", "-t", "virtiofs", "-o", "dax,ro", "myshare", host]]);
    expect(existsSync(host)).toBe(true);
    expect(ctx.state.mounted).toEqual([host]);
  });
});
