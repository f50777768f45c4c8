import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "../config/types.ts";
import { realSystem, spawnCollect } from "../system/real.ts";
import { Journal, JournalRefusal, type JournalOptions } from "./journal.ts";
import { canonicalJson, encodeRecord, FIRST_SUM, parseJournal } from "./journal_format.ts";
import { BootHome, bootRootSpec, DirectoryHome, JOURNAL_NAME, type JournalHome } from "./journal_home.ts";
import { plannedOperations, runIdentity } from "./journal_ops.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "nexus-journal-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const config = (c: Omit<Config, "ignition">): Config => ({ ignition: { version: "3.6.0" }, ...c }) as Config;
const demo = config({
  storage: { files: [{ path: "/etc/motd", contents: { source: "data:,hi" } }], directories: [{ path: "/d" }] },
  passwd: { users: [{ name: "core", sshAuthorizedKeys: ["k"] }] },
});
const notes: string[] = [];

function options(home: JournalHome, c = demo, extra: Partial<JournalOptions> = {}): JournalOptions {
  return { home, identity: runIdentity(c, "1.2.3"), env: {}, now: () => Date.UTC(2025, 0, 1), note: (l) => notes.push(l), ...extra };
}

/** A home that counts its stores (each would be one fsync). */
class CountingHome extends DirectoryHome {
  stores = 0;
  override async store(text: Uint8Array, prefix: number, sync: boolean): Promise<boolean> {
    this.stores++;
    return super.store(text, prefix, sync);
  }
}

describe("journal format", () => {
  const records = () => {
    let prev = FIRST_SUM;
    const lines: string[] = [];
    const bodies = [
      { t: "begin", tool: "nexus-init", version: "1", config: "sha256:a", plan: "sha256:b", ops: 2, at: "x" },
      { t: "intent", stage: "files", key: "node:/a" },
      { t: "done", stage: "files", key: "node:/a", data: { sha256: "ff" } },
      { t: "done", stage: "files", key: "node:/b" },
    ] as const;
    bodies.forEach((b, i) => {
      const { line, record } = encodeRecord(prev, i + 1, b);
      lines.push(line);
      prev = record.sum;
    });
    return lines;
  };

  test("parseJournal() reads back what encodeRecord() wrote", () => {
    const p = parseJournal(Buffer.from(records().join("")));
    expect(p.ok && p.records.map((r) => [r.seq, r.t])).toEqual([[1, "begin"], [2, "intent"], [3, "done"], [4, "done"]]);
    expect(p.ok && p.torn).toBe(false);
  });

  test.each([
    ["a record cut short", (s: string) => s.slice(0, -20), 3],
    ["zeros after the last record", (s: string) => s + "\0".repeat(300), 4],
    ["a last record with a wrong sum", (s: string) => s.replace(/NXJ1 4 [0-9a-f]{16}/, "NXJ1 4 0000000000000000"), 3],
  ] as const)("parseJournal() cuts off a torn last record: %s", (_what, tear, kept) => {
    const text = tear(records().join(""));
    const p = parseJournal(Buffer.from(text));
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect(p.torn).toBe(true);
    expect(p.records.length).toBe(kept);
    expect(p.goodBytes).toBe(Buffer.byteLength(records().slice(0, kept).join("")));
  });

  test.each([
    ["a changed middle record", (l: string[]) => [l[0], l[1]!.replace("node:/a", "node:/c"), l[2], l[3]]],
    ["a dropped middle record", (l: string[]) => [l[0], l[2], l[3]]],
    ["records swapped", (l: string[]) => [l[0], l[2], l[1], l[3]]],
  ])("parseJournal() calls the journal damaged on %s", (_what, change) => {
    const p = parseJournal(Buffer.from(change(records()).join("")));
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.problem).toMatch(/^record 2 is damaged: /);
  });

  test("parseJournal() wants a begin record first", () => {
    const { line } = encodeRecord(FIRST_SUM, 1, { t: "complete", at: "x" });
    expect(parseJournal(Buffer.from(line))).toEqual({ ok: false, problem: "its first record does not begin a run" });
  });

  test("canonicalJson() does not depend on key order", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: null } })).toBe(canonicalJson({ a: { c: null, d: [1, { e: 3, f: 2 }] }, b: 1 }));
  });
});

