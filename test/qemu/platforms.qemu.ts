// The platform providers in the real initramfs under QEMU (TCG), one boot per transport kind,
// each running `nexus-init run --stage fetch-offline` and, when it flags the network, `--stage
// fetch` for several platforms inside the test VM:
//   A. metadata services: link-local addresses (169.254.169.254, Scaleway's 169.254.42.42) and
//      Alibaba's 100.100.100.200 on a second NIC, served from the host through slirp guestfwd;
//      CloudStack's on the DHCP server of the lease; Azure's UDF CD-ROM behind an empty IMDS.
//   B. config drives: ISO 9660 and vfat disks labelled config-2, CONFIG-2 and cidata.
// Run by `make test-qemu`. Serial logs: build/test-qemu/platforms-*.log.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { makeConfigDrive } from "./config_drives.ts";
import { REPO } from "./paths.ts";
import { startScriptedServer, type MockServer, type ScriptedAnswer } from "./servers.ts";
import { runTestVm, type TestVmResult } from "./test_vm.ts";

const WORK = join(REPO, "build/test-qemu/platforms");
const BOOT_TIMEOUT_MS = Number(process.env.NEXUS_QEMU_BOOT_TIMEOUT_MS ?? 180_000);
// The guest runs nexus-init some 30 times: allow for that on top of a boot.
const VM_TIMEOUT_MS = BOOT_TIMEOUT_MS + 240_000;
const TEST_TIMEOUT_MS = 2 * VM_TIMEOUT_MS;
mkdirSync(WORK, { recursive: true });
const servers: MockServer[] = [];
afterAll(() => servers.forEach((s) => s.stop()));

/** A config whose one file names where it came from. */
const cfg = (marker: string) => JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/platform", contents: { source: `data:,${marker}` } }] } });
const b64 = (s: string) => Buffer.from(s).toString("base64");
const ok = (body: string): ScriptedAnswer => ({ status: 200, body });

/**
 * The guest side: `check NAME TAG [VAR=value…]` runs fetch-offline, then fetch when it flagged
 * the network, in a fresh run directory, and leaves NAME-TAG.{offline,fetch}.{rc,log},
 * NAME-TAG.neednet and NAME-TAG.config.json in $NEXUS_RESULTS.
 */
const CHECK = `
check() {
  local p=$1 tag=$2; shift 2
  local d=/run/p/$p-$tag out=$NEXUS_RESULTS/$p-$tag
  mkdir -p "$d"
  env NEXUS_PATH_RUN_DIR="$d" "$@" nexus-init run --stage fetch-offline --platform "$p" --root /tmp/none >"$out.offline.log" 2>&1
  echo $? >"$out.offline.rc"
  if [ -e "$d/neednet" ]; then
    touch "$out.neednet"
    env NEXUS_PATH_RUN_DIR="$d" "$@" nexus-init run --stage fetch --platform "$p" --root /tmp/none >"$out.fetch.log" 2>&1
    echo $? >"$out.fetch.rc"
  fi
  [ -e "$d/config.json" ] && cp "$d/config.json" "$out.config.json"
  echo "checked $p $tag"
}
`;

/** What one check left behind. */
function outcome(r: TestVmResult, name: string) {
  const read = (f: string) => {
    try {
      return r.readResult(`${name}.${f}`);
    } catch {
      return null;
    }
  };
  return {
    neednet: read("neednet") !== null,
    offlineRc: read("offline.rc")?.trim(),
    fetchRc: read("fetch.rc")?.trim() ?? null,
    log: `${read("offline.log") ?? ""}${read("fetch.log") ?? ""}`,
    config: read("config.json"),
  };
}

/** The platform's config arrived: its marker is in the cached config. */
function expectConfig(r: TestVmResult, name: string, marker: string | RegExp, net: boolean) {
  const o = outcome(r, name);
  const context = `${name}: ${o.log.slice(-1500)}`;
  expect({ name, neednet: o.neednet, rc: net ? o.fetchRc : o.offlineRc, context }).toEqual({ name, neednet: net, rc: "0", context });
  expect(o.config ?? "").toMatch(typeof marker === "string" ? `data:,${marker}"` : marker);
}

/** The run ended in no config: success with the empty config. */
function expectNoConfig(r: TestVmResult, name: string, net: boolean) {
  const o = outcome(r, name);
  expect({ name, rc: net ? o.fetchRc : o.offlineRc, log: o.log.slice(-800) }).toMatchObject({ name, rc: "0" });
  expect(o.config).not.toContain("/etc/platform");
}

/** The run failed clearly and cached nothing. */
function expectError(r: TestVmResult, name: string, message: RegExp, net: boolean) {
  const o = outcome(r, name);
  expect({ name, rc: net ? o.fetchRc : o.offlineRc }).toEqual({ name, rc: "1" });
  expect(o.log).toMatch(message);
  expect(o.config).toBeNull();
}

