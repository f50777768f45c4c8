// Microsoft Azure: the user data of the instance metadata service (IMDS; base64, "Metadata: true",
// 404/410/429 retried like 5xx as cloud-init does), and when that is empty, the custom data on
// the OVF UDF CD-ROM. Azure Stack has no IMDS user data: only the CD-ROM, UDF or ISO 9660, which
// needs no network. Azure needs the network (IMDS comes first), so fetch-offline hands over.
import { NeedNetError } from "../resource/index.ts";
import { metadataUrl } from "../system/commands.ts";
import { decodeBase64 } from "./decode.ts";
import { providerError, readMetadata } from "./metadata_http.ts";
import { readOvfCustomData } from "./ovf_device.ts";
import { found, none, type Provider, type ProviderContext } from "./types.ts";

/** IMDS statuses below 500 that are retried. */
export const AZURE_IMDS_RETRY = [404, 410, 429] as const;

/** The IMDS user data URL. */
export function azureImdsUrl(env: Record<string, string | undefined>): string {
  return `${metadataUrl("azure", env)}/metadata/instance/compute/userData?api-version=2021-01-01&format=text`;
}

async function fromOvf(ctx: ProviderContext, fstypes: readonly string[]) {
  const { data, source } = await readOvfCustomData(ctx, fstypes);
  return data.length > 0 ? found(data, source) : none("the OVF drive has no custom data");
}

/** The Azure platform's provider. */
export const azureProvider: Provider = {
  name: "azure",
  async fetch(ctx) {
    const url = azureImdsUrl(ctx.system.env);
    if (ctx.fetcher.options.offline) throw providerError(ctx, `azure IMDS ${url}`, new NeedNetError(url));
    const body = await readMetadata(ctx, "the azure IMDS", { url, headers: [["Metadata", "true"]], retryStatuses: AZURE_IMDS_RETRY });
    if (body && body.length > 0) {
      const source = `azure IMDS userData ${url}`;
      return found(decodeBase64(body, "azure", source), source);
    }
    ctx.log.info("The Azure IMDS has no user data; reading the custom data of the OVF CD-ROM");
    return fromOvf(ctx, ["udf"]);
  },
};

/** The Azure Stack platform's provider. */
export const azurestackProvider: Provider = {
  name: "azurestack",
  fetch: (ctx) => fromOvf(ctx, ["udf", "iso9660"]),
};
