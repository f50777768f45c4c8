// `nexus-init apply` killed (with every tool it runs) at each journaled operation and at random
// instants, on a root directory and a loop device, then run again after a "reboot": the result
// must be the tree, partition table and filesystems of an uninterrupted run, with no journal
// or temp file left; and the runs it must refuse (another config, a damaged journal, a disk
// changed since) refuse without changing anything. Needs root and loop devices.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnCollect } from "../../src/system/real.ts";
import { crashConfig, destroyTarget, makeTarget, reboot, runApply, snapshot, treeOf, type Target } from "./harness.ts";

const JOURNAL = ".nexus-init-journal";
const base = mkdtempSync(join(tmpdir(), "nexus-crash-"));
let reference: Awaited<ReturnType<typeof snapshot>>;
let referenceMs = 0;
const outcomes: string[] = [];

beforeAll(async () => {
  const t = await makeTarget(base, "reference");
  try {
    const r = await runApply(t);
    expect(r.code, r.stderr).toBe(0);
    referenceMs = r.ms;
    reference = await snapshot(t);
  } finally {
    await destroyTarget(t);
  }
}, 120_000);

afterAll(() => {
  if (outcomes.length > 0) process.stderr.write(`crash trials:\n  ${outcomes.join("\n  ")}\n`);
  rmSync(base, { recursive: true, force: true });
});

/** The journal's records (kind and key). */
function records(t: Target): { t: string; key?: string }[] {
  const lines = readFileSync(join(t.root, JOURNAL), "utf8").trim().split("\n");
  return lines.map((l) => JSON.parse(l.split(" ").slice(3).join(" ")) as { t: string; key?: string });
}

/** The key (or kind) of the journal's last record. */
function lastRecord(t: Target): string {
  const last = records(t).at(-1)!;
  return last.key ?? last.t;
}

/** Runs apply to the end after a reboot and checks the result against the uninterrupted run. */
async function expectResumedLikeReference(t: Target, what: string, args: string[] = []): Promise<void> {
  await reboot(t);
  const again = await runApply(t, { args });
  expect(again.code, `${what}: the run after the interruption failed:\n${again.stderr.slice(-4000)}`).toBe(0);
  expect(existsSync(join(t.root, JOURNAL)), `${what}: journal left behind`).toBe(false);
  expect(await snapshot(t), what).toEqual(reference);
}

