import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { NeedNetError } from "../resource/index.ts";
import { findNeedNet } from "../acquire/neednet.ts";
import { fakeSystem } from "../system/fake.ts";
import { azureProvider, azurestackProvider } from "./azure.ts";
import { cloudstackProvider } from "./cloudstack.ts";
import { ibmcloudProvider, nutanixProvider, powervsProvider } from "./drive_platforms.ts";
import { kubevirtProvider } from "./kubevirt.ts";
import { proxmoxveProvider } from "./proxmoxve.ts";
import { brightboxProvider, openstackProvider } from "./openstack.ts";
import { acquireOn, providerContext, scratchEnv } from "./test_support.ts";
import type { Provider, ProviderResult } from "./types.ts";

// Config drives as the platforms attach them: real labelled filesystems on loop devices (ext4:
// the host kernel has no iso9660, vfat or udf — the QEMU scenarios cover those), found through
// a private by-label directory so nothing else on the host can answer, mounted read-only with
// the real mount and unmounted again.
const CONFIG = '{"ignition":{"version":"3.4.0"}}';
let work: string;
const loops: string[] = [];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "nexus-drives-"));
});
afterAll(async () => {
  for (const l of loops) await Bun.$`losetup -d ${l}`.quiet().nothrow();
  rmSync(work, { recursive: true, force: true });
});

let n = 0;
/** A labelled ext4 filesystem holding `files`, on a loop device. */
async function makeDrive(label: string, files: Record<string, string>): Promise<string> {
  const dir = join(work, `drive${++n}`);
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), body);
  }
  mkdirSync(dir, { recursive: true });
  const img = join(work, `drive${n}.img`);
  await Bun.$`truncate -s 8M ${img}`.quiet();
  await Bun.$`mkfs.ext4 -q -F -L ${label} -d ${dir} ${img}`.quiet();
  const loop = (await Bun.$`losetup --find --show ${img}`.text()).trim();
  loops.push(loop);
  return loop;
}

/** A by-label directory with these drives; the environment pointing at it. */
function labels(drives: Record<string, string>, extra: Record<string, string> = {}): Record<string, string> {
  const dir = join(work, `labels${++n}`);
  mkdirSync(dir);
  for (const [label, dev] of Object.entries(drives)) symlinkSync(dev, join(dir, label));
  return scratchEnv({ NEXUS_PATH_DISK_BY_LABEL: dir, NEXUS_CIDATA_WAIT_MS: "400", ...extra });
}

const text = (r: ProviderResult) => (r.kind === "config" ? new TextDecoder().decode(r.raw) : `none`);
const fetchOn = (p: Provider, env: Record<string, string>, offline = false) => p.fetch(providerContext(p.name, env, { offline }));

async function noMountsLeft() {
  await Bun.sleep(50);
  expect(await Bun.file("/proc/self/mounts").text()).not.toContain("nexus-config-drive-");
}

