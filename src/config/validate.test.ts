import { describe, expect, test } from "bun:test";
import { formatPath } from "./issues.ts";
import type { Config, SpecVersion } from "./types.ts";
import { validateConfig } from "./validate.ts";

// Each case: a config body (without `ignition.version`, added per case), the spec version it is
// validated at, and every issue expected as "<severity> <path>". An empty list means valid.
interface Case {
  name: string;
  version?: SpecVersion;
  config: Record<string, unknown>;
  expect: string[];
  /** Substring the first issue's message must contain. */
  message?: string;
}

const V36: SpecVersion = "3.6.0";
const SHA512 = "sha512-" + "a".repeat(128);
const SHA256 = "sha256-" + "b".repeat(64);

function run(c: Case): string[] {
  const version = c.version ?? V36;
  const ign = (c.config.ignition as Record<string, unknown> | undefined) ?? {};
  const config = { ...c.config, ignition: { version, ...ign } } as Config;
  return validateConfig(config, version).map((i) => `${i.severity} ${formatPath(i.path)}`);
}

function runCases(title: string, cases: Case[]): void {
  describe(title, () => {
    for (const c of cases) {
      test(`validateConfig() ${c.expect.length === 0 ? "accepts" : "reports"} ${c.name}`, () => {
        expect(run(c).sort()).toEqual([...c.expect].sort());
        if (c.message) {
          const version = c.version ?? V36;
          const ign = (c.config.ignition as Record<string, unknown> | undefined) ?? {};
          const issues = validateConfig({ ...c.config, ignition: { version, ...ign } } as Config, version);
          expect(issues[0]?.message).toContain(c.message);
        }
      });
    }
  });
}

const files = (...f: Record<string, unknown>[]) => ({ storage: { files: f } });
const merge = (...m: Record<string, unknown>[]) => ({ ignition: { config: { merge: m } } });

runCases("ignition section", [
  { name: "a config that only has a version", config: {}, expect: [] },
  { name: "a missing version", config: { ignition: { version: undefined } }, expect: ["error ignition.version"] },
  { name: "a merge reference without source (3.1)", version: "3.1.0", config: merge({}), expect: ["error ignition.config.merge.0.source"] },
  { name: "a merge reference without source in spec 3.0", version: "3.0.0", config: merge({}), expect: [] },
  { name: "a merge reference with an ftp source", config: merge({ source: "ftp://x/y" }), expect: ["error ignition.config.merge.0.source"], message: "ftp" },
  { name: "a merge reference with an unparsable source", config: merge({ source: "http://[::1" }), expect: ["error ignition.config.merge.0.source"] },
  { name: "a replace reference without source", config: { ignition: { config: { replace: {} } } }, expect: [] },
  {
    name: "a replace reference with a hash and no source",
    config: { ignition: { config: { replace: { verification: { hash: SHA512 } } } } },
    expect: ["error ignition.config.replace.verification.hash"],
  },
  { name: "two merge references with one source", config: merge({ source: "http://a/c" }, { source: "http://a/c" }), expect: ["error ignition.config.merge.1"] },
  {
    name: "a CA bundle without source (3.1)",
    version: "3.1.0",
    config: { ignition: { security: { tls: { certificateAuthorities: [{}] } } } },
    expect: ["error ignition.security.tls.certificateAuthorities.0.source"],
  },
  {
    name: "two CA bundles with one source",
    config: { ignition: { security: { tls: { certificateAuthorities: [{ source: "data:,a" }, { source: "data:,a" }] } } } },
    expect: ["error ignition.security.tls.certificateAuthorities.1"],
  },
  { name: "an ftp httpProxy", config: { ignition: { proxy: { httpProxy: "ftp://p:3128" } } }, expect: ["error ignition.proxy.httpProxy"] },
  { name: "an empty httpProxy", config: { ignition: { proxy: { httpProxy: "" } } }, expect: ["error ignition.proxy.httpProxy"] },
  { name: "a plain-http httpsProxy", config: { ignition: { proxy: { httpsProxy: "http://p:3128" } } }, expect: ["warning ignition.proxy.httpsProxy"] },
  { name: "an https httpsProxy", config: { ignition: { proxy: { httpProxy: "http://p", httpsProxy: "https://p" } } }, expect: [] },
  { name: "an unparsable proxy URL", config: { ignition: { proxy: { httpProxy: "http://[::1]a" } } }, expect: ["error ignition.proxy.httpProxy"] },
  { name: "a repeated noProxy entry", config: { ignition: { proxy: { noProxy: ["a.com", "b.com", "a.com"] } } }, expect: ["error ignition.proxy.noProxy.2"] },
  { name: "timeouts of any value", config: { ignition: { timeouts: { httpTotal: 0, httpResponseHeaders: 30 } } }, expect: [] },
]);

