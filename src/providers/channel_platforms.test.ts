import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { providerFilesConfig } from "../acquire/acquire.ts";
import { deleteProvisionedConfig } from "../acquire/platform_hooks.ts";
import { mergeConfigs } from "../config/index.ts";
import { decodeDataUrl } from "../resource/index.ts";
import { fakeSystem } from "../system/fake.ts";
import type { CommandResult } from "../system/system.ts";
import { applehvProvider } from "./applehv.ts";
import { nvidiabluefieldProvider } from "./nvidiabluefield.ts";
import { findIgnSpoolFile, zvmProvider } from "./zvm.ts";
import { KVP_MSG_SIZE, KVP_OP_REGISTER1, KVP_OP_SET, readKvpPairs, type KvpChannel } from "./hv_kvp.ts";
import { hypervProvider, hypervProviderWith } from "./hyperv.ts";
import { readOvfProperties } from "./ovf_env.ts";
import { acquireOn, providerContext, scratchEnv } from "./test_support.ts";
import type { ProviderResult } from "./types.ts";
import { VBOX_CONFIG, VBOX_ENCODING, virtualboxProvider } from "./virtualbox.ts";
import { DELETED_DATA, vmwareProvider } from "./vmware.ts";

// The hypervisor channels QEMU cannot emulate, each against a fake of the tool or device it
// uses, answering as the real one does.
const CONFIG = '{"ignition":{"version":"3.4.0"}}';
const text = (r: ProviderResult) => (r.kind === "config" ? new TextDecoder().decode(r.raw) : "none");
const ok = (argv: readonly string[], stdout = ""): CommandResult => ({ argv, code: 0, stdout, stderr: "" });
const fail = (argv: readonly string[], code: number, stderr: string, stdout = ""): CommandResult => ({ argv, code, stdout, stderr });

/** open-vm-tools' vmware-rpctool over a guestinfo store ("info-get guestinfo.K", "info-set guestinfo.K V"). */
function fakeRpctool(store: Map<string, string>, opts: { vmware?: boolean } = {}) {
  return (argv: readonly string[]): CommandResult => {
    if (opts.vmware === false) return fail(argv, 255, "Error: vmware-rpctool must be run inside a virtual machine on a VMware hypervisor product.\n");
    const [cmd] = argv.slice(1);
    let m = /^info-get guestinfo\.(\S+)$/.exec(cmd ?? "");
    if (m) return store.has(m[1]!) ? ok(argv, store.get(m[1]!)! + "\n") : fail(argv, 1, "No value found\n");
    m = /^info-set guestinfo\.(\S+) ([\s\S]*)$/.exec(cmd ?? "");
    if (m) {
      store.set(m[1]!, m[2]!);
      return ok(argv);
    }
    return fail(argv, 1, "Unknown command\n");
  };
}

function vmwareContext(store: Map<string, string>, opts: { vmware?: boolean } = {}) {
  const tool = fakeRpctool(store, opts);
  const env = scratchEnv();
  const system = fakeSystem({ env, respond: (cmd, args) => (cmd === "vmwareRpctool" ? tool([cmd, ...args]) : undefined) });
  return { ctx: providerContext("vmware", env, { system, offline: true }), system, env };
}

const ovfEnv = (data: string, encoding: string) => `<?xml version="1.0" encoding="UTF-8"?>
<Environment xmlns="http://schemas.dmtf.org/ovf/environment/1" xmlns:oe="http://schemas.dmtf.org/ovf/environment/1" oe:id="">
   <PlatformSection><Kind>VMware ESXi</Kind></PlatformSection>
   <PropertySection>
         <Property oe:key="guestinfo.hostname" oe:value="node1"/>
         <Property oe:key="guestinfo.ignition.config.data" oe:value="${data}"/>
         <Property oe:key="guestinfo.ignition.config.data.encoding" oe:value="${encoding}"/>
   </PropertySection>
</Environment>`;

