// The library's types reject at compile time what they can: every `@ts-expect-error` below must
// fire (an unused one is itself an error), checked with the checker `nexus check` embeds.
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { typeCheck } from "./commands/check.ts";

const REPO = join(import.meta.dir, "../..");

beforeAll(() => {
  // `make build` makes the declarations; a bare `bun test` makes them here.
  if (existsSync(join(REPO, "build/nexus-assets/types.json"))) return;
  const r = Bun.spawnSync([process.execPath, "run", join(REPO, "scripts/build-nexus-assets.ts")], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
});

async function check(source: string): Promise<{ ok: boolean; lines: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), "nexus-types-test-"));
  try {
    writeFileSync(join(dir, "system.ts"), source);
    return await typeCheck([join(dir, "system.ts")], dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const EXPECTATIONS = `import { system, file, directory, link, luks, filesystem, kernelArguments, proxy, raid, user, unit, mkDefault, fragment, type Spec } from "nexus";

const motd = <V extends Spec>() => fragment<V>("motd", [file("/etc/motd", { contents: "hi" })]);
const plain = [file("/etc/issue", { contents: "x" })];

export const ok = system({ spec: "3.6.0" }, [
  motd(),
  plain,
  luks("data", { device: "/dev/vda4", discard: true, clevis: { tpm2: true, threshold: 1 } }),
  filesystem("/dev/vdb", { format: "none" }),
  kernelArguments({ shouldExist: ["quiet"] }),
  file("/etc/a", { mode: 0o4755, user: "core", group: { id: 10 } }),
  mkDefault(unit("a.service", { enabled: true })),
]);

export const gated = system({ spec: "3.2.0" }, [
  // @ts-expect-error discard needs spec 3.4.0
  luks("data", { device: "/dev/vda4", discard: true }),
  // @ts-expect-error format "none" needs spec 3.3.0
  filesystem("/dev/vdb", { format: "none" }),
  // @ts-expect-error kernel arguments need spec 3.3.0
  kernelArguments({ shouldExist: ["quiet"] }),
]);

export const older = system({ spec: "3.0.0" }, [
  // @ts-expect-error LUKS needs spec 3.2.0
  luks("data", { device: "/dev/vda4" }),
  // @ts-expect-error a proxy needs spec 3.1.0
  proxy({ httpProxy: "http://proxy:3128" }),
]);

export const experimental = system({ spec: "3.6.0" }, [
  // @ts-expect-error virtiofs needs 3.7.0-experimental
  filesystem("myfs", { format: "virtiofs" }),
]);

export const shapes = system([
  // @ts-expect-error a relative path
  file("etc/motd", {}),
  // @ts-expect-error an unknown field
  file("/etc/motd", { contnts: "x" }),
  // @ts-expect-error a mode that is not a number
  file("/etc/motd", { mode: "0644" }),
  // @ts-expect-error an owner with both id and name
  directory("/srv", { user: { id: 1, name: "core" } }),
  // @ts-expect-error a link needs a target
  link("/etc/l", {}),
  // @ts-expect-error an unknown filesystem format
  filesystem("/dev/vdc", { format: "ntfs" }),
  // @ts-expect-error an unknown RAID level
  raid("md0", { level: "raid7", devices: ["/dev/vda"] }),
  // @ts-expect-error a custom clevis pin excludes tpm2
  luks("d", { device: "/dev/vdd", clevis: { tpm2: true, custom: { pin: "tang", config: "{}" } } }),
  // @ts-expect-error uid is a number
  user("core", { uid: "1000" }),
]);

// @ts-expect-error an unknown spec version
export const future = system({ spec: "3.8.0" }, []);
`;

describe("the library's types", () => {
  test("they reject relative paths, unknown fields, wrong kinds, exclusive options and fields the pinned spec lacks", async () => {
    const r = await check(EXPECTATIONS);
    expect(r.lines).toEqual([]);
    expect(r.ok).toBe(true);
  });

  test("a field the pinned spec lacks says which spec it needs", async () => {
    const r = await check(`import { system, luks } from "nexus";\nexport default system({ spec: "3.2.0" }, [luks("d", { device: "/dev/vda", discard: true })]);\n`);
    expect(r.ok).toBe(false);
    expect(r.lines.join("\n")).toContain(`system.ts:2:75: error TS2322: Type 'boolean' is not assignable to type 'NeedsSpec<"3.4.0">'`);
  });
});