runCases("resources", [
  { name: "gzip compression", config: files({ path: "/a", contents: { source: "data:,x", compression: "gzip" } }), expect: [] },
  { name: "empty compression", config: files({ path: "/a", contents: { source: "data:,x", compression: "" } }), expect: [] },
  { name: "an unknown compression", config: files({ path: "/a", contents: { source: "data:,x", compression: "zstd" } }), expect: ["error storage.files.0.contents.compression"] },
  { name: "a sha512 hash", config: files({ path: "/a", contents: { source: "http://h/x", verification: { hash: SHA512 } } }), expect: [] },
  { name: "a sha256 hash (3.1)", version: "3.1.0", config: files({ path: "/a", contents: { source: "http://h/x", verification: { hash: SHA256 } } }), expect: [] },
  {
    name: "a sha256 hash in spec 3.0",
    version: "3.0.0",
    config: files({ path: "/a", contents: { source: "http://h/x", verification: { hash: SHA256 } } }),
    expect: ["error storage.files.0.contents.verification.hash"],
  },
  { name: "a hash without a dash", config: files({ path: "/a", contents: { source: "http://h/x", verification: { hash: "sha512:abc" } } }), expect: ["error storage.files.0.contents.verification.hash"] },
  { name: "an unknown hash function", config: files({ path: "/a", contents: { source: "http://h/x", verification: { hash: "md5-abc" } } }), expect: ["error storage.files.0.contents.verification.hash"] },
  { name: "a short digest", config: files({ path: "/a", contents: { source: "http://h/x", verification: { hash: "sha512-abc" } } }), expect: ["error storage.files.0.contents.verification.hash"], message: "128 hex digits, got 3" },
  {
    name: "a digest with non-hex characters",
    config: files({ path: "/a", contents: { source: "http://h/x", verification: { hash: "sha256-" + "z".repeat(64) } } }),
    expect: ["warning storage.files.0.contents.verification.hash"],
  },
  { name: "a hash without source", config: files({ path: "/a", contents: { verification: { hash: SHA512 } } }), expect: ["error storage.files.0.contents.verification.hash"] },
  { name: "HTTP headers on an https source", config: files({ path: "/a", contents: { source: "https://h/x", httpHeaders: [{ name: "A", value: "1" }] } }), expect: [] },
  { name: "an HTTP header without value", config: files({ path: "/a", contents: { source: "https://h/x", httpHeaders: [{ name: "A" }] } }), expect: [] },
  { name: "an HTTP header with an empty name", config: files({ path: "/a", contents: { source: "https://h/x", httpHeaders: [{ name: "", value: "1" }] } }), expect: ["error storage.files.0.contents.httpHeaders.0.name"] },
  { name: "an HTTP header with an empty value", config: files({ path: "/a", contents: { source: "https://h/x", httpHeaders: [{ name: "A", value: "" }] } }), expect: ["error storage.files.0.contents.httpHeaders.0.value"] },
  {
    name: "two HTTP headers with one name",
    config: files({ path: "/a", contents: { source: "https://h/x", httpHeaders: [{ name: "A", value: "1" }, { name: "A", value: "2" }] } }),
    expect: ["error storage.files.0.contents.httpHeaders.1"],
  },
  { name: "HTTP headers on a data source", config: files({ path: "/a", contents: { source: "data:,x", httpHeaders: [{ name: "A", value: "1" }] } }), expect: ["error storage.files.0.contents.httpHeaders"] },
  { name: "HTTP headers without source", config: merge({ httpHeaders: [{ name: "A", value: "1" }] }), expect: ["error ignition.config.merge.0.source", "error ignition.config.merge.0.httpHeaders"] },
  { name: "an empty file source", config: files({ path: "/a", contents: { source: "" } }), expect: [] },
  { name: "an upper-case scheme", config: files({ path: "/a", contents: { source: "HTTPS://Example.com/x" } }), expect: [] },
  { name: "a source without scheme", config: files({ path: "/a", contents: { source: "example.com/x" } }), expect: ["error storage.files.0.contents.source"], message: "no scheme" },
  { name: "a tftp source", config: files({ path: "/a", contents: { source: "tftp://10.0.0.1/x" } }), expect: [] },
  { name: "a gs source in spec 3.1", version: "3.1.0", config: files({ path: "/a", contents: { source: "gs://b/o" } }), expect: ["error storage.files.0.contents.source"] },
  { name: "a gs source in spec 3.2", version: "3.2.0", config: files({ path: "/a", contents: { source: "gs://b/o" } }), expect: [] },
  { name: "an s3 source with a version", config: files({ path: "/a", contents: { source: "s3://b/o?versionId=abc" } }), expect: [] },
  { name: "an s3 source with an empty versionId", config: files({ path: "/a", contents: { source: "s3://b/o?versionId=" } }), expect: ["error storage.files.0.contents.source"] },
  { name: "an arn source in spec 3.3", version: "3.3.0", config: files({ path: "/a", contents: { source: "arn:aws:s3:::b/o" } }), expect: ["error storage.files.0.contents.source"] },
  { name: "an S3 object ARN (3.4)", version: "3.4.0", config: files({ path: "/a", contents: { source: "arn:aws:s3:::bucket/key" } }), expect: [] },
  { name: "an S3 access point ARN", config: files({ path: "/a", contents: { source: "arn:aws:s3:us-east-1:123456789012:accesspoint/ap/object/key" } }), expect: [] },
  { name: "an access point ARN without object", config: files({ path: "/a", contents: { source: "arn:aws:s3:us-east-1:123456789012:accesspoint/ap" } }), expect: ["error storage.files.0.contents.source"] },
  { name: "a bucket ARN without object", config: files({ path: "/a", contents: { source: "arn:aws:s3:::bucket" } }), expect: ["error storage.files.0.contents.source"] },
  { name: "a non-S3 ARN", config: files({ path: "/a", contents: { source: "arn:aws:ec2:::bucket/key" } }), expect: ["error storage.files.0.contents.source"] },
  { name: "an ARN with an empty versionId", config: files({ path: "/a", contents: { source: "arn:aws:s3:::b/k?versionId=" } }), expect: ["error storage.files.0.contents.source"] },
  { name: "a base64 data URL", config: files({ path: "/a", contents: { source: "data:;base64,aGk=" } }), expect: [] },
  { name: "a data URL with a raw space", config: files({ path: "/a", contents: { source: "data:,a b" } }), expect: ["error storage.files.0.contents.source"] },
  { name: "an invalid append source", config: files({ path: "/a", append: [{ source: "data:,ok" }, { source: "nope://x" }] }), expect: ["error storage.files.0.append.1.source"] },
]);

