import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "../config/types.ts";
import { Logger } from "../log/logger.ts";
import { runPathsIn } from "../executor/paths.ts";
import type { StageContext } from "../executor/stage.ts";
import { emptyState } from "../executor/state.ts";
import { createFetcher } from "../resource/index.ts";
import { fakeSystem } from "../system/fake.ts";
import { readConfigCache } from "../acquire/cache.ts";
import { configNeedsNet } from "../acquire/neednet.ts";
import { fetchStage } from "./fetch.ts";
import { fetchOfflineStage } from "./fetch_offline.ts";

const top = mkdtempSync(join(tmpdir(), "nexus-fetch-stage-"));
afterAll(() => rmSync(top, { recursive: true, force: true }));
let n = 0;
let work: string;
beforeEach(() => {
  work = join(top, String(++n));
  mkdirSync(join(work, "root"), { recursive: true });
});

const dataUrl = (s: string) => `data:,${encodeURIComponent(s)}`;
const fileConfig = (path: string, contents: string) =>
  JSON.stringify({ ignition: { version: "3.0.0" }, storage: { files: [{ path, contents: { source: dataUrl(contents) } }] } });
const sha512 = (s: string) => `sha512-${new Bun.CryptoHasher("sha512").update(s).digest("hex")}`;

const served = new Map<string, string>();
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(req) {
    const body = served.get(new URL(req.url).pathname);
    return body === undefined ? new Response("", { status: 404 }) : new Response(body);
  },
});
afterAll(() => server.stop(true));
const url = (p: string) => `http://127.0.0.1:${server.port}${p}`;

/** A stage context for the file platform reading `config`, with system dirs under work. */
function context(config: string, extraEnv: Record<string, string> = {}): StageContext {
  writeFileSync(join(work, "config.ign"), config);
  const env = {
    IGNITION_CONFIG_FILE: join(work, "config.ign"),
    IGNITION_SYSTEM_CONFIG_DIR: join(work, "system"),
    IGNITION_SYSTEM_RUNTIME_CONFIG_DIR: join(work, "system-runtime"),
    IGNITION_SYSTEM_LOCAL_CONFIG_DIR: join(work, "system-local"),
    IGNITION_KERNEL_CMDLINE_PATH: join(work, "cmdline"),
    ...extraEnv,
  };
  return {
    config: { ignition: { version: "3.6.0" } } as Config,
    root: join(work, "root"),
    system: fakeSystem({ env }),
    log: new Logger(() => {}),
    fetcher: createFetcher({ retry: { initialMs: 5, maxMs: 20 } }),
    platform: "file",
    state: emptyState(),
    paths: runPathsIn(join(work, "run")),
  };
}

const paths = (ctx: StageContext) => ctx.paths!;
const files = (c: Config | null) => (c?.storage?.files ?? []).map((f) => `${f.path}=${decodeURIComponent(f.contents?.source?.slice(6) ?? "")}`).sort();