describe("vmware guestinfo (vmware-rpctool)", () => {
  const gz64 = Buffer.from(Bun.gzipSync(new TextEncoder().encode(CONFIG))).toString("base64");
  for (const [encoding, data] of [
    ["", CONFIG],
    ["base64", Buffer.from(CONFIG).toString("base64")],
    ["b64", Buffer.from(CONFIG).toString("base64")],
    ["gzip+base64", gz64],
    ["gz+b64", gz64],
  ] as const) {
    test(`\`vmwareProvider.fetch()\` decodes ignition.config.data with encoding "${encoding}", offline`, async () => {
      const { ctx } = vmwareContext(new Map([["ignition.config.data", data], ["ignition.config.data.encoding", encoding]]));
      expect(text(await vmwareProvider.fetch(ctx))).toBe(CONFIG);
    });
  }

  test("`vmwareProvider.fetch()` reads the OVF environment, and variables set directly win", async () => {
    const store = new Map([["ovfenv", ovfEnv(Buffer.from(CONFIG).toString("base64"), "base64")]]);
    expect(text(await vmwareProvider.fetch(vmwareContext(store).ctx))).toBe(CONFIG);
    store.set("ignition.config.data", '{"ignition":{"version":"3.1.0"}}');
    store.set("ignition.config.data.encoding", "");
    expect(text(await vmwareProvider.fetch(vmwareContext(store).ctx))).toContain("3.1.0");
  });

  test("`vmwareProvider.fetch()`: no variable is no config; not VMware is an error", async () => {
    expect((await vmwareProvider.fetch(vmwareContext(new Map()).ctx)).kind).toBe("none");
    await expect(vmwareProvider.fetch(vmwareContext(new Map(), { vmware: false }).ctx)).rejects.toThrow(/platform "vmware".*not a VMware virtual machine/);
  });

  test("`vmwareProvider.fetch()` refuses bad base64 and unknown encodings, naming the source", async () => {
    const bad = vmwareContext(new Map([["ignition.config.data", "***"], ["ignition.config.data.encoding", "base64"]]));
    await expect(vmwareProvider.fetch(bad.ctx)).rejects.toThrow(/platform "vmware" from vmware guestinfo.ignition.config.data \(encoding "base64"\): invalid base64/);
    const odd = vmwareContext(new Map([["ignition.config.data", CONFIG], ["ignition.config.data.encoding", "rot13"]]));
    await expect(vmwareProvider.fetch(odd.ctx)).rejects.toThrow(/unsupported encoding "rot13"/);
  });

  test("acquiring on vmware: invalid JSON is an error naming the platform and source", async () => {
    const { system, env } = vmwareContext(new Map([["ignition.config.data", "{nope"]]));
    await expect(acquireOn("vmware", env, { system, offline: true })).rejects.toThrow(/Cannot parse user config from vmware guestinfo.ignition.config.data/);
  });

  test("`deleteProvisionedConfig()` on vmware replaces the config by {} and removes it from the OVF environment", async () => {
    const store = new Map([
      ["ignition.config.data", CONFIG],
      ["ovfenv", ovfEnv("c2VjcmV0", "base64")],
    ]);
    const { ctx } = vmwareContext(store);
    await deleteProvisionedConfig(ctx);
    expect(store.get("ignition.config.data")).toBe(DELETED_DATA);
    expect(store.get("ignition.config.data.encoding")).toBe("base64");
    expect(readOvfProperties(store.get("ovfenv")!)).toEqual({ "guestinfo.hostname": "node1" });
    expect(store.get("ovfenv")).not.toContain("c2VjcmV0");
    // A second run has nothing left to change.
    const again = vmwareContext(store);
    await deleteProvisionedConfig(again.ctx);
    expect(again.system.calls.map((c) => c.args[0]!.split(" ")[0])).toEqual(["info-get", "info-get"]);
  });
});

/** The Guest Additions' VBoxControl over a property store. */
function fakeVBoxControl(props: Map<string, string>) {
  return (argv: readonly string[]): CommandResult => {
    const [, , verb, name] = argv.slice(1);
    if (verb === "get") return props.has(name!) ? ok(argv, `Value: ${props.get(name!)}\n`) : fail(argv, 2, "", "No value set!\n");
    if (verb === "delete") {
      props.delete(name!);
      return ok(argv);
    }
    return fail(argv, 1, "Syntax error\n");
  };
}

