import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger } from "../log/logger.ts";
import { createFetcher, NeedNetError, type CloudEndpoints } from "../resource/index.ts";
import { fakeSystem } from "../system/fake.ts";
import { awsProvider } from "./aws.ts";
import { parseKernelArgs } from "./kernel_args.ts";
import { fileProvider } from "./file.ts";
import { gcpProvider } from "./gcp.ts";
import { fetchUserConfig, platformFromCmdline, PLATFORMS, providerChain } from "./index.ts";
import { cmdlineProvider } from "./cmdline_config.ts";
import { qemuProvider } from "./qemu.ts";
import { readBaseFragments, systemUserProvider } from "./system_dirs.ts";
import type { ProviderContext } from "./types.ts";

const dec = new TextDecoder();
const quiet = () => new Logger(() => {});
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "nexus-providers-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function context(opts: { cmdline?: string; env?: Record<string, string>; cloud?: Partial<CloudEndpoints>; offline?: boolean; platform?: string } = {}): ProviderContext {
  // modprobe is the one command a provider here runs: it loads nothing on a test host.
  const system = fakeSystem({ env: opts.env ?? {}, respond: (cmd, args) => (cmd === "modprobe" ? { argv: [cmd, ...args], code: 0, stdout: "", stderr: "" } : undefined) });
  return {
    fetcher: createFetcher({ retry: { initialMs: 5, maxMs: 20 }, cloud: opts.cloud, offline: opts.offline, env: opts.env ?? {} }),
    system,
    log: quiet(),
    cmdline: parseKernelArgs(opts.cmdline ?? ""),
    platform: opts.platform ?? "metal",
    deviceWaitMs: 300,
  };
}

/** A metadata look-alike covering both EC2 and GCP paths; `mode` picks its behaviour. */
function startMetadata() {
  const state = { mode: "ok" as "ok" | "v1" | "none" | "flaky" | "stall", hits: 0, log: [] as string[] };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(req) {
      const p = new URL(req.url).pathname;
      state.hits++;
      state.log.push(`${req.method} ${p} ${req.headers.get("x-aws-ec2-metadata-token") ?? "-"} ${req.headers.get("metadata-flavor") ?? "-"}`);
      if (state.mode === "stall") await Bun.sleep(3000);
      if (state.mode === "flaky" && state.hits <= 2) return new Response("", { status: 503 });
      if (p === "/latest/api/token") {
        if (req.method !== "PUT" || !req.headers.get("x-aws-ec2-metadata-token-ttl-seconds")) return new Response("", { status: 400 });
        return state.mode === "v1" ? new Response("", { status: 404 }) : new Response("tok-123");
      }
      if (p === "/latest/user-data") {
        if (state.mode === "none") return new Response("", { status: 404 });
        if (state.mode !== "v1" && req.headers.get("x-aws-ec2-metadata-token") !== "tok-123") return new Response("", { status: 401 });
        return new Response('{"ignition":{"version":"3.4.0"}}');
      }
      if (p === "/computeMetadata/v1/instance/attributes/user-data") {
        if (req.headers.get("metadata-flavor") !== "Google") return new Response("", { status: 403 });
        if (state.mode === "none") return new Response("", { status: 404 });
        return new Response('{"ignition":{"version":"3.3.0"}}');
      }
      return new Response("", { status: 404 });
    },
  });
  return { state, server, base: `http://127.0.0.1:${server.port}` };
}