describe("plannedOperations()", () => {
  test("plannedOperations() lists one key per operation the stages journal, from the config alone", () => {
    expect(plannedOperations(demo)).toEqual(["accounts", "ssh-keys:core", "node:/d", "node:/etc/motd"]);
    const disks = config({
      storage: {
        disks: [{ device: "/dev/vda", partitions: [{ number: 1 }] }],
        filesystems: [{ device: "/dev/vda1", format: "ext4", path: "/var" }, { device: "share", format: "virtiofs", path: "/srv" }],
        luks: [{ name: "data", device: "/dev/vdb" }],
      },
      systemd: { units: [{ name: "a.service", enabled: true, contents: "x", dropins: [{ name: "d.conf", contents: "y" }] }, { name: "b.service", enabled: false }] },
    });
    expect(plannedOperations(disks)).toEqual([
      "disk:/dev/vda",
      "luks:data",
      "fs:/dev/vda1",
      "mountpoint:/var",
      "mountpoint:/srv",
      "unit:write-dropin:/etc/systemd/system/a.service.d/d.conf",
      "unit:write-unit:/etc/systemd/system/a.service",
      "unit-presets",
      "unit-disable:b.service",
      "luks-key-file:data",
      "crypttab",
    ]);
  });
});

describe("Journal", () => {
  test("Journal.open() stores nothing until an operation is recorded", async () => {
    const home = new DirectoryHome(dir);
    const j = await Journal.open(options(home));
    expect(j.resuming).toBe(false);
    await j.flush();
    expect(existsSync(join(dir, JOURNAL_NAME))).toBe(false);
    await j.forStage("files").done("node:/d", { kind: "directory" });
    await j.flush();
    const p = parseJournal(readFileSync(join(dir, JOURNAL_NAME)));
    expect(p.ok && p.records.map((r) => r.t)).toEqual(["begin", "done"]);
  });

  test("Journal.open() resumes a journal of the same config and knows what it recorded", async () => {
    const first = await Journal.open(options(new DirectoryHome(dir)));
    await first.forStage("files").intent("node:/etc/motd", { decision: "create" });
    await first.forStage("files").done("node:/d", { mode: 0o755 });
    await first.flush();
    notes.length = 0;
    const again = await Journal.open(options(new DirectoryHome(dir)));
    expect(again.resuming).toBe(true);
    expect(again.recorded("node:/d")).toEqual({ done: true, result: { mode: 0o755 } });
    expect(again.recorded("node:/etc/motd")).toEqual({ done: false, intent: { decision: "create" } });
    expect(again.recorded("accounts")).toBeUndefined();
    expect(notes).toEqual([`journal: resuming the run interrupted after 1 operation(s) (1 begun but not finished), recorded in "${join(dir, JOURNAL_NAME)}"`]);
  });

  test("Journal.open() refuses a journal of another config, naming both", async () => {
    const first = await Journal.open(options(new DirectoryHome(dir)));
    await first.forStage("files").done("node:/d");
    await first.flush();
    const other = config({ storage: { directories: [{ path: "/d" }, { path: "/e" }] } });
    const err = await Journal.open(options(new DirectoryHome(dir), other)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JournalRefusal);
    expect((err as Error).message).toMatch(/^Cannot resume the interrupted provisioning: the interrupted run recorded in ".*" applied another config \(sha256:[0-9a-f]{16}…, this one is sha256:[0-9a-f]{16}…\)\. To recover: boot with the config of the interrupted run/);
  });

  test("Journal.open() refuses a journal planned differently (another nexus-init)", async () => {
    const first = await Journal.open(options(new DirectoryHome(dir)));
    await first.forStage("files").done("node:/d");
    await first.flush();
    const identity = { ...runIdentity(demo, "9.9.9"), plan: "sha256:other" };
    const err = await Journal.open(options(new DirectoryHome(dir), demo, { identity })).catch((e: unknown) => e);
    expect((err as JournalRefusal).reason).toMatch(/\(nexus-init 1\.2\.3\) planned other operations than this nexus-init 9\.9\.9 plans/);
  });

  test("Journal.open() starts afresh over a journal whose run completed", async () => {
    const first = await Journal.open(options(new DirectoryHome(dir)));
    await first.forStage("files").done("node:/d");
    await first.flush();
    const { line } = encodeRecord(parseJournal(readFileSync(join(dir, JOURNAL_NAME))).ok ? lastSum(dir) : FIRST_SUM, 3, { t: "complete", at: "x" });
    writeFileSync(join(dir, JOURNAL_NAME), readFileSync(join(dir, JOURNAL_NAME), "utf8") + line);
    const again = await Journal.open(options(new DirectoryHome(dir)));
    expect(again.resuming).toBe(false);
    expect(again.recorded("node:/d")).toBeUndefined();
  });

  test("Journal refuses to record an operation the config does not plan", async () => {
    const j = await Journal.open(options(new DirectoryHome(dir)));
    await expect(j.forStage("files").done("node:/elsewhere")).rejects.toThrow('Cannot journal operation "node:/elsewhere": it is not among the planned operations');
  });

  test("concurrent intents share stores (group commit), each durable when it returns", async () => {
    const c = config({ storage: { files: Array.from({ length: 40 }, (_, i) => ({ path: `/f${i}`, contents: { source: "data:,x" } })) } });
    const home = new CountingHome(dir);
    const j = await Journal.open(options(home, c));
    const files = j.forStage("files");
    await Promise.all(Array.from({ length: 40 }, (_, i) => files.intent(`node:/f${i}`)));
    expect(home.stores).toBeLessThan(10);
    const p = parseJournal(readFileSync(join(dir, JOURNAL_NAME)));
    expect(p.ok && p.records.length).toBe(41);
  });

  test("complete() removes the journal, its temp file and the run directory's copy", async () => {
    const copyDir = join(dir, "run");
    mkdirSync(copyDir);
    const j = await Journal.open(options(new DirectoryHome(dir), demo, { copy: new DirectoryHome(copyDir) }));
    await j.forStage("files").done("node:/d");
    await j.flush();
    expect(existsSync(join(copyDir, JOURNAL_NAME))).toBe(true);
    writeFileSync(join(dir, `${JOURNAL_NAME}.new`), "left over");
    await j.complete();
    expect([existsSync(join(dir, JOURNAL_NAME)), existsSync(join(dir, `${JOURNAL_NAME}.new`)), existsSync(join(copyDir, JOURNAL_NAME))]).toEqual([false, false, false]);
  });

  test("a later stage process of the same boot continues the run directory's copy, unchecked", async () => {
    const copyDir = join(dir, "run");
    mkdirSync(copyDir);
    const unavailable: JournalHome = { describe: () => '"nowhere"', read: async () => "unavailable", store: async () => false, remove: async () => {} };
    const first = await Journal.open(options(unavailable, demo, { copy: new DirectoryHome(copyDir) }));
    await first.forStage("files").done("node:/d");
    await first.flush();
    const second = await Journal.open(options(new DirectoryHome(dir), demo, { copy: new DirectoryHome(copyDir) }));
    expect(second.recorded("node:/d")?.done).toBe(true);
    // Once the home is reachable, the whole journal is stored there.
    await second.forStage("files").done("node:/etc/motd");
    await second.flush();
    const p = parseJournal(readFileSync(join(dir, JOURNAL_NAME)));
    expect(p.ok && p.records.map((r) => (r.t === "done" ? r.key : r.t))).toEqual(["begin", "node:/d", "node:/etc/motd"]);
  });

  test("a torn last record is replaced atomically at the next store", async () => {
    const j = await Journal.open(options(new DirectoryHome(dir)));
    await j.forStage("files").done("node:/d");
    await j.flush();
    writeFileSync(join(dir, JOURNAL_NAME), readFileSync(join(dir, JOURNAL_NAME), "utf8") + "NXJ1 3 00");
    const again = await Journal.open(options(new DirectoryHome(dir)));
    await again.forStage("files").done("node:/etc/motd");
    await again.flush();
    const p = parseJournal(readFileSync(join(dir, JOURNAL_NAME)));
    expect(p.ok && !p.torn && p.records.map((r) => r.t)).toEqual(["begin", "done", "resume", "done"]);
  });
});