describe("virtualbox guest properties (VBoxControl)", () => {
  const vbox = (props: Map<string, string>) => {
    const env = scratchEnv();
    const tool = fakeVBoxControl(props);
    const system = fakeSystem({ env, respond: (cmd, args) => (cmd === "vboxControl" ? tool([cmd, ...args]) : undefined) });
    return { ctx: providerContext("virtualbox", env, { system, offline: true }), system };
  };

  test("`virtualboxProvider.fetch()` reads /Ignition/Config, offline", async () => {
    const { ctx, system } = vbox(new Map([[VBOX_CONFIG, CONFIG]]));
    expect(text(await virtualboxProvider.fetch(ctx))).toBe(CONFIG);
    expect(system.calls.map((c) => c.args.join(" "))).toEqual([`--nologo guestproperty get ${VBOX_ENCODING}`, `--nologo guestproperty get ${VBOX_CONFIG}`]);
  });

  test("`virtualboxProvider.fetch()`: no property is no config; an encoding is refused", async () => {
    expect((await virtualboxProvider.fetch(vbox(new Map()).ctx)).kind).toBe("none");
    await expect(virtualboxProvider.fetch(vbox(new Map([[VBOX_CONFIG, CONFIG], [VBOX_ENCODING, "gzip"]])).ctx)).rejects.toThrow(
      /platform "virtualbox".*unsupported \/Ignition\/Config\/Encoding value "gzip"/,
    );
  });

  test("acquiring on virtualbox: invalid JSON is an error naming the platform and source", async () => {
    const env = scratchEnv();
    const tool = fakeVBoxControl(new Map([[VBOX_CONFIG, "{nope"]]));
    const system = fakeSystem({ env, respond: (cmd, args) => (cmd === "vboxControl" ? tool([cmd, ...args]) : undefined) });
    await expect(acquireOn("virtualbox", env, { system, offline: true })).rejects.toThrow(/Cannot parse user config from virtualbox .*\/Ignition\/Config/);
  });

  test("`deleteProvisionedConfig()` on virtualbox deletes both properties", async () => {
    const props = new Map([[VBOX_CONFIG, CONFIG], [VBOX_ENCODING, ""], ["/Other", "x"]]);
    await deleteProvisionedConfig(vbox(props).ctx);
    expect([...props.keys()]).toEqual(["/Other"]);
  });
});

/** hv_utils' /dev/vmbus/hv_kvp as the driver behaves: echoes the registration, then one message per pair, each acknowledged, then silence. */
function fakeKvpDevice(pairs: { pool: number; key: string; value: string }[]) {
  const outbox: Uint8Array[] = [];
  const replies: Uint8Array[] = [];
  let registered = false;
  let closed = false;
  const enc = new TextEncoder();
  const channel: KvpChannel = {
    write(msg) {
      if (msg.length !== KVP_MSG_SIZE) return -1;
      if (!registered) {
        if (msg[0] !== KVP_OP_REGISTER1) throw Object.assign(new Error("EINVAL"), { code: "EINVAL" });
        registered = true;
        const echo = new Uint8Array(KVP_MSG_SIZE);
        echo[0] = KVP_OP_REGISTER1;
        outbox.push(echo);
        for (const p of pairs) {
          const m = new Uint8Array(KVP_MSG_SIZE);
          const v = new DataView(m.buffer);
          m[0] = KVP_OP_SET;
          m[1] = p.pool;
          const k = enc.encode(p.key);
          const val = enc.encode(p.value);
          v.setUint32(8, k.length + 1, true);
          v.setUint32(12, val.length + 1, true);
          m.set(k, 16);
          m.set(val, 16 + 512);
          outbox.push(m);
        }
      } else replies.push(msg.slice());
      return msg.length;
    },
    read(into) {
      const m = outbox.shift();
      if (!m) return "again";
      into.set(m);
      return m.length;
    },
    close() {
      closed = true;
    },
  };
  return { channel, replies, isClosed: () => closed };
}