describe("apply interrupted and run again", () => {
  test("killed after each journaled operation, it resumes to what an uninterrupted run makes", async () => {
    let n = 1;
    for (; n < 200; n++) {
      const t = await makeTarget(base, `op${n}`);
      try {
        const first = await runApply(t, { env: { NEXUS_TEST_CRASH_AFTER_OP: String(n) } });
        if (first.signal === null) {
          // Fewer operations than n: the run completed.
          expect(first.code, first.stderr).toBe(0);
          break;
        }
        const after = lastRecord(t);
        await expectResumedLikeReference(t, `killed after operation ${n} (${after})`);
        outcomes.push(`killed after operation ${n} (${after}): resumed, same result`);
      } finally {
        await destroyTarget(t);
      }
    }
    // The config has ~25 operations: every boundary was tried.
    expect(n).toBeGreaterThan(20);
  }, 900_000);

  test("killed at random instants with the tools it runs, it resumes to what an uninterrupted run makes", async () => {
    // A fixed sequence of instants (seeded), spread over the whole run, reproducible.
    let seed = 1717;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 12; i++) {
      const at = Math.round((0.3 + 0.7 * random()) * referenceMs);
      const t = await makeTarget(base, `random${i}`);
      try {
        const first = await runApply(t, { killAfterMs: at });
        // Killed after the journal was removed (the result report is written before): the run
        // had completed, as a boot killed after it would have.
        const completed = !existsSync(join(t.root, JOURNAL)) && existsSync(join(t.root, "etc/.nexus-result.json"));
        if (first.signal === null || completed) {
          if (first.signal === null) expect(first.code, first.stderr).toBe(0);
          expect(await snapshot(t)).toEqual(reference);
          outcomes.push(`kill at ${at} ms: came ${first.signal === null ? "after the run exited" : "after the run completed, before it exited"}`);
          continue;
        }
        const after = existsSync(join(t.root, JOURNAL)) ? lastRecord(t) : "no journal yet";
        await expectResumedLikeReference(t, `killed at ${at} ms (${after})`);
        outcomes.push(`kill at ${at} ms (journal: ${after}): resumed, same result`);
      } finally {
        await destroyTarget(t);
      }
    }
  }, 900_000);

  test("killed again while resuming, it resumes once more", async () => {
    const t = await makeTarget(base, "twice");
    try {
      expect((await runApply(t, { env: { NEXUS_TEST_CRASH_AFTER_OP: "6" } })).signal).toBe("SIGKILL");
      await reboot(t);
      expect((await runApply(t, { env: { NEXUS_TEST_CRASH_AFTER_OP: "9" } })).signal).toBe("SIGKILL");
      await expectResumedLikeReference(t, "killed after operation 6, then 9 more");
      outcomes.push("killed after operation 6, then after 9 more: resumed, same result");
    } finally {
      await destroyTarget(t);
    }
  }, 120_000);

  test.each([
    ["groupadd", "app"],
    ["useradd", "core"],
    ["useradd", "deploy"],
  ])("--accounts=tools: killed inside the accounts transaction, right after %s %s, it takes the additions back and resumes", async (tool, name) => {
    // The tool really runs, then the wrapper kills apply's whole process group: the
    // transaction is begun but not recorded as applied.
    const t = await makeTarget(base, `${tool}-${name}`);
    const tools = ["--accounts=tools"];
    try {
      const wrapper = join(t.dir, `${tool}-then-kill`);
      writeFileSync(wrapper, `#!/bin/sh\n${tool} "$@"; rc=$?\nfor a; do last=$a; done\n[ "$last" = "${name}" ] && kill -KILL 0\nexit $rc\n`, { mode: 0o755 });
      const first = await runApply(t, { env: { [`NEXUS_CMD_${tool.toUpperCase()}`]: wrapper }, args: tools });
      expect(first.signal, first.stderr).toBe("SIGKILL");
      expect(records(t).filter((r) => r.key === "accounts").map((r) => r.t)).toEqual(["intent"]);
      expect(readFileSync(join(t.root, "etc/group"), "utf8")).toContain(`${tool === "groupadd" ? name : "app"}:x:`);
      // The tools leave the tree the native way leaves (the account conformance cases check it).
      await expectResumedLikeReference(t, `killed after ${tool} ${name}`, tools);
      outcomes.push(`--accounts=tools, killed inside the accounts transaction after ${tool} ${name}: taken back, resumed, same result`);
    } finally {
      await destroyTarget(t);
    }
  }, 120_000);

  test.each([
    ["ops", "its home operations (homes made, keys written), before any database"],
    ["commit", "the first database renamed into place"],
  ])("native accounts killed inside the transaction (%s: after %s): taken back, resumed", async (at, what) => {
    const t = await makeTarget(base, `native-${at}`);
    try {
      const first = await runApply(t, { env: { NEXUS_TEST_CRASH_ACCOUNTS: at } });
      expect(first.signal, first.stderr).toBe("SIGKILL");
      expect(records(t).filter((r) => r.key === "accounts").map((r) => r.t)).toEqual(["intent"]);
      // The homes were made; inside the commit, the databases not renamed yet are still staged.
      expect(existsSync(join(t.root, "home/core"))).toBe(true);
      const staged = readdirSync(join(t.root, "etc")).filter((n) => n.includes(".nexus-staged-"));
      expect(staged.length > 0).toBe(at === "commit");
      await expectResumedLikeReference(t, `native accounts killed after ${what}`);
      outcomes.push(`native accounts killed after ${what}: taken back, resumed, same result`);
    } finally {
      await destroyTarget(t);
    }
  }, 120_000);

  test("a torn last record is cut off and the run resumes", async () => {
    const t = await makeTarget(base, "torn");
    try {
      expect((await runApply(t, { env: { NEXUS_TEST_CRASH_AFTER_OP: "5" } })).signal).toBe("SIGKILL");
      appendFileSync(join(t.root, JOURNAL), 'NXJ1 99 0123456789abcdef {"t":"done","sta');
      await expectResumedLikeReference(t, "torn last record");
    } finally {
      await destroyTarget(t);
    }
  }, 120_000);
});