runCases("files and directories", [
  { name: "a relative file path", config: files({ path: "etc/foo" }), expect: ["error storage.files.0.path"], message: `path must be absolute, got "etc/foo"` },
  { name: "a file path that is not clean", config: files({ path: "/etc//foo" }), expect: ["error storage.files.0.path"] },
  { name: "a file without path", config: files({}), expect: ["error storage.files.0.path"] },
  { name: "a mode above 07777", config: files({ path: "/a", mode: 0o10000 }), expect: ["error storage.files.0.mode"] },
  { name: "a negative mode", config: files({ path: "/a", mode: -1 }), expect: ["error storage.files.0.mode"] },
  { name: "a setuid mode in spec 3.5", version: "3.5.0", config: files({ path: "/a", mode: 0o4755 }), expect: ["warning storage.files.0.mode"] },
  { name: "a setuid mode in spec 3.6", version: "3.6.0", config: files({ path: "/a", mode: 0o4755 }), expect: [] },
  { name: "a sticky directory in spec 3.7.0-experimental", version: "3.7.0-experimental", config: { storage: { directories: [{ path: "/t", mode: 0o1777 }] } }, expect: [] },
  { name: "a sticky directory in spec 3.0", version: "3.0.0", config: { storage: { directories: [{ path: "/t", mode: 0o1777 }] } }, expect: ["warning storage.directories.0.mode"] },
  { name: "a directory mode above 07777", config: { storage: { directories: [{ path: "/t", mode: 4096 }] } }, expect: ["error storage.directories.0.mode"] },
  { name: "overwrite without a source", config: files({ path: "/a", overwrite: true }), expect: ["error storage.files.0.overwrite"] },
  { name: "overwrite with an empty source", config: files({ path: "/a", overwrite: true, contents: { source: "" } }), expect: [] },
  { name: "an owner with id and name", config: files({ path: "/a", user: { id: 1, name: "x" }, group: { id: 2, name: "y" } }), expect: ["error storage.files.0.user", "error storage.files.0.group"] },
  { name: "an owner with id and an empty name", config: files({ path: "/a", user: { id: 1, name: "" } }), expect: [] },
  {
    name: "a directory at a file's path",
    config: { storage: { files: [{ path: "/a" }], directories: [{ path: "/a" }] } },
    expect: ["error storage.directories.0"],
    message: "already defined at storage.files.0",
  },
  { name: "a file under a file", config: files({ path: "/a" }, { path: "/a/b" }), expect: [] },
]);

