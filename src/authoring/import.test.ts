import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { typeCheck } from "./commands/check.ts";
import { importConfig, INLINE_LIMIT, normalForm, textLiteral } from "./import.ts";
import { formatDiagnostic, provision } from "./provision.ts";

const dir = mkdtempSync(join(tmpdir(), "nexus-import-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const b64 = (s: string | Uint8Array) => Buffer.from(s).toString("base64");
const HASH = "sha512-" + "ab".repeat(64);

/** Imports a config (object: Ignition JSON), failing the test on errors. */
function imported(config: object | string, opts: { filesDir?: string } = {}) {
  const r = importConfig(typeof config === "string" ? config : JSON.stringify(config), { ...opts, name: "config.ign" });
  if (!r.ok) throw new Error(r.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("\n"));
  return r;
}

/** Writes an import (program and local files) into a fresh folder; returns the program's path. */
function written(r: ReturnType<typeof imported>): string {
  const d = join(dir, `p${n++}`);
  for (const f of r.files) {
    mkdirSync(dirname(join(d, f.path)), { recursive: true });
    writeFileSync(join(d, f.path), f.bytes);
  }
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, "system.ts"), r.program);
  return join(d, "system.ts");
}

/** Imports, provisions the program, and expects the same normal form as the input. */
async function expectRoundTrip(config: object | string, opts: { filesDir?: string; expected?: string } = {}): Promise<string> {
  const r = imported(config, opts);
  const result = await provision({ programs: [written(r)] });
  if (!result.ok) throw new Error(result.diagnostics.map((d) => formatDiagnostic(d)).join("\n") + "\n" + r.program);
  const want = normalForm(opts.expected ?? (typeof config === "string" ? config : JSON.stringify(config)));
  const got = normalForm(result.json);
  expect(got).toEqual(want);
  return r.program;
}

const header = (spec: string, builders: string) =>
  `// Imported by \`nexus import\` from config.ign (Ignition spec ${spec}).\n// \`nexus provision\` of this program gives the same config.\nimport { ${builders} } from "nexus";\n\n`;