describe("apply refusing to resume", () => {
  /** A target killed after operation n, rebooted: its tree as the interruption left it. */
  async function interrupted(name: string, n: number): Promise<{ t: Target; tree: string[] }> {
    const t = await makeTarget(base, name);
    expect((await runApply(t, { env: { NEXUS_TEST_CRASH_AFTER_OP: String(n) } })).signal).toBe("SIGKILL");
    await reboot(t);
    return { t, tree: treeOf(t) };
  }

  test("another config: refused, naming it, and nothing changes", async () => {
    const { t, tree } = await interrupted("other-config", 6);
    try {
      const other = { ...crashConfig(t.loop), ignition: { version: "3.4.0" }, passwd: {} };
      const file = join(t.dir, "other.ign");
      writeFileSync(file, JSON.stringify(other));
      const r = await runApply(t, { config: file });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/Cannot resume the interrupted provisioning: the interrupted run recorded in ".*\.nexus-init-journal" applied another config \(sha256:/);
      expect(r.stderr).toMatch(/To recover: boot with the config of the interrupted run/);
      expect(treeOf(t)).toEqual(tree);
      // The same config still resumes.
      await expectResumedLikeReference(t, "the right config after a refused one");
    } finally {
      await destroyTarget(t);
    }
  }, 120_000);

  test("an accounts transaction begun natively, resumed with --accounts=tools: refused, naming both, and nothing changes", async () => {
    const t = await makeTarget(base, "other-way");
    try {
      expect((await runApply(t, { env: { NEXUS_TEST_CRASH_ACCOUNTS: "ops" } })).signal).toBe("SIGKILL");
      await reboot(t);
      // The stages before files resume (checking, changing nothing); the journal records that.
      const target = () => treeOf(t).filter((l) => !l.startsWith(`/${JOURNAL} `));
      const tree = target();
      const r = await runApply(t, { args: ["--accounts=tools"] });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/Cannot resume the interrupted provisioning: the interrupted run wrote the accounts with --accounts=native, this one would with --accounts=tools/);
      expect(target()).toEqual(tree);
      await expectResumedLikeReference(t, "the native way after a refused tools run");
    } finally {
      await destroyTarget(t);
    }
  }, 120_000);

  test("a damaged journal: refused, naming the record, and nothing changes", async () => {
    const { t } = await interrupted("damaged", 8);
    try {
      const path = join(t.root, JOURNAL);
      const lines = readFileSync(path, "utf8").split("\n");
      lines[2] = lines[2]!.replace(/"key":"/, '"key":"x');
      writeFileSync(path, lines.join("\n"));
      const tree = treeOf(t);
      const r = await runApply(t);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/the journal ".*" is damaged \(record 3 is damaged: its checksum does not match\)/);
      expect(treeOf(t)).toEqual(tree);
    } finally {
      await destroyTarget(t);
    }
  }, 120_000);

  test("a filesystem made again since: refused before anything changes", async () => {
    const { t, tree } = await interrupted("disk-changed", 5);
    try {
      // The interrupted run made ext4 on partition 1; someone makes it again.
      await spawnCollect(["partx", "--add", t.loop]);
      expect((await spawnCollect(["mkfs.ext4", "-q", "-F", "-L", "var", `${t.loop}p1`])).code).toBe(0);
      await spawnCollect(["partx", "--delete", t.loop]);
      const r = await runApply(t);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/the disks were changed after the interrupted run wrote them: the filesystem on ".*p1": its UUID is [0-9a-f-]+, the journal has [0-9a-f-]+/);
      expect(treeOf(t)).toEqual(tree);
    } finally {
      await destroyTarget(t);
    }
  }, 120_000);
});
