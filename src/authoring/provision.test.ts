import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatDiagnostic, provision, type ProvisionResult } from "./provision.ts";

const dir = mkdtempSync(join(tmpdir(), "nexus-provision-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** Writes a program (and extra files) into a fresh folder; returns the program's path. */
function program(source: string, extra: Record<string, string> = {}): string {
  const d = join(dir, `p${n++}`);
  mkdirSync(d, { recursive: true });
  for (const [name, text] of Object.entries(extra)) {
    mkdirSync(join(d, name, ".."), { recursive: true });
    writeFileSync(join(d, name), text);
  }
  const file = join(d, "system.ts");
  writeFileSync(file, source);
  return file;
}

const printed = (r: ProvisionResult, cwd = dir) => r.diagnostics.map((d) => formatDiagnostic(d, cwd)).join("\n");
const lineOf = (source: string, needle: string) => source.split("\n").findIndex((l) => l.includes(needle)) + 1;

describe("provision()", () => {
  test("`provision()` emits Ignition JSON at the oldest spec that has every feature used", async () => {
    const src = `import { system, file, luks } from "nexus";
export default system([
  file("/etc/motd", { contents: "hi\\n", mode: 0o644 }),
  luks("data", { device: "/dev/vda4", discard: true }),
]);`;
    const r = await provision({ programs: [program(src)] });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.version).toBe("3.4.0");
    expect(r.how).toContain("oldest");
    expect(r.config).toEqual({
      ignition: { version: "3.4.0" },
      storage: {
        files: [{ path: "/etc/motd", mode: 0o644, contents: { source: "data:,hi%0A", compression: "" } }],
        luks: [{ name: "data", device: "/dev/vda4", discard: true }],
      },
    });
  });

  test("`provision()` gives the same bytes for the same program, whatever the working directory", async () => {
    const src = `import { system, file, read, unit } from "nexus";
export default system([file("/etc/a", { contents: read("./a.txt") }), unit("x.service", { contents: read("./x.service"), enabled: true })]);`;
    const p = program(src, { "a.txt": "local file\n".repeat(40), "x.service": "[Service]\nExecStart=/bin/true\n" });
    const first = await provision({ programs: [p] });
    const cwd = process.cwd();
    process.chdir(tmpdir());
    try {
      const second = await provision({ programs: [p] });
      expect(first.ok && second.ok).toBe(true);
      if (first.ok && second.ok) expect(second.json).toBe(first.json);
    } finally {
      process.chdir(cwd);
    }
  });

  test("`provision()` reports a feature the pinned spec lacks at the declaring line, naming the spec that has it", async () => {
    const src = `import { system, file, filesystem } from "nexus";
export default system({ spec: "3.2.0" }, [
  file("/etc/ok", {}),
  filesystem("/dev/vdb", { format: "none" as never }),
]);`;
    const r = await provision({ programs: [program(src)] });
    expect(r.ok).toBe(false);
    const text = printed(r);
    expect(text).toContain(`:${lineOf(src, "filesystem(")}:3: error: format "none" needs spec 3.3.0 or newer, but the output is spec 3.2.0 [storage.filesystems.0.format]`);
  });

  test("`provision()` maps every validator error to the line that declared it", async () => {
    const src = `import { system, file, directory, link } from "nexus";
export default system({ spec: "3.4.0" }, [
  directory("/etc/x/", {}),
  file("/etc/big", { mode: 0o10000 }),
  link("/opt", { target: "/var/opt" }),
  file("/opt/app.conf", { contents: "x" }),
]);`;
    const r = await provision({ programs: [program(src)] });
    expect(r.ok).toBe(false);
    const text = printed(r);
    expect(text).toMatch(new RegExp(`:${lineOf(src, "directory(")}:3: error: path must be in canonical form.*\\[storage.directories.0.path\\]`));
    expect(text).toMatch(new RegExp(`:${lineOf(src, "/etc/big")}:3: error: mode must be between 0 and 07777.*\\[storage.files.0.mode\\]`));
    // A check on the whole config names every line behind it: the file and the link.
    const through = r.diagnostics.find((d) => d.message.includes("link"))!;
    expect(through.origins.map((o) => o.line)).toEqual([lineOf(src, "/opt/app.conf"), lineOf(src, 'link("/opt"')]);
  });

  test("`provision()` names both lines of a conflict and how to resolve it", async () => {
    const frag = `import { file, fragment, type Spec } from "nexus";
export const motd = <V extends Spec>(text: string) => fragment<V>("motd", [file("/etc/motd", { contents: text })]);`;
    const src = `import { system, file } from "nexus";
import { motd } from "./motd.ts";
export default system([
  motd("one\\n"),
  file("/etc/motd", { contents: "two\\n" }),
]);`;
    const p = program(src, { "motd.ts": frag });
    const r = await provision({ programs: [p] });
    expect(r.ok).toBe(false);
    const text = printed(r, join(p, ".."));
    expect(text).toContain('error: file /etc/motd: "contents" is declared twice with different values');
    expect(text).toContain(`  at motd.ts:2:76 (via system.ts:${lineOf(src, "motd(")}:3)`);
    expect(text).toContain(`  at system.ts:${lineOf(src, 'file("/etc/motd"')}:3`);
    expect(text).toContain("hint: make one of them mkDefault(…)");
  });

  test("`provision()` lets mkForce beat a normal declaration and a normal one beat mkDefault, field by field", async () => {
    const src = `import { system, file, unit, mkDefault, mkForce } from "nexus";
export default system([
  mkDefault(file("/etc/motd", { contents: "default\\n", mode: 0o600 })),
  file("/etc/motd", { contents: "normal\\n" }),
  unit("a.service", { enabled: true }),
  mkForce(unit("a.service", { enabled: false })),
  unit("a.service", { dropins: [{ name: "10.conf", contents: "[Unit]\\n" }] }),
]);`;
    const r = await provision({ programs: [program(src)] });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.storage).toEqual({ files: [{ path: "/etc/motd", mode: 0o600, contents: { source: "data:,normal%0A", compression: "" } }] });
    expect(r.config.systemd).toEqual({ units: [{ name: "a.service", enabled: false, dropins: [{ name: "10.conf", contents: "[Unit]\n" }] }] });
  });

  test("`provision()` merges identical declarations and reports a file and a directory at one path", async () => {
    const src = `import { system, file, directory } from "nexus";
export default system([
  file("/etc/a", { contents: "same" }),
  file("/etc/a", { contents: "same" }),
  file("/srv/x", {}),
  directory("/srv/x", {}),
]);`;
    const r = await provision({ programs: [program(src)] });
    expect(r.ok).toBe(false);
    expect(printed(r)).toContain("path /srv/x is declared as different kinds");
    expect(r.diagnostics.filter((d) => d.severity === "error")).toHaveLength(1);
  });

  test("`provision()` combines several programs in order and refuses different pinned specs", async () => {
    const a = program(`import { file } from "nexus";\nexport default [file("/etc/a", { contents: "a" })];`);
    const b = program(`import { system, file } from "nexus";\nexport default system({ spec: "3.3.0" }, [file("/etc/b", { contents: "b" })]);`);
    const c = program(`import { system } from "nexus";\nexport default system({ spec: "3.5.0" }, []);`);
    const ok = await provision({ programs: [a, b] });
    expect(ok.ok && ok.version).toBe("3.3.0");
    if (ok.ok) expect((ok.config.storage as { files: { path: string }[] }).files.map((f) => f.path)).toEqual(["/etc/a", "/etc/b"]);
    const bad = await provision({ programs: [b, c] });
    expect(bad.ok).toBe(false);
    expect(printed(bad)).toContain("The programs ask for different outputs");
    const forced = await provision({ programs: [b, c], spec: "3.5.0" });
    expect(forced.ok && forced.version).toBe("3.5.0");
  });

  test("`provision()` never prints a secret's bytes, even when a rule quotes the value", async () => {
    process.env.NEXUS_TEST_SECRET = "hunter2-very-secret";
    const src = `import { system, file, text, secret, replaceConfig } from "nexus";
const token = secret("token", { env: "NEXUS_TEST_SECRET" });
export default system([
  file("/etc/token", { contents: text\`TOKEN=\${token}\`, mode: 0o600 }),
  file("etc/relative", { contents: token }),
]);`;
    const r = await provision({ programs: [program(src)] });
    expect(r.ok).toBe(false);
    const text = printed(r);
    expect(text).not.toContain("hunter2");
    expect(text).toContain("path must be absolute");
  });

  test("`provision()` uses --set values typed by the parameter's default, and rejects unknown ones", async () => {
    const src = `import { system, file, param } from "nexus";
const replicas = param("replicas", 3);
const name = param("name", "node");
export default system([file("/etc/conf", { contents: \`\${name} \${replicas * 2}\\n\` })]);`;
    const p = program(src);
    const r = await provision({ programs: [p], params: new Map([["replicas", "5"]]) });
    expect(r.ok && JSON.stringify(r.config)).toContain("node%2010%0A");
    const bad = await provision({ programs: [program(src)], params: new Map([["replica", "5"]]) });
    expect(printed(bad)).toContain('Unknown parameter "replica" in --set: the programs declare replicas, name');
    const wrongType = await provision({ programs: [program(src)], params: new Map([["replicas", "many"]]) });
    expect(printed(wrongType)).toContain('parameter "replicas" is a number');
  });

  test("`provision()` warns about a decimal mode that reads like octal, at its line", async () => {
    const src = `import { system, file } from "nexus";\nexport default system([\n  file("/etc/a", { mode: 644 }),\n]);`;
    const r = await provision({ programs: [program(src)], spec: "3.6.0" });
    expect(printed(r)).toContain(":3:26: warning: mode 644 is the decimal number 644 (0o1204); write 0o644 for the octal mode");
  });

  test("`provision()` for flatcar emits 3.4.0 by default and 3.6.0-experimental for clevis", async () => {
    const plain = await provision({ programs: [program(`import { system, file } from "nexus";\nexport default system([file("/etc/a", {})]);`)], target: "flatcar" });
    expect(plain.ok && plain.version).toBe("3.4.0");
    const clevis = `import { system, luks } from "nexus";\nexport default system([luks("d", { device: "/dev/vda4", clevis: { tpm2: true } })]);`;
    const r = await provision({ programs: [program(clevis)], target: "flatcar", spec: "3.4.0" });
    expect(printed(r)).toContain("Flatcar reads clevis only from spec 3.6.0-experimental");
    const exp = await provision({ programs: [program(clevis)], target: "flatcar", spec: "3.6.0-experimental" });
    expect(exp.ok && (exp.config.ignition as { version: string }).version).toBe("3.6.0-experimental");
    const cex = await provision({ programs: [program(`import { system, luks } from "nexus";\nexport default system([luks("d", { device: "/dev/vda4", cex: { enabled: true } })]);`)], target: "flatcar" });
    expect(printed(cex)).toContain("Flatcar does not support cex");
    const unknown = await provision({ programs: [program(`import { system } from "nexus";\nexport default system([]);`)], target: "flatcar", spec: "3.5.0" });
    expect(printed(unknown)).toContain('Cannot emit spec "3.5.0" for target flatcar');
  });

  test("`provision()` explains a program without a default export and one that throws", async () => {
    const none = await provision({ programs: [program(`import { file } from "nexus";\nexport const x = file("/a", {});`)] });
    expect(printed(none)).toContain("it has no default export");
    const missing = await provision({ programs: [program(`import { system, file, read } from "nexus";\nexport default system([file("/a", { contents: read("./nope.txt") })]);`)] });
    expect(printed(missing)).toMatch(/Cannot read file "\.\/nope\.txt" .*: no such file, at .*system\.ts:2:47/);
  });
});

test("`lintModes()` ignores mode-like text in strings and comments", async () => {
  const { codeOnly } = await import("./lint.ts");
  expect(codeOnly('file("/a", { contents: "mode: 644" }) // mode: 755\n/* mode: 600 */ mode: 644')).toBe('file("  ", { contents: "         " })             \n                mode: 644');
});