describe("fetch stage", () => {
  test("`fetchStage.run()` caches the user config when it references nothing", async () => {
    const ctx = context(fileConfig("/a", "A"));
    await fetchStage.run(ctx);
    expect(files(readConfigCache(paths(ctx).config))).toEqual(["/a=A"]);
    expect(files(ctx.config)).toEqual(["/a=A"]);
  });

  test("`fetchStage.run()` replaces the config with ignition.config.replace, verified by hash", async () => {
    const replacement = fileConfig("/replaced", "R");
    served.set("/replace.ign", replacement);
    const ctx = context(
      JSON.stringify({
        ignition: { version: "3.0.0", config: { replace: { source: url("/replace.ign"), verification: { hash: sha512(replacement) } } } },
        storage: { files: [{ path: "/lost", contents: { source: "data:,x" } }] },
      }),
    );
    await fetchStage.run(ctx);
    expect(files(readConfigCache(paths(ctx).config))).toEqual(["/replaced=R"]);
  });

  test("`fetchStage.run()` drops the special mode bits of a merged child config older than 3.6.0 only", async () => {
    served.set("/old.ign", JSON.stringify({ ignition: { version: "3.3.0" }, storage: { directories: [{ path: "/old", mode: 0o1777 }], files: [{ path: "/old-tool", mode: 0o4755 }] } }));
    const ctx = context(JSON.stringify({ ignition: { version: "3.6.0", config: { merge: [{ source: url("/old.ign") }] } }, storage: { directories: [{ path: "/new", mode: 0o1777 }] } }));
    await fetchStage.run(ctx);
    const storage = readConfigCache(paths(ctx).config)?.storage;
    expect(storage?.directories?.map((d) => [d.path, d.mode])).toEqual([["/new", 0o1777], ["/old", 0o777]]);
    expect(storage?.files?.map((f) => [f.path, f.mode])).toEqual([["/old-tool", 0o755]]);
  });

  test("`fetchStage.run()` merges ignition.config.merge entries in order, recursively", async () => {
    served.set("/m1.ign", JSON.stringify({ ignition: { version: "3.0.0", config: { merge: [{ source: url("/m2.ign") }] } }, storage: { files: [{ path: "/m1", contents: { source: "data:,one" } }] } }));
    served.set("/m2.ign", fileConfig("/m2", "two"));
    const ctx = context(
      JSON.stringify({ ignition: { version: "3.1.0", config: { merge: [{ source: url("/m1.ign") }] } }, storage: { files: [{ path: "/parent", contents: { source: "data:,p" } }] } }),
    );
    await fetchStage.run(ctx);
    expect(files(readConfigCache(paths(ctx).config))).toEqual(["/m1=one", "/m2=two", "/parent=p"]);
    expect((ctx.state.fetched as { referenced: boolean }[]).filter((f) => f.referenced)).toHaveLength(2);
  });

  const failures: [string, () => string, RegExp][] = [
    ["a referenced config fails its hash", () => {
      served.set("/h.ign", fileConfig("/h", "h"));
      return JSON.stringify({ ignition: { version: "3.0.0", config: { merge: [{ source: url("/h.ign"), verification: { hash: sha512("other") } }] } } });
    }, /hash mismatch/],
    ["a referenced config is missing (404)", () => JSON.stringify({ ignition: { version: "3.0.0", config: { replace: { source: url("/none.ign") } } } }), /HTTP 404/],
    ["a referenced config is not valid", () => {
      served.set("/bad.ign", "{ not json");
      return JSON.stringify({ ignition: { version: "3.0.0", config: { merge: [{ source: url("/bad.ign") }] } } });
    }, /Cannot parse referenced config/],
    ["the user config is not valid", () => '{"ignition": {"version": "9.9.9"}}', /Cannot parse user config/],
  ];
  for (const [what, make, err] of failures) {
    test(`\`fetchStage.run()\` fails and caches nothing when ${what}`, async () => {
      const ctx = context(make());
      await expect(fetchStage.run(ctx)).rejects.toThrow(err);
      expect(existsSync(paths(ctx).config)).toBe(false);
    });
  }

  test("`fetchStage.run()` merges the user config over base.d and base.platform.d fragments", async () => {
    const ctx = context(fileConfig("/shared", "user"));
    for (const [p, c] of [
      ["system/base.d/10-a.ign", fileConfig("/shared", "base")],
      ["system/base.d/20-b.ign", fileConfig("/base-only", "b")],
      ["system/base.platform.d/file/10-p.ign", fileConfig("/platform", "p")],
    ]) {
      mkdirSync(join(work, p!, ".."), { recursive: true });
      writeFileSync(join(work, p!), c!);
    }
    await fetchStage.run(ctx);
    expect(files(readConfigCache(paths(ctx).config))).toEqual(["/base-only=b", "/platform=p", "/shared=user"]);
  });

  test("`fetchStage.run()` prefers a config URL on the kernel command line over the platform", async () => {
    const ctx = context(fileConfig("/from-file", "f"));
    writeFileSync(join(work, "cmdline"), `quiet ignition.config.url=${dataUrl(fileConfig("/from-cmdline", "c"))}\n`);
    await fetchStage.run(ctx);
    expect(files(readConfigCache(paths(ctx).config))).toEqual(["/from-cmdline=c"]);
  });

  test("`fetchStage.run()` caches an empty config when the platform has none", async () => {
    const ctx = context("");
    ctx.platform = "metal";
    await fetchStage.run(ctx);
    expect(readConfigCache(paths(ctx).config)?.ignition?.version).toBeDefined();
  });

  test("`fetchStage.run()` inlines certificate authorities as data URLs in the cache", async () => {
    const pem = readFileSync(join(import.meta.dir, "../../../shared/conformance/ignition/fixtures/tls/public-key.pem"), "utf8");
    served.set("/ca.pem", pem);
    const ctx = context(JSON.stringify({ ignition: { version: "3.0.0", security: { tls: { certificateAuthorities: [{ source: url("/ca.pem") }] } } } }));
    await fetchStage.run(ctx);
    const ca = readConfigCache(paths(ctx).config)?.ignition?.security?.tls?.certificateAuthorities?.[0]?.source ?? "";
    expect(ca.startsWith("data:")).toBe(true);
    expect(configNeedsNet(readConfigCache(paths(ctx).config)!)).toBe(false);
  });

  test("`fetchStage.run()` uses an existing cache without fetching again", async () => {
    const ctx = context(fileConfig("/first", "1"));
    await fetchStage.run(ctx);
    writeFileSync(join(work, "config.ign"), fileConfig("/second", "2"));
    const again = { ...ctx, state: emptyState() };
    await fetchStage.run(again);
    expect(files(again.config)).toEqual(["/first=1"]);
  });
});

