import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatReportEntry, isButane, normalizeSemver, reportToIssues, translateButane, type ButaneResult } from "./index.ts";

const work = mkdtempSync(join(tmpdir(), "nexus-butane-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const filesDir = join(work, "files");
mkdirSync(join(filesDir, "tree/bin"), { recursive: true });
writeFileSync(join(filesDir, "tree/bin/run.sh"), "#!/bin/sh\necho hi\n");
chmodSync(join(filesDir, "tree/bin/run.sh"), 0o755);
writeFileSync(join(filesDir, "tree/conf"), "k=v\n");
symlinkSync("conf", join(filesDir, "tree/conf.link"));
writeFileSync(join(filesDir, "keys"), "ssh-ed25519 AAAA one\r\n\nssh-rsa BBBB two\n");
writeFileSync(join(filesDir, "unit.service"), "[Service]\nExecStart=/bin/true\n");
writeFileSync(join(filesDir, "note.txt"), "note\n");

function ok(r: ButaneResult) {
  if (!r.ok) throw new Error(`${r.fatal}\n${r.report.map(formatReportEntry).join("\n")}`);
  return r;
}
const lines = (r: ButaneResult) => r.report.map(formatReportEntry);

describe("translateButane() versions", () => {
  const cases: [string, string][] = [
    ["fcos 1.0.0", "3.0.0"],
    ["fcos 1.1.0", "3.1.0"],
    ["fcos 1.2.0", "3.2.0"],
    ["fcos 1.3.0", "3.2.0"],
    ["fcos 1.4.0", "3.3.0"],
    ["fcos 1.5.0", "3.4.0"],
    ["fcos 1.6.0", "3.5.0"],
    ["fcos 1.7.0", "3.6.0"],
    ["fcos 1.7.0-experimental", "3.6.0-experimental"],
    ["flatcar 1.0.0", "3.3.0"],
    ["flatcar 1.1.0", "3.4.0"],
    ["flatcar 1.2.0-experimental", "3.6.0-experimental"],
  ];
  for (const [spec, ignition] of cases) {
    test(`translateButane() turns ${spec} into Ignition ${ignition}`, () => {
      const [variant, version] = spec.split(" ");
      expect(ok(translateButane(`variant: ${variant}\nversion: ${version}\n`)).ignition).toEqual({ ignition: { version: ignition } });
    });
  }
});

describe("translateButane() header errors", () => {
  const cases: [string, string, string][] = [
    ["a missing variant", "version: 1.5.0\n", "Error translating config: error parsing variant; must be specified"],
    ["an empty document", "", "Error translating config: error parsing variant; must be specified"],
    ["a version that is not semver", "variant: fcos\nversion: 1.5\n", "Error translating config: error parsing version; must be a valid semver"],
    ["an unknown version", "variant: fcos\nversion: 1.5.0-experimental\n", "Error translating config: No translator exists for variant fcos with version 1.5.0-experimental"],
    ["an unknown variant", "variant: coreos\nversion: 1.0.0\n", "Error translating config: No translator exists for variant coreos with version 1.0.0"],
    ["the removed rhcos variant", "variant: rhcos\nversion: 0.1.0\n", "Error translating config: rhcos variant has been removed; use openshift variant instead: https://coreos.github.io/butane/upgrading-openshift/"],
    ["openshift", "variant: openshift\nversion: 4.18.0\n", "Error translating config: variant openshift is not supported by nexus-init (supported: fcos, flatcar)"],
    ["a YAML syntax error", "variant: fcos\nversion: [\n", "Error translating config: Error unmarshaling yaml: yaml: line 2: did not find expected node content"],
    ["a header of the wrong type", "variant: [fcos]\nversion: 1.5.0\n", "Error translating config: Error unmarshaling yaml: yaml: unmarshal errors:\n  line 1: cannot unmarshal !!seq into string"],
  ];
  for (const [what, text, fatal] of cases) {
    test(`translateButane() fails on ${what}`, () => {
      const r = translateButane(text);
      expect(r.ok ? "" : r.fatal).toBe(fatal);
      expect(r.report).toEqual([]);
    });
  }

  test("normalizeSemver() reads versions as go-semver does", () => {
    expect(["1.5.0", "01.5.0", "1.5", "1.5.0-experimental", "1.5.0+meta", "v1.5.0"].map(normalizeSemver)).toEqual([
      "1.5.0",
      "1.5.0",
      null,
      "1.5.0-experimental",
      "1.5.0+meta",
      null,
    ]);
  });
});

describe("translateButane() reports", () => {
  test("translateButane() prints warnings like Butane, with the YAML line and column", () => {
    const r = ok(translateButane("variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /a\n      mod: 1\n      mode: 644\n"));
    expect(lines(r)).toEqual([
      "warning at $.storage.files.0.mod, line 6 col 7: Unused key mod",
      "warning at $.storage.files.0.mode, line 7 col 13: unreasonable mode would be reasonable if specified in octal; remember to add a leading zero",
    ]);
  });

  test("translateButane() fails with --strict when there are warnings", () => {
    const r = translateButane("variant: fcos\nversion: 1.5.0\nfoo: 1\n", { strict: true });
    expect(r.ok ? "" : r.fatal).toBe("Config produced warnings and --strict was specified");
    expect(lines(r)).toEqual(["warning at $.foo, line 3 col 1: Unused key foo"]);
  });

  test("translateButane() reports Ignition's validation at the Butane path", () => {
    const r = translateButane("variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /a\n    - path: relative\n    - path: /a\n");
    expect(r.ok ? "" : r.fatal).toBe("Error translating config: config generated was invalid");
    expect(lines(r).sort()).toEqual([
      "error at $.storage.files.1.path, line 6 col 13: path not absolute",
      "error at $.storage.files.2, line 7 col 7: duplicate entry defined",
    ]);
  });

  test("translateButane() warns about enabled units without an install section", () => {
    const r = ok(translateButane("variant: fcos\nversion: 1.4.0\nsystemd:\n  units:\n    - name: a.service\n      enabled: true\n      contents: \"[Service]\\nExecStart=/bin/true\\n\"\n"));
    expect(lines(r)).toEqual([
      'warning at $.systemd.units.0.contents, line 7 col 17: unit "a.service" is enabled, but has no install section so enable does nothing',
    ]);
  });

  test("translateButane() rejects a source config with two content sources before translating", () => {
    const r = translateButane("variant: fcos\nversion: 1.1.0\nstorage:\n  files:\n    - path: /a\n      contents:\n        inline: x\n        source: https://example.com/x\n");
    expect(r.ok ? "" : r.fatal).toBe("Error translating config: source config is invalid");
    expect(lines(r)).toEqual(["error at $.storage.files.0.contents.source, line 8 col 17: only one of the following can be set: inline, local, source"]);
  });
});

describe("translateButane() sugar", () => {
  test("translateButane() embeds local files, trees, unit contents and SSH keys from the files directory", () => {
    const r = ok(
      translateButane(
        [
          "variant: fcos",
          "version: 1.5.0",
          "passwd:",
          "  users:",
          "    - name: core",
          "      ssh_authorized_keys: [inline-key]",
          "      ssh_authorized_keys_local: [keys]",
          "storage:",
          "  files:",
          "    - path: /etc/note",
          "      contents:",
          "        local: note.txt",
          "    - path: /opt/app/conf",
          "      mode: 0600",
          "  trees:",
          "    - local: tree",
          "      path: /opt/app",
          "systemd:",
          "  units:",
          "    - name: u.service",
          "      contents_local: unit.service",
          "",
        ].join("\n"),
        { filesDir },
      ),
    );
    expect(r.ignition).toEqual({
      ignition: { version: "3.4.0" },
      passwd: { users: [{ name: "core", sshAuthorizedKeys: ["inline-key", "ssh-ed25519 AAAA one", "ssh-rsa BBBB two"] }] },
      storage: {
        files: [
          { path: "/etc/note", contents: { compression: "", source: "data:,note%0A" } },
          { path: "/opt/app/conf", contents: { compression: "", source: "data:,k%3Dv%0A" }, mode: 0o600 },
          { path: "/opt/app/bin/run.sh", contents: { compression: "", source: "data:,%23!%2Fbin%2Fsh%0Aecho%20hi%0A" }, mode: 0o755 },
        ],
        links: [{ path: "/opt/app/conf.link", target: "conf" }],
      },
      systemd: { units: [{ contents: "[Service]\nExecStart=/bin/true\n", name: "u.service" }] },
    });
  });

  test("translateButane() refuses local files without a files directory", () => {
    const r = translateButane("variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /a\n      contents:\n        local: note.txt\n");
    expect(lines(r)).toEqual([
      "error at $.storage.files.0.contents.local, line 7 col 16: local file paths are relative to a files directory that must be specified with -d/--files-dir",
    ]);
  });

  test("translateButane() generates mount units first and merges the user's unit into them", () => {
    const r = ok(
      translateButane(
        "variant: fcos\nversion: 1.4.0\nstorage:\n  filesystems:\n    - device: /dev/vdb\n      path: /var/data\n      format: xfs\n      with_mount_unit: true\nsystemd:\n  units:\n    - name: x.service\n      mask: true\n    - name: var-data.mount\n      dropins: [{name: a.conf, contents: \"[Mount]\\n\"}]\n",
      ),
    );
    const units = (r.ignition.systemd as { units: { name: string; dropins?: unknown[] }[] }).units;
    expect(units.map((u) => u.name)).toEqual(["var-data.mount", "x.service"]);
    expect(units[0]!.dropins).toEqual([{ contents: "[Mount]\n", name: "a.conf" }]);
  });

  test("translateButane() encrypts and mirrors the boot disk", () => {
    const r = ok(
      translateButane(
        "variant: fcos\nversion: 1.5.0\nboot_device:\n  layout: aarch64\n  luks:\n    tpm2: true\n    discard: true\n  mirror:\n    devices: [/dev/vda, /dev/vdb]\n",
      ),
    );
    const storage = r.ignition.storage as Record<string, { [k: string]: unknown }[]>;
    expect(storage.disks!.map((d) => (d.partitions as { label: string }[]).map((p) => p.label))).toEqual([
      ["reserved-1", "esp-1", "boot-1", "root-1"],
      ["reserved-2", "esp-2", "boot-2", "root-2"],
    ]);
    expect(storage.luks).toEqual([
      { clevis: { tpm2: true }, device: "/dev/md/md-root", discard: true, label: "luks-root", name: "root", wipeVolume: true },
    ]);
    expect(storage.raid!.map((x) => x.name)).toEqual(["md-boot", "md-root"]);
    expect(storage.filesystems!.map((f) => `${f.device} ${f.format}`)).toEqual([
      "/dev/disk/by-partlabel/esp-1 vfat",
      "/dev/disk/by-partlabel/esp-2 vfat",
      "/dev/md/md-boot ext4",
      "/dev/mapper/root xfs",
    ]);
  });

  test("translateButane() puts s390x LUKS on the layout's root partition of the given disk", () => {
    const r = ok(translateButane("variant: fcos\nversion: 1.6.0\nboot_device:\n  layout: s390x-eckd\n  luks:\n    device: /dev/dasda\n    tpm2: true\n"));
    expect(((r.ignition.storage as { luks: { device: string }[] }).luks)[0]!.device).toBe("/dev/dasda2");
  });

  test("translateButane() writes GRUB superusers into user.cfg", () => {
    const r = ok(translateButane("variant: fcos\nversion: 1.5.0\ngrub:\n  users:\n    - name: root\n      password_hash: grub.pbkdf2.sha512.X\n"));
    const storage = r.ignition.storage as { files: { path: string; append: { source: string }[] }[]; filesystems: unknown[] };
    expect(storage.filesystems).toEqual([{ device: "/dev/disk/by-label/boot", format: "ext4", path: "/boot" }]);
    expect(storage.files[0]!.path).toBe("/boot/grub2/user.cfg");
    expect(decodeURIComponent(storage.files[0]!.append[0]!.source.slice("data:,".length))).toBe(
      '# Generated by Butane\n\nset superusers="root"\npassword_pbkdf2 root grub.pbkdf2.sha512.X\n',
    );
  });

  test("translateButane() checks fcos 1.7 boot devices and root partitions", () => {
    const mirror = translateButane("variant: fcos\nversion: 1.7.0\nboot_device:\n  mirror:\n    devices: [/dev/vda, /dev/vdb]\n");
    expect(lines(mirror)).toEqual([
      "error at $.boot_device.mirror, line 5 col 5: boot_device.layout should be specified when boot_device.mirror is specified",
    ]);
    const root = ok(translateButane("variant: fcos\nversion: 1.7.0\nstorage:\n  disks:\n    - device: /dev/disk/by-id/coreos-boot-disk\n      partitions:\n        - number: 4\n          label: root\n          size_mib: 4096\n"));
    expect(lines(root)).toEqual(["warning at $.storage.disks.0.partitions.0.size_mib, line 9 col 21: root should have 8GiB of space assigned"]);
  });

  test("translateButane() ignores fcos sections in flatcar and rejects Clevis there", () => {
    expect(lines(ok(translateButane("variant: flatcar\nversion: 1.1.0\ngrub:\n  users: []\n")))).toEqual([
      "warning at $.grub, line 3 col 1: Unused key grub",
    ]);
    const r = translateButane("variant: flatcar\nversion: 1.0.0\nstorage:\n  luks:\n    - name: d\n      device: /dev/vdb\n      clevis:\n        tpm2: true\n");
    expect(lines(r)).toEqual(["error at $.storage.luks.0.clevis, line 8 col 9: clevis is not supported in this spec version"]);
  });
});

describe("isButane()", () => {
  const cases: [string, boolean][] = [
    ["variant: fcos\nversion: 1.5.0\n", true],
    ['{"variant": "fcos", "version": "1.5.0"}', true],
    ['{"ignition": {"version": "3.4.0"}}', false],
    ["- a\n", false],
    ["not: [valid\n", false],
  ];
  for (const [text, want] of cases) {
    test(`isButane() says ${want} for ${JSON.stringify(text)}`, () => expect(isButane(text)).toBe(want));
  }
});

describe("reportToIssues()", () => {
  test("reportToIssues() keeps severity, Butane path and YAML position", () => {
    const r = translateButane("variant: fcos\nversion: 1.5.0\nextra: 1\n");
    expect(reportToIssues(r.report)).toEqual([{ severity: "warning", path: ["extra"], message: "Unused key extra", line: 3, column: 1 }]);
  });
});
