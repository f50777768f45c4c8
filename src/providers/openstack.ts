// OpenStack (and Brightbox, which runs OpenStack's provider) and CloudStack: a config drive
// (label config-2 or CONFIG-2) and the metadata service race; the first to answer wins, even
// with "no user data". Both need the network for the metadata service, so fetch-offline hands
// over to fetch, as in Ignition (its issue 1081). OpenStack's metadata service is asked over
// IPv4 and, through every interface with an IPv6 address, at fe80::a9fe:a9fe; CloudStack's
// lives on the DHCP server of the lease.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { redactUrl } from "../log/redact.ts";
import { NeedNetError } from "../resource/index.ts";
import { hostPath, metadataUrl } from "../system/commands.ts";
import { raceSources, type RaceSource } from "./config_drive.ts";
import { driveSource, OPENSTACK_USER_DATA } from "./drive_platforms.ts";
import { providerError, readMetadata } from "./metadata_http.ts";
import { found, none, type Provider, type ProviderContext } from "./types.ts";

/** Where CloudStack's config drive keeps the user data. */
export const CLOUDSTACK_USER_DATA = "/cloudstack/userdata/user_data.txt";
const OPENSTACK_METADATA_PATH = "/openstack/latest/user_data";

/** Interfaces that are up, not loopback, and have an IPv6 address. */
export function ipv6Interfaces(): string[] {
  return Object.entries(networkInterfaces())
    .filter(([, addrs]) => (addrs ?? []).some((a) => !a.internal && a.family === "IPv6"))
    .map(([name]) => name);
}

/**
 * OpenStack's metadata service over IPv4 and every IPv6 link-local route at once: the first
 * route that answers (user data, or 404: none) wins and the others stop; when all fail, the
 * last failure is thrown.
 */
async function openstackMetadata(ctx: ProviderContext, signal: AbortSignal): Promise<Uint8Array | null> {
  const v4 = metadataUrl("openstack", ctx.system.env) + OPENSTACK_METADATA_PATH;
  const v6 = metadataUrl("openstackV6", ctx.system.env) + OPENSTACK_METADATA_PATH;
  const routes = [{ url: v4, zone: undefined as string | undefined }, ...ipv6Interfaces().map((zone) => ({ url: v6, zone }))];
  const stop = new AbortController();
  const both = AbortSignal.any([signal, stop.signal]);
  return new Promise<Uint8Array | null>((resolve, reject) => {
    let pending = routes.length;
    for (const r of routes) {
      const what = `the openstack metadata service${r.zone ? ` (via ${r.zone})` : ""}`;
      readMetadata(ctx, what, { url: r.url, route: r.zone ? { zone: r.zone } : undefined, signal: both }).then(
        (body) => {
          stop.abort();
          resolve(body);
        },
        (e) => {
          if (--pending === 0) reject(e);
        },
      );
    }
  });
}

/** The address of the DHCP server of the first lease found (systemd-networkd's, then udhcpc's). */
export function dhcpServerAddress(env: Record<string, string | undefined>): string | null {
  for (const dir of [hostPath("networkdLeases", env), hostPath("dhcpLeases", env)]) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const m = /^SERVER_ADDRESS=(.+)$/m.exec(readFileSync(join(dir, name), "utf8"));
      if (m) return m[1]!.trim();
    }
  }
  return null;
}

async function cloudstackMetadata(ctx: ProviderContext, signal: AbortSignal): Promise<Uint8Array | null> {
  let server = dhcpServerAddress(ctx.system.env);
  while (!server) {
    if (signal.aborted) throw new Error("the race ended before a DHCP lease appeared");
    await Bun.sleep(500);
    server = dhcpServerAddress(ctx.system.env);
  }
  const url = metadataUrl("cloudstack", ctx.system.env).replace("{dhcp-server}", server) + "/latest/user-data";
  return readMetadata(ctx, "the cloudstack metadata service", { url, signal });
}

/** A provider racing config drives config-2 and CONFIG-2 (file `drivePath`) against a metadata service. */
function racingProvider(name: string, drivePath: string, metadata: (ctx: ProviderContext, signal: AbortSignal) => Promise<Uint8Array | null>): Provider {
  return {
    name,
    async fetch(ctx) {
      if (ctx.fetcher.options.offline) throw providerError(ctx, "its metadata service", new NeedNetError(`${name} metadata service`));
      const sources: RaceSource[] = [
        driveSource(ctx, "config-2", drivePath),
        driveSource(ctx, "CONFIG-2", drivePath),
        { name: `the ${name} metadata service`, run: (signal) => metadata(ctx, signal) },
      ];
      const won = await raceSources(ctx, sources);
      if (!won) return none("neither a config drive nor the metadata service answered");
      return won.data ? found(won.data, `${name} ${redactUrl(won.name)}`) : none(`${won.name} has no user data`);
    },
  };
}

/** The OpenStack platform's provider. */
export const openstackProvider = racingProvider("openstack", OPENSTACK_USER_DATA, openstackMetadata);
/** Brightbox: OpenStack's provider under its own name. */
export const brightboxProvider = racingProvider("brightbox", OPENSTACK_USER_DATA, openstackMetadata);
/** The CloudStack platform's provider. */
export const cloudstackProvider = racingProvider("cloudstack", CLOUDSTACK_USER_DATA, cloudstackMetadata);