runCases("links", [
  { name: "a symlink", config: { storage: { links: [{ path: "/l", target: "/t" }] } }, expect: [] },
  { name: "a link without target (3.3)", version: "3.3.0", config: { storage: { links: [{ path: "/l" }] } }, expect: ["error storage.links.0.target"] },
  { name: "a link with an empty target", config: { storage: { links: [{ path: "/l", target: "" }] } }, expect: ["error storage.links.0.target"] },
  { name: "a link without target in spec 3.2", version: "3.2.0", config: { storage: { links: [{ path: "/l" }] } }, expect: [] },
  {
    name: "nodes created under a link",
    config: { storage: { links: [{ path: "/l", target: "/t" }, { path: "/l/x", target: "/t" }], files: [{ path: "/l/f" }], directories: [{ path: "/l/d" }] } },
    expect: ["error storage.links.1", "error storage.files.0", "error storage.directories.0"],
  },
  { name: "a path that only shares a prefix with a link", config: { storage: { links: [{ path: "/l", target: "/t" }], files: [{ path: "/lx" }] } }, expect: [] },
  {
    name: "a hard link to a directory",
    config: { storage: { directories: [{ path: "/d" }], links: [{ path: "/h", target: "/d", hard: true }] } },
    expect: ["error storage.links.0"],
  },
  {
    name: "a relative hard link target resolved under the link path",
    config: { storage: { directories: [{ path: "/h/d" }], links: [{ path: "/h", target: "d", hard: true }] } },
    expect: ["error storage.links.0", "error storage.directories.0"],
  },
  {
    name: "a hard link with an owner",
    config: { storage: { links: [{ path: "/h", target: "/f", hard: true, user: { id: 0 }, group: { name: "g" } }] } },
    expect: ["warning storage.links.0.user.id", "warning storage.links.0.group.name"],
  },
  { name: "a symlink with an owner", config: { storage: { links: [{ path: "/h", target: "/f", user: { id: 0 } }] } }, expect: [] },
  {
    name: "a file written where a unit goes",
    config: { storage: { files: [{ path: "/etc/systemd/system/a.service" }] }, systemd: { units: [{ name: "a.service", contents: "[Unit]\n" }] } },
    expect: ["error storage.files.0.path"],
  },
  {
    name: "a link written where a drop-in goes",
    config: {
      storage: { links: [{ path: "/etc/systemd/system/a.service.d/x.conf", target: "/t" }] },
      systemd: { units: [{ name: "a.service", dropins: [{ name: "x.conf", contents: "[Unit]\n" }] }] },
    },
    expect: ["error storage.links.0.path"],
  },
  {
    name: "a file at a unit path when the unit has no contents",
    config: { storage: { files: [{ path: "/etc/systemd/system/a.service" }] }, systemd: { units: [{ name: "a.service", enabled: true }] } },
    expect: [],
  },
]);

const disk = (partitions: Record<string, unknown>[], extra: Record<string, unknown> = {}) => ({ storage: { disks: [{ device: "/dev/vda", partitions, ...extra }] } });

runCases("disks and partitions", [
  { name: "a disk with numbered partitions", config: disk([{ number: 1, sizeMiB: 10 }, { label: "b" }]), expect: [] },
  { name: "a disk without device", config: { storage: { disks: [{}] } }, expect: ["error storage.disks.0.device"] },
  { name: "a relative disk device", config: { storage: { disks: [{ device: "dev/vda" }] } }, expect: ["error storage.disks.0.device"] },
  { name: "two disks with one device", config: { storage: { disks: [{ device: "/dev/vda" }, { device: "/dev/vda" }] } }, expect: ["error storage.disks.1"] },
  { name: "repeated partition numbers", config: disk([{ number: 1 }, { number: 2 }, { number: 1 }]), expect: ["error storage.disks.0.partitions.2"] },
  { name: "repeated partition labels", config: disk([{ number: 1, label: "x" }, { number: 2, label: "x" }]), expect: ["error storage.disks.0.partitions.1"] },
  {
    name: "overlapping fixed partitions",
    config: disk([{ number: 1, startMiB: 1, sizeMiB: 10 }, { number: 2, startMiB: 5, sizeMiB: 10 }]),
    expect: ["error storage.disks.0.partitions.1"],
  },
  { name: "adjacent fixed partitions", config: disk([{ number: 1, startMiB: 1, sizeMiB: 10 }, { number: 2, startMiB: 11, sizeMiB: 10 }]), expect: [] },
  {
    name: "a partition inside another",
    config: disk([{ number: 1, startMiB: 1, sizeMiB: 100 }, { number: 2, startMiB: 10, sizeMiB: 10 }]),
    expect: ["error storage.disks.0.partitions.1"],
  },
  { name: "partitions placed automatically", config: disk([{ number: 1, startMiB: 0, sizeMiB: 10 }, { number: 2, startMiB: 0, sizeMiB: 10 }]), expect: [] },
  // Current Ignition (PR 2234) resolves number 0 after the deletions: nothing to report.
  { name: "number 0 next to a partition that should not exist", config: disk([{ number: 0, label: "a" }, { number: 2, shouldExist: false }]), expect: [] },
  { name: "a deleted partition with a size", config: disk([{ number: 2, shouldExist: false, sizeMiB: 5 }]), expect: ["error storage.disks.0.partitions.0"] },
  { name: "a deleted partition with a label", config: disk([{ number: 2, shouldExist: false, label: "x" }]), expect: ["error storage.disks.0.partitions.0"] },
  { name: "a deleted partition with empty GUIDs", config: disk([{ number: 2, shouldExist: false, guid: "", typeGuid: "", wipePartitionEntry: true }]), expect: [] },
  { name: "a partition without number or label", config: disk([{ sizeMiB: 5 }]), expect: ["error storage.disks.0.partitions.0"] },
  { name: "a 37-byte partition label", config: disk([{ number: 1, label: "x".repeat(37) }]), expect: ["error storage.disks.0.partitions.0.label"] },
  { name: "a 36-byte partition label", config: disk([{ number: 1, label: "x".repeat(36) }]), expect: [] },
  { name: "a partition label with a colon", config: disk([{ number: 1, label: "a:b" }]), expect: ["error storage.disks.0.partitions.0.label"] },
  {
    name: "malformed GUIDs",
    config: disk([{ number: 1, guid: "not-a-guid", typeGuid: "0FC63DAF-8483-4772-8E79-3D69D8477DE" }]),
    expect: ["error storage.disks.0.partitions.0.guid", "error storage.disks.0.partitions.0.typeGuid"],
  },
  { name: "lower-case GUIDs", config: disk([{ number: 1, guid: "5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6" }]), expect: [] },
  { name: "partition checks on a disk without device", config: { storage: { disks: [{ partitions: [{ sizeMiB: 1 }] }] } }, expect: ["error storage.disks.0.device", "error storage.disks.0.partitions.0"] },
]);