describe("importConfig()", () => {
  test("`importConfig()` writes one declaration per entry, contents as text, modes in octal, owners as names or ids", async () => {
    const config = {
      ignition: { version: "3.3.0" },
      storage: {
        files: [
          { path: "/etc/motd", mode: 420, contents: { source: "data:,Welcome%0A" } },
          {
            path: "/etc/app/app.conf",
            mode: 416,
            overwrite: true,
            user: { name: "app" },
            group: { id: 1000 },
            contents: { source: `data:;base64,${b64('[main]\nport = 8080\nlog = "`${HOME}`"\n')}`, compression: "" },
          },
        ],
        directories: [{ path: "/var/lib/app", mode: 488, user: { name: "app" } }],
        links: [
          { path: "/etc/localtime", target: "/usr/share/zoneinfo/UTC" },
          { path: "/opt/hard", target: "/etc/motd", hard: true },
        ],
      },
      passwd: { groups: [{ name: "app", gid: 1000 }] },
    };
    const program = await expectRoundTrip(config);
    expect(program).toBe(
      header("3.3.0", "directory, file, group, link, system") +
        `export default system({ spec: "3.3.0" }, [
  file("/etc/motd", { mode: 0o644, contents: "Welcome\\n" }),
  file("/etc/app/app.conf", {
    overwrite: true,
    user: "app",
    group: 1000,
    mode: 0o640,
    contents: \`[main]
port = 8080
log = "\\\`\\\${HOME}\\\`"
\`,
  }),
  directory("/var/lib/app", { user: "app", mode: 0o750 }),
  link("/etc/localtime", { target: "/usr/share/zoneinfo/UTC" }),
  link("/opt/hard", { target: "/etc/motd", hard: true }),
  group("app", { gid: 1000 }),
]);
`,
    );
  });

  test("`importConfig()` writes units with their drop-ins, drop-ins of other units as dropin(), masks and users", async () => {
    const config = {
      ignition: { version: "3.0.0" },
      systemd: {
        units: [
          {
            name: "app.service",
            enabled: true,
            contents: "[Service]\nExecStart=/usr/bin/app\n\n[Install]\nWantedBy=multi-user.target\n",
            dropins: [{ name: "10-env.conf", contents: "[Service]\nEnvironment=PORT=8080\n" }],
          },
          { name: "docker.service", mask: true },
          { name: "sshd.service", dropins: [{ name: "10-port.conf", contents: "[Service]\nEnvironment=PORT=2222\n" }] },
        ],
      },
      passwd: { users: [{ name: "core", passwordHash: "$6$rounds=4096$salt$hash", sshAuthorizedKeys: ["ssh-ed25519 AAAAC3Nza core@example"], groups: ["wheel"] }] },
    };
    const program = await expectRoundTrip(config);
    expect(program).toBe(
      header("3.0.0", "dropin, system, unit, user") +
        `export default system({ spec: "3.0.0" }, [
  unit("app.service", {
    enabled: true,
    contents: \`[Service]
ExecStart=/usr/bin/app

[Install]
WantedBy=multi-user.target
\`,
    dropins: [
      {
        name: "10-env.conf",
        contents: \`[Service]
Environment=PORT=8080
\`,
      },
    ],
  }),
  unit("docker.service", { mask: true }),
  dropin("sshd.service", "10-port.conf", \`[Service]
Environment=PORT=2222
\`),
  user("core", {
    passwordHash: "$6$rounds=4096$salt$hash",
    sshAuthorizedKeys: ["ssh-ed25519 AAAAC3Nza core@example"],
    groups: ["wheel"],
  }),
]);
`,
    );
  });

  test("`importConfig()` keeps a password hash as a string in the program and never in its messages", () => {
    const r = importConfig(JSON.stringify({ ignition: { version: "3.4.0" }, passwd: { users: [{ name: "core", passwordHash: "$y$j9T$secretsalt$hashvalue", colour: "red" }] } }));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.program).toContain(`user("core", { passwordHash: "$y$j9T$secretsalt$hashvalue" })`);
    expect(JSON.stringify(r.issues)).not.toContain("secretsalt");
  });

  test("`importConfig()` drops unknown keys with a warning naming their path", async () => {
    const text = `{"ignition":{"version":"3.4.0"},\n"colour":"red",\n"storage":{"files":[{"path":"/a","size":3}]}}`;
    const r = imported(text);
    expect(r.issues.map((i) => [i.severity, i.path.join("."), i.line]).sort()).toEqual([
      ["warning", "colour", 2],
      ["warning", "storage.files.0.size", 3],
    ]);
    expect(r.program).not.toContain("colour");
    expect(r.program).not.toContain("size");
    await expectRoundTrip(text);
  });

  test("`importConfig()` writes binary and large contents as local files read with read()", async () => {
    const binary = Uint8Array.from([0, 1, 2, 255, 254, 10]);
    const large = "x".repeat(INLINE_LIMIT) + "\n";
    const config = {
      ignition: { version: "3.4.0" },
      storage: {
        files: [
          { path: "/usr/lib/blob.bin", contents: { source: `data:;base64,${b64(binary)}` } },
          { path: "/etc/large conf", contents: { source: `data:;base64,${b64(gzipSync(large))}`, compression: "gzip" } },
          { path: "/etc/log", contents: { source: "data:,a%0A" }, append: [{ source: `data:;base64,${b64(binary)}` }] },
        ],
      },
    };
    const r = imported(config);
    expect(r.files.map((f) => [f.path, f.bytes.length])).toEqual([
      ["files/usr_lib_blob.bin", 6],
      ["files/etc_large_conf", large.length],
      ["files/etc_log.append-1", 6],
    ]);
    expect(r.program).toContain(`file("/usr/lib/blob.bin", { contents: read("./files/usr_lib_blob.bin") })`);
    expect(r.program).toContain(`file("/etc/log", { contents: "a\\n", append: [read("./files/etc_log.append-1")] })`);
    await expectRoundTrip(config);
  });

  test("`importConfig()` keeps text exactly: a byte-order mark, CRLF line ends, control-free Unicode", async () => {
    const text = "\ufeff[main]\r\nname = café ☕\r\n";
    const config = { ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/a.ini", contents: { source: `data:;base64,${b64(text)}` } }] } };
    const program = await expectRoundTrip(config);
    expect(program).toContain("contents: `\ufeff[main]\\r\nname = café ☕\\r\n`");
  });

  test("`importConfig()` writes remote contents as remote(url, …) with hash, headers and compression", async () => {
    const config = {
      ignition: { version: "3.4.0" },
      storage: {
        files: [
          {
            path: "/opt/tool.tar",
            contents: { source: "https://example.com/tool.tar.gz", compression: "gzip", verification: { hash: HASH }, httpHeaders: [{ name: "Authorization", value: "Bearer x" }] },
          },
          { path: "/opt/plain", contents: { source: "http://example.com/plain" } },
        ],
      },
    };
    const program = await expectRoundTrip(config);
    expect(program).toContain(`contents: remote("https://example.com/tool.tar.gz", {`);
    expect(program).toContain(`compression: "gzip",`);
    expect(program).toContain(`verification: {\n        hash: "${HASH}",\n      },`);
    expect(program).toContain(`httpHeaders: [{ name: "Authorization", value: "Bearer x" }],`);
    expect(program).toContain(`file("/opt/plain", { contents: remote("http://example.com/plain") })`);
  });

  test("`importConfig()` keeps the hash of inline contents with { inline, verification }", async () => {
    const config = { ignition: { version: "3.1.0" }, storage: { files: [{ path: "/etc/checked", contents: { source: "data:,ok%0A", verification: { hash: HASH } } }] } };
    const program = await expectRoundTrip(config);
    expect(program).toContain(`contents: {\n      inline: "ok\\n",\n      verification: {\n        hash: "${HASH}",`);
  });

  test("`importConfig()` writes kernel arguments, merged and replacing configs, CAs, proxy and timeouts", async () => {
    const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const config = {
      ignition: {
        version: "3.3.0",
        config: { merge: [{ source: "https://example.com/extra.ign", verification: { hash: HASH } }], replace: { source: "tftp://10.0.0.1/base.ign" } },
        security: { tls: { certificateAuthorities: [{ source: `data:;base64,${b64(pem)}` }, { source: "https://example.com/ca.pem" }] } },
        proxy: { httpProxy: "http://proxy:3128", noProxy: ["localhost", "10.0.0.0/8"] },
        timeouts: { httpResponseHeaders: 20, httpTotal: 600 },
      },
      kernelArguments: { shouldExist: ["console=ttyS0", "quiet"], shouldNotExist: ["rhgb"] },
    };
    const program = await expectRoundTrip(config);
    expect(program).toContain(`mergeConfig("https://example.com/extra.ign", {`);
    expect(program).toContain(`replaceConfig("tftp://10.0.0.1/base.ign"),`);
    expect(program).toContain("certificateAuthority(`-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n`),");
    expect(program).toContain(`certificateAuthority(remote("https://example.com/ca.pem")),`);
    expect(program).toContain(`timeouts({ httpResponseHeaders: 20, httpTotal: 600 }),`);
    expect(program).toContain(`proxy({ httpProxy: "http://proxy:3128", noProxy: ["localhost", "10.0.0.0/8"] }),`);
    expect(program).toContain(`kernelArguments({ shouldExist: ["console=ttyS0", "quiet"], shouldNotExist: ["rhgb"] }),`);
  });

  test("`importConfig()` writes disks, RAID, LUKS with clevis and a key file, and filesystems", async () => {
    const config = {
      ignition: { version: "3.4.0" },
      storage: {
        disks: [{ device: "/dev/vdb", wipeTable: true, partitions: [{ label: "data", number: 1, sizeMiB: 0 }] }],
        raid: [{ name: "md0", level: "raid1", devices: ["/dev/vdc", "/dev/vdd"] }],
        luks: [{ name: "data", device: "/dev/disk/by-partlabel/data", keyFile: { source: "data:,key-bytes" }, clevis: { tpm2: true }, discard: true }],
        filesystems: [{ device: "/dev/mapper/data", format: "xfs", path: "/var/data", mountOptions: ["noatime"] }],
      },
    };
    const program = await expectRoundTrip(config);
    expect(program).toContain(`disk("/dev/vdb", { wipeTable: true, partitions: [{ label: "data", number: 1, sizeMiB: 0 }] }),`);
    expect(program).toContain(`raid("md0", { level: "raid1", devices: ["/dev/vdc", "/dev/vdd"] }),`);
    expect(program).toContain(`keyFile: "key-bytes",`);
    expect(program).toContain(`filesystem("/dev/mapper/data", { format: "xfs", path: "/var/data", mountOptions: ["noatime"] }),`);
  });

  test("`importConfig()` declares a filesystem's generated mount unit with withMountUnit, keeping the unit's drop-ins", async () => {
    const bu = `variant: fcos
version: 1.4.0
storage:
  filesystems:
    - device: /dev/disk/by-label/var
      path: /var
      format: xfs
      with_mount_unit: true
systemd:
  units:
    - name: var.mount
      dropins:
        - name: 10-after.conf
          contents: "[Unit]\\nAfter=network.target\\n"
    - name: app.service
      enabled: true
      contents: "[Service]\\nExecStart=/bin/true\\n[Install]\\nWantedBy=multi-user.target\\n"
`;
    const r = imported(bu);
    expect(r.format).toBe("butane");
    expect(r.program).toContain(`filesystem("/dev/disk/by-label/var", { format: "xfs", path: "/var", withMountUnit: true }),`);
    expect(r.program).toContain(`dropin("var.mount", "10-after.conf", \``);
    expect(r.program).not.toContain("# Generated by Butane");
    const { translateButane } = await import("../butane/index.ts");
    const butane = translateButane(bu);
    expect(butane.ok).toBe(true);
    await expectRoundTrip(bu, { expected: JSON.stringify(butane.ok && butane.ignition) });
  });

  test("`importConfig()` pins Butane's flatcar output as target flatcar at its spec", () => {
    const r = imported("variant: flatcar\nversion: 1.1.0\nstorage:\n  files:\n    - path: /etc/motd\n      contents:\n        inline: hi\n");
    expect(r.target).toBe("flatcar");
    expect(r.program).toContain(`export default system({ spec: "3.4.0", target: "flatcar" }, [`);
    expect(r.program).toContain("(Butane flatcar 1.1.0, Ignition spec 3.4.0)");
  });

  test("`importConfig()` reads Ignition JSON of spec 3.6.0-experimental as Flatcar's, and round-trips it", async () => {
    const config = { ignition: { version: "3.6.0-experimental" }, storage: { luks: [{ name: "root", device: "/dev/vda4", clevis: { tpm2: true } }] } };
    const r = imported(config);
    expect(r.program).toContain(`export default system({ spec: "3.6.0-experimental", target: "flatcar" }, [`);
    await expectRoundTrip(config);
  });

  test("`importConfig()` reads Butane local files from the files dir", async () => {
    const filesDir = join(dir, "butane-files");
    mkdirSync(filesDir, { recursive: true });
    writeFileSync(join(filesDir, "motd"), "from a local file\n");
    const bu = "variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /etc/motd\n      contents:\n        local: motd\n";
    const r = imported(bu, { filesDir });
    expect(r.program).toContain(`file("/etc/motd", { contents: "from a local file\\n" }),`);
    const missing = importConfig(bu);
    expect(missing.ok).toBe(false);
  });

  test("`importConfig()` refuses an invalid config with the validator's issues", () => {
    const r = importConfig(JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files: [{ path: "relative/path" }] } }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues[0]).toMatchObject({ severity: "error", path: ["storage", "files", 0, "path"] });
  });

  test("imported programs pass `nexus check`'s type check at their pinned specs", async () => {
    const programs = [
      { ignition: { version: "3.0.0" }, storage: { files: [{ path: "/etc/a", mode: 420, user: { id: 0 }, contents: { source: "data:,a" } }] } },
      { ignition: { version: "3.2.0" }, storage: { luks: [{ name: "l", device: "/dev/vda", clevis: { tang: [{ url: "http://t", thumbprint: "x" }], threshold: 1 } }] } },
      { ignition: { version: "3.1.0" }, storage: { files: [{ path: "/etc/b", contents: { source: "data:,b", verification: { hash: HASH } } }] } },
      {
        ignition: { version: "3.7.0-experimental", proxy: { httpsProxy: "https://p" } },
        kernelArguments: { shouldExist: ["a"] },
        storage: { filesystems: [{ device: "/dev/vdb", format: "none" }], files: [{ path: "/bin/x", mode: 0o4755, contents: { source: "https://e/x" } }] },
        systemd: { units: [{ name: "x.service", dropins: [{ name: "a.conf", contents: "[Unit]\n" }] }] },
      },
    ].map((c) => written(imported(c)));
    programs.push(written(imported("variant: flatcar\nversion: 1.1.0\npasswd:\n  users:\n    - name: core\n")));
    const checked = await typeCheck(programs, dir);
    expect(checked.lines).toEqual([]);
    expect(checked.ok).toBe(true);
  }, 60_000);
});