describe("hyperv KVP (hv_kvp device)", () => {
  const hyperv = (pairs: { pool: number; key: string; value: string }[]) => {
    const dev = fakeKvpDevice(pairs);
    const env = scratchEnv({ NEXUS_PATH_HV_UTILS_DRIVER: "/" });
    const provider = hypervProviderWith(() => dev.channel);
    return { dev, provider, ctx: providerContext("hyperv", env, { offline: true }) };
  };

  test("`readKvpPairs()` registers, acknowledges every pair and stops when the host goes quiet", async () => {
    const dev = fakeKvpDevice([{ pool: 0, key: "a", value: "1" }, { pool: 3, key: "b", value: "2" }]);
    expect(await readKvpPairs(dev.channel, 100)).toEqual([{ pool: 0, key: "a", value: "1" }, { pool: 3, key: "b", value: "2" }]);
    expect(dev.replies.map((r) => new DataView(r.buffer).getUint32(0, true))).toEqual([0, 0]);
  });

  test("`hypervProvider.fetch()` reads ignition.config of pool 0 and writes the pools mode 0600", async () => {
    const { provider, ctx, dev } = hyperv([{ pool: 0, key: "ignition.config", value: CONFIG }, { pool: 1, key: "other", value: "x" }]);
    const r = await provider.fetch(ctx);
    expect(text(r)).toBe(CONFIG);
    expect(dev.isClosed()).toBe(true);
    expect(r.files?.map((f) => [f.path, f.mode.toString(8), f.data.length])).toEqual([
      ["/var/lib/hyperv/.kvp_pool_0", "600", 2560],
      ["/var/lib/hyperv/.kvp_pool_1", "600", 2560],
      ["/var/lib/hyperv/.kvp_pool_2", "600", 0],
      ["/var/lib/hyperv/.kvp_pool_3", "600", 0],
      ["/var/lib/hyperv/.kvp_pool_4", "600", 0],
    ]);
  });

  test("`hypervProvider.fetch()` joins ignition.config.0, .1, … when the config is split", async () => {
    const { provider, ctx } = hyperv([
      { pool: 0, key: "ignition.config.1", value: CONFIG.slice(10) },
      { pool: 0, key: "ignition.config.0", value: CONFIG.slice(0, 10) },
    ]);
    expect(text(await provider.fetch(ctx))).toBe(CONFIG);
  });

  test("`hypervProvider.fetch()` without the KVP device (not Hyper-V) is an error naming the platform and device", async () => {
    const env = scratchEnv({ NEXUS_PATH_HV_UTILS_DRIVER: "/", NEXUS_PATH_HV_KVP_DEVICE: "/nonexistent/hv_kvp" });
    await expect(hypervProvider.fetch(providerContext("hyperv", env))).rejects.toThrow(/platform "hyperv" from KVP \/nonexistent\/hv_kvp: .*(ENOENT|no such file)/i);
  });

  test("`hypervProvider.fetch()`: no key is no config, and the pools are still written", async () => {
    const { provider, ctx } = hyperv([{ pool: 2, key: "x", value: "y" }]);
    const r = await provider.fetch(ctx);
    expect(r.kind).toBe("none");
    expect(r.files?.length).toBe(5);
  });

  test("`providerFilesConfig()`: the pools become files (mode 0600, overwritten) the user config is merged over", async () => {
    const files = providerFilesConfig([{ path: "/var/lib/hyperv/.kvp_pool_0", mode: 0o600, data: new Uint8Array([1, 0, 2]) }]);
    const f = files.storage!.files![0]!;
    expect([f.path, f.mode, f.overwrite]).toEqual(["/var/lib/hyperv/.kvp_pool_0", 0o600, true]);
    const decoded = decodeDataUrl(f.contents!.source!);
    expect(decoded.ok && [...decoded.bytes]).toEqual([1, 0, 2]);
    const user = { ignition: { version: "3.4.0" }, storage: { files: [{ path: "/var/lib/hyperv/.kvp_pool_0", mode: 0o644 }] } };
    expect(mergeConfigs(files, user as never).storage!.files!.map((x) => x.mode)).toEqual([0o644]);
  });
});