function lastSum(d: string): string {
  const p = parseJournal(readFileSync(join(d, JOURNAL_NAME)));
  return p.ok ? p.records[p.records.length - 1]!.sum : FIRST_SUM;
}

describe("bootRootSpec()", () => {
  test.each([
    [[["nexus.root", "UUID=abc"], ["root", "LABEL=x"]], "UUID=abc"],
    [[["root", "LABEL=sysroot"]], "LABEL=sysroot"],
    [[["root", "live:CDLABEL=x"]], "LABEL=root"],
    [[], "LABEL=root"],
  ] as const)("bootRootSpec(%p) is %p", (args, want) => {
    expect(bootRootSpec(args as unknown as [string, string | null][])).toBe(want);
  });
});

describe("BootHome", () => {
  test("BootHome keeps the journal on the unmounted root filesystem, mounted only while it writes", async () => {
    const image = join(dir, "root.img");
    writeFileSync(image, "");
    expect((await spawnCollect(["truncate", "--size", "32M", image])).code).toBe(0);
    const label = `jt${process.pid % 100000}`;
    expect((await spawnCollect(["mkfs.ext4", "-q", "-L", label, image])).code).toBe(0);
    const loop = (await spawnCollect(["losetup", "--find", "--show", image])).stdout.trim();
    try {
      const sysroot = join(dir, "sysroot");
      mkdirSync(sysroot);
      const home = new BootHome(sysroot, loop, realSystem(), join(dir, "run/journal-home"));
      expect(home.describe()).toBe(`"/${JOURNAL_NAME}" on the root filesystem "${loop}"`);
      expect(await home.read()).toBeNull();
      expect(await home.store(Buffer.from("abc"), 0, true)).toBe(true);
      expect(Buffer.from((await home.read()) as Uint8Array).toString()).toBe("abc");
      expect((await spawnCollect(["findmnt", "-rn", "-S", loop])).stdout).toBe("");
      // Mounted as the target root (/sysroot): the same file, directly.
      expect((await spawnCollect(["mount", loop, sysroot])).code).toBe(0);
      try {
        expect(readFileSync(join(sysroot, JOURNAL_NAME), "utf8")).toBe("abc");
        expect(await home.store(Buffer.from("abcdef"), 3, true)).toBe(true);
        expect(readFileSync(join(sysroot, JOURNAL_NAME), "utf8")).toBe("abcdef");
      } finally {
        await spawnCollect(["umount", sysroot]);
      }
      // Mounted somewhere else (a running system): never mounted a second time.
      const elsewhere = join(dir, "elsewhere");
      mkdirSync(elsewhere);
      expect((await spawnCollect(["mount", loop, elsewhere])).code).toBe(0);
      try {
        expect(await home.read()).toBe("unavailable");
        expect(await home.store(Buffer.from("x"), 0, true)).toBe(false);
      } finally {
        await spawnCollect(["umount", elsewhere]);
      }
    } finally {
      await spawnCollect(["losetup", "--detach", loop]);
    }
  }, 30_000);
});
