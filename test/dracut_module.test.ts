// The dracut module installs its programs by name (module-setup.sh), while the LiveCD initramfs
// takes them from src/system/commands.ts: a command added to the table must reach both, or the
// dracut flow fails at the first call ("Executable not found") only when booted.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { COMMANDS } from "../src/system/commands.ts";

const root = join(import.meta.dir, "..");
const moduleSetup = readFileSync(join(root, "dracut-module/30nexus/module-setup.sh"), "utf8");
const clevisList = readFileSync(join(root, "initramfs/clevis.list"), "utf8");

/** Every word the module's inst_multiple calls name (continued lines joined), plus clevis.list. */
function installedNames(): Set<string> {
  const joined = moduleSetup.replace(/\\\n/g, " ");
  const names = new Set<string>();
  for (const line of joined.split("\n")) {
    const m = /^\s*inst_multiple\s+(.*)$/.exec(line);
    if (!m) continue;
    for (const w of m[1]!.split(/\s+/)) if (w && !w.startsWith("-") && !w.startsWith("$")) names.add(w);
  }
  for (const line of clevisList.split("\n")) {
    const w = line.trim();
    if (w && !w.startsWith("#")) names.add(w.split(/\s+/)[0]!);
  }
  return names;
}

// Called only by `run` with several stages, which the LiveCD's /init uses; the dracut flow runs
// one unit per stage and brings the network up with its own units.
const LIVECD_ONLY = new Set<string>([COMMANDS.netUp, COMMANDS.mountRoot]);

describe("dracut module", () => {
  test("installs every command of src/system/commands.ts the stages can call", () => {
    const installed = installedNames();
    const missing = Object.values(COMMANDS).filter((c) => !LIVECD_ONLY.has(c) && !installed.has(c));
    expect(missing).toEqual([]);
  });
});