const raid = (r: Record<string, unknown>) => ({ storage: { raid: [{ name: "md0", ...r }] } });

runCases("RAID", [
  { name: "a raid1 array", config: raid({ level: "raid1", devices: ["/dev/a", "/dev/b"], spares: 1 }), expect: [] },
  { name: "a missing level (3.3)", version: "3.3.0", config: raid({ devices: ["/dev/a"] }), expect: ["error storage.raid.0.level"] },
  { name: "a missing level in spec 3.2", version: "3.2.0", config: raid({ devices: ["/dev/a"] }), expect: ["error storage.raid.0.level"] },
  { name: "an unknown level", config: raid({ level: "raid7", devices: ["/dev/a"] }), expect: ["error storage.raid.0.level"] },
  { name: "spares on a raid0 array", config: raid({ level: "raid0", devices: ["/dev/a"], spares: 1 }), expect: ["error storage.raid.0.level"] },
  { name: "zero spares on a linear array", config: raid({ level: "linear", devices: ["/dev/a"], spares: 0 }), expect: [] },
  { name: "no devices (3.3)", version: "3.3.0", config: raid({ level: "raid1" }), expect: ["error storage.raid.0.devices"] },
  { name: "no devices in spec 3.2", version: "3.2.0", config: raid({ level: "raid1" }), expect: [] },
  { name: "a relative member device", config: raid({ level: "raid1", devices: ["sda"] }), expect: ["error storage.raid.0.devices.0"] },
  { name: "a repeated member device", config: raid({ level: "raid1", devices: ["/dev/a", "/dev/a"] }), expect: ["error storage.raid.0.devices.1"] },
  { name: "repeated options", config: raid({ level: "raid1", devices: ["/dev/a"], options: ["--x", "--x"] }), expect: [] },
  {
    name: "two arrays with one name",
    config: { storage: { raid: [{ name: "md0", level: "1", devices: ["/dev/a"] }, { name: "md0", level: "1", devices: ["/dev/b"] }] } },
    expect: ["error storage.raid.1"],
  },
]);

const fs = (...f: Record<string, unknown>[]) => ({ storage: { filesystems: f } });

// virtiofs (3.7.0-experimental): upstream's verdicts and paths (config/v3_7_experimental/types
// filesystem_test.go), the device being a tag rather than a path.
const X37: SpecVersion = "3.7.0-experimental";
runCases("virtiofs filesystems", [
  { name: "a virtiofs share with a mount path and options", version: X37, config: fs({ device: "myshare", format: "virtiofs", path: "/mnt", mountOptions: ["dax"] }), expect: [] },
  { name: "a virtiofs share without a tag", version: X37, config: fs({ device: "", format: "virtiofs" }), expect: ["error storage.filesystems.0.device"] },
  { name: "a virtiofs tag of 36 bytes", version: X37, config: fs({ device: "a".repeat(36), format: "virtiofs" }), expect: [] },
  { name: "a virtiofs tag of 37 bytes", version: X37, config: fs({ device: "a".repeat(37), format: "virtiofs" }), expect: ["error storage.filesystems.0.device"], message: "36 bytes" },
  { name: "a virtiofs share with a label", version: X37, config: fs({ device: "myshare", format: "virtiofs", label: "data" }), expect: ["error storage.filesystems.0.label"] },
  { name: "a virtiofs share with a uuid", version: X37, config: fs({ device: "myshare", format: "virtiofs", uuid: "abc" }), expect: ["error storage.filesystems.0.uuid"] },
  { name: "a virtiofs share with wipeFilesystem", version: X37, config: fs({ device: "myshare", format: "virtiofs", wipeFilesystem: true }), expect: ["error storage.filesystems.0.wipeFilesystem"] },
  { name: "a virtiofs share with mkfs options", version: X37, config: fs({ device: "myshare", format: "virtiofs", options: ["opt"] }), expect: ["error storage.filesystems.0.options"] },
  {
    name: "a virtiofs share with a uuid, wipeFilesystem and options",
    version: X37,
    config: fs({ device: "myshare", format: "virtiofs", uuid: "abc", wipeFilesystem: true, options: ["opt"] }),
    expect: ["error storage.filesystems.0.uuid", "error storage.filesystems.0.wipeFilesystem", "error storage.filesystems.0.options"],
  },
  { name: "virtiofs in spec 3.6", version: "3.6.0", config: fs({ device: "myshare", format: "virtiofs" }), expect: ["error storage.filesystems.0.device", "error storage.filesystems.0.format"] },
  { name: "an ext4 filesystem on a relative device in 3.7.0-experimental", version: X37, config: fs({ device: "vda1", format: "ext4" }), expect: ["error storage.filesystems.0.device"] },
]);