describe("applehv, nvidiabluefield, zvm", () => {
  test("`applehvProvider.fetch()` GETs / over vsock 2:1024 through socat, offline", async () => {
    const env = scratchEnv({ NEXUS_PATH_VSOCK_DEVICE: "/" });
    const response = `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${CONFIG.length}\r\n\r\n${CONFIG}`;
    const system = fakeSystem({ env, respond: (cmd, args) => (cmd === "socat" ? ok([cmd, ...args], response) : undefined) });
    const r = await applehvProvider.fetch(providerContext("applehv", env, { system, offline: true }));
    expect(text(r)).toBe(CONFIG);
    expect(system.calls[0]!.args).toEqual(["-", "VSOCK-CONNECT:2:1024"]);
    expect(String(system.calls[0]!.opts?.stdin)).toMatch(/^GET \/ HTTP\/1\.1\r\n[\s\S]*Accept: application\/json\r\n/);
  });

  test("`applehvProvider.fetch()` loads vsock when its device is missing; a refused connection is an error", async () => {
    const env = scratchEnv({ NEXUS_PATH_VSOCK_DEVICE: "/nonexistent" });
    const system = fakeSystem({
      env,
      respond: (cmd, args) =>
        cmd === "modprobe" ? ok([cmd, ...args]) : cmd === "socat" ? fail([cmd, ...args], 1, "socat E connect(5, AF=40 cid:2 port:1024): Connection reset by peer\n") : undefined,
    });
    await expect(applehvProvider.fetch(providerContext("applehv", env, { system }))).rejects.toThrow(/platform "applehv" from applehv vsock .*Connection reset/);
    expect(system.calls.map((c) => c.cmd)).toEqual(["modprobe", "socat"]);
  });

  test("`nvidiabluefieldProvider.fetch()` reads the boot FIFO, trims NUL padding; empty or missing is no config", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nexus-bf-"));
    const fifo = join(dir, "bootfifo");
    writeFileSync(fifo, Buffer.concat([Buffer.from(CONFIG), Buffer.alloc(64)]));
    const env = scratchEnv({ NEXUS_PATH_BLUEFIELD_BOOTFIFO: fifo });
    const system = fakeSystem({ env, respond: (cmd, args) => (cmd === "modprobe" ? ok([cmd, ...args]) : undefined) });
    expect(text(await nvidiabluefieldProvider.fetch(providerContext("nvidiabluefield", env, { system, offline: true })))).toBe(CONFIG);
    expect(system.calls.map((c) => [c.cmd, ...c.args])).toEqual([["modprobe", "mlxbf_bootctl"]]);
    writeFileSync(fifo, "");
    expect((await nvidiabluefieldProvider.fetch(providerContext("nvidiabluefield", env, { system }))).kind).toBe("none");
    const gone = scratchEnv({ NEXUS_PATH_BLUEFIELD_BOOTFIFO: join(dir, "absent") });
    expect((await nvidiabluefieldProvider.fetch(providerContext("nvidiabluefield", gone, { system }))).kind).toBe("none");
  });

  test("acquiring on applehv, nvidiabluefield: invalid JSON is an error naming the platform and source", async () => {
    const bad = "{nope";
    const vsockEnv = scratchEnv({ NEXUS_PATH_VSOCK_DEVICE: "/" });
    const response = `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${bad.length}\r\n\r\n${bad}`;
    const vsock = fakeSystem({ env: vsockEnv, respond: (cmd, args) => (cmd === "socat" ? ok([cmd, ...args], response) : undefined) });
    await expect(acquireOn("applehv", vsockEnv, { system: vsock, offline: true })).rejects.toThrow(/Cannot parse user config from applehv vsock/);
    const fifo = join(mkdtempSync(join(tmpdir(), "nexus-bf-")), "bootfifo");
    writeFileSync(fifo, bad);
    const bfEnv = scratchEnv({ NEXUS_PATH_BLUEFIELD_BOOTFIFO: fifo });
    const bf = fakeSystem({ env: bfEnv, respond: (cmd, args) => (cmd === "modprobe" ? ok([cmd, ...args]) : undefined) });
    await expect(acquireOn("nvidiabluefield", bfEnv, { system: bf, offline: true })).rejects.toThrow(/Cannot parse user config from nvidiabluefield .*bootfifo/);
  });

  const LISTING = [
    "ORIGINID FILE CLASS RECORDS  CPY HOLD DATE  TIME     NAME      TYPE      DIST",
    "RSCS     0004 B PUN 00000006 001 NONE 06/11 15:30:44 readme    txt       SYSPROG",
    "LINUX1   0007 A PUN 00000010 001 NONE 06/11 15:31:02 config    ign       LINUX1",
    "",
  ].join("\n");

  test("`findIgnSpoolFile()` finds the first .ign file of the reader queue", () => {
    expect(findIgnSpoolFile(LISTING)).toEqual({ spoolId: "0007", file: "config.ign" });
    expect(findIgnSpoolFile(LISTING.replace("ign ", "txt "))).toBeNull();
  });

  test("`zvmProvider.fetch()` onlines the reader (exposing it first when needed) and receives the .ign spool file", async () => {
    const spool = mkdtempSync(join(tmpdir(), "nexus-zvm-"));
    const env = scratchEnv({ NEXUS_PATH_ZVM_SPOOL_DIR: spool });
    let exposed = false;
    const system = fakeSystem({
      env,
      respond: (cmd, args) => {
        const argv = [cmd, ...args];
        if (cmd === "modprobe" || cmd === "udevadm") return ok(argv);
        if (cmd === "cioIgnore") return (exposed = true), ok(argv);
        if (cmd === "chccwdev") return exposed ? ok(argv, "Setting device 0.0.000c online\nDone\n") : fail(argv, 1, "Device 0.0.000c not found\n");
        if (cmd === "vmur" && args[0] === "li") return ok(argv, LISTING);
        if (cmd === "vmur" && args[0] === "re") {
          writeFileSync(args[3]!, Buffer.concat([Buffer.from(CONFIG), Buffer.alloc(80 - (CONFIG.length % 80))]));
          return ok(argv);
        }
        return undefined;
      },
    });
    const r = await zvmProvider.fetch(providerContext("zvm", env, { system, offline: true }));
    expect(text(r)).toBe(CONFIG);
    expect(system.calls.map((c) => [c.cmd, ...c.args].join(" "))).toEqual([
      "modprobe vmur",
      "chccwdev -e 000c",
      "cioIgnore -r 000c",
      "chccwdev -e 000c",
      "udevadm settle",
      "vmur li",
      `vmur re -f 0007 ${join(spool, "config.ign")}`,
    ]);
    mkdirSync(spool, { recursive: true });
  });

  test("acquiring on zvm: invalid JSON in the spool file is an error naming the platform and source", async () => {
    const spool = mkdtempSync(join(tmpdir(), "nexus-zvm-"));
    const env = scratchEnv({ NEXUS_PATH_ZVM_SPOOL_DIR: spool });
    const system = fakeSystem({
      env,
      respond: (cmd, args) => {
        const argv = [cmd, ...args];
        if (cmd === "vmur" && args[0] === "li") return ok(argv, LISTING);
        if (cmd === "vmur" && args[0] === "re") return writeFileSync(args[3]!, "{nope"), ok(argv);
        return ok(argv);
      },
    });
    await expect(acquireOn("zvm", env, { system, offline: true })).rejects.toThrow(/Cannot parse user config from zvm .*config\.ign/);
  });

  test("`zvmProvider.fetch()`: no .ign file is no config; a failing vmur is an error", async () => {
    const env = scratchEnv({ NEXUS_PATH_ZVM_SPOOL_DIR: mkdtempSync(join(tmpdir(), "nexus-zvm-")) });
    const answer = (listing: CommandResult | null) =>
      fakeSystem({
        env,
        respond: (cmd, args) => (cmd === "vmur" ? (listing ?? fail([cmd, ...args], 1, "vmur: Open of reader device failed\n")) : ok([cmd, ...args])),
      });
    expect((await zvmProvider.fetch(providerContext("zvm", env, { system: answer(ok([], LISTING.replace("ign ", "txt "))) }))).kind).toBe("none");
    await expect(zvmProvider.fetch(providerContext("zvm", env, { system: answer(null) }))).rejects.toThrow(/platform "zvm": listing the reader queue failed: vmur: Open/);
  });
});
