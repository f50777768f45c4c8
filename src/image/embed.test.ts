import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildConfigArchive, buildEmbedArea, EMBED_AREA_BYTES, EmbedAreaFullError, NotAnEmbedAreaError, readEmbedArea } from "./embed.ts";

describe("embed area", () => {
  const config = new TextEncoder().encode('{"ignition":{"version":"3.4.0"}}');

  test("`readEmbedArea()` gives back the config `buildEmbedArea()` put in, and null for none", () => {
    const area = buildEmbedArea(config);
    expect(area.length).toBe(EMBED_AREA_BYTES);
    expect(new TextDecoder().decode(readEmbedArea(area)!)).toBe('{"ignition":{"version":"3.4.0"}}');
    expect(readEmbedArea(buildEmbedArea(null))).toBeNull();
  });

  test("`buildEmbedArea()` is the same bytes for the same config (no clock, no random)", () => {
    expect(Buffer.from(buildEmbedArea(config)).equals(Buffer.from(buildEmbedArea(config)))).toBe(true);
  });

  test("`buildEmbedArea()` refuses a config larger than the area", () => {
    expect(() => buildEmbedArea(new Uint8Array(EMBED_AREA_BYTES))).toThrow(EmbedAreaFullError);
  });

  test("`readEmbedArea()` refuses bytes that are not an embed area", () => {
    expect(() => readEmbedArea(new Uint8Array(4096))).toThrow(NotAnEmbedAreaError);
  });

  test("the archive is a newc cpio that cpio(1) lists and unpacks to usr/lib/nexus/user.ign", () => {
    const dir = mkdtempSync(join(tmpdir(), "nexus-embed-test-"));
    try {
      writeFileSync(join(dir, "a.cpio"), buildConfigArchive(config));
      const listed = Bun.spawnSync(["cpio", "-t", "-F", join(dir, "a.cpio")], { stderr: "pipe" });
      expect(listed.stdout.toString().trim().split("\n")).toEqual(["usr", "usr/lib", "usr/lib/nexus", "usr/lib/nexus/user.ign"]);
      const out = join(dir, "x");
      Bun.spawnSync(["sh", "-c", `mkdir ${out} && cd ${out} && cpio -id --quiet -F ../a.cpio`]);
      expect(readFileSync(join(out, "usr/lib/nexus/user.ign"), "utf8")).toBe('{"ignition":{"version":"3.4.0"}}');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