runCases("filesystems", [
  { name: "an ext4 filesystem", config: fs({ device: "/dev/a", format: "ext4", path: "/var", label: "x".repeat(16), mountOptions: ["ro"] }), expect: [] },
  { name: "a filesystem without device", config: fs({ format: "ext4" }), expect: ["error storage.filesystems.0.device"] },
  { name: "a relative mount path", config: fs({ device: "/dev/a", format: "ext4", path: "var" }), expect: ["error storage.filesystems.0.path"] },
  { name: "a path without format", config: fs({ device: "/dev/a", path: "/var" }), expect: ["error storage.filesystems.0.format"] },
  { name: "wipeFilesystem without format", config: fs({ device: "/dev/a", wipeFilesystem: true }), expect: ["error storage.filesystems.0.format"] },
  { name: "mount options without format", config: fs({ device: "/dev/a", mountOptions: ["ro"] }), expect: ["error storage.filesystems.0.format"] },
  { name: "a label without format", config: fs({ device: "/dev/a", label: "x" }), expect: ["error storage.filesystems.0.format", "error storage.filesystems.0.label"] },
  { name: "an empty format with nothing else", config: fs({ device: "/dev/a", format: "" }), expect: [] },
  { name: "an unknown format", config: fs({ device: "/dev/a", format: "zfs" }), expect: ["error storage.filesystems.0.format"] },
  { name: "format none in spec 3.2", version: "3.2.0", config: fs({ device: "/dev/a", format: "none" }), expect: ["error storage.filesystems.0.format"] },
  { name: "format none in spec 3.3", version: "3.3.0", config: fs({ device: "/dev/a", format: "none" }), expect: [] },
  { name: "a mount path for swap (not mounted)", config: fs({ device: "/dev/a", format: "swap", path: "/swap" }), expect: [] },
  { name: "a 17-byte ext4 label", config: fs({ device: "/dev/a", format: "ext4", label: "x".repeat(17) }), expect: ["error storage.filesystems.0.label"] },
  { name: "a 13-byte xfs label", config: fs({ device: "/dev/a", format: "xfs", label: "x".repeat(13) }), expect: ["error storage.filesystems.0.label"] },
  { name: "a 12-byte vfat label", config: fs({ device: "/dev/a", format: "vfat", label: "x".repeat(12) }), expect: ["error storage.filesystems.0.label"] },
  { name: "a 16-byte swap label", config: fs({ device: "/dev/a", format: "swap", label: "x".repeat(16) }), expect: ["error storage.filesystems.0.label"] },
  { name: "a 257-byte btrfs label", config: fs({ device: "/dev/a", format: "btrfs", label: "x".repeat(257) }), expect: ["error storage.filesystems.0.label"] },
  { name: "a label counted in bytes", config: fs({ device: "/dev/a", format: "vfat", label: "éééééé" }), expect: ["error storage.filesystems.0.label"] },
  { name: "two filesystems on one device", config: fs({ device: "/dev/a", format: "ext4" }, { device: "/dev/a", format: "xfs" }), expect: ["error storage.filesystems.1"] },
  {
    name: "a filesystem on a partitioned disk",
    config: { storage: { disks: [{ device: "/dev/a", partitions: [{ number: 1 }] }], filesystems: [{ device: "/dev/a", format: "ext4" }] } },
    expect: ["warning storage.filesystems.0.device"],
  },
  {
    name: "a reused filesystem on a disk whose table is wiped",
    config: { storage: { disks: [{ device: "/dev/a", wipeTable: true }], filesystems: [{ device: "/dev/a", format: "ext4" }] } },
    expect: ["warning storage.filesystems.0.device"],
  },
  {
    name: "a wiped filesystem on a disk whose table is wiped",
    config: { storage: { disks: [{ device: "/dev/a", wipeTable: true }], filesystems: [{ device: "/dev/a", format: "ext4", wipeFilesystem: true }] } },
    expect: [],
  },
]);

const luks = (l: Record<string, unknown>, version: SpecVersion = V36): Pick<Case, "version" | "config"> => ({
  version,
  config: { storage: { luks: [{ name: "root", device: "/dev/a", ...l }] } },
});

