// VMware: the guestinfo variables ignition.config.data and ignition.config.data.encoding ("",
// base64/b64, gzip/gz, gzip+base64 and its spellings), read through open-vm-tools'
// vmware-rpctool; variables set directly win over the same ones in the OVF environment
// (guestinfo.ovfenv). No network needed. Once provisioned, the config is replaced by "{}"
// (guestinfo cannot delete a variable) and removed from the OVF environment.
import { decodeBase64, gunzip } from "./decode.ts";
import { deleteOvfProperties, readOvfProperties } from "./ovf_env.ts";
import type { Provider, ProviderContext } from "./types.ts";
import { found, none } from "./types.ts";

const DATA = "ignition.config.data";
const ENCODING = "ignition.config.data.encoding";
const OVF_ENV = "ovfenv";
/** What the config is replaced with: "{}\n" in base64. */
export const DELETED_DATA = "e30K";
const DELETED_ENCODING = "base64";

/** A guestinfo variable, or `fallback` when it is not set. */
async function infoGet(ctx: ProviderContext, key: string, fallback: string): Promise<string> {
  const r = await ctx.system.run("vmwareRpctool", [`info-get guestinfo.${key}`], { secret: true });
  if (r.code === 0) return r.stdout.replace(/\n$/, "");
  const said = `${r.stdout}${r.stderr}`;
  if (/no value found/i.test(said)) return fallback;
  if (/must be run inside a virtual machine/i.test(said)) throw new Error("not a VMware virtual machine (vmware-rpctool cannot reach the hypervisor)");
  throw new Error(`Cannot read guestinfo.${key}: vmware-rpctool exit code ${r.code}: ${said.trim()}`);
}

async function infoSet(ctx: ProviderContext, key: string, value: string): Promise<void> {
  const r = await ctx.system.run("vmwareRpctool", [`info-set guestinfo.${key} ${value}`], { secret: true });
  if (r.code !== 0) throw new Error(`Cannot set guestinfo.${key}: vmware-rpctool exit code ${r.code}: ${(r.stdout + r.stderr).trim()}`);
}

/** Decodes guestinfo data in one of the encodings VMware's users give. */
export function decodeGuestinfo(data: string, encoding: string, source: string): Uint8Array {
  const b64 = () => decodeBase64(data, "vmware", source);
  switch (encoding) {
    case "":
      return new TextEncoder().encode(data);
    case "b64":
    case "base64":
      return b64();
    case "gz":
    case "gzip":
      return gunzip(Buffer.from(data, "latin1"), "vmware", source);
    case "gz+base64":
    case "gzip+base64":
    case "gz+b64":
    case "gzip+b64":
      return gunzip(b64(), "vmware", source);
  }
  throw new Error(`Cannot decode config on platform "vmware" from ${source}: unsupported encoding "${encoding}"`);
}

/** The VMware platform's provider. */
export const vmwareProvider: Provider = {
  name: "vmware",
  async fetch(ctx) {
    let ovf: Record<string, string> = {};
    try {
      const env = await infoGet(ctx, OVF_ENV, "");
      if (env) ovf = readOvfProperties(env);
    } catch (e) {
      if (/not a VMware virtual machine/.test((e as Error).message)) throw vmwareError(e);
      ctx.log.warn(`Cannot read the OVF environment: ${(e as Error).message}; continuing`);
    }
    let data: string;
    let encoding: string;
    try {
      data = await infoGet(ctx, DATA, ovf[`guestinfo.${DATA}`] ?? "");
      encoding = await infoGet(ctx, ENCODING, ovf[`guestinfo.${ENCODING}`] ?? "");
    } catch (e) {
      throw vmwareError(e);
    }
    const source = `vmware guestinfo.${DATA} (encoding "${encoding}")`;
    if (data === "") return none(`guestinfo.${DATA} is not set`);
    return found(decodeGuestinfo(data, encoding, source), source);
  },

  async deleteConfig(ctx) {
    const orig = await infoGet(ctx, DATA, DELETED_DATA);
    if (orig !== DELETED_DATA) {
      ctx.log.info("Deleting the config from the guestinfo variables");
      await infoSet(ctx, DATA, DELETED_DATA);
      if ((await infoGet(ctx, ENCODING, "")) !== DELETED_ENCODING) await infoSet(ctx, ENCODING, DELETED_ENCODING);
    }
    const env = await infoGet(ctx, OVF_ENV, "");
    if (env === "") return;
    const pruned = deleteOvfProperties(env, [`guestinfo.${DATA}`, `guestinfo.${ENCODING}`]);
    if (pruned !== null) {
      ctx.log.info("Deleting the config from the OVF environment");
      await infoSet(ctx, OVF_ENV, pruned);
    }
  },
};

function vmwareError(e: unknown): Error {
  return new Error(`Cannot fetch config on platform "vmware" from guestinfo: ${(e as Error).message}`, { cause: e });
}