describe("aws and gcp providers", () => {
  const md = startMetadata();
  afterAll(() => md.server.stop(true));
  const reset = (mode: typeof md.state.mode) => {
    md.state.mode = mode;
    md.state.hits = 0;
    md.state.log = [];
  };
  const cloud = { awsImds: md.base, gcpMetadata: md.base };

  test("`awsProvider.fetch()` reads user data with an IMDSv2 token", async () => {
    reset("ok");
    const r = await awsProvider.fetch(context({ cloud }));
    expect(r.kind).toBe("config");
    expect(md.state.log).toEqual(["PUT /latest/api/token - -", "GET /latest/user-data tok-123 -"]);
  });

  test("`awsProvider.fetch()` falls back to IMDSv1 when the token endpoint is absent", async () => {
    reset("v1");
    const r = await awsProvider.fetch(context({ cloud }));
    expect(r.kind === "config" && dec.decode(r.raw)).toContain("3.4.0");
    expect(md.state.log[1]).toBe("GET /latest/user-data - -");
  });

  test("`awsProvider.fetch()` answers none when the instance has no user data (404)", async () => {
    reset("none");
    expect((await awsProvider.fetch(context({ cloud }))).kind).toBe("none");
  });

  test("`awsProvider.fetch()` retries 5xx answers of the metadata service", async () => {
    reset("flaky");
    expect((await awsProvider.fetch(context({ cloud }))).kind).toBe("config");
    expect(md.state.hits).toBe(4);
  });

  test("`gcpProvider.fetch()` sends Metadata-Flavor: Google and returns the user-data attribute", async () => {
    reset("ok");
    const r = await gcpProvider.fetch(context({ cloud }));
    expect(r.kind === "config" && dec.decode(r.raw)).toContain("3.3.0");
    expect(md.state.log).toEqual(["GET /computeMetadata/v1/instance/attributes/user-data - Google"]);
  });

  test("`gcpProvider.fetch()` answers none on 404", async () => {
    reset("none");
    expect((await gcpProvider.fetch(context({ cloud }))).kind).toBe("none");
  });

  test("`gcpProvider.fetch()` retries 5xx answers", async () => {
    reset("flaky");
    expect((await gcpProvider.fetch(context({ cloud }))).kind).toBe("config");
    expect(md.state.hits).toBe(3);
  });

  test("`gcpProvider.fetch()` gives up when a stalled metadata server outlasts httpTotal", async () => {
    reset("stall");
    const ctx = context({ cloud });
    ctx.fetcher = ctx.fetcher.withDefaults({ timeouts: { httpResponseHeaders: 1, httpTotal: 2 } });
    const t0 = performance.now();
    await expect(gcpProvider.fetch(ctx)).rejects.toThrow(/timed out|headers/);
    await Bun.sleep(10);
    expect(performance.now() - t0).toBeLessThan(3000);
  });

  test("cloud providers throw NeedNetError when the fetcher is offline", async () => {
    for (const p of [awsProvider, gcpProvider]) {
      await expect(p.fetch(context({ cloud, offline: true }))).rejects.toBeInstanceOf(NeedNetError);
    }
  });
});

describe("qemu provider", () => {
  test("`qemuProvider.fetch()` reads opt/com.coreos/config from the fw_cfg directory", async () => {
    const fw = join(dir, "fw_cfg");
    mkdirSync(join(fw, "by_name/opt/com.coreos/config"), { recursive: true });
    writeFileSync(join(fw, "by_name/opt/com.coreos/config/raw"), '{"ignition":{"version":"3.0.0"}}');
    const r = await qemuProvider.fetch(context({ env: { NEXUS_PATH_FW_CFG: fw } }));
    expect(r.kind === "config" && r.source).toBe("fw_cfg opt/com.coreos/config");
  });

  test("`qemuProvider.fetch()` prefers opt/org.nexusos/config", async () => {
    const fw = join(dir, "fw_cfg2");
    for (const k of ["opt/com.coreos/config", "opt/org.nexusos/config"]) {
      mkdirSync(join(fw, "by_name", k), { recursive: true });
      writeFileSync(join(fw, "by_name", k, "raw"), k);
    }
    const r = await qemuProvider.fetch(context({ env: { NEXUS_PATH_FW_CFG: fw } }));
    expect(r.kind === "config" && dec.decode(r.raw)).toBe("opt/org.nexusos/config");
  });

  test("`qemuProvider.fetch()` loads qemu_fw_cfg when the directory is missing and answers none without a key", async () => {
    const ctx = context({ env: { NEXUS_PATH_FW_CFG: join(dir, "absent") } });
    const r = await qemuProvider.fetch(ctx);
    expect(r.kind).toBe("none");
    const calls = (ctx.system as ReturnType<typeof fakeSystem>).calls;
    expect(calls.map((c) => [c.cmd, ...c.args])).toEqual([["modprobe", "qemu_fw_cfg"]]);
  });
});

