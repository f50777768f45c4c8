import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StageContext } from "../executor/stage.ts";
import { emptyState } from "../executor/state.ts";
import { Logger } from "../log/logger.ts";
import { createFetcher } from "../resource/index.ts";
import { fakeSystem } from "../system/fake.ts";
import { Root } from "../system/root.ts";
import { writeLuksTargetFiles } from "./files_luks.ts";

const work = mkdtempSync(join(tmpdir(), "nexus-files-luks-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function context(root: string): StageContext {
  return {
    config: { ignition: { version: "3.4.0" } },
    root,
    system: fakeSystem(),
    log: new Logger(() => {}),
    fetcher: createFetcher({ offline: true }),
    platform: "file",
    state: emptyState(),
  };
}

describe("LUKS target files", () => {
  test("`writeLuksTargetFiles()` writes key files and appends crypttab lines, then forgets the keys", async () => {
    const root = join(work, "root-luks");
    mkdirSync(join(root, "etc"), { recursive: true });
    writeFileSync(join(root, "etc/crypttab"), "old UUID=1 none luks\n");
    const ctx = context(root);
    ctx.state.luks = [
      { name: "data", crypttab: "data UUID=2 /etc/luks/data luks\n", key: Buffer.from("secret-key").toString("base64") },
      { name: "tpm", crypttab: "tpm UUID=3 none luks\n" },
    ];
    await writeLuksTargetFiles(ctx, Root.open(root));
    expect(readFileSync(join(root, "etc/crypttab"), "utf8")).toBe("old UUID=1 none luks\ndata UUID=2 /etc/luks/data luks\ntpm UUID=3 none luks\n");
    expect(readFileSync(join(root, "etc/luks/data"), "utf8")).toBe("secret-key");
    expect(statSync(join(root, "etc/luks")).mode & 0o7777).toBe(0o700);
    expect(statSync(join(root, "etc/luks/data")).mode & 0o7777).toBe(0o600);
    expect(statSync(join(root, "etc/crypttab")).mode & 0o7777).toBe(0o600);
    expect(JSON.stringify(ctx.state)).not.toContain(Buffer.from("secret-key").toString("base64"));
  });

  test("`writeLuksTargetFiles()` refuses to overwrite an existing key file", async () => {
    const root = join(work, "root-luks2");
    mkdirSync(join(root, "etc/luks"), { recursive: true });
    writeFileSync(join(root, "etc/luks/data"), "other");
    const ctx = context(root);
    ctx.state.luks = [{ name: "data", crypttab: "data UUID=2 /etc/luks/data luks\n", key: "a2V5" }];
    await expect(writeLuksTargetFiles(ctx, Root.open(root))).rejects.toThrow("a file exists there already");
    expect(readFileSync(join(root, "etc/luks/data"), "utf8")).toBe("other");
  });
});
