import { describe, expect, test } from "bun:test";
import { mergeConfigs } from "./merge.ts";
import type { Config } from "./types.ts";
import { validateConfig } from "./validate.ts";

interface Case {
  name: string;
  parent: Record<string, unknown>;
  child: Record<string, unknown>;
  want: Record<string, unknown>;
}

const c = (x: Record<string, unknown>) => x as Config;

const cases: Case[] = [
  { name: "gives an empty config for two empty configs", parent: {}, child: {}, want: {} },
  {
    name: "takes the child's version",
    parent: { ignition: { version: "3.0.0" } },
    child: { ignition: { version: "3.6.0" } },
    want: { ignition: { version: "3.6.0" } },
  },
  {
    name: "keeps parent values the child leaves unset and overrides the ones it sets",
    parent: { ignition: { version: "3.6.0", timeouts: { httpTotal: 5, httpResponseHeaders: 10 } } },
    child: { ignition: { version: "3.6.0", timeouts: { httpTotal: 30 } } },
    want: { ignition: { version: "3.6.0", timeouts: { httpTotal: 30, httpResponseHeaders: 10 } } },
  },
  {
    name: "lets an empty child string override the parent's value",
    parent: { storage: { filesystems: [{ device: "/dev/a", format: "ext4", path: "/foo" }] } },
    child: { storage: { filesystems: [{ device: "/dev/a", format: "" }] } },
    want: { storage: { filesystems: [{ device: "/dev/a", format: "", path: "/foo" }] } },
  },
  {
    name: "merges disks by device and partitions by number",
    parent: {
      storage: {
        disks: [
          { device: "foo", wipeTable: true, partitions: [{ number: 1, label: "label", startMiB: 4 }] },
          { device: "bar", wipeTable: true },
        ],
      },
    },
    child: {
      storage: {
        disks: [
          { device: "foo", wipeTable: false, partitions: [{ number: 1, label: "labelchanged" }, { number: 2, label: "label2" }] },
          { device: "bar" },
          { device: "baz", wipeTable: true },
        ],
      },
    },
    want: {
      storage: {
        disks: [
          { device: "foo", wipeTable: false, partitions: [{ number: 1, label: "labelchanged", startMiB: 4 }, { number: 2, label: "label2" }] },
          { device: "bar", wipeTable: true },
          { device: "baz", wipeTable: true },
        ],
      },
    },
  },
  {
    name: "merges partitions without number by label",
    parent: { storage: { disks: [{ device: "/d", partitions: [{ label: "root", sizeMiB: 10 }, { number: 0, label: "var" }] }] } },
    child: { storage: { disks: [{ device: "/d", partitions: [{ label: "root", sizeMiB: 20 }, { label: "home" }] }] } },
    want: { storage: { disks: [{ device: "/d", partitions: [{ label: "root", sizeMiB: 20 }, { number: 0, label: "var" }, { label: "home" }] }] } },
  },
  {
    name: "appends file fragments, keeping repeats",
    parent: { storage: { files: [{ path: "/foo", append: [{ source: "source1" }] }] } },
    child: { storage: { files: [{ path: "/foo", append: [{ source: "source1" }, { source: "source2" }] }] } },
    want: { storage: { files: [{ path: "/foo", append: [{ source: "source1" }, { source: "source1" }, { source: "source2" }] }] } },
  },
  {
    name: "merges a file's contents and owner field by field",
    parent: { storage: { files: [{ path: "/f", mode: 420, user: { name: "core" }, contents: { source: "data:,a", compression: "gzip" } }] } },
    child: { storage: { files: [{ path: "/f", user: { id: 0 }, contents: { source: "data:,b" } }] } },
    want: { storage: { files: [{ path: "/f", mode: 420, user: { name: "core", id: 0 }, contents: { source: "data:,b", compression: "gzip" } }] } },
  },
  {
    name: "replaces a parent file by a child directory at the same path",
    parent: { storage: { files: [{ path: "/a", mode: 420 }, { path: "/b" }], directories: [{ path: "/c" }] } },
    child: { storage: { directories: [{ path: "/a", mode: 493 }] } },
    want: { storage: { files: [{ path: "/b" }], directories: [{ path: "/c" }, { path: "/a", mode: 493 }] } },
  },
  {
    name: "replaces a parent directory by a child link and a parent link by a child file",
    parent: { storage: { directories: [{ path: "/d" }], links: [{ path: "/l", target: "/x" }] } },
    child: { storage: { links: [{ path: "/d", target: "/y" }], files: [{ path: "/l" }] } },
    want: { storage: { links: [{ path: "/d", target: "/y" }], files: [{ path: "/l" }] } },
  },
  {
    name: "unites SSH keys and supplementary groups of a user",
    parent: { passwd: { users: [{ name: "bovik", sshAuthorizedKeys: ["one", "two"], groups: ["wheel"] }] } },
    child: { passwd: { users: [{ name: "bovik", sshAuthorizedKeys: ["three", "two"], groups: ["docker"], shell: "/bin/zsh" }] } },
    want: { passwd: { users: [{ name: "bovik", sshAuthorizedKeys: ["one", "two", "three"], groups: ["wheel", "docker"], shell: "/bin/zsh" }] } },
  },
  {
    name: "merges users and groups by name",
    parent: { passwd: { users: [{ name: "a", uid: 1000 }], groups: [{ name: "g", gid: 5 }] } },
    child: { passwd: { users: [{ name: "a", shouldExist: false }, { name: "b" }], groups: [{ name: "g", system: true }] } },
    want: { passwd: { users: [{ name: "a", uid: 1000, shouldExist: false }, { name: "b" }], groups: [{ name: "g", gid: 5, system: true }] } },
  },
  {
    name: "replaces, keeps, drops and adds HTTP headers of a merge reference",
    parent: {
      ignition: {
        config: {
          merge: [
            {
              source: "http://e/c",
              httpHeaders: [
                { name: "old-header", value: "old-value" },
                { name: "same-header", value: "old-value" },
                { name: "to-remove-header", value: "some-value" },
              ],
            },
          ],
        },
      },
    },
    child: {
      ignition: {
        config: {
          merge: [
            {
              source: "http://e/c",
              httpHeaders: [{ name: "to-remove-header" }, { name: "new-header", value: "new-value" }, { name: "same-header", value: "new-value" }],
            },
          ],
        },
      },
    },
    want: {
      ignition: {
        config: {
          merge: [
            {
              source: "http://e/c",
              httpHeaders: [
                { name: "old-header", value: "old-value" },
                { name: "same-header", value: "new-value" },
                { name: "new-header", value: "new-value" },
              ],
            },
          ],
        },
      },
    },
  },
  {
    name: "merges the replace reference field by field",
    parent: { ignition: { config: { replace: { source: "http://e/a", httpHeaders: [{ name: "A", value: "1" }], verification: { hash: "sha512-x" } } } } },
    child: { ignition: { config: { replace: { source: "http://e/b", httpHeaders: [{ name: "A" }] } } } },
    want: { ignition: { config: { replace: { source: "http://e/b", verification: { hash: "sha512-x" } } } } },
  },
  {
    name: "merges CA bundles by source and headers inside them",
    parent: { ignition: { security: { tls: { certificateAuthorities: [{ source: "http://ca", httpHeaders: [{ name: "to-remove", value: "x" }] }] } } } },
    child: { ignition: { security: { tls: { certificateAuthorities: [{ source: "http://ca", httpHeaders: [{ name: "to-remove" }] }, { source: "data:,b" }] } } } },
    want: { ignition: { security: { tls: { certificateAuthorities: [{ source: "http://ca" }, { source: "data:,b" }] } } } },
  },
  {
    name: "merges config references by source and appends new ones",
    parent: { ignition: { config: { merge: [{ source: "http://a", verification: { hash: "sha512-1" } }] } } },
    child: { ignition: { config: { merge: [{ source: "http://a", compression: "gzip" }, { source: "http://b" }] } } },
    want: { ignition: { config: { merge: [{ source: "http://a", verification: { hash: "sha512-1" }, compression: "gzip" }, { source: "http://b" }] } } },
  },
  {
    name: "unites noProxy entries",
    parent: { ignition: { proxy: { httpProxy: "http://p", noProxy: ["a", "b"] } } },
    child: { ignition: { proxy: { noProxy: ["b", "c"] } } },
    want: { ignition: { proxy: { httpProxy: "http://p", noProxy: ["a", "b", "c"] } } },
  },
  {
    name: "appends filesystem options and mount options",
    parent: { storage: { filesystems: [{ device: "/dev/a", format: "ext4", options: ["-E", "x"], mountOptions: ["ro"] }] } },
    child: { storage: { filesystems: [{ device: "/dev/a", options: ["-E"], mountOptions: ["ro"] }, { device: "/dev/b", format: "xfs" }] } },
    want: {
      storage: {
        filesystems: [
          { device: "/dev/a", format: "ext4", options: ["-E", "x", "-E"], mountOptions: ["ro", "ro"] },
          { device: "/dev/b", format: "xfs" },
        ],
      },
    },
  },
  {
    name: "unites RAID devices and appends RAID options",
    parent: { storage: { raid: [{ name: "md0", level: "raid1", devices: ["/dev/a", "/dev/b"], options: ["--x"] }] } },
    child: { storage: { raid: [{ name: "md0", devices: ["/dev/b", "/dev/c"], options: ["--x"] }] } },
    want: { storage: { raid: [{ name: "md0", level: "raid1", devices: ["/dev/a", "/dev/b", "/dev/c"], options: ["--x", "--x"] }] } },
  },
  {
    name: "merges LUKS volumes with clevis, tang servers and options",
    parent: {
      storage: {
        luks: [{ name: "root", device: "/dev/a", clevis: { tpm2: true, tang: [{ url: "http://t", thumbprint: "1" }] }, options: ["--a"], openOptions: ["--o"] }],
      },
    },
    child: {
      storage: {
        luks: [{ name: "root", clevis: { threshold: 2, tang: [{ url: "http://t", thumbprint: "2" }, { url: "http://u", thumbprint: "3" }] }, options: ["--a"], openOptions: ["--o", "--p"] }],
      },
    },
    want: {
      storage: {
        luks: [
          {
            name: "root",
            device: "/dev/a",
            clevis: { tpm2: true, threshold: 2, tang: [{ url: "http://t", thumbprint: "2" }, { url: "http://u", thumbprint: "3" }] },
            options: ["--a", "--a"],
            openOptions: ["--o", "--p"],
          },
        ],
      },
    },
  },
  {
    name: "merges units and their drop-ins by name",
    parent: { systemd: { units: [{ name: "a.service", enabled: true, contents: "[Unit]\n", dropins: [{ name: "x.conf", contents: "1" }] }] } },
    child: { systemd: { units: [{ name: "a.service", mask: true, dropins: [{ name: "x.conf", contents: "2" }, { name: "y.conf" }] }, { name: "b.service" }] } },
    want: {
      systemd: {
        units: [
          { name: "a.service", enabled: true, contents: "[Unit]\n", dropins: [{ name: "x.conf", contents: "2" }, { name: "y.conf" }], mask: true },
          { name: "b.service" },
        ],
      },
    },
  },
  {
    name: "moves a kernel argument between shouldExist and shouldNotExist",
    parent: { kernelArguments: { shouldExist: ["a", "b"], shouldNotExist: ["c"] } },
    child: { kernelArguments: { shouldNotExist: ["a"], shouldExist: ["c", "d"] } },
    want: { kernelArguments: { shouldExist: ["b", "c", "d"], shouldNotExist: ["a"] } },
  },
];