describe("platform providers in the initramfs (QEMU, TCG)", () => {
  test.concurrent("A. metadata services and Azure's UDF CD-ROM", async () => {
    const md = startScriptedServer({
      "GET /latest/user-data": [ok(cfg("aliyun"))],
      "GET /metadata/v1/user-data": [ok(cfg("digitalocean")), { status: 404 }],
      "GET /1.0/user-data": [ok(cfg("exoscale"))],
      "GET /hetzner/v1/userdata": [ok(cfg("hetzner")), { status: 404 }],
      "GET /metadata/v1/user_data": [ok(cfg("upcloud"))],
      "GET /user-data/user-data": [ok(cfg("vultr"))],
      "GET /user_data/cloud-init": [ok(cfg("scaleway"))],
      "GET /opc/v2/instance/metadata/user_data": [ok(b64(cfg("oraclecloud"))), ok("%%% not base64")],
      "PUT /v1/token": [ok("akamai-token")],
      "GET /v1/user-data": [ok(b64(cfg("akamai")))],
      "GET /metadata/instance/compute/userData": [ok(b64(cfg("azure-imds"))), ok("")],
      "GET /openstack/latest/user_data": [ok(cfg("openstack")), ok("{not json")],
      "GET /cs/latest/user-data": [ok(cfg("cloudstack"))],
      "GET /packet/userdata": [ok(cfg("packet"))],
      "GET /packet/metadata": [ok(JSON.stringify({ phone_home_url: "http://169.254.169.254/packet/phone-home" }))],
      "POST /packet/events": [{ status: 204 }],
    });
    servers.push(md);
    const cd = makeConfigDrive(join(WORK, "azure-ovf.iso"), "udf", "OVFENV", { "ovf-env.xml": "<Environment/>\n", "CustomData.bin": cfg("azure-ovf") });
    const fwd = (guestIp: string) => ({ guestIp, guestPort: 80, hostPort: md.port });
    const script = `set -u
${CHECK}
ip link set lo up
ip link set eth0 up
udhcpc -i eth0 -s /usr/share/nexus/udhcpc.script -f -q -n -t 10 -T 1 -A 1 >/dev/null 2>&1 || echo "dhcp on eth0 failed"
ip link set eth1 up
ip addr add 100.100.100.15/24 dev eth1
cp /run/nexus/leases/eth0 "$NEXUS_RESULTS/lease" 2>/dev/null
for p in aliyun digitalocean exoscale hetzner upcloud vultr scaleway oraclecloud akamai azure openstack; do check $p ok; done
check packet ok NEXUS_URL_PACKET=http://169.254.169.254/packet
check cloudstack ok NEXUS_URL_CLOUDSTACK=http://{dhcp-server}:${md.port}/cs
check azure ovf
check azurestack ovf
check hetzner none
check digitalocean none
check oraclecloud bad
check openstack bad
`;
    const r = await runTestVm({
      script,
      net: [
        { mode: "user", net: "169.254.0.0/16", forwards: [fwd("169.254.169.254"), fwd("169.254.42.42")] },
        { mode: "user", net: "100.100.100.0/24", forwards: [fwd("100.100.100.200")] },
      ],
      cdroms: [cd],
      serialLog: join(WORK, "../platforms-a-metadata.log"),
      timeoutMs: VM_TIMEOUT_MS,
    });
    try {
      expect({ exit: r.exitCode, timedOut: r.vm.timedOut }).toEqual({ exit: 0, timedOut: false });
      for (const p of ["aliyun", "digitalocean", "exoscale", "hetzner", "upcloud", "vultr", "scaleway", "oraclecloud", "akamai", "openstack", "packet", "cloudstack"]) {
        expectConfig(r, `${p}-ok`, p, true);
      }
      expectConfig(r, "azure-ok", "azure-imds", true);
      expectConfig(r, "azure-ovf", "azure-ovf", true);
      expectConfig(r, "azurestack-ovf", "azure-ovf", false);
      expectNoConfig(r, "hetzner-none", true);
      expectError(r, "digitalocean-none", /platform "digitalocean" from digitalocean metadata http:\/\/169\.254\.169\.254\/metadata\/v1\/user-data: .*404/, true);
      expectError(r, "oraclecloud-bad", /Cannot decode config on platform "oraclecloud" from oraclecloud metadata .*invalid base64/, true);
      expectError(r, "openstack-bad", /Cannot parse user config from openstack the openstack metadata service/, true);
      // What the services saw: the documented headers, tokens, and Packet's timeline events.
      const seen = (m: string, p: string) => md.requests.filter((q) => q.method === m && q.path === p);
      expect(seen("GET", "/v1/user-data")[0]?.headers["metadata-token"]).toBe("akamai-token");
      expect(seen("GET", "/opc/v2/instance/metadata/user_data")[0]?.headers.authorization).toBe("Bearer Oracle");
      expect(seen("GET", "/metadata/instance/compute/userData")[0]?.headers.metadata).toBe("true");
      // One event, after fetch: after fetch-offline the post needs the network too (logged, not fatal).
      expect(seen("POST", "/packet/events").length).toBe(1);
      expect(outcome(r, "packet-ok").log).toMatch(/Cannot report the fetch-offline stage's status to platform "packet"/);
      // slirp puts its host (the DHCP server) at .2.2 of the network.
      expect(r.readResult("lease")).toMatch(/^SERVER_ADDRESS=169\.254\.2\.2$/m);
    } finally {
      r.cleanup();
    }
  }, TEST_TIMEOUT_MS);

  test.concurrent("B. config drives: ISO 9660 and vfat, config-2, CONFIG-2, cidata", async () => {
    const drives = [
      makeConfigDrive(join(WORK, "config-2.iso"), "iso", "config-2", { "openstack/latest/user_data": cfg("config-2") }),
      makeConfigDrive(join(WORK, "CONFIG-2.vfat"), "vfat", "CONFIG-2", {
        "openstack/latest/user_data": cfg("CONFIG-2"),
        "cloudstack/userdata/user_data.txt": cfg("cloudstack"),
      }),
      makeConfigDrive(join(WORK, "cidata.vfat"), "vfat", "cidata", { "user-data": cfg("cidata") }),
      makeConfigDrive(join(WORK, "pve.iso"), "iso", "pvecidata", { "user-data": "#cloud-config\nusers: []\n", "vendor-data": cfg("vendor-data") }),
      makeConfigDrive(join(WORK, "bad.iso"), "iso", "bad", { "openstack/latest/user_data": "{oops" }),
    ];
    // Platforms that see only some drives get a by-label directory of their own.
    const script = `set -u
${CHECK}
dev() { readlink -f /dev/disk/by-id/virtio-disk$1; }
labels() { local d=/run/labels/$1; shift; mkdir -p "$d"; while [ $# -gt 0 ]; do ln -s "$(dev $2)" "$d/$1"; shift 2; done; echo "$d"; }
ls -l /dev/disk/by-label/ >"$NEXUS_RESULTS/by-label.txt"
for p in openstack brightbox nutanix powervs kubevirt ibmcloud; do check $p ok; done
check cloudstack ok NEXUS_PATH_DISK_BY_LABEL=$(labels cs CONFIG-2 1)
check proxmoxve ok NEXUS_PATH_DISK_BY_LABEL=$(labels pve cidata 3)
check ibmcloud none NEXUS_PATH_DISK_BY_LABEL=$(labels none) NEXUS_CIDATA_WAIT_MS=3000
check powervs none NEXUS_PATH_DISK_BY_LABEL=$(labels empty config-2 2)
check nutanix bad NEXUS_PATH_DISK_BY_LABEL=$(labels bad config-2 4)
`;
    const r = await runTestVm({
      script,
      disks: drives.map((image) => ({ image })),
      serialLog: join(WORK, "../platforms-b-drives.log"),
      timeoutMs: VM_TIMEOUT_MS,
    });
    try {
      expect({ exit: r.exitCode, timedOut: r.vm.timedOut }).toEqual({ exit: 0, timedOut: false });
      const byLabel = r.readResult("by-label.txt");
      for (const l of ["config-2", "CONFIG-2", "cidata"]) expect(byLabel).toContain(` ${l} -> `);
      // OpenStack and Brightbox race config-2 and CONFIG-2 (and a metadata service the guest cannot reach).
      expectConfig(r, "openstack-ok", /data:,(config-2|CONFIG-2)"/, true);
      expectConfig(r, "brightbox-ok", /data:,(config-2|CONFIG-2)"/, true);
      expectConfig(r, "nutanix-ok", "config-2", false);
      expectConfig(r, "powervs-ok", "config-2", false);
      expectConfig(r, "kubevirt-ok", /data:,(config-2|cidata)"/, false);
      expectConfig(r, "ibmcloud-ok", "cidata", false);
      expectConfig(r, "cloudstack-ok", "cloudstack", true);
      expectConfig(r, "proxmoxve-ok", "vendor-data", false);
      expectNoConfig(r, "ibmcloud-none", false);
      expectNoConfig(r, "powervs-none", false);
      expectError(r, "nutanix-bad", /Cannot parse user config from nutanix config drive "config-2":\/openstack\/latest\/user_data/, false);
    } finally {
      r.cleanup();
      for (const d of drives) rmSync(d, { force: true });
    }
  }, TEST_TIMEOUT_MS);
});
