// OpenStack (and Brightbox, which runs OpenStack's provider): a config drive (label config-2 or
// CONFIG-2) and the metadata service race; the first to answer wins, even with "no user data".
// The metadata service needs the network, so fetch-offline hands over to fetch, as in Ignition
// (its issue 1081). It is asked over IPv4 and, through every interface with an IPv6 address, at
// fe80::a9fe:a9fe. CloudStack races the same way (cloudstack.ts).
import { networkInterfaces } from "node:os";
import { redactUrl } from "../log/redact.ts";
import { NeedNetError } from "../resource/index.ts";
import { metadataUrl } from "../system/commands.ts";
import { raceSources, type RaceSource } from "./config_drive.ts";
import { driveSource, OPENSTACK_USER_DATA } from "./drive_platforms.ts";
import { providerError, readMetadata } from "./metadata_http.ts";
import { found, none, type Provider, type ProviderContext } from "./types.ts";

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

/** A provider racing config drives config-2 and CONFIG-2 (file `drivePath`) against a metadata service. */
export function racingProvider(name: string, drivePath: string, metadata: (ctx: ProviderContext, signal: AbortSignal) => Promise<Uint8Array | null>): Provider {
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
