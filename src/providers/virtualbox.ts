// VirtualBox: the guest property /Ignition/Config, read with the Guest Additions' VBoxControl.
// /Ignition/Config/Encoding is reserved: any non-empty value is refused (as Ignition does, for
// forward compatibility). No property means no config. No network needed. Once provisioned,
// both properties are deleted so later processes in the guest cannot read the config.
import type { Provider, ProviderContext } from "./types.ts";
import { found, none } from "./types.ts";

export const VBOX_CONFIG = "/Ignition/Config";
export const VBOX_ENCODING = "/Ignition/Config/Encoding";

/** A guest property's value, or null when it is not set. */
async function getProperty(ctx: ProviderContext, name: string): Promise<string | null> {
  const r = await ctx.system.run("vboxControl", ["--nologo", "guestproperty", "get", name], { secret: true });
  if (/^No value set!/m.test(r.stdout)) return null;
  const m = /^Value: ([\s\S]*?)\n?$/.exec(r.stdout);
  if (r.code !== 0 || !m) {
    throw new Error(`Cannot fetch config on platform "virtualbox" from guest property ${name}: VBoxControl exit code ${r.code}: ${r.stderr.trim()}`);
  }
  return m[1]!;
}

async function deleteProperty(ctx: ProviderContext, name: string): Promise<void> {
  const r = await ctx.system.run("vboxControl", ["--nologo", "guestproperty", "delete", name]);
  if (r.code !== 0) throw new Error(`Cannot delete VirtualBox guest property ${name}: VBoxControl exit code ${r.code}: ${(r.stdout + r.stderr).trim()}`);
}

/** The VirtualBox platform's provider. */
export const virtualboxProvider: Provider = {
  name: "virtualbox",
  async fetch(ctx) {
    const encoding = await getProperty(ctx, VBOX_ENCODING);
    if (encoding) throw new Error(`Cannot fetch config on platform "virtualbox" from guest property ${VBOX_CONFIG}: unsupported ${VBOX_ENCODING} value "${encoding}"`);
    const config = await getProperty(ctx, VBOX_CONFIG);
    if (config === null) return none(`the guest property ${VBOX_CONFIG} does not exist`);
    return found(new TextEncoder().encode(config), `virtualbox guest property ${VBOX_CONFIG}`);
  },
  async deleteConfig(ctx) {
    ctx.log.info("Deleting the config from the VirtualBox guest properties");
    await deleteProperty(ctx, VBOX_ENCODING);
    await deleteProperty(ctx, VBOX_CONFIG);
  },
};