describe("config drives", () => {
  test("`nutanixProvider.fetch()` and `powervsProvider.fetch()` read config-2:/openstack/latest/user_data", async () => {
    const dev = await makeDrive("config-2", { "openstack/latest/user_data": CONFIG });
    for (const p of [nutanixProvider, powervsProvider]) {
      const r = await fetchOn(p, labels({ "config-2": dev }));
      expect(text(r)).toBe(CONFIG);
      expect(r.kind === "config" && r.source).toBe(`${p.name} config drive "config-2":/openstack/latest/user_data`);
    }
    await noMountsLeft();
  });

  test("`nutanixProvider.fetch()` waits for its drive to appear, offline", async () => {
    const dev = await makeDrive("config-2", { "openstack/latest/user_data": CONFIG });
    const env = labels({});
    let done = false;
    const p = fetchOn(nutanixProvider, env, true).finally(() => (done = true));
    await Bun.sleep(600);
    expect(done).toBe(false);
    symlinkSync(dev, join(env.NEXUS_PATH_DISK_BY_LABEL!, "config-2"));
    expect(text(await p)).toBe(CONFIG);
  });

  test("`powervsProvider.fetch()`: a drive without user data is no config", async () => {
    const dev = await makeDrive("config-2", { "openstack/latest/meta_data.json": "{}" });
    expect((await fetchOn(powervsProvider, labels({ "config-2": dev }))).kind).toBe("none");
    await noMountsLeft();
  });

  test("`ibmcloudProvider.fetch()` reads cidata:/user-data, and without a drive gives up after the wait", async () => {
    const dev = await makeDrive("cidata", { "user-data": CONFIG });
    expect(text(await fetchOn(ibmcloudProvider, labels({ cidata: dev }), true))).toBe(CONFIG);
    const t0 = performance.now();
    const r = await fetchOn(ibmcloudProvider, labels({}));
    expect(r.kind === "none" && r.reason).toMatch(/no "cidata" drive within 0.4 s/);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(350);
  });

  test("`proxmoxveProvider.fetch()` skips a cloud-config user-data and reads vendor-data", async () => {
    const dev = await makeDrive("cidata", { "user-data": "#cloud-config\nusers: []\n", "vendor-data": CONFIG });
    const r = await fetchOn(proxmoxveProvider, labels({ cidata: dev }), true);
    expect(text(r)).toBe(CONFIG);
    expect(r.kind === "config" && r.source).toBe('proxmoxve config drive "cidata":/vendor-data');
    const empty = await makeDrive("cidata", { "user-data": "", "vendor-data": "#cloud-config\n" });
    expect((await fetchOn(proxmoxveProvider, labels({ cidata: empty }))).kind).toBe("none");
    await noMountsLeft();
  });

  test("`proxmoxveProvider.fetch()` prefers user-data", async () => {
    const dev = await makeDrive("cidata", { "user-data": CONFIG, "vendor-data": '{"ignition":{"version":"3.0.0"}}' });
    expect(text(await fetchOn(proxmoxveProvider, labels({ cidata: dev })))).toBe(CONFIG);
  });

  test("`kubevirtProvider.fetch()` reads whichever of cidata and config-2 is attached", async () => {
    const nocloud = await makeDrive("cidata", { "user-data": CONFIG });
    const cfg2 = await makeDrive("config-2", { "openstack/latest/user_data": CONFIG });
    const a = await fetchOn(kubevirtProvider, labels({ cidata: nocloud }), true);
    expect(a.kind === "config" && a.source).toBe('kubevirt config drive "cidata":/user-data');
    const b = await fetchOn(kubevirtProvider, labels({ "config-2": cfg2 }), true);
    expect(b.kind === "config" && b.source).toBe('kubevirt config drive "config-2":/openstack/latest/user_data');
    await noMountsLeft();
  });

  test("acquiring on powervs: invalid JSON on the drive is an error naming the platform and source", async () => {
    const dev = await makeDrive("config-2", { "openstack/latest/user_data": "{oops" });
    await expect(acquireOn("powervs", labels({ "config-2": dev }), { offline: true })).rejects.toThrow(
      /Cannot parse user config from powervs config drive "config-2":\/openstack\/latest\/user_data/,
    );
  });
});

describe("invalid JSON on a config drive: an error naming the platform and the drive", () => {
  // Acquired as the fetch stages do (the drive's bytes reach the parser unchanged).
  const cases = [
    { platform: "nutanix", label: "config-2", path: "openstack/latest/user_data" },
    { platform: "ibmcloud", label: "cidata", path: "user-data" },
    { platform: "kubevirt", label: "cidata", path: "user-data" },
    { platform: "proxmoxve", label: "cidata", path: "user-data" },
    { platform: "brightbox", label: "CONFIG-2", path: "openstack/latest/user_data" },
    { platform: "cloudstack", label: "config-2", path: "cloudstack/userdata/user_data.txt" },
  ];
  for (const { platform, label, path } of cases) {
    test(`acquiring on ${platform}: invalid JSON in ${label}:/${path}`, async () => {
      const dev = await makeDrive(label, { [path]: "{oops" });
      const leases = join(work, `leases${++n}`);
      mkdirSync(leases);
      writeFileSync(join(leases, "eth0"), "SERVER_ADDRESS=127.0.0.1\n");
      // The metadata services of the racing platforms refuse connections: the drive answers.
      const env = labels(
        { [label]: dev },
        {
          NEXUS_URL_OPENSTACK: "http://127.0.0.1:1",
          NEXUS_URL_OPENSTACK_V6: "http://[::1]:1",
          NEXUS_PATH_DHCP_LEASES: leases,
          NEXUS_PATH_NETWORKD_LEASES: join(work, "none"),
          NEXUS_URL_CLOUDSTACK: "http://{dhcp-server}:1",
        },
      );
      await expect(acquireOn(platform, env)).rejects.toThrow(`Cannot parse user config from ${platform} config drive "${label}":/${path}`);
      await noMountsLeft();
    });
  }
});