runCases("LUKS and clevis", [
  { name: "a LUKS volume with a key file", ...luks({ keyFile: { source: "data:,secret" }, wipeVolume: true }), expect: [] },
  { name: "a LUKS name with a slash", ...luks({ name: "a/b" }), expect: ["error storage.luks.0.name"] },
  { name: "a 48-byte LUKS label", ...luks({ label: "x".repeat(48) }), expect: ["error storage.luks.0.label"] },
  { name: "a LUKS volume without device", ...luks({ device: undefined }), expect: ["error storage.luks.0.device"] },
  { name: "a relative LUKS device", ...luks({ device: "dev/a" }), expect: ["error storage.luks.0.device"] },
  { name: "an invalid key file source", ...luks({ keyFile: { source: "file:///k" } }), expect: ["error storage.luks.0.keyFile.source"] },
  { name: "tpm2 with a custom pin", ...luks({ clevis: { tpm2: true, custom: { pin: "tpm2", config: "{}" } } }), expect: ["error storage.luks.0.clevis"] },
  { name: "a threshold with a custom pin", ...luks({ clevis: { threshold: 2, custom: { pin: "sss", config: "{}" } } }), expect: ["error storage.luks.0.clevis"] },
  { name: "a custom config without pin", ...luks({ clevis: { custom: { config: "{}" } } }, "3.5.0"), expect: ["error storage.luks.0.clevis.custom.pin"] },
  { name: "an unknown custom pin in spec 3.5", ...luks({ clevis: { custom: { pin: "trustee", config: "{}" } } }, "3.5.0"), expect: ["error storage.luks.0.clevis.custom.pin"] },
  { name: "any custom pin in spec 3.6", ...luks({ clevis: { custom: { pin: "trustee", config: "{}" } } }), expect: [] },
  { name: "a custom pin without config", ...luks({ clevis: { custom: { pin: "tpm2" } } }), expect: ["error storage.luks.0.clevis.custom.config"] },
  { name: "needsNetwork alone", ...luks({ clevis: { custom: { needsNetwork: true } } }, "3.3.0"), expect: ["error storage.luks.0.clevis.custom.pin", "error storage.luks.0.clevis.custom.config"] },
  { name: "an empty custom object in spec 3.3", ...luks({ clevis: { custom: {} } }, "3.3.0"), expect: [] },
  { name: "a custom object with tpm2 in spec 3.2", ...luks({ clevis: { tpm2: true, custom: { pin: "", config: "" } } }, "3.2.0"), expect: ["error storage.luks.0.clevis"] },
  { name: "a custom config without pin in spec 3.2", ...luks({ clevis: { custom: { pin: "", config: "{}" } } }, "3.2.0"), expect: ["error storage.luks.0.clevis.custom.pin"] },
  { name: "a threshold above the number of pins", ...luks({ clevis: { tpm2: true, threshold: 2 } }), expect: ["warning storage.luks.0.clevis.threshold"] },
  { name: "a threshold met by tang and tpm2", ...luks({ clevis: { tpm2: true, threshold: 2, tang: [{ url: "http://t", thumbprint: "a" }] } }), expect: [] },
  { name: "a tang server", ...luks({ clevis: { tang: [{ url: "http://tang", thumbprint: "abc" }] } }), expect: [] },
  { name: "a tang server with an ftp URL", ...luks({ clevis: { tang: [{ url: "ftp://tang", thumbprint: "abc" }] } }), expect: ["error storage.luks.0.clevis.tang.0.url"] },
  { name: "a tang server without thumbprint", ...luks({ clevis: { tang: [{ url: "https://tang" }] } }), expect: ["error storage.luks.0.clevis.tang.0.thumbprint"] },
  { name: "a tang server without URL", ...luks({ clevis: { tang: [{ thumbprint: "abc" }] } }), expect: ["error storage.luks.0.clevis.tang.0.url"] },
  {
    name: "a tang advertisement that is not JSON",
    ...luks({ clevis: { tang: [{ url: "http://t", thumbprint: "a", advertisement: "{{" }] } }, "3.4.0"),
    expect: ["error storage.luks.0.clevis.tang.0.advertisement"],
  },
  { name: "a JSON tang advertisement", ...luks({ clevis: { tang: [{ url: "http://t", thumbprint: "a", advertisement: "{\"payload\":\"x\"}" }] } }), expect: [] },
  {
    name: "two tang servers with one URL",
    ...luks({ clevis: { tang: [{ url: "http://t", thumbprint: "a" }, { url: "http://t", thumbprint: "b" }] } }),
    expect: ["error storage.luks.0.clevis.tang.1"],
  },
  { name: "cex with tpm2", ...luks({ cex: { enabled: true }, clevis: { tpm2: true } }, "3.5.0"), expect: ["error storage.luks.0.cex"] },
  { name: "cex with a key file", ...luks({ cex: { enabled: true }, keyFile: { source: "data:,k" } }, "3.5.0"), expect: ["error storage.luks.0.cex"] },
  { name: "cex alone", ...luks({ cex: { enabled: true } }, "3.5.0"), expect: [] },
  { name: "repeated open options", ...luks({ openOptions: ["--a", "--a"] }), expect: ["error storage.luks.0.openOptions.1"] },
  { name: "repeated format options", ...luks({ options: ["--a", "--a"] }), expect: [] },
  {
    name: "two volumes with one name",
    config: { storage: { luks: [{ name: "r", device: "/dev/a" }, { name: "r", device: "/dev/b" }] } },
    expect: ["error storage.luks.1"],
  },
]);

const units = (...u: Record<string, unknown>[]) => ({ systemd: { units: u } });
const INSTALLABLE = "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n";

