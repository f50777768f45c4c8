// Equinix Metal (packet): after each stage Ignition posts its outcome to the instance's
// timeline — the phone_home_url of https://metadata.packet.net/metadata, minus its
// "/phone-home", plus "/events" — as {"state":"running"|"failed","message":"[stage] …"}.
import { metadataUrl } from "../system/commands.ts";
import { providerError, readMetadata } from "./metadata_http.ts";
import type { ProviderContext } from "./types.ts";

/** The timeline event for a stage's outcome. */
export function packetEvent(stage: string, error: string | null): { state: "running" | "failed"; message: string } {
  return error === null
    ? { state: "running", message: `[${stage}] Ignition status: finished successfully` }
    : { state: "failed", message: `[${stage}] Ignition error: ${error}` };
}

/** Posts a stage's outcome to the instance timeline. */
export async function packetStatus(ctx: ProviderContext, stage: string, error: string | null): Promise<void> {
  const url = metadataUrl("packet", ctx.system.env) + "/metadata";
  const body = await readMetadata(ctx, "the packet metadata service", { url, headers: [["Accept", "*/*"]] });
  if (!body || body.length === 0) throw providerError(ctx, `packet metadata ${url}`, new Error("empty metadata"));
  let phoneHome: unknown;
  try {
    phoneHome = (JSON.parse(new TextDecoder().decode(body)) as { phone_home_url?: unknown }).phone_home_url;
  } catch (e) {
    throw providerError(ctx, `packet metadata ${url}`, e);
  }
  if (typeof phoneHome !== "string" || phoneHome === "") throw providerError(ctx, `packet metadata ${url}`, new Error("no phone_home_url"));
  const events = phoneHome.replace(/\/phone-home$/, "") + "/events";
  const res = await ctx.fetcher.request({
    url: events,
    method: "POST",
    headers: [["Content-Type", "application/json"]],
    body: JSON.stringify(packetEvent(stage, error)),
    isSuccess: (s) => s >= 200 && s < 300,
    maxAttempts: 1,
  });
  await res.cancel();
}
