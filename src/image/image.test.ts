// `nexus image` end to end with the real tools (sgdisk, mke2fs, debugfs, grub-mkimage, qemu-img,
// tar), on a small base disk and stand-in kernel and initramfs files (the boot itself is tested
// in test/qemu/images.qemu.ts). Each build takes a few seconds: the cases share builds.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { readGptPartitions } from "./gpt.ts";
import { EMBED_AREA_BYTES } from "./embed.ts";
import { digestFile } from "./formats.ts";

const REPO = resolve(import.meta.dir, "../..");
const GIB = 1024 ** 3;
let dir = "";

function nexus(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = Bun.spawnSync([process.execPath, join(REPO, "src/nexus.ts"), ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, SOURCE_DATE_EPOCH: "1700000000" } });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

function build(format: string, config: string | null, out: string): { code: number; stdout: string; stderr: string } {
  const inputs = ["--base", join(dir, "base.img"), "--kernel", join(dir, "vmlinuz"), "--initrd", join(dir, "initrd.img")];
  return nexus("image", "--format", format, ...(config ? ["--config", config] : []), ...inputs, "-o", out);
}

const sha = (out: string) => /sha256 ([0-9a-f]{64})/.exec(out)?.[1];
const fileSha = (path: string) => digestFile(path).sha256;