describe("openstack and cloudstack: config drive and metadata service race", () => {
  const md = { openstack: { status: 404, body: "" }, cloudstack: { status: 404, body: "", delayMs: 0 } };
  const seen: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const p = new URL(req.url).pathname;
      seen.push(p);
      if (p === "/openstack/latest/user_data") return new Response(md.openstack.body, { status: md.openstack.status });
      if (p === "/latest/user-data") {
        await Bun.sleep(md.cloudstack.delayMs);
        return new Response(md.cloudstack.body, { status: md.cloudstack.status });
      }
      return new Response("", { status: 404 });
    },
  });
  afterAll(() => server.stop(true));
  const base = `http://127.0.0.1:${server.port}`;
  // No IPv6 link-local route is tried unless the host has one; the IPv4 one answers here.
  const osEnv = (drives: Record<string, string>) => labels(drives, { NEXUS_URL_OPENSTACK: base, NEXUS_URL_OPENSTACK_V6: "http://[::1]:1" });

  test("`openstackProvider.fetch()` takes the metadata service's user data when no drive is attached", async () => {
    md.openstack = { status: 200, body: CONFIG };
    const r = await fetchOn(openstackProvider, osEnv({}));
    expect(text(r)).toBe(CONFIG);
    expect(r.kind === "config" && r.source).toBe("openstack the openstack metadata service");
  });

  test("`openstackProvider.fetch()`: the metadata service's 404 is no config", async () => {
    md.openstack = { status: 404, body: "" };
    expect((await fetchOn(brightboxProvider, osEnv({}))).kind).toBe("none");
  });

  test("`openstackProvider.fetch()` reads CONFIG-2 when the metadata service is unreachable", async () => {
    const dev = await makeDrive("CONFIG-2", { "openstack/latest/user_data": CONFIG });
    const env = labels({ "CONFIG-2": dev }, { NEXUS_URL_OPENSTACK: "http://127.0.0.1:1", NEXUS_URL_OPENSTACK_V6: "http://[::1]:1" });
    const r = await fetchOn(openstackProvider, env);
    expect(r.kind === "config" && r.source).toBe('openstack config drive "CONFIG-2":/openstack/latest/user_data');
    await noMountsLeft();
  });

  test("`openstackProvider.fetch()` and `cloudstackProvider.fetch()` need the network (Ignition issue 1081)", async () => {
    const dev = await makeDrive("config-2", { "openstack/latest/user_data": CONFIG });
    for (const p of [openstackProvider, cloudstackProvider]) {
      const e = await fetchOn(p, osEnv({ "config-2": dev }), true).catch((x) => x);
      expect(findNeedNet(e)).toBeInstanceOf(NeedNetError);
    }
  });

  test("`cloudstackProvider.fetch()` asks the DHCP server of the lease for /latest/user-data", async () => {
    md.cloudstack = { status: 200, body: CONFIG, delayMs: 0 };
    const leases = join(work, `leases${++n}`);
    mkdirSync(leases);
    writeFileSync(join(leases, "eth0"), "ADDRESS=10.1.1.5\nSERVER_ADDRESS=127.0.0.1\n");
    const env = labels({}, { NEXUS_PATH_DHCP_LEASES: leases, NEXUS_PATH_NETWORKD_LEASES: join(work, "none"), NEXUS_URL_CLOUDSTACK: `http://{dhcp-server}:${server.port}` });
    const r = await fetchOn(cloudstackProvider, env);
    expect(text(r)).toBe(CONFIG);
    expect(seen.at(-1)).toBe("/latest/user-data");
  });

  test("`cloudstackProvider.fetch()`: a drive that answers first wins over a slow metadata service", async () => {
    md.cloudstack = { status: 200, body: '{"ignition":{"version":"3.0.0"}}', delayMs: 1500 };
    const dev = await makeDrive("config-2", { "cloudstack/userdata/user_data.txt": CONFIG });
    const leases = join(work, `leases${++n}`);
    mkdirSync(leases);
    writeFileSync(join(leases, "2"), "SERVER_ADDRESS=127.0.0.1\n");
    const env = labels({ "config-2": dev }, { NEXUS_PATH_NETWORKD_LEASES: leases, NEXUS_URL_CLOUDSTACK: `http://{dhcp-server}:${server.port}` });
    const r = await fetchOn(cloudstackProvider, env);
    expect(r.kind === "config" && r.source).toBe('cloudstack config drive "config-2":/cloudstack/userdata/user_data.txt');
    expect(text(r)).toBe(CONFIG);
    await noMountsLeft();
  });
});