describe("mergeConfigs()", () => {
  for (const k of cases) {
    test(`mergeConfigs() ${k.name}`, () => {
      expect(mergeConfigs(c(k.parent), c(k.child))).toEqual(c(k.want));
    });
  }

  test("mergeConfigs() does not modify its inputs", () => {
    const parent = { storage: { files: [{ path: "/a", append: [{ source: "data:,1" }] }] } };
    const child = { storage: { files: [{ path: "/a", append: [{ source: "data:,2" }] }], directories: [{ path: "/d" }] } };
    const before = JSON.stringify([parent, child]);
    const merged = mergeConfigs(c(parent), c(child)) as Record<string, any>;
    merged.storage.files[0].append[0].source = "changed";
    expect(JSON.stringify([parent, child])).toBe(before);
  });

  test("mergeConfigs() can yield a config that validation rejects", () => {
    // A child that clears the format of a mounted filesystem (upstream's config.merge.failed).
    const parent = c({ ignition: { version: "3.0.0" }, storage: { filesystems: [{ path: "/foo", format: "ext4", device: "/dev/a" }] } });
    const child = c({ ignition: { version: "3.0.0" }, storage: { filesystems: [{ format: "", device: "/dev/a" }] } });
    const issues = validateConfig(mergeConfigs(parent, child), "3.0.0");
    expect(issues.map((i) => `${i.severity} ${i.path.join(".")}`)).toEqual(["error storage.filesystems.0.format"]);
  });
});