describe("fetch-offline stage", () => {
  test("`fetchOfflineStage.run()` caches a config that needs no network and sets no flag", async () => {
    const ctx = context(fileConfig("/a", "A"));
    await fetchOfflineStage.run(ctx);
    expect(files(readConfigCache(paths(ctx).config))).toEqual(["/a=A"]);
    expect(existsSync(join(paths(ctx).runDir, "neednet"))).toBe(false);
    expect(ctx.state.neednet).toBe(false);
  });

  test("`fetchOfflineStage.run()` flags neednet and caches nothing when a referenced config is remote", async () => {
    served.set("/r.ign", fileConfig("/remote", "r"));
    const ctx = context(JSON.stringify({ ignition: { version: "3.0.0", config: { merge: [{ source: url("/r.ign") }] } } }));
    await fetchOfflineStage.run(ctx);
    expect(existsSync(join(paths(ctx).runDir, "neednet"))).toBe(true);
    expect(ctx.state.neednet).toBe(true);
    expect(existsSync(paths(ctx).config)).toBe(false);
    // The fetch stage then does the networked part.
    await fetchStage.run({ ...ctx, state: emptyState() });
    expect(files(readConfigCache(paths(ctx).config))).toEqual(["/remote=r"]);
  });

  test("`fetchOfflineStage.run()` caches the config but flags neednet when a file is remote", async () => {
    const ctx = context(JSON.stringify({ ignition: { version: "3.0.0" }, storage: { files: [{ path: "/f", contents: { source: url("/x") } }] } }));
    await fetchOfflineStage.run(ctx);
    expect(existsSync(paths(ctx).config)).toBe(true);
    expect(existsSync(join(paths(ctx).runDir, "neednet"))).toBe(true);
  });

  test("`fetchOfflineStage.run()` flags neednet when the platform itself needs the network", async () => {
    const ctx = context("");
    ctx.platform = "gcp";
    await fetchOfflineStage.run(ctx);
    expect(ctx.state.neednet).toBe(true);
  });

  test("`fetchOfflineStage.run()` still fails on errors that are not about the network", async () => {
    const ctx = context("{");
    await expect(fetchOfflineStage.run(ctx)).rejects.toThrow(/Cannot acquire the config/);
    expect(ctx.state.neednet).toBe(false);
  });
});