describe("azure: IMDS, then the OVF CD-ROM", () => {
  // The host kernel cannot mount UDF: blkid and mount are fakes that present an ext4 loop device
  // as the UDF CD-ROM; sysfs is a fake tree saying which devices are CD-ROMs with a disc.
  async function ovfSetup(files: Record<string, string>, opts: { cdrom: boolean }) {
    const dev = await makeDrive("azure-ovf", files);
    const sys = join(work, `sys${++n}`);
    const name = dev.replace("/dev/", "");
    mkdirSync(join(sys, name, "device"), { recursive: true });
    writeFileSync(join(sys, name, "device", "type"), opts.cdrom ? "5\n" : "0\n");
    writeFileSync(join(sys, name, "size"), "16384\n");
    return { dev, sys };
  }

  function ovfSystem(env: Record<string, string>, devices: Record<string, string[]>) {
    const mounts: string[][] = [];
    const system = fakeSystem({
      env,
      respond: (cmd, args) => {
        if (cmd === "blkid") {
          const type = args.find((a) => a.startsWith("TYPE="))!.slice(5);
          const list = devices[type] ?? [];
          return { argv: [cmd, ...args], code: list.length ? 0 : 2, stdout: list.join("\n") + "\n", stderr: "" };
        }
        if (cmd === "mount") {
          mounts.push([...args]);
          const r = Bun.spawnSync(["mount", "-o", "ro", args.at(-2)!, args.at(-1)!]);
          return { argv: [cmd, ...args], code: r.exitCode, stdout: "", stderr: r.stderr.toString() };
        }
        return undefined;
      },
      real: true,
    });
    return { system, mounts };
  }

  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  afterAll(() => server.stop(true));

  test("`azureProvider.fetch()` reads CustomData.bin from the UDF CD-ROM when IMDS has no user data", async () => {
    const { dev, sys } = await ovfSetup({ "ovf-env.xml": "<Environment/>", "CustomData.bin": CONFIG }, { cdrom: true });
    const env = scratchEnv({ NEXUS_URL_AZURE: `http://127.0.0.1:${server.port}`, NEXUS_PATH_SYS_CLASS_BLOCK: sys });
    const { system, mounts } = ovfSystem(env, { udf: [dev] });
    const r = await azureProvider.fetch(providerContext("azure", env, { system }));
    expect(text(r)).toBe(CONFIG);
    expect(r.kind === "config" && r.source).toBe(`azure OVF custom data ${dev}:/CustomData.bin`);
    expect(mounts[0]!.slice(0, 4)).toEqual(["-o", "ro", "-t", "udf"]);
    await noMountsLeft();
  });

  test("`azurestackProvider.fetch()` ignores a UDF disk that is not a CD-ROM, reads an ISO 9660 CD-ROM, offline", async () => {
    const disk = await ovfSetup({ "ovf-env.xml": "<Environment/>", "CustomData.bin": '{"ignition":{"version":"3.0.0"}}' }, { cdrom: false });
    const cd = await ovfSetup({ "ovf-env.xml": "<Environment/>", "CustomData.bin": CONFIG }, { cdrom: true });
    // One sysfs tree with both devices.
    await Bun.$`cp -r ${disk.sys}/. ${cd.sys}/`.quiet();
    const env = scratchEnv({ NEXUS_PATH_SYS_CLASS_BLOCK: cd.sys });
    const { system, mounts } = ovfSystem(env, { udf: [disk.dev], iso9660: [cd.dev] });
    const r = await azurestackProvider.fetch(providerContext("azurestack", env, { system, offline: true }));
    expect(text(r)).toBe(CONFIG);
    expect(mounts.map((m) => m[3])).toEqual(["iso9660"]);
  });

  test("acquiring on azurestack: invalid JSON in CustomData.bin is an error naming the platform and the CD-ROM", async () => {
    const { dev, sys } = await ovfSetup({ "ovf-env.xml": "<Environment/>", "CustomData.bin": "{oops" }, { cdrom: true });
    const env = scratchEnv({ NEXUS_PATH_SYS_CLASS_BLOCK: sys });
    const { system } = ovfSystem(env, { udf: [dev] });
    await expect(acquireOn("azurestack", env, { system, offline: true })).rejects.toThrow(`Cannot parse user config from azurestack OVF custom data ${dev}:/CustomData.bin`);
    await noMountsLeft();
  });

  test("`azureProvider.fetch()`: an OVF drive without CustomData.bin is no config", async () => {
    const { dev, sys } = await ovfSetup({ "ovf-env.xml": "<Environment/>" }, { cdrom: true });
    const env = scratchEnv({ NEXUS_URL_AZURE: `http://127.0.0.1:${server.port}`, NEXUS_PATH_SYS_CLASS_BLOCK: sys });
    const { system } = ovfSystem(env, { udf: [dev] });
    expect((await azureProvider.fetch(providerContext("azure", env, { system }))).kind).toBe("none");
  });
});
