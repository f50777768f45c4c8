import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, lstatSync, lutimesSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../test/cli/run_cli.ts";

let dir: string;
let root: string;
let configFile: string;
const HASH = "$6$rounds=4096$saltsalt$2JfZVb0lSq7UXSHzGPNvzy1WsMJC1dZ7dB7bxRZ1Jk7Hd4q1hmhKTdm7A2qvb8vV1ZrDr8v1tq0u0kWi5lEoW.";
const SECRET = "token=s3cr3t-value";

const config = {
  ignition: { version: "3.4.0" },
  storage: {
    directories: [{ path: "/etc/app", mode: 0o750, group: { name: "app" } }],
    files: [
      { path: "/etc/app/secret.conf", mode: 0o600, user: { name: "svc" }, contents: { source: `data:,${encodeURIComponent(SECRET)}` } },
      { path: "/etc/motd", mode: 0o644, contents: { source: "data:,hello%0A" } },
      { path: "/etc/profile", append: [{ source: "data:,export%20A%3D1%0A" }] },
    ],
    links: [{ path: "/etc/app/current", target: "/etc/app/secret.conf" }],
  },
  passwd: {
    groups: [{ name: "app", gid: 3000 }],
    users: [{ name: "svc", uid: 3001, primaryGroup: "app", shell: "/bin/sh", passwordHash: HASH, groups: ["app"], sshAuthorizedKeys: ["ssh-ed25519 AAAAverify svc@x"] }],
  },
  systemd: {
    units: [
      { name: "app.service", enabled: true, contents: "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n", dropins: [{ name: "10-env.conf", contents: "[Service]\nEnvironment=A=1\n" }] },
      { name: "debug-shell.service", mask: true },
    ],
  },
};

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "nexus-verify-"));
  root = join(dir, "root");
  for (const d of ["etc", "home", "usr/bin"]) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
  writeFileSync(join(root, "etc/group"), "root:x:0:\n");
  writeFileSync(join(root, "etc/shadow"), "root:*:19000:0:99999:7:::\n", { mode: 0o600 });
  writeFileSync(join(root, "etc/gshadow"), "root:*::\n", { mode: 0o600 });
  writeFileSync(join(root, "etc/login.defs"), "USERGROUPS_ENAB yes\n");
  writeFileSync(join(root, "etc/profile"), "# shipped\n");
  configFile = join(dir, "config.ign");
  writeFileSync(configFile, JSON.stringify(config));
  const r = await runCli(["apply", "--root", root, configFile]);
  expect(r.code, r.stderr).toBe(0);
}, 60_000);
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Every path below d (listed once, before any time is aged: listing reads directories). */
function pathsBelow(d: string): string[] {
  return readdirSync(d).flatMap((name) => {
    const p = join(d, name);
    return lstatSync(p).isDirectory() ? [p, ...pathsBelow(p)] : [p];
  });
}

/** Times, mode and owner of each path (lstat only: nothing is read). */
function stamps(paths: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    paths.map((p) => {
      const st = lstatSync(p);
      return [p, `${st.atimeMs} ${st.mtimeMs} ${st.ctimeMs} ${st.mode} ${st.uid}:${st.gid}`];
    }),
  );
}

/** Puts every access time two days back, so relatime would stamp any read. */
function ageAccessTimes(paths: readonly string[]): void {
  const old = new Date(Date.now() - 2 * 86_400_000);
  for (const p of paths) lutimesSync(p, old, lstatSync(p).mtime);
}