describe("textLiteral()", () => {
  test("`textLiteral()` uses quotes for one line and a template literal for several, escaping what a template would change", () => {
    expect(textLiteral("one line\n")).toBe('"one line\\n"');
    expect(textLiteral("a\nb")).toBe("`a\nb`");
    expect(textLiteral("`x` ${y} \\ \r\n\u0007\n")).toBe("`\\`x\\` \\${y} \\\\ \\r\n\\x07\n`");
    for (const s of ["a\nb`${c}\\\r\n\u0000", "\ud800 lone\n\n"]) expect(new Function(`return ${textLiteral(s)}`)()).toBe(s);
  });
});

describe("normalForm()", () => {
  test("`normalForm()` compares contents by their decoded bytes and ignores nulls and empty lists", () => {
    const a = { ignition: { version: "3.4.0" }, storage: { files: [{ path: "/a", contents: { source: `data:;base64,${b64(gzipSync("hi"))}`, compression: "gzip" } }], links: [] } };
    const b = { ignition: { version: "3.4.0" }, storage: { files: [{ path: "/a", mode: null, contents: { source: "data:,hi", compression: "" } }] }, passwd: null };
    const c = { ignition: { version: "3.4.0" }, storage: { files: [{ path: "/a", contents: { source: "data:,ho" } }] } };
    expect(normalForm(a)).toEqual(normalForm(b));
    expect(normalForm(a)).not.toEqual(normalForm(c));
  });
});