runCases("systemd", [
  { name: "an enabled unit with [Install]", config: units({ name: "a.service", enabled: true, contents: INSTALLABLE }), expect: [] },
  { name: "a unit name without type", config: units({ name: "a" }), expect: ["error systemd.units.0.name"] },
  { name: "a unit named like a drop-in", config: units({ name: "a.conf" }), expect: ["error systemd.units.0.name"] },
  { name: "every unit type", config: units(...[".socket", ".device", ".mount", ".automount", ".swap", ".target", ".path", ".timer", ".snapshot", ".slice", ".scope"].map((t) => ({ name: "a" + t }))), expect: [] },
  { name: "an unterminated section", config: units({ name: "a.service", contents: "[Unit\n" }), expect: ["error systemd.units.0.contents"] },
  { name: "an option without =", config: units({ name: "a.service", contents: "[Unit]\nDescription\n" }), expect: ["error systemd.units.0.contents"] },
  { name: "an overlong unit line", config: units({ name: "a.service", contents: "[Unit]\nA=" + "x".repeat(3000) }), expect: ["error systemd.units.0.contents"] },
  { name: "an enabled unit without [Install]", config: units({ name: "a.service", enabled: true, contents: "[Service]\nExecStart=/bin/true\n" }), expect: ["warning systemd.units.0.contents"] },
  { name: "an enabled unit whose contents set no option", config: units({ name: "a.service", enabled: true, contents: "[Service]\n" }), expect: [] },
  { name: "a disabled unit without [Install]", config: units({ name: "a.service", enabled: false, contents: "[Service]\nA=1\n" }), expect: [] },
  {
    name: "an enabled instance of a template without [Install]",
    config: units({ name: "t@.service", contents: "[Service]\nExecStart=/bin/echo %i\n" }, { name: "t@x.service", enabled: true }),
    expect: ["warning systemd.units.1.contents"],
  },
  { name: "an enabled instance of a template with [Install]", config: units({ name: "t@.service", contents: INSTALLABLE }, { name: "t@x.service", enabled: true }), expect: [] },
  { name: "an enabled instance of a template the config does not write", config: units({ name: "t@x.service", enabled: true }), expect: [] },
  { name: "a drop-in not ending in .conf", config: units({ name: "a.service", dropins: [{ name: "x.txt", contents: "[Unit]\n" }] }), expect: ["error systemd.units.0.dropins.0.name"] },
  { name: "drop-in contents that do not parse", config: units({ name: "a.service", dropins: [{ name: "x.conf", contents: "[Unit] junk\n" }] }), expect: ["error systemd.units.0.dropins.0.contents"] },
  { name: "an empty drop-in", config: units({ name: "a.service", dropins: [{ name: "x.conf", contents: "" }] }), expect: [] },
  { name: "two units with one name", config: units({ name: "a.service" }, { name: "a.service", mask: true }), expect: ["error systemd.units.1"] },
  { name: "two drop-ins with one name", config: units({ name: "a.service", dropins: [{ name: "x.conf" }, { name: "x.conf" }] }), expect: ["error systemd.units.0.dropins.1"] },
]);

runCases("passwd and kernel arguments", [
  { name: "users and groups", config: { passwd: { users: [{ name: "core", sshAuthorizedKeys: ["k1", "k2"], groups: ["wheel"] }], groups: [{ name: "g" }] } }, expect: [] },
  { name: "two users with one name", config: { passwd: { users: [{ name: "a" }, { name: "a", shouldExist: false }] } }, expect: ["error passwd.users.1"] },
  { name: "a repeated SSH key", config: { passwd: { users: [{ name: "a", sshAuthorizedKeys: ["k", "k"] }] } }, expect: ["error passwd.users.0.sshAuthorizedKeys.1"] },
  { name: "a repeated supplementary group", config: { passwd: { users: [{ name: "a", groups: ["g", "g"] }] } }, expect: ["error passwd.users.0.groups.1"] },
  { name: "two groups with one name", config: { passwd: { groups: [{ name: "g" }, { name: "g" }] } }, expect: ["error passwd.groups.1"] },
  {
    name: "a kernel argument that should and should not exist",
    version: "3.3.0",
    config: { kernelArguments: { shouldExist: ["foo", "bar"], shouldNotExist: ["baz", "foo"] } },
    expect: ["error kernelArguments.shouldNotExist.1"],
  },
  { name: "a repeated kernel argument", config: { kernelArguments: { shouldExist: ["quiet", "quiet"] } }, expect: ["error kernelArguments.shouldExist.1"] },
]);

describe("validateConfig() messages", () => {
  test("validateConfig() never echoes the contents of a data URL", () => {
    const config = { ignition: { version: V36 }, storage: { files: [{ path: "/a", contents: { source: "data:,top secret" } }] } } as Config;
    const issues = validateConfig(config, V36);
    expect(issues.length).toBe(1);
    expect(issues[0]!.message).not.toContain("secret");
  });

  test("validateConfig() redacts credentials in URLs", () => {
    const config = { ignition: { version: V36 }, storage: { files: [{ path: "/a", contents: { source: "ftp://user:hunter2@host/x" } }] } } as Config;
    const issues = validateConfig(config, V36);
    expect(issues.map((i) => i.message).join(" ")).not.toContain("hunter2");
  });
});
