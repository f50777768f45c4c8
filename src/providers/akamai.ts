// Akamai (Linode): a token from PUT /v1/token (Metadata-Token-Expiry-Seconds), then
// GET /v1/user-data with it and Accept: */* (the service refuses Ignition's Accept). User data
// is stored base64-encoded and may be gzipped inside. Needs the network; a missing user data
// (404) is an error, as in Ignition.
import { metadataUrl } from "../system/commands.ts";
import { decodeBase64, gunzipIfGzip } from "./decode.ts";
import { providerError, readMetadata } from "./metadata_http.ts";
import { found, type Provider } from "./types.ts";

/** Lifetime asked for a token, in seconds. */
export const AKAMAI_TOKEN_TTL_S = "300";

/** The Akamai platform's provider. */
export const akamaiProvider: Provider = {
  name: "akamai",
  async fetch(ctx) {
    const base = metadataUrl("akamai", ctx.system.env);
    const tokenUrl = `${base}/v1/token`;
    const token = await readMetadata(ctx, "the akamai token endpoint", {
      url: tokenUrl,
      method: "PUT",
      headers: [
        ["Accept", "text/plain"],
        ["Metadata-Token-Expiry-Seconds", AKAMAI_TOKEN_TTL_S],
      ],
    });
    const text = token ? new TextDecoder().decode(token).trim() : "";
    if (!text) throw providerError(ctx, `akamai token endpoint ${tokenUrl}`, new Error(token ? "received an empty token" : "HTTP 404"));
    const url = `${base}/v1/user-data`;
    const source = `akamai metadata ${url}`;
    const body = await readMetadata(ctx, "the akamai metadata service", {
      url,
      headers: [
        ["Accept", "*/*"],
        ["Metadata-Token", text],
      ],
    });
    if (body === null) throw providerError(ctx, source, new Error("the metadata service answered HTTP 404"));
    return found(gunzipIfGzip(decodeBase64(body, "akamai", source), "akamai", source), source);
  },
};
