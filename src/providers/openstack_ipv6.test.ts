import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// OpenStack's IPv6 fallback for real: in a private network namespace, a veth pair whose far end
// holds fe80::a9fe:a9fe serves the metadata; IPv4's 169.254.169.254 leads nowhere. The provider
// must find the interfaces with IPv6, reach the link-local address through them (its zone),
// and take the answer.
const ns = `nexus-os6-${process.pid}`;
const here = import.meta.dir;
let dir: string;
let ready = false;

async function sh(cmd: string[]) {
  const r = Bun.spawnSync(cmd, { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString()}`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "nexus-os6-"));
  await sh(["ip", "netns", "add", ns]);
  const inNs = (...a: string[]) => sh(["ip", "netns", "exec", ns, ...a]);
  await inNs("ip", "link", "set", "lo", "up");
  await inNs("ip", "link", "add", "nxa", "type", "veth", "peer", "name", "nxb");
  await inNs("ip", "addr", "add", "fe80::a9fe:a9fe/64", "dev", "nxb", "nodad");
  await inNs("ip", "addr", "add", "fe80::5/64", "dev", "nxa", "nodad");
  await inNs("ip", "link", "set", "nxa", "up");
  await inNs("ip", "link", "set", "nxb", "up");
  ready = true;
});

afterAll(() => {
  Bun.spawnSync(["ip", "netns", "del", ns]);
  rmSync(dir, { recursive: true, force: true });
});

describe("openstack metadata over IPv6 link-local", () => {
  test("`openstackProvider.fetch()` falls back to fe80::a9fe:a9fe through an interface with IPv6", async () => {
    expect(ready).toBe(true);
    const script = join(dir, "run.ts");
    writeFileSync(
      script,
      `
      import { openstackProvider, ipv6Interfaces } from ${JSON.stringify(join(here, "openstack.ts"))};
      import { providerContext, scratchEnv } from ${JSON.stringify(join(here, "test_support.ts"))};
      const seen = [];
      const server = Bun.serve({ hostname: "::", port: 0, fetch(req, s) {
        seen.push(new URL(req.url).pathname + " from " + s.requestIP(req)?.address);
        return new Response('{"ignition":{"version":"3.4.0"}}');
      } });
      const env = scratchEnv({ NEXUS_URL_OPENSTACK: "http://127.0.0.1:1", NEXUS_URL_OPENSTACK_V6: "http://[fe80::a9fe:a9fe]:" + server.port, NEXUS_PATH_DISK_BY_LABEL: "/nonexistent" });
      const r = await openstackProvider.fetch(providerContext("openstack", env));
      console.log(JSON.stringify({ interfaces: ipv6Interfaces().sort(), kind: r.kind, config: r.kind === "config" ? new TextDecoder().decode(r.raw) : null, seen }));
      server.stop(true);
      process.exit(0);
      `,
    );
    const r = Bun.spawnSync(["ip", "netns", "exec", ns, process.execPath, "run", script], { stdout: "pipe", stderr: "pipe" });
    const out = JSON.parse(r.stdout.toString().trim().split("\n").at(-1) || "{}");
    expect(out.interfaces).toEqual(["nxa", "nxb"]);
    expect(out.kind).toBe("config");
    expect(out.config).toContain("3.4.0");
    expect(out.seen[0]).toMatch(/^\/openstack\/latest\/user_data from fe80::/);
  }, 20_000);
});
