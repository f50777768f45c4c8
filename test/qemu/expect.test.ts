import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { checkProvisioned, decodeDataUrl, hostPathFor, type CheckedConfig } from "./expect.ts";
import { partitionForDevice, type GptEntry } from "./host_disk.ts";

let dirs: string[] = [];
afterEach(() => {
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  dirs = [];
});

function tree(files: Record<string, string | { link: string } | { mode: number; text: string }>): string {
  const root = mkdtempSync(join(tmpdir(), "nexus-expect-"));
  dirs.push(root);
  for (const [p, v] of Object.entries(files)) {
    const full = join(root, p);
    mkdirSync(dirname(full), { recursive: true });
    if (typeof v === "string") writeFileSync(full, v);
    else if ("link" in v) symlinkSync(v.link, full);
    else {
      writeFileSync(full, v.text);
      chmodSync(full, v.mode);
    }
  }
  return root;
}

const config: CheckedConfig = {
  storage: {
    files: [
      { path: "/etc/motd", mode: 0o644, contents: { source: "data:,hello%20world%0A" } },
      { path: "/etc/b64", contents: { source: "data:;base64,aGk=" } },
      { path: "/var/log/x", append: [{ source: "data:,tail" }] },
    ],
    directories: [{ path: "/srv/data", mode: 0o750 }],
    links: [{ path: "/etc/current", target: "/etc/motd" }],
  },
  passwd: {
    users: [{ name: "core", uid: 1000, groups: ["wheel"], sshAuthorizedKeys: ["ssh-ed25519 AAAA core"] }],
    groups: [{ name: "app", gid: 2000 }],
  },
  systemd: {
    units: [
      { name: "a.service", enabled: true, contents: "[Service]\n" },
      { name: "b.service", mask: true },
      { name: "c.service", dropins: [{ name: "10.conf", contents: "[Unit]\n" }] },
    ],
  },
};

function goodRoot(): { root: string; var: string } {
  const root = tree({
    "etc/motd": { mode: 0o644, text: "hello world\n" },
    "etc/b64": "hi",
    "etc/current": { link: "/etc/motd" },
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\ncore:x:1000:1000::/home/core:/bin/sh\n",
    "etc/group": "root:x:0:\nwheel:x:10:core\napp:x:2000:\n",
    "home/core/.ssh/authorized_keys.d/ignition": "ssh-ed25519 AAAA core\n",
    "etc/systemd/system/a.service": "[Service]\n",
    "etc/systemd/system/b.service": { link: "/dev/null" },
    "etc/systemd/system/c.service.d/10.conf": "[Unit]\n",
    "etc/systemd/system-preset/20-ignition.preset": "enable a.service\n",
  });
  mkdirSync(join(root, "srv/data"), { recursive: true });
  chmodSync(join(root, "srv/data"), 0o750);
  const v = tree({ "log/x": "headtail" });
  return { root, var: v };
}

describe("checkProvisioned()", () => {
  test("`checkProvisioned()` passes every expectation of a matching root", () => {
    const { root, var: v } = goodRoot();
    const findings = checkProvisioned(config, hostPathFor(root, { "/var": v }));
    expect(findings.filter((f) => !f.ok)).toEqual([]);
    expect(findings.map((f): string => f.kind).sort()).toEqual(
      ["directory", "dropin", "file", "file", "file", "group", "link", "mask", "preset", "ssh-key", "unit", "user"].sort(),
    );
  });

  test.each([
    ["etc/motd", "changed\n", "file", "/etc/motd"],
    ["etc/systemd/system-preset/20-ignition.preset", "disable a.service\n", "preset", "a.service"],
    ["etc/group", "wheel:x:10:\napp:x:2000:\n", "user", "core"],
    ["home/core/.ssh/authorized_keys.d/ignition", "", "ssh-key", "core"],
  ])("`checkProvisioned()` fails when %s holds %p", (file, text, kind, target) => {
    const { root, var: v } = goodRoot();
    writeFileSync(join(root, file), text);
    const failed = checkProvisioned(config, hostPathFor(root, { "/var": v })).filter((f) => !f.ok);
    expect(failed.map((f) => [f.kind, f.target])).toEqual([[kind, target]]);
  });

  test("`checkProvisioned()` reports a wrong mode", () => {
    const { root, var: v } = goodRoot();
    chmodSync(join(root, "etc/motd"), 0o600);
    const failed = checkProvisioned(config, hostPathFor(root, { "/var": v })).filter((f) => !f.ok);
    expect(failed.map((f) => f.detail)).toEqual(["mode 0600, want 0644"]);
  });
});

describe("decodeDataUrl()", () => {
  test.each([
    ["data:,a%20b", "a b"],
    ["data:text/plain;charset=utf-8,%C3%A9", "é"],
    ["data:;base64,aGVsbG8=", "hello"],
  ])("`decodeDataUrl()` decodes %p", (url, want) => {
    expect(new TextDecoder().decode(decodeDataUrl(url)!)).toBe(want);
  });

  test("`decodeDataUrl()` returns null for other schemes", () => {
    expect(decodeDataUrl("http://x/y")).toBeNull();
  });
});

describe("partitionForDevice()", () => {
  const gpt: GptEntry[] = [
    { number: 1, startMiB: 1, sizeMiB: 256, label: "root", typeGuid: "T", guid: "AAAA" },
    { number: 2, startMiB: 257, sizeMiB: 700, label: "var", typeGuid: "T", guid: "BBBB" },
  ];
  const probe = (n: number) => ({ LABEL: n === 2 ? "varfs" : "root" });
  test.each([
    ["/dev/disk/by-partlabel/var", 2],
    ["/dev/disk/by-partuuid/bbbb", 2],
    ["/dev/disk/by-label/varfs", 2],
    ["/dev/vda1", 1],
    ["/dev/nvme0n1p2", 2],
    ["/dev/disk/by-partlabel/none", null],
    ["/dev/md/raid", null],
  ])("`partitionForDevice()` maps %p to %p", (device, want) => {
    expect(partitionForDevice(device, gpt, probe)).toBe(want);
  });
});
