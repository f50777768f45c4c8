// Every program in examples/ type-checks, provisions, and — when it declares no block devices —
// applies to a directory root with the tools a first boot uses. The ones with disks are applied
// in the test VM (test/qemu/examples.qemu.ts); the demo is booted by the QEMU scenarios.
import { afterAll, describe, expect, test } from "bun:test";
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { typeCheck } from "../src/authoring/commands/check.ts";
import { provision } from "../src/authoring/provision.ts";
import { runCli, runNexus } from "./cli/run_cli.ts";

const REPO = join(import.meta.dir, "..");
const work = mkdtempSync(join(tmpdir(), "nexus-examples-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Entry programs (and program combinations) of examples/, with whether they use block devices. */
export const EXAMPLES: { name: string; programs: string[]; devices: boolean }[] = [
  { name: "single node", programs: ["examples/single-node/system.ts"], devices: false },
  { name: "fleet: web node", programs: ["examples/fleet/web-node.ts"], devices: false },
  { name: "fleet: base + web on the command line", programs: ["examples/fleet/base.ts", "examples/fleet/web.ts"], devices: false },
  { name: "fleet: database node", programs: ["examples/fleet/db-node.ts"], devices: true },
  { name: "disk layout (RAID1, LUKS)", programs: ["examples/disks/system.ts"], devices: true },
  { name: "demo", programs: ["examples/demo/system.ts"], devices: true },
  { name: "TPM2-bound /var", programs: ["examples/tpm-var/system.ts"], devices: true },
];

/** A root with what a target OS has for shadow's tools. */
function seededRoot(name: string): string {
  const root = join(work, name.replace(/\W+/g, "-"));
  mkdirSync(join(root, "etc"), { recursive: true });
  writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
  writeFileSync(join(root, "etc/group"), "root:x:0:\nwheel:x:10:\n");
  writeFileSync(join(root, "etc/shadow"), "root:*:19000:0:99999:7:::\n", { mode: 0o600 });
  writeFileSync(join(root, "etc/gshadow"), "root:*::\nwheel:*::\n", { mode: 0o600 });
  writeFileSync(join(root, "etc/login.defs"), "USERGROUPS_ENAB yes\n");
  return root;
}

describe("examples", () => {
  for (const ex of EXAMPLES) {
    test(`${ex.name}: type-checks, provisions${ex.devices ? "" : " and applies to a directory"}`, async () => {
      const programs = ex.programs.map((p) => join(REPO, p));
      const types = await typeCheck(programs, REPO);
      expect(types.lines).toEqual([]);
      const r = await provision({ programs });
      expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      expect(r.ok).toBe(true);
      if (!r.ok || ex.devices) return;
      const config = join(work, `${ex.name.replace(/\W+/g, "-")}.ign`);
      writeFileSync(config, r.json);
      const root = seededRoot(ex.name);
      const applied = await runCli(["apply", "--root", root, config]);
      expect(applied.stderr).not.toContain("CRIT");
      expect(applied.code).toBe(0);
    }, 60_000);
  }

  test("the single node's files, accounts and secret land as declared", async () => {
    // A program runs once per process: a run with other parameters is another `nexus` process.
    const config = join(work, "single.ign");
    const r = await runNexus(["provision", join(REPO, "examples/single-node/system.ts"), "--set", "hostname=web-7", "-o", config]);
    expect(r.code).toBe(0);
    const root = seededRoot("single-check");
    expect((await runCli(["apply", "--root", root, config])).code).toBe(0);
    expect(readFileSync(join(root, "etc/hostname"), "utf8")).toBe("web-7\n");
    expect(readlinkSync(join(root, "etc/localtime"))).toBe("/usr/share/zoneinfo/UTC");
    expect(readFileSync(join(root, "etc/web/app.env"), "utf8")).toBe(`WORKERS=4\nAPI_TOKEN=${readFileSync(join(REPO, "examples/single-node/secrets/api-token"), "utf8")}\n`);
    expect(lstatSync(join(root, "etc/web/app.env")).mode & 0o7777).toBe(0o640);
    expect(readFileSync(join(root, "etc/passwd"), "utf8")).toMatch(/^web:x:1800:1800::\/var\/lib\/web:\/usr\/sbin\/nologin$/m);
    expect(readFileSync(join(root, "home/admin/.ssh/authorized_keys.d/nexus"), "utf8").trim().split("\n")).toHaveLength(2);
  });

  test("the TPM2-bound /var in Butane and as a program is the same config", async () => {
    const program = await provision({ programs: [join(REPO, "examples/tpm-var/system.ts")] });
    const butane = await runCli(["translate", "--from-butane", join(REPO, "examples/tpm-var/var.bu")]);
    expect(butane.code, butane.stderr).toBe(0);
    expect(program.ok).toBe(true);
    if (!program.ok) return;
    const sorted = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(sorted) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sorted(x)])) : v;
    expect(sorted(JSON.parse(butane.stdout))).toEqual(sorted(program.config));
    expect(JSON.stringify(program.config.storage)).toContain('"clevis":{"tpm2":true}');
  });

  test("the fleet's roles replace the base's default motd and force the journald limit", async () => {
    const web = await provision({ programs: [join(REPO, "examples/fleet/web-node.ts")] });
    const db = await provision({ programs: [join(REPO, "examples/fleet/db-node.ts")] });
    expect(web.ok && db.ok).toBe(true);
    if (!web.ok || !db.ok) return;
    const motd = (c: Record<string, unknown>) => JSON.stringify((c.storage as { files: { path: string }[] }).files.find((f) => f.path === "/etc/motd"));
    expect(motd(web.config)).toContain("Web%20server");
    expect(motd(db.config)).toContain("Database%20server");
    expect(JSON.stringify(db.config.systemd)).toContain("SystemMaxUse=100M");
    expect(JSON.stringify(web.config.systemd)).toContain("SystemMaxUse=500M");
  });
});