describe("file, system and cmdline providers", () => {
  test("`fileProvider.fetch()` reads IGNITION_CONFIG_FILE", async () => {
    const f = join(dir, "config.ign");
    writeFileSync(f, "{}");
    const r = await fileProvider.fetch(context({ env: { IGNITION_CONFIG_FILE: f } }));
    expect(r.kind === "config" && r.source).toBe(`file ${f}`);
  });

  test("`fileProvider.fetch()` throws when the file is missing", async () => {
    await expect(fileProvider.fetch(context({ env: { NEXUS_CONFIG_FILE: join(dir, "none.ign") } }))).rejects.toThrow(/Cannot read config file/);
  });

  test("`systemUserProvider.fetch()` prefers runtime over local over vendor user.ign", async () => {
    const root = join(dir, "sys1");
    const env = {
      IGNITION_SYSTEM_CONFIG_DIR: join(root, "vendor"),
      IGNITION_SYSTEM_RUNTIME_CONFIG_DIR: join(root, "runtime"),
      IGNITION_SYSTEM_LOCAL_CONFIG_DIR: join(root, "local"),
    };
    for (const d of ["vendor", "local"]) {
      mkdirSync(join(root, d), { recursive: true });
      writeFileSync(join(root, d, "user.ign"), d);
    }
    let r = await systemUserProvider.fetch(context({ env }));
    expect(r.kind === "config" && dec.decode(r.raw)).toBe("local");
    mkdirSync(join(root, "runtime"), { recursive: true });
    writeFileSync(join(root, "runtime", "user.ign"), "runtime");
    chmodSync(join(root, "runtime", "user.ign"), 0);
    r = await systemUserProvider.fetch(context({ env }));
    expect(r.kind === "config" && dec.decode(r.raw)).toBe("runtime");
  });

  test("`readBaseFragments()` orders base.d then base.platform.d by name, the runtime copy of a name winning", async () => {
    const root = join(dir, "sys2");
    const files: [string, string][] = [
      ["vendor/base.d/40-a.ign", "vendor-a"],
      ["runtime/base.d/40-a.ign", "runtime-a"],
      ["local/base.d/50-b.ign", "local-b"],
      ["vendor/base.platform.d/qemu/10-p.ign", "platform-p"],
      ["vendor/base.platform.d/aws/10-x.ign", "other-platform"],
    ];
    for (const [p, c] of files) {
      mkdirSync(join(root, p, ".."), { recursive: true });
      writeFileSync(join(root, p), c);
    }
    const env = {
      NEXUS_SYSTEM_CONFIG_DIR: join(root, "vendor"),
      NEXUS_SYSTEM_RUNTIME_CONFIG_DIR: join(root, "runtime"),
      NEXUS_SYSTEM_LOCAL_CONFIG_DIR: join(root, "local"),
    };
    const frags = await readBaseFragments(env, "qemu");
    expect(frags.map((f) => dec.decode(f.raw))).toEqual(["runtime-a", "local-b", "platform-p"]);
  });

  test("`cmdlineProvider.fetch()` fetches nexus.config.url (and its ignition alias)", async () => {
    for (const arg of ["nexus.config.url", "ignition.config.url"]) {
      const r = await cmdlineProvider.fetch(context({ cmdline: `quiet ${arg}=data:,%7B%7D` }));
      expect(r.kind === "config" && dec.decode(r.raw)).toBe("{}");
    }
  });

  test("`cmdlineProvider.fetch()` answers none without any config argument", async () => {
    expect((await cmdlineProvider.fetch(context({ cmdline: "root=/dev/sda1" }))).kind).toBe("none");
  });

  const halfSet: [string, RegExp][] = [
    ["ignition.config.device=IGNCONFIG", /config.path is not/],
    ["ignition.config.path=/config.ign", /config.device is not/],
  ];
  for (const [line, err] of halfSet) {
    test(`\`cmdlineProvider.fetch()\` throws when only ${line.split("=")[0]} is given`, async () => {
      await expect(cmdlineProvider.fetch(context({ cmdline: line }))).rejects.toThrow(err);
    });
  }

  test("`cmdlineProvider.fetch()` fails after the wait when the labelled device never appears", async () => {
    const t0 = performance.now();
    await expect(cmdlineProvider.fetch(context({ cmdline: "nexus.config.device=NEXUSNOSUCHLABEL nexus.config.path=/c.ign" }))).rejects.toThrow(
      /not present after/,
    );
    await Bun.sleep(0);
    expect(performance.now() - t0).toBeLessThan(3000);
  });
});

describe("platform selection", () => {
  test("`platformFromCmdline()` reads nexus.platform.id and its ignition alias, never guessing", () => {
    expect(platformFromCmdline(parseKernelArgs("nexus.platform.id=qemu"))).toBe("qemu");
    expect(platformFromCmdline(parseKernelArgs("ignition.platform.id=aws"))).toBe("aws");
    expect(platformFromCmdline(parseKernelArgs("quiet"))).toBeNull();
  });

  test("`providerChain()` puts the kernel command line and user.ign before the platform", () => {
    expect(providerChain("gcp").map((p) => p.name)).toEqual(["cmdline", "system", "gcp"]);
    expect(providerChain("azure").map((p) => p.name)).toEqual(["cmdline", "system", "azure"]);
    expect(() => providerChain("amiga")).toThrow(/platform "amiga": unsupported platform \(known: .*akamai.*zvm\)/);
  });

  test("`PLATFORMS` holds every platform ID current upstream Ignition supports", () => {
    const upstream = ["akamai", "aliyun", "applehv", "aws", "azure", "azurestack", "brightbox", "cloudstack", "digitalocean", "exoscale", "file", "gcp", "hetzner", "hyperv", "ibmcloud", "kubevirt", "metal", "nutanix", "nvidiabluefield", "openstack", "oraclecloud", "packet", "powervs", "proxmoxve", "qemu", "scaleway", "upcloud", "virtualbox", "vmware", "vultr", "zvm"];
    expect([...PLATFORMS].sort()).toEqual(upstream);
  });

  test("`fetchUserConfig()` answers none with the platform's reason when nothing has a config", async () => {
    const r = await fetchUserConfig(context({ env: { NEXUS_SYSTEM_CONFIG_DIR: join(dir, "nothing") } }));
    expect(r.kind).toBe("none");
    expect(r.provider).toBe("metal");
  });
});