const IGN = '{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/etc/motd","contents":{"source":"data:,hello"}}]}}';
const BUTANE = "variant: fcos\nversion: 1.4.0\nstorage:\n  files:\n    - path: /etc/other\n      contents:\n        inline: other\n";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "nexus-image-test-"));
  // A 256 MiB base disk with its root partition, and stand-ins for the kernel and initramfs.
  Bun.spawnSync(["truncate", "-s", "256M", join(dir, "base.img")]);
  Bun.spawnSync(["sgdisk", "--disk-guid=6e6578a5-0000-4000-8000-0000000000aa", "--new=1:1MiB:+32MiB", "--change-name=1:root", "--partition-guid=1:6e6578a5-0000-4000-8000-0000000000ab", join(dir, "base.img")]);
  writeFileSync(join(dir, "vmlinuz"), new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff));
  writeFileSync(join(dir, "initrd.img"), new Uint8Array(500_000).map((_, i) => (i * 13) & 0xff));
  writeFileSync(join(dir, "config.ign"), IGN);
  writeFileSync(join(dir, "config.bu"), BUTANE);
  writeFileSync(join(dir, "bad.ign"), '{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"etc/motd"}]}}');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("nexus image (raw)", () => {
  test("two builds from the same inputs give the same sha256, printed with the size", () => {
    const a = build("raw", join(dir, "config.ign"), join(dir, "a.img"));
    const b = build("raw", join(dir, "config.ign"), join(dir, "b.img"));
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(sha(a.stdout)).toBe(fileSha(join(dir, "a.img")));
    expect(sha(a.stdout)).toBe(sha(b.stdout)!);
    expect(a.stdout).toContain(`${statSync(join(dir, "a.img")).size} bytes`);
  }, 120_000);

  test("the disk keeps the base's partition and adds BIOS-BOOT, boot, the embed area and an EFI System partition", () => {
    const parts = readGptPartitions(join(dir, "a.img"));
    expect(parts.map((p) => `${p.number}:${p.name}`)).toEqual(["1:root", "2:BIOS-BOOT", "3:boot", "4:nexus-config", "5:EFI-SYSTEM"]);
    const area = parts[3]!;
    expect((area.lastLba - area.firstLba + 1) * 512).toBe(EMBED_AREA_BYTES);
    // GRUB's boot code in the MBR (its signature bytes) and the boot filesystem's label.
    const blkid = Bun.spawnSync(["blkid", "-p", "-O", String(parts[2]!.firstLba * 512), "-s", "LABEL", "-o", "value", join(dir, "a.img")]);
    expect(blkid.stdout.toString().trim()).toBe("boot");
    // UEFI firmware's fallback path on the EFI System partition.
    const esp = Bun.spawnSync(["mdir", "-b", "-i", `${join(dir, "a.img")}@@${parts[4]!.firstLba * 512}`, "::/EFI/BOOT"], { stdout: "pipe", stderr: "pipe" });
    expect(esp.stdout.toString()).toContain("::/EFI/BOOT/BOOTX64.EFI");
  });

  test("--show-config prints the embedded config as given", () => {
    const r = nexus("image", "--show-config", join(dir, "a.img"));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(IGN);
  });

  test("--replace-config swaps the config in place: the same bytes as a fresh build with it", () => {
    const replaced = nexus("image", "--replace-config", join(dir, "config.bu"), join(dir, "b.img"));
    expect(replaced.code, replaced.stderr).toBe(0);
    const shown = nexus("image", "--show-config", join(dir, "b.img"));
    expect(JSON.parse(shown.stdout).storage.files[0].path).toBe("/etc/other");
    const fresh = build("raw", join(dir, "config.bu"), join(dir, "c.img"));
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fileSha(join(dir, "b.img"))).toBe(sha(fresh.stdout)!);
  }, 120_000);

  test("an invalid config builds nothing and changes nothing, naming the path and line", () => {
    const r = build("raw", join(dir, "bad.ign"), join(dir, "never.img"));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error at storage.files.0.path: path must be absolute");
    expect(r.stderr).toMatch(/line 1, column \d+/);
    expect(existsSync(join(dir, "never.img"))).toBe(false);
    const before = fileSha(join(dir, "a.img"));
    expect(nexus("image", "--replace-config", join(dir, "bad.ign"), join(dir, "a.img")).code).toBe(1);
    expect(fileSha(join(dir, "a.img"))).toBe(before);
  }, 60_000);

  test("a typed program is compiled as `nexus provision` compiles it", () => {
    const out = join(dir, "program.img");
    const r = build("raw", join(REPO, "examples/demo/system.ts"), out);
    expect(r.code, r.stderr).toBe(0);
    const provisioned = nexus("provision", join(REPO, "examples/demo/system.ts"));
    expect(nexus("image", "--show-config", out).stdout).toBe(provisioned.stdout);
    rmSync(out);
  }, 120_000);

  test("an invalid program builds nothing and is reported at its line", () => {
    writeFileSync(join(dir, "bad.ts"), 'import { system, file } from "nexus";\nexport default system([\n  file("/etc/x/", { contents: "x" }),\n]);\n');
    const r = build("raw", join(dir, "bad.ts"), join(dir, "never.img"));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("bad.ts:3:3: error: path must be in canonical form");
    expect(existsSync(join(dir, "never.img"))).toBe(false);
  }, 60_000);

  test("a program's --set parameters reach the embedded config", () => {
    writeFileSync(join(dir, "param.ts"), 'import { system, file, param } from "nexus";\nconst motd = param("motd", "default");\nexport default system({ spec: "3.4.0" }, [file("/etc/motd", { contents: `${motd}\\n`, mode: 0o644 })]);\n');
    const out = join(dir, "param.img");
    const inputs = ["--base", join(dir, "base.img"), "--kernel", join(dir, "vmlinuz"), "--initrd", join(dir, "initrd.img")];
    const r = nexus("image", "--format", "raw", "--config", join(dir, "param.ts"), "--set", "motd=from-set", ...inputs, "-o", out);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(nexus("image", "--show-config", out).stdout).storage.files[0].contents.source).toBe("data:,from-set%0A");
    rmSync(out);
  }, 60_000);

  test("missing default assets are named with the make target that builds them", () => {
    const r = nexus("image", "--format", "raw", "--base", join(dir, "base.img"), "--kernel", join(dir, "vmlinuz"), "--initrd", join(dir, "nope.img"), "-o", join(dir, "x.img"));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Cannot find --initrd "${join(dir, "nope.img")}"`);
  });
});

describe("nexus image (qcow2, gce)", () => {
  test("qcow2: reproducible, qemu-img reads it, --replace-config gives a fresh build's bytes", () => {
    const a = build("qcow2", join(dir, "config.ign"), join(dir, "a.qcow2"));
    expect(a.code, a.stderr).toBe(0);
    const info = JSON.parse(Bun.spawnSync(["qemu-img", "info", "--output=json", join(dir, "a.qcow2")]).stdout.toString());
    expect(info.format).toBe("qcow2");
    expect(info["virtual-size"]).toBe(256 * 1024 * 1024);
    expect(nexus("image", "--show-config", join(dir, "a.qcow2")).stdout).toBe(IGN);
    expect(nexus("image", "--replace-config", join(dir, "config.bu"), join(dir, "a.qcow2")).code).toBe(0);
    const fresh = build("qcow2", join(dir, "config.bu"), join(dir, "b.qcow2"));
    expect(fileSha(join(dir, "a.qcow2"))).toBe(sha(fresh.stdout)!);
  }, 120_000);

  test("gce: a gzipped GNU tar holding only a sparse disk.raw of whole GiB; no config means user-data", () => {
    const out = join(dir, "a.tar.gz");
    const r = build("gce", null, out);
    expect(r.code, r.stderr).toBe(0);
    expect(nexus("image", "--show-config", out).stderr).toContain("embeds no config");
    const check = Bun.spawnSync(["python3", "-c", `
import tarfile, sys
with open(sys.argv[1], "rb") as f: assert f.read(2) == b"\\x1f\\x8b"
import gzip
gnu = gzip.open(sys.argv[1]).read(512)[257:265] == b"ustar  \\0"
t = tarfile.open(sys.argv[1], "r:gz")
ms = t.getmembers()
print(len(ms), ms[0].name, gnu, ms[0].issparse(), ms[0].size, ms[0].uid, ms[0].gid, ms[0].mtime)
`, out]);
    const [count, name, gnu, sparse, size, uid, gid, mtime] = check.stdout.toString().trim().split(" ");
    expect([count, name, gnu, sparse, uid, gid, mtime]).toEqual(["1", "disk.raw", "True", "True", "0", "0", "1700000000"]);
    // The 256 MiB base grows to 1 GiB; the backup GPT moves to the new end.
    expect(Number(size) % GIB).toBe(0);
    const dest = join(dir, "gce-x");
    Bun.spawnSync(["mkdir", dest]);
    Bun.spawnSync(["tar", "-xzf", out, "-C", dest]);
    expect(Bun.spawnSync(["sgdisk", "--verify", join(dest, "disk.raw")]).stdout.toString()).toContain("No problems found");

    expect(nexus("image", "--replace-config", join(dir, "config.ign"), out).code).toBe(0);
    expect(nexus("image", "--show-config", out).stdout).toBe(IGN);
    const fresh = build("gce", join(dir, "config.ign"), join(dir, "b.tar.gz"));
    expect(fileSha(out)).toBe(sha(fresh.stdout)!);
  }, 180_000);
});

describe("nexus image (iso)", () => {
  test("iso: hybrid (El Torito BIOS and UEFI, an MBR for USB sticks); --replace-config gives the bytes of a fresh build", () => {
    const a = join(dir, "a.iso");
    const r = build("iso", join(dir, "config.ign"), a);
    expect(r.code, r.stderr).toBe(0);
    const report = Bun.spawnSync(["xorriso", "-indev", a, "-report_el_torito", "plain"], { stdout: "pipe", stderr: "pipe" }).stdout.toString();
    expect(report).toMatch(/El Torito boot img : +1 +BIOS +y/);
    expect(report).toMatch(/El Torito boot img : +2 +UEFI +y/);
    // For a USB stick: GRUB's hybrid boot code in the MBR, and a GPT with the EFI System partition.
    const table = Bun.spawnSync(["sfdisk", "--dump", a], { stdout: "pipe" }).stdout.toString();
    expect(table).toContain("type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
    const mbr = readFileSync(a).subarray(0, 512);
    expect(mbr.subarray(0, 440).some((b) => b !== 0)).toBe(true);
    expect([mbr[510], mbr[511]]).toEqual([0x55, 0xaa]);
    expect(nexus("image", "--show-config", a).stdout).toBe(IGN);
    expect(nexus("image", "--replace-config", join(dir, "config.bu"), a).code).toBe(0);
    expect(JSON.parse(nexus("image", "--show-config", a).stdout).storage.files[0].path).toBe("/etc/other");
    const fresh = build("iso", join(dir, "config.bu"), join(dir, "b.iso"));
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fileSha(a)).toBe(sha(fresh.stdout)!);
  }, 240_000);
});