describe("nexus-init verify", () => {
  test("verify exits 0 on a root provisioned from the config and changes nothing, not even an access time", async () => {
    const paths = [root, ...pathsBelow(root)];
    ageAccessTimes(paths);
    const before = stamps(paths);
    const r = await runCli(["verify", "--root", root, configFile]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\d+ checked, nothing differs from the config\n$/);
    expect(stamps(paths)).toEqual(before);
  }, 60_000);

  test("verify without a mount namespace reads files O_NOATIME: their access times stay", async () => {
    const files = pathsBelow(root).filter((p) => lstatSync(p).isFile());
    ageAccessTimes(files);
    const before = stamps(files);
    const r = await runCli(["verify", "--root", root, configFile], { env: { NEXUS_VERIFY_VIEW: "" } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(stamps(files)).toEqual(before);
  }, 60_000);

  test("verify reports every difference, one line each, exit 1, and never a secret", async () => {
    writeFileSync(join(root, "etc/app/secret.conf"), "token=other", { mode: 0o600 });
    chownSync(join(root, "etc/app/secret.conf"), 3001, 3000);
    chmodSync(join(root, "etc/motd"), 0o600);
    writeFileSync(join(root, "etc/profile"), "# shipped\n");
    unlinkSync(join(root, "etc/app/current"));
    symlinkSync("/etc/motd", join(root, "etc/app/current"));
    chmodSync(join(root, "etc/app"), 0o755);
    writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nsvc:x:3001:3000::/home/svc:/bin/bash\n");
    writeFileSync(join(root, "etc/shadow"), "root:*:19000:0:99999:7:::\nsvc:$6$other:19000:0:99999:7:::\n");
    writeFileSync(join(root, "etc/systemd/system/app.service.d/10-env.conf"), "[Service]\n");
    unlinkSync(join(root, "etc/systemd/system/debug-shell.service"));
    writeFileSync(join(root, "etc/systemd/system-preset/20-nexus.preset"), "disable app.service\n");
    rmSync(join(root, "home/svc/.ssh"), { recursive: true });
    const r = await runCli(["verify", "--root", root, configFile]);
    expect(r.code).toBe(1);
    expect(r.stdout.split("\n")).toEqual([
      "directory /etc/app: mode is 0755, the config wants 0750",
      "file /etc/app/secret.conf: contents differ",
      "file /etc/motd: mode is 0600, the config wants 0644",
      "file /etc/profile: appended contents differ",
      'link /etc/app/current: it points to "/etc/motd", the config wants "/etc/app/secret.conf"',
      'user svc: shell is "/bin/bash", the config wants "/bin/sh"; password hash differs',
      "ssh-keys svc: 1 of 1 SSH key(s) are not authorized",
      "unit app.service: it is not enabled (no enablement symlink, no enable preset)",
      "dropin app.service/10-env.conf: contents differ",
      "unit debug-shell.service: it is not masked",
      expect.stringMatching(/^\d+ checked, 10 differ$/) as unknown as string,
      "",
    ]);
    expect(r.stdout).not.toContain("s3cr3t");
    expect(r.stdout).not.toContain("$6$");
  }, 60_000);

  test("verify reports a user's home that is gone", async () => {
    rmSync(join(root, "home/svc"), { recursive: true });
    const r = await runCli(["verify", "--root", root, configFile]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('user svc: its home directory "/home/svc" does not exist\n');
  }, 60_000);

  test("verify --json prints the differences as objects", async () => {
    rmSync(join(root, "etc/motd"));
    const r = await runCli(["verify", "--root", root, "--json", configFile]);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ ok: false, differences: [{ kind: "file", target: "/etc/motd", problem: "it does not exist" }], unchecked: [] });
    expect(out.checked).toBeGreaterThan(8);
  }, 60_000);

  test("verify reports what it cannot check (a source it cannot fetch) and exits 1", async () => {
    const remote = { ...config, ignition: { version: "3.4.0", timeouts: { httpTotal: 2 } }, storage: { files: [{ path: "/etc/motd", contents: { source: "http://127.0.0.1:9/motd" } }] } };
    writeFileSync(configFile, JSON.stringify(remote));
    const r = await runCli(["verify", "--root", root, configFile], { env: { NEXUS_VERIFY_VIEW: "" } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^file \/etc\/motd: not checked: cannot fetch its expected contents: /m);
  }, 60_000);

  test.each([
    [["verify", "x.ign"], /--root DIR is required/],
    [["verify", "--root", "/"], /expected exactly one config file/],
    [["verify", "--root", "/", "--device", "nope", "x.ign"], /--device wants FROM=TO, got "nope"/],
  ])("verify %p exits 2", async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  }, 30_000);
});
