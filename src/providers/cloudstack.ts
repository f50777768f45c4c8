// CloudStack: config drives config-2 and CONFIG-2 (/cloudstack/userdata/user_data.txt) race the
// metadata service on the DHCP server of the lease (systemd-networkd's in the dracut flow, the
// LiveCD initramfs's udhcpc otherwise), as OpenStack's do. Needs the network.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { hostPath, metadataUrl } from "../system/commands.ts";
import { readMetadata } from "./metadata_http.ts";
import { racingProvider } from "./openstack.ts";
import type { ProviderContext } from "./types.ts";

/** Where CloudStack's config drive keeps the user data. */
export const CLOUDSTACK_USER_DATA = "/cloudstack/userdata/user_data.txt";

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

/** The CloudStack platform's provider. */
export const cloudstackProvider = racingProvider("cloudstack", CLOUDSTACK_USER_DATA, cloudstackMetadata);
